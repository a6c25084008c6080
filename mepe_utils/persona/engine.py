"""A sentence and a photo in, a persona and its controls out: phases 4, 5A and 5B together.

:class:`PersonaEngine` reads and fuses the two signals (:class:`~mepe_utils.predictors.fusion.FusionModel`),
reads the persona from the readings (:class:`~mepe_utils.persona.traits.PersonaReader`) and lets the
rule table decide the controls (:class:`~mepe_utils.persona.policy.Policy`). ``mepe analyze`` and
``mepe demo`` print what it returns.

Example:
    >>> engine = PersonaEngine.load()
    >>> reading = engine.analyze("I feel overwhelmed and frustrated with how things are going.")
    >>> print(format_persona_reading(reading))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mepe_utils.persona.policy import POLICY_FILE, Policy
from mepe_utils.persona.schema import Controls, Persona, display_name
from mepe_utils.persona.traits import SHIPPED_PERSONA_MODEL, PersonaReader
from mepe_utils.predictors.face import SHIPPED_FACE_MODEL
from mepe_utils.predictors.fusion import SHIPPED_FUSION_MODEL, FusedEmotion, FusionModel
from mepe_utils.predictors.report import format_fused_reading, fused_record
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL


@dataclass
class PersonaReading:
    """Everything MEPE read about one person.

    Attributes:
        fused: the fused emotion reading, with the text and face readings.
        persona: the traits, scored and levelled.
        controls: the control signals, each with the rules that set it.
    """

    fused: FusedEmotion
    persona: Persona
    controls: Controls


class PersonaEngine:
    """The fusion model, the persona reader and the policy, loaded and checked together.

    Args:
        fusion: the fusion model with its two readers.
        reader: the persona reader (trained on ``fusion``'s text model).
        policy: the rule table.
    """

    def __init__(self, fusion: FusionModel, reader: PersonaReader, policy: Policy):
        self.fusion = fusion
        self.reader = reader
        self.policy = policy

    @classmethod
    def load(
        cls,
        fusion_model: str | Path = SHIPPED_FUSION_MODEL,
        text_model: str | Path = SHIPPED_TEXT_MODEL,
        face_model: str | Path = SHIPPED_FACE_MODEL,
        persona_model: str | Path = SHIPPED_PERSONA_MODEL,
        policy_file: str | Path = POLICY_FILE,
    ) -> PersonaEngine:
        """Loads every model (each checked; the persona model refuses a text model it was not trained on).

        Raises:
            ModelFileError: a model fails its checks or does not fit the others.
            SchemaError: the rule table does not fit the schema.
        """
        fusion = FusionModel.load(fusion_model, text_model, face_model)
        reader = PersonaReader.load(persona_model, text_model=fusion.text_reader.manifest)
        return cls(fusion, reader, Policy.load(policy_file))

    def analyze(self, text: str | None = None, photo=None, face: int = 0) -> PersonaReading:
        """Reads a sentence, a photo or both, and returns the fused reading, the persona and the controls.

        Args:
            text: the person's words (None when there are none).
            photo: a path, array or PIL image (None when there is none).
            face: which face of the photo to read, largest first.

        Raises:
            MepeError: nothing to read, or no face number ``face``.
            TextInputError, ImageError: a bad text or photo.
        """
        fused = self.fusion.analyze(text, photo, face=face)
        persona = self.reader.read(fused.text, fused)
        return PersonaReading(fused, persona, self.policy.decide(persona))

    def close(self) -> None:
        """Stops the fusion model's photo-reading thread."""
        self.fusion.close()


def format_persona_reading(
    reading: PersonaReading,
    reasons: dict[str, str] | None = None,
    thresholds: Mapping[str, tuple[float, float]] | None = None,
) -> str:
    """The fused reading, then the persona and the controls in the mission's two-line form.

    Args:
        reading: what :meth:`PersonaEngine.analyze` returned.
        reasons: rule name -> reason (:meth:`Policy.reasons`); when given, the explanation follows:
            each trait's score and, per control, the rules that set it and why.
        thresholds: trait -> its two level thresholds (:attr:`PersonaReader.thresholds`), shown beside
            each score in the explanation (a score's level depends on where they fall, not on 0.5).
    """
    traits = reading.persona.traits
    decisions = reading.controls.decisions
    lines = [
        format_fused_reading(reading.fused),
        "Detected Persona:  " + " | ".join(f"{display_name(name)} {trait.level}" for name, trait in traits.items()),
        "Derived Controls:  " + " | ".join(f"{display_name(name)} {d.value}" for name, d in decisions.items()),
    ]
    if reasons is not None:
        lines.append("trait scores (0-1; levels from terciles over ESConv seekers):")
        for name, trait in traits.items():
            cuts = ""
            if thresholds is not None:
                low, high = thresholds[name]
                cuts = f"  (Low < {low:.2f} <= Medium < {high:.2f} <= High)"
            lines.append(f"  {name:21s} {trait.score:.2f}  {trait.level:6s}{cuts}".rstrip())
        lines.append("why each control:")
        for line, decision in zip(reading.controls.explain().splitlines(), decisions.values()):
            lines.append(f"  {line}")
            lines += [f"{'':27s}{rule}: {reasons[rule]}" for rule in decision.rules]
    return "\n".join(lines)


def persona_record(reading: PersonaReading, embedding: bool = False) -> dict:
    """A JSON-ready dict: the fused reading, ``persona`` (each trait's score and level, the emotions, the
    modality weights, what was missing) and ``controls`` (each control's value and the rules that fired)."""
    return {
        **fused_record(reading.fused, embedding),
        "persona": reading.persona.to_dict(),
        "controls": reading.controls.to_dict(),
    }
