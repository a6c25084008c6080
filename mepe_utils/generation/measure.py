"""The controls measured on a reply: what a reply's empathy, style, assertiveness and formality are.

One measurement serves twice: it labels each ESConv training reply with the
controls it shows (so the generator learns what each control value looks like
in real replies), and it scores generated replies (so the benchmark can ask
whether a reply asked for "high" shows more than one asked for "low").

=================  ===========================================================================
control            measured as (a score in [0, 1]; higher = more)
=================  ===========================================================================
``empathy_level``  the reply's ESConv strategy, mapped by :data:`STRATEGY_EMPATHY`: reflecting the
                   seeker's feelings and reassuring them score 1, restating them and sharing one's
                   own experience 0.5, questions, suggestions, information and small talk 0
``assertiveness``  the strategy, mapped by :data:`STRATEGY_ASSERTIVENESS`: suggestions and
                   information (telling) score 1, questions, restatements and reflections
                   (asking, mirroring) 0, the rest 0.5
``response_style`` the reply's arousal (the persona model's EmoBank head, 1..5 mapped onto 0..1):
                   calm replies are low-arousal, upbeat ones high
``formality``      the reply's formality (the persona model's formality head, -3..3 onto 0..1)
=================  ===========================================================================

A training reply's strategy is known (ESConv's annotators labelled it); a generated
reply's is not, so the meter estimates it with a strategy classifier on the text
model's reading of the reply (:class:`StrategyClassifier`, multinomial logistic
regression trained on ESConv train replies) and scores the expected value of the
mapping under the classifier's probabilities. Levels: ``Low`` / ``Medium`` / ``High``
at 1/3 and 2/3 for the strategy controls (the nearest step of the mapping); for
style and formality, the terciles of the score over ESConv train replies (stored
in the generator's manifest), so a third of real replies are Calm, a third Upbeat.

Example:
    >>> meter = ControlMeter.load("assets/models/generator")
    >>> meter.measure_texts(text_model, ["Have you tried talking to your manager about it?"])[0]
    {'empathy_level': 'Low', 'response_style': 'Neutral', 'assertiveness': 'High', 'formality': 'Neutral'}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils.artifacts import write_bytes_atomic
from mepe_utils.data.esconv import STRATEGIES
from mepe_utils.errors import ModelFileError
from mepe_utils.models.persona import READING_INPUT, STYLE_INPUT
from mepe_utils.persona.schema import CONTROLS
from mepe_utils.persona.traits import unit_scale

STRATEGY_EMPATHY = {
    "Question": 0.0,
    "Restatement or Paraphrasing": 0.5,
    "Reflection of feelings": 1.0,
    "Self-disclosure": 0.5,
    "Affirmation and Reassurance": 1.0,
    "Providing Suggestions": 0.0,
    "Information": 0.0,
    "Others": 0.0,
}
"""How empathetic each ESConv strategy is (0, 0.5, 1)."""
STRATEGY_ASSERTIVENESS = {
    "Question": 0.0,
    "Restatement or Paraphrasing": 0.0,
    "Reflection of feelings": 0.0,
    "Self-disclosure": 0.5,
    "Affirmation and Reassurance": 0.5,
    "Providing Suggestions": 1.0,
    "Information": 1.0,
    "Others": 0.5,
}
"""How assertive each ESConv strategy is (0, 0.5, 1)."""
STRATEGY_CONTROLS = {"empathy_level": STRATEGY_EMPATHY, "assertiveness": STRATEGY_ASSERTIVENESS}
TRAIT_CONTROLS = {"response_style": "arousal", "formality": "formality"}
"""The controls measured by a persona model head, and the head."""
STRATEGY_THRESHOLDS = (1 / 3, 2 / 3)
CLASSIFIER_CS = (0.003, 0.01, 0.03, 0.1)
"""The inverse L2 penalties the strategy classifier is chosen from (on valid log-loss)."""
CLASSIFIER_ASSET = "strategy_classifier.npz"
"""The strategy classifier's file in a saved generator's folder."""
MEASURE_VERSION = 1
"""The version of the table above; a generator's labels were measured with one version."""


def level_value(control: str, score: float, thresholds: tuple[float, float]) -> str:
    """The control's value for a score: its first value below ``thresholds[0]``, its last from ``thresholds[1]``."""
    low, middle, high = CONTROLS[control]
    return low if score < thresholds[0] else (high if score >= thresholds[1] else middle)


def strategy_controls(strategy: str) -> dict[str, str]:
    """The empathy and assertiveness a reply of a known ESConv strategy shows."""
    return {
        control: level_value(control, mapping[strategy], STRATEGY_THRESHOLDS)
        for control, mapping in STRATEGY_CONTROLS.items()
    }


@dataclass
class StrategyClassifier:
    """Multinomial logistic regression over standardised reading features: a reply -> ESConv strategy probabilities.

    Attributes:
        mean, scale: (F,) the standardisation of the features.
        coef: (S, F) the weights, one row per strategy of :data:`STRATEGIES`.
        intercept: (S,) the biases.
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """(N, S) strategy probabilities for (N, F) features."""
        logits = ((np.atleast_2d(features) - self.mean) / self.scale) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    @classmethod
    def fit(
        cls, features: np.ndarray, strategies: Sequence[str], valid_features, valid_strategies, cs=CLASSIFIER_CS
    ) -> tuple[StrategyClassifier, dict]:
        """Trains one classifier per ``C`` on train, keeps the one with the lowest validation log-loss.

        Returns:
            The classifier and a report (``C``, validation accuracy and log-loss of each candidate).
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import log_loss

        mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-6
        labels = np.array([STRATEGIES.index(s) for s in strategies])
        valid_labels = np.array([STRATEGIES.index(s) for s in valid_strategies])
        best, report = None, {"candidates": []}
        for c in cs:
            model = LogisticRegression(C=c, max_iter=1000).fit((features - mean) / scale, labels)
            candidate = cls(mean, scale, model.coef_.astype(np.float32), model.intercept_.astype(np.float32))
            probabilities = candidate.probabilities(valid_features)
            scores = {
                "C": c,
                "valid_log_loss": float(log_loss(valid_labels, probabilities, labels=range(len(STRATEGIES)))),
                "valid_accuracy": float(np.mean(probabilities.argmax(axis=1) == valid_labels)),
            }
            report["candidates"].append(scores)
            if best is None or scores["valid_log_loss"] < best[1]["valid_log_loss"]:
                best = (candidate, scores)
        report["chosen"] = best[1]
        return best[0], report

    def save(self, path: str | Path) -> None:
        """Writes the arrays to an ``.npz`` file, atomically."""
        import io

        buffer = io.BytesIO()
        np.savez(buffer, mean=self.mean, scale=self.scale, coef=self.coef, intercept=self.intercept)
        write_bytes_atomic(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> StrategyClassifier:
        """Reads :meth:`save`'s file.

        Raises:
            ModelFileError: the file is missing or its arrays do not fit together.
        """
        try:
            with np.load(path, allow_pickle=False) as stored:
                classifier = cls(*(stored[key] for key in ("mean", "scale", "coef", "intercept")))
        except (OSError, KeyError, ValueError) as error:
            raise ModelFileError(f"{path}: not a strategy classifier ({type(error).__name__}: {error})") from None
        if classifier.coef.shape != (len(STRATEGIES), len(classifier.mean)):
            raise ModelFileError(f"{path}: strategy weights of shape {classifier.coef.shape} do not fit")
        return classifier


def features_of(readings) -> np.ndarray:
    """The strategy classifier's input: the persona model's reading and style inputs side by side."""
    inputs = readings.inputs()
    return np.concatenate([inputs[READING_INPUT], inputs[STYLE_INPUT]], axis=1)


def control_scores(classifier: StrategyClassifier, persona_forward, readings) -> dict[str, np.ndarray]:
    """Each control's score in [0, 1], (N,) each (the module docstring's table).

    Args:
        classifier: the strategy classifier.
        persona_forward: the persona model's pass (:class:`~mepe_utils.models.persona.PersonaForward`).
        readings: the replies' :class:`~mepe_utils.predictors.text_readings.TextReadings`.
    """
    inputs = readings.inputs()
    probabilities = classifier.probabilities(features_of(readings))
    outputs = persona_forward(inputs[READING_INPUT], inputs[STYLE_INPUT])
    scores = {
        name: probabilities @ np.array([mapping[s] for s in STRATEGIES]) for name, mapping in STRATEGY_CONTROLS.items()
    }
    scores.update({name: unit_scale(outputs[head], head) for name, head in TRAIT_CONTROLS.items()})
    return {name: scores[name] for name in CONTROLS}


class ControlMeter:
    """The four controls measured on replies from their text readings.

    Args:
        classifier: the strategy classifier.
        persona_forward: the persona model's pass (:class:`~mepe_utils.models.persona.PersonaForward`).
        thresholds: ``response_style`` and ``formality`` -> their tercile thresholds on train replies.
    """

    def __init__(self, classifier: StrategyClassifier, persona_forward, thresholds: Mapping[str, Sequence[float]]):
        self.classifier = classifier
        self.persona_forward = persona_forward
        self.thresholds = {name: tuple(STRATEGY_THRESHOLDS) for name in STRATEGY_CONTROLS}
        self.thresholds.update({name: tuple(float(v) for v in thresholds[name]) for name in TRAIT_CONTROLS})

    def scores(self, readings) -> dict[str, np.ndarray]:
        """Each control's score in [0, 1] for text readings (:func:`control_scores`)."""
        return control_scores(self.classifier, self.persona_forward, readings)

    @classmethod
    def load(cls, directory: str | Path, manifest, persona_forward) -> ControlMeter:
        """The meter saved with a generator: its strategy classifier asset and the manifest's thresholds.

        Raises:
            ModelFileError: the classifier or the thresholds are missing, or were measured with another version.
        """
        meter = manifest.extra.get("control_meter", {})
        if meter.get("version") != MEASURE_VERSION:
            raise ModelFileError(
                f"{directory}: controls measured with meter v{meter.get('version')}, this MEPE uses "
                f"v{MEASURE_VERSION}; retrain it (mepe train-generator)"
            )
        try:
            thresholds = {name: meter["thresholds"][name] for name in TRAIT_CONTROLS}
        except (KeyError, TypeError):
            raise ModelFileError(f"{directory}: the manifest lacks the control meter's thresholds") from None
        return cls(StrategyClassifier.load(Path(directory) / CLASSIFIER_ASSET), persona_forward, thresholds)

    def score_texts(self, text_model, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Each control's score (:meth:`scores`) for texts read by ``text_model`` (a loaded text model)."""
        from mepe_utils.predictors.text_readings import TextReadings

        texts = list(texts)
        return self.scores(TextReadings.from_scores(text_model.scores(texts), texts))

    def measure_texts(self, text_model, texts: Sequence[str]) -> list[dict[str, str]]:
        """Each text's control values, read by ``text_model`` (a loaded text model)."""
        return self.levels(self.score_texts(text_model, texts))

    def distances(self, scores: Mapping[str, np.ndarray], wanted: Sequence[Mapping[str, str]]) -> np.ndarray:
        """(N,) how far each reply's scores lie outside the bands of the values it was asked for (0: all met).

        A value's band is the score range :func:`level_value` maps to it (the lowest value below the
        first threshold, the highest from the second, the middle one between); the distance adds up,
        over the four controls, how far the score falls short of its band.

        Args:
            scores: from :meth:`scores` or :meth:`score_texts`.
            wanted: each reply's requested control values.
        """
        total = np.zeros(len(wanted))
        for name, values in CONTROLS.items():
            low, high = self.thresholds[name]
            bands = {values[0]: (0.0, low), values[1]: (low, high), values[2]: (high, 1.0)}
            band = np.array([bands[controls[name]] for controls in wanted])
            score = np.asarray(scores[name], dtype=np.float64)
            total += np.maximum(band[:, 0] - score, 0.0) + np.maximum(score - band[:, 1], 0.0)
        return total

    def levels(self, scores: Mapping[str, np.ndarray]) -> list[dict[str, str]]:
        """Each reply's control values from :meth:`scores`."""
        count = len(next(iter(scores.values())))
        return [
            {name: level_value(name, float(scores[name][row]), self.thresholds[name]) for name in CONTROLS}
            for row in range(count)
        ]


def trait_thresholds(meter_scores: Mapping[str, np.ndarray]) -> dict[str, list[float]]:
    """The terciles of the trait-measured controls' scores over a reference set of replies."""
    return {name: [float(q) for q in np.quantile(meter_scores[name], [1 / 3, 2 / 3])] for name in TRAIT_CONTROLS}
