"""The safety layer: the crisis check, the fixed message, the reply screen and the guard's fallbacks."""

import pytest

from mepe_utils.bench.safety import crisis_scores, screen_scores
from mepe_utils.data.safety_sets import load_safety_messages, load_safety_replies
from mepe_utils.errors import DataError
from mepe_utils.generation.reply import Reply
from mepe_utils.safety.crisis import CATEGORIES, CRISIS_PATTERNS, NOT_CRISIS_PATTERNS, detect_crisis
from mepe_utils.safety.guard import CRISIS_BACKEND, NEUTRAL_BACKEND, SCREEN_STATUSES, ReplyGuard
from mepe_utils.safety.messages import CRISIS_MESSAGE, NEUTRAL_REPLY
from mepe_utils.safety.screen import SCREEN_RULES, screen_reply

CALM = {"empathy_level": "High", "response_style": "Calm", "assertiveness": "Low", "formality": "Casual"}


# --- the crisis check ------------------------------------------------------------------------------


def test_crisis_language_fires_with_what_matched_and_figures_of_speech_do_not():
    check = detect_crisis("Work is awful and honestly I've been thinking I should just KILL MYSELF.")
    assert check.crisis and check.matches[0].category == "suicide" and check.matches[0].text == "kill myself"
    assert check.record()["matched"][0] == {"category": "suicide", "pattern": "kill myself", "text": "kill myself"}
    assert detect_crisis("i wnat to die").crisis and detect_crisis("My husband is hitting me right now").crisis
    assert detect_crisis("I’m going to hurt my coworker").matches[0].category == "harm_to_others"
    idioms = ("This traffic is killing me.", "I could die of embarrassment", "I hurt my leg", "killing myself laughing")
    for text in idioms:
        assert not detect_crisis(text).crisis, text
    assert detect_crisis("killing myself lol").crisis  # laughter clears a threat to others, never one to oneself
    assert not detect_crisis("I'm going to kill my brother if he eats my fries again lol").crisis


def test_every_pattern_names_a_known_category_and_every_category_has_patterns():
    assert {category for category, _, _ in CRISIS_PATTERNS} == set(CATEGORIES)
    assert set(NOT_CRISIS_PATTERNS) <= set(CATEGORIES)
    assert len({name for _, name, _ in CRISIS_PATTERNS}) == len(CRISIS_PATTERNS)


def test_the_crisis_check_meets_its_floor_on_the_check_set():
    scores = crisis_scores()
    assert scores["positives"] >= 80 and scores["negatives"] >= 80
    assert scores["recall"] >= 0.98 and scores["false_alarm_rate"] <= 0.05, scores["errors"]


def test_the_crisis_message_says_what_it_must():
    for phrase in ("emergency number", "988", "116 123", "findahelpline.com", "not a substitute for professional help"):
        assert phrase in CRISIS_MESSAGE
    assert "?" in NEUTRAL_REPLY and screen_reply(NEUTRAL_REPLY).passed and screen_reply(CRISIS_MESSAGE).passed


# --- the reply screen ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply, rule",
    [
        ("  ", "empty"),
        ("sorry sorry sorry sorry", "repetition"),
        ("I hear you. I hear you.", "repetition"),
        ("and the of", "fragment"),
        ("I think that you should talk to the", "fragment"),
        ("Honestly, just get over it.", "hostile"),
        ("That's pathetic.", "hostile"),
        ("This is shit.", "profanity"),
        ("Take a few extra pills tonight.", "unsafe_advice"),
        ("Stop taking your antidepressants.", "unsafe_advice"),
    ],
)
def test_each_screen_rule_catches_its_kind_of_reply(reply, rule):
    result = screen_reply(reply)
    assert not result.passed and rule in result.reasons and rule in SCREEN_RULES


def test_kind_replies_pass_the_screen_even_near_its_words():
    for reply in ("You're not stupid at all, anyone would find this hard.", "Please don't hurt yourself.",
                  "Whatever you decide, I'm here for you.", "It's okay to feel this way."):  # fmt: skip
        assert screen_reply(reply).passed, reply


def test_the_screen_meets_its_floor_on_the_check_set():
    scores = screen_scores()
    assert scores["positives"] >= 25 and scores["negatives"] >= 25
    assert scores["catch_rate"] >= 0.95 and scores["pass_rate"] >= 0.90, scores["errors"]


def test_the_check_sets_are_large_enough_and_refuse_unknown_labels(tmp_path):
    messages, replies = load_safety_messages(), load_safety_replies()
    assert sum(m.positive for m in messages) >= 80 and sum(not m.positive for m in messages) >= 80
    assert len(replies) >= 50 and {"figure_of_speech", "misspelled", "in_longer_message"} <= {m.kind for m in messages}
    bad = tmp_path / "bad.csv"
    bad.write_text("text,expected,kind\nhello,maybe,plain\n")
    with pytest.raises(DataError, match="bad.csv:2"):
        load_safety_messages(bad)


# --- the guard -------------------------------------------------------------------------------------


class Scripted:
    """A generator that writes the given replies in turn and records the seeds it was asked for."""

    def __init__(self, backend, *texts):
        self.backend, self.texts, self.seeds = backend, list(texts), []

    def generate(self, context, controls, *, seed=0):
        self.seeds.append(seed)
        return Reply(self.texts[len(self.seeds) - 1], self.backend, dict(controls), {"formality": "Casual"}, "p")


def test_a_crisis_message_gets_the_fixed_message_and_nothing_is_generated():
    generator, fallback = Scripted("t5"), Scripted("retrieval")
    reply, outcome = ReplyGuard(generator, fallback).respond("i want to end my life", CALM)
    assert reply.text == CRISIS_MESSAGE and reply.backend == CRISIS_BACKEND and reply.controls_measured == {}
    assert outcome.crisis.crisis and outcome.reply_screen == "crisis" and generator.seeds == fallback.seeds == []
    assert outcome.record()["crisis"] is True and "crisis language" in outcome.describe()


def test_a_passing_reply_is_shown_untouched():
    generator = Scripted("t5", "That sounds hard. What happened?")
    reply, outcome = ReplyGuard(generator, Scripted("retrieval")).respond("I failed my exam.", CALM, seed=4)
    assert reply.text == "That sounds hard. What happened?" and reply.controls_measured == {"formality": "Casual"}
    assert outcome.reply_screen == "passed" and outcome.rejected == () and generator.seeds == [4]


def test_a_failing_reply_is_written_again_then_retrieved_then_replaced_by_the_neutral_line():
    generator = Scripted("t5", "sorry sorry sorry sorry", "I hear you. Do you want to talk about it?")
    reply, outcome = ReplyGuard(generator, Scripted("retrieval")).respond("I failed my exam.", CALM, seed=4)
    assert outcome.reply_screen == "regenerated" and generator.seeds == [4, 5] and reply.backend == "t5"
    assert outcome.rejected[0].reasons == ("repetition",)

    generator = Scripted("t5", "Just get over it.", "and the of")
    fallback = Scripted("retrieval", "I'm sorry, that must be so disappointing.")
    reply, outcome = ReplyGuard(generator, fallback).respond("I failed my exam.", CALM)
    assert outcome.reply_screen == "retrieval" and reply.backend == "retrieval"
    assert [r.reasons for r in outcome.rejected] == [("hostile",), ("fragment",)]

    generator, fallback = Scripted("t5", "", "damn it"), Scripted("retrieval", "You're overreacting.")
    reply, outcome = ReplyGuard(generator, fallback).respond("I failed my exam.", CALM)
    assert reply.text == NEUTRAL_REPLY and reply.backend == NEUTRAL_BACKEND and outcome.reply_screen == "neutral"
    assert [r.backend for r in outcome.rejected] == ["t5", "t5", "retrieval"]
    assert "neutral supportive line" in outcome.describe() and len(outcome.record()["rejected"]) == 3
    assert outcome.reply_screen in SCREEN_STATUSES
