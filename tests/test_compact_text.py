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


def test_wide_parts_are_the_exact_logistic_regressions_and_frozen(goemotions_dir):
    from sklearn.linear_model import LogisticRegression

    from mepe_utils.data.text_batches import predict_strings
    from mepe_utils.models.compact_text import build_compact_text_model, build_vectorizer
    from mepe_utils.training.compact_text import fit_wide_parts, tfidf_features
    from mepe_utils.training.text import gold_targets

    train = load_goemotions(goemotions_dir)["train"]
    config = CompactTextConfig.tiny()
    model = build_compact_text_model(build_vectorizer(train.texts, config), config)
    fit_wide_parts(model, train.texts, gold_targets(train), c=4.0)

    assert not model.get_layer(f"{PROBABILITIES_OUTPUT}_wide").trainable
    assert not np.any(model.get_layer(f"{EKMAN_OUTPUT}_deep").get_weights()[0])
    probabilities = predict_strings(model, train.texts)[PROBABILITIES_OUTPUT]
    love = 18  # the one label the tiny train split has both with and without
    features = tfidf_features(model, train.texts)
    reference = LogisticRegression(C=4.0, solver="liblinear").fit(features, train.labels[:, love])
    np.testing.assert_allclose(probabilities[:, love], reference.predict_proba(features)[:, 1], rtol=1e-4)
    absent = int(np.flatnonzero(train.labels.sum(axis=0) == 0)[0])
    np.testing.assert_allclose(probabilities[:, absent], 1e-3, rtol=1e-3)  # constant logit for a label never seen


def test_soft_targets_are_fitted_as_weighted_positive_and_negative_copies(goemotions_dir):
    from mepe_utils.models.compact_text import build_compact_text_model, build_vectorizer
    from mepe_utils.training.compact_text import fit_wide_parts, tfidf_features

    train = load_goemotions(goemotions_dir)["train"]
    config = CompactTextConfig.tiny()
    model = build_compact_text_model(build_vectorizer(train.texts, config), config)
    soft = np.array([0.9, 0.2, 0.6], np.float32)
    targets = {PROBABILITIES_OUTPUT: np.repeat(soft[:, None], NUM_GOEMOTIONS, axis=1), EKMAN_OUTPUT: np.zeros((3, 7))}
    fit_wide_parts(model, train.texts, targets, c=1e4)  # almost unregularised: the fit reaches the soft targets
    logits = tfidf_features(model, train.texts) @ model.get_layer(f"{PROBABILITIES_OUTPUT}_wide").get_weights()[0]
    logits += model.get_layer(f"{PROBABILITIES_OUTPUT}_wide").get_weights()[1]
    np.testing.assert_allclose(1 / (1 + np.exp(-logits[:, 0])), soft, atol=0.02)


def test_the_vectorizer_reproduces_scikit_learn_tfidf():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from mepe_utils.models.compact_text import build_compact_text_model, build_vectorizer, standardize
    from mepe_utils.training.compact_text import tfidf_features

    texts = ["I LOVE this!", "this is awful, so sad", "Don't worry: love wins", "so what"]
    config = CompactTextConfig(max_tokens=1000, embedding_dim=4)
    model = build_compact_text_model(build_vectorizer(texts, config), config)
    reference = TfidfVectorizer(preprocessor=standardize, token_pattern=r"\S+", ngram_range=(1, 2)).fit(texts)
    terms = list(model.get_layer("tfidf").get_vocabulary())[1:]  # slot 0, out of vocabulary, is left out
    order = [terms.index(term) for term in reference.get_feature_names_out()]
    unseen = ["love and peace and quiet"]  # "peace", "quiet" and their pairs are unknown: they must not count
    for batch in (texts, unseen):
        ours = tfidf_features(model, batch).toarray()
        np.testing.assert_allclose(ours[:, order], reference.transform(batch).toarray(), rtol=1e-5, atol=1e-6)


def test_wide_parts_can_train_from_zero_with_the_rest(tmp_path, goemotions_dir):
    import keras

    from mepe_utils.artifacts import read_manifest

    config = CompactTrainConfig(model=CompactTextConfig.tiny(), epochs=1, batch_size=2, wide_c=None)
    saved = train_compact_text(goemotions_dir, tmp_path / "run", config)
    assert read_manifest(saved).training["config"]["wide_c"] is None
    trained = keras.models.load_model(tmp_path / "run" / "checkpoints" / "last.keras")
    assert trained.get_layer(f"{PROBABILITIES_OUTPUT}_wide").trainable
    assert np.any(trained.get_layer(f"{PROBABILITIES_OUTPUT}_deep").get_weights()[0])
