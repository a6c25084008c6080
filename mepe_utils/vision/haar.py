"""OpenCV's bundled Haar cascade: MEPE's first face detector, kept for comparison (``--detector haar``).

It finds frontal faces of at least ``min_face_fraction`` of the photo on a
``max_side`` copy; ``mepe bench-detect`` shows what it misses (small, turned
and tightly cropped faces) next to YuNet. It gives no landmarks and no score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mepe_utils.vision.detection import DetectedFace, face_from_detector_box, largest_first


@dataclass
class HaarConfig:
    """Haar detection settings.

    Attributes:
        cascade: file name in ``cv2.data.haarcascades``.
        scale_factor, min_neighbors: ``detectMultiScale`` parameters.
        min_face_fraction: smallest face side as a fraction of the shorter image side.
        max_side: photos larger than this are downscaled before detection (boxes are mapped
            back to the original pixels). At 320 px the smallest face kept is still at least
            the cascade's 24 px window.
    """

    cascade: str = "haarcascade_frontalface_default.xml"
    scale_factor: float = 1.2
    min_neighbors: int = 5
    min_face_fraction: float = 0.08
    max_side: int = 320


class HaarDetector:
    """Frontal faces in a BGR photo, largest first.

    Args:
        config: detection settings.

    Raises:
        FileNotFoundError: the cascade file is missing from the OpenCV install.
    """

    name = "haar"

    def __init__(self, config: HaarConfig | None = None):
        import cv2

        self.config = config or HaarConfig()
        path = cv2.data.haarcascades + self.config.cascade
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise FileNotFoundError(f"Haar cascade not found or unreadable: {path}")

    def detect(self, bgr: np.ndarray) -> list[DetectedFace]:
        import cv2

        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
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
        boxes = np.asarray(found, np.float64).reshape(-1, 4) / scale
        return largest_first([face_from_detector_box(box, (width, height)) for box in boxes])
