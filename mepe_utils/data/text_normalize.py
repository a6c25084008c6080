"""Text normalisation applied before tokenising: emoji become the words that name them.

Word-piece vocabularies such as BERT's hold almost no emoji, so "I'm done 😭😭"
reaches the encoder as ``i ' m done [UNK] [UNK]`` and the one signal that carries
the feeling is lost. :func:`emoji_to_words` replaces each emoji with its CLDR
short name from the maintained ``emoji`` package ("loudly crying face"), which a
pretrained encoder can read. The same function runs in training and in
prediction; the saved model's manifest records whether it was used.

A name is not a feeling, though: the reader took "enraged face" and "smiling
face with smiling eyes" for neutral text. With ``feelings=True`` the face and
heart emoji whose feeling is conventional (:data:`EMOJI_FEELINGS`) become the
plain word for it ("angry", "crying"), the rest their names.

Example:
    >>> emoji_to_words("I'm done 😭")
    "I'm done loudly crying face"
    >>> emoji_to_words("I'm done 😭", feelings=True)
    "I'm done crying"
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_SPACES = re.compile(r"\s+")
_VARIATION_SELECTOR = "\ufe0f"

_FEELING_EMOJI = {
    "angry": "😡🤬😠👿",
    "frustrated": "😤",
    "annoyed": "😒🙄😑",
    "crying": "😭",
    "sad": "😢😿😔☹🙁😥😪",
    "disappointed": "😞",
    "heartbroken": "💔",
    "worried": "😟",
    "scared": "😨😧",
    "anxious": "😰",
    "shocked": "😱🤯",
    "nervous": "😬",
    "upset": "😖😣",
    "disgusted": "🤢🤮",
    "happy": "😊😀😃😄😁☺",
    "loving": "🥰",
    "love": "😍❤♥😘",
    "laughing": "😂🤣😆",
    "celebrating": "🎉🥳",
    "surprised": "😮😲😯",
    "thankful": "🙏",
    "applause": "👏",
}
EMOJI_FEELINGS = {chars: feeling for feeling, emoji in _FEELING_EMOJI.items() for chars in emoji}
"""Emoji (without the emoji variation selector) -> the word for what people mean by them."""


def _emoji_name(chars: str, data: dict) -> str:
    return " " + data["en"].strip(":").replace("_", " ") + " "


def _emoji_feeling(chars: str, data: dict) -> str:
    feeling = EMOJI_FEELINGS.get(chars.replace(_VARIATION_SELECTOR, ""))
    return _emoji_name(chars, data) if feeling is None else f" {feeling} "


def emoji_to_words(text: str, feelings: bool = False) -> str:
    """Replaces every emoji in ``text`` with its English name, spaces collapsed.

    Args:
        text: any string; text without emoji comes back unchanged.
        feelings: emoji of :data:`EMOJI_FEELINGS` become their feeling word instead of their name.

    Returns:
        The text with each emoji (skin tones and joiner sequences included) as words.
    """
    import emoji

    if not emoji.emoji_count(text):
        return text
    replace = _emoji_feeling if feelings else _emoji_name
    return _SPACES.sub(" ", emoji.replace_emoji(text, replace=replace)).strip()


def normalize_texts(texts: Sequence[str], *, emoji_words: bool, emoji_feelings: bool = False) -> list[str]:
    """The texts as the model reads them: with :func:`emoji_to_words` applied when ``emoji_words``
    (feeling words for the emoji that have one when ``emoji_feelings``)."""
    if not emoji_words:
        return list(texts)
    return [emoji_to_words(text, feelings=emoji_feelings) for text in texts]


def emoji_settings(manifest_extra: dict) -> dict[str, bool]:
    """A saved text model's emoji reading, as :func:`normalize_texts` keywords (models saved
    before ``emoji_feelings`` existed read emoji by name)."""
    return {
        "emoji_words": bool(manifest_extra["emoji_words"]),
        "emoji_feelings": bool(manifest_extra.get("emoji_feelings", False)),
    }


def describe_emoji_reading(emoji_words: bool, emoji_feelings: bool) -> str:
    """How a model reads emoji, in words (for its manifest)."""
    if not emoji_words:
        return "as typed"
    if emoji_feelings:
        return f"the {len(EMOJI_FEELINGS)} emoji of EMOJI_FEELINGS as their feeling word, others by their English names"
    return "replaced by their English names before tokenising"
