import json

import keras
import pytest

from conftest import write_fer_folder
from mepe_utils.bench.face import COLUMNS, mini_xception_preprocess
from mepe_utils.cli import main


@pytest.fixture(scope="module")
def tiny_peer(tmp_path_factory):
    """A stand-in with mini-Xception's interface: 64x64x1 input in -1..1, 7 softmax outputs, .hdf5 file."""
    inputs = keras.Input((64, 64, 1))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
    path = tmp_path_factory.mktemp("peer") / "peer.hdf5"
    keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(x)).save(path)
    return path


def test_mini_xception_preprocessing_matches_its_recipe():
    import numpy as np

    faces = np.zeros((2, 48, 48, 1), np.uint8)
    faces[1] = 255
    out = mini_xception_preprocess(faces)
    assert out.shape == (2, 64, 64, 1)
    assert out[0].max() == -1.0 and out[1].min() == 1.0


def bench_face(data, model_dir, peer, *more: str) -> int:
    return main(["bench-face", "--data-dir", str(data), "--model", str(model_dir), "--peer", str(peer), *more])


@pytest.mark.slow
def test_bench_face_writes_both_models_with_the_agreed_keys(tmp_path, tiny_face_model_dir, tiny_peer, capsys):
    data = write_fer_folder(tmp_path / "fer", per_class=2)
    out = tmp_path / "bench.json"
    code = bench_face(data, tiny_face_model_dir, tiny_peer, "--json", str(out), "--calls", "5")
    assert code == 0
    results = json.loads(out.read_text())
    for name in ("mepe", "mini_xception"):
        assert set(COLUMNS) <= set(results[name])
        assert 0.0 <= results[name]["private_test_accuracy"] <= 1.0
        assert results[name]["latency_ms_p50"] > 0 and results[name]["throughput_per_s"] > 0
    assert results["mini_xception"]["params"] == keras.models.load_model(tiny_peer, compile=False).count_params()
    assert results["setup"]["split"] == "PrivateTest (14 faces)"
    assert "mini_xception" in capsys.readouterr().out


def test_bench_face_names_a_missing_peer(tmp_path, tiny_face_model_dir):
    data = write_fer_folder(tmp_path / "fer", per_class=1)
    code = bench_face(data, tiny_face_model_dir, tmp_path / "absent.hdf5")
    assert code == 2
