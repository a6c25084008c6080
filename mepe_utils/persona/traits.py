"""From the persona model's outputs and the emotion readings to the five persona traits, scored and levelled.

Every trait score is in [0, 1] and is built from components that are
themselves in [0, 1]:

=================  ==============================================================================
component          rule
=================  ==============================================================================
``pleasantness``   EmoBank valence mapped linearly from its 1..5 scale: ``(v - 1) / 4``
``activation``     EmoBank arousal, ``(a - 1) / 4``
``control``        EmoBank dominance, ``(d - 1) / 4``
``formal``         formality mapped from its -3..3 scale: ``(f + 3) / 6``
emotions ``e``     the 7-class distribution of the signals present, weighted by the fusion gate:
                   ``e = g * text + (1 - g) * face``, where ``text`` is the text model's Ekman view
                   normalised to sum to 1, ``face`` the face model's probabilities and ``g`` the
                   fusion's gate toward the text (1 without a face, 0 without words)
=================  ==============================================================================

The traits, each with its principle:

``stress`` = mean((1 - pleasantness) * activation, e[fear] + e[angry])
    Stress is unpleasant *and* activated affect (the "tense / stressed" quadrant
    of Russell's circumplex: low valence with high arousal); the product is the
    fuzzy AND of the two, so excitement (pleasant, activated) and gloom
    (unpleasant, calm) do not count as stress. Its discrete emotions are fear
    and nervousness (Ekman fear) and anger and annoyance (Ekman anger). The two
    parts count equally; nothing is fitted to stress labels (Dreaddit only
    validates the result).
``sadness`` = mean(e[sad], 1 - pleasantness)
    Sadness is the sad share of the emotions read from words and face, combined
    with how unpleasant the words are (sadness is a low-valence emotion; the
    valence makes the trait graded where the classifier is all-or-nothing).
``emotional_intensity`` = mean(activation, 1 - e[neutral])
    How strongly the person feels anything: the arousal of the words, and how
    much of the reading (the face's included) is any emotion rather than neutral.
``confidence`` = control
    How much in control and self-assured the person sounds: EmoBank dominance.
``formality_preference`` = formal
    How formal the person's own writing is.

Each of these is monotone in its components (lower valence never lowers stress
or sadness; more arousal never lowers stress or intensity; more fear or anger
never lowers stress, more sadness never lowers sadness), which the tests check.

Without a face the emotions are the text's alone; without words the text's
four scores take their median over the reference population (so confidence and
formality preference sit in the middle), and the persona says which signal was
missing. With a photo of several faces, the face the fusion read counts.

**Levels**: ``Low`` below the first tercile of the trait over the reference
population, ``High`` from the second tercile up, ``Medium`` between. The
reference population is ESConv seekers' utterances (people asking for emotional
support: whom MEPE serves), read as text only; the terciles are computed at
training time (:mod:`mepe_utils.training.persona`) and stored in the persona
model's manifest (``extra.levels``).

Example:
    >>> reader = PersonaReader.load()
    >>> persona = reader.read(text_model.predict("I can't stop crying since she left.")[0])
    >>> persona.level("sadness")
    'High'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.errors import MepeError, ModelFileError
from mepe_utils.labels import FER_LABELS, GOEMOTIONS_LABELS
from mepe_utils.models.persona import PERSONA_OUTPUTS, SCALES, PersonaForward, reading_features
from mepe_utils.persona.schema import LEVELS, TRAITS, Persona, Trait
from mepe_utils.persona.writing_style import writing_style_features
from mepe_utils.runtime import SHIPPED_MODELS_DIR

SHIPPED_PERSONA_MODEL = SHIPPED_MODELS_DIR / "persona"
TRAIT_RULES_VERSION = 1
"""The version of the formulas above; a persona model's terciles were computed with one version and
:class:`PersonaReader` refuses a model of another."""
PERSONA_KIND = artifacts.PERSONA_KIND
_FER = {name: index for index, name in enumerate(FER_LABELS)}


def unit_scale(values, output: str) -> np.ndarray:
    """A persona model output mapped linearly from its annotation scale (:data:`SCALES`) onto [0, 1], clipped."""
    low, high = SCALES[output]
    return np.clip((np.asarray(values, np.float64) - low) / (high - low), 0.0, 1.0)


def normalised(distribution: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to 1 (the text model's Ekman view is 7 independent sigmoids)."""
    distribution = np.asarray(distribution, np.float64)
    return distribution / np.maximum(distribution.sum(axis=-1, keepdims=True), 1e-9)


@dataclass
class TraitSignals:
    """What the traits are computed from, for N readings.

    Attributes:
        outputs: persona model output name -> (N,) value on its annotation scale (:data:`SCALES`).
        text_emotions: (N, 7) the text model's Ekman view (FER order), or None without words.
        face_emotions: (N, 7) the face model's probabilities (FER order), or None without a face.
        text_weight: (N,) the fusion gate toward the text; None means 1 with words and 0 without.
    """

    outputs: Mapping[str, np.ndarray]
    text_emotions: np.ndarray | None = None
    face_emotions: np.ndarray | None = None
    text_weight: np.ndarray | None = None

    def emotions(self) -> np.ndarray:
        """(N, 7) the gate-weighted emotion distribution of the signals present."""
        if self.text_emotions is None and self.face_emotions is None:
            raise MepeError("no emotion reading: give the text's, the face's or both")
        if self.face_emotions is None:
            return normalised(self.text_emotions)
        if self.text_emotions is None:
            return normalised(self.face_emotions)
        weight = np.ones(len(self.text_emotions)) if self.text_weight is None else np.asarray(self.text_weight)
        weight = np.clip(weight, 0.0, 1.0)[:, None]
        return weight * normalised(self.text_emotions) + (1.0 - weight) * normalised(self.face_emotions)


def trait_components(signals: TraitSignals) -> dict[str, np.ndarray]:
    """The [0, 1] components of the module docstring's table, each (N,)."""
    emotions = signals.emotions()
    return {
        "pleasantness": unit_scale(signals.outputs["valence"], "valence"),
        "activation": unit_scale(signals.outputs["arousal"], "arousal"),
        "control": unit_scale(signals.outputs["dominance"], "dominance"),
        "formal": unit_scale(signals.outputs["formality"], "formality"),
        "distress": np.clip(emotions[:, _FER["fear"]] + emotions[:, _FER["angry"]], 0.0, 1.0),
        "sad": emotions[:, _FER["sad"]],
        "emotional": 1.0 - emotions[:, _FER["neutral"]],
    }


def trait_scores(signals: TraitSignals) -> dict[str, np.ndarray]:
    """The five traits' scores in [0, 1] (the module docstring's formulas), each (N,), in :data:`TRAITS` order."""
    c = trait_components(signals)
    unpleasantness = 1.0 - c["pleasantness"]
    scores = {
        "stress": (unpleasantness * c["activation"] + c["distress"]) / 2.0,
        "sadness": (c["sad"] + unpleasantness) / 2.0,
        "emotional_intensity": (c["activation"] + c["emotional"]) / 2.0,
        "confidence": c["control"],
        "formality_preference": c["formal"],
    }
    return {name: np.clip(scores[name], 0.0, 1.0) for name in TRAITS}


def tercile_thresholds(scores: np.ndarray) -> tuple[float, float]:
    """The first and second terciles of a trait's scores over a reference population."""
    low, high = np.quantile(np.asarray(scores, np.float64), [1 / 3, 2 / 3])
    return float(low), float(high)


def level_of(score: float, thresholds: tuple[float, float]) -> str:
    """``Low`` below the first threshold, ``High`` at or above the second, ``Medium`` between."""
    low, high = thresholds
    return LEVELS[0] if score < low else (LEVELS[2] if score >= high else LEVELS[1])


def check_levels(levels: Mapping, where: str) -> tuple[dict[str, tuple[float, float]], dict[str, float]]:
    """The per-trait thresholds and per-output reference medians of a persona manifest's ``extra.levels``.

    Raises:
        ModelFileError: a trait or output is missing, or a trait's thresholds are not two increasing numbers.
    """
    try:
        thresholds = {name: tuple(float(v) for v in levels["thresholds"][name]) for name in TRAITS}
        medians = {name: float(levels["reference_medians"][name]) for name in PERSONA_OUTPUTS}
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(f"{where}: level thresholds incomplete ({type(error).__name__}: {error})") from None
    for name, pair in thresholds.items():
        if len(pair) != 2 or not pair[0] <= pair[1]:
            raise ModelFileError(f"{where}: thresholds of {name} must be two increasing numbers, got {list(pair)}")
    if levels.get("rules_version") != TRAIT_RULES_VERSION:
        raise ModelFileError(
            f"{where}: thresholds computed with trait rules v{levels.get('rules_version')}, this MEPE uses "
            f"v{TRAIT_RULES_VERSION}; retrain it (mepe train-persona)"
        )
    return thresholds, medians


def check_text_model(directory, manifest: artifacts.Manifest, text_model, retrain: str = "mepe train-persona") -> None:
    """Refuses a text model other than the one a model built on its readings was trained on (by sha256).

    Args:
        directory: the model's folder (for the message).
        manifest: its manifest (``extra.text_model.model_sha256``).
        text_model: a text model's folder or :class:`~mepe_utils.artifacts.Manifest`.
        retrain: the command that retrains the model (for the message).

    Raises:
        ModelFileError: naming both hashes and what to do.
    """
    text_manifest = text_model if isinstance(text_model, artifacts.Manifest) else artifacts.read_manifest(text_model)
    expected = manifest.extra.get("text_model", {}).get("model_sha256")
    if text_manifest.model_sha256 != expected:
        raise ModelFileError(
            f"{directory}: trained on the readings of the text model with sha256 {str(expected)[:12]}..., "
            f"not {text_manifest.model_sha256[:12]}...; retrain it ({retrain}) or pass that text model"
        )


def fused_face_probabilities(fusion_reading) -> dict[str, float] | None:
    """The FER probabilities of the face the fusion read (``fused_face``, else the largest), or None without one."""
    face = getattr(fusion_reading, "face", None)
    if face is None or not face.found:
        return None
    faces = getattr(face, "faces", None)
    if faces:
        return faces[getattr(fusion_reading, "fused_face", None) or 0].probabilities
    return face.probabilities


class PersonaReader:
    """A checked persona model and its level thresholds: text (and fusion) readings -> :class:`Persona`.

    It reads what the text model (and the fusion) already computed, so a persona costs
    a NumPy pass of the small persona model and a few sums, no second encoder pass.

    Attributes:
        manifest: the persona model's manifest.
        thresholds: trait -> (first tercile, second tercile) on the reference population.
        reference_medians: output -> its median on the reference population (used without words).
    """

    def __init__(self, model, manifest: artifacts.Manifest, where: str = "persona model"):
        self.manifest = manifest
        self.thresholds, self.reference_medians = check_levels(manifest.extra.get("levels", {}), where)
        self.forward = PersonaForward(model)

    @classmethod
    def load(cls, directory: str | Path = SHIPPED_PERSONA_MODEL, text_model=None) -> PersonaReader:
        """Loads a saved persona model (manifest, hashes, outputs and safe mode checked).

        Args:
            directory: the saved persona model.
            text_model: the text model whose readings it will get (a saved-model folder or its
                :class:`~mepe_utils.artifacts.Manifest`); when given, refused unless it is the one
                the persona model was trained on.

        Raises:
            ModelFileError: the folder fails its checks, its thresholds are missing or stale, or
                ``text_model`` is another text model than the one it was trained on.
        """
        model, manifest = artifacts.load_model(directory, kind=PERSONA_KIND, labels=list(PERSONA_OUTPUTS))
        if text_model is not None:
            check_text_model(directory, manifest, text_model)
        return cls(model, manifest, str(directory))

    def outputs(self, text_readings) -> dict[str, np.ndarray]:
        """The persona model's outputs (annotation scales) for text readings (:class:`TextEmotion` s)."""
        readings = reading_features(
            np.stack([r.sentence_vector for r in text_readings]),
            np.stack([r.embedding for r in text_readings]),
            np.array([[r.probabilities[name] for name in GOEMOTIONS_LABELS] for r in text_readings]),
        )
        return self.forward(readings, writing_style_features([r.text for r in text_readings]))

    def levels(self, scores: Mapping[str, float]) -> dict[str, str]:
        """Each trait's level from its score and this model's thresholds."""
        return {name: level_of(float(scores[name]), self.thresholds[name]) for name in TRAITS}

    def read(self, text_reading=None, fusion_reading=None) -> Persona:
        """The persona of one person from their text reading and, when there is one, the fusion reading.

        Args:
            text_reading: the text model's :class:`~mepe_utils.predictors.text.TextEmotion`
                (taken from ``fusion_reading.text`` when omitted).
            fusion_reading: the fusion's :class:`~mepe_utils.predictors.fusion.FusedEmotion`
                (its gate, its face reading, its fused distribution), or None for text alone.

        Returns:
            The :class:`Persona`: traits, the fused distribution (the text's normalised Ekman
            view without a fusion reading), the modality weights and the missing signals.

        Raises:
            MepeError: neither a text reading nor a fusion reading with a face.
        """
        if text_reading is None and fusion_reading is not None:
            text_reading = fusion_reading.text
        face_probabilities = fused_face_probabilities(fusion_reading)
        face_emotions = None
        if face_probabilities is not None:
            face_emotions = np.array([[face_probabilities[name] for name in FER_LABELS]])
        if text_reading is None and face_emotions is None:
            raise MepeError("no reading to build a persona from: give a text reading or a fusion reading with a face")
        if text_reading is not None:
            outputs = {name: float(v[0]) for name, v in self.outputs([text_reading]).items()}
            text_emotions = np.array([[text_reading.ekman[name] for name in FER_LABELS]])
        else:
            outputs, text_emotions = dict(self.reference_medians), None
        if text_emotions is not None and face_emotions is not None:
            text_weight = float(fusion_reading.gate_text)
        else:
            text_weight = 1.0 if face_emotions is None else 0.0
        signals = TraitSignals(
            {name: np.array([value]) for name, value in outputs.items()},
            text_emotions,
            face_emotions,
            np.array([text_weight]),
        )
        scores = {name: float(values[0]) for name, values in trait_scores(signals).items()}
        levels = self.levels(scores)
        if fusion_reading is not None:
            emotions = {name: float(p) for name, p in fusion_reading.probabilities.items()}
        else:
            emotions = dict(zip(FER_LABELS, (float(p) for p in signals.emotions()[0])))
        missing = [
            name for name, absent in (("text", text_emotions is None), ("face", face_emotions is None)) if absent
        ]
        return Persona(
            traits={name: Trait(scores[name], levels[name]) for name in TRAITS},
            emotions=emotions,
            modality_weights={"text": text_weight, "face": 1.0 - text_weight},
            missing=missing,
        )
