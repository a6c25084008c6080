import numpy as np
import pytest

from conftest import write_goemotions_folder
from mepe_utils.data.goemotions import (
    load_goemotions_hub,
    load_goemotions_tsv,
    load_goemotions_tsv_splits,
)
from mepe_utils.errors import DataError, LabelError
from mepe_utils.labels import FER_LABELS, GOEMOTIONS_LABELS


def test_tsv_splits_give_texts_multi_hot_ekman_and_ids(tmp_path):
    splits = load_goemotions_tsv_splits(write_goemotions_folder(tmp_path / "go"))
    assert set(splits) == {"train", "dev", "test"}
    train = splits["train"]
    assert train.split == "train" and len(train) == 3
    assert train.texts[0] == "I love this so much!"
    assert train.labels.shape == (3, 28) and train.labels.dtype == np.uint8
    assert train.labels[1, GOEMOTIONS_LABELS.index("sadness")] == 1
    assert train.labels[1, GOEMOTIONS_LABELS.index("disappointment")] == 1
    assert train.ekman.shape == (3, 7)
    assert train.ekman[0, FER_LABELS.index("happy")] == 1  # love -> joy -> happy
    assert train.ekman[1].tolist() == [0, 0, 0, 0, 1, 0, 0]
    assert train.ids == ["c1", "c2", "c3"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("only text\n", "expected 3 tab-separated fields"),
        ("text\tx,1\tid\n", "are not integers"),
        ("text\t28\tid\n", "label id 28 is out of range"),
        ("text\t\tid\n", "no label ids"),
        ("", "is empty"),
    ],
)
def test_bad_tsv_rows_are_named(tmp_path, content, message):
    path = tmp_path / "train.tsv"
    path.write_text(content)
    with pytest.raises(DataError, match=message) as error:
        load_goemotions_tsv(path)
    assert str(path) in str(error.value)


def test_missing_file_and_folder_are_named(tmp_path):
    with pytest.raises(DataError, match="not found: .*nope.tsv"):
        load_goemotions_tsv(tmp_path / "nope.tsv")
    with pytest.raises(DataError, match="GoEmotions folder not found"):
        load_goemotions_tsv_splits(tmp_path / "absent")


def test_a_folder_with_another_label_set_is_refused(tmp_path):
    folder = write_goemotions_folder(tmp_path / "go")
    (folder / "emotions.txt").write_text("\n".join(reversed(GOEMOTIONS_LABELS)))
    with pytest.raises(LabelError, match="wrong label set"):
        load_goemotions_tsv_splits(folder)


def test_hub_loader_maps_validation_to_dev_and_matches_the_tsv_form():
    datasets = pytest.importorskip("datasets")
    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "labels": datasets.Sequence(datasets.ClassLabel(names=list(GOEMOTIONS_LABELS))),
            "id": datasets.Value("string"),
        }
    )
    rows = {"text": ["so happy", "hmm"], "labels": [[17], [27, 6]], "id": ["a", "b"]}
    hub = datasets.DatasetDict(
        {name: datasets.Dataset.from_dict(rows, features=features) for name in ("train", "validation", "test")}
    )
    dev = load_goemotions_hub("dev", hub)
    assert dev.split == "dev" and dev.texts == ["so happy", "hmm"]
    assert dev.labels[0, 17] == 1 and dev.labels[1, 27] == 1 and dev.labels[1, 6] == 1
    assert dev.ekman[1].tolist() == [0, 0, 0, 0, 0, 1, 1]  # confusion -> surprise, neutral
    with pytest.raises(DataError, match="unknown GoEmotions split"):
        load_goemotions_hub("validation", hub)


def test_hub_loader_refuses_another_label_set():
    datasets = pytest.importorskip("datasets")
    features = datasets.Features(
        {
            "text": datasets.Value("string"),
            "labels": datasets.Sequence(datasets.ClassLabel(names=[f"x{i}" for i in range(28)])),
            "id": datasets.Value("string"),
        }
    )
    hub = {"train": datasets.Dataset.from_dict({"text": ["a"], "labels": [[0]], "id": ["1"]}, features=features)}
    with pytest.raises(LabelError, match="wrong label set"):
        load_goemotions_hub("train", hub)


@pytest.mark.real_data
def test_real_goemotions_has_the_canonical_counts(real_data_dir):
    splits = load_goemotions_tsv_splits(real_data_dir / "goemotions")
    assert {name: len(data) for name, data in splits.items()} == {"train": 43410, "dev": 5426, "test": 5427}
    for data in splits.values():
        assert (data.labels.sum(axis=1) >= 1).all()
        assert (data.ekman.sum(axis=1) >= 1).all()
