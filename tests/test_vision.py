import numpy as np
import pytest
from PIL import Image

from mepe_utils.errors import ImageError
from mepe_utils.vision import images
from mepe_utils.vision.detection import DETECTORS
from mepe_utils.vision.faces import FaceFinder
from mepe_utils.vision.images import to_bgr, to_gray

skimage_data = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def astronaut():
    """A real public-domain photo (scikit-image) with one face at about x=177, y=67, 93 px wide."""
    return skimage_data.astronaut()


@pytest.fixture(scope="module")
def finder():
    return FaceFinder()


def _assert_astronaut_face(box, scale=1.0):
    x, y, w, h = (v / scale for v in box)
    assert 150 < x < 210 and 40 < y < 100 and 70 < w < 120, box


def test_finds_the_face_in_a_real_photo_and_frames_it(astronaut, finder):
    result = finder(astronaut)
    assert result.found and len(result.faces) == 1 and result.image_size == (512, 512)
    face = result.faces[0]
    _assert_astronaut_face(face.detection.box)
    assert face.crop.shape == (48, 48, 1) and face.crop.dtype == np.uint8
    assert face.detection.landmarks.shape == (5, 2) and 0.665 <= face.detection.score <= 1


def test_photos_from_files_in_every_pixel_format_find_the_same_face(astronaut, finder, tmp_path):
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    gray16 = to_gray(astronaut).astype(np.uint16) * 257
    Image.fromarray(gray16).save(tmp_path / "gray16.png")
    Image.fromarray(astronaut).save(tmp_path / "photo.jpg", quality=95)
    for name in ("rgba.png", "gray16.png", "photo.jpg"):
        result = finder(tmp_path / name)
        assert result.found, name
        _assert_astronaut_face(result.faces[0].detection.box)
    np.testing.assert_array_equal(to_gray(tmp_path / "gray16.png"), to_gray(astronaut))


def test_exif_orientation_is_applied(astronaut, finder, tmp_path):
    stored = Image.fromarray(astronaut).rotate(90, expand=True)  # pixels stored lying on their side
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    stored.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    gray = to_gray(tmp_path / "rotated.jpg")
    assert np.abs(gray.astype(int) - to_gray(astronaut).astype(int)).mean() < 3
    _assert_astronaut_face(finder(tmp_path / "rotated.jpg").faces[0].detection.box)


def test_large_photos_are_downscaled_for_detection_and_boxes_mapped_back(astronaut, finder):
    import cv2

    big = cv2.resize(astronaut, (2560, 2560), interpolation=cv2.INTER_CUBIC)
    result = finder(big)
    assert result.found and result.image_size == (2560, 2560)
    _assert_astronaut_face(result.faces[0].detection.box, scale=5.0)


def test_bgr_arrays_and_pil_images_give_the_same_gray(astronaut):
    expected = to_gray(astronaut)
    np.testing.assert_array_equal(to_gray(astronaut[..., ::-1], channel_order="bgr"), expected)
    np.testing.assert_array_equal(to_gray(Image.fromarray(astronaut)), expected)
    floats = to_gray(astronaut.astype(np.float32) / 255.0)
    assert np.abs(floats.astype(int) - expected.astype(int)).max() <= 1
    np.testing.assert_array_equal(to_bgr(astronaut), astronaut[..., ::-1])
    np.testing.assert_array_equal(to_bgr(expected)[..., 1], expected)
    with pytest.raises(ImageError, match="channel_order"):
        to_bgr(astronaut, channel_order="bgra")


@pytest.mark.parametrize("detector", DETECTORS)
def test_no_face_is_a_result_not_an_error(detector):
    result = FaceFinder(detector)(np.full((200, 200, 3), 128, np.uint8))
    assert not result.found and result.faces == []


def test_haar_is_kept_for_comparison(astronaut):
    result = FaceFinder("haar")(astronaut)
    face = result.faces[0]
    _assert_astronaut_face(face.detection.box)
    assert face.detection.landmarks is None and face.detection.score is None and face.crop.shape == (48, 48, 1)


def test_an_unknown_detector_is_named():
    with pytest.raises(ValueError, match="unknown face detector 'mtcnn'; choose one of yunet, haar"):
        FaceFinder("mtcnn")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.jpg", "no such file"),
        (lambda d: d, "is a directory"),
        (lambda d: (d / "notes.jpg").write_text("hello") and d / "notes.jpg", "not an image"),
        (lambda d: (d / "empty.png").write_bytes(b"") or d / "empty.png", "empty file"),
    ],
)
def test_bad_paths_are_named(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(ImageError, match=message) as error:
        to_gray(path)
    assert str(path) in str(error.value)


def test_truncated_image_is_named(astronaut, tmp_path):
    Image.fromarray(astronaut).save(tmp_path / "full.jpg")
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="cut.jpg: truncated or corrupt image"):
        to_gray(tmp_path / "cut.jpg")


def test_zero_size_and_oversized_images_are_refused(monkeypatch, tmp_path):
    with pytest.raises(ImageError, match="zero-size image"):
        to_gray(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(ImageError, match="must be HxW"):
        to_gray(np.zeros((10, 10, 2), np.uint8))
    with pytest.raises(ImageError, match="unsupported image type"):
        to_gray(42)
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    Image.fromarray(np.zeros((20, 20), np.uint8)).save(tmp_path / "big.png")
    with pytest.raises(ImageError, match="too large to decode safely"):
        to_gray(tmp_path / "big.png")
    with pytest.raises(ImageError, match="too large"):
        to_gray(np.zeros((20, 20), np.uint8))


def test_a_files_bytes_read_as_the_file_and_odd_inputs_are_named(astronaut, tmp_path):
    Image.fromarray(astronaut).save(tmp_path / "a.png")
    np.testing.assert_array_equal(to_bgr((tmp_path / "a.png").read_bytes()), to_bgr(tmp_path / "a.png"))
    for image, message in (
        (b"not an image", "12 bytes: not an image"),
        (b"", "empty bytes"),
        ("  ", "the photo's path is empty"),
        (np.zeros(10, np.uint8), "must be HxW"),
        (np.full((5, 5, 3), "x"), "image array of <U1 values: expected numbers"),
    ):
        with pytest.raises(ImageError, match=message):
            to_bgr(image)
    with pytest.raises(ImageError, match="channel_order must be"):
        to_bgr(tmp_path / "a.png", channel_order="xyz")  # checked for paths too, not only arrays
    data = (tmp_path / "a.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="the PIL image cannot be decoded"):
        to_bgr(Image.open(tmp_path / "cut.png"))  # opened lazily: decoding fails inside MEPE


def test_a_photo_whose_exif_block_is_broken_is_read_as_stored(astronaut, tmp_path, monkeypatch):
    import struct

    from PIL import ImageOps

    Image.fromarray(astronaut).save(tmp_path / "a.jpg")
    expected = to_bgr(tmp_path / "a.jpg")

    def broken(image):
        raise struct.error("required argument is not an integer")  # what Pillow raised on a fuzzed EXIF block

    monkeypatch.setattr(ImageOps, "exif_transpose", broken)
    np.testing.assert_array_equal(to_bgr(tmp_path / "a.jpg"), expected)
    np.testing.assert_array_equal(to_bgr(Image.open(tmp_path / "a.jpg")), expected)
