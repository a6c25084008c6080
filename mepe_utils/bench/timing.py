"""Latency and throughput measurement shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

BENCH_TEXT = "I can't believe they cancelled the show, I'm so upset right now."
"""The one sentence every text benchmark times."""


def latency_ms(call: Callable[[], object], *, calls: int = 300, warmup: int = 20) -> dict[str, float]:
    """Times ``call()`` after ``warmup`` untimed calls.

    Returns:
        ``{"p50", "p95", "mean"}`` in milliseconds over ``calls`` timed calls.
    """
    for _ in range(warmup):
        call()
    samples = np.empty(calls)
    for index in range(calls):
        start = time.perf_counter()
        call()
        samples[index] = time.perf_counter() - start
    samples *= 1000.0
    return {"p50": float(np.median(samples)), "p95": float(np.percentile(samples, 95)), "mean": float(samples.mean())}


def throughput_per_s(
    call: Callable[[], object], items_per_call: int, *, seconds: float = 5.0, warmup: int = 2
) -> float:
    """Items per second of ``call()`` (each handling ``items_per_call`` items), run for about ``seconds``."""
    for _ in range(warmup):
        call()
    done, start = 0, time.perf_counter()
    while True:
        call()
        done += items_per_call
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


def format_table(rows: dict[str, dict[str, float]], columns: list[str]) -> str:
    """A plain-text table: one row per model, one column per metric."""
    width = max(len(name) for name in rows) + 2
    header = "model".ljust(width) + "".join(column.rjust(max(len(column) + 2, 12)) for column in columns)
    lines = [header, "-" * len(header)]
    for name, values in rows.items():
        cells = []
        for column in columns:
            value = values.get(column)
            text = "-" if value is None else (f"{value:,}" if isinstance(value, int) else f"{value:.4g}")
            cells.append(text.rjust(max(len(column) + 2, 12)))
        lines.append(name.ljust(width) + "".join(cells))
    return "\n".join(lines)
