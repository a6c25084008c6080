"""Training the fusion model on the encoders' cached readings: ``python -m mepe_utils train-fusion``.

Protocol: pairs from GoEmotions ``train`` x FER ``Training`` (re-paired every
epoch, with missing and degraded signals), the epoch chosen on ``dev`` x
``PublicTest`` (both signals, clean), then one softmax temperature per presence
pattern fitted on ``dev`` x ``PublicTest`` pairs with the training share of
degraded faces (:func:`~mepe_utils.models.fusion.fit_temperatures`), and
``test`` x ``PrivateTest`` reported once over 5 seeded pairings (mean and
spread). The encoders are the saved text and face models given; their readings
come from embedding tables (:mod:`mepe_utils.predictors.embedding_tables`),
computed once per model file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.data.face_degrade import DEGRADATIONS
from mepe_utils.data.pairs import single_class_ids
from mepe_utils.evaluation import classification_metrics
from mepe_utils.labels import FER_LABELS
from mepe_utils.models.common import PROBABILITIES_OUTPUT
from mepe_utils.models.fusion import (
    PERSONA_EMBEDDING,
    FusionConfig,
    build_fusion_model,
    fit_temperatures,
    predict_fusion,
)
from mepe_utils.predictors.embedding_tables import EmbeddingTable, embedding_table
from mepe_utils.runtime import dtype_policy, is_smoke
from mepe_utils.training.fusion_batches import FusionBatches, SignalDropout, features
from mepe_utils.training.run import Batches, Evaluation, Trainer, for_run, run_training

FUSION_KIND = artifacts.FUSION_KIND
SPLITS = {"train": ("train", "Training"), "validation": ("dev", "PublicTest"), "test": ("test", "PrivateTest")}
"""Each fusion split as (GoEmotions split, FER-2013 usage): pairs never cross splits."""
TEST_PAIRINGS = 5
SMOKE_TEXTS_PER_FACE = 4
"""Under smoke mode a split keeps ``smoke_rows`` faces and this many times as many texts."""


@dataclass
class FusionTrainConfig:
    """Hyper-parameters of a fusion training run.

    Attributes:
        model: the fusion model (GMU width, dropout, or the concat baseline).
        signals: how often a training pair loses its text or face, or gets a degraded face.
        epochs: planned epochs.
        batch_size: pairs per batch.
        learning_rate: AdamW rate (constant).
        weight_decay: decoupled AdamW decay.
        patience: epochs without validation improvement before stopping.
        seed: seeds the pairings, the signal dropout, the order and the initialisation.
        smoke_rows: faces per split kept under ``MEPE_SMOKE=1`` (and 4 times as many texts).
    """

    model: FusionConfig = field(default_factory=FusionConfig)
    signals: SignalDropout = field(default_factory=SignalDropout)
    epochs: int = 30
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 6
    seed: int = 42
    smoke_rows: int = 512

    def for_smoke(self) -> FusionTrainConfig:
        """Two epochs on a few hundred pairs."""
        return FusionTrainConfig(
            model=self.model, signals=self.signals, epochs=2, batch_size=64, patience=2, seed=self.seed,
            smoke_rows=self.smoke_rows,
        )  # fmt: skip


@dataclass
class FusionSources:
    """The encoders a fusion model reads, the data their tables come from, and the table cache.

    Attributes:
        text_model: a saved MEPE text model.
        face_model: a saved MEPE face model.
        goemotions: the GoEmotions TSV folder (or ``"hub"``).
        fer2013: the FER-2013 folder or CSV.
        cache_dir: where embedding tables are cached.
    """

    text_model: Path
    face_model: Path
    goemotions: str | Path
    fer2013: Path
    cache_dir: Path


def table_sample(config: FusionTrainConfig, texts: bool) -> int | None:
    """Rows a split's embedding table keeps: all (None), or under ``MEPE_SMOKE=1`` a seeded sample of
    ``config.smoke_rows`` faces or :data:`SMOKE_TEXTS_PER_FACE` times as many texts (so that every
    class keeps single-class texts); the same sample wherever a split is read."""
    if not is_smoke():
        return None
    return config.smoke_rows * (SMOKE_TEXTS_PER_FACE if texts else 1)


class FusionTrainer(Trainer):
    """The fusion model's hooks: cached readings, label-matched pairs, signal dropout, validation accuracy."""

    monitor = "val_accuracy"  # the training view has one output, so Keras logs its metrics unprefixed
    mode = "max"
    embedding_layer = PERSONA_EMBEDDING
    curves = ("loss", "accuracy")

    def __init__(self, sources: FusionSources, config: FusionTrainConfig):
        super().__init__(config)
        self.sources = sources

    def _table(
        self, model: Path, split: str, source, degradation: str | None = None, texts: bool = False
    ) -> EmbeddingTable:
        """A cached table (of :func:`table_sample` rows)."""
        sample = table_sample(self.config, texts)
        return embedding_table(model, split, source, self.sources.cache_dir, degradation, sample)

    def load_data(self) -> None:
        sources = self.sources
        self.texts, self.faces = {}, {}
        for name, (text_split, face_split) in SPLITS.items():
            self.texts[name] = self._table(sources.text_model, text_split, sources.goemotions, texts=True)
            self.faces[name] = {"clean": self._table(sources.face_model, face_split, sources.fer2013)}
        for name, (_, face_split) in SPLITS.items():
            if name != "test":  # training mixes in degraded faces; calibration (on validation) too
                for degradation in DEGRADATIONS:
                    self.faces[name][degradation] = self._table(
                        sources.face_model, face_split, sources.fer2013, degradation
                    )

    def split_batches(self, name: str, **kwargs) -> FusionBatches:
        """Batches of one split's pairs (``kwargs`` go to :class:`FusionBatches`)."""
        texts, faces = self.texts[name], self.faces[name]
        return FusionBatches(
            features(texts), single_class_ids(texts.labels), {k: features(t) for k, t in faces.items()},
            faces["clean"].labels.argmax(axis=1), batch_size=self.config.batch_size, **kwargs,
        )  # fmt: skip

    def batches(self, start_epoch: int) -> Batches:
        config = self.config
        train = self.split_batches(
            "train", dropout=config.signals, shuffle=True, seed=config.seed, start_epoch=start_epoch
        )
        return Batches(train, self.split_batches("validation", seed=config.seed), len(train))

    def input_dims(self) -> tuple[int, int]:
        return features(self.texts["train"]).shape[1], features(self.faces["train"]["clean"]).shape[1]

    def build_model(self, steps_per_epoch: int):
        import keras

        model = training_view(build_fusion_model(*self.input_dims(), self.config.model))
        optimizer = keras.optimizers.AdamW(self.config.learning_rate, weight_decay=self.config.weight_decay)
        model.compile(
            optimizer=optimizer,
            loss={PROBABILITIES_OUTPUT: keras.losses.CategoricalCrossentropy()},
            metrics={PROBABILITIES_OUTPUT: ["accuracy"]},
        )
        return model

    def export(self, model):
        with dtype_policy("float32"):
            export = build_fusion_model(*self.input_dims(), self.config.model)
        export.set_weights(model.get_weights())
        calibration = self.split_batches(
            "validation", dropout=SignalDropout(0.0, 0.0, self.config.signals.face_degraded), seed=self.config.seed
        )
        rows = np.arange(calibration.rows)
        self.temperatures = fit_temperatures(export, calibration.inputs(rows), calibration.face_classes)
        return export

    def evaluate(self, model, folder: Path) -> Evaluation:
        """Validation once and test over :data:`TEST_PAIRINGS` seeded pairings, both signals clean."""
        metrics = {}
        validation = self.split_batches("validation", seed=self.config.seed)
        report = classification_metrics(validation.face_classes, predict_pairs(model, validation), FER_LABELS)
        metrics["validation_accuracy"], metrics["validation_macro_f1"] = report["accuracy"], report["macro_f1"]
        reports = [
            classification_metrics(batches.face_classes, predict_pairs(model, batches), FER_LABELS)
            for batches in (self.split_batches("test", seed=seed) for seed in range(TEST_PAIRINGS))
        ]
        for key in ("accuracy", "macro_f1"):
            values = [r[key] for r in reports]
            metrics[f"test_{key}_mean"], metrics[f"test_{key}_std"] = float(np.mean(values)), float(np.std(values))
        artifacts.write_json_atomic(folder / "evaluation.json", {"validation": report, "test_pairings": reports})
        return Evaluation(metrics)

    def manifest(self, model, evaluation: Evaluation) -> artifacts.Manifest:
        encoders = {}
        for name, directory in (("text", self.sources.text_model), ("face", self.sources.face_model)):
            encoder = artifacts.read_manifest(directory)
            encoders[name] = {
                "folder": str(directory),
                "kind": encoder.kind,
                "model_sha256": encoder.model_sha256,
                "labels": encoder.labels,
                "embedding": encoder.embedding,
            }
        text_dim, face_dim = self.input_dims()
        return artifacts.Manifest(
            kind=FUSION_KIND,
            labels=list(FER_LABELS),
            input={
                "text": f"(batch, {text_dim}) the text model's embedding, then its 7 Ekman probabilities",
                "face": f"(batch, {face_dim}) the face model's embedding, then its 7 probabilities",
                "presence": "(batch, 2) 1/0 for [text present, face present]",
            },
            preprocessing={"readings": "from the encoders named under extra.encoders (refused if their hash differs)"},
            metrics=evaluation.metrics,
            data={
                "pairs": "label-matched: a GoEmotions text of exactly one Ekman class x a FER-2013 face of that class",
                "train": f"train x Training ({len(self.faces['train']['clean'])} faces), re-paired every epoch",
                "selection": f"dev x PublicTest ({len(self.faces['validation']['clean'])} faces)",
                "test": f"test x PrivateTest ({len(self.faces['test']['clean'])} faces), {TEST_PAIRINGS} pairings",
                "smoke": is_smoke(),
            },
            extra={"encoders": encoders, "params": int(model.count_params()), "temperatures": self.temperatures},
        )


def training_view(model):
    """The fusion model with only its class probabilities as output (the other outputs have no target)."""
    import keras

    return keras.Model(model.input, {PROBABILITIES_OUTPUT: model.output[PROBABILITIES_OUTPUT]}, name=model.name)


def predict_pairs(model, batches: FusionBatches) -> np.ndarray:
    """The fusion model's class probabilities for every pair of ``batches`` (in face order)."""
    return predict_fusion(model, batches.inputs(np.arange(batches.rows)))[PROBABILITIES_OUTPUT]


def train_fusion(
    sources: FusionSources,
    out: str | Path,
    config: FusionTrainConfig | None = None,
    *,
    resume: bool = False,
    command: str = "",
    extra_callbacks: list | None = None,
) -> Path:
    """Trains, evaluates and saves a fusion model over two saved encoders.

    Args:
        sources: the encoders, the data and the table cache.
        out: the run folder (checkpoints, history, plots, ``model/``).
        config: hyper-parameters; shrunk under ``MEPE_SMOKE=1``.
        resume: continue the interrupted run in ``out``.
        command: the command line, recorded in the manifest.
        extra_callbacks: more Keras callbacks for ``fit``.

    Returns:
        The saved-model directory ``out/model``.
    """
    trainer = FusionTrainer(sources, for_run(config or FusionTrainConfig()))
    return run_training(trainer, out, resume=resume, command=command, extra_callbacks=extra_callbacks)
