"""Metrics, confusion matrices and their plots, shared by every phase."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


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


def plot_confusion_matrix(confusion, labels: Sequence[str], path: str | Path, title: str = ""):
    """Draws a row-normalised confusion matrix (counts in the cells) into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.asarray(confusion, dtype=np.float64)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    figure, axis = plt.subplots(figsize=(6.4, 5.6))
    image = axis.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    axis.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    for row in range(len(labels)):
        for column in range(len(labels)):
            color = "white" if rates[row, column] > 0.5 else "black"
            axis.text(
                column,
                row,
                f"{rates[row, column]:.2f}\n{int(counts[row, column])}",
                ha="center",
                va="center",
                fontsize=7,
                color=color,
            )
    axis.set_title(title)
    figure.colorbar(image, ax=axis, fraction=0.046)
    figure.tight_layout()
    save_figure(figure, path)
    return figure


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


def plot_per_label_f1(per_label: dict, path: str | Path, title: str = ""):
    """A horizontal bar chart of per-label F1, sorted, into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranked = sorted(per_label.items(), key=lambda item: item[1]["f1"])
    figure, axis = plt.subplots(figsize=(6, 0.22 * len(ranked) + 1))
    axis.barh([name for name, _ in ranked], [values["f1"] for _, values in ranked], color="#4477aa")
    axis.set_xlim(0, 1)
    axis.set_xlabel("F1")
    axis.set_title(title)
    axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    save_figure(figure, path)
    return figure


def save_figure(figure, path: str | Path) -> None:
    """Saves a matplotlib figure atomically (temporary file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    figure.savefig(tmp, dpi=110)
    tmp.replace(path)
