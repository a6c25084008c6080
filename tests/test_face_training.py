import json

import keras
import numpy as np
import pytest

from conftest import write_fer_folder
from mepe_utils import artifacts
from mepe_utils.errors import MepeError, ModelFileError
from mepe_utils.labels import FER_LABELS
from mepe_utils.models.face import FaceModelConfig
from mepe_utils.training.face import FaceTrainConfig, class_sample_weights, train_face


def _tiny_config(epochs=2):
    return FaceTrainConfig(epochs=epochs, batch_size=8, warmup_epochs=1, patience=5, model=FaceModelConfig.tiny())


class _InterruptAfterFirstEpoch(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt  # the checkpoint callback ran before this one


@pytest.fixture(scope="module")
def fer_dir(tmp_path_factory):
    return write_fer_folder(tmp_path_factory.mktemp("fer"), per_class=4)


@pytest.mark.slow
def test_a_tiny_run_saves_a_checked_model_with_metrics_and_plots(fer_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("MEPE_SMOKE", raising=False)
    saved = train_face(fer_dir, tmp_path / "run", _tiny_config(epochs=1), command="pytest")
    model, manifest = artifacts.load_model(saved, kind="face-emotion", labels=FER_LABELS)
    assert model.predict_on_batch(np.zeros((1, 48, 48, 1), "float32")).shape == (1, 7)
    assert {"private_test_accuracy", "public_test_flip_tta_accuracy"} <= set(manifest.metrics)
    assert manifest.training["command"] == "pytest" and manifest.training["epochs_run"] == 1
    assert model.get_layer("embedding").dtype_policy.name == "float32"
    for name in ("history.csv", "curves.png", "confusion_private_test.png", "evaluation.json"):
        assert (tmp_path / "run" / name).is_file()


@pytest.mark.slow
def test_an_interrupted_run_resumes_from_its_last_checkpoint(fer_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("MEPE_SMOKE", raising=False)
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train_face(fer_dir, run, _tiny_config(), extra_callbacks=[_InterruptAfterFirstEpoch()])
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    assert state["epochs_done"] == 1
    iterations_after_one_epoch = keras.models.load_model(run / "checkpoints" / "last.keras").optimizer.iterations
    assert int(iterations_after_one_epoch) == 3  # 28 faces // batch 8

    with pytest.raises(MepeError, match="already holds a training run; pass --resume"):
        train_face(fer_dir, run, _tiny_config())
    changed = _tiny_config()
    changed.label_smoothing = 0.0
    with pytest.raises(MepeError, match=r"--resume must keep the run's options \(label_smoothing: 0.1 then, 0.0 now\)"):
        train_face(fer_dir, run, changed, resume=True)

    saved = train_face(fer_dir, run, _tiny_config(), resume=True)
    state = json.loads((run / "checkpoints" / "state.json").read_text())
    assert state["epochs_done"] == 2
    history = (run / "history.csv").read_text().strip().splitlines()
    assert len(history) == 3  # header + one row per epoch, the first kept from before the interruption
    assert int(keras.models.load_model(run / "checkpoints" / "last.keras").optimizer.iterations) == 6
    assert artifacts.read_manifest(saved).training["epochs_run"] == 2


@pytest.mark.slow
def test_a_warm_restart_starts_from_the_given_model_and_refuses_another_architecture(fer_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("MEPE_SMOKE", raising=False)
    first = train_face(fer_dir, tmp_path / "first", _tiny_config(epochs=1))
    config = _tiny_config(epochs=1)
    config.peak_learning_rate = 0.0  # nothing moves: the restart must equal its start
    warm = train_face(fer_dir, tmp_path / "warm", config, init_from=first)
    start, _ = artifacts.load_model(first, kind="face-emotion", labels=FER_LABELS)
    restarted, manifest = artifacts.load_model(warm, kind="face-emotion", labels=FER_LABELS)
    assert manifest.training["initialised_from"] == str(first)
    conv = next(w for w in start.weights if "kernel" in w.path)
    np.testing.assert_allclose(restarted.get_layer(conv.path.split("/")[0]).kernel.numpy(), conv.numpy(), rtol=1e-6)

    other = _tiny_config(epochs=1)
    other.model = FaceModelConfig(widths=(4, 8, 8), convs_per_stage=1, embedding_dim=8)
    with pytest.raises(ModelFileError, match="architecture .* differs"):
        train_face(fer_dir, tmp_path / "other", other, init_from=first)


def test_resume_without_a_checkpoint_is_refused(fer_dir, tmp_path):
    with pytest.raises(MepeError, match="nothing to resume"):
        train_face(fer_dir, tmp_path / "empty", _tiny_config(), resume=True)


def test_class_weights_favour_rare_classes_and_average_one():
    labels = np.array([0] * 90 + [1] * 10)
    weights = class_sample_weights(labels, power=0.5)
    assert weights.mean() == pytest.approx(1.0)
    assert weights[-1] / weights[0] == pytest.approx(3.0)


def test_face_batches_shuffle_each_epoch_drop_the_remainder_and_carry_weights():
    from mepe_utils.data.face_batches import FaceBatches

    images = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1) * np.ones((1, 48, 48, 1), np.uint8)
    labels, weights = np.arange(10), np.linspace(0.5, 1.5, 10).astype("float32")
    batches = FaceBatches(images, labels, batch_size=4, shuffle=True, seed=3, sample_weights=weights)
    assert len(batches) == 2
    first_epoch = [batches[i] for i in range(len(batches))]
    for batch_images, batch_labels, batch_weights in first_epoch:
        assert batch_images.dtype == np.float32
        np.testing.assert_array_equal(batch_images[:, 0, 0, 0], batch_labels)  # rows stay aligned
        np.testing.assert_array_equal(batch_weights, weights[batch_labels])
    batches.on_epoch_end()
    second_order = np.concatenate([batches[i][1] for i in range(len(batches))])
    assert not np.array_equal(np.concatenate([b[1] for b in first_epoch]), second_order)

    evaluation = FaceBatches(images, labels, batch_size=4)
    assert len(evaluation) == 3 and np.array_equal(np.concatenate([evaluation[i][1] for i in range(3)]), labels)


_TRAIN_WITHOUT_TENSORFLOW = """
import sys

class NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorflow":
            raise ImportError("TensorFlow is not installed here")

sys.meta_path.insert(0, NoTensorFlow())
from mepe_utils.models.face import FaceModelConfig
from mepe_utils.training.face import FaceTrainConfig, train_face

data_dir, out = sys.argv[1:]
config = FaceTrainConfig(epochs=1, batch_size=8, warmup_epochs=0, model=FaceModelConfig.tiny())
train_face(data_dir, out, config, command="first")
config.epochs = 2
train_face(data_dir, out, config, resume=True, command="resumed")
"""


@pytest.mark.slow
def test_face_training_runs_and_resumes_on_the_jax_backend_without_tensorflow(fer_dir, tmp_path):
    """The GPU path of runtimes that ship JAX but no TensorFlow (FaceBatches instead of tf.data)."""
    import os
    import subprocess
    import sys

    pytest.importorskip("jax", reason="the JAX backend is not installed (pip install -r requirements-dev.txt)")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    env.pop("MEPE_SMOKE", None)
    done = subprocess.run(
        [sys.executable, "-c", _TRAIN_WITHOUT_TENSORFLOW, str(fer_dir), str(tmp_path / "run")],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    model, manifest = artifacts.load_model(tmp_path / "run" / "model", kind="face-emotion", labels=FER_LABELS)
    assert model.predict_on_batch(np.zeros((2, 48, 48, 1), "float32")).shape == (2, 7)
    assert manifest.training["command"] == "first" and manifest.training["resumed_with"] == ["resumed"]
    assert manifest.training["hardware"].endswith("(Keras backend: jax)")
    assert manifest.training["epochs_run"] == 2


def test_a_training_set_smaller_than_one_batch_is_refused(fer_dir, tmp_path):
    config = FaceTrainConfig(epochs=1, batch_size=64, model=FaceModelConfig.tiny())
    with pytest.raises(MepeError, match="28 training faces, fewer than one batch of 64"):
        train_face(fer_dir, tmp_path / "run", config)
