"""Feeling words: first-person statements that name a feeling, for training the text reader.

People tell MEPE how they feel in a word ("i feel so resentful lately"), and
they use hundreds of words for it. GoEmotions, Reddit comments about something
else, holds few of them: the shipped reader learned "angry" and "annoyed" but
read "cranky", "bitter" and "resentful" as sadness. ``feeling_words.toml`` lists
words that name one GoEmotions label each (written for MEPE, none taken from
a data set, none used by the first-person check set) and sentence templates;
:func:`feeling_statements` turns them into labelled training statements, a few
per word, drawn with a seed.

Example:
    >>> lexicon = load_feeling_words()
    >>> data = feeling_statements(lexicon, per_word=2, seed=0)
    >>> data.texts[0], data.split
    ('i feel kind of impressed this week', 'feeling_words')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from mepe_utils.data.goemotions import TextEmotionData
from mepe_utils.errors import DataError
from mepe_utils.labels import GOEMOTIONS_LABELS, goemotions_to_ekman, ids_to_multi_hot

FEELING_WORDS_FILE = Path(__file__).with_name("feeling_words.toml")
SPLIT = "feeling_words"


@dataclass(frozen=True)
class FeelingLexicon:
    """Words that name feelings, and the sentences they are said in.

    Attributes:
        words: ``{GoEmotions label: words naming it}``, in the file's order.
        templates: sentences with a ``{word}`` slot and optionally a ``{setting}`` one.
        settings: plain places and times for ``{setting}`` ("" among them).
    """

    words: dict[str, tuple[str, ...]]
    templates: tuple[str, ...]
    settings: tuple[str, ...]

    def __len__(self) -> int:
        return sum(len(words) for words in self.words.values())


def load_feeling_words(path: str | Path = FEELING_WORDS_FILE) -> FeelingLexicon:
    """Reads and checks a feeling-word file (see ``feeling_words.toml``).

    Raises:
        DataError: the file is missing or malformed, a label is not a GoEmotions emotion,
            a word is listed twice, or a template has no ``{word}`` slot.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"feeling-word file not found: {path}")
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
        words = {label: tuple(entries) for label, entries in table["words"].items()}
        lexicon = FeelingLexicon(words, tuple(table["templates"]), tuple(table["settings"]))
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        raise DataError(f"{path}: not a feeling-word file ({error})") from None
    unknown = [label for label in words if label not in GOEMOTIONS_LABELS or label == "neutral"]
    if unknown:
        raise DataError(f"{path}: {unknown[0]!r} is not a GoEmotions emotion")
    seen: dict[str, str] = {}
    for label, entries in words.items():
        for word in entries:
            if word in seen:
                raise DataError(f"{path}: {word!r} is listed under both {seen[word]!r} and {label!r}")
            seen[word] = label
    slotless = [template for template in lexicon.templates if "{word}" not in template]
    if slotless or not lexicon.templates:
        raise DataError(f"{path}: every template needs a {{word}} slot (got {slotless[:1] or 'none'})")
    return lexicon


def feeling_statements(lexicon: FeelingLexicon, per_word: int, seed: int) -> TextEmotionData:
    """``per_word`` statements for each word, each a distinct template with a random setting.

    Args:
        lexicon: from :func:`load_feeling_words`.
        per_word: statements per word (at most the number of templates).
        seed: draws the templates and settings; the same seed gives the same statements.

    Returns:
        Statements labelled with their word's GoEmotions label (Ekman view derived), split
        ``feeling_words``, ids ``feeling-<label>-<word index>-<k>``.
    """
    if not 1 <= per_word <= len(lexicon.templates):
        raise ValueError(f"per_word must be 1..{len(lexicon.templates)}, got {per_word}")
    rng = np.random.default_rng(seed)
    texts, label_ids, ids = [], [], []
    for label, words in lexicon.words.items():
        for index, word in enumerate(words):
            for k, template in enumerate(rng.choice(lexicon.templates, size=per_word, replace=False)):
                setting = lexicon.settings[rng.integers(len(lexicon.settings))]
                texts.append(" ".join(template.format(word=word, setting=setting).split()))
                label_ids.append(GOEMOTIONS_LABELS.index(label))
                ids.append(f"feeling-{label}-{index}-{k}")
    labels = np.stack([ids_to_multi_hot([label_id]) for label_id in label_ids])
    return TextEmotionData(texts, labels, goemotions_to_ekman(labels), ids, SPLIT)
