"""Weight averages of two fine-tuned text readers (``average-text-models``)."""

import json
import shutil

import numpy as np
import pytest

from conftest import tiny_text_encoder, tiny_text_head, write_esconv_folder, write_goemotions_folder
from mepe_utils.errors import ModelFileError
from mepe_utils.training.text_soup import TextSoupConfig, average_text_models, average_weights, choose_share


def _row(share, dev_28, dev_ekman, first_person):
    return {
        "share": share,
        "dev_macro_f1_28_tuned": dev_28,
        "dev_macro_f1_ekman_tuned": dev_ekman,
        "first_person_valid_ekman_accuracy": first_person,
    }


def test_average_weights_mixes_each_array_by_the_share():
    first, second = [np.zeros((2, 2), np.float32), np.ones(3, np.float32)], [np.ones((2, 2)), np.full(3, 3.0)]
    mixed = average_weights(first, second, 0.25)
    assert np.allclose(mixed[0], 0.25) and np.allclose(mixed[1], 1.5)
    assert [array.dtype for array in mixed] == [np.float32, np.float32]


def test_the_chosen_share_reads_first_person_texts_best_without_losing_dev_f1():
    sweep = [
        _row(0.0, 0.540, 0.640, 0.55),
        _row(0.5, 0.537, 0.638, 0.60),
        _row(0.75, 0.536, 0.636, 0.60),  # as good on first-person texts: the smaller share wins
        _row(1.0, 0.530, 0.640, 0.63),  # best on first-person texts, but 1 point of dev 28-label F1 lost
    ]
    assert choose_share(sweep, tolerance=0.005)["share"] == 0.5
    assert choose_share(sweep, tolerance=0.02)["share"] == 1.0
    assert choose_share(sweep, tolerance=0.0)["share"] == 0.0


def test_shares_must_include_the_first_model_alone():
    with pytest.raises(ValueError, match="include 0.0"):
        TextSoupConfig(shares=(0.5, 1.0))


@pytest.fixture(scope="module")
def second_text_model(tiny_text_model_dir, tmp_path_factory):
    """The tiny text model trained one more epoch, with first-person texts: a second model from one checkpoint."""
    from mepe_utils.training.text import TextTrainConfig, train_text

    root = tmp_path_factory.mktemp("second_text_model")
    backbone, preprocessor = tiny_text_encoder()
    config = TextTrainConfig(
        model=tiny_text_head(), epochs=1, batch_size=2, warmup_fraction=0.0, jit_compile=False,
        first_person_repeats=2, init_model=str(tiny_text_model_dir), peak_learning_rate=1e-2,
    )  # fmt: skip
    return train_text(
        write_goemotions_folder(root / "goemotions"), root / "run", config, backbone=backbone,
        preprocessor=preprocessor, first_person_source=write_esconv_folder(root / "esconv"),
    )  # fmt: skip


def test_the_saved_average_holds_the_chosen_share_of_each_model_and_reads_text(
    tmp_path, tiny_text_model_dir, second_text_model
):
    from mepe_utils.artifacts import load_model, read_manifest
    from mepe_utils.predictors.text import TextEmotionModel

    config = TextSoupConfig(shares=(0.0, 0.5, 1.0), dev_tolerance=1.0)  # every share eligible
    saved = average_text_models(
        (tiny_text_model_dir, second_text_model), write_goemotions_folder(tmp_path / "goemotions"),
        write_esconv_folder(tmp_path / "esconv"), tmp_path / "soup", config, command="python -m mepe_utils average",
    )  # fmt: skip
    soup = json.loads((tmp_path / "soup" / "evaluation.json").read_text())["soup"]
    assert [row["share"] for row in soup["sweep"]] == [0.0, 0.5, 1.0]
    first = read_manifest(tiny_text_model_dir)
    assert soup["sweep"][0]["dev_macro_f1_28_tuned"] == pytest.approx(first.metrics["dev_macro_f1_28_tuned"])

    share = soup["chosen_share"]
    manifest = read_manifest(saved)
    assert [source["share"] for source in manifest.training["averaged"]] == [1 - share, share]
    assert manifest.training["averaged"][1]["sha256"] == read_manifest(second_text_model).model_sha256
    assert manifest.training["command"] == "python -m mepe_utils average"
    assert manifest.training["sweep"] == soup["sweep"]
    assert manifest.training["averaged"][0]["training"]["command"] == first.training["command"]
    expected = average_weights(
        load_model(tiny_text_model_dir)[0].get_weights(), load_model(second_text_model)[0].get_weights(), share
    )
    for got, want in zip(load_model(saved)[0].get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    reading = TextEmotionModel.load(saved).predict("i am so sad")[0]
    assert set(reading.ekman) == set(first.extra["ekman_labels"])


def test_models_that_do_not_share_a_checkpoint_are_refused(tmp_path, tiny_text_model_dir):
    other = tmp_path / "other"
    shutil.copytree(tiny_text_model_dir, other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["extra"]["preset"] = "another-checkpoint"
    (other / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match="preset 'another-checkpoint' differs"):
        average_text_models((tiny_text_model_dir, other), tmp_path / "unused", tmp_path / "unused", tmp_path / "soup")
