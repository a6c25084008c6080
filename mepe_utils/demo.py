"""``mepe demo``: MEPE end to end on what is built so far.

Today: a photo (default: scikit-image's public-domain astronaut portrait) ->
face detection -> 48x48 crop -> the shipped face CNN -> emotions. Later phases
add the text, the fusion, the persona and the generated reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.labels import FER_LABELS
from mepe_utils.runtime import SHIPPED_MODELS_DIR
from mepe_utils.vision.faces import FaceDetector


@dataclass
class FaceReading:
    """What the demo read from a photo."""

    found: bool
    box: tuple[int, int, int, int] | None
    faces_seen: int
    probabilities: dict[str, float]


def default_photo() -> np.ndarray:
    """scikit-image's astronaut portrait (public domain, one frontal face)."""
    import skimage.data

    return skimage.data.astronaut()


def read_face(photo=None, model_dir: str | Path = SHIPPED_MODELS_DIR / "face") -> FaceReading:
    """Detects the largest face in ``photo`` and returns its emotion probabilities.

    Args:
        photo: path, array or PIL image; the astronaut portrait when None.
        model_dir: a MEPE saved face model.
    """
    model, _ = artifacts.load_model(model_dir, kind="face-emotion", labels=FER_LABELS)
    detection = FaceDetector()(default_photo() if photo is None else photo)
    if not detection.found:
        return FaceReading(False, None, 0, {})
    scores = model.predict_on_batch(detection.face[None].astype(np.float32))[0]
    ranked = sorted(zip(FER_LABELS, scores.tolist()), key=lambda item: -item[1])
    return FaceReading(True, detection.box, len(detection.boxes), dict(ranked))


def format_reading(reading: FaceReading, source: str) -> str:
    if not reading.found:
        return f"{source}: no face found"
    lines = [f"{source}: face at (x, y, w, h) = {reading.box} ({reading.faces_seen} face(s) seen)"]
    for name, probability in list(reading.probabilities.items())[:3]:
        lines.append(f"  {name:9s} {probability:6.1%}  {'#' * round(probability * 30)}")
    return "\n".join(lines)
