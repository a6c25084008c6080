"""Training curves from a run's ``history.csv``."""

from __future__ import annotations

from pathlib import Path

from mepe_utils.evaluation import save_figure


def plot_history(history: list[dict[str, float]], path: str | Path, metrics: tuple[str, ...] = ("loss", "accuracy")):
    """Draws train/validation curves of ``metrics`` (one panel each) into a PNG.

    Args:
        history: rows with an ``epoch`` key and ``<metric>``/``val_<metric>`` keys.
        path: output PNG.
        metrics: metric names to draw; missing ones are skipped.

    Returns:
        The matplotlib figure.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    present = [m for m in metrics if any(m in row for row in history)]
    figure, axes = plt.subplots(1, max(len(present), 1), figsize=(5 * max(len(present), 1), 3.6), squeeze=False)
    epochs = [int(row["epoch"]) + 1 for row in history]
    for axis, metric in zip(axes[0], present):
        for key, style in ((metric, "-"), (f"val_{metric}", "--")):
            values = [row.get(key) for row in history]
            if any(v is not None for v in values):
                axis.plot(epochs, values, style, label=key)
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    save_figure(figure, path)
    return figure
