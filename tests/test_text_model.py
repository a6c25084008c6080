"""The KerasHub text classifier: tiny DistilBERT from a vocabulary, an HF checkpoint folder, training, predictor."""

import json

import numpy as np
import pytest

from conftest import TINY_VOCABULARY, TINY_WORDS, tiny_text_head
from conftest import tiny_text_encoder as tiny_distilbert
from mepe_utils.errors import TextInputError
from mepe_utils.evaluation import ekman_view
from mepe_utils.labels import NUM_FER, NUM_GOEMOTIONS
from mepe_utils.models.common import EKMAN_OUTPUT, EMBEDDING_LAYER, PROBABILITIES_OUTPUT
from mepe_utils.models.text import POOLED_LAYER, MaskedMeanPooling, TextModelConfig, build_text_classifier

WORDS = TINY_WORDS
VOCABULARY = TINY_VOCABULARY
TINY_HEAD = tiny_text_head()


def write_hf_distilbert_folder(folder, dim: int = 8, hidden: int = 16, layers: int = 1, positions: int = 32):
    """A Hugging Face-format DistilBERT checkpoint: config.json, model.safetensors, vocab.txt, tokenizer_config.json."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    tensor = lambda *shape: rng.normal(0, 0.02, shape).astype(np.float32)  # noqa: E731
    weights = {
        "distilbert.embeddings.word_embeddings.weight": tensor(len(VOCABULARY), dim),
        "distilbert.embeddings.position_embeddings.weight": tensor(positions, dim),
        "distilbert.embeddings.LayerNorm.weight": np.ones(dim, np.float32),
        "distilbert.embeddings.LayerNorm.bias": np.zeros(dim, np.float32),
    }
    for index in range(layers):
        prefix = f"distilbert.transformer.layer.{index}."
        for name in ("q_lin", "k_lin", "v_lin", "out_lin"):
            weights[f"{prefix}attention.{name}.weight"] = tensor(dim, dim)
            weights[f"{prefix}attention.{name}.bias"] = tensor(dim)
        for norm in ("sa_layer_norm", "output_layer_norm"):
            weights[f"{prefix}{norm}.weight"] = np.ones(dim, np.float32)
            weights[f"{prefix}{norm}.bias"] = np.zeros(dim, np.float32)
        weights[f"{prefix}ffn.lin1.weight"], weights[f"{prefix}ffn.lin1.bias"] = tensor(hidden, dim), tensor(hidden)
        weights[f"{prefix}ffn.lin2.weight"], weights[f"{prefix}ffn.lin2.bias"] = tensor(dim, hidden), tensor(dim)
    folder.mkdir(parents=True)
    save_file(weights, str(folder / "model.safetensors"))
    config = {
        "architectures": ["DistilBertForMaskedLM"], "model_type": "distilbert", "vocab_size": len(VOCABULARY),
        "dim": dim, "hidden_dim": hidden, "n_layers": layers, "n_heads": 2, "dropout": 0.1,
        "max_position_embeddings": positions,
    }  # fmt: skip
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "vocab.txt").write_text("\n".join(VOCABULARY) + "\n")
    (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}))
    return weights


def test_classifier_on_tiny_distilbert_has_both_heads_and_the_embedding():
    backbone, preprocessor = tiny_distilbert()
    model = build_text_classifier(backbone, TINY_HEAD)
    outputs = model.predict_on_batch(preprocessor(["I love this", "what ?"]))
    assert outputs[PROBABILITIES_OUTPUT].shape == (2, NUM_GOEMOTIONS)
    assert outputs[EKMAN_OUTPUT].shape == (2, NUM_FER)
    assert ((outputs[PROBABILITIES_OUTPUT] > 0) & (outputs[PROBABILITIES_OUTPUT] < 1)).all()
    assert model.get_layer(EMBEDDING_LAYER).units == 8


def test_masked_mean_pooling_ignores_padding():
    sequence = np.array([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]], np.float32)
    pooled = np.asarray(MaskedMeanPooling()(sequence, np.array([[1, 1, 0]])))
    np.testing.assert_allclose(pooled, [[2.0, 3.0]])


def test_unknown_pooling_is_refused():
    backbone, _ = tiny_distilbert()
    with pytest.raises(ValueError, match="pooling"):
        build_text_classifier(backbone, TextModelConfig(pooling="max"))


def test_hf_checkpoint_folder_loads_through_the_preset_path(tmp_path):
    from mepe_utils.models.text import load_backbone, load_preprocessor

    weights = write_hf_distilbert_folder(tmp_path / "distilbert-tiny")
    backbone = load_backbone(str(tmp_path / "distilbert-tiny"))
    assert type(backbone).__name__ == "DistilBertBackbone"
    np.testing.assert_allclose(
        np.asarray(backbone.token_embedding.embeddings), weights["distilbert.embeddings.word_embeddings.weight"]
    )
    preprocessor = load_preprocessor(str(tmp_path / "distilbert-tiny"), sequence_length=8)
    upper, lower = (np.asarray(preprocessor([t])["token_ids"]) for t in ("I LOVE THIS", "i love this"))
    np.testing.assert_array_equal(upper, lower)  # do_lower_case from tokenizer_config.json
    assert upper[0, :5].tolist() == [2, 5, 6, 7, 3]  # [CLS] i love this [SEP]


@pytest.fixture(scope="module")
def trained_tiny_text_model(tiny_text_model_dir):
    return tiny_text_model_dir.parent, tiny_text_model_dir


def test_train_text_writes_reports_and_a_loadable_model(trained_tiny_text_model):
    from mepe_utils.artifacts import read_manifest

    run, saved = trained_tiny_text_model
    for name in ("evaluation.json", "history.csv", "curves.png", "per_label_f1.png", "confusion_ekman.png"):
        assert (run / name).is_file(), name
    manifest = read_manifest(saved)
    assert len(manifest.extra["thresholds"]) == NUM_GOEMOTIONS
    assert len(manifest.extra["ekman_thresholds"]) == NUM_FER
    assert manifest.extra["ekman_source"] in ("head", "derived")
    assert manifest.training["epochs_run"] == 1


def test_predictor_reads_texts_and_reports_truncation(trained_tiny_text_model):
    from mepe_utils.predictors.text import TextEmotionModel

    model = TextEmotionModel.load(trained_tiny_text_model[1])
    long_text = " ".join(["i love this"] * 20)
    short, emoji, french, long = model.predict(["I love this!", "😀😀🎉", "Je suis très heureux", long_text])
    for reading in (short, emoji, french, long):
        assert len(reading.probabilities) == NUM_GOEMOTIONS
        assert all(0.0 <= p <= 1.0 for p in reading.probabilities.values())
        assert reading.top_label == max(reading.probabilities, key=reading.probabilities.get)
        assert reading.embedding.shape == (8,)
    assert not short.truncated and short.tokens == 6
    assert long.truncated and long.tokens == 62 and model.window == 16
    exactly_full = model.predict(" ".join(["i"] * 14))[0]  # 14 pieces + [CLS] + [SEP] fill the window
    assert exactly_full.tokens == 16 and not exactly_full.truncated
    batch = model.scores(["I love this!", "what ?"])
    expected = list(short.probabilities.values())  # read in another batch, with other padding: float rounding
    np.testing.assert_allclose(batch[PROBABILITIES_OUTPUT][0], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(batch[POOLED_LAYER][0], short.sentence_vector, rtol=1e-5, atol=1e-6)
    assert short.sentence_vector.shape == (model.model.get_layer(POOLED_LAYER).output.shape[-1],)
    model.ekman_source = "derived"  # readings pool the 28 probabilities; head_outputs keeps the head's own
    derived, head = model.scores(["I love this!"]), model.head_outputs(["I love this!"])
    np.testing.assert_allclose(derived[EKMAN_OUTPUT], ekman_view(head, "derived"), rtol=1e-5, atol=1e-6)
    assert not np.allclose(head[EKMAN_OUTPUT], derived[EKMAN_OUTPUT])


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ("", "text 0: the text is empty"),
        ("  \n\t", "text 0: the text is empty"),
        (["fine", "   "], "text 1: the text is empty"),
        ([], "no texts given"),
        (42, "must be a str or a list of str, got int"),
        (b"bytes", "must be a str or a list of str, got bytes"),
        (["ok", None], "text 1: expected a str, got NoneType"),
    ],
)
def test_bad_text_input_is_named(texts, message):
    from mepe_utils.predictors.text import check_texts

    with pytest.raises(TextInputError, match=message):
        check_texts(texts)


def test_bucketed_prediction_keeps_row_order():
    from mepe_utils.data.text_batches import TextBatches, tokenize
    from mepe_utils.models.text import predict_bucketed

    backbone, preprocessor = tiny_distilbert(sequence_length=32)
    model = build_text_classifier(backbone, TINY_HEAD)
    texts = ["i love this " * 6, "ok", "what ? " * 3, "meh"]
    features = tokenize(preprocessor, texts)
    direct = model.predict_on_batch(features)[PROBABILITIES_OUTPUT]
    bucketed = predict_bucketed(model, features, batch_size=2)[PROBABILITIES_OUTPUT]
    np.testing.assert_allclose(bucketed, direct, atol=1e-5)
    from mepe_utils.models.common import traced_forward

    forward = traced_forward(model)
    trimmed = predict_bucketed(model, features, batch_size=2, forward=forward)[PROBABILITIES_OUTPUT]
    assert forward.tracing_count() == 1  # the first batch ran eagerly, the second traced the graph
    np.testing.assert_allclose(trimmed, direct, atol=1e-5)  # each batch cut to its longest text, in any order
    np.testing.assert_allclose(predict_bucketed(model, features, batch_size=3, forward=forward)[PROBABILITIES_OUTPUT],
                               direct, atol=1e-5)  # fmt: skip
    targets = {PROBABILITIES_OUTPUT: np.zeros((4, NUM_GOEMOTIONS), np.float32)}
    batches = TextBatches(features, targets, batch_size=2)
    widths = [batches[i][0]["token_ids"].shape[1] for i in range(len(batches))]
    assert widths == [16, 32]  # sorted by length: the short batch is not padded to the window


def _epoch_rows(batches):
    return [sorted(batches.batches[i].tolist()) for i in range(len(batches))]


def test_text_batches_are_seeded_per_epoch_and_a_resumed_run_sees_the_same():
    from mepe_utils.data.text_batches import TextBatches

    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 60, 200)
    features = {
        "token_ids": np.ones((200, 64), np.int32),
        "padding_mask": (np.arange(64)[None, :] < lengths[:, None]).astype(np.int32),
    }
    targets = {PROBABILITIES_OUTPUT: np.arange(200, dtype=np.float32)[:, None]}
    uninterrupted = TextBatches(features, targets, batch_size=8, shuffle=True, seed=5, pool_batches=5)
    first = _epoch_rows(uninterrupted)
    uninterrupted.on_epoch_end()
    second = _epoch_rows(uninterrupted)
    resumed = TextBatches(features, targets, batch_size=8, shuffle=True, seed=5, pool_batches=5, start_epoch=1)
    assert _epoch_rows(resumed) == second and second != first
    assert sorted(row for batch in second for row in batch) == list(range(200))  # every text once an epoch
    assert len(resumed) == len(uninterrupted) == 25
    for index in range(len(resumed)):  # each batch: rows of similar length, trimmed to its bucket
        batch_features, batch_targets = resumed[index]
        rows = batch_targets[PROBABILITIES_OUTPUT][:, 0].astype(int)
        width = batch_features["padding_mask"].shape[1]
        assert lengths[rows].max() <= width and width in (16, 32, 64)


def test_traced_forward_answers_its_first_call_eagerly_and_traces_once_after():
    """A one-shot command must not pay for a trace: the first call runs eagerly, with the graph's answer."""
    from mepe_utils.data.text_batches import tokenize
    from mepe_utils.models.common import traced_forward

    backbone, preprocessor = tiny_distilbert(sequence_length=32)
    model = build_text_classifier(backbone, TINY_HEAD)
    features = tokenize(preprocessor, ["i love this", "what ? what ?"])
    forward = traced_forward(model)
    first = forward(features)[PROBABILITIES_OUTPUT]
    assert forward.tracing_count() == 0
    second = forward(features)[PROBABILITIES_OUTPUT]
    third = forward({name: value[:1] for name, value in features.items()})[PROBABILITIES_OUTPUT]
    assert forward.tracing_count() == 1
    np.testing.assert_allclose(first, second, atol=1e-6)
    np.testing.assert_allclose(third, second[:1], atol=1e-6)
