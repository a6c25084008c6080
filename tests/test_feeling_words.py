"""Feeling words: the shipped lexicon's rules, the statements drawn from it, and the checks on a bad file."""

import re

import numpy as np
import pytest

from mepe_utils.data.check_set import load_check_set
from mepe_utils.data.feeling_words import (
    NEWS_SPLIT,
    PLAIN_SPLIT,
    SPLIT,
    feeling_statements,
    load_feeling_words,
    news_statements,
    plain_statements,
)
from mepe_utils.errors import DataError
from mepe_utils.labels import EKMAN_MAPPING, EKMAN_TO_FER, FER_LABELS, GOEMOTIONS_LABELS


def test_no_feeling_word_is_said_in_the_check_set():
    """The check set measures feelings named in words the training statements never used."""
    sentences = [item.text.lower() for item in load_check_set()]
    lexicon = load_feeling_words()
    said = [
        word
        for words in lexicon.words.values()
        for word in words
        if any(re.search(rf"\b{re.escape(word)}\b", sentence) for sentence in sentences)
    ]
    assert said == []


def test_no_plain_activity_is_said_in_the_check_set():
    """The check set's neutral statements are about things the plain training statements never mention."""
    sentences = [item.text.lower() for item in load_check_set()]
    lexicon = load_feeling_words()
    assert len(lexicon.activities) >= 50
    assert [activity for activity in lexicon.activities if any(activity in sentence for sentence in sentences)] == []


def test_no_news_event_is_said_in_the_check_set():
    """The check set's good news ("I just got the job") is news the training statements never tell: no
    event shares a run of three words with a check-set sentence."""
    sentences = [" ".join(re.findall(r"[a-z']+", item.text.lower())) for item in load_check_set()]
    lexicon = load_feeling_words()
    events = [event for news in lexicon.news.values() for event in news]
    assert len(events) >= 50

    def three_word_runs(text):
        words = text.split()
        return {" ".join(words[start : start + 3]) for start in range(len(words) - 2)}

    said = [event for event in events if any(three_word_runs(event) & three_word_runs(text) for text in sentences)]
    assert said == []


def test_news_statements_carry_their_events_label_and_tell_no_feeling_word():
    lexicon = load_feeling_words()
    data = news_statements(lexicon, per_event=3, seed=5)
    events = [(label, event) for label, news in lexicon.news.items() for event in news]
    assert data.split == NEWS_SPLIT and len(data) == 3 * len(events) and len(set(data.ids)) == len(data)
    assert set(lexicon.news) <= {"joy", "pride", "excitement", "relief", "gratitude", "amusement", "love", "optimism"}
    label, event = events[0]
    rows = [row for row, text_id in enumerate(data.ids) if text_id.startswith(f"news-{label}-0-")]
    assert len({data.texts[row] for row in rows}) == 3 and all(event in data.texts[row] for row in rows)
    assert {GOEMOTIONS_LABELS[data.labels[row].argmax()] for row in rows} == {label}
    assert {FER_LABELS[i] for i in data.ekman.argmax(axis=1)} == {"happy"}
    feeling_words = {word for words in lexicon.words.values() for word in words}
    assert [text for text in data.texts if feeling_words & set(re.findall(r"[a-z']+", text))] == []
    assert all("  " not in text and "{" not in text and " !" not in text for text in data.texts)
    assert news_statements(lexicon, 3, seed=5).texts == data.texts != news_statements(lexicon, 3, seed=6).texts
    with pytest.raises(ValueError, match="per_event must be 1.."):
        news_statements(lexicon, len(lexicon.news_templates) + 1, seed=0)


def test_plain_statements_are_neutral_and_say_each_activity_in_different_templates():
    lexicon = load_feeling_words()
    data = plain_statements(lexicon, per_activity=3, seed=5)
    assert data.split == PLAIN_SPLIT and len(data) == 3 * len(lexicon.activities) and len(set(data.ids)) == len(data)
    rows = [row for row, text_id in enumerate(data.ids) if text_id.startswith("plain-neutral-0-")]
    assert len({data.texts[row] for row in rows}) == 3 and all(lexicon.activities[0] in data.texts[row] for row in rows)
    assert {GOEMOTIONS_LABELS[i] for i in data.labels.argmax(axis=1)} == {"neutral"}
    assert {FER_LABELS[i] for i in data.ekman.argmax(axis=1)} == {"neutral"}
    assert all("  " not in text and "{" not in text for text in data.texts)
    assert plain_statements(lexicon, 3, seed=5).texts == data.texts != plain_statements(lexicon, 3, seed=6).texts
    with pytest.raises(ValueError, match="per_activity must be 1.."):
        plain_statements(lexicon, len(lexicon.plain_templates) + 1, seed=0)


def test_the_shipped_lexicon_names_every_negative_ekman_class_and_joy():
    lexicon = load_feeling_words()
    ekman_of = {label: ekman for ekman, labels in EKMAN_MAPPING.items() for label in labels}
    named = {EKMAN_TO_FER[ekman_of[label]] for label in lexicon.words}
    assert named == set(FER_LABELS) - {"neutral"}
    assert len(lexicon) >= 200 and all(len(words) >= 4 for words in lexicon.words.values())


def test_statements_carry_their_words_label_and_differ_in_template():
    lexicon = load_feeling_words()
    data = feeling_statements(lexicon, per_word=3, seed=5)
    assert data.split == SPLIT and len(data) == 3 * len(lexicon) and len(set(data.ids)) == len(data)
    first_word = lexicon.words["anger"][0]
    rows = [row for row, text_id in enumerate(data.ids) if text_id.startswith("feeling-anger-0-")]
    assert len(rows) == 3 and all(first_word in data.texts[row] for row in rows)
    assert len({data.texts[row] for row in rows}) == 3  # three different templates
    assert all(GOEMOTIONS_LABELS[data.labels[row].argmax()] == "anger" for row in rows)
    assert data.labels.sum(axis=1).tolist() == [1] * len(data)
    assert [FER_LABELS[data.ekman[row].argmax()] for row in rows] == ["angry"] * 3
    assert all("  " not in text and text == text.strip() and "{" not in text for text in data.texts)


def test_the_seed_decides_the_statements():
    lexicon = load_feeling_words()
    once, again = feeling_statements(lexicon, 2, seed=1), feeling_statements(lexicon, 2, seed=1)
    other = feeling_statements(lexicon, 2, seed=2)
    assert once.texts == again.texts and np.array_equal(once.labels, again.labels)
    assert once.texts != other.texts


def test_more_statements_per_word_than_templates_is_refused():
    lexicon = load_feeling_words()
    with pytest.raises(ValueError, match="per_word must be 1.."):
        feeling_statements(lexicon, len(lexicon.templates) + 1, seed=0)


PLAIN = (
    '[plain]\ntemplates = ["i will {activity}"]\nactivities = ["mow the lawn"]\ntimes = [""]\n'
    '[news]\ntemplates = ["i {event}"]\ntimes = [""]\n[news.events]\npride = ["won the quiz"]\n'
)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            'templates = ["i feel {word}"]\nsettings = [""]\n[words]\nhunger = ["starving"]\n' + PLAIN,
            "not a GoEmotions",
        ),
        ('templates = ["i feel {word}"]\nsettings = [""]\n[words]\nneutral = ["fine"]\n' + PLAIN, "not a GoEmotions"),
        (
            'templates = ["i feel {word}"]\nsettings = [""]\n[words]\nfear = ["tense"]\njoy = ["tense"]\n' + PLAIN,
            "both",
        ),
        ('templates = ["i feel it"]\nsettings = [""]\n[words]\nfear = ["tense"]\n' + PLAIN, "needs a {word} slot"),
        (
            'templates = ["i feel {word}"]\nsettings = [""]\n[words]\nfear = ["tense"]\n'
            + PLAIN.replace("{activity}", "it"),
            "needs a {activity} slot",
        ),
        (
            'templates = ["i feel {word}"]\nsettings = [""]\n[words]\nfear = ["tense"]\n'
            + PLAIN.replace("{event}", "it"),
            "needs a {event} slot",
        ),
        (
            'templates = ["i feel {word}"]\nsettings = [""]\n[words]\nfear = ["tense"]\n'
            + PLAIN.replace("pride =", "luck ="),
            "'luck' is not a GoEmotions",
        ),
        ('templates = ["i feel {word}"]\nsettings = [""]\n[words]\nfear = ["tense"]\n', "not a feeling-word file"),
        ('templates = ["i feel {word}"]\n[words]\nfear = ["tense"]\n' + PLAIN, "not a feeling-word file"),
        ('templates = ["i feel {word}"\n', "not a feeling-word file"),
    ],
)
def test_a_bad_lexicon_is_named(tmp_path, body, problem):
    path = tmp_path / "words.toml"
    path.write_text(body)
    with pytest.raises(DataError, match=re.escape(problem)):
        load_feeling_words(path)


def test_a_missing_lexicon_is_named(tmp_path):
    with pytest.raises(DataError, match="feeling-word file not found"):
        load_feeling_words(tmp_path / "absent.toml")
