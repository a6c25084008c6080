"""The one label space of MEPE.

Every list of emotion names in the project comes from this module:

* ``FER_LABELS``: FER-2013's 7 classes in the dataset's canonical id order.
* ``GOEMOTIONS_LABELS``: GoEmotions' 28 labels in the order of the official
  ``emotions.txt`` (id 27 is ``neutral``).
* ``EKMAN_MAPPING``: the official ``ekman_mapping.json`` grouping of the 27
  GoEmotions emotions into six Ekman emotions; ``neutral`` stays ``neutral``.
* ``EKMAN_TO_FER``: the Ekman names mapped onto the FER classes, so that text
  and face predictions share one 7-class space (``joy`` <-> ``happy`` ...).

Models never learn the alphabetical order of class folders: every saved model
carries its own label list, checked against these constants on load.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from mepe_utils.errors import LabelError

FER_LABELS: tuple[str, ...] = (
    "angry",
    "disgust",
    "fear",
    "happy",
    "sad",
    "surprise",
    "neutral",
)

GOEMOTIONS_LABELS: tuple[str, ...] = (
    "admiration",
    "amusement",
    "anger",
    "annoyance",
    "approval",
    "caring",
    "confusion",
    "curiosity",
    "desire",
    "disappointment",
    "disapproval",
    "disgust",
    "embarrassment",
    "excitement",
    "fear",
    "gratitude",
    "grief",
    "joy",
    "love",
    "nervousness",
    "optimism",
    "pride",
    "realization",
    "relief",
    "remorse",
    "sadness",
    "surprise",
    "neutral",
)

EKMAN_MAPPING: dict[str, tuple[str, ...]] = {
    "anger": ("anger", "annoyance", "disapproval"),
    "disgust": ("disgust",),
    "fear": ("fear", "nervousness"),
    "joy": (
        "joy",
        "amusement",
        "approval",
        "excitement",
        "gratitude",
        "love",
        "optimism",
        "relief",
        "pride",
        "admiration",
        "desire",
        "caring",
    ),
    "sadness": ("sadness", "disappointment", "embarrassment", "grief", "remorse"),
    "surprise": ("surprise", "realization", "confusion", "curiosity"),
}

EKMAN_TO_FER: dict[str, str] = {
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "joy": "happy",
    "sadness": "sad",
    "surprise": "surprise",
    "neutral": "neutral",
}

NUM_FER = len(FER_LABELS)
NUM_GOEMOTIONS = len(GOEMOTIONS_LABELS)


def _goemotions_to_fer_index() -> np.ndarray:
    """Returns, for each of the 28 GoEmotions ids, the id of its FER class."""
    fer_of = {"neutral": FER_LABELS.index("neutral")}
    for ekman, members in EKMAN_MAPPING.items():
        for member in members:
            fer_of[member] = FER_LABELS.index(EKMAN_TO_FER[ekman])
    return np.array([fer_of[name] for name in GOEMOTIONS_LABELS], dtype=np.int64)


GOEMOTIONS_TO_FER_ID: np.ndarray = _goemotions_to_fer_index()
"""``GOEMOTIONS_TO_FER_ID[i]`` is the FER id that GoEmotions label ``i`` maps to."""

GOEMOTIONS_TO_FER_MATRIX: np.ndarray = np.eye(NUM_FER, dtype=np.float32)[GOEMOTIONS_TO_FER_ID]
"""A (28, 7) 0/1 matrix: multiply 28-label scores by it to pool them per FER class."""


def _space(space: str) -> tuple[str, ...]:
    spaces = {"fer": FER_LABELS, "goemotions": GOEMOTIONS_LABELS}
    if space not in spaces:
        raise LabelError(f"unknown label space {space!r}; expected one of {sorted(spaces)}")
    return spaces[space]


def name_to_id(name: str, space: str = "fer") -> int:
    """Returns the id of a label name in ``space`` ("fer" or "goemotions")."""
    labels = _space(space)
    if name not in labels:
        raise LabelError(f"{name!r} is not a {space} label; expected one of {list(labels)}")
    return labels.index(name)


def id_to_name(label_id: int, space: str = "fer") -> str:
    """Returns the label name of an id in ``space`` ("fer" or "goemotions")."""
    labels = _space(space)
    if not 0 <= int(label_id) < len(labels):
        raise LabelError(f"label id {label_id} is out of range 0..{len(labels) - 1} for {space}")
    return labels[int(label_id)]


def ids_to_multi_hot(ids: Iterable[int], num_labels: int = NUM_GOEMOTIONS) -> np.ndarray:
    """Turns a list of label ids into a multi-hot uint8 vector.

    Raises:
        LabelError: if an id is outside ``0..num_labels-1``.
    """
    vector = np.zeros(num_labels, dtype=np.uint8)
    for label_id in ids:
        if not 0 <= int(label_id) < num_labels:
            raise LabelError(f"label id {label_id} is out of range 0..{num_labels - 1}")
        vector[int(label_id)] = 1
    return vector


def goemotions_to_ekman(multi_hot: np.ndarray) -> np.ndarray:
    """Maps 28-label multi-hot rows onto the 7 FER-ordered Ekman classes.

    Args:
        multi_hot: array of shape (28,) or (N, 28) with 0/1 entries.

    Returns:
        uint8 array of shape (7,) or (N, 7): class ``k`` is on when any of its
        GoEmotions members is on.
    """
    multi_hot = np.asarray(multi_hot)
    if multi_hot.shape[-1] != NUM_GOEMOTIONS:
        raise LabelError(f"expected {NUM_GOEMOTIONS} GoEmotions columns, got shape {multi_hot.shape}")
    pooled = multi_hot.astype(np.float32) @ GOEMOTIONS_TO_FER_MATRIX
    return (pooled > 0).astype(np.uint8)


def goemotions_scores_to_ekman(scores: np.ndarray) -> np.ndarray:
    """Pools 28-label probabilities into 7 Ekman scores: the max over each class's members."""
    scores = np.asarray(scores, dtype=np.float32)
    if scores.shape[-1] != NUM_GOEMOTIONS:
        raise LabelError(f"expected {NUM_GOEMOTIONS} GoEmotions columns, got shape {scores.shape}")
    out = np.zeros(scores.shape[:-1] + (NUM_FER,), dtype=np.float32)
    for fer_id in range(NUM_FER):
        members = fer_id == GOEMOTIONS_TO_FER_ID
        out[..., fer_id] = scores[..., members].max(axis=-1)
    return out


def check_labels(actual: Sequence[str], expected: Sequence[str], what: str = "model") -> None:
    """Raises ``LabelError`` unless ``actual`` is exactly ``expected``, in order."""
    if list(actual) != list(expected):
        raise LabelError(
            f"{what} labels do not match: got {list(actual)}, expected {list(expected)} (same names, same order)"
        )
