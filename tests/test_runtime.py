import numpy as np
import pytest

from mepe_utils import runtime


def test_smoke_switch_reads_the_environment(monkeypatch):
    monkeypatch.setenv("MEPE_SMOKE", "1")
    assert runtime.is_smoke()
    monkeypatch.setenv("MEPE_SMOKE", "0")
    assert not runtime.is_smoke()
    monkeypatch.delenv("MEPE_SMOKE")
    assert not runtime.is_smoke()


def test_data_dir_prefers_the_argument_then_the_environment(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.setenv("MEPE_DATA_DIR", str(tmp_path / "b"))
    assert runtime.resolve_data_dir(tmp_path / "a") == (tmp_path / "a").resolve()
    assert runtime.resolve_data_dir() == (tmp_path / "b").resolve()
    monkeypatch.setenv("MEPE_DATA_DIR", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="no MEPE data folder found .*missing.*MEPE_DATA_DIR"):
        runtime.resolve_data_dir()
    assert runtime.resolve_data_dir(required=False) is None


def test_artifacts_dir_from_argument_and_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MEPE_ARTIFACTS", str(tmp_path / "env"))
    assert runtime.resolve_artifacts_dir() == tmp_path / "env"
    assert (tmp_path / "env").is_dir()
    assert runtime.resolve_artifacts_dir(tmp_path / "arg") == tmp_path / "arg"


def test_seeding_makes_numpy_and_keras_repeatable():
    import keras

    runtime.set_seed(7)
    first = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    runtime.set_seed(7)
    second = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_policy_and_strategy_follow_this_machine():
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        assert runtime.best_mixed_precision_policy() in {"mixed_float16", "mixed_bfloat16", "float32"}
    else:
        assert runtime.best_mixed_precision_policy() == ("mixed_bfloat16" if runtime._cpu_has_bf16() else "float32")
    assert runtime.distribution_strategy().num_replicas_in_sync == (len(gpus) if len(gpus) > 1 else 1)


@pytest.mark.slow
def test_keras_backend_is_read_without_importing_keras(tmp_path):
    import os
    import subprocess
    import sys

    def backend_seen(env):
        probe = "import sys; from mepe_utils import runtime; print(runtime.keras_backend(), 'keras' in sys.modules)"
        return subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True).stdout.split()

    assert backend_seen({**os.environ, "KERAS_BACKEND": "jax"}) == ["jax", "False"]
    (tmp_path / "keras.json").write_text('{"backend": "torch"}')
    without_variable = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    assert backend_seen({**without_variable, "KERAS_HOME": str(tmp_path)}) == ["torch", "False"]


def test_gpu_precision_follows_the_compute_capability():
    assert runtime._gpu_policy((9, 0)) == "mixed_bfloat16"  # Hopper, Ampere: bfloat16, no loss scaling
    assert runtime._gpu_policy((7, 5)) == "mixed_float16"  # Turing (Colab's T4)
    assert runtime._gpu_policy((6, 0)) == "float32"


def test_hardware_description_names_the_backend():
    import keras

    assert runtime.hardware_description().endswith(f"(Keras backend: {keras.backend.backend()})")
