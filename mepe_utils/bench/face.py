"""``python -m mepe_utils bench-face``: the shipped face CNN against mini-Xception.

Both models are measured in one run, on the same PrivateTest faces and the same
CPU: accuracy, macro-F1, single-face latency (``predict_on_batch``, the fast
path, each model's own preprocessing of a 48x48 crop included), throughput at
batch 256, parameter count and file size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.bench.timing import format_table, latency_ms, throughput_per_s
from mepe_utils.data.fer2013 import load_fer2013
from mepe_utils.evaluation import classification_metrics
from mepe_utils.labels import FER_LABELS
from mepe_utils.predictors.face import SHIPPED_FACE_MODEL
from mepe_utils.runtime import machine_record

COLUMNS = ["private_test_accuracy", "private_test_macro_f1", "latency_ms_p50", "throughput_per_s", "params", "file_mb"]


@dataclass
class Contender:
    """A model under test: its Keras model, its preprocessing of uint8 48x48 crops, its file."""

    name: str
    model: object
    preprocess: Callable[[np.ndarray], np.ndarray]
    file: Path


def mepe_preprocess(faces: np.ndarray) -> np.ndarray:
    """MEPE's CNN takes 48x48 gray pixels in 0..255 and rescales them itself."""
    return faces.astype(np.float32)


def mini_xception_preprocess(faces: np.ndarray) -> np.ndarray:
    """mini-Xception's own preprocessing: resize to 64x64, x/255, then (x - 0.5) * 2."""
    import cv2

    resized = np.stack([cv2.resize(face[..., 0], (64, 64)) for face in faces])[..., None]
    return (resized.astype(np.float32) / 255.0 - 0.5) * 2.0


def load_contenders(model_dir: str | Path, peer_path: str | Path | None) -> list[Contender]:
    import keras

    model_dir = Path(model_dir)
    model, _ = artifacts.load_model(model_dir, kind=artifacts.FACE_KIND, labels=FER_LABELS)
    contenders = [Contender("mepe", model, mepe_preprocess, model_dir / artifacts.MODEL_FILE)]
    if peer_path is not None:
        peer_path = Path(peer_path)
        if not peer_path.is_file():
            raise FileNotFoundError(f"peer model not found: {peer_path}")
        peer = keras.models.load_model(peer_path, compile=False)
        contenders.append(Contender("mini_xception", peer, mini_xception_preprocess, peer_path))
    return contenders


def measure(contender: Contender, faces: np.ndarray, labels: np.ndarray, *, calls: int, seconds: float) -> dict:
    """All benchmark numbers of one contender on ``faces`` (uint8, N x 48 x 48 x 1)."""
    model, preprocess = contender.model, contender.preprocess
    inputs = preprocess(faces)
    probabilities = np.concatenate([model.predict_on_batch(inputs[i : i + 256]) for i in range(0, len(inputs), 256)])
    report = classification_metrics(labels, probabilities, FER_LABELS)
    mirrored = preprocess(faces[:, :, ::-1])
    mirrored_probabilities = np.concatenate(
        [model.predict_on_batch(mirrored[i : i + 256]) for i in range(0, len(mirrored), 256)]
    )
    tta_report = classification_metrics(labels, (probabilities + mirrored_probabilities) / 2, FER_LABELS)
    one_face = faces[:1]
    batch = preprocess(np.resize(faces, (256, *faces.shape[1:])))
    return {
        "private_test_accuracy": report["accuracy"],
        "private_test_macro_f1": report["macro_f1"],
        "latency_ms_p50": latency_ms(lambda: model.predict_on_batch(preprocess(one_face)), calls=calls)["p50"],
        "throughput_per_s": throughput_per_s(lambda: model.predict_on_batch(batch), 256, seconds=seconds),
        "params": int(model.count_params()),
        "file_mb": round(contender.file.stat().st_size / 1e6, 3),
        "private_test_accuracy_flip_tta": tta_report["accuracy"],
        "private_test_macro_f1_flip_tta": tta_report["macro_f1"],
        "per_class_recall": {name: values["recall"] for name, values in report["per_class"].items()},
    }


def run_face_benchmark(
    data_dir: str | Path,
    *,
    model_dir: str | Path = SHIPPED_FACE_MODEL,
    peer_path: str | Path | None = None,
    calls: int = 300,
    seconds: float = 5.0,
    limit: int | None = None,
) -> dict:
    """Runs the benchmark and returns ``{"mepe": {...}, "mini_xception": {...}, "setup": {...}}``.

    Args:
        data_dir: FER-2013 (folder layout or CSV); its PrivateTest split is used.
        model_dir: the MEPE saved face model.
        peer_path: the mini-Xception ``.hdf5``; omitted from the results when None.
        calls: timed single-face calls (at least 200 for the reported p50).
        seconds: duration of each throughput measurement.
        limit: use only the first ``limit`` PrivateTest faces (quick checks).
    """
    test = load_fer2013(data_dir).split("PrivateTest")
    faces, labels = test.images[:limit], test.labels[:limit]
    results = {
        c.name: measure(c, faces, labels, calls=calls, seconds=seconds) for c in load_contenders(model_dir, peer_path)
    }
    results["setup"] = {
        "split": f"PrivateTest ({len(faces)} faces)",
        "single_face_calls": calls,
        "throughput_batch": 256,
        **machine_record(),
    }
    return results


def print_face_benchmark(results: dict) -> None:
    rows = {name: values for name, values in results.items() if name != "setup"}
    print(format_table(rows, COLUMNS + ["private_test_accuracy_flip_tta"]))
    print(f"({results['setup']['split']}; latency p50 over {results['setup']['single_face_calls']} warm calls)")
