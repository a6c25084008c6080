"""The reply screen: every generated reply is checked before anyone sees it.

A reply fails when any rule of :data:`SCREEN_RULES` finds something:

===================  ===========================================================================
rule                 what it catches
===================  ===========================================================================
``empty``            no words at all
``repetition``       a word said twice in a row more than once, a repeated sentence, or a reply of
                     four or more words with fewer than half of them different
``fragment``         only function words ("and the of"), or a reply that stops mid-sentence
``hostile``          blame ("your own fault"), dismissal ("get over it", "not a big deal"),
                     mockery ("that's pathetic", "haha")
``profanity``        swear words and slurs (:data:`PROFANITY`)
``unsafe_advice``    medication doses, stopping treatment, self-harm methods, drinking to cope,
                     hurting someone back
===================  ===========================================================================

The word lists and patterns were written for MEPE; ``mepe bench-safety`` measures them on
``tests/data/safety_replies.csv`` (replies written for MEPE, each labelled acceptable or
not) and on the shipped generator's replies to ESConv test.

Example:
    >>> screen_reply("Just get over it.").reasons
    ('hostile',)
    >>> screen_reply("That sounds really hard. I'm here to listen.").passed
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mepe_utils.safety.crisis import normalize

FUNCTION_WORDS = frozenset(
    ("a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "by", "from", "as", "is",
     "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "so", "if", "then", "than",
     "too", "very", "just")
)  # fmt: skip
"""Words that carry no content: a reply of these alone is a fragment."""
OPEN_ENDINGS = frozenset(
    ("a", "an", "the", "and", "or", "but", "of", "to", "with", "for", "because", "my", "your", "should")
)
"""Words a finished sentence does not end on: a reply ending on one was cut off."""

_NOT = r"(?!not\b|never\b)"
HOSTILE = (
    r"\byour\s+own\s+fault\b|\bbrought\s+this\s+on\s+yourself\b|\byou\s+(?:asked\s+for|deserved?)\s+(?:it|this)\b"
    r"|\bdeserve\s+to\s+be\s+alone\b|\bbetter\s+off\s+without\s+you\b|\bthat'?s\s+on\s+you\b"
    r"|\bstop\s+(?:complaining|whining|crying|moaning)\b|\bget\s+over\s+it\b|\b(?:nobody|no\s*one|who)\s+cares\b"
    r"|\boverreact\w*|\bnot\s+(?:a|that)\s+big\s+deal\b(?!\s+to\b)|\bshut\s+up\b|\bdeal\s+with\s+it\b"
    r"|\b(?:man|toughen|grow)\s+up\b|\bin\s+your\s+head\b|\b(?:could|can)\s+(?:always\s+)?be\s+worse\b"
    r"|\b(?:others|other\s+people|everyone|everybody)\s+(?:has|have)\s+it\s+worse\b|\bnot\s+a\s+real\s+problem\b"
    r"|\byour\s+feelings\s+(?:don'?t|do\s+not)\s+matter\b|\bjust\s+try\s+harder\b|\btried\s+not\s+being\b"
    r"|^\s*whatever\s*[.!]*\s*$|\b(?:it'?s|that'?s)\s+(?:so\s+)?(?:dumb|stupid|silly)\b|\bso\s+what\b"
    rf"|\b(?:that'?s|how|you'?re|you\s+are|what\s+a|such\s+a)\s+(?:{_NOT}\w+\s+){{0,2}}"
    r"(?:pathetic|stupid|dumb|ridiculous|lame|loser|idiot|moron|crybaby|joke|weak|annoying|trash|worthless|useless)\b"
    r"|\bstop\s+being\s+(?:such\s+|so\s+)?(?:a\s+)?(?:crybaby|baby|dramatic|sensitive|drama\s+queen)\b"
    r"|\b(?:haha\w*|lol|lmao|rofl)\b"
)
"""Blame, dismissal and mockery."""
PROFANITY = (
    r"\b(?:fuck\w*|f\*+k\w*|shit\w*|bullshit\w*|damn\w*|goddamn\w*|bitch\w*|bastard\w*|asshole\w*|arsehole\w*"
    r"|crap\w*|piss\w*|dick\w*|cunt\w*|wank\w*|twat\w*|slut\w*|whore\w*|retard\w*|fag\w*|nigg\w*|spastic|tranny)\b"
)
"""Swear words and slurs (stems)."""
UNSAFE_ADVICE = (
    r"\b(?:extra|more|double|triple|another|a\s+few\s+extra)\s+(?:\w+\s+)?(?:pills?|doses?|tablets|meds|medication)\b"
    r"|\bstop\s+(?:taking\s+)?(?:your|the|those|these)\s+(?:\w+\s+)?"
    r"(?:meds|medication|medicine|pills|antidepressants|treatment|therapy|prescription)\b"
    r"|\b(?:quit|skip|ditch)\s+(?:your\s+)?(?:meds|medication|therapy|treatment|antidepressants)\b"
    r"|\bcutting\s+(?:might|will|can|could|would|may)\s+help\b|\bkill\s+yourself\b|\byou\s+should\s+(?:hurt|cut)\s+yourself\b"
    r"|\b(?:pills|cutting|jumping|hanging|an?\s+overdose)\s+(?:is|are)\s+the\s+(?:easiest|best|quickest|fastest)\s+way\b"
    r"|\b(?:take|taking|try)\s+(?:some|a\s+few|a\s+couple\s+of|a\s+handful\s+of)\s+(?:\w+\s+)?(?:pills|tablets|meds)\b"
    r"|\bdrink\s+(?:until|to\s+forget|a\s+bottle|a\s+few|a\s+lot|some\s+(?:wine|beer|alcohol|vodka|whiskey))\b"
    r"|\bget\s+(?:drunk|wasted|high)\b"
    r"|\b(?:hurt|hit|punch|beat|kill)\s+(?:him|her|them)\s+back\b|\bget\s+(?:your\s+)?revenge\b"
)
"""Advice no assistant should give: doses, stopping treatment, self-harm methods, drinking, hitting back."""

_HOSTILE, _PROFANITY, _UNSAFE = (re.compile(p) for p in (HOSTILE, PROFANITY, UNSAFE_ADVICE))
_WORD = re.compile(r"[a-z0-9']+")
_SENTENCE = re.compile(r"[.!?]+")


def _repetitive(words: list[str], sentences: list[str]) -> bool:
    doubled = sum(a == b for a, b in zip(words, words[1:]))
    varied = len(set(words)) / len(words) if words else 1.0
    return doubled >= 2 or len(sentences) != len(set(sentences)) or (len(words) >= 4 and varied < 0.5)


def _fragment(words: list[str]) -> bool:
    return all(word in FUNCTION_WORDS for word in words) or words[-1] in OPEN_ENDINGS


SCREEN_RULES = ("empty", "repetition", "fragment", "hostile", "profanity", "unsafe_advice")
"""The rules, in the order they are reported."""


@dataclass(frozen=True)
class ScreenResult:
    """What :func:`screen_reply` found.

    Attributes:
        passed: True when no rule found anything.
        reasons: the rules that failed (:data:`SCREEN_RULES` names).
    """

    passed: bool
    reasons: tuple[str, ...] = ()


def screen_reply(text: str) -> ScreenResult:
    """Screens one reply.

    Args:
        text: the reply.

    Returns:
        Whether it passed and, when not, the rules it failed.
    """
    normal = normalize(text)
    words = _WORD.findall(normal)
    if not words:
        return ScreenResult(False, ("empty",))
    sentences = [" ".join(_WORD.findall(part)) for part in _SENTENCE.split(normal) if _WORD.search(part)]
    found = {
        "repetition": _repetitive(words, sentences),
        "fragment": _fragment(words),
        "hostile": bool(_HOSTILE.search(normal)),
        "profanity": bool(_PROFANITY.search(normal)),
        "unsafe_advice": bool(_UNSAFE.search(normal)),
    }
    reasons = tuple(rule for rule in SCREEN_RULES if found.get(rule))
    return ScreenResult(not reasons, reasons)
