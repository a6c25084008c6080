"""Resumable training: a checkpoint every epoch, best-on-validation weights, early stopping.

A run folder holds::

    checkpoints/last.keras        model + optimizer state after the last finished epoch
    checkpoints/best.weights.h5   weights of the best epoch on the monitored metric
    checkpoints/state.json        epochs done, best value and epoch, patience counter
    history.csv                   one row per epoch

Every file is written atomically, so an interrupted run resumes from the last
finished epoch with ``initial_epoch`` and the same early-stopping state.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import keras

from mepe_utils.artifacts import write_json_atomic, write_text_atomic
from mepe_utils.errors import MepeError


@dataclass
class RunState:
    """Progress of a training run, saved after every epoch."""

    epochs_done: int = 0
    best_value: float | None = None
    best_epoch: int = -1
    wait: int = 0
    stopped_early: bool = False
    train_seconds: float = 0.0
    commands: list[str] = field(default_factory=list)
    """The command lines that ran this run: the one that started it, then each ``--resume``."""


class RunFolder:
    """Paths and state of one training run folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.checkpoints = self.root / "checkpoints"
        self.last_model = self.checkpoints / "last.keras"
        self.best_weights = self.checkpoints / "best.weights.h5"
        self.state_file = self.checkpoints / "state.json"
        self.history_csv = self.root / "history.csv"

    def has_checkpoint(self) -> bool:
        return self.state_file.is_file() and self.last_model.is_file()

    def read_state(self) -> RunState:
        return RunState(**json.loads(self.state_file.read_text()))

    def read_history(self) -> list[dict[str, float]]:
        if not self.history_csv.is_file():
            return []
        with self.history_csv.open(newline="") as handle:
            return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)]

    def prepare(self, resume: bool) -> RunState:
        """Checks the folder against ``resume`` and returns the state to start from.

        Raises:
            MepeError: a checkpoint exists and ``resume`` is False (would overwrite
                a run), or ``resume`` is True and there is nothing to resume.
        """
        if self.has_checkpoint() and not resume:
            raise MepeError(f"{self.root} already holds a training run; pass --resume or choose another --out")
        if resume and not self.has_checkpoint():
            raise MepeError(f"nothing to resume in {self.root} (no checkpoints/state.json and last.keras)")
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        return self.read_state() if resume else RunState()


class ResumableCheckpoint(keras.callbacks.Callback):
    """Saves the run after every epoch and stops early on a validation metric.

    Args:
        run: the run folder.
        state: state to continue from (``RunState()`` for a new run).
        monitor: the logged metric to maximise (``val_accuracy``) or minimise.
        mode: ``"max"`` or ``"min"``.
        patience: epochs without improvement before stopping.
    """

    def __init__(self, run: RunFolder, state: RunState, monitor: str, mode: str = "max", patience: int = 10):
        super().__init__()
        self.run, self.state, self.monitor, self.mode, self.patience = run, state, monitor, mode, patience
        self._history = run.read_history()[: state.epochs_done]
        self._epoch_start = 0.0

    def _improved(self, value: float) -> bool:
        if self.state.best_value is None:
            return True
        return value > self.state.best_value if self.mode == "max" else value < self.state.best_value

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.monitor not in logs:
            raise MepeError(f"metric {self.monitor!r} not logged; logged: {sorted(logs)}")
        value = float(logs[self.monitor])
        optimizer = self.model.optimizer
        learning_rate = optimizer.learning_rate
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(learning_rate))
        self.state.train_seconds += time.time() - self._epoch_start
        if math.isfinite(value) and self._improved(value):
            self.state.best_value, self.state.best_epoch, self.state.wait = value, epoch, 0
            tmp = self.run.best_weights.with_name(".best.tmp.weights.h5")
            self.model.save_weights(tmp)
            os.replace(tmp, self.run.best_weights)
        else:
            self.state.wait += 1
        self.state.epochs_done = epoch + 1
        self._history.append({"epoch": float(epoch), **{k: float(v) for k, v in logs.items()}})
        self._write_history()
        tmp_model = self.run.last_model.with_name(".last.tmp.keras")
        self.model.save(tmp_model)
        os.replace(tmp_model, self.run.last_model)
        if self.state.wait >= self.patience:
            self.state.stopped_early = True
            self.model.stop_training = True
        write_json_atomic(self.run.state_file, asdict(self.state))

    def _write_history(self) -> None:
        columns = sorted({key for row in self._history for key in row}, key=lambda k: (k != "epoch", k))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        writer.writerows(self._history)
        write_text_atomic(self.run.history_csv, buffer.getvalue())


def start_run(out: str | Path, config, resume: bool, command: str = "") -> tuple[RunFolder, RunState]:
    """Opens a run folder, seeds the run and records its ``config.json``.

    Args:
        out: the run folder.
        config: the run's hyper-parameters, a dataclass with a ``seed``.
        resume: continue the interrupted run in ``out``; its options must be the
            saved ``config.json``'s, except ``epochs`` and ``patience``.
        command: this invocation's command line, added to ``state.commands``
            (empty when not run from a command line).

    Returns:
        ``(run, state)``. The global seed is ``config.seed`` for every run: it sets a
        new model's initialisation; a resumed run takes its model's random state
        (dropout) from the checkpoint and its batches from ``(seed, epoch)``.

    Raises:
        MepeError: the folder does not suit ``resume``, or a resume changes the run's options.
    """
    from mepe_utils.runtime import set_seed

    run = RunFolder(out)
    state = run.prepare(resume)
    settings = json.loads(json.dumps(asdict(config)))
    if resume:
        _check_same_options(run.root / "config.json", settings)
        if not state.commands:
            state.commands.append("")  # a run from before commands were recorded
    state.commands.append(command)
    set_seed(config.seed)
    write_json_atomic(run.root / "config.json", settings)
    return run, state


RESUMABLE_CHANGES = ("epochs", "patience")
"""Options a resume may change: how long the run goes on. Everything else is the run's identity."""


def _check_same_options(saved_path: Path, settings: dict) -> None:
    if not saved_path.is_file():
        return
    saved = json.loads(saved_path.read_text())
    changed = sorted(
        key
        for key in saved.keys() | settings.keys()
        if key not in RESUMABLE_CHANGES and saved.get(key) != settings.get(key)
    )
    if changed:
        details = "; ".join(f"{key}: {saved.get(key)!r} then, {settings.get(key)!r} now" for key in changed)
        raise MepeError(f"{saved_path.parent}: --resume must keep the run's options ({details})")


def fit_resumable(
    model,
    run: RunFolder,
    state: RunState,
    train_data,
    validation_data,
    *,
    epochs: int,
    monitor: str,
    mode: str,
    patience: int,
    extra_callbacks: list | None = None,
    steps_per_epoch: int | None = None,
) -> RunState:
    """Trains the epochs still to do (checkpoint every epoch), then loads the best epoch's weights.

    Args:
        steps_per_epoch: batches per epoch when ``train_data`` is an endless stream (else None).

    Returns:
        The run state after training.
    """
    import sys

    if state.epochs_done < epochs and not state.stopped_early:
        model.fit(
            train_data,
            validation_data=validation_data,
            epochs=epochs,
            initial_epoch=state.epochs_done,
            steps_per_epoch=steps_per_epoch,
            shuffle=False,  # the data pipelines shuffle, seeded
            callbacks=[ResumableCheckpoint(run, state, monitor, mode, patience), *(extra_callbacks or [])],
            verbose=1 if sys.stdout.isatty() else 2,
        )
        state = run.read_state()
    model.load_weights(run.best_weights)
    return state


def training_record(config, state: RunState, **more) -> dict:
    """The manifest's ``training`` block: configuration, seed, epochs, time, hardware, command.

    ``command`` is the line that started the run (the one that reproduces it; empty
    when it did not come from a command line); ``resumed_with`` lists the
    ``--resume`` lines of an interrupted run.
    """
    from mepe_utils.runtime import hardware_description

    commands = state.commands or [""]
    resumes = {"resumed_with": commands[1:]} if len(commands) > 1 else {}
    return {
        "config": asdict(config),
        "seed": config.seed,
        "epochs_run": state.epochs_done,
        "best_epoch": state.best_epoch + 1,
        "stopped_early": state.stopped_early,
        "train_seconds": round(state.train_seconds, 1),
        "hardware": hardware_description(),
        "command": commands[0],
        **resumes,
        **more,
    }
