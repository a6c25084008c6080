import json

import keras
import numpy as np
import pytest

from mepe_utils import artifacts
from mepe_utils.errors import LabelError, ModelFileError
from mepe_utils.labels import FER_LABELS


def _tiny_model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(7, activation="softmax", name="probabilities")(inputs))


def _manifest(**overrides):
    fields = {"kind": "face-emotion", "labels": list(FER_LABELS), "input": {"shape": [4]}, "metrics": {"acc": 0.5}}
    return artifacts.Manifest(**{**fields, **overrides})


@pytest.fixture
def saved(tmp_path):
    model = _tiny_model()
    directory = artifacts.save_model(model, tmp_path / "model", _manifest(), card_notes="Trained for a test.")
    return model, directory


def test_round_trip_keeps_weights_manifest_and_card(saved):
    model, directory = saved
    assert sorted(p.name for p in directory.iterdir()) == ["MODEL_CARD.md", "manifest.json", "model.keras"]
    loaded, manifest = artifacts.load_model(directory, kind="face-emotion", labels=FER_LABELS)
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-6)
    assert manifest.labels == list(FER_LABELS)
    assert manifest.model_sha256 == artifacts.sha256_of(directory / "model.keras")
    assert {"tensorflow", "keras", "numpy"} <= set(manifest.versions)
    assert "Trained for a test." in (directory / "MODEL_CARD.md").read_text()


def test_tampered_weights_are_refused(saved):
    _, directory = saved
    with (directory / "model.keras").open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ModelFileError, match="sha256 does not match"):
        artifacts.load_model(directory)


def test_wrong_labels_and_wrong_kind_are_refused(saved):
    _, directory = saved
    with pytest.raises(LabelError, match="labels do not match"):
        artifacts.load_model(directory, labels=sorted(FER_LABELS))
    with pytest.raises(ModelFileError, match="holds a 'face-emotion' model, expected 'text-emotion'"):
        artifacts.load_model(directory, kind="text-emotion")


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda d: (d / "manifest.json").unlink(), "no manifest.json"),
        (lambda d: (d / "manifest.json").write_text("{not json"), "corrupt manifest"),
        (lambda d: (d / "manifest.json").write_text("[]"), "corrupt manifest"),
        (lambda d: (d / "model.keras").unlink(), "model file model.keras is missing"),
        (lambda d: (d / "model.keras").write_bytes(b"zip?"), "sha256 does not match"),
    ],
)
def test_broken_model_folders_are_named(saved, breakage, message):
    _, directory = saved
    breakage(directory)
    with pytest.raises(ModelFileError, match=message):
        artifacts.load_model(directory)


def test_missing_folder_and_unloadable_archive(tmp_path, saved):
    with pytest.raises(ModelFileError, match="saved model folder not found"):
        artifacts.load_model(tmp_path / "absent")
    _, directory = saved
    (directory / "model.keras").write_bytes(b"not a keras archive")
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest["model_sha256"] = artifacts.sha256_of(directory / "model.keras")
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="cannot be loaded"):
        artifacts.load_model(directory)


def test_a_failed_save_leaves_the_previous_model_in_place(saved, monkeypatch):
    model, directory = saved
    before = (directory / "manifest.json").read_text()

    def broken_save(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        artifacts.save_model(model, directory, _manifest(metrics={"acc": 0.9}))
    assert (directory / "manifest.json").read_text() == before
    assert [p.name for p in directory.parent.iterdir()] == ["model"]


def test_loading_warns_when_the_model_format_libraries_change_release(saved):
    import warnings

    _, directory = saved
    manifest = json.loads((directory / "manifest.json").read_text())
    saved_keras = manifest["versions"]["keras"]
    manifest["versions"].update(numpy="1.0.0", keras=saved_keras + ".post9")  # same keras release
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        artifacts.load_model(directory)

    manifest["versions"]["keras"] = "0.0.1"
    (directory / "manifest.json").write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match=r"saved with other library versions \(keras 0.0.1 -> [0-9.]+\)$"):
        artifacts.load_model(directory)


def test_assets_are_hashed_and_checked(tmp_path):
    def write_vocab(path):
        path.mkdir()
        (path / "vocabulary.txt").write_text("[PAD]\nhello\n")

    directory = artifacts.save_model(_tiny_model(), tmp_path / "model", _manifest(), assets={"tokenizer": write_vocab})
    manifest = artifacts.read_manifest(directory)
    assert list(manifest.asset_sha256) == ["tokenizer/vocabulary.txt"]
    artifacts.load_model(directory)
    (directory / "tokenizer" / "vocabulary.txt").write_text("[PAD]\nbye\n")
    with pytest.raises(ModelFileError, match="vocabulary.txt: sha256 does not match"):
        artifacts.load_model(directory)
    (directory / "tokenizer" / "vocabulary.txt").unlink()
    with pytest.raises(ModelFileError, match="asset tokenizer/vocabulary.txt is missing"):
        artifacts.load_model(directory)


def test_model_card_notes_are_added_without_touching_the_checked_files(saved, tmp_path):
    from mepe_utils.cli import main

    _, saved = saved
    notes = tmp_path / "notes.md"
    notes.write_text("## Compared with\n\nmini-Xception, same run.\n")
    assert main(["model-card", str(saved), "--notes", str(notes)]) == 0
    card = (saved / artifacts.CARD_FILE).read_text()
    assert card.startswith("# MEPE model card") and card.rstrip().endswith("mini-Xception, same run.")
    artifacts.load_model(saved)  # hashes still match


@pytest.mark.slow
def test_a_model_with_mepe_layers_loads_in_a_fresh_process_without_importing_them(tiny_text_model_dir):
    import subprocess
    import sys

    from mepe_utils.artifacts import read_manifest

    manifest = read_manifest(tiny_text_model_dir)
    assert manifest.layer_modules == ["mepe_utils.models.text"]
    assert manifest.embedding == {"layer": "embedding", "width": 8, "activation": "tanh"}
    script = (
        "import sys; from mepe_utils.artifacts import load_model; "
        f"model, _ = load_model({str(tiny_text_model_dir)!r}); "
        "print(type(model.get_layer('pool')).__module__)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "mepe_utils.models.text"


def test_a_manifest_naming_a_foreign_layer_module_is_refused(tiny_text_model_dir, tmp_path):
    import shutil

    from mepe_utils.errors import ModelFileError

    copy = shutil.copytree(tiny_text_model_dir, tmp_path / "model")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["layer_modules"] = ["os"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="layer module 'os' outside mepe_utils"):
        artifacts.load_model(copy)


def test_an_atomic_write_that_fails_leaves_no_temporary_file(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(IsADirectoryError):
        artifacts.write_text_atomic(tmp_path / "out", "x")  # the rename onto a folder fails
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and not any((tmp_path / "out").iterdir())
    artifacts.write_text_atomic(tmp_path / "out.txt", "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.txt"]
