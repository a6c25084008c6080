"""Feeling words: first-person statements that name a feeling (and plain ones that name none), for training.

People tell MEPE how they feel in a word ("i feel so resentful lately"), and
they use hundreds of words for it. GoEmotions, Reddit comments about something
else, holds few of them: the shipped reader learned "angry" and "annoyed" but
read "cranky", "bitter" and "resentful" as sadness. ``feeling_words.toml`` lists
words that name one GoEmotions label each (written for MEPE, none taken from
a data set, none used by the first-person check set) and sentence templates;
:func:`feeling_statements` turns them into labelled training statements, a few
per word, drawn with a seed. Its ``[plain]`` table holds everyday activities and
templates ("i need to {activity} {time}"): :func:`plain_statements` turns them
into statements labelled neutral, so that talking about oneself is not taken as
a sign of feeling. Its ``[news]`` table holds good news told without a feeling word
("i won the pub quiz last night"), each event under the label it brings (pride,
relief, ...): :func:`news_statements` turns them into statements with that label, so
that an event told about oneself is not taken for a problem.

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
PLAIN_SPLIT = "plain_statements"
NEWS_SPLIT = "news_statements"


@dataclass(frozen=True)
class FeelingLexicon:
    """Words that name feelings, and the sentences they are said in.

    Attributes:
        words: ``{GoEmotions label: words naming it}``, in the file's order.
        templates: sentences with a ``{word}`` slot and optionally a ``{setting}`` one.
        settings: plain places and times for ``{setting}`` ("" among them).
        plain_templates: sentences with an ``{activity}`` slot and optionally a ``{time}`` one.
        activities: everyday things to do, said without a feeling.
        times: when, for ``{time}`` ("" among them).
        news_templates: sentences with an ``{event}`` slot and optionally a ``{time}`` one.
        news: ``{GoEmotions label: good news told without a feeling word}``, in the file's order.
        news_times: when, for the news templates' ``{time}`` ("" among them).
    """

    words: dict[str, tuple[str, ...]]
    templates: tuple[str, ...]
    settings: tuple[str, ...]
    plain_templates: tuple[str, ...]
    activities: tuple[str, ...]
    times: tuple[str, ...]
    news_templates: tuple[str, ...]
    news: dict[str, tuple[str, ...]]
    news_times: tuple[str, ...]

    def __len__(self) -> int:
        return sum(len(words) for words in self.words.values())


def load_feeling_words(path: str | Path = FEELING_WORDS_FILE) -> FeelingLexicon:
    """Reads and checks a feeling-word file (see ``feeling_words.toml``).

    Raises:
        DataError: the file is missing or malformed, a label is not a GoEmotions emotion,
            a word is listed twice, or a template has no ``{word}`` slot (a plain one no ``{activity}``,
            a news one no ``{event}``).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"feeling-word file not found: {path}")
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
        words = {label: tuple(entries) for label, entries in table["words"].items()}
        plain, news = table["plain"], table["news"]
        lexicon = FeelingLexicon(
            words, tuple(table["templates"]), tuple(table["settings"]),
            tuple(plain["templates"]), tuple(plain["activities"]), tuple(plain["times"]),
            tuple(news["templates"]), {label: tuple(events) for label, events in news["events"].items()},
            tuple(news["times"]),
        )  # fmt: skip
    except (tomllib.TOMLDecodeError, KeyError, TypeError) as error:
        raise DataError(f"{path}: not a feeling-word file ({error})") from None
    unknown = [label for label in (*words, *lexicon.news) if label not in GOEMOTIONS_LABELS or label == "neutral"]
    if unknown:
        raise DataError(f"{path}: {unknown[0]!r} is not a GoEmotions emotion")
    seen: dict[str, str] = {}
    for label, entries in words.items():
        for word in entries:
            if word in seen:
                raise DataError(f"{path}: {word!r} is listed under both {seen[word]!r} and {label!r}")
            seen[word] = label
    slotted = ((lexicon.templates, "word"), (lexicon.plain_templates, "activity"), (lexicon.news_templates, "event"))
    for templates, slot in slotted:
        slotless = [template for template in templates if f"{{{slot}}}" not in template]
        if slotless or not templates:
            raise DataError(f"{path}: every template needs a {{{slot}}} slot (got {slotless[:1] or 'none'})")
    return lexicon


def _said(
    rng: np.random.Generator, templates: tuple[str, ...], per_item: int, **slots: str | tuple[str, ...]
) -> list[str]:
    """``per_item`` distinct templates, filled with ``slots`` (a random choice where a value is a tuple)."""
    chosen = rng.choice(templates, size=per_item, replace=False)
    sentences = []
    for template in chosen:
        filled = {name: value[rng.integers(len(value))] if isinstance(value, tuple) else value
                  for name, value in slots.items()}  # fmt: skip
        sentences.append(" ".join(template.format(**filled).split()))
    return sentences


def _labelled(texts: list[str], label_ids: list[int], ids: list[str], split: str) -> TextEmotionData:
    labels = np.stack([ids_to_multi_hot([label_id]) for label_id in label_ids])
    return TextEmotionData(texts, labels, goemotions_to_ekman(labels), ids, split)


def _said_by_label(
    items: dict[str, tuple[str, ...]], templates: tuple[str, ...], per_item: int, seed: int, slot: str, *,
    per_item_name: str, id_prefix: str, split: str, **other_slots: tuple[str, ...],
) -> TextEmotionData:  # fmt: skip
    """``per_item`` statements for each item of ``{label: items}``, the item in ``slot``, labelled with its label
    (ids ``<id_prefix>-<label>-<item index>-<k>``), drawn with ``seed``.

    Raises:
        ValueError: ``per_item`` (called ``per_item_name`` in the message) is not 1..``len(templates)``.
    """
    if not 1 <= per_item <= len(templates):
        raise ValueError(f"{per_item_name} must be 1..{len(templates)}, got {per_item}")
    rng = np.random.default_rng(seed)
    texts, label_ids, ids = [], [], []
    for label, entries in items.items():
        for index, entry in enumerate(entries):
            for k, text in enumerate(_said(rng, templates, per_item, **{slot: entry}, **other_slots)):
                texts.append(text)
                label_ids.append(GOEMOTIONS_LABELS.index(label))
                ids.append(f"{id_prefix}-{label}-{index}-{k}")
    return _labelled(texts, label_ids, ids, split)


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
    return _said_by_label(lexicon.words, lexicon.templates, per_word, seed, "word", setting=lexicon.settings,
                          per_item_name="per_word", id_prefix="feeling", split=SPLIT)  # fmt: skip


def plain_statements(lexicon: FeelingLexicon, per_activity: int, seed: int) -> TextEmotionData:
    """``per_activity`` statements for each activity, each a distinct plain template with a random time.

    Args:
        lexicon: from :func:`load_feeling_words`.
        per_activity: statements per activity (at most the number of plain templates).
        seed: draws the templates and times; the same seed gives the same statements.

    Returns:
        Statements labelled ``neutral``, split ``plain_statements``, ids ``plain-neutral-<activity index>-<k>``.

    Example:
        >>> plain_statements(load_feeling_words(), per_activity=1, seed=0).texts[0]
        "i'm hoping to pick up my dry cleaning after lunch"
    """
    return _said_by_label({"neutral": lexicon.activities}, lexicon.plain_templates, per_activity, seed, "activity",
                          time=lexicon.times, per_item_name="per_activity", id_prefix="plain",
                          split=PLAIN_SPLIT)  # fmt: skip


def news_statements(lexicon: FeelingLexicon, per_event: int, seed: int) -> TextEmotionData:
    """``per_event`` statements for each piece of good news, each a distinct news template with a random time.

    Args:
        lexicon: from :func:`load_feeling_words`.
        per_event: statements per event (at most the number of news templates).
        seed: draws the templates and times; the same seed gives the same statements.

    Returns:
        Statements labelled with their event's GoEmotions label (Ekman view derived), split
        ``news_statements``, ids ``news-<label>-<event index>-<k>``.

    Example:
        >>> data = news_statements(load_feeling_words(), per_event=1, seed=0)
        >>> data.texts[0], data.ids[0]
        ("i can't believe i got promoted to team lead", 'news-pride-0-0')
    """
    return _said_by_label(lexicon.news, lexicon.news_templates, per_event, seed, "event", time=lexicon.news_times,
                          per_item_name="per_event", id_prefix="news", split=NEWS_SPLIT)  # fmt: skip
