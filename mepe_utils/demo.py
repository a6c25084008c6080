"""``mepe demo``: MEPE end to end, from a sentence and a photo to a reply that follows the controls.

A sentence (default: the mission's demo sentence) and a photo (default:
scikit-image's public-domain astronaut portrait) are read by the shipped text
and face models, fused by the shipped gated multimodal unit into one emotion
reading with its modality weights, read as a persona (five traits, each
levelled against ESConv's help seekers), turned into controls by the rule
table, and answered by the reply generator under those controls
(:class:`~mepe_utils.pipeline.MepePipeline`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mepe_utils.persona.traits import SHIPPED_PERSONA_MODEL
from mepe_utils.pipeline import MepePipeline, MepeResponse
from mepe_utils.predictors.face import SHIPPED_FACE_MODEL
from mepe_utils.predictors.fusion import SHIPPED_FUSION_MODEL
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL

DEFAULT_TEXT = "I feel overwhelmed and frustrated with how things are going."
"""The sentence the demo reads when none is given: the mission's own demo sentence."""
NO_PHOTO = object()
"""Pass as ``photo`` to read the words alone (None means the default photo)."""


def default_photo() -> np.ndarray:
    """scikit-image's astronaut portrait (public domain, one frontal face)."""
    import skimage.data

    return skimage.data.astronaut()


def run_demo(
    text: str | None = None,
    photo=None,
    backend: str = "t5",
    generator_model: str | Path | None = None,
    fusion_model: str | Path | None = None,
    text_model: str | Path | None = None,
    face_model: str | Path | None = None,
    persona_model: str | Path | None = None,
    decoding=None,
    seed: int = 0,
) -> MepeResponse:
    """Reads ``text`` and ``photo`` (the defaults when None) and answers: persona, controls and reply.

    Args:
        text: the person's words (:data:`DEFAULT_TEXT` when None).
        photo: a path, array or PIL image (:func:`default_photo` when None, no photo for :data:`NO_PHOTO`).
        backend: the reply generator, ``t5`` or ``retrieval``.
        generator_model, fusion_model, text_model, face_model, persona_model: saved MEPE models (the
            shipped ones when None); each refuses models it was not trained with.
        decoding: the T5's decoding (:data:`~mepe_utils.generation.decoding.REPLY_DECODING` when None).
        seed: the reply's sampling seed.

    Returns:
        The reading (fused emotions, persona, controls) and the reply.
    """
    pipeline = MepePipeline.load(
        backend,
        generator_model,
        fusion_model or SHIPPED_FUSION_MODEL,
        text_model or SHIPPED_TEXT_MODEL,
        face_model or SHIPPED_FACE_MODEL,
        persona_model or SHIPPED_PERSONA_MODEL,
        decoding,
    )
    try:
        if photo is None:
            photo = default_photo()
        elif photo is NO_PHOTO:
            photo = None
        return pipeline.respond(DEFAULT_TEXT if text is None else text, photo, seed=seed)
    finally:
        pipeline.close()
