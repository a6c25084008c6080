"""The compact offline text model: training (with and without a teacher), predictor, bench-text."""

import json

import numpy as np
import pytest

from conftest import write_goemotions_folder
from mepe_utils.bench.text import COLUMNS
from mepe_utils.cli import main
from mepe_utils.data.goemotions import load_goemotions
from mepe_utils.labels import NUM_GOEMOTIONS
from mepe_utils.models.common import PROBABILITIES_OUTPUT
from mepe_utils.models.compact_text import CompactTextConfig
from mepe_utils.models.text import EKMAN_OUTPUT
from mepe_utils.training.compact_text import CompactTrainConfig, distillation_targets, train_compact_text

TINY = CompactTrainConfig(model=CompactTextConfig.tiny(), epochs=2, batch_size=2)


@pytest.fixture(scope="module")
def goemotions_dir(tmp_path_factory):
    return write_goemotions_folder(tmp_path_factory.mktemp("data") / "goemotions")


@pytest.fixture(scope="module")
def compact_dir(tiny_text_model_dir):
    return tiny_text_model_dir


def test_distillation_targets_blend_gold_labels_and_teacher(goemotions_dir):
    train = load_goemotions(goemotions_dir)["train"]
    teacher = {
        PROBABILITIES_OUTPUT: np.full((len(train), NUM_GOEMOTIONS), 0.2),
        EKMAN_OUTPUT: np.full((len(train), 7), 0.4),
    }
    gold = distillation_targets(train, None, 0.7)
    blended = distillation_targets(train, teacher, 0.25)
    np.testing.assert_array_equal(gold[PROBABILITIES_OUTPUT], train.labels)
    np.testing.assert_allclose(blended[PROBABILITIES_OUTPUT], 0.75 * train.labels + 0.05)
    np.testing.assert_allclose(blended[EKMAN_OUTPUT], 0.75 * train.ekman + 0.1)


def test_compact_model_reads_any_text_length_without_truncation(compact_dir):
    from mepe_utils.predictors.text import TextEmotionModel

    model = TextEmotionModel.load(compact_dir)
    assert model.window is None
    readings = model.predict(["I love this so much!", "😀", "word " * 5000])
    assert [r.truncated for r in readings] == [False, False, False]
    assert all(len(r.probabilities) == NUM_GOEMOTIONS and r.tokens is None for r in readings)


def test_training_with_a_teacher_records_it(tmp_path, goemotions_dir, compact_dir):
    from mepe_utils.artifacts import read_manifest

    saved = train_compact_text(goemotions_dir, tmp_path / "student", TINY, teacher=compact_dir)
    assert read_manifest(saved).data["teacher"] == str(compact_dir)


def test_bench_text_writes_every_contender_with_the_agreed_keys(tmp_path, goemotions_dir, compact_dir, capsys):
    out = tmp_path / "bench.json"
    code = main(
        ["bench-text", "--data-dir", str(goemotions_dir), "--compact", str(compact_dir),
         "--model", str(compact_dir), "--json", str(out), "--calls", "5"]
    )  # fmt: skip
    assert code == 0
    results = json.loads(out.read_text())
    assert set(results) == {"compact", "tfidf_lr", compact_dir.parent.name, "setup"}
    for name in ("compact", "tfidf_lr"):
        assert set(COLUMNS) <= set(results[name])
        assert 0.0 <= results[name]["test_macro_f1_ekman_tuned"] <= 1.0
        assert results[name]["latency_ms_p50"] > 0 and results[name]["params"] > 0
    assert "tfidf_lr" in capsys.readouterr().out


def test_the_saved_compact_model_carries_no_optimizer_state(compact_dir):
    import zipfile

    with zipfile.ZipFile(compact_dir / "model.keras") as archive:
        config = json.loads(archive.read("config.json"))
    assert not config.get("compile_config")  # uncompiled: no optimizer variables in the weights file
