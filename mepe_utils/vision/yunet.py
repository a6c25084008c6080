"""YuNet, opencv_zoo's face detector, run in ONNX Runtime: small, turned and tightly cropped faces.

The model file ships in ``assets/detectors/`` with its licences (MIT, from
opencv_zoo; the weights from libfacedetection.train, Apache-2.0) and is checked
against its sha256 before use. It is opencv_zoo's file with its input size left
free (:mod:`mepe_utils.vision.yunet_file`), run by ONNX Runtime and decoded here
as OpenCV's ``cv2.FaceDetectorYN`` decodes it (the same faces, within 1e-4 px on
the shared photos; a test compares them). ONNX Runtime runs YuNet about three
times as fast as OpenCV's DNN module at 640 px on a 2-core AMD EPYC, and 1.5
times at 1280 px (interleaved runs). YuNet has traps, each handled here:

- its input is padded (bottom and right) to a multiple of 32, as ``FaceDetectorYN`` pads it;
- it reads 3-channel BGR (:func:`mepe_utils.vision.images.to_bgr` gives that for any input);
- it finds faces of about 10-300 px: large photos are scaled down (aspect ratio
  kept) to :attr:`YuNetConfig.max_side`, and a photo where nothing is found is
  tried again padded and scaled to :attr:`YuNetConfig.retry_side`, which brings a
  face that fills the frame (a tight crop) into range and gives it context, and
  then turned by each of :attr:`YuNetConfig.retry_rotations` (YuNet misses heads
  tilted by more than about 30 degrees), and last scaled to
  :attr:`YuNetConfig.close_up_side` as it is and mirrored (a face cut by the frame: a
  profile, a wide-open mouth, hands on the face);
- ``detect`` returns an empty list when nothing is found;
- boxes and landmarks can fall outside the photo: boxes are clipped.

Example:
    >>> faces = YuNetDetector().detect(cv2.imread("group.jpg"))   # BGR
    >>> [(f.box, round(f.score, 2)) for f in faces]                # largest first
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils.errors import MepeError, ModelFileError
from mepe_utils.runtime import ASSETS_DIR
from mepe_utils.vision.detection import DetectedFace, face_from_detector_box, largest_first

YUNET_FILE = ASSETS_DIR / "detectors" / "face_detection_yunet_2023mar_any_size.onnx"
YUNET_SHA256 = "b1b3061b1ae7a43bcc1497284ade754f701db774ef3a19481edcaf27fbc425b1"
MIRRORED_LANDMARKS = [1, 0, 2, 4, 3]
"""Landmark order of a mirrored face: the eyes and the mouth corners trade places."""
STRIDES = (8, 16, 32)
"""YuNet's three output grids, one cell per ``stride`` pixels; the input is padded to a multiple of the largest."""
ONNXRUNTIME_MISSING = "YuNet runs in ONNX Runtime, which is not installed: pip install onnxruntime (or --detector haar)"
"""What a user without ONNX Runtime is told, in one line."""
OUTPUT_NAMES = tuple(f"{head}_{stride}" for head in ("cls", "obj", "bbox", "kps") for stride in STRIDES)
"""The model's outputs: class and objectness scores, box offsets and landmark offsets for each grid."""


@dataclass
class YuNetConfig:
    """YuNet settings.

    Attributes:
        score_threshold: keep faces scored at least this. Chosen by ``mepe bench-detect`` on
            one half of the shared photos (the midpoint between the lowest-scored face and
            the highest-scored false box there) and reported on the other half.
        nms_threshold: non-maximum suppression IoU.
        top_k: candidates kept before suppression.
        max_side: photos with a longer side are scaled down to it first.
        retry_side: when nothing is found, the photo padded by ``retry_padding`` is tried
            again at this longer side.
        retry_padding: padding on each side for the retry, as a fraction of the longer side.
        retry_rotations: angles (degrees, counter-clockwise) the padded photo is turned by, one
            after the other, while still nothing is found.
        close_up_side: when still nothing is found, the photo is tried at this longer side as it
            is, then mirrored; 0 turns this last retry off. ``mepe bench-detect`` measures what it
            finds in FER-2013 faces and what it invents in faceless crops (``fer_photo_path``,
            ``faceless_crops``).
    """

    score_threshold: float = 0.665
    nms_threshold: float = 0.3
    top_k: int = 5000
    max_side: int = 1280
    retry_side: int = 320
    retry_padding: float = 0.25
    retry_rotations: tuple[float, ...] = (30.0, -30.0)
    close_up_side: int = 480


class YuNetDetector:
    """Finds every face in a BGR photo, largest first, with five landmarks and a score each.

    Args:
        model_file: the YuNet ONNX file (default: the shipped one).
        config: detection settings.

    Raises:
        ModelFileError: the model file is missing or is not the expected file.
    """

    name = "yunet"

    def __init__(self, model_file: str | Path = YUNET_FILE, config: YuNetConfig | None = None):

        from mepe_utils.artifacts import sha256_of

        model_file = Path(model_file)
        if not model_file.is_file():
            raise ModelFileError(f"YuNet model not found: {model_file}")
        if sha256_of(model_file) != YUNET_SHA256:
            raise ModelFileError(f"{model_file}: not the YuNet file MEPE ships (sha256 differs)")
        self.config = config or YuNetConfig()
        self._session = _inference_session(model_file)
        self._input_name = self._session.get_inputs()[0].name

    def detect(self, bgr: np.ndarray) -> list[DetectedFace]:
        """Every face in ``bgr`` ((H, W, 3) uint8), largest first; an empty list when there is none."""
        height, width = bgr.shape[:2]
        config = self.config
        scale = min(1.0, config.max_side / max(height, width))
        faces = self._detect(_resized(bgr, scale), _scaling(scale), (width, height))
        if faces:
            return faces
        pad = int(round(config.retry_padding * max(height, width)))
        retry_scale = config.retry_side / (max(height, width) + 2 * pad)
        small = _resized(_pad(bgr, pad), retry_scale)
        photo_to_small = _scaling(retry_scale) @ _shift(pad)
        for angle in (0.0, *config.retry_rotations):
            turned, small_to_turned = _turned(small, angle)
            faces = self._detect(turned, small_to_turned @ photo_to_small, (width, height))
            if faces:
                return faces
        return self._close_up(bgr) if config.close_up_side else []

    def _close_up(self, bgr: np.ndarray) -> list[DetectedFace]:
        """The last retry: the photo at :attr:`YuNetConfig.close_up_side`, as it is and then mirrored."""
        height, width = bgr.shape[:2]
        scale = self.config.close_up_side / max(height, width)
        close = _resized(bgr, scale)
        faces = self._detect(close, _scaling(scale), (width, height))
        if faces:
            return faces
        mirror = np.array([[-1.0, 0.0, close.shape[1] - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        return self._detect(close[:, ::-1].copy(), mirror @ _scaling(scale), (width, height), mirrored=True)

    def detect_once(self, bgr: np.ndarray) -> list[DetectedFace]:
        """One YuNet pass on ``bgr`` as it is: no scaling, no retries (for faces already in range)."""
        return self._detect(bgr, np.eye(3), (bgr.shape[1], bgr.shape[0]))

    def _detect(
        self, image: np.ndarray, photo_to_image: np.ndarray, photo_size: tuple[int, int], mirrored: bool = False
    ) -> list[DetectedFace]:
        """Runs YuNet on ``image``, a warp of the photo by the 3x3 ``photo_to_image``; faces in the photo's pixels.

        In a ``mirrored`` image YuNet's right eye is the person's left: the landmark pairs are swapped back.
        """
        rows = self.raw_faces(image)
        if not len(rows):
            return []
        to_photo = np.linalg.inv(photo_to_image)[:2]
        order = MIRRORED_LANDMARKS if mirrored else slice(None)
        faces = [
            face_from_detector_box(row[:4], photo_size, row[4:14].reshape(5, 2)[order], float(row[14]), to_photo)
            for row in rows
        ]
        return largest_first([face for face in faces if face.box[2] > 1 and face.box[3] > 1])

    def raw_faces(self, image: np.ndarray) -> np.ndarray:
        """YuNet's faces in ``image`` (BGR uint8) as ``cv2.FaceDetectorYN.detect`` gives them: (N, 15) float32 rows
        of box (x, y, w, h), five landmarks (x, y) and score, in ``image``'s pixels; (0, 15) when there is none.

        Raises:
            ValueError: ``image`` is not (H, W, 3).
        """
        import cv2

        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"YuNet reads (H, W, 3) BGR images, not {image.shape}")
        height, width = image.shape[:2]
        padded_height, padded_width = (-(-side // STRIDES[-1]) * STRIDES[-1] for side in (height, width))
        padded = cv2.copyMakeBorder(image, 0, padded_height - height, 0, padded_width - width, cv2.BORDER_CONSTANT)
        blob = np.ascontiguousarray(padded.transpose(2, 0, 1)[None], dtype=np.float32)  # NCHW, 0-255
        outputs = dict(zip(OUTPUT_NAMES, self._session.run(OUTPUT_NAMES, {self._input_name: blob})))
        return decode_faces(outputs, padded_width, self.config)


def decode_faces(outputs: dict[str, np.ndarray], padded_width: int, config: YuNetConfig) -> np.ndarray:
    """Faces from YuNet's raw outputs, decoded as OpenCV's ``FaceDetectorYN`` decodes them.

    Each grid cell scores ``sqrt(cls * obj)`` (both clipped to [0, 1]); a cell scored at least
    ``config.score_threshold`` gives a box centred at (cell + offset) * stride, of side exp(size) * stride,
    and five landmarks at (cell + offset) * stride. Overlapping boxes are suppressed by
    ``cv2.dnn.NMSBoxes`` on the boxes' integer parts, as OpenCV does.

    Args:
        outputs: the arrays of :data:`OUTPUT_NAMES` for one image, each (1, cells, k).
        padded_width: the width of the padded input (a multiple of the largest stride).
        config: the score and suppression thresholds and ``top_k``.

    Returns:
        (N, 15) float32: box (x, y, w, h), landmarks (x, y) x 5, score.
    """
    import cv2

    rows = []
    for stride in STRIDES:
        cls, obj = (np.clip(outputs[f"{head}_{stride}"][0, :, 0], 0.0, 1.0) for head in ("cls", "obj"))
        score = np.sqrt(cls * obj)
        cells = np.flatnonzero(score >= config.score_threshold)
        columns = padded_width // stride
        cell = np.stack([cells % columns, cells // columns], axis=1).astype(np.float32)  # (x, y) on the grid
        box, landmarks = outputs[f"bbox_{stride}"][0, cells], outputs[f"kps_{stride}"][0, cells]
        size = np.exp(box[:, 2:4]) * stride
        corner = (cell + box[:, :2]) * stride - size / 2
        points = (landmarks.reshape(-1, 5, 2) + cell[:, None]) * stride
        rows.append(np.hstack([corner, size, points.reshape(-1, 10), score[cells, None]]))
    faces = np.vstack(rows).astype(np.float32)
    if len(faces) > 1:
        boxes = faces[:, :4].astype(np.int32).tolist()
        scores = faces[:, 14].tolist()
        keep = cv2.dnn.NMSBoxes(boxes, scores, config.score_threshold, config.nms_threshold, top_k=config.top_k)
        faces = faces[np.asarray(keep, dtype=int).reshape(-1)]
    return faces


def _inference_session(model_file: Path):
    """An ONNX Runtime session of YuNet on the CPU, whose threads sleep when idle.

    ``analyze`` reads the text (TensorFlow) while the photo is read (ONNX Runtime); by
    default ONNX Runtime's threads spin after each run and take the cores TensorFlow
    needs: ``analyze`` p50 was 31-32 ms with spinning against 23-28 ms without
    (astronaut photo, two interleaved runs on the 2-core AMD EPYC).

    Raises:
        MepeError: ONNX Runtime is not installed (the message says how to get it, or to use Haar).
    """
    try:
        import onnxruntime
    except ImportError:
        raise MepeError(ONNXRUNTIME_MISSING) from None

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])


def _scaling(scale: float) -> np.ndarray:
    return np.diag([scale, scale, 1.0])


def _shift(offset: float) -> np.ndarray:
    return np.array([[1.0, 0.0, offset], [0.0, 1.0, offset], [0.0, 0.0, 1.0]])


def _resized(bgr: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    if scale == 1.0:
        return bgr
    size = (max(1, round(bgr.shape[1] * scale)), max(1, round(bgr.shape[0] * scale)))
    return cv2.resize(bgr, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


def _pad(bgr: np.ndarray, pad: int) -> np.ndarray:
    import cv2

    return cv2.copyMakeBorder(bgr, pad, pad, pad, pad, cv2.BORDER_REPLICATE)


def _turned(bgr: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """``bgr`` turned by ``angle`` degrees counter-clockwise on a canvas that holds all of it, and the 3x3 map."""
    import cv2

    if angle == 0:
        return bgr, np.eye(3)
    height, width = bgr.shape[:2]
    cos, sin = abs(np.cos(np.radians(angle))), abs(np.sin(np.radians(angle)))
    out_width, out_height = int(np.ceil(width * cos + height * sin)), int(np.ceil(width * sin + height * cos))
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    matrix[:, 2] += ((out_width - width) / 2, (out_height - height) / 2)
    turned = cv2.warpAffine(bgr, matrix, (out_width, out_height), borderMode=cv2.BORDER_REPLICATE)
    return turned, np.vstack([matrix, [0.0, 0.0, 1.0]])
