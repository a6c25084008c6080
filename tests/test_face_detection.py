"""YuNet's traps, framing with levelled eyes, and the detector's shipped file."""

import shutil

import cv2
import numpy as np
import pytest

from mepe_utils.errors import ModelFileError
from mepe_utils.vision.detection import DetectedFace, eye_tilt_degrees, face_from_detector_box
from mepe_utils.vision.faces import FaceFinder
from mepe_utils.vision.framing import Framing, frame_face
from mepe_utils.vision.yunet import YUNET_FILE, YUNET_SHA256, YuNetConfig, YuNetDetector
from mepe_utils.vision.yunet_file import write_free_size_copy

skimage_data = pytest.importorskip("skimage.data")
CUT_FACE_ROW = 3
"""A PrivateTest face (row 3) that only the close-up retry finds when drawn as a photo."""
ASTRONAUT_FACE = (177, 67, 93, 112)
"""Where the astronaut's face is, about: (x, y, w, h)."""


@pytest.fixture(scope="module")
def bgr():
    return cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)


@pytest.fixture(scope="module")
def yunet():
    return YuNetDetector()


def _near(box, expected, tolerance=0.35):
    """True when ``box`` overlaps ``expected`` well (centres within ``tolerance`` of the expected width)."""
    (x, y, w, h), (ex, ey, ew, eh) = box, expected
    return abs(x + w / 2 - ex - ew / 2) < tolerance * ew and abs(y + h / 2 - ey - eh / 2) < tolerance * ew


def test_the_input_size_is_set_for_each_photo(yunet, bgr):
    """One detector on photos of three sizes in a row finds the face in each, in each photo's pixels."""
    for scale in (1.0, 0.5, 1.5):
        photo = cv2.resize(bgr, None, fx=scale, fy=scale)
        faces = yunet.detect(photo)
        assert len(faces) == 1 and _near(np.array(faces[0].box) / scale, ASTRONAUT_FACE)


def test_channel_order_matters_and_rgb_input_is_converted(bgr):
    from_rgb = FaceFinder()(bgr[..., ::-1], channel_order="rgb").faces[0].detection
    from_bgr = FaceFinder()(bgr, channel_order="bgr").faces[0].detection
    assert from_rgb.box == from_bgr.box and from_rgb.score == pytest.approx(from_bgr.score)


def test_wide_and_huge_photos_keep_their_aspect_ratio(yunet, bgr):
    wide = cv2.copyMakeBorder(bgr, 0, 0, 0, 1500, cv2.BORDER_CONSTANT, value=(90, 90, 90))
    faces = yunet.detect(wide)
    assert len(faces) == 1 and _near(faces[0].box, ASTRONAUT_FACE)
    huge = cv2.resize(wide, None, fx=3, fy=3)  # 6036 x 1536, scaled to max_side for YuNet
    faces = yunet.detect(huge)
    assert len(faces) == 1 and _near(np.array(faces[0].box) / 3, ASTRONAUT_FACE)


def test_a_big_tight_crop_that_the_face_fills_is_found(yunet, bgr):
    """A face of 800 px filling the frame is beyond YuNet's range until the retry pads and shrinks it."""
    x, y, w, h = ASTRONAUT_FACE
    tight = cv2.resize(bgr[y + 10 : y + h - 5, x + 5 : x + w - 5], None, fx=9, fy=9)  # forehead and chin cut
    assert yunet.detect_once(tight) == [], "found without the retry"
    faces = yunet.detect(tight)
    assert len(faces) == 1 and faces[0].box[2] >= 0.7 * tight.shape[1]


def test_small_faces_in_a_big_photo_are_found(yunet, bgr):
    small = cv2.resize(bgr, (64, 64), interpolation=cv2.INTER_AREA)  # the face about 12 px wide
    canvas = np.full((900, 1280, 3), 120, np.uint8)
    for left in (100, 600, 1100):
        canvas[400:464, left : left + 64] = small
    faces = yunet.detect(canvas)
    assert len(faces) == 3 and sorted(f.box[0] for f in faces)[0] < 140


def test_boxes_are_clipped_to_the_photo_and_the_centre_kept(yunet, bgr):
    cut = bgr[100:, 200:]  # the face's left part and top are outside
    faces = yunet.detect(cut)
    assert faces, "the cut face is still found"
    x, y, w, h = faces[0].box
    assert x >= 0 and y >= 0 and x + w <= cut.shape[1] and y + h <= cut.shape[0]
    assert faces[0].center[0] < x + w / 2  # the face's own centre lies toward the cut edge


def test_no_face_gives_an_empty_list(yunet):
    assert yunet.detect(np.full((300, 400, 3), 200, np.uint8)) == []


def _photos_of_several_sizes(bgr):
    """The astronaut at three sizes, three small copies on one canvas (suppression at work), and a blank photo."""
    canvas = np.full((700, 1000, 3), 120, np.uint8)
    for left, side in ((40, 400), (520, 200), (800, 90)):
        canvas[40 : 40 + side, left : left + side] = cv2.resize(bgr, (side, side), interpolation=cv2.INTER_AREA)
    return [bgr, cv2.resize(bgr, (301, 173)), cv2.resize(bgr, (96, 96)), canvas, np.full((200, 300, 3), 200, np.uint8)]


def test_yunet_finds_the_faces_opencvs_own_face_detector_finds(yunet, bgr):
    """MEPE runs YuNet in ONNX Runtime and decodes it itself; OpenCV's ``FaceDetectorYN`` on the same file finds
    the same faces, boxes, landmarks and scores (photos of 64 px and more: on a 32 px input OpenCV's DNN gives
    infinite boxes where ONNX Runtime gives the face)."""
    from mepe_utils.runtime import resolve_data_dir

    photos = _photos_of_several_sizes(bgr)
    folder = resolve_data_dir(required=False)
    if folder and (folder / "face_detection" / "photos").is_dir():
        for path in sorted((folder / "face_detection" / "photos").glob("*.jpg")):
            photo = cv2.imread(str(path))
            photos.append(cv2.resize(photo, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA))
    config = yunet.config
    found = 0
    for photo in photos:
        size = (photo.shape[1], photo.shape[0])
        opencv = cv2.FaceDetectorYN.create(
            str(YUNET_FILE), "", size, config.score_threshold, config.nms_threshold, config.top_k
        )
        expected = opencv.detect(photo)[1]
        expected = np.zeros((0, 15), np.float32) if expected is None else expected
        ours = yunet.raw_faces(photo)
        assert ours.shape == expected.shape, size
        order = np.lexsort(ours[:, :2].T), np.lexsort(expected[:, :2].T)
        ours, expected = ours[order[0]], expected[order[1]]
        np.testing.assert_allclose(ours[:, :14], expected[:, :14], atol=1e-3)  # pixels
        np.testing.assert_allclose(ours[:, 14], expected[:, 14], atol=1e-4)  # scores
        found += len(ours)
    assert found >= 5  # the astronaut three times and the canvas's faces


@pytest.mark.real_data
def test_the_shipped_yunet_file_is_opencv_zoos_with_its_input_size_freed(real_data_dir, tmp_path):
    """``mepe free-yunet-size`` rewrites the data folder's original into the shipped file, byte for byte, and the
    rewrite keeps opencv_zoo's operators and weights."""
    onnx = pytest.importorskip("onnx")
    source = real_data_dir / "face_detection" / "face_detection_yunet_2023mar.onnx"
    if not source.is_file():
        pytest.skip(f"opencv_zoo's YuNet file is not in the data folder: {source}")
    assert write_free_size_copy(source, tmp_path / "yunet.onnx") == YUNET_SHA256
    shipped, original = onnx.load(YUNET_FILE), onnx.load(source)
    assert [node.SerializeToString() for node in shipped.graph.node] == [
        node.SerializeToString() for node in original.graph.node
    ]
    assert [weight.SerializeToString() for weight in shipped.graph.initializer] == [
        weight.SerializeToString() for weight in original.graph.initializer
    ]
    assert [dim.dim_param for dim in shipped.graph.input[0].type.tensor_type.shape.dim[2:]] == ["height", "width"]


def test_free_yunet_size_takes_only_opencv_zoos_file(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        write_free_size_copy(tmp_path / "absent.onnx", tmp_path / "out.onnx")
    with pytest.raises(ModelFileError, match="sha256 differs"):
        write_free_size_copy(YUNET_FILE, tmp_path / "out.onnx")  # already rewritten: not the original
    assert not (tmp_path / "out.onnx").exists()


@pytest.fixture(scope="module")
def upright_face():
    """An upright, frontal face (NASA's Apollo 11 crew portrait, public domain) filling most of a 260x280 photo."""
    from mepe_utils.runtime import resolve_data_dir

    folder = resolve_data_dir(required=False)
    path = folder / "face_detection" / "photos" / "nasa_apollo11_crew.jpg" if folder else None
    if path is None or not path.is_file():
        pytest.skip("the shared face_detection photos are not here")
    return cv2.resize(cv2.imread(str(path))[120:260, 90:220], None, fx=2, fy=2)


@pytest.mark.parametrize("turn", [40, -40, 25])
def test_a_tilted_head_is_framed_with_level_eyes(upright_face, turn):
    """YuNet's own eye line shows only part of a tilt; the framed crop's eyes are level all the same."""
    height, width = upright_face.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), turn, 1.0)
    tilted = cv2.warpAffine(upright_face, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)
    finder = FaceFinder()
    face = finder(tilted, channel_order="bgr").faces[0]
    assert abs(face.detection.roll + turn) < 10  # a counter-clockwise turn is a negative (anticlockwise) tilt
    again = finder.detector.detect(cv2.cvtColor(cv2.resize(face.crop, (192, 192)), cv2.COLOR_GRAY2BGR))
    assert again and abs(eye_tilt_degrees(again[0].landmarks)) < 8
    unlevelled = frame_face(cv2.cvtColor(tilted, cv2.COLOR_BGR2GRAY), face.detection, Framing(level_beyond_degrees=180))
    again = finder.detector.detect(cv2.cvtColor(cv2.resize(unlevelled, (192, 192)), cv2.COLOR_GRAY2BGR))
    assert not again or abs(eye_tilt_degrees(again[0].landmarks)) > 8


@pytest.mark.parametrize("turn", [40, -40])
def test_the_tilt_search_crosses_upright_when_the_landmarks_lean_the_wrong_way(upright_face, turn):
    """The search starts on the side the landmarks lean to and goes on while the best turns reach its edge."""
    from dataclasses import replace

    from mepe_utils.vision.framing import refine_roll

    height, width = upright_face.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), turn, 1.0)
    tilted = cv2.warpAffine(upright_face, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)
    detector = FaceFinder().detector
    face = detector.detect(tilted)[0]
    misleading = replace(face, roll=10.0 if turn > 0 else -10.0)  # the landmarks' side, reversed
    assert abs(refine_roll(tilted, misleading, detector) + turn) < 10


def test_bench_detect_compares_the_tilt_search_with_scoring_every_turn(upright_face):
    from mepe_utils.bench.detect import FerPhotos, tilt_search

    height, width = upright_face.shape[:2]
    grays = []
    for turn in (40, -35, 0):
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), turn, 1.0)
        tilted = cv2.warpAffine(upright_face, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)
        grays.append(cv2.cvtColor(tilted, cv2.COLOR_BGR2GRAY))
    result = tilt_search(FaceFinder().detector, FerPhotos(grays, [None] * 3), Framing())
    assert result["faces_refined"] == 2  # the upright face needs no refined tilt
    assert result["same_tilt"] == result["same_levelling"] == 1.0
    assert result["ms_search_p50"] > 0 and result["ms_every_turn_p50"] > 0


def test_framing_levels_the_eyes_of_marked_points():
    """Two bright dots on a 30-degree line become level in the crop when levelling is on, stay tilted when off."""
    gray = np.zeros((200, 200), np.uint8)
    right_eye, left_eye = np.array([80.0, 100.0]), np.array([80 + 40 * np.cos(np.pi / 6), 100 + 40 * np.sin(np.pi / 6)])
    for point in (right_eye, left_eye):
        cv2.circle(gray, tuple(int(round(v)) for v in point), 4, 255, -1)
    landmarks = np.array([right_eye, left_eye, [95, 120], [85, 140], [105, 140]], np.float32)
    face = DetectedFace((60, 70, 80, 90), (100.0, 115.0), 90.0, landmarks, 0.9, roll=eye_tilt_degrees(landmarks))

    def dots(crop):
        _, labels, stats, centroids = cv2.connectedComponentsWithStats((crop[..., 0] > 100).astype(np.uint8))
        return centroids[1:][np.argsort(centroids[1:, 0])]

    levelled = dots(frame_face(gray, face, Framing(margin=0.2, level_beyond_degrees=0)))
    assert len(levelled) == 2 and abs(levelled[0][1] - levelled[1][1]) < 1.0
    kept = dots(frame_face(gray, face, Framing(margin=0.2, level_beyond_degrees=45)))
    assert abs(kept[1][1] - kept[0][1]) > 5


def test_faces_found_in_a_turned_copy_map_back_to_the_photo():
    matrix = cv2.getRotationMatrix2D((50, 50), 90, 1.0)  # the photo turned by 90 degrees
    to_photo = cv2.invertAffineTransform(matrix)
    face = face_from_detector_box((40, 20, 20, 30), (100, 100), to_photo=to_photo)
    expected = to_photo @ np.array([50.0, 35.0, 1.0])
    assert face.center == pytest.approx(tuple(expected)) and face.side == pytest.approx(30)
    assert face.box[2] == 30 and face.box[3] == 20  # the turned box, axis-aligned in the photo


def test_the_model_file_is_checked(tmp_path):
    with pytest.raises(ModelFileError, match="YuNet model not found"):
        YuNetDetector(tmp_path / "absent.onnx")
    tampered = tmp_path / "yunet.onnx"
    shutil.copy(YUNET_FILE, tampered)
    with tampered.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(ModelFileError, match="sha256 differs"):
        YuNetDetector(tampered)


def test_a_missing_onnx_runtime_is_named_in_one_line(monkeypatch):
    import sys

    from mepe_utils.errors import MepeError

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime now raises ImportError
    with pytest.raises(MepeError, match="pip install onnxruntime"):
        YuNetDetector()


def test_the_score_threshold_is_applied(bgr):
    assert YuNetDetector(config=YuNetConfig(score_threshold=0.999)).detect(np.full((300, 400, 3), 200, np.uint8)) == []
    score = YuNetDetector().detect(bgr)[0].score
    assert YuNetDetector(config=YuNetConfig(score_threshold=min(0.9999, score + 0.02))).detect(bgr) == []


def test_the_notebooks_group_photo_is_found_checked_or_named(tmp_path, monkeypatch):
    import urllib.request

    from mepe_utils.errors import DataError
    from mepe_utils.runtime import resolve_data_dir
    from mepe_utils.vision import sample_photos

    def offline(*args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataError, match="not downloadable"):
        sample_photos.group_photo(tmp_path / "no-data", cache_dir=tmp_path / "cache")
    wrong = tmp_path / "cache" / sample_photos.GROUP_PHOTO
    wrong.parent.mkdir()
    wrong.write_bytes(b"not the photo")
    with pytest.raises(DataError, match="sha256 differs"):
        sample_photos.group_photo(tmp_path / "no-data", cache_dir=tmp_path / "cache")
    if resolve_data_dir(required=False) and (resolve_data_dir() / "face_detection").is_dir():
        assert sample_photos.group_photo().is_file()


def test_a_face_found_mirrored_keeps_its_landmarks_in_the_persons_order(yunet, bgr):
    """The close-up's mirrored pass maps its face back with the person's right eye first, as a direct pass gives."""
    height, width = bgr.shape[:2]
    direct = yunet.detect_once(bgr)[0]
    mirror = np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    mirrored = yunet._detect(bgr[:, ::-1].copy(), mirror, (width, height), mirrored=True)[0]
    assert np.abs(mirrored.landmarks - direct.landmarks).max() < 6
    assert abs(mirrored.roll - direct.roll) < 3 and _near(mirrored.box, direct.box, tolerance=0.1)


def test_the_close_up_retry_finds_a_face_the_frame_cuts(real_data_dir):
    """A FER-2013 face whose photo the first passes miss is found close up, above the usual score threshold."""
    from mepe_utils.bench.detect import fer_as_photo
    from mepe_utils.data.fer2013 import load_fer2013

    data = load_fer2013(real_data_dir / "fer2013")
    private = np.flatnonzero(np.asarray(data.usage) == "PrivateTest")
    photo = cv2.cvtColor(fer_as_photo(data.images[private[CUT_FACE_ROW]]), cv2.COLOR_GRAY2BGR)
    assert YuNetDetector(config=YuNetConfig(close_up_side=0)).detect(photo) == []
    found = YuNetDetector().detect(photo)
    assert len(found) == 1 and found[0].score >= YuNetConfig().score_threshold
