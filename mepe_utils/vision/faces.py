"""Face detection (OpenCV's bundled Haar cascade), square crops and FER-style 48x48 faces.

"No face found" is a result (``FaceCrop.found == False``), never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mepe_utils.data.fer2013 import FACE_SIZE
from mepe_utils.vision.images import to_gray


@dataclass
class DetectorConfig:
    """Haar detection settings.

    Attributes:
        cascade: file name in ``cv2.data.haarcascades``.
        scale_factor, min_neighbors: ``detectMultiScale`` parameters.
        min_face_fraction: smallest face side as a fraction of the shorter image side.
        max_side: photos larger than this are downscaled before detection (boxes
            are mapped back to the original pixels; the crop is cut from the
            full-resolution photo). At 320 px the smallest face kept
            (``min_face_fraction``) is still at least the cascade's 24 px window.
        margin: extra context around the detected box, as a fraction of its side
            (FER faces are loosely cropped).
    """

    cascade: str = "haarcascade_frontalface_default.xml"
    scale_factor: float = 1.2
    min_neighbors: int = 5
    min_face_fraction: float = 0.08
    max_side: int = 320
    margin: float = 0.2


@dataclass
class FaceCrop:
    """One photo's detection result.

    Attributes:
        found: whether a face was found.
        box: (x, y, w, h) of the largest face in original pixels, or None.
        boxes: every detected box, largest first.
        face: the 48x48x1 uint8 crop of the largest face, or None.
        image_size: (width, height) of the photo.
    """

    found: bool
    box: tuple[int, int, int, int] | None
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    face: np.ndarray | None = None
    image_size: tuple[int, int] = (0, 0)


class FaceDetector:
    """Finds faces in photos and cuts FER-style crops.

    Args:
        config: detection settings.
    """

    def __init__(self, config: DetectorConfig | None = None):
        import cv2

        self.config = config or DetectorConfig()
        path = cv2.data.haarcascades + self.config.cascade
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise FileNotFoundError(f"Haar cascade not found or unreadable: {path}")

    def detect(self, gray: np.ndarray) -> list[tuple[int, int, int, int]]:
        """All face boxes (x, y, w, h) in a gray uint8 image, largest first."""
        import cv2

        height, width = gray.shape
        scale = min(1.0, self.config.max_side / max(height, width))
        small = (
            gray
            if scale == 1.0
            else cv2.resize(gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        )
        min_side = max(12, int(self.config.min_face_fraction * min(small.shape)))
        found = self._cascade.detectMultiScale(
            small,
            scaleFactor=self.config.scale_factor,
            minNeighbors=self.config.min_neighbors,
            minSize=(min_side, min_side),
        )
        boxes = [tuple(int(round(v / scale)) for v in box) for box in np.asarray(found).reshape(-1, 4)]
        return sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)

    def crop(self, gray: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
        """A square crop around ``box`` with the configured margin, resized to 48x48x1."""
        return square_crop(gray, box, self.config.margin)

    def __call__(self, image, channel_order: str = "rgb") -> FaceCrop:
        """Detects faces in any accepted image and crops the largest one.

        Args:
            image: path, NumPy array or PIL image (see ``mepe_utils.vision.images``).
            channel_order: ``"rgb"`` or ``"bgr"`` for colour arrays.
        """
        gray = to_gray(image, channel_order)
        boxes = self.detect(gray)
        size = (gray.shape[1], gray.shape[0])
        if not boxes:
            return FaceCrop(found=False, box=None, boxes=[], face=None, image_size=size)
        return FaceCrop(found=True, box=boxes[0], boxes=boxes, face=self.crop(gray, boxes[0]), image_size=size)


def square_crop(gray: np.ndarray, box: tuple[int, int, int, int], margin: float) -> np.ndarray:
    """Cuts a square of side ``max(w, h) * (1 + 2 * margin)`` centred on ``box`` (edges replicated)."""
    import cv2

    x, y, w, h = box
    side = int(round(max(w, h) * (1 + 2 * margin)))
    left, top = int(round(x + w / 2 - side / 2)), int(round(y + h / 2 - side / 2))
    pad = max(0, -left, -top, left + side - gray.shape[1], top + side - gray.shape[0])
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else gray
    patch = padded[top + pad : top + pad + side, left + pad : left + pad + side]
    return cv2.resize(patch, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)[..., None]
