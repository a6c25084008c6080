"""``mepe demo``: MEPE end to end on what is built so far.

Today: a photo (default: scikit-image's public-domain astronaut portrait) ->
face detection -> 48x48 crop -> the shipped face CNN -> emotions. Later phases
add the text, the fusion, the persona and the generated reply.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mepe_utils.predictors.face import SHIPPED_FACE_MODEL, FaceEmotion, FaceEmotionModel


def default_photo() -> np.ndarray:
    """scikit-image's astronaut portrait (public domain, one frontal face)."""
    import skimage.data

    return skimage.data.astronaut()


def read_face(photo=None, model_dir: str | Path = SHIPPED_FACE_MODEL) -> FaceEmotion:
    """Reads the largest face in ``photo`` (the astronaut portrait when None) with a saved face model."""
    return FaceEmotionModel.load(model_dir).predict(default_photo() if photo is None else photo)[0]


def format_reading(reading: FaceEmotion, source: str) -> str:
    """A few readable lines: the face box and the three most probable emotions."""
    if not reading.found:
        return f"{source}: no face found"
    lines = [f"{source}: face at (x, y, w, h) = {reading.box} ({len(reading.boxes)} face(s) seen)"]
    ranked = sorted(reading.probabilities.items(), key=lambda item: -item[1])
    for name, probability in ranked[:3]:
        lines.append(f"  {name:9s} {probability:6.1%}  {'#' * round(probability * 30)}")
    return "\n".join(lines)
