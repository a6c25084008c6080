"""First-person training and scoring texts for the text reader (ESConv situations), and their batches."""

import json

import numpy as np
import pytest

from conftest import tiny_text_encoder, tiny_text_head, write_esconv_folder, write_goemotions_folder
from mepe_utils.data.first_person import ESCONV_EMOTION_LABELS, concatenate, esconv_situations
from mepe_utils.errors import DataError
from mepe_utils.labels import FER_LABELS, GOEMOTIONS_LABELS


def _esconv(folder, rows):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"emotion_type": emotion, "situation": situation, "dialog": []}) for emotion, situation in rows]
    (folder / "valid.json").write_text("\n".join(lines) + "\n")
    return folder


def test_situations_carry_the_goemotions_label_of_the_reported_emotion(tmp_path):
    folder = _esconv(
        tmp_path,
        [("anxiety", "My exams start tomorrow."), ("jealousy", "My friend got the job."), ("shame", "  "),
         ("anger", "My landlord kept my deposit."), ("shame", "I failed in front of everyone.")],
    )  # fmt: skip
    data = esconv_situations(folder, "valid")
    assert data.texts == ["My exams start tomorrow.", "My landlord kept my deposit.", "I failed in front of everyone."]
    assert data.ids == ["esconv-valid-0", "esconv-valid-3", "esconv-valid-4"]  # no label for jealousy, no text
    named = [[GOEMOTIONS_LABELS[i] for i in np.flatnonzero(row)] for row in data.labels]
    assert named == [["nervousness"], ["anger"], ["embarrassment"]]
    assert [FER_LABELS[row.argmax()] for row in data.ekman] == ["fear", "angry", "sad"]
    assert data.ekman.sum(axis=1).tolist() == [1, 1, 1]


def test_a_split_without_a_usable_situation_is_named(tmp_path):
    with pytest.raises(DataError, match="no situation with a known emotion"):
        esconv_situations(_esconv(tmp_path, [("jealousy", "My friend got the job.")]), "valid")


def test_every_mapped_emotion_is_a_goemotions_label():
    assert set(ESCONV_EMOTION_LABELS.values()) <= set(GOEMOTIONS_LABELS)


def test_concatenate_repeats_the_second_part_with_distinct_ids(tmp_path):
    folder = _esconv(tmp_path, [("anger", "a"), ("fear", "b")])
    first, second = esconv_situations(folder, "valid"), esconv_situations(folder, "valid").subset([1])
    both = concatenate(first, second, repeats=3)
    assert both.texts == ["a", "b", "b", "b", "b"]
    assert len(set(both.ids)) == 5 and both.labels.shape == (5, 28) and both.ekman.shape == (5, 7)
    assert np.array_equal(both.labels[2:], np.repeat(second.labels, 3, axis=0))


def test_real_esconv_situations_cover_the_negative_ekman_classes(real_data_dir):
    data = {split: esconv_situations(real_data_dir / "esconv", split) for split in ("train", "valid", "test")}
    assert {split: len(part) for split, part in data.items()} == {"train": 908, "valid": 195, "test": 195}
    counts = dict(zip(FER_LABELS, data["train"].ekman.sum(axis=0).tolist()))
    assert counts["happy"] == counts["surprise"] == counts["neutral"] == 0
    assert min(counts[name] for name in ("angry", "disgust", "fear", "sad")) >= 29


def _padded(lengths, window=64):
    mask = (np.arange(window)[None, :] < np.asarray(lengths)[:, None]).astype(np.int32)
    return {"token_ids": mask * 7, "padding_mask": mask}


@pytest.mark.parametrize("shuffle", [False, True])
def test_keras_reads_every_batch_width_when_the_first_batches_are_equally_wide(shuffle):
    """Keras' TensorFlow adapter takes the input signature from the first two batches."""
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    from mepe_utils.data.text_batches import TextBatches

    lengths = [5] * 40 + [30] * 4  # sorted (and mostly shuffled) batches 0 and 1 are 16 wide
    targets = {"probabilities": np.zeros((len(lengths), 1), np.float32)}
    batches = TextBatches(_padded(lengths), targets, batch_size=4, shuffle=shuffle, seed=0, pool_batches=11)
    assert {batches[0][0]["token_ids"].shape[1], batches[1][0]["token_ids"].shape[1]} == {16, 32}
    widths = [features["token_ids"].shape[1] for features, _ in PyDatasetAdapter(batches).get_tf_dataset()]
    assert sorted(widths) == [16] * 10 + [32]
    assert sorted(row for batch in batches.batches for row in batch.tolist()) == list(range(len(lengths)))


def test_training_from_a_saved_model_with_first_person_texts_records_them(tmp_path, tiny_text_model_dir):
    from dataclasses import replace

    from mepe_utils.artifacts import read_manifest
    from mepe_utils.data.feeling_words import load_feeling_words
    from mepe_utils.data.goemotions import load_goemotions
    from mepe_utils.predictors.text import TextEmotionModel
    from mepe_utils.training.text import TextTrainConfig, train_text

    backbone, preprocessor = tiny_text_encoder()
    config = TextTrainConfig(
        model=replace(tiny_text_head(), emoji_feelings=True), epochs=1, batch_size=2, warmup_fraction=0.0,
        jit_compile=False, first_person_repeats=2, feeling_statements_per_word=1, plain_statements_per_activity=1,
        news_statements_per_event=1, init_model=str(tiny_text_model_dir),
    )  # fmt: skip
    goemotions, esconv = write_goemotions_folder(tmp_path / "goemotions"), write_esconv_folder(tmp_path / "esconv")
    saved = train_text(
        goemotions, tmp_path / "run", config, backbone=backbone, preprocessor=preprocessor,
        first_person_source=esconv,
    )  # fmt: skip
    manifest = read_manifest(saved)
    lexicon = load_feeling_words()
    words, activities = len(lexicon), len(lexicon.activities)
    events = {label: len(news) for label, news in lexicon.news.items()}
    trained = len(load_goemotions(goemotions)["train"]) + 2 * len(esconv_situations(esconv, "train")) + words
    assert manifest.data["train"] == f"train ({trained + activities + sum(events.values())} texts)"
    assert manifest.data["feeling_words"]["words"] == words
    assert manifest.data["plain_statements"]["activities"] == activities
    assert manifest.data["news_statements"]["events"] == events
    assert manifest.extra["emoji_feelings"] is True and "EMOJI_FEELINGS" in manifest.preprocessing["emoji"]
    assert TextEmotionModel.load(saved).model_texts(["so done 😡", "🐈"]) == ["so done angry", "cat"]
    assert manifest.training["init_model_sha256"] == read_manifest(tiny_text_model_dir).model_sha256
    assert manifest.data["first_person"]["scored"] == {"valid": 6, "test": 6}
    for split in ("valid", "test"):
        assert 0.0 <= manifest.metrics[f"first_person_{split}_ekman_accuracy"] <= 1.0


def test_first_person_repeats_without_esconv_is_refused(tmp_path):
    from mepe_utils.training.text import TextTrainConfig, TextTrainer

    with pytest.raises(ValueError, match="needs the ESConv folder"):
        TextTrainer(tmp_path, TextTrainConfig(first_person_repeats=1))
