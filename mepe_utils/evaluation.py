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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    figure.savefig(tmp, dpi=110)
    tmp.replace(path)
    return figure
