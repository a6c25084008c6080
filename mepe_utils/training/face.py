"""Training the FER-2013 face CNN: ``python -m mepe_utils train-face``.

Protocol: train on ``Training``, select the epoch on ``PublicTest`` (early
stopping and best weights), report ``PrivateTest`` once at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.data.face_augment import FaceAugmentConfig
from mepe_utils.data.fer2013 import FaceData, load_fer2013, make_dataset
from mepe_utils.errors import DataError, ModelFileError
from mepe_utils.evaluation import classification_metrics
from mepe_utils.labels import FER_LABELS, NUM_FER
from mepe_utils.models.face import FaceModelConfig, build_face_model
from mepe_utils.plots import plot_confusion_matrix
from mepe_utils.runtime import dtype_policy, is_smoke
from mepe_utils.training.run import Batches, Evaluation, Trainer, for_run, run_training

FACE_KIND = artifacts.FACE_KIND
FACE_PREPROCESSING = {
    "color": "gray (OpenCV BGR2GRAY weights)",
    "size": "48x48, INTER_AREA",
    "values": "float32 pixels in 0..255; the model rescales to -1..1 itself",
    "photos": "Haar face detection, 20% margin, square crop (mepe_utils.vision.faces)",
}


@dataclass
class FaceTrainConfig:
    """Hyper-parameters of a face training run.

    Attributes:
        epochs: planned epochs; the cosine schedule spans exactly these.
        batch_size: global batch size.
        peak_learning_rate: AdamW rate after warm-up.
        warmup_epochs: linear warm-up length.
        weight_decay: decoupled AdamW decay (not applied to BatchNorm and biases).
        label_smoothing: categorical label smoothing.
        class_weight_power: per-class sample weight ``(n_mean / n_class) ** power``;
            0 disables, 1 is full inverse frequency.
        patience: epochs without PublicTest improvement before stopping.
        seed: seeds data order, augmentation and initialisation.
        smoke_rows: rows per split kept under ``MEPE_SMOKE=1``.
    """

    epochs: int = 42
    batch_size: int = 128
    peak_learning_rate: float = 2e-3
    warmup_epochs: int = 2
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    class_weight_power: float = 0.5
    patience: int = 12
    seed: int = 42
    model: FaceModelConfig = field(default_factory=FaceModelConfig)
    augment: FaceAugmentConfig = field(default_factory=FaceAugmentConfig)
    smoke_rows: int = 256

    def for_smoke(self) -> FaceTrainConfig:
        """The same run shrunk for CI: one epoch, tiny model, a few hundred faces."""
        return FaceTrainConfig(
            epochs=1,
            batch_size=32,
            warmup_epochs=0,
            patience=1,
            seed=self.seed,
            model=FaceModelConfig.tiny(),
            augment=self.augment,
            smoke_rows=self.smoke_rows,
        )


def select_splits(data: FaceData) -> tuple[FaceData, FaceData, FaceData]:
    """Returns (train, validation, test): Training / PublicTest / PrivateTest.

    When file names carry no usage (plain ``train``/``test`` folders), the
    validation set is a seeded 10% of ``train`` and ``test`` is the test set.
    """
    usages = set(data.usage.tolist())
    if {"Training", "PublicTest", "PrivateTest"} <= usages:
        return data.split("Training"), data.split("PublicTest"), data.split("PrivateTest")
    if {"train", "test"} <= usages:
        train = data.split("train")
        order = np.random.default_rng(0).permutation(len(train))
        cut = len(train) // 10
        pick = lambda rows: FaceData(train.images[rows], train.labels[rows], train.usage[rows], train.source)  # noqa: E731
        return pick(order[cut:]), pick(order[:cut]), data.split("test")
    raise DataError(f"{data.source}: cannot find train/validation/test splits in usages {sorted(usages)}")


def _subsample(data: FaceData, rows: int, seed: int) -> FaceData:
    if len(data) <= rows:
        return data
    keep = np.sort(np.random.default_rng(seed).choice(len(data), rows, replace=False))
    return FaceData(data.images[keep], data.labels[keep], data.usage[keep], data.source)


def class_sample_weights(labels: np.ndarray, power: float) -> np.ndarray:
    """Per-row weights ``(n_mean / n_class) ** power``, normalised to mean 1 over the rows."""
    counts = np.bincount(labels, minlength=NUM_FER).astype(np.float64)
    per_class = (counts.mean() / np.maximum(counts, 1)) ** power
    weights = per_class[labels]
    return (weights / weights.mean()).astype(np.float32)


def predict_probabilities(model, images: np.ndarray, *, flip_tta: bool = False, batch_size: int = 512) -> np.ndarray:
    """Class probabilities for uint8/float faces, optionally averaged with their mirror image."""
    images = images.astype(np.float32)
    probabilities = model.predict(images, batch_size=batch_size, verbose=0)
    if flip_tta:
        probabilities = (probabilities + model.predict(images[:, :, ::-1], batch_size=batch_size, verbose=0)) / 2
    return probabilities


def _compile(model, config: FaceTrainConfig, steps_per_epoch: int):
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=config.peak_learning_rate / 100 if config.warmup_epochs else config.peak_learning_rate,
        decay_steps=max(1, (config.epochs - config.warmup_epochs) * steps_per_epoch),
        alpha=0.01,
        warmup_target=config.peak_learning_rate if config.warmup_epochs else None,
        warmup_steps=config.warmup_epochs * steps_per_epoch,
    )
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=config.weight_decay)
    optimizer.exclude_from_weight_decay(var_names=["_bn", "bias"])
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
    )


def _copy_weights(source, target, source_path) -> None:
    """Copies a saved model's weights into ``target``; a different architecture is a clear error."""
    shapes = [tuple(w.shape) for w in source.weights]
    expected = [tuple(w.shape) for w in target.weights]
    if shapes != expected:
        raise ModelFileError(
            f"{source_path}: its architecture ({len(shapes)} weight tensors) differs from this run's model "
            f"({len(expected)}); --init-from needs a face model built with the same FaceModelConfig"
        )
    target.set_weights(source.get_weights())


class FaceTrainer(Trainer):
    """The face CNN's hooks: FER-2013 splits, augmented seeded batches, AdamW + cosine, PublicTest selection.

    Args:
        data_dir: FER-2013 as ``fer2013.csv`` or the Kaggle folder layout.
        config: hyper-parameters (shrunk by :func:`~mepe_utils.training.run.for_run`).
        init_from: a saved face model whose weights start the run (a warm restart with a new schedule).
    """

    monitor = "val_accuracy"
    mode = "max"
    curves = ("loss", "accuracy")

    def __init__(self, data_dir: str | Path, config: FaceTrainConfig, init_from: str | Path | None = None):
        super().__init__(config)
        self.data_dir = data_dir
        self.init_from = init_from

    def load_data(self) -> None:
        self.train, self.validation, self.test = select_splits(load_fer2013(self.data_dir))
        if is_smoke():
            rows, seed = self.config.smoke_rows, self.config.seed
            self.train, self.validation, self.test = (
                _subsample(d, rows, seed) for d in (self.train, self.validation, self.test)
            )

    def batches(self, start_epoch: int) -> Batches:
        config = self.config
        steps_per_epoch = len(self.train) // config.batch_size
        if steps_per_epoch == 0:
            raise DataError(
                f"{self.data_dir}: {len(self.train)} training faces, fewer than one batch of {config.batch_size}"
            )
        power = config.class_weight_power
        weights = class_sample_weights(self.train.labels, power) if power else None
        train = make_dataset(
            self.train, batch_size=config.batch_size, shuffle=True, seed=config.seed, augment=config.augment,
            sample_weights=weights, start_epoch=start_epoch,
        )  # fmt: skip
        return Batches(train, make_dataset(self.validation, batch_size=512), steps_per_epoch)

    def build_model(self, steps_per_epoch: int):
        model = build_face_model(self.config.model)
        if self.init_from is not None:
            source = artifacts.load_model(self.init_from, kind=FACE_KIND, labels=FER_LABELS)[0]
            _copy_weights(source, model, self.init_from)
        _compile(model, self.config, steps_per_epoch)
        return model

    def export(self, model):
        with dtype_policy("float32"):
            export = build_face_model(self.config.model)
        export.set_weights(model.get_weights())
        return export

    def evaluate(self, model, folder: Path) -> Evaluation:
        metrics, reports = {}, {}
        for split_name, split in (("public_test", self.validation), ("private_test", self.test)):
            for tta in (False, True):
                probabilities = predict_probabilities(model, split.images, flip_tta=tta)
                report = classification_metrics(split.labels, probabilities, FER_LABELS)
                key = f"{split_name}{'_flip_tta' if tta else ''}"
                reports[key] = report
                metrics[f"{key}_accuracy"] = report["accuracy"]
                metrics[f"{key}_macro_f1"] = report["macro_f1"]
                plot_confusion_matrix(
                    report["confusion"],
                    FER_LABELS,
                    title=f"FER-2013 {key}: accuracy {report['accuracy']:.3f}",
                    path=folder / f"confusion_{key}.png",
                )
        artifacts.write_json_atomic(folder / "evaluation.json", reports)
        return Evaluation(metrics)

    def manifest(self, model, evaluation: Evaluation) -> artifacts.Manifest:
        size = self.config.model.image_size
        return artifacts.Manifest(
            kind=FACE_KIND,
            labels=list(FER_LABELS),
            input={"shape": [size, size, 1], "dtype": "float32", "range": [0, 255], "item": "one gray face crop"},
            preprocessing=FACE_PREPROCESSING,
            metrics=evaluation.metrics,
            data={
                "dataset": "FER-2013",
                "source": str(Path(self.data_dir)),
                "train": f"Training ({len(self.train)} faces)",
                "selection": f"PublicTest ({len(self.validation)} faces): early stopping and best epoch",
                "test": f"PrivateTest ({len(self.test)} faces): reported once",
                "smoke": is_smoke(),
            },
            extra={"params": int(model.count_params())},
        )

    def training_details(self) -> dict:
        return {"initialised_from": str(self.init_from) if self.init_from is not None else None}


def train_face(
    data_dir: str | Path,
    out: str | Path,
    config: FaceTrainConfig | None = None,
    *,
    resume: bool = False,
    init_from: str | Path | None = None,
    command: str = "",
    extra_callbacks: list | None = None,
) -> Path:
    """Trains, evaluates and saves the face CNN.

    Args:
        data_dir: FER-2013 as ``fer2013.csv`` or the Kaggle folder layout.
        out: the run folder (checkpoints, history, plots, ``model/``).
        config: hyper-parameters; shrunk automatically under ``MEPE_SMOKE=1``.
        resume: continue the interrupted run in ``out``.
        init_from: a saved face model (foundation format) whose weights start this run
            instead of a fresh initialisation: a warm restart with a new schedule.
        command: the command line, recorded in the manifest.
        extra_callbacks: more Keras callbacks for ``fit`` (TensorBoard, a notebook progress plot ...).

    Returns:
        The saved-model directory ``out/model``.
    """
    trainer = FaceTrainer(data_dir, for_run(config or FaceTrainConfig()), init_from)
    return run_training(trainer, out, resume=resume, command=command, extra_callbacks=extra_callbacks)
