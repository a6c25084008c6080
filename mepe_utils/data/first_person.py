"""First-person feelings for the text reader: ESConv seekers' own descriptions of their situation.

GoEmotions is Reddit comments, mostly about something or someone else. The people
MEPE serves write about themselves ("I lost my job and I can't stop worrying").
ESConv's seekers each wrote a ``situation`` in their own words and named the
emotion they felt (``emotion_type``); mapped onto GoEmotions labels, those are
first-person training texts (train split) and a first-person yardstick for the
text reader (valid and test splits, by Ekman class). The seekers' emotions are
all negative, so the set teaches *which* negative feeling a person describes,
not whether one is there. License: CC BY-NC 4.0 (research, non-commercial).

Example:
    >>> data = esconv_situations("../shared/data/esconv", "valid")
    >>> len(data), data.labels.shape[1]
    (195, 28)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mepe_utils.data.esconv import load_esconv
from mepe_utils.data.goemotions import TextEmotionData
from mepe_utils.errors import DataError
from mepe_utils.labels import GOEMOTIONS_LABELS, goemotions_to_ekman, ids_to_multi_hot

# The seeker's reported emotion -> the GoEmotions label that names it. Anxiety is
# GoEmotions' nervousness (Ekman fear), depression its sadness, shame its embarrassment
# (Ekman sad), guilt its remorse (Ekman sad). Jealousy and pain (one conversation each)
# have no GoEmotions label and are left out.
ESCONV_EMOTION_LABELS: dict[str, str] = {
    "anger": "anger",
    "anxiety": "nervousness",
    "depression": "sadness",
    "disgust": "disgust",
    "fear": "fear",
    "guilt": "remorse",
    "nervousness": "nervousness",
    "sadness": "sadness",
    "shame": "embarrassment",
}


def esconv_situations(folder: str | Path, split: str) -> TextEmotionData:
    """The seekers' situations of one ESConv split, labelled with their reported emotion.

    Args:
        folder: the ESConv folder (``{train,valid,test}.json``).
        split: ``train``, ``valid`` or ``test``.

    Returns:
        One row per conversation whose emotion maps onto GoEmotions and whose situation is not empty;
        ``ids`` are ``esconv-<split>-<row>``.

    Raises:
        DataError: the split is missing or has no usable situation.
    """
    conversations = load_esconv(folder, (split,))[split]
    rows = [
        (row, conversation.situation.strip(), ESCONV_EMOTION_LABELS[conversation.emotion_type])
        for row, conversation in enumerate(conversations)
        if conversation.emotion_type in ESCONV_EMOTION_LABELS and conversation.situation.strip()
    ]
    if not rows:
        raise DataError(f"{folder}: ESConv split {split!r} has no situation with a known emotion")
    labels = np.stack([ids_to_multi_hot([GOEMOTIONS_LABELS.index(label)]) for _, _, label in rows])
    return TextEmotionData(
        texts=[text for _, text, _ in rows],
        labels=labels,
        ekman=goemotions_to_ekman(labels),
        ids=[f"esconv-{split}-{row}" for row, _, _ in rows],
        split=split,
    )


def concatenate(first: TextEmotionData, second: TextEmotionData, repeats: int = 1) -> TextEmotionData:
    """``first`` followed by ``repeats`` copies of ``second``, under ``first``'s split name."""
    seconds = [second] * repeats
    return TextEmotionData(
        texts=first.texts + [text for part in seconds for text in part.texts],
        labels=np.concatenate([first.labels] + [part.labels for part in seconds]),
        ekman=np.concatenate([first.ekman] + [part.ekman for part in seconds]),
        ids=first.ids + [f"{text_id}#{copy}" for copy, part in enumerate(seconds) for text_id in part.ids],
        split=first.split,
    )
