"""``mepe demo``: MEPE end to end on what is built so far.

Today both signals, each read by its shipped model: a sentence -> the
fine-tuned MiniLM text model -> GoEmotions labels and the Ekman view; a photo (default:
scikit-image's public-domain astronaut portrait) -> face detection -> 48x48
crop -> the face CNN -> emotions. Later phases add the fusion, the persona and
the generated reply.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mepe_utils.predictors.face import SHIPPED_FACE_MODEL, FaceEmotion, FaceEmotionModel
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL, TextEmotion, TextEmotionModel

DEFAULT_TEXT = "I feel overwhelmed and frustrated with how things are going."
"""The sentence the demo reads when none is given: the mission's own demo sentence."""


def default_photo() -> np.ndarray:
    """scikit-image's astronaut portrait (public domain, one frontal face)."""
    import skimage.data

    return skimage.data.astronaut()


def read_text(text: str | None = None, model_dir: str | Path | None = None) -> TextEmotion:
    """Reads ``text`` (:data:`DEFAULT_TEXT` when None) with a saved text model (the shipped one when None)."""
    return TextEmotionModel.load(model_dir or SHIPPED_TEXT_MODEL).predict(DEFAULT_TEXT if text is None else text)[0]


def read_face(photo=None, model_dir: str | Path | None = None) -> FaceEmotion:
    """Reads the largest face in ``photo`` (the astronaut portrait when None) with a saved face model
    (the shipped one when None)."""
    model = FaceEmotionModel.load(model_dir or SHIPPED_FACE_MODEL)
    return model.predict(default_photo() if photo is None else photo)[0]


def format_reading(reading: FaceEmotion, source: str) -> str:
    """A few readable lines: the face box and the three most probable emotions."""
    if not reading.found:
        return f"{source}: no face found"
    lines = [f"{source}: face at (x, y, w, h) = {reading.box} ({len(reading.boxes)} face(s) seen)"]
    ranked = sorted(reading.probabilities.items(), key=lambda item: -item[1])
    for name, probability in ranked[:3]:
        lines.append(f"  {name:9s} {probability:6.1%}  {'#' * round(probability * 30)}")
    return "\n".join(lines)
