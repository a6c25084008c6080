"""The persona and the controls: MEPE's phase 5 vocabulary, versioned and checked.

A :class:`Persona` holds five traits, each a score in [0, 1] and a level, with
the fused emotion distribution it was read from, the weight each signal got and
the signals that were missing. :class:`Controls` holds the four control
signals a reply follows, each with the policy rules that decided it.

=========================  ==================================================================
trait                      what it measures
=========================  ==================================================================
``stress``                 strain and pressure: unpleasant, aroused, afraid or angry
``sadness``                sadness in the words and, when present, the face
``emotional_intensity``    how strongly the person feels anything (arousal, non-neutral mass)
``confidence``             how much in control and self-assured the person sounds (dominance)
``formality_preference``   how formal the person's own writing is
=========================  ==================================================================

Levels are ``Low``, ``Medium`` and ``High``. Control values:

- ``empathy_level``: ``Low``, ``Medium``, ``High``
- ``response_style``: ``Calm`` (slow, steady, reassuring), ``Neutral``, ``Upbeat`` (warm and energetic)
- ``assertiveness``: ``Low`` (tentative, asks more than tells), ``Medium``, ``High`` (clear, direct suggestions)
- ``formality``: ``Casual``, ``Neutral``, ``Formal``

Example:
    >>> persona = Persona.from_dict(record)   # checked: names, ranges, levels, version
    >>> persona.level("stress")
    'Medium'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from mepe_utils.errors import MepeError

SCHEMA_VERSION = 1
LEVELS = ("Low", "Medium", "High")
TRAITS = ("stress", "sadness", "emotional_intensity", "confidence", "formality_preference")
CONTROLS = {
    "empathy_level": ("Low", "Medium", "High"),
    "response_style": ("Calm", "Neutral", "Upbeat"),
    "assertiveness": ("Low", "Medium", "High"),
    "formality": ("Casual", "Neutral", "Formal"),
}
"""Each control and its values, in increasing order where an order exists."""
MODALITIES = ("text", "face")


def display_name(name: str) -> str:
    """A trait or control name as people read it: ``"emotional_intensity"`` -> ``"Emotional Intensity"``."""
    return name.replace("_", " ").title()


class SchemaError(MepeError, ValueError):
    """A persona or controls record that does not fit the schema."""


@dataclass
class Trait:
    """One trait: a score in [0, 1] and its level.

    Attributes:
        score: the trait's strength, 0 (none) to 1.
        level: ``Low``, ``Medium`` or ``High`` (from thresholds on a reference population).
    """

    score: float
    level: str


@dataclass
class Persona:
    """What MEPE read about a person.

    Attributes:
        traits: trait name -> :class:`Trait`, for every name of :data:`TRAITS`.
        emotions: the fused 7-class emotion distribution (FER labels).
        modality_weights: ``{"text": w, "face": 1 - w}``, the fusion's gate.
        missing: the signals that were absent (``"text"``, ``"face"``).
        schema_version: :data:`SCHEMA_VERSION` of the record.
    """

    traits: dict[str, Trait]
    emotions: dict[str, float]
    modality_weights: dict[str, float]
    missing: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION

    def level(self, trait: str) -> str:
        return self.traits[trait].level

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict) -> Persona:
        """Reads and checks a record written by :meth:`to_dict`.

        Raises:
            SchemaError: another schema version, a missing or unknown trait, a score outside
                [0, 1], an unknown level or modality.
        """
        traits = _checked_names(record, "traits", TRAITS, "persona")
        checked = {}
        for name in TRAITS:
            score, level = float(traits[name]["score"]), traits[name]["level"]
            if not 0.0 <= score <= 1.0:
                raise SchemaError(f"trait {name}: score {score} outside [0, 1]")
            if level not in LEVELS:
                raise SchemaError(f"trait {name}: level {level!r} is not one of {LEVELS}")
            checked[name] = Trait(score, level)
        missing = list(record.get("missing", []))
        if not set(missing) <= set(MODALITIES):
            raise SchemaError(f"missing modalities {missing}; expected a subset of {MODALITIES}")
        return cls(checked, dict(record["emotions"]), dict(record["modality_weights"]), missing)


@dataclass
class Decision:
    """One control's value and why.

    Attributes:
        value: one of the control's values in :data:`CONTROLS`.
        rules: the names of the policy rules that set it (the default row when none matched).
    """

    value: str
    rules: list[str]


@dataclass
class Controls:
    """The control signals for a reply, each with the rules that decided it.

    Attributes:
        decisions: control name -> :class:`Decision`, for every name of :data:`CONTROLS`.
        schema_version: :data:`SCHEMA_VERSION` of the record.
    """

    decisions: dict[str, Decision]
    schema_version: int = SCHEMA_VERSION

    def value(self, control: str) -> str:
        return self.decisions[control].value

    def explain(self) -> str:
        """One line per control: its value and the rules that set it."""
        return "\n".join(f"{name:15s} {d.value:8s} <- {', '.join(d.rules)}" for name, d in self.decisions.items())

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, record: dict) -> Controls:
        """Reads and checks a record written by :meth:`to_dict`.

        Raises:
            SchemaError: another schema version, a missing or unknown control, a value outside its set.
        """
        decisions = _checked_names(record, "decisions", CONTROLS, "controls")
        checked = {}
        for name, values in CONTROLS.items():
            value = decisions[name]["value"]
            if value not in values:
                raise SchemaError(f"control {name}: value {value!r} is not one of {values}")
            checked[name] = Decision(value, list(decisions[name]["rules"]))
        return cls(checked)


def _checked_names(record: dict, key: str, names, what: str) -> dict:
    """``record[key]`` after checking the record's schema version and that it holds exactly ``names``."""
    if record.get("schema_version") != SCHEMA_VERSION:
        raise SchemaError(f"{what} schema version {record.get('schema_version')!r}; expected {SCHEMA_VERSION}")
    entries = record.get(key, {})
    if set(entries) != set(names):
        raise SchemaError(f"{what} {key} {sorted(entries)}; expected {sorted(names)}")
    return entries
