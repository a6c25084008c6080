"""Text normalisation applied before tokenising: emoji become the words that name them.

Word-piece vocabularies such as BERT's hold almost no emoji, so "I'm done 😭😭"
reaches the encoder as ``i ' m done [UNK] [UNK]`` and the one signal that carries
the feeling is lost. :func:`emoji_to_words` replaces each emoji with its CLDR
short name from the maintained ``emoji`` package ("loudly crying face"), which a
pretrained encoder can read. The same function runs in training and in
prediction; the saved model's manifest records whether it was used.

Example:
    >>> emoji_to_words("I'm done 😭")
    "I'm done loudly crying face"
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_SPACES = re.compile(r"\s+")


def _emoji_name(chars: str, data: dict) -> str:
    return " " + data["en"].strip(":").replace("_", " ") + " "


def emoji_to_words(text: str) -> str:
    """Replaces every emoji in ``text`` with its English name, spaces collapsed.

    Args:
        text: any string; text without emoji comes back unchanged.

    Returns:
        The text with each emoji (skin tones and joiner sequences included) as words.
    """
    import emoji

    if not emoji.emoji_count(text):
        return text
    return _SPACES.sub(" ", emoji.replace_emoji(text, replace=_emoji_name)).strip()


def normalize_texts(texts: Sequence[str], *, emoji_words: bool) -> list[str]:
    """The texts as the model reads them: with :func:`emoji_to_words` applied when ``emoji_words``."""
    return [emoji_to_words(text) for text in texts] if emoji_words else list(texts)
