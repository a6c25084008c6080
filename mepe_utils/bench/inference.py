"""``python -m mepe_utils bench-inference``: the predictors as a user meets them.

Each predictor is measured in a fresh Python process, so the numbers include
what a user pays: the cold start (process start, TensorFlow import, model load
and checks, first answer), then single-item latency p50/p95 over warm calls of
the public ``predict`` API (input checks and, for faces, detection on a 512x512
photo included), batch throughput, and the process's peak resident memory.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from mepe_utils.bench.timing import BENCH_TEXT, format_table, latency_ms, throughput_per_s
from mepe_utils.errors import MepeError

COLUMNS = ["cold_start_s", "latency_ms_p50", "latency_ms_p95", "throughput_per_s", "batch", "peak_rss_mb"]
FIRST_ANSWER = "first-answer"


def _sample_photo():
    import skimage.data

    return skimage.data.astronaut()  # 512x512 RGB, one frontal face


def _peak_rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)  # bytes on macOS, KiB on Linux


def measure_in_this_process(kind: str, model_dir: str | None, calls: int, batch: int) -> dict:
    """Loads one predictor, answers once (announced on stdout), then times it. Run by the worker process."""
    if kind == "text":
        from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL, TextEmotionModel

        predictor = TextEmotionModel.load(model_dir or SHIPPED_TEXT_MODEL)
        item, items = BENCH_TEXT, [BENCH_TEXT] * batch
    elif kind == "face":
        from mepe_utils.predictors.face import SHIPPED_FACE_MODEL, FaceEmotionModel

        predictor = FaceEmotionModel.load(model_dir or SHIPPED_FACE_MODEL)
        item = _sample_photo()
        items = [item] * batch
    else:
        raise ValueError(f"kind must be 'text' or 'face', got {kind!r}")
    predictor.predict(item)
    print(FIRST_ANSWER, flush=True)
    latency = latency_ms(lambda: predictor.predict(item), calls=calls)
    return {
        "latency_ms_p50": round(latency["p50"], 3),
        "latency_ms_p95": round(latency["p95"], 3),
        "throughput_per_s": round(throughput_per_s(lambda: predictor.predict(items), batch, seconds=5.0), 1),
        "batch": batch,
        "peak_rss_mb": _peak_rss_mb(),
    }


def measure_in_fresh_process(kind: str, model_dir: str | Path | None, calls: int, batch: int) -> dict:
    """Starts a worker process and times it from launch to its first answer."""
    command = [sys.executable, "-m", "mepe_utils.bench.inference", kind, str(model_dir or ""), str(calls), str(batch)]
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    worker = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment)
    cold_start, lines = None, []
    for line in worker.stdout:
        if line.strip() == FIRST_ANSWER and cold_start is None:
            cold_start = time.perf_counter() - start
        else:
            lines.append(line)
    error = worker.stderr.read()
    if worker.wait() != 0 or cold_start is None:
        last = error.strip().splitlines()[-1] if error.strip() else "no output"
        raise MepeError(f"bench-inference worker for {kind} failed: {last}")
    return {"cold_start_s": round(cold_start, 3), **json.loads(lines[-1])}


def run_inference_benchmark(
    text_model: str | Path | None = None, face_model: str | Path | None = None, *, calls: int = 300, batch: int = 64
) -> dict:
    """Measures both predictors (shipped models by default); returns ``{"text", "face", "setup"}``."""
    from mepe_utils.runtime import library_versions

    models = {"text": text_model, "face": face_model}
    results = {kind: measure_in_fresh_process(kind, path, calls, batch) for kind, path in models.items()}
    results["setup"] = {
        "text_item": BENCH_TEXT,
        "face_item": "scikit-image astronaut, 512x512 RGB (detection + crop + CNN)",
        "warm_calls": calls,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "versions": library_versions(),
    }
    return results


def print_inference_benchmark(results: dict) -> None:
    print(format_table({k: v for k, v in results.items() if k != "setup"}, COLUMNS))


if __name__ == "__main__":  # the worker: kind, model dir ('' for the shipped one), calls, batch
    kind, model_dir, calls, batch = sys.argv[1], sys.argv[2] or None, int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(measure_in_this_process(kind, model_dir, calls, batch)), flush=True)
