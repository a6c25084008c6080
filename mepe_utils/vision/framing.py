"""Cutting a detected face the way FER-2013 frames its faces: a square on the box, eyes levelled, 48x48 gray.

The face CNN learned from FER-2013's 48x48 crops, so a photo's face must reach
it framed the same way. ``mepe bench-detect`` measured the framing: FER-2013
PublicTest faces were drawn as photos (each face upscaled to 192 px with
48 px of background), detected with YuNet and cut with each candidate framing,
and the framing that kept the CNN's accuracy closest to reading the 48x48
faces directly was kept (the numbers are in ``results/bench_detect.json``).

What it found:

- **Centre and scale from the box, not from the landmarks.** YuNet's box is
  about the height of a FER face; the eye-to-mouth distance is not a good
  ruler because it grows when the mouth opens (surprise, fear), which would
  zoom out exactly on those expressions.
- **A slightly tight square** (``margin`` below 0) matched FER best.
- **Levelling the eyes only when the head is tilted beyond what the CNN saw
  in training.** FER faces keep their natural tilt and the CNN was trained on
  them with rotations of up to about 14 degrees, so small tilts are left as
  they are; a face turned further (a head on a shoulder, a photo taken at an
  angle) is rotated until its eyes are level.

Example:
    >>> crop = frame_face(gray, detected_face)     # (48, 48, 1) uint8
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mepe_utils.data.fer2013 import FACE_SIZE
from mepe_utils.vision.detection import DetectedFace
from mepe_utils.vision.yunet import YuNetDetector

REFINE_SIDE = 160
"""Side of the turned copies :func:`refine_roll` scores (the face about 80 px)."""
ROLL_SEARCH_STEP = 15
ROLL_SEARCH_DEGREES = tuple(range(-60, 61, ROLL_SEARCH_STEP))
"""The turns :func:`refine_roll` may score, in degrees (cv2's sense: positive turns counter-clockwise)."""
ROLL_PLATEAU = 0.02
"""Turns within this much of the best detector score count as upright (:func:`refine_roll`)."""
LANDMARK_TILT_SHARE = 0.5
"""About the share of a head's tilt that YuNet's eye line shows (measured on turned copies of upright faces)."""


@dataclass
class Framing:
    """How a detected face is cut.

    Attributes:
        margin: extra side on each edge as a fraction of the face's side (negative: tighter
            than the box). The square's side is ``face.side * (1 + 2 * margin)``.
        level_beyond_degrees: heads tilted more than this (``DetectedFace.roll``) are levelled;
            0 levels every face, 180 none. Faces without landmarks (Haar) have no roll and are never turned.
    """

    margin: float = -0.05
    level_beyond_degrees: float = 15.0

    def needs_refined_roll(self, face: DetectedFace) -> bool:
        """Whether ``face`` may be tilted beyond :attr:`level_beyond_degrees`, given that its landmarks
        show only about :data:`LANDMARK_TILT_SHARE` of a tilt."""
        limit = self.level_beyond_degrees * LANDMARK_TILT_SHARE
        return face.landmarks is not None and self.level_beyond_degrees < 180 and abs(face.roll) > limit

    def levels(self, roll: float) -> bool:
        """Whether a head tilted by ``roll`` degrees is levelled (tilted beyond :attr:`level_beyond_degrees`)."""
        return abs(roll) > self.level_beyond_degrees


def _turned_square(image: np.ndarray, center, angle: float, scale: float, out: int) -> np.ndarray:
    """An ``out`` px square of ``image`` turned by ``angle`` degrees (counter-clockwise) and scaled by ``scale``
    about ``center``, which lands in the square's middle (borders replicated). One affine map."""
    import cv2

    matrix = cv2.getRotationMatrix2D((float(center[0]), float(center[1])), float(angle), scale)
    matrix[:, 2] += (out / 2 - center[0], out / 2 - center[1])
    return cv2.warpAffine(image, matrix, (out, out), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def refine_roll(bgr: np.ndarray, face: DetectedFace, detector: YuNetDetector, exhaustive: bool = False) -> float:
    """The head's tilt, found as the turn that makes the face most face-like to the detector.

    YuNet's landmarks pull toward an upright face: on a head tilted by 40 degrees
    the eye line it gives is tilted by only 15-20. Its score, though, is highest
    when the face is upright, on a plateau some 30-50 degrees wide. So the face
    is turned by the turns of :data:`ROLL_SEARCH_DEGREES`, scored, and the tilt is
    the middle of the turns that score within :data:`ROLL_PLATEAU` of the best.

    The landmarks show a tilt's side if not its size, so the search starts with
    the turns on that side and one step beyond upright (6 of 9 passes), and goes
    on to the other side one step at a time while the plateau reaches the last
    turn scored. ``mepe bench-detect`` compares it with scoring every turn
    (``tilt_search`` in ``results/bench_detect.json``).

    Args:
        bgr: the photo, (H, W, 3) uint8.
        face: a face in the photo's pixels.
        detector: YuNet (one pass per turn; a copy of :data:`REFINE_SIDE` px is in its range).
        exhaustive: score every turn of :data:`ROLL_SEARCH_DEGREES` (the reference the search is measured against).

    Returns:
        The tilt in degrees (positive = clockwise), or the face's own ``roll`` when no turned
        copy is found.
    """
    out = REFINE_SIDE
    scale = out / (2.0 * face.side)  # the face fills half of the copy, a size YuNet reads well

    def upright_score(angle: int) -> float:
        found = detector.detect_once(_turned_square(bgr, face.center, angle, scale, out))
        return max((f.score for f in found if np.hypot(*np.subtract(f.center, out / 2)) < out / 4), default=0.0)

    side = 1 if face.roll >= 0 else -1
    first = [angle for angle in ROLL_SEARCH_DEGREES if exhaustive or angle * side >= -ROLL_SEARCH_STEP]
    scores = {angle: upright_score(angle) for angle in first}
    while True:
        best = max(scores.values())
        plateau = [angle for angle, score in scores.items() if score >= best - ROLL_PLATEAU]
        edge = min(scores, key=lambda angle: angle * side)  # the last turn scored on the other side
        beyond = edge - side * ROLL_SEARCH_STEP
        if best <= 0 or edge not in plateau or beyond not in ROLL_SEARCH_DEGREES:
            break
        scores[beyond] = upright_score(beyond)
    if best <= 0:
        return face.roll
    return float((min(plateau) + max(plateau)) / 2)


def frame_face(gray: np.ndarray, face: DetectedFace, framing: Framing | None = None) -> np.ndarray:
    """Cuts ``face`` out of a gray photo as FER frames its faces.

    Args:
        gray: the photo, (H, W) uint8.
        face: a detected face in the photo's pixels.
        framing: the margin and levelling rule.

    Returns:
        A (48, 48, 1) uint8 crop (borders replicated where the square leaves the photo).
    """
    import cv2

    framing = framing or Framing()
    x, y, w, h = face.box
    center = face.center if face.center is not None else (x + w / 2, y + h / 2)
    side = max(2.0, face.side * (1 + 2 * framing.margin))
    angle = face.roll if framing.levels(face.roll) else 0.0
    out = int(np.ceil(side))
    patch = _turned_square(gray, center, angle, 1.0, out)
    return cv2.resize(patch, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)[..., None]
