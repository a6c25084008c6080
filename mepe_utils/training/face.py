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
from mepe_utils.models.common import embedding_signature
from mepe_utils.models.face import FaceModelConfig, build_face_model
from mepe_utils.plots import plot_confusion_matrix, plot_history
from mepe_utils.runtime import (
    best_mixed_precision_policy,
    distribution_strategy,
    dtype_policy,
    is_smoke,
)
from mepe_utils.training.checkpoints import fit_resumable, start_run, training_record

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


def _float32_copy(model, config: FaceModelConfig):
    """Rebuilds the model with float32 layers and copies the weights (for export)."""
    with dtype_policy("float32"):
        export = build_face_model(config)
    export.set_weights(model.get_weights())
    return export


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
    import keras

    config = config or FaceTrainConfig()
    if is_smoke():
        config = config.for_smoke()
    run, state = start_run(out, config, resume, command)
    train, validation, test = select_splits(load_fer2013(data_dir))
    if is_smoke():
        train, validation, test = (_subsample(d, config.smoke_rows, config.seed) for d in (train, validation, test))

    steps_per_epoch = len(train) // config.batch_size
    if steps_per_epoch == 0:
        raise DataError(f"{data_dir}: {len(train)} training faces, fewer than one batch of {config.batch_size}")
    policy = best_mixed_precision_policy()
    strategy = distribution_strategy()
    weights = class_sample_weights(train.labels, config.class_weight_power) if config.class_weight_power else None
    train_ds = make_dataset(
        train,
        batch_size=config.batch_size,
        shuffle=True,
        seed=config.seed,
        augment=config.augment,
        sample_weights=weights,
        start_epoch=state.epochs_done,
    )
    val_ds = make_dataset(validation, batch_size=512)

    with dtype_policy(policy), strategy.scope():
        if resume:
            model = keras.models.load_model(run.last_model)
        else:
            model = build_face_model(config.model)
            if init_from is not None:
                _copy_weights(artifacts.load_model(init_from, kind=FACE_KIND, labels=FER_LABELS)[0], model, init_from)
            _compile(model, config, steps_per_epoch)
        state = fit_resumable(
            model, run, state, train_ds, val_ds, epochs=config.epochs, monitor="val_accuracy", mode="max",
            patience=config.patience, extra_callbacks=extra_callbacks,
        )  # fmt: skip
    export = _float32_copy(model, config.model)

    metrics, reports = {}, {}
    for split_name, split in (("public_test", validation), ("private_test", test)):
        for tta in (False, True):
            probabilities = predict_probabilities(export, split.images, flip_tta=tta)
            report = classification_metrics(split.labels, probabilities, FER_LABELS)
            key = f"{split_name}{'_flip_tta' if tta else ''}"
            reports[key] = report
            metrics[f"{key}_accuracy"] = report["accuracy"]
            metrics[f"{key}_macro_f1"] = report["macro_f1"]
            plot_confusion_matrix(
                report["confusion"],
                FER_LABELS,
                title=f"FER-2013 {key}: accuracy {report['accuracy']:.3f}",
                path=run.root / f"confusion_{key}.png",
            )
    artifacts.write_json_atomic(run.root / "evaluation.json", reports)
    plot_history(run.read_history(), path=run.root / "curves.png")

    manifest = artifacts.Manifest(
        kind=FACE_KIND,
        labels=list(FER_LABELS),
        input={
            "shape": [config.model.image_size, config.model.image_size, 1],
            "dtype": "float32",
            "range": [0, 255],
            "item": "one gray face crop",
        },
        preprocessing=FACE_PREPROCESSING,
        metrics=metrics,
        data={
            "dataset": "FER-2013",
            "source": str(Path(data_dir)),
            "train": f"Training ({len(train)} faces)",
            "selection": f"PublicTest ({len(validation)} faces): early stopping and best epoch",
            "test": f"PrivateTest ({len(test)} faces): reported once",
            "smoke": is_smoke(),
        },
        training=training_record(
            config,
            state,
            initialised_from=str(init_from) if init_from is not None else None,
            compute_policy=policy,
            replicas=strategy.num_replicas_in_sync,
        ),
        extra={"params": int(export.count_params())},
        embedding=embedding_signature(export),
    )
    return artifacts.save_model(export, run.root / "model", manifest)
