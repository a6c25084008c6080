"""``python -m mepe_utils bench-fusion``: the fusion model against single signals and simpler fusions.

In one run, on the same test pairs (GoEmotions ``test`` x FER ``PrivateTest``,
:data:`~mepe_utils.training.fusion.TEST_PAIRINGS` seeded pairings, mean and
spread reported), under every condition a user meets:

=====================  ==========================================================
``both``               text and face, clean
``text_missing``       the face alone
``face_missing``       the text alone
``<degradation>``      the text and a degraded face (each of ``face_degrade``)
``face_degraded``      the mean over the degradations
``<degradation>_text_missing``  a degraded face alone
``face_degraded_text_missing``  the mean of those over the degradations
``conflicting``        a text of another class than the face: who does the answer follow?
=====================  ==========================================================

The pairings are those the trainer reports its test accuracy on (the same
seeds and random stream), so the manifest's number and this table's agree.
The faces are the same in every pairing: the spread measures the drawing of
texts.

Contenders: ``text_only`` and ``face_only`` (each encoder's own probabilities,
the text's Ekman scores normalised to sum to 1; no answer without their
signal), ``late_product`` and ``late_mean`` (the two probability vectors
multiplied or averaged; the present one alone when the other is missing),
``concat_mlp`` (an MLP on the concatenated readings, trained with the fusion
model's own recipe on the same encoders, or reused from an earlier run that
did) and ``gmu`` (the fusion model). Each cell holds accuracy (mean and spread
over the pairings), macro-F1 and the expected calibration error (how far the
top probability is from the hit rate; phase 5 reads the fused probabilities as
intensities, so they should mean what they say). The ``encoders`` block gives
each encoder's accuracy on the fusion's training split and on its test split:
the fusion learns from readings of the very texts and faces the encoders were
fitted on, which are more accurate than readings of anything else.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.bench.timing import format_table
from mepe_utils.data.face_degrade import DEGRADATIONS
from mepe_utils.data.pairs import conflicting_pairs, pair_by_class, single_class_ids
from mepe_utils.evaluation import classification_metrics, expected_calibration_error
from mepe_utils.labels import FER_LABELS
from mepe_utils.models.common import PROBABILITIES_OUTPUT
from mepe_utils.models.fusion import FACE_INPUT, GATE_OUTPUT, PRESENCE_INPUT, TEXT_INPUT, predict_fusion
from mepe_utils.options import config_from_dict
from mepe_utils.predictors.embedding_tables import embedding_table
from mepe_utils.predictors.fusion import check_fusion_manifest
from mepe_utils.runtime import is_smoke, machine_record
from mepe_utils.training.checkpoints import RunFolder
from mepe_utils.training.fusion import TEST_PAIRINGS, FusionSources, FusionTrainConfig, table_sample, train_fusion
from mepe_utils.training.fusion_batches import PAIR_STREAM, features

MODELS = ("text_only", "face_only", "late_product", "late_mean", "concat_mlp", "gmu")


def _normalised(probabilities: np.ndarray) -> np.ndarray:
    return probabilities / np.maximum(probabilities.sum(axis=1, keepdims=True), 1e-9)


def _late(text: np.ndarray, face: np.ndarray, presence: np.ndarray, how: str) -> np.ndarray:
    text, face = _normalised(text), _normalised(face)
    fused = _normalised(text * face) if how == "product" else (text + face) / 2
    fused = np.where(presence[:, :1] == 0, face, fused)
    return np.where(presence[:, 1:] == 0, text, fused)


@dataclass
class FusionTestSet:
    """The test split's cached readings: texts, and faces clean and in each degraded version.

    Attributes:
        text_features: (T, Dt) text features (:func:`~mepe_utils.training.fusion_batches.features`).
        text_classes: (T,) single class per text, -1 for texts of several classes.
        face_features: ``{"clean": (F, Df), <degradation>: (F, Df) ...}``.
        face_classes: (F,) class per face.
        face_ids: (F,) the faces' table ids (``PrivateTest:<row>``).
    """

    text_features: np.ndarray
    text_classes: np.ndarray
    face_features: dict[str, np.ndarray]
    face_classes: np.ndarray
    face_ids: np.ndarray

    def inputs(self, text_rows: np.ndarray, face_version: str = "clean", presence=(1, 1)) -> dict[str, np.ndarray]:
        """The fusion model's inputs for every face with the texts at ``text_rows`` (absent signals zeroed)."""
        presence = np.tile(np.asarray(presence, np.float32), (len(self.face_classes), 1))
        return {
            TEXT_INPUT: self.text_features[text_rows] * presence[:, :1],
            FACE_INPUT: self.face_features[face_version] * presence[:, 1:],
            PRESENCE_INPUT: presence,
        }


def load_test_set(sources: FusionSources, config: FusionTrainConfig) -> FusionTestSet:
    """The test split's readings from the embedding-table cache (computed on first use).

    Args:
        sources: the encoders, the data and the cache.
        config: the recipe whose smoke sample (:func:`~mepe_utils.training.fusion.table_sample`) is read
            under ``MEPE_SMOKE=1``.
    """
    texts = embedding_table(
        sources.text_model, "test", sources.goemotions, sources.cache_dir, sample=table_sample(config, texts=True)
    )
    sample = table_sample(config, texts=False)
    faces = {
        name: embedding_table(sources.face_model, "PrivateTest", sources.fer2013, sources.cache_dir, version, sample)
        for name, version in (("clean", None), *((name, name) for name in DEGRADATIONS))
    }
    return FusionTestSet(
        features(texts), single_class_ids(texts.labels), {name: features(table) for name, table in faces.items()},
        faces["clean"].labels.argmax(axis=1), faces["clean"].ids,
    )  # fmt: skip


def _scores(models: dict, inputs: dict[str, np.ndarray]) -> dict:
    """Each contender's probabilities (None where it cannot answer) and the GMU's mean gate per row."""
    probs = lambda features: features[:, -len(FER_LABELS) :]  # noqa: E731
    text, face, presence = inputs[TEXT_INPUT], inputs[FACE_INPUT], inputs[PRESENCE_INPUT]
    gmu = predict_fusion(models["gmu"], inputs)
    return {
        "text_only": _normalised(probs(text)) if presence[:, 0].all() else None,
        "face_only": probs(face) if presence[:, 1].all() else None,
        "late_product": _late(probs(text), probs(face), presence, "product"),
        "late_mean": _late(probs(text), probs(face), presence, "mean"),
        "concat_mlp": predict_fusion(models["concat_mlp"], inputs)[PROBABILITIES_OUTPUT],
        "gmu": gmu[PROBABILITIES_OUTPUT],
        "gate": gmu[GATE_OUTPUT].mean(axis=1),
    }


CONDITIONS = {
    "both": ("clean", (1, 1)),
    "text_missing": ("clean", (0, 1)),
    "face_missing": ("clean", (1, 0)),
    **{name: (name, (1, 1)) for name in DEGRADATIONS},
    **{f"{name}_text_missing": (name, (0, 1)) for name in DEGRADATIONS},
}
"""Each measured condition as (face version, presence [text, face])."""


def run_fusion_benchmark(
    fusion_dir: str | Path, sources: FusionSources, work_dir: str | Path, pairings: int = TEST_PAIRINGS
) -> dict:
    """Runs the whole condition x contender grid; returns ``{"conditions": ..., "fusion_file_mb": ..., "setup": ...}``.

    Under ``MEPE_SMOKE=1`` the test set is a seeded sample (the recipe's ``smoke_rows`` faces).

    Args:
        fusion_dir: the saved fusion model (GMU) to measure; its encoders must be ``sources``' models.
        sources: the encoders, the data and the embedding-table cache.
        work_dir: where this run trains the ``concat_mlp`` baseline (a run folder, resumable).
        pairings: seeded test pairings.
    """
    gmu, manifest = artifacts.load_model(fusion_dir, kind=artifacts.FUSION_KIND, labels=FER_LABELS)
    encoders = {name: artifacts.read_manifest(getattr(sources, f"{name}_model")) for name in ("text", "face")}
    check_fusion_manifest(fusion_dir, manifest, encoders)
    recipe = config_from_dict(FusionTrainConfig, manifest.training["config"])
    recipe.model = dataclasses.replace(recipe.model, kind="concat")
    models = {"gmu": gmu, "concat_mlp": _concat_baseline(sources, recipe, encoders, Path(work_dir))}

    test = load_test_set(sources, recipe)
    rows = len(test.face_classes)
    cells: dict[str, dict[str, list]] = {condition: {} for condition in CONDITIONS}
    conflict: dict[str, list] = {"follows_face": [], "follows_text": [], "gate_text_mean": []}
    for seed in range(pairings):
        pairs = pair_by_class(test.text_classes, test.face_classes, np.random.default_rng([seed, PAIR_STREAM]))
        for condition, (face_version, presence) in CONDITIONS.items():
            scores = _scores(models, test.inputs(pairs.text_rows, face_version, presence))
            for model in MODELS:
                if scores[model] is not None:
                    report = classification_metrics(test.face_classes, scores[model], FER_LABELS)
                    ece = expected_calibration_error(test.face_classes, scores[model])
                    cells[condition].setdefault(model, []).append((report["accuracy"], report["macro_f1"], ece))
            cells[condition].setdefault("gate", []).append(float(scores["gate"].mean()))
        conflicting = conflicting_pairs(test.text_classes, test.face_classes, np.random.default_rng([seed, 1]))
        scores = _scores(models, test.inputs(conflicting.text_rows))
        answer = scores["gmu"].argmax(axis=1)
        conflict["follows_face"].append(float((answer == test.face_classes).mean()))
        conflict["follows_text"].append(float((answer == test.text_classes[conflicting.text_rows]).mean()))
        conflict["gate_text_mean"].append(float(scores["gate"].mean()))

    results = {name: _summarise(values) for name, values in cells.items()}
    for suffix in ("", "_text_missing"):
        results[f"face_degraded{suffix}"] = _mean_over(results, [f"{name}{suffix}" for name in DEGRADATIONS])
    results["conflicting"] = {key: float(np.mean(values)) for key, values in conflict.items()}
    return {
        "conditions": results,
        "encoders": encoder_accuracy(sources, recipe),
        "fusion_file_mb": round((Path(fusion_dir) / artifacts.MODEL_FILE).stat().st_size / 1e6, 3),
        "setup": {
            "test": f"GoEmotions test x FER-2013 PrivateTest ({rows} faces), {pairings} seeded pairings",
            "pairings": pairings,
            "smoke": is_smoke(),
            "fusion_model": str(fusion_dir),
            "concat_mlp": f"trained with the fusion model's recipe: {dataclasses.asdict(recipe)}",
            "encoders": {k: v["model_sha256"] for k, v in manifest.extra["encoders"].items()},
            **machine_record(),
        },
    }


def _concat_baseline(sources: FusionSources, recipe: FusionTrainConfig, encoders: dict, work_dir: Path):
    """The concat MLP trained with ``recipe`` on these encoders: reused from ``work_dir`` when one was
    trained on the same encoders, recipe and mode (its folder name is their hash), else trained now."""
    key = json.dumps(
        [{k: m.model_sha256 for k, m in encoders.items()}, dataclasses.asdict(recipe), is_smoke()], sort_keys=True
    )
    run = work_dir / f"concat_mlp-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    if not (run / "model").is_dir():
        train_fusion(sources, run, recipe, resume=RunFolder(run).has_checkpoint())
    return artifacts.load_model(run / "model", kind=artifacts.FUSION_KIND, labels=FER_LABELS)[0]


def encoder_accuracy(sources: FusionSources, config: FusionTrainConfig) -> dict:
    """Each encoder's 7-class accuracy on the fusion's training split and on its test split.

    Texts count when they have exactly one Ekman class. Under ``MEPE_SMOKE=1`` these are
    the smoke samples (:func:`~mepe_utils.training.fusion.table_sample`) the trainer read.
    """
    result = {}
    for name, model, source, splits in (
        ("text", sources.text_model, sources.goemotions, ("train", "test")),
        ("face", sources.face_model, sources.fer2013, ("Training", "PrivateTest")),
    ):
        sample = table_sample(config, texts=name == "text")
        result[name] = {}
        for split in splits:
            table = embedding_table(model, split, source, sources.cache_dir, sample=sample)
            classes = single_class_ids(table.labels)
            kept = classes >= 0
            result[name][split] = float((table.probabilities[kept].argmax(axis=1) == classes[kept]).mean())
    return result


def _summarise(values: dict[str, list]) -> dict:
    summary = {}
    for model, runs in values.items():
        if model == "gate":
            continue
        accuracy, macro_f1, ece = np.array(runs).T
        summary[model] = {
            "accuracy": float(accuracy.mean()),
            "accuracy_std": float(accuracy.std()),
            "macro_f1": float(macro_f1.mean()),
            "calibration_error": float(ece.mean()),
        }
    summary["gmu"]["gate_text_mean"] = float(np.mean(values["gate"]))
    return summary


def _mean_over(results: dict, names: list[str]) -> dict:
    """The mean of each model's cells over ``names`` (spreads are not averaged: they are per condition)."""
    models = set.intersection(*(set(results[name]) for name in names))
    return {
        model: {
            key: float(np.mean([results[name][model][key] for name in names]))
            for key in results[names[0]][model]
            if key != "accuracy_std"
        }
        for model in sorted(models)
    }


def print_fusion_benchmark(results: dict) -> None:
    for metric in ("accuracy", "calibration_error"):
        rows = {}
        for condition, values in results["conditions"].items():
            if condition == "conflicting":
                continue
            rows[condition] = {model: values[model][metric] if model in values else None for model in MODELS}
            rows[condition]["gate_text"] = values["gmu"]["gate_text_mean"]
        print(f"{metric} (mean of the test pairings)")
        print(format_table(rows, [*MODELS, "gate_text"]))
    conflict = results["conditions"]["conflicting"]
    print(
        f"conflicting text and face: the GMU follows the face {conflict['follows_face']:.1%}, the text "
        f"{conflict['follows_text']:.1%}; mean gate toward text {conflict['gate_text_mean']:.2f}"
    )
    print(f"fusion model file {results['fusion_file_mb']:.2f} MB")
