import json

import numpy as np
import pytest

from mepe_utils.errors import LabelError
from mepe_utils.labels import (
    EKMAN_MAPPING,
    FER_LABELS,
    GOEMOTIONS_LABELS,
    GOEMOTIONS_TO_FER_ID,
    check_labels,
    goemotions_scores_to_ekman,
    goemotions_to_ekman,
    id_to_name,
    ids_to_multi_hot,
    name_to_id,
)


def test_fer_labels_are_in_canonical_dataset_order():
    assert FER_LABELS == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_every_goemotions_emotion_maps_to_exactly_one_fer_class():
    members = [m for group in EKMAN_MAPPING.values() for m in group]
    assert sorted(members + ["neutral"]) == sorted(GOEMOTIONS_LABELS)
    assert len(set(members)) == len(members)
    assert GOEMOTIONS_TO_FER_ID[GOEMOTIONS_LABELS.index("joy")] == FER_LABELS.index("happy")
    assert GOEMOTIONS_TO_FER_ID[GOEMOTIONS_LABELS.index("nervousness")] == FER_LABELS.index("fear")
    assert GOEMOTIONS_TO_FER_ID[GOEMOTIONS_LABELS.index("neutral")] == FER_LABELS.index("neutral")


def test_names_and_ids_round_trip_and_reject_unknowns():
    for space, labels in (("fer", FER_LABELS), ("goemotions", GOEMOTIONS_LABELS)):
        for index, name in enumerate(labels):
            assert name_to_id(name, space) == index
            assert id_to_name(index, space) == name
    with pytest.raises(LabelError, match="'joy' is not a fer label"):
        name_to_id("joy", "fer")
    with pytest.raises(LabelError, match="out of range 0..6"):
        id_to_name(7, "fer")
    with pytest.raises(LabelError, match="unknown label space"):
        name_to_id("joy", "ekman7")


def test_multi_hot_28_to_7_pools_members_per_class():
    labels = np.stack(
        [
            ids_to_multi_hot([GOEMOTIONS_LABELS.index("amusement"), GOEMOTIONS_LABELS.index("annoyance")]),
            ids_to_multi_hot([GOEMOTIONS_LABELS.index("neutral")]),
        ]
    )
    ekman = goemotions_to_ekman(labels)
    assert ekman.shape == (2, 7)
    assert ekman[0].tolist() == [1, 0, 0, 1, 0, 0, 0]  # angry + happy
    assert ekman[1].tolist() == [0, 0, 0, 0, 0, 0, 1]
    with pytest.raises(LabelError, match="out of range"):
        ids_to_multi_hot([28])
    with pytest.raises(LabelError, match="expected 28"):
        goemotions_to_ekman(np.zeros((2, 7)))


def test_scores_pool_to_the_max_member_probability():
    scores = np.zeros(28, dtype=np.float32)
    scores[GOEMOTIONS_LABELS.index("grief")] = 0.8
    scores[GOEMOTIONS_LABELS.index("sadness")] = 0.3
    pooled = goemotions_scores_to_ekman(scores)
    assert pooled[FER_LABELS.index("sad")] == pytest.approx(0.8)
    assert pooled.sum() == pytest.approx(0.8)


def test_check_labels_demands_same_names_in_same_order():
    check_labels(list(FER_LABELS), FER_LABELS)
    with pytest.raises(LabelError, match="labels do not match"):
        check_labels(sorted(FER_LABELS), FER_LABELS)


@pytest.mark.real_data
def test_label_space_matches_the_official_goemotions_files(real_data_dir):
    folder = real_data_dir / "goemotions"
    names = [line.strip() for line in (folder / "emotions.txt").read_text().splitlines() if line.strip()]
    assert tuple(names) == GOEMOTIONS_LABELS
    official = json.loads((folder / "ekman_mapping.json").read_text())
    assert {k: sorted(v) for k, v in official.items()} == {k: sorted(v) for k, v in EKMAN_MAPPING.items()}


@pytest.mark.real_data
def test_fer_class_folders_are_the_fer_labels(real_data_dir):
    folders = sorted(p.name for p in (real_data_dir / "fer2013" / "train").iterdir() if p.is_dir())
    assert folders == sorted(FER_LABELS)
