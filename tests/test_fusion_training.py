"""A tiny end-to-end fusion training over tiny encoders' cached readings."""

import json

import numpy as np
import pytest

from conftest import write_fer_folder, write_goemotions_every_class
from mepe_utils.labels import FER_LABELS
from mepe_utils.training.fusion_batches import SignalDropout, presence_rows


def test_presence_rows_lose_at_most_one_signal():
    presence = presence_rows(10_000, SignalDropout(text_missing=0.2, face_missing=0.3), np.random.default_rng(0))
    assert (presence.sum(axis=1) >= 1).all()
    assert abs((presence[:, 0] == 0).mean() - 0.2) < 0.02 and abs((presence[:, 1] == 0).mean() - 0.3) < 0.02


@pytest.mark.slow
def test_a_tiny_fusion_run_saves_a_model_that_names_its_encoders(tiny_fusion, tiny_text_model_dir):
    from mepe_utils.artifacts import FUSION_KIND, load_model, read_manifest

    manifest = read_manifest(tiny_fusion)
    assert manifest.kind == FUSION_KIND and manifest.embedding == {"layer": "persona_embedding", "width": 4}
    assert manifest.extra["encoders"]["text"]["model_sha256"] == read_manifest(tiny_text_model_dir).model_sha256
    assert manifest.extra["encoders"]["face"]["labels"] == list(FER_LABELS)
    assert 0.0 <= manifest.metrics["test_accuracy_mean"] <= 1.0 and "test_accuracy_std" in manifest.metrics
    assert len(json.loads((tiny_fusion.parent / "evaluation.json").read_text())["test_pairings"]) == 5
    model, _ = load_model(tiny_fusion)
    assert set(model.output) == {"probabilities", "gate", "persona_embedding"}
    tables = sorted(path.name.rsplit("-", 1)[-1] for path in (tiny_fusion.parent.parent / "tables").iterdir())
    assert "Training+blur.npz" in tables and "train.npz" in tables


@pytest.mark.slow
def test_analyze_fuses_what_is_there_and_names_what_is_missing(tiny_fusion, tiny_text_model_dir, tiny_face_model_dir):
    import skimage.data

    from mepe_utils.errors import MepeError
    from mepe_utils.predictors.fusion import FusionModel

    fusion = FusionModel.load(tiny_fusion, tiny_text_model_dir, tiny_face_model_dir)
    photo, wall = skimage.data.astronaut(), np.full((200, 300, 3), 180, np.uint8)
    both = fusion.analyze("I love this", photo)
    assert both.missing == [] and 0 < both.gate_text < 1 and abs(sum(both.probabilities.values()) - 1) < 1e-4
    assert both.persona_embedding.shape == (4,) and both.face.found
    again = fusion.analyze("I love this", photo)  # the first answer ran eagerly, this one through the traced graph
    np.testing.assert_allclose(list(again.probabilities.values()), list(both.probabilities.values()), atol=1e-5)
    np.testing.assert_allclose(again.persona_embedding, both.persona_embedding, atol=1e-5)
    text_only = fusion.analyze("I love this")
    assert text_only.missing == ["face"] and text_only.gate_text == 1.0
    no_face = fusion.analyze("I love this", wall)
    assert no_face.missing == ["face"] and no_face.face is not None and not no_face.face.found
    assert fusion.analyze(photo=photo).gate_text == 0.0
    with pytest.raises(MepeError, match="nothing to read"):
        fusion.analyze()
    with pytest.raises(MepeError, match="no face found in the photo and no text given"):
        fusion.analyze(photo=wall)
    assert both.fused_face == 0 and no_face.fused_face is None
    pair = np.hstack([photo, np.pad(photo[::2, ::2], ((0, 256), (0, 0), (0, 0)))])  # a big and a small face
    second = fusion.analyze("I love this", pair, face=1)
    assert second.fused_face == 1 and len(second.face.faces) == 2 and second.probabilities != both.probabilities
    with pytest.raises(MepeError, match="face 2 asked for, but the photo has 2"):
        fusion.analyze("I love this", pair, face=2)


@pytest.mark.slow
def test_a_fusion_model_refuses_an_encoder_it_was_not_trained_on(tiny_fusion, tiny_text_model_dir, tiny_face_model_dir):
    from mepe_utils.errors import ModelFileError
    from mepe_utils.predictors.fusion import FusionModel

    other_face = _other_face_model(tiny_face_model_dir)
    with pytest.raises(ModelFileError, match="trained on the face model with sha256"):
        FusionModel.load(tiny_fusion, tiny_text_model_dir, other_face)


def _other_face_model(directory):
    """A face model with other weights: the tiny one re-saved after a perturbation."""
    from mepe_utils import artifacts

    model, manifest = artifacts.load_model(directory)
    model.set_weights([w + 0.01 for w in model.get_weights()])
    return artifacts.save_model(model, directory.parent / "other_face", manifest)


@pytest.mark.slow
def test_mepe_analyze_answers_for_each_combination_and_names_bad_input(
    tiny_fusion, tiny_text_model_dir, tiny_face_model_dir, tiny_persona, tmp_path, capsys
):
    import skimage.data
    from PIL import Image

    from mepe_utils.cli import main

    photo, wall = tmp_path / "astronaut.png", tmp_path / "wall.png"
    Image.fromarray(skimage.data.astronaut()).save(photo)
    Image.fromarray(np.full((200, 300, 3), 180, np.uint8)).save(wall)
    models = ["--fusion-model", str(tiny_fusion), "--text-model", str(tiny_text_model_dir)]
    models += ["--face-model", str(tiny_face_model_dir), "--persona-model", str(tiny_persona)]
    for given, missing in (
        (["--text", "I love this"], "missing:   face"),
        (["--photo", str(photo)], "missing:   text"),
        (["--text", "I love this", "--photo", str(photo)], "missing:   nothing"),
        (["--text", "I love this", "--photo", str(wall)], "missing:   face"),
    ):
        assert main(["analyze", *given, *models]) == 0
        out = capsys.readouterr().out
        assert missing in out and "fused:" in out and "weights:   text" in out
    assert main(["analyze", "--text", "I love this", "--photo", str(photo), *models, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["missing"] == [] and set(record["probabilities"]) == set(FER_LABELS)
    for given, message in (
        ([], "nothing to read"),
        (["--text", "   "], "--text: the text is empty"),
        (["--photo", str(tmp_path / "absent.jpg")], "no such file"),
        (["--photo", str(wall)], "no face found in the photo and no text given"),
    ):
        assert main(["analyze", *given, *models]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_bench_fusion_writes_every_condition_and_contender(
    tiny_fusion, tiny_text_model_dir, tiny_face_model_dir, tmp_path, capsys
):
    from mepe_utils.bench.fusion import MODELS
    from mepe_utils.cli import main

    data = tmp_path / "data"
    write_goemotions_every_class(data / "goemotions")
    write_fer_folder(data / "fer2013", per_class=2)
    out = tmp_path / "bench.json"
    argv = ["bench-fusion", "--data-dir", str(data), "--text-model", str(tiny_text_model_dir)]
    argv += ["--face-model", str(tiny_face_model_dir), "--fusion-model", str(tiny_fusion)]
    argv += ["--cache-dir", str(tmp_path / "tables"), "--work-dir", str(tmp_path / "work"), "--json", str(out)]
    assert main(argv) == 0
    results = json.loads(out.read_text())
    conditions = results["conditions"]
    for condition in ("both", "text_missing", "face_missing", "face_degraded", "blur", "face_degraded_text_missing"):
        assert (
            0.0 <= conditions[condition]["gmu"]["accuracy"] <= 1.0 and "gate_text_mean" in conditions[condition]["gmu"]
        )
    assert set(conditions["both"]) == set(MODELS)
    assert "text_only" not in conditions["text_missing"] and "face_only" not in conditions["face_missing"]
    assert conditions["text_missing"]["gmu"]["gate_text_mean"] == 0.0
    assert conditions["face_missing"]["gmu"]["gate_text_mean"] == 1.0
    assert set(conditions["conflicting"]) == {"follows_face", "follows_text", "gate_text_mean"}
    assert results["fusion_file_mb"] > 0 and results["setup"]["command"]
    assert "conflicting text and face" in capsys.readouterr().out


def test_the_test_set_zeroes_an_absent_signal_and_says_so():
    from mepe_utils.bench.fusion import FusionTestSet
    from mepe_utils.models.fusion import FACE_INPUT, PRESENCE_INPUT, TEXT_INPUT

    rng = np.random.default_rng(0)
    test = FusionTestSet(
        text_features=rng.random((5, 3), dtype=np.float32),
        text_classes=np.array([0, 1, 1, 0, -1]),
        face_features={"clean": np.ones((4, 2), np.float32), "blur": np.full((4, 2), 2.0, np.float32)},
        face_classes=np.array([0, 1, 1, 0]),
        face_ids=np.array([f"PrivateTest:{i}" for i in range(4)]),
    )
    rows = np.array([0, 1, 2, 3])
    inputs = test.inputs(rows, "blur", presence=(0, 1))
    assert not inputs[TEXT_INPUT].any() and (inputs[FACE_INPUT] == 2.0).all()
    assert (inputs[PRESENCE_INPUT] == [0, 1]).all() and inputs[PRESENCE_INPUT].shape == (4, 2)
    both = test.inputs(rows)
    np.testing.assert_array_equal(both[TEXT_INPUT], test.text_features[rows])
    assert (both[FACE_INPUT] == 1.0).all()


@pytest.mark.parametrize(
    ("shares", "message"),
    [({"text_missing": 1.5}, "must lie in"), ({"text_missing": 0.6, "face_missing": 0.5}, "at most 1")],
)
def test_impossible_signal_shares_are_refused(shares, message):
    with pytest.raises(ValueError, match=message):
        SignalDropout(**shares)


def test_fusion_batches_repeat_for_a_seed_and_epoch_and_resume_where_they_stopped():
    from mepe_utils.training.fusion_batches import FusionBatches

    rng = np.random.default_rng(0)
    faces = {"clean": rng.random((40, 3), dtype=np.float32), "blur": rng.random((40, 3), dtype=np.float32)}
    args = (rng.random((30, 2), dtype=np.float32), np.arange(30) % 7, faces, np.arange(40) % 7)

    def epochs(start_epoch, count):
        dropout = SignalDropout()
        batches = FusionBatches(*args, batch_size=8, dropout=dropout, shuffle=True, seed=3, start_epoch=start_epoch)
        seen = []
        for _ in range(count):
            seen.append([batches[i][0] for i in range(len(batches))])
            batches.on_epoch_end()
        return seen

    straight, resumed = epochs(0, 3), epochs(2, 1)
    for left, right in zip(straight[2], resumed[0]):
        for name in left:
            np.testing.assert_array_equal(left[name], right[name])
    assert not np.array_equal(straight[0][0]["text"], straight[1][0]["text"])  # re-paired every epoch
    degraded = FusionBatches(*args, batch_size=40, dropout=SignalDropout(0.0, 0.0, 1.0), shuffle=False, seed=3)
    inputs, _ = degraded[0]
    np.testing.assert_array_equal(inputs["face"], faces["blur"])  # every face swapped for its degraded row


def test_late_fusion_multiplies_or_averages_and_falls_back_to_the_present_signal():
    from mepe_utils.bench.fusion import _late

    text = np.array([[0.6, 0.4], [0.6, 0.4], [0.6, 0.4]])
    face = np.array([[0.2, 0.8], [0.2, 0.8], [0.2, 0.8]])
    presence = np.array([[1, 1], [0, 1], [1, 0]], np.float32)
    product = _late(text, face, presence, "product")
    np.testing.assert_allclose(product[0], [0.12 / 0.44, 0.32 / 0.44])
    np.testing.assert_allclose(product[1], face[1])  # no text: the face alone
    np.testing.assert_allclose(product[2], text[2])  # no face: the text alone
    np.testing.assert_allclose(_late(text, face, presence, "mean")[0], [0.4, 0.6])


def test_the_mean_over_degradations_averages_cells_but_not_their_spreads():
    from mepe_utils.bench.fusion import _mean_over

    results = {
        "blur": {"gmu": {"accuracy": 0.6, "accuracy_std": 0.01}, "face_only": {"accuracy": 0.2, "accuracy_std": 0.0}},
        "jpeg": {"gmu": {"accuracy": 0.8, "accuracy_std": 0.03}},
    }
    assert _mean_over(results, ["blur", "jpeg"]) == {"gmu": {"accuracy": pytest.approx(0.7)}}
