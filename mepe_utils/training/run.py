"""One training skeleton for every MEPE model: :func:`run_training` over a model's :class:`Trainer`.

Every trainer goes through the same steps, written once here::

    config (shrunk under MEPE_SMOKE=1) -> run folder (config.json, resume checks, seed)
    -> data -> batches -> model (built, or the checkpoint of an interrupted run)
    -> resumable fit (checkpoint every epoch, best epoch on validation, early stopping)
    -> float32 export -> evaluation (reports, figures) -> curves -> manifest -> saved model

A model kind brings only what differs, as the hooks of a :class:`Trainer`:
its data, its batches, its model and optimiser, its export, its evaluation and
its manifest. The resume policy is the same for all: the batches of epoch
``e`` are a function of ``(seed, e)`` (:mod:`mepe_utils.data.batches`) and the
model's random state (dropout) is restored from the checkpoint, so a run
resumed after ``k`` epochs trains as the uninterrupted run would have.

Example (the shape of a trainer module)::

    def train_face(data_dir, out, config=None, *, resume=False, command=""):
        trainer = FaceTrainer(data_dir, for_run(config or FaceTrainConfig()))
        return run_training(trainer, out, resume=resume, command=command)
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mepe_utils import artifacts
from mepe_utils.models.common import EMBEDDING_LAYER, embedding_signature
from mepe_utils.plots import plot_history
from mepe_utils.runtime import best_mixed_precision_policy, distribution_strategy, dtype_policy, is_smoke
from mepe_utils.training.checkpoints import fit_resumable, start_run, training_record


def for_run(config):
    """``config`` as this run uses it: ``config.for_smoke()`` under ``MEPE_SMOKE=1``, else unchanged."""
    return config.for_smoke() if is_smoke() else config


@dataclass
class Batches:
    """What :meth:`Trainer.batches` returns: the training and validation batches and the steps per epoch.

    Attributes:
        train: the training batches (a Keras ``PyDataset`` of one epoch, or an endless ``tf.data`` stream).
        validation: the validation batches.
        steps_per_epoch: training batches per epoch.
        repeats: True when ``train`` is an endless stream (``fit`` then counts ``steps_per_epoch``).
    """

    train: Any
    validation: Any
    steps_per_epoch: int
    repeats: bool = False


@dataclass
class Evaluation:
    """What :meth:`Trainer.evaluate` returns.

    Attributes:
        metrics: flat numbers for the manifest (``<split>_<metric>``).
        details: anything the trainer's :meth:`Trainer.manifest` needs from the evaluation (thresholds ...).
    """

    metrics: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)


class Trainer(abc.ABC):
    """The hooks one model kind gives :func:`run_training`.

    Attributes:
        config: the run's configuration dataclass (with ``epochs``, ``patience``, ``seed``).
        monitor: the logged validation metric that picks the best epoch.
        mode: ``"max"`` or ``"min"`` for ``monitor``.
        curves: the metrics drawn in ``curves.png``.
        embedding_layer: the named layer whose output is the model's embedding (recorded in the manifest).
    """

    monitor: str = "val_loss"
    mode: str = "min"
    curves: tuple[str, ...] = ("loss",)
    embedding_layer: str = EMBEDDING_LAYER
    weights_storage: str = "float32"
    """How ``model.keras`` stores its weights (``float16``: half the file; :func:`~mepe_utils.artifacts.save_model`)."""

    def __init__(self, config):
        self.config = config

    @abc.abstractmethod
    def load_data(self) -> None:
        """Loads (and under smoke mode shrinks) the data the later hooks read."""

    @abc.abstractmethod
    def batches(self, start_epoch: int) -> Batches:
        """Training batches continuing from ``start_epoch`` (seeded by epoch), and validation batches."""

    @abc.abstractmethod
    def build_model(self, steps_per_epoch: int):
        """A new compiled model (called inside the run's dtype policy and distribution strategy)."""

    def resume_model(self, checkpoint: Path, steps_per_epoch: int):
        """The model of an interrupted run, its optimizer state included, from its last checkpoint."""
        import keras

        return keras.models.load_model(checkpoint)

    @abc.abstractmethod
    def export(self, model):
        """The trained model rebuilt with float32 layers and the trained weights, uncompiled."""

    @abc.abstractmethod
    def evaluate(self, model, folder: Path) -> Evaluation:
        """Scores the exported model on the held-out splits; writes its reports and figures into ``folder``."""

    @abc.abstractmethod
    def manifest(self, model, evaluation: Evaluation) -> artifacts.Manifest:
        """The saved model's manifest without its ``training`` block (the skeleton adds it)."""

    def assets(self) -> dict:
        """Files saved beside ``model.keras`` (``{name: writer}``, see :func:`mepe_utils.artifacts.save_model`)."""
        return {}

    def compute_policy(self, best: str) -> str:
        """The dtype policy to train in, given the hardware's fastest (:func:`best_mixed_precision_policy`)."""
        return best

    def training_details(self) -> dict:
        """More fields for the manifest's ``training`` block."""
        return {}


def run_training(
    trainer: Trainer, out: str | Path, *, resume: bool = False, command: str = "", extra_callbacks: list | None = None
) -> Path:
    """Trains, evaluates and saves one model through its trainer's hooks.

    Args:
        trainer: the model kind's hooks and configuration (already shrunk by :func:`for_run`).
        out: the run folder: ``config.json``, checkpoints, ``history.csv``, reports, ``model/``.
        resume: continue the interrupted run in ``out`` (its options must be unchanged but for
            ``epochs`` and ``patience``).
        command: the command line, recorded in the manifest.
        extra_callbacks: more Keras callbacks for ``fit`` (TensorBoard, a notebook progress plot ...).

    Returns:
        The saved-model directory ``out/model``.
    """

    config = trainer.config
    run, state = start_run(out, config, resume, command)
    trainer.load_data()
    batches = trainer.batches(start_epoch=state.epochs_done)
    policy = trainer.compute_policy(best_mixed_precision_policy())
    strategy = distribution_strategy()
    with dtype_policy(policy), strategy.scope():
        steps = batches.steps_per_epoch
        model = trainer.resume_model(run.last_model, steps) if resume else trainer.build_model(steps)
        state = fit_resumable(
            model, run, state, batches.train, batches.validation, epochs=config.epochs, monitor=trainer.monitor,
            mode=trainer.mode, patience=config.patience, extra_callbacks=extra_callbacks,
            steps_per_epoch=batches.steps_per_epoch if batches.repeats else None,
        )  # fmt: skip
    export = trainer.export(model)
    evaluation = trainer.evaluate(export, run.root)
    plot_history(run.read_history(), metrics=trainer.curves, path=run.root / "curves.png")
    manifest = trainer.manifest(export, evaluation)
    manifest.training = training_record(
        config, state, compute_policy=policy, replicas=strategy.num_replicas_in_sync, **trainer.training_details()
    )
    manifest.embedding = embedding_signature(export, trainer.embedding_layer)
    return artifacts.save_model(
        export, run.root / "model", manifest, assets=trainer.assets(), weights_storage=trainer.weights_storage
    )
