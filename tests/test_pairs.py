"""Label-matched pairs: class match, every face once, seeded repeatability, conflicts, a class without texts."""

import numpy as np
import pytest

from mepe_utils.data.pairs import conflicting_pairs, pair_by_class, single_class_ids
from mepe_utils.errors import DataError

TEXT_CLASSES = np.array([0, 0, 3, 3, 3, 4, -1, 6, 6, 1, 2, 5])
FACE_CLASSES = np.array([3, 3, 0, 4, 6, 1, 2, 5, 3, 0])


def test_only_texts_with_exactly_one_class_are_kept():
    multi_hot = np.array([[1, 0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0, 1], [0] * 7])
    assert single_class_ids(multi_hot).tolist() == [0, -1, 6, -1]


def test_every_face_is_paired_once_with_a_text_of_its_class():
    pairs = pair_by_class(TEXT_CLASSES, FACE_CLASSES, np.random.default_rng(1))
    assert pairs.face_rows.tolist() == list(range(len(FACE_CLASSES)))
    assert (TEXT_CLASSES[pairs.text_rows] == FACE_CLASSES).all()
    assert (pairs.classes == FACE_CLASSES).all()
    assert (TEXT_CLASSES[pairs.text_rows] >= 0).all()


def test_pairing_is_seeded():
    faces = np.repeat(np.arange(7), 50)
    texts = np.repeat(np.arange(7), 30)
    first, again = (pair_by_class(texts, faces, np.random.default_rng([3, 0])) for _ in range(2))
    other_epoch = pair_by_class(texts, faces, np.random.default_rng([3, 1]))
    np.testing.assert_array_equal(first.text_rows, again.text_rows)
    assert (first.text_rows != other_epoch.text_rows).any()


def test_conflicting_pairs_never_share_a_class():
    pairs = conflicting_pairs(TEXT_CLASSES, FACE_CLASSES, np.random.default_rng(2))
    assert (TEXT_CLASSES[pairs.text_rows] != FACE_CLASSES).all() and (TEXT_CLASSES[pairs.text_rows] >= 0).all()


def test_a_class_without_texts_is_named():
    with pytest.raises(DataError, match="no single-class text of class 'disgust'"):
        pair_by_class(np.array([0, 3]), np.array([1, 3]), np.random.default_rng(0))


def test_face_classes_outside_the_label_space_and_impossible_conflicts_are_named():

    with pytest.raises(DataError, match="face classes must be ids in 0..6"):
        pair_by_class(np.array([0, 1]), np.array([0, 9]), np.random.default_rng(0))
    with pytest.raises(DataError, match="no single-class text of a class other than 'angry'"):
        conflicting_pairs(np.array([0, 0, -1]), np.array([0, 0]), np.random.default_rng(0))
