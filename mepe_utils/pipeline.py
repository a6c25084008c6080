"""MEPE end to end: a sentence and a photo in, the persona, its controls and a reply out.

The one path the demo (``mepe demo``), the notebooks and the web app call::

    text, photo -> text and face readers -> fusion (modality weights) -> persona traits
                -> policy (controls) -> safety layer: crisis language? -> the fixed crisis message
                                         else reply generator (T5 or retrieval) -> reply screen
                -> reply, with its measured controls and the safety outcome

Example:
    >>> pipeline = MepePipeline.load(backend="t5")
    >>> response = pipeline.respond("I feel overwhelmed and frustrated with how things are going.")
    >>> print(format_response(response))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mepe_utils.errors import MepeError
from mepe_utils.generation.decoding import check_seed
from mepe_utils.generation.reply import Reply
from mepe_utils.persona.engine import PersonaEngine, PersonaReading, persona_record
from mepe_utils.persona.schema import display_name
from mepe_utils.persona.traits import SHIPPED_PERSONA_MODEL
from mepe_utils.predictors.face import SHIPPED_FACE_MODEL
from mepe_utils.predictors.fusion import SHIPPED_FUSION_MODEL
from mepe_utils.predictors.report import format_fused_reading
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL
from mepe_utils.safety.crisis import CrisisCheck
from mepe_utils.safety.guard import ReplyGuard, SafetyOutcome

BACKENDS = ("t5", "retrieval")
"""The reply generators: the T5 trained on ESConv, and retrieval of ESConv's human replies."""


@dataclass
class MepeResponse:
    """What MEPE read and how it answered.

    Attributes:
        reading: the fused reading, the persona and the controls.
        reply: the reply, or None when there were no words to answer (a photo alone).
        safety: what the safety layer did (crisis check, reply screen).
    """

    reading: PersonaReading
    reply: Reply | None
    safety: SafetyOutcome


class MepePipeline:
    """The persona engine and a reply generator, loaded and checked together.

    Args:
        engine: the readers, the fusion, the persona reader and the policy.
        generator: a :class:`~mepe_utils.generation.reply.ReplyGenerator`.
        fallback: the retrieval generator whose human replies stand in for screened-out ones.
    """

    def __init__(self, engine: PersonaEngine, generator, fallback):
        self.engine = engine
        self.generator = generator
        self.guard = ReplyGuard(generator, fallback)

    @classmethod
    def load(
        cls,
        backend: str = "t5",
        generator_model: str | Path | None = None,
        fusion_model: str | Path = SHIPPED_FUSION_MODEL,
        text_model: str | Path = SHIPPED_TEXT_MODEL,
        face_model: str | Path = SHIPPED_FACE_MODEL,
        persona_model: str | Path = SHIPPED_PERSONA_MODEL,
        decoding=None,
    ) -> MepePipeline:
        """Loads every model (each checked against the others).

        Args:
            backend: ``t5`` or ``retrieval`` (:data:`BACKENDS`).
            generator_model: the saved generator (the shipped one when None); retrieval reads its index.
            fusion_model, text_model, face_model, persona_model: the persona engine's models.
            decoding: the T5's :class:`~mepe_utils.generation.decoding.DecodingConfig`
                (:data:`~mepe_utils.generation.decoding.REPLY_DECODING` when None).

        Raises:
            MepeError: an unknown backend.
            ModelFileError: a model fails its checks or does not fit the others.
        """
        from mepe_utils.generation.retrieval import RetrievalGenerator
        from mepe_utils.generation.t5 import SHIPPED_GENERATOR_MODEL, T5Generator

        if backend not in BACKENDS:
            raise MepeError(f"unknown generator {backend!r}; choose one of {', '.join(BACKENDS)}")
        engine = PersonaEngine.load(fusion_model, text_model, face_model, persona_model)
        text_reader = engine.fusion.text_reader
        t5 = T5Generator.load(generator_model or SHIPPED_GENERATOR_MODEL, text_reader, engine.reader.forward, decoding)
        retrieval = RetrievalGenerator(t5.index, t5.meter, text_reader)
        return cls(engine, t5 if backend == "t5" else retrieval, retrieval)

    def respond(self, text: str | None = None, photo=None, face: int = 0, seed: int = 0) -> MepeResponse:
        """Reads ``text`` and ``photo`` and answers ``text`` under the controls the persona calls for,
        through the safety layer (:mod:`mepe_utils.safety.guard`).

        Args:
            text: the person's words (None: no reply, the reading alone).
            photo: a path, array or PIL image, or None; a photo without a face is a missing signal.
            face: which face of the photo to read, largest first.
            seed: the reply's sampling seed, a whole number from 0 to
                :data:`~mepe_utils.generation.decoding.MAX_SEED` (greedy decoding ignores it); a
                screened-out reply is written again with ``seed + 1``.

        Raises:
            MepeError: nothing to read, no face number ``face``, or a seed out of range.
            TextInputError, ImageError: a bad text or photo.
        """
        seed = check_seed(seed)
        reading = self.engine.analyze(text, photo, face=face)
        controls = {name: decision.value for name, decision in reading.controls.decisions.items()}
        if text is None:
            return MepeResponse(reading, None, SafetyOutcome(CrisisCheck(False), "no_reply"))
        reply, safety = self.guard.respond(text, controls, seed=seed)
        return MepeResponse(reading, reply, safety)

    def close(self) -> None:
        self.engine.close()


CONTROLS_OVERRIDDEN = "the words hold crisis language, so the fixed crisis message answers, whatever the persona"
"""Why a response's controls were not used (shown beside them when the crisis check fired)."""


def format_response(response: MepeResponse) -> str:
    """What was read (the fused reading), then the mission's layout: Detected Persona, Derived Control
    Signals (with the modality weights) and the Generated Response (with the controls measured on it)."""
    reading = response.reading
    persona, decisions = reading.persona, reading.controls.decisions
    weights = " | ".join(f"{name} {weight:.2f}" for name, weight in persona.modality_weights.items())
    missing = f" (missing: {', '.join(persona.missing)})" if persona.missing else ""
    lines = [
        format_fused_reading(reading.fused),
        "",
        "Detected Persona:",
        "  " + " | ".join(f"{display_name(name)} {trait.level}" for name, trait in persona.traits.items()),
        "Derived Control Signals:",
        "  " + " | ".join(f"{display_name(name)} {decision.value}" for name, decision in decisions.items()),
        f"  modality weights: {weights}{missing}",
    ]
    if response.safety.crisis.crisis:
        lines.append(f"  (not used: {CONTROLS_OVERRIDDEN})")
    lines.append("Generated Response:")
    reply = response.reply
    if reply is None:
        lines.append("  (no words to answer: a reply needs the person's text)")
    else:
        lines.append(f'  "{reply.text}"')
        if reply.controls_measured:
            measured = " | ".join(f"{display_name(name)} {value}" for name, value in reply.controls_measured.items())
            lines.append(f"  ({reply.backend}; measured on the reply: {measured})")
        else:
            lines.append(f"  ({reply.backend}: a fixed text, not generated)")
    lines.append(f"Safety: {response.safety.describe()}")
    return "\n".join(lines)


def response_record(response: MepeResponse) -> dict:
    """A JSON-ready dict: the reading (``persona``, ``controls``, ...), ``modality_weights``, ``reply`` and
    ``safety`` (``crisis``, ``matched``, ``reply_screen``, ``rejected``)."""
    record = persona_record(response.reading)
    record["modality_weights"] = response.reading.persona.modality_weights
    record["reply"] = response.reply.to_dict() if response.reply is not None else None
    record["safety"] = response.safety.record()
    return record
