"""The photo path: any photo in, every face out, each cut the way FER-2013 frames its faces.

``FaceFinder`` decodes a photo (:mod:`mepe_utils.vision.images`), finds the
faces with a detector (:mod:`mepe_utils.vision.detection`; YuNet by default)
and cuts each one (:mod:`mepe_utils.vision.framing`), levelling the eyes of a
tilted head. "No face found" is a
result (``PhotoFaces.found == False``), never an exception.

Example:
    >>> photo = FaceFinder()("group.jpg")
    >>> [(face.detection.box, face.crop.shape) for face in photo.faces]   # largest first
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mepe_utils.vision.detection import DETECTORS, DetectedFace, Detector, make_detector
from mepe_utils.vision.framing import Framing, frame_face, refine_roll
from mepe_utils.vision.images import to_bgr
from mepe_utils.vision.yunet import YuNetDetector


@dataclass
class FaceCrop:
    """One face of a photo.

    Attributes:
        detection: where the detector found it (box, centre, size, landmarks, score).
        crop: the (48, 48, 1) uint8 face, framed for the CNN.
    """

    detection: DetectedFace
    crop: np.ndarray


@dataclass
class PhotoFaces:
    """One photo's faces.

    Attributes:
        faces: every face found, largest first (empty when there is none).
        image_size: (width, height) of the photo.
    """

    faces: list[FaceCrop] = field(default_factory=list)
    image_size: tuple[int, int] = (0, 0)

    @property
    def found(self) -> bool:
        return bool(self.faces)


class FaceFinder:
    """Finds and frames every face in photos.

    Args:
        detector: a detector name (:data:`~mepe_utils.vision.detection.DETECTORS`) or a detector object.
        framing: how each face is cut.
    """

    def __init__(self, detector: str | Detector = DETECTORS[0], framing: Framing | None = None):
        self.detector = make_detector(detector) if isinstance(detector, str) else detector
        self.framing = framing or Framing()

    def __call__(self, image, channel_order: str = "rgb", largest_only: bool = False) -> PhotoFaces:
        """Every face in one photo (path, NumPy array or PIL image), largest first.

        Args:
            image: the photo (see :mod:`mepe_utils.vision.images` for what is accepted).
            channel_order: ``"rgb"`` or ``"bgr"`` for colour arrays.
            largest_only: cut only the largest face.

        Raises:
            ImageError: an unreadable photo (the message names the problem).
        """
        import cv2

        bgr = to_bgr(image, channel_order)
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        faces = [FaceCrop(face, frame_face(gray, face, self.framing)) for face in self.find(bgr, largest_only)]
        return PhotoFaces(faces, (bgr.shape[1], bgr.shape[0]))

    def find(self, bgr: np.ndarray, largest_only: bool = False) -> list[DetectedFace]:
        """Every face in a BGR uint8 photo, largest first, the tilt of a tilted head measured again."""
        detections = self.detector.detect(bgr)
        if largest_only:
            detections = detections[:1]
        for face in detections:
            if self.framing.needs_refined_roll(face) and isinstance(self.detector, YuNetDetector):
                face.roll = refine_roll(bgr, face, self.detector)
        return detections
