"""Surface features of how a text is written: what an uncased encoder cannot see.

MEPE's text encoder lower-cases its input, so it cannot tell "I'm fine." from
"i'm fine", nor see "!!!" as more than "!". Formality lives largely in those
marks, so the persona's trait heads read these features beside the encoder's
sentence vector.

Every feature is a number computed from the raw text with no fitted state:

=========================  ==========================================================
``log_words``              log(1 + number of words)
``mean_word_length``       mean characters per word
``starts_capitalised``     1 when the first character is an upper-case letter
``all_lower_case``         1 when the text has no upper-case letter at all
``shouting_share``         share of words of 2+ letters written in capitals ("WHAT?!")
``capitalised_share``      share of alphabetic words starting with a capital
``exclamation``            1 when the text holds a "!"
``question``               1 when the text holds a "?"
``ellipsis``               1 when the text holds "..."
``repeated_marks``         1 for runs like "!!" or "?!"
``lower_case_i``           1 when "i" stands alone in lower case
``contraction``            1 for n't, 's, 're, 'm, 'll
``chat_words``             1 for lol, u, ur, gonna, wanna, yeah, ok, omg
``ends_with_mark``         1 when the text ends with ".", "!" or "?"
``symbol_share``           share of words that are not purely letters or digits
=========================  ==========================================================

Example:
    >>> features = writing_style_features(["i'm fine lol", "I am well, thank you."])
    >>> features.shape
    (2, 15)
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

import numpy as np

WRITING_STYLE_FEATURES = (
    "log_words",
    "mean_word_length",
    "starts_capitalised",
    "all_lower_case",
    "shouting_share",
    "capitalised_share",
    "exclamation",
    "question",
    "ellipsis",
    "repeated_marks",
    "lower_case_i",
    "contraction",
    "chat_words",
    "ends_with_mark",
    "symbol_share",
)
_REPEATED_MARKS = re.compile(r"[!?]{2,}")
_LOWER_CASE_I = re.compile(r"(?<![\w'])i(?![\w])")
_CONTRACTION = re.compile(r"n't|'s\b|'re\b|'m\b|'ll\b", re.IGNORECASE)
_CHAT_WORDS = re.compile(r"\b(lol|u|ur|gonna|wanna|yeah|ok|omg)\b", re.IGNORECASE)


def _features(text: str) -> list[float]:
    words = text.split()
    if not words:
        return [0.0] * len(WRITING_STYLE_FEATURES)
    cores = [w.strip(string.punctuation) for w in words]
    alphabetic = [c for c in cores if c[:1].isalpha()]
    stripped = text.strip()
    return [
        float(np.log1p(len(words))),
        float(np.mean([len(w) for w in words])),
        float(stripped[:1].isupper()),
        float(not any(c.isupper() for c in text)),
        sum(len(c) > 1 and c.isalpha() and c.isupper() for c in cores) / len(words),
        sum(c[:1].isupper() for c in alphabetic) / max(len(alphabetic), 1),
        float("!" in text),
        float("?" in text),
        float("..." in text),
        float(bool(_REPEATED_MARKS.search(text))),
        float(bool(_LOWER_CASE_I.search(text))),
        float(bool(_CONTRACTION.search(text))),
        float(bool(_CHAT_WORDS.search(text))),
        float(stripped[-1:] in (".", "!", "?")),
        sum(not w.isalnum() for w in words) / len(words),
    ]


def writing_style_features(texts: Sequence[str]) -> np.ndarray:
    """(N, 15) float32 features of :data:`WRITING_STYLE_FEATURES`, one row per text."""
    return np.asarray([_features(text) for text in texts], dtype=np.float32).reshape(
        len(texts), len(WRITING_STYLE_FEATURES)
    )
