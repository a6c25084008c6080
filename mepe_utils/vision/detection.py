"""What every face detector returns, and the detectors MEPE offers by name.

A detector takes a BGR uint8 photo and returns every face it finds, largest
first, as :class:`DetectedFace` records in the photo's own pixels. An empty
list means no face; it is a result, not an error.

Example:
    >>> detector = make_detector("yunet")
    >>> [face.box for face in detector.detect(bgr)]       # largest first
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

DETECTORS = ("yunet", "haar")
"""Detector names, the default first: YuNet (a small CNN) and OpenCV's Haar cascade (kept for comparison)."""
LANDMARKS = ("right_eye", "left_eye", "nose_tip", "mouth_right", "mouth_left")
"""The five landmarks a detector may give, in YuNet's order (right and left as seen from the person)."""


@dataclass
class DetectedFace:
    """One face in a photo.

    Attributes:
        box: (x, y, w, h) in the photo's pixels, clipped to the photo (for drawing and matching).
        center: (x, y) of the face's centre, where the detector put it (it may lie near or past an edge).
        side: the face's size in pixels as the detector saw it upright: the longer side of its
            unclipped box (a face found in a rotated copy of the photo keeps its own size).
        landmarks: (5, 2) float32 (x, y) of :data:`LANDMARKS`, or None when the detector gives none (Haar).
        score: the detector's confidence in [0, 1], or None when it gives none (Haar).
        roll: the head's tilt in the photo, in degrees (0 = eyes level, positive = clockwise);
            from the landmarks, refined by :func:`mepe_utils.vision.framing.refine_roll`; 0 without landmarks.
    """

    box: tuple[int, int, int, int]
    center: tuple[float, float]
    side: float
    landmarks: np.ndarray | None = None
    score: float | None = None
    roll: float = 0.0

    @property
    def area(self) -> int:
        return self.box[2] * self.box[3]


def face_from_detector_box(
    raw_box,
    image_size: tuple[int, int],
    landmarks: np.ndarray | None = None,
    score: float | None = None,
    to_photo: np.ndarray | None = None,
) -> DetectedFace:
    """A :class:`DetectedFace` from a detector's raw float (x, y, w, h) box.

    Args:
        raw_box: the box in the frame the detector ran on.
        image_size: (width, height) of the photo, for clipping.
        landmarks: (5, 2) landmarks in the detector's frame.
        score: the detector's confidence.
        to_photo: a 2x3 affine map from the detector's frame to the photo's pixels (a rotation,
            a scale, an offset); None when the detector ran on the photo itself.
    """
    x, y, w, h = (float(v) for v in raw_box)
    corners = np.array([[x, y], [x + w, y], [x, y + h], [x + w, y + h]], np.float64)
    center = np.array([x + w / 2, y + h / 2])
    scale = 1.0
    if to_photo is not None:
        corners = corners @ to_photo[:, :2].T + to_photo[:, 2]
        center = to_photo[:, :2] @ center + to_photo[:, 2]
        scale = float(np.sqrt(abs(np.linalg.det(to_photo[:, :2]))))
        if landmarks is not None:
            landmarks = landmarks @ to_photo[:, :2].T + to_photo[:, 2]
    left, top = corners.min(axis=0)
    right, bottom = corners.max(axis=0)
    return DetectedFace(
        box=clip_box((left, top, right - left, bottom - top), *image_size),
        center=(float(center[0]), float(center[1])),
        side=max(w, h) * scale,
        landmarks=None if landmarks is None else np.asarray(landmarks, np.float32),
        score=score,
        roll=0.0 if landmarks is None else eye_tilt_degrees(landmarks),
    )


def eye_tilt_degrees(landmarks: np.ndarray) -> float:
    """The angle of the line from the right eye to the left eye, in degrees (0 = level, positive = clockwise).

    Args:
        landmarks: (5, 2) landmarks in :data:`LANDMARKS` order.
    """
    right_eye, left_eye = landmarks[0], landmarks[1]
    return float(np.degrees(np.arctan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])))


class Detector(Protocol):
    name: str

    def detect(self, bgr: np.ndarray) -> list[DetectedFace]:
        """Every face in an (H, W, 3) BGR uint8 photo, largest first."""


def make_detector(name: str = DETECTORS[0]) -> Detector:
    """The detector called ``name`` (one of :data:`DETECTORS`) with its default settings.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    if name == "yunet":
        from mepe_utils.vision.yunet import YuNetDetector

        return YuNetDetector()
    if name == "haar":
        from mepe_utils.vision.haar import HaarDetector

        return HaarDetector()
    raise ValueError(f"unknown face detector {name!r}; choose one of {', '.join(DETECTORS)}")


def largest_first(faces: list[DetectedFace]) -> list[DetectedFace]:
    """``faces`` sorted by box area, largest first (ties keep the detector's order)."""
    return sorted(faces, key=lambda face: -face.area)


def clip_box(box, width: int, height: int) -> tuple[int, int, int, int]:
    """A float (x, y, w, h) box rounded to pixels and clipped to a ``width`` x ``height`` photo."""
    x, y, w, h = (float(v) for v in box)
    left, top = max(0.0, x), max(0.0, y)
    right, bottom = min(float(width), x + w), min(float(height), y + h)
    return (int(round(left)), int(round(top)), max(0, int(round(right - left))), max(0, int(round(bottom - top))))
