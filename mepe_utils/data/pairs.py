"""Label-matched (text, face) pairs for fusion: no data set holds a person's words and face with one label.

A pair is a GoEmotions text whose gold labels fall in exactly one Ekman class
and a FER-2013 face of that same class (the one 7-class space of
:mod:`mepe_utils.labels`). Pairs are made within matching splits only (train x
Training, dev x PublicTest, test x PrivateTest). Every face of a split appears
once per pairing, with a text of its class drawn with replacement (classes have
very different numbers of texts); a training run re-pairs every epoch from
``(seed, epoch)``.

What this can show: how a fusion model weighs two independent, noisy views of
one label, and how it behaves when one view is missing, degraded or disagrees.
What it cannot show: how a real person's words and face co-vary, since the
pairs never came from one person.

Example:
    >>> text_classes = single_class_ids(text_table.labels)     # -1 where not exactly one class
    >>> pairs = pair_by_class(text_classes, face_table.labels.argmax(1), np.random.default_rng([seed, epoch]))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mepe_utils.errors import DataError
from mepe_utils.labels import FER_LABELS, NUM_FER


@dataclass
class Pairs:
    """Row indices into a text table and a face table, and the shared class of each pair.

    Attributes:
        text_rows: (N,) rows of the text table.
        face_rows: (N,) rows of the face table.
        classes: (N,) class ids in ``FER_LABELS`` order.
    """

    text_rows: np.ndarray
    face_rows: np.ndarray
    classes: np.ndarray

    def __len__(self) -> int:
        return len(self.classes)


def single_class_ids(multi_hot: np.ndarray) -> np.ndarray:
    """The class id of each row with exactly one gold class, -1 for the others."""
    multi_hot = np.asarray(multi_hot)
    single = multi_hot.sum(axis=1) == 1
    return np.where(single, multi_hot.argmax(axis=1), -1)


def pair_by_class(text_classes: np.ndarray, face_classes: np.ndarray, rng: np.random.Generator) -> Pairs:
    """Pairs every face with a random text of its class (drawn with replacement).

    Args:
        text_classes: (T,) each text's class id, -1 for texts left out (see :func:`single_class_ids`).
        face_classes: (F,) each face's class id.
        rng: the pairing's generator (seed it from the run's seed and epoch).

    Returns:
        :class:`Pairs` with one pair per face, in face order.

    Raises:
        DataError: a face class outside 0..6, or a class present among the faces without a text.
    """
    face_classes = np.asarray(face_classes)
    if len(face_classes) and not ((face_classes >= 0) & (face_classes < NUM_FER)).all():
        raise DataError(f"face classes must be ids in 0..{NUM_FER - 1}")
    text_rows = np.empty(len(face_classes), dtype=np.int64)
    for class_id in range(NUM_FER):
        faces = np.flatnonzero(face_classes == class_id)
        if not len(faces):
            continue
        texts = np.flatnonzero(np.asarray(text_classes) == class_id)
        if not len(texts):
            raise DataError(f"no single-class text of class {FER_LABELS[class_id]!r} to pair with {len(faces)} faces")
        text_rows[faces] = rng.choice(texts, size=len(faces), replace=True)
    return Pairs(text_rows, np.arange(len(face_classes)), face_classes.copy())


def conflicting_pairs(text_classes: np.ndarray, face_classes: np.ndarray, rng: np.random.Generator) -> Pairs:
    """Pairs every face with a random text of another class (for the disagreement condition).

    Returns:
        :class:`Pairs` whose ``classes`` are the faces' classes.

    Raises:
        DataError: a face class whose texts are the only usable ones.
    """
    face_classes = np.asarray(face_classes)
    text_classes = np.asarray(text_classes)
    usable = np.flatnonzero(text_classes >= 0)
    text_rows = np.empty(len(face_classes), dtype=np.int64)
    for class_id in range(NUM_FER):
        faces = np.flatnonzero(face_classes == class_id)
        others = usable[text_classes[usable] != class_id]
        if len(faces) and not len(others):
            raise DataError(f"no single-class text of a class other than {FER_LABELS[class_id]!r} to conflict with")
        if len(faces):
            text_rows[faces] = rng.choice(others, size=len(faces), replace=True)
    return Pairs(text_rows, np.arange(len(face_classes)), face_classes.copy())
