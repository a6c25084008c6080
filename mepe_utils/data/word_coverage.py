"""How much of a text a fine-tuned text model can read: the share of its words it learned emotions from.

A word-piece vocabulary such as BERT's holds pieces for Chinese, Russian or
Spanish text, so such a text is tokenised with few unknown pieces; yet a model
fine-tuned on English Reddit comments has never seen those words carry a
feeling, and answers such a text as confidently as any other. The measure here is the words themselves: the
fine-tuning texts' vocabulary (words seen at least :data:`MIN_WORD_COUNT`
times) is saved with the model, and each reading reports the share of its words
found there. ``bench-text`` reports how many GoEmotions test texts fall below
:data:`LOW_COVERAGE`; texts in other languages and texts without words do.

Example:
    >>> vocabulary = frozenset({"i", "feel", "so", "sad"})
    >>> word_coverage(["I feel so sad", "je suis triste"], vocabulary).tolist()
    [1.0, 0.0]
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

WORDS_ASSET = "fine_tuning_words.txt"
"""The saved model's asset: the fine-tuning vocabulary, one word a line."""
MIN_WORD_COUNT = 2
"""A word belongs to the fine-tuning vocabulary when the training texts hold it this often."""
LOW_COVERAGE = 0.5
"""Below this share of known words a reading is reported as unreliable."""

_WORD = re.compile(r"[^\W\d_]+")


def words_of(text: str) -> list[str]:
    """The lower-cased words of ``text`` (letters only; digits and punctuation are not words)."""
    return _WORD.findall(text.lower())


def fine_tuning_vocabulary(texts: Iterable[str], min_count: int = MIN_WORD_COUNT) -> list[str]:
    """The words that occur at least ``min_count`` times in ``texts``, sorted."""
    counts = Counter(word for text in texts for word in words_of(text))
    return sorted(word for word, count in counts.items() if count >= min_count)


def write_vocabulary(words: Sequence[str], path: Path) -> None:
    """Writes ``words`` one a line (UTF-8): the :data:`WORDS_ASSET` of a saved model."""
    Path(path).write_text("".join(f"{word}\n" for word in words), encoding="utf-8")


def read_vocabulary(path: Path) -> frozenset[str]:
    """Reads a vocabulary written by :func:`write_vocabulary`."""
    return frozenset(Path(path).read_text(encoding="utf-8").split())


def word_coverage(texts: Sequence[str], vocabulary: frozenset[str]) -> np.ndarray:
    """The share of each text's words found in ``vocabulary``; 0 for a text without words.

    Args:
        texts: the texts as the model reads them (emoji already turned into words).
        vocabulary: from :func:`read_vocabulary`.

    Returns:
        (N,) float32 shares in [0, 1].
    """
    shares = []
    for text in texts:
        words = words_of(text)
        shares.append(sum(word in vocabulary for word in words) / len(words) if words else 0.0)
    return np.asarray(shares, dtype=np.float32)
