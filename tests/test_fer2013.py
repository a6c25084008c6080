import numpy as np
import pytest

from conftest import write_fer_csv, write_fer_folder
from mepe_utils.data.fer2013 import load_fer2013, load_fer2013_csv, load_fer2013_folder, make_dataset
from mepe_utils.errors import DataError
from mepe_utils.labels import FER_LABELS


def test_folder_layout_gives_images_labels_and_usage_from_prefixes(tmp_path):
    data = load_fer2013_folder(write_fer_folder(tmp_path / "fer", per_class=2))
    assert data.images.shape == (7 * 2 * 3, 48, 48, 1) and data.images.dtype == np.uint8
    assert sorted(set(data.usage.tolist())) == ["PrivateTest", "PublicTest", "Training"]
    assert data.split("PrivateTest").class_counts() == dict.fromkeys(FER_LABELS, 2)


def test_folder_labels_follow_fer_order_not_alphabetical_folder_order(tmp_path):
    import cv2

    for split in ("train", "test"):
        for name in FER_LABELS:
            folder = tmp_path / split / name
            folder.mkdir(parents=True)
            fer_id = FER_LABELS.index(name)
            cv2.imwrite(str(folder / f"Training_{fer_id}.png"), np.full((48, 48), 30 * fer_id, np.uint8))
    data = load_fer2013_folder(tmp_path)
    # "neutral" sorts 5th as a folder but is FER id 6; the pixel value encodes the true id.
    assert (data.images[:, 0, 0, 0] // 30).tolist() == data.labels.tolist()
    assert set(data.labels.tolist()) == set(range(7))


def test_folder_without_prefixes_uses_split_names(tmp_path):
    data = load_fer2013_folder(write_fer_folder(tmp_path / "fer", per_class=1, prefixed=False))
    assert sorted(set(data.usage.tolist())) == ["test", "train"]


def test_csv_gives_the_same_form(tmp_path):
    data = load_fer2013(write_fer_csv(tmp_path / "fer2013.csv"))
    assert data.images.shape == (4, 48, 48, 1) and data.images.dtype == np.uint8
    assert data.labels.tolist() == [0, 3, 6, 1]
    assert data.usage.tolist() == ["Training", "Training", "PublicTest", "PrivateTest"]
    assert load_fer2013(tmp_path).labels.tolist() == [0, 3, 6, 1]  # a folder holding fer2013.csv


def _pixels(count=2304, value="7"):
    return " ".join([value] * count)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("0", _pixels(2303), "Training")], "expected 2304 pixel values, got 2303"),
        ([("0", _pixels(value="x"), "Training")], "pixels are not integers"),
        ([("0", _pixels(value="256"), "Training")], "must lie in 0..255"),
        ([("7", _pixels(), "Training")], "emotion id 7 is out of range 0..6"),
        ([("happy", _pixels(), "Training")], "is not an integer"),
        ([], "no rows"),
    ],
)
def test_bad_csv_rows_name_the_file_and_line(tmp_path, rows, message):
    path = write_fer_csv(tmp_path / "fer2013.csv", rows)
    with pytest.raises(DataError, match=message) as error:
        load_fer2013_csv(path)
    assert str(path) in str(error.value)


def test_csv_missing_column_and_missing_file(tmp_path):
    path = tmp_path / "fer2013.csv"
    path.write_text("emotion,pixels\n0,1 2 3\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['Usage'\]"):
        load_fer2013_csv(path)
    with pytest.raises(DataError, match="FER-2013 CSV not found"):
        load_fer2013_csv(tmp_path / "absent.csv")


def test_folder_errors_are_named(tmp_path):
    with pytest.raises(DataError, match="FER-2013 folder not found"):
        load_fer2013_folder(tmp_path / "absent")
    root = write_fer_folder(tmp_path / "fer", per_class=1)
    (root / "train" / "contempt").mkdir()
    with pytest.raises(DataError, match="unknown class folder .*contempt"):
        load_fer2013_folder(root)


def test_empty_split_and_unreadable_image_are_named(tmp_path):
    root = tmp_path / "fer"
    (root / "train" / "happy").mkdir(parents=True)
    (root / "test" / "happy").mkdir(parents=True)
    with pytest.raises(DataError, match="holds no images"):
        load_fer2013_folder(root)
    (root / "train" / "happy" / "Training_1.jpg").write_bytes(b"not a jpeg")
    (root / "test" / "happy" / "PublicTest_1.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match="Training_1.jpg: not a readable image"):
        load_fer2013_folder(root)


def test_split_that_is_absent_is_an_error(tmp_path):
    data = load_fer2013(write_fer_csv(tmp_path / "fer2013.csv"))
    with pytest.raises(DataError, match=r"split \['test'\] is empty"):
        data.split("test")


def test_dataset_pipeline_batches_seeded_shuffles(tmp_path):
    data = load_fer2013_folder(write_fer_folder(tmp_path / "fer", per_class=2)).split("Training")

    def first_labels(seed):
        batch = next(iter(make_dataset(data, batch_size=4, shuffle=True, seed=seed)))
        return batch[0].shape, batch[1].argmax(-1).tolist()

    shape, labels = first_labels(3)
    assert tuple(shape) == (4, 48, 48, 1)
    assert first_labels(3)[1] == labels
    assert [first_labels(s)[1] for s in range(4, 8)] != [labels] * 4
    images, one_hot, weights = next(iter(make_dataset(data, batch_size=5, sample_weights=np.ones(len(data)))))
    assert one_hot.shape == (5, 7) and weights.shape == (5,) and images.dtype.name == "float32"


@pytest.mark.real_data
def test_real_fer2013_has_the_canonical_counts(real_data_dir):
    data = load_fer2013(real_data_dir / "fer2013")
    expected = {
        "Training": [3995, 436, 4097, 7215, 4830, 3171, 4965],
        "PublicTest": [467, 56, 496, 895, 653, 415, 607],
        "PrivateTest": [491, 55, 528, 879, 594, 416, 626],
    }
    for usage, counts in expected.items():
        assert list(data.split(usage).class_counts().values()) == counts
    assert len(data) == 35887


def _fake_colab(monkeypatch, secrets: dict):
    import sys
    import types

    class SecretNotFoundError(Exception):
        pass

    def get(name):
        if name not in secrets:
            raise SecretNotFoundError(name)
        return secrets[name]

    colab = types.ModuleType("google.colab")
    colab.userdata = types.SimpleNamespace(get=get)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr("mepe_utils.runtime.in_colab", lambda: True)
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_kaggle_credentials_come_from_colab_secrets(monkeypatch):
    import os

    from mepe_utils.data.fer2013 import kaggle_credentials_from_colab

    _fake_colab(monkeypatch, {"KAGGLE_USERNAME": "someone", "KAGGLE_KEY": "abc123"})
    kaggle_credentials_from_colab()
    assert os.environ["KAGGLE_USERNAME"] == "someone" and os.environ["KAGGLE_KEY"] == "abc123"


def test_missing_kaggle_credentials_on_colab_name_what_to_set(monkeypatch):
    from mepe_utils.data.fer2013 import kaggle_credentials_from_colab
    from mepe_utils.errors import DataError

    _fake_colab(monkeypatch, {"KAGGLE_USERNAME": "someone"})
    with pytest.raises(DataError, match="KAGGLE_USERNAME and KAGGLE_KEY: add them as Colab secrets"):
        kaggle_credentials_from_colab()
