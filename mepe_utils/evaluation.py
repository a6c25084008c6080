"""Metrics, thresholds and confusion matrices, shared by every phase (their figures: :mod:`mepe_utils.plots`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mepe_utils.data.goemotions import TextEmotionData
from mepe_utils.labels import FER_LABELS, GOEMOTIONS_LABELS, goemotions_scores_to_ekman
from mepe_utils.models.common import EKMAN_OUTPUT, PROBABILITIES_OUTPUT


def classification_metrics(y_true: np.ndarray, probabilities: np.ndarray, labels: Sequence[str]) -> dict:
    """Single-label metrics from class probabilities.

    Args:
        y_true: int ids (N,).
        probabilities: (N, K) scores.
        labels: the K class names, in column order.

    Returns:
        ``{"accuracy", "macro_f1", "per_class": {name: {precision, recall, f1, support}},
        "confusion": K x K list (rows true, columns predicted)}``.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    y_true = np.asarray(y_true)
    y_pred = np.asarray(probabilities).argmax(axis=-1)
    ids = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=ids, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=ids, average="macro", zero_division=0)),
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
        "confusion": confusion_matrix(y_true, y_pred, labels=ids).tolist(),
    }


def expected_calibration_error(y_true: np.ndarray, probabilities: np.ndarray, bins: int = 15) -> float:
    """How far confidence is from accuracy: the top probability's gap to the hit rate, averaged over equal-width bins.

    Args:
        y_true: int ids (N,).
        probabilities: (N, K) class probabilities.
        bins: confidence bins over (0, 1].

    Returns:
        The bin-size-weighted mean of |accuracy - mean confidence| (0 for a calibrated model).

    Raises:
        ValueError: rows that do not sum to 1 (multi-label scores are not a distribution).

    Example:
        >>> expected_calibration_error(np.array([0, 1]), np.array([[0.9, 0.1], [0.9, 0.1]]))  # 90% sure, 50% right
        0.4
    """
    probabilities = np.asarray(probabilities)
    if not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("calibration error needs class probabilities: rows must sum to 1")
    confidence = probabilities.max(axis=1)
    hits = probabilities.argmax(axis=1) == np.asarray(y_true)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gaps = [abs(hits[which == b].mean() - confidence[which == b].mean()) * (which == b).mean() for b in set(which)]
    return round(float(np.sum(gaps)), 12)


THRESHOLD_GRID = np.round(np.arange(0.02, 0.96, 0.01), 2)


def tune_thresholds(y_true: np.ndarray, scores: np.ndarray, grid: np.ndarray = THRESHOLD_GRID) -> np.ndarray:
    """Per-column thresholds that maximise each column's F1 on a tuning split (dev).

    Args:
        y_true: (N, K) 0/1 labels.
        scores: (N, K) probabilities.
        grid: candidate thresholds.

    Returns:
        (K,) float thresholds; 0.5 for a column with no positive example.
    """
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores)
    thresholds = np.full(y_true.shape[1], 0.5)
    for column in range(y_true.shape[1]):
        positives = y_true[:, column]
        if not positives.any():
            continue
        predicted = scores[:, column][None, :] >= grid[:, None]  # (grid, N)
        true_positive = (predicted & positives).sum(axis=1)
        f1 = 2 * true_positive / np.maximum(predicted.sum(axis=1) + positives.sum(), 1)
        thresholds[column] = grid[int(np.argmax(f1))]
    return thresholds


def multilabel_metrics(y_true: np.ndarray, scores: np.ndarray, thresholds, labels: Sequence[str]) -> dict:
    """Macro/micro F1 and per-label precision/recall/F1 of thresholded multi-label scores.

    Args:
        y_true: (N, K) 0/1 labels.
        scores: (N, K) probabilities.
        thresholds: a float or (K,) thresholds.
        labels: the K names.
    """
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    predicted = (np.asarray(scores) >= np.asarray(thresholds)).astype(int)
    y_true = np.asarray(y_true).astype(int)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, predicted, zero_division=0)
    return {
        "macro_f1": float(f1_score(y_true, predicted, average="macro", zero_division=0)),
        "micro_f1": float(f1_score(y_true, predicted, average="micro", zero_division=0)),
        "per_label": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(labels, precision, recall, f1, support)
        },
    }


def ekman_view(scores: dict[str, np.ndarray], source: str) -> np.ndarray:
    """A text model's (N, 7) Ekman scores as its manifest's ``ekman_source`` reads them.

    Args:
        scores: the model's outputs (``probabilities`` and ``ekman``).
        source: ``"head"`` (the Ekman head) or ``"derived"`` (the 28 probabilities pooled per class).
    """
    if source == "derived":
        return goemotions_scores_to_ekman(scores[PROBABILITIES_OUTPUT])
    return scores[EKMAN_OUTPUT]


def top_class_accuracy(y_true: np.ndarray, scores: np.ndarray) -> float:
    """Share of rows whose highest-scoring class is one of their gold classes (multi-hot ``y_true``)."""
    top = scores.argmax(axis=1)
    return float(np.mean(y_true[np.arange(len(top)), top] > 0))


EKMAN_SOURCES = ("head", "derived")
"""The two readings of a text model's Ekman view (:func:`ekman_view`); its manifest's ``ekman_source`` is one."""


def evaluate_text_scores(
    scores: dict[str, dict[str, np.ndarray]], data: dict[str, TextEmotionData], ekman_source: str | None = None
) -> dict:
    """Dev-tuned thresholds and test metrics for the 28 labels and the Ekman view.

    The Ekman view is read two ways, the ``ekman`` head and the 28 probabilities
    pooled per class (max over members); the one with the better dev macro-F1 is kept.

    Args:
        scores: ``{"dev"|"test": {"probabilities": (N, 28), "ekman": (N, 7) from the Ekman head}}``.
        data: the GoEmotions splits the scores belong to.
        ekman_source: ``"head"`` or ``"derived"`` to report that view (a saved model's own choice);
            None keeps the better one on dev.

    Returns:
        ``{"metrics": flat numbers, "thresholds": ..., "ekman_source": ..., "reports": per split/view}``.
    """
    if ekman_source is not None and ekman_source not in EKMAN_SOURCES:
        raise ValueError(f"ekman_source must be one of {EKMAN_SOURCES} or None, got {ekman_source!r}")
    views = {
        split: {name: ekman_view(split_scores, name) for name in EKMAN_SOURCES}
        for split, split_scores in scores.items()
    }
    dev, test = data["dev"], data["test"]
    thresholds = tune_thresholds(dev.labels, scores["dev"][PROBABILITIES_OUTPUT])
    ekman_choice = {}
    for name, dev_view in views["dev"].items():
        tuned = tune_thresholds(dev.ekman, dev_view)
        ekman_choice[name] = (multilabel_metrics(dev.ekman, dev_view, tuned, FER_LABELS)["macro_f1"], tuned)
    ekman_source = ekman_source or max(ekman_choice, key=lambda name: ekman_choice[name][0])
    ekman_thresholds = ekman_choice[ekman_source][1]
    test_ekman = views["test"][ekman_source]

    reports = {
        "test_28_at_0.5": multilabel_metrics(test.labels, scores["test"][PROBABILITIES_OUTPUT], 0.5, GOEMOTIONS_LABELS),
        "test_28_tuned": multilabel_metrics(
            test.labels, scores["test"][PROBABILITIES_OUTPUT], thresholds, GOEMOTIONS_LABELS
        ),
        "dev_28_tuned": multilabel_metrics(
            dev.labels, scores["dev"][PROBABILITIES_OUTPUT], thresholds, GOEMOTIONS_LABELS
        ),
        "test_ekman_tuned": multilabel_metrics(test.ekman, test_ekman, ekman_thresholds, FER_LABELS),
    }
    from sklearn.metrics import confusion_matrix

    single = test.ekman.sum(axis=1) == 1
    confusion = confusion_matrix(test.ekman[single].argmax(axis=1), test_ekman[single].argmax(axis=1), labels=range(7))
    metrics = {
        "test_macro_f1_28_at_0.5": reports["test_28_at_0.5"]["macro_f1"],
        "test_micro_f1_28_at_0.5": reports["test_28_at_0.5"]["micro_f1"],
        "test_macro_f1_28_tuned": reports["test_28_tuned"]["macro_f1"],
        "test_micro_f1_28_tuned": reports["test_28_tuned"]["micro_f1"],
        "test_macro_f1_ekman_tuned": reports["test_ekman_tuned"]["macro_f1"],
        "dev_macro_f1_28_tuned": reports["dev_28_tuned"]["macro_f1"],
        "dev_macro_f1_ekman_head_tuned": ekman_choice["head"][0],
        "dev_macro_f1_ekman_derived_tuned": ekman_choice["derived"][0],
    }
    return {
        "metrics": metrics,
        "thresholds": [float(t) for t in thresholds],
        "ekman_source": ekman_source,
        "ekman_thresholds": [float(t) for t in ekman_thresholds],
        "ekman_confusion_single_label_test": confusion.tolist(),
        "reports": reports,
    }
