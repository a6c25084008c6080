"""``mepe demo``: MEPE end to end on what is built so far.

Today: a sentence (default: the mission's demo sentence) and a photo (default:
scikit-image's public-domain astronaut portrait) are read by the shipped text
and face models, fused by the shipped gated multimodal unit into one emotion
reading with its modality weights, read as a persona (five traits, each
levelled against ESConv's help seekers) and turned into controls by the rule
table. The generated reply comes with phase 5C.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mepe_utils.persona.engine import PersonaEngine, PersonaReading
from mepe_utils.persona.traits import SHIPPED_PERSONA_MODEL
from mepe_utils.predictors.face import SHIPPED_FACE_MODEL
from mepe_utils.predictors.fusion import SHIPPED_FUSION_MODEL
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
    persona_model: str | Path | None = None,
) -> PersonaReading:
    """Reads ``text`` and ``photo`` (the defaults when None): fused emotions, persona and controls.

    Args:
        text: the person's words (:data:`DEFAULT_TEXT` when None).
        photo: a path, array or PIL image (:func:`default_photo` when None).
        fusion_model, text_model, face_model, persona_model: saved MEPE models (the shipped ones
            when None); the fusion and persona models refuse encoders they were not trained on.

    Returns:
        The fused reading (holding the text and face readings), the persona and the controls.
    """
    engine = PersonaEngine.load(
        fusion_model or SHIPPED_FUSION_MODEL,
        text_model or SHIPPED_TEXT_MODEL,
        face_model or SHIPPED_FACE_MODEL,
        persona_model or SHIPPED_PERSONA_MODEL,
    )
    try:
        return engine.analyze(DEFAULT_TEXT if text is None else text, default_photo() if photo is None else photo)
    finally:
        engine.close()
