"""YuNet, OpenCV's DNN face detector (``cv2.FaceDetectorYN``): small, turned and tightly cropped faces.

The model file ships in ``assets/detectors/`` with its licences (MIT, from
opencv_zoo; the weights from libfacedetection.train, Apache-2.0) and is checked
against its sha256 before use. YuNet has traps, each handled here:

- the input size must be set for every image; a net re-plans itself when it
  changes, so the detector keeps one net per recent size;
- it reads 3-channel BGR (:func:`mepe_utils.vision.images.to_bgr` gives that for any input);
- it finds faces of about 10-300 px: large photos are scaled down (aspect ratio
  kept) to :attr:`YuNetConfig.max_side`, and a photo where nothing is found is
  tried again padded and scaled to :attr:`YuNetConfig.retry_side`, which brings a
  face that fills the frame (a tight crop) into range and gives it context, and
  then turned by each of :attr:`YuNetConfig.retry_rotations` (YuNet misses heads
  tilted by more than about 30 degrees), and last scaled to
  :attr:`YuNetConfig.close_up_side` as it is and mirrored (a face cut by the frame: a
  profile, a wide-open mouth, hands on the face);
- ``detect`` returns None when nothing is found;
- boxes and landmarks can fall outside the photo: boxes are clipped.

Example:
    >>> faces = YuNetDetector().detect(cv2.imread("group.jpg"))   # BGR
    >>> [(f.box, round(f.score, 2)) for f in faces]                # largest first
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils.errors import ModelFileError
from mepe_utils.runtime import ASSETS_DIR
from mepe_utils.vision.detection import DetectedFace, face_from_detector_box, largest_first

YUNET_FILE = ASSETS_DIR / "detectors" / "face_detection_yunet_2023mar.onnx"
YUNET_SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
MIRRORED_LANDMARKS = [1, 0, 2, 4, 3]
"""Landmark order of a mirrored face: the eyes and the mouth corners trade places."""
CACHED_INPUT_SIZES = 5
"""Input sizes a detector keeps a ready net for (a photo's, its retries', the close-up's, the tilt search's)."""


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
        self._model_file = str(model_file)
        self._nets: dict[tuple[int, int], object] = {}

    def _net_for(self, size: tuple[int, int]):
        """A YuNet net set to input ``size`` (width, height): changing a net's input size re-plans it
        (about 45 ms at 1280 px on this CPU), so each recent size keeps a net of its own."""
        import cv2

        net = self._nets.pop(size, None)
        if net is None:
            c = self.config
            net = cv2.FaceDetectorYN.create(self._model_file, "", size, c.score_threshold, c.nms_threshold, c.top_k)
            if len(self._nets) >= CACHED_INPUT_SIZES:
                self._nets.pop(next(iter(self._nets)))  # the least recently used
        self._nets[size] = net
        return net

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
        _, rows = self._net_for((image.shape[1], image.shape[0])).detect(image)
        if rows is None:
            return []
        to_photo = np.linalg.inv(photo_to_image)[:2]
        order = MIRRORED_LANDMARKS if mirrored else slice(None)
        faces = [
            face_from_detector_box(row[:4], photo_size, row[4:14].reshape(5, 2)[order], float(row[14]), to_photo)
            for row in rows
        ]
        return largest_first([face for face in faces if face.box[2] > 1 and face.box[3] > 1])


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
