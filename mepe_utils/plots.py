"""The figures MEPE draws: confusion matrices, per-label F1, training curves, fusion gates, embeddings, faces.

Every helper draws on a :class:`matplotlib.figure.Figure` it creates and returns
(and saves, atomically, when given a ``path``). None of them touches pyplot's
global state or the backend, so they work the same in a script, a test and a
Jupyter kernel, where the returned figure is shown by ``display(figure)`` or by
being a cell's last value.

Example:
    >>> figure = plot_per_label_f1({"joy": {"f1": 0.6}, "grief": {"f1": 0.1}}, title="F1")
    >>> figure.axes[0].get_title()
    'F1'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def save_figure(figure: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Saves ``figure`` as ``path`` atomically (temporary file + rename); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    figure.savefig(tmp, dpi=dpi)
    tmp.replace(path)
    return path


def _finish(figure: Figure, path: str | Path | None) -> Figure:
    figure.tight_layout()
    if path is not None:
        save_figure(figure, path)
    return figure


def plot_confusion_matrix(confusion, labels: Sequence[str], title: str = "", path: str | Path | None = None) -> Figure:
    """A row-normalised confusion matrix, with the rate and the count in each cell.

    Args:
        confusion: (K, K) counts, rows true, columns predicted.
        labels: the K class names.
        title: the axis title.
        path: where to save a PNG (optional).

    Returns:
        The figure.
    """
    counts = np.asarray(confusion, dtype=np.float64)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    figure = Figure(figsize=(6.4, 5.6))
    axis = figure.subplots()
    image = axis.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    axis.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    for row in range(len(labels)):
        for column in range(len(labels)):
            axis.text(
                column,
                row,
                f"{rates[row, column]:.2f}\n{int(counts[row, column])}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if rates[row, column] > 0.5 else "black",
            )
    axis.set_title(title)
    figure.colorbar(image, ax=axis, fraction=0.046)
    return _finish(figure, path)


def plot_per_label_f1(per_label: dict, title: str = "", path: str | Path | None = None) -> Figure:
    """A horizontal bar chart of per-label F1, sorted.

    Args:
        per_label: ``{label: {"f1": value, ...}}`` (as :func:`~mepe_utils.evaluation.multilabel_metrics` gives).
        title: the axis title.
        path: where to save a PNG (optional).
    """
    ranked = sorted(per_label.items(), key=lambda item: item[1]["f1"])
    figure = Figure(figsize=(6, 0.22 * len(ranked) + 1))
    axis = figure.subplots()
    axis.barh([name for name, _ in ranked], [values["f1"] for _, values in ranked], color="#4477aa")
    axis.set_xlim(0, 1)
    axis.set_xlabel("F1")
    axis.set_title(title)
    axis.grid(axis="x", alpha=0.3)
    return _finish(figure, path)


def plot_history(
    history: list[dict[str, float]], metrics: Sequence[str] = ("loss", "accuracy"), path: str | Path | None = None
) -> Figure:
    """Train and validation curves of ``metrics``, one panel each.

    Args:
        history: rows with an ``epoch`` key and ``<metric>`` / ``val_<metric>`` keys (a run's ``history.csv``).
        metrics: metric names to draw; missing ones are skipped.
        path: where to save a PNG (optional).
    """
    present = [m for m in metrics if any(m in row for row in history)]
    figure = Figure(figsize=(5 * max(len(present), 1), 3.6))
    axes = figure.subplots(1, max(len(present), 1), squeeze=False)[0]
    epochs = [int(row["epoch"]) + 1 for row in history]
    for axis, metric in zip(axes, present):
        for key, style in ((metric, "-"), (f"val_{metric}", "--")):
            values = [row.get(key) for row in history]
            if any(v is not None for v in values):
                axis.plot(epochs, values, style, label=key)
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.grid(alpha=0.3)
        axis.legend()
    return _finish(figure, path)


def plot_gate_histograms(gates: dict[str, np.ndarray], path: str | Path | None = None) -> Figure:
    """The distribution of a fusion model's gate toward the text, one histogram per condition.

    Args:
        gates: condition name -> (N,) per-pair mean gate (1 = all text, 0 = all face).
        path: where to save a PNG (optional).
    """
    figure = Figure(figsize=(7.5, 3.8))
    axis = figure.subplots()
    bins = np.linspace(0, 1, 41)
    for name, values in gates.items():
        axis.hist(values, bins=bins, histtype="step", linewidth=1.6, label=f"{name} (mean {np.mean(values):.2f})")
    axis.set_xlabel("gate toward the text")
    axis.set_ylabel("pairs")
    axis.set_title("How much of the text the fusion takes, per condition")
    axis.legend(fontsize=8)
    return _finish(figure, path)


def plot_embedding_projection(
    points: np.ndarray, classes: np.ndarray, labels: Sequence[str], title: str = "", path: str | Path | None = None
) -> Figure:
    """A 2-D projection of embeddings (e.g. PCA of persona embeddings), one colour per class.

    Args:
        points: (N, 2) projected embeddings.
        classes: (N,) class ids indexing ``labels``.
        labels: the class names.
        title: the axis title.
        path: where to save a PNG (optional).
    """
    figure = Figure(figsize=(6.4, 5.2))
    axis = figure.subplots()
    for class_id, name in enumerate(labels):
        chosen = classes == class_id
        if chosen.any():
            axis.scatter(points[chosen, 0], points[chosen, 1], s=6, alpha=0.6, label=name, color=f"C{class_id}")
    axis.set_title(title)
    axis.legend(markerscale=3, fontsize=8)
    return _finish(figure, path)


def plot_faces(photo: np.ndarray, faces: Sequence, title: str = "", path: str | Path | None = None) -> Figure:
    """A photo with every face boxed and labelled: its number (largest first), top emotion and probability.

    Args:
        photo: the photo as (H, W, 3) RGB uint8 (or (H, W) gray).
        faces: readings with ``box``, ``top_label``, ``probabilities`` and optionally ``landmarks``
            (:class:`mepe_utils.predictors.face.FaceReading`), largest first.
        title: the axis title.
        path: where to save a PNG (optional).
    """
    from matplotlib.patches import Rectangle

    height, width = photo.shape[:2]
    figure = Figure(figsize=(10, 10 * height / width + 0.4))
    axis = figure.subplots()
    axis.imshow(photo, cmap="gray" if photo.ndim == 2 else None)
    for number, face in enumerate(faces, 1):
        x, y, w, h = face.box
        axis.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor="yellow", linewidth=1.5))
        if getattr(face, "landmarks", None) is not None:
            points = np.asarray(face.landmarks)
            axis.scatter(points[:, 0], points[:, 1], s=4, color="cyan")
        label = f"{number} {face.top_label} {face.probabilities[face.top_label]:.2f}"
        axis.text(x, max(0, y - 3), label, color="black", fontsize=7, backgroundcolor="yellow", va="bottom")
    axis.set_title(title or f"{len(faces)} faces, largest first")
    axis.axis("off")
    return _finish(figure, path)
