"""``mepe demo``: MEPE end to end on what is built so far.

Today: a sentence (default: the mission's demo sentence) and a photo (default:
scikit-image's public-domain astronaut portrait) are read by the shipped text
and face models and fused by the shipped gated multimodal unit into one emotion
reading with its modality weights. Phase 5 adds the persona and the generated
reply.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mepe_utils.predictors.face import SHIPPED_FACE_MODEL
from mepe_utils.predictors.fusion import SHIPPED_FUSION_MODEL, FusedEmotion, FusionModel
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL

DEFAULT_TEXT = "I feel overwhelmed and frustrated with how things are going."
"""The sentence the demo reads when none is given: the mission's own demo sentence."""


def default_photo() -> np.ndarray:
    """scikit-image's astronaut portrait (public domain, one frontal face)."""
    import skimage.data

    return skimage.data.astronaut()


def run_demo(
    text: str | None = None,
    photo=None,
    fusion_model: str | Path | None = None,
    text_model: str | Path | None = None,
    face_model: str | Path | None = None,
) -> FusedEmotion:
    """Reads ``text`` and ``photo`` (the defaults when None) and fuses the two readings.

    Args:
        text: the person's words (:data:`DEFAULT_TEXT` when None).
        photo: a path, array or PIL image (:func:`default_photo` when None).
        fusion_model, text_model, face_model: saved MEPE models (the shipped ones when None);
            the fusion model refuses encoders it was not trained on.

    Returns:
        The fused reading, holding the text and face readings.
    """
    analyzer = FusionModel.load(
        fusion_model or SHIPPED_FUSION_MODEL, text_model or SHIPPED_TEXT_MODEL, face_model or SHIPPED_FACE_MODEL
    )
    try:
        return analyzer.analyze(DEFAULT_TEXT if text is None else text, default_photo() if photo is None else photo)
    finally:
        analyzer.close()
