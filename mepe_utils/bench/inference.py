"""``python -m mepe_utils bench-inference``: the predictors as a user meets them.

Each predictor is measured in a fresh Python process, so the numbers include
what a user pays: the cold start (process start, TensorFlow import, model load
and checks, first answer), then single-item latency p50/p95 over warm calls of
the public ``predict`` API (input checks and, for faces, detection on a 512x512
photo included; for ``group``, every face of a 1280x853 photo), batch throughput,
and the process's peak resident memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mepe_utils.bench.timing import BENCH_TEXT, format_table, latency_ms, throughput_per_s
from mepe_utils.errors import MepeError

COLUMNS = ["cold_start_s", "latency_ms_p50", "latency_ms_p95", "throughput_per_s", "batch", "peak_rss_mb"]
FIRST_ANSWER = "first-answer"
KINDS = ("text", "face", "group", "analyze", "demo")
GROUP_PHOTO = "pexels_office_meeting.jpg"
"""The ``group`` item: a 1280x853 photo with five faces (four whole, one cut by the top edge), from the data folder."""


SAMPLE_PHOTO = "astronaut.png"
"""The face item's file, written by the benchmark for its workers (scikit-image's astronaut: 512x512, one face)."""


def write_sample_photo(folder: Path) -> Path:
    """Writes the face item to ``folder`` as a PNG (lossless), so workers read it as a user's photo file is read."""
    import cv2
    import skimage.data

    path = Path(folder) / SAMPLE_PHOTO
    cv2.imwrite(str(path), cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


def _read_photo(path: str):
    """A photo file as the RGB array the predictors take (OpenCV decodes it, as ``mepe analyze --photo`` does)."""
    import cv2

    from mepe_utils.vision.images import to_bgr

    return cv2.cvtColor(to_bgr(path), cv2.COLOR_BGR2RGB)


def group_photo_path() -> Path | None:
    """The ``group`` item's path in the data folder, or None when it is not there."""
    from mepe_utils.runtime import resolve_data_dir

    folder = resolve_data_dir(required=False)
    path = folder / "face_detection" / "photos" / GROUP_PHOTO if folder else None
    return path if path is not None and path.is_file() else None


def _peak_rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)  # bytes on macOS, KiB on Linux


def _answer(kind: str, models: dict[str, str], photo_path: str):
    """``(answer one item, answer a batch or None)`` for one predictor kind, loaded from ``models``.

    ``photo_path`` is the face item's file (see :func:`write_sample_photo`).
    """
    from mepe_utils.persona.engine import PersonaEngine
    from mepe_utils.predictors.face import FaceEmotionModel
    from mepe_utils.predictors.text import TextEmotionModel

    if kind == "text":
        reader = TextEmotionModel.load(models["text"])
        return (lambda: reader.predict(BENCH_TEXT)), (lambda batch: reader.predict([BENCH_TEXT] * batch))
    if kind == "face":
        reader, photo = FaceEmotionModel.load(models["face"]), _read_photo(photo_path)
        return (lambda: reader.predict(photo)), (lambda batch: reader.predict([photo] * batch))
    if kind == "group":
        from mepe_utils.vision.images import to_bgr

        reader, photo = FaceEmotionModel.load(models["face"]), to_bgr(group_photo_path())
        return (lambda: reader.predict(photo, channel_order="bgr")), None
    if kind == "analyze":
        engine = PersonaEngine.load(models["fusion"], models["text"], models["face"], models["persona"])
        photo = _read_photo(photo_path)
        return (lambda: engine.analyze(BENCH_TEXT, photo)), None
    if kind == "demo":
        from mepe_utils.pipeline import MepePipeline

        pipeline = MepePipeline.load(
            "t5", models["generator"], models["fusion"], models["text"], models["face"], models["persona"]
        )
        photo = _read_photo(photo_path)
        return (lambda: pipeline.respond(BENCH_TEXT, photo)), None
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def measure_in_this_process(kind: str, models: dict[str, str], photo: str, calls: int, batch: int) -> dict:
    """Loads one predictor, answers once (announced on stdout), then times it. Run by the worker process."""
    one, many = _answer(kind, models, photo)
    one()
    print(FIRST_ANSWER, flush=True)
    latency = latency_ms(one, calls=calls)
    throughput = round(throughput_per_s(lambda: many(batch), batch, seconds=5.0), 1) if many else None
    return {
        "latency_ms_p50": round(latency["p50"], 3),
        "latency_ms_p95": round(latency["p95"], 3),
        "throughput_per_s": throughput,
        "batch": batch if many else None,
        "peak_rss_mb": _peak_rss_mb(),
    }


def measure_in_fresh_process(kind: str, models: dict[str, str], photo: str | Path, calls: int, batch: int) -> dict:
    """Starts a worker process and times it from launch to its first answer; ``photo`` is the face item's file."""
    spec = json.dumps({"kind": kind, "models": models, "photo": str(photo), "calls": calls, "batch": batch})
    command = [sys.executable, "-m", "mepe_utils.bench.inference", spec]
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
    text_model: str | Path | None = None,
    face_model: str | Path | None = None,
    fusion_model: str | Path | None = None,
    persona_model: str | Path | None = None,
    generator_model: str | Path | None = None,
    *,
    calls: int = 300,
    batch: int = 64,
) -> dict:
    """Measures the predictors (shipped models by default); returns ``{"text", "face"[, "group", "analyze"], "setup"}``.

    ``group`` (every face of a 1280x853 photo) is measured when the data folder holds the
    photo; ``analyze`` (what ``mepe analyze`` runs: both readers, the fusion, the persona and
    the policy, on one sentence and one photo) when a fusion model is given or shipped;
    ``demo`` (``analyze`` and the T5's reply: what ``mepe demo`` runs) when a generator is.
    """
    from mepe_utils.generation.decoding import REPLY_DECODING, describe_decoding
    from mepe_utils.generation.t5 import SHIPPED_GENERATOR_MODEL
    from mepe_utils.persona.traits import SHIPPED_PERSONA_MODEL
    from mepe_utils.predictors.face import SHIPPED_FACE_MODEL
    from mepe_utils.predictors.fusion import SHIPPED_FUSION_MODEL
    from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL
    from mepe_utils.runtime import machine_record

    models = {
        "text": str(text_model or SHIPPED_TEXT_MODEL),
        "face": str(face_model or SHIPPED_FACE_MODEL),
        "fusion": str(fusion_model or SHIPPED_FUSION_MODEL),
        "persona": str(persona_model or SHIPPED_PERSONA_MODEL),
        "generator": str(generator_model or SHIPPED_GENERATOR_MODEL),
    }
    available = {
        "analyze": Path(models["fusion"]).is_dir(),
        "group": group_photo_path() is not None,
        "demo": Path(models["fusion"]).is_dir() and Path(models["generator"]).is_dir(),
    }
    kinds = [kind for kind in KINDS if available.get(kind, True)]
    with tempfile.TemporaryDirectory() as folder:
        photo = write_sample_photo(Path(folder))
        results = {kind: measure_in_fresh_process(kind, models, photo, calls, batch) for kind in kinds}
    results["setup"] = {
        "text_item": BENCH_TEXT,
        "face_item": "scikit-image astronaut, 512x512 (detection + framing + CNN); each worker reads it from a PNG "
        "with OpenCV, as a user's photo file is read, then answers on the RGB array",
        "group_item": f"{GROUP_PHOTO} from the data folder, 1280x853 BGR, every face read",
        "analyze_item": "the text item and the face item, read and fused, the persona read and the controls decided",
        "demo_item": f"the analyze item, then the T5's reply ({describe_decoding(REPLY_DECODING)}) "
        "and the controls measured on it",
        "warm_calls": calls,
        **machine_record(),
    }
    return results


def print_inference_benchmark(results: dict) -> None:
    print(format_table({k: v for k, v in results.items() if k != "setup"}, COLUMNS))


if __name__ == "__main__":  # the worker: one JSON argument {"kind", "models", "photo", "calls", "batch"}
    from mepe_utils.quiet_startup import import_tensorflow_quietly

    import_tensorflow_quietly(lean=True)  # as the command line does
    spec = json.loads(sys.argv[1])
    measured = measure_in_this_process(spec["kind"], spec["models"], spec["photo"], spec["calls"], spec["batch"])
    print(json.dumps(measured), flush=True)
