"""ESConv (Liu et al., ACL 2021): real emotional-support conversations between a seeker and a supporter.

JSON lines, one conversation a line (``{train,valid,test}.json``): the seeker's
``emotion_type``, ``problem_type`` and ``situation``, and the ``dialog``, a list
of turns ``{text, speaker: usr|sys[, strategy]}``. The seekers, people asking for
emotional support in their own words, are the population MEPE serves: their
utterances are the reference against which persona traits are called low,
medium or high. License: CC BY-NC 4.0 (research, non-commercial).

Example:
    >>> utterances = seeker_utterances(load_esconv("../shared/data/esconv")["train"])
    >>> all(u.text for u in utterances)
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mepe_utils.errors import DataError

ESCONV_SPLITS = ("train", "valid", "test")
SEEKER, SUPPORTER = "usr", "sys"


@dataclass
class Conversation:
    """One ESConv conversation.

    Attributes:
        emotion_type: the seeker's emotion as they reported it (``anxiety``, ``sadness``, ...).
        problem_type: the seeker's problem (``job crisis``, ...).
        situation: the seeker's own description of their situation.
        turns: ``(speaker, text, strategy)`` in order; ``strategy`` is None for seeker turns.
    """

    emotion_type: str
    problem_type: str
    situation: str
    turns: list[tuple[str, str, str | None]]


@dataclass
class Utterance:
    """A seeker's turn, with where it came from.

    Attributes:
        text: what the seeker wrote.
        emotion_type: their conversation's reported emotion.
        conversation: the conversation's row in its split.
        turn: the turn's index in the conversation.
    """

    text: str
    emotion_type: str
    conversation: int
    turn: int


def load_esconv(folder: str | Path, splits=ESCONV_SPLITS) -> dict[str, list[Conversation]]:
    """Reads the conversations of each split.

    Raises:
        DataError: a missing file, a line that is not a JSON object with a ``dialog`` list, an empty split.
    """
    result = {}
    for split in splits:
        path = Path(folder) / f"{split}.json"
        if not path.is_file():
            raise DataError(f"ESConv file not found: {path}")
        conversations = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    turns = [(t["speaker"], t["text"].strip(), t.get("strategy")) for t in record["dialog"]]
                except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                    raise DataError(f"{path}:{number}: not an ESConv conversation (JSON with a dialog list)") from None
                conversations.append(
                    Conversation(record.get("emotion_type", ""), record.get("problem_type", ""),
                                 record.get("situation", ""), turns)
                )  # fmt: skip
        if not conversations:
            raise DataError(f"{path}: no conversations")
        result[split] = conversations
    return result


def seeker_utterances(conversations: list[Conversation], min_words: int = 3) -> list[Utterance]:
    """The seekers' turns of at least ``min_words`` words (greetings and "ok" say little about a person)."""
    return [
        Utterance(text, conversation.emotion_type, row, index)
        for row, conversation in enumerate(conversations)
        for index, (speaker, text, _) in enumerate(conversation.turns)
        if speaker == SEEKER and len(text.split()) >= min_words
    ]


@dataclass
class SupporterReply:
    """A supporter's turn and the dialogue before it: one (context -> reply) example.

    Attributes:
        context: the turns before the reply as ``(speaker, text)``, oldest first, consecutive
            turns of one speaker joined into one.
        reply: the supporter's words.
        strategy: the turn's ESConv strategy (one of :data:`STRATEGIES`).
        conversation: the conversation's row in its split.
        turn: the reply's index in the conversation.
    """

    context: list[tuple[str, str]]
    reply: str
    strategy: str
    conversation: int
    turn: int

    @property
    def seeker_last(self) -> str:
        """The seeker's latest words before the reply (empty when the supporter spoke first)."""
        return next((text for speaker, text in reversed(self.context) if speaker == SEEKER), "")


STRATEGIES = (
    "Question",
    "Restatement or Paraphrasing",
    "Reflection of feelings",
    "Self-disclosure",
    "Affirmation and Reassurance",
    "Providing Suggestions",
    "Information",
    "Others",
)
"""ESConv's eight supporter strategies, in the paper's order."""


def supporter_replies(conversations: list[Conversation]) -> list[SupporterReply]:
    """Every supporter turn that follows at least one seeker turn, with the dialogue before it.

    Each supporter turn is its own example (its strategy is its own); when a supporter
    speaks twice in a row, the first turn is part of the second one's context.

    Raises:
        DataError: a supporter turn whose strategy is not one of :data:`STRATEGIES`.
    """
    examples = []
    for row, conversation in enumerate(conversations):
        context: list[tuple[str, str]] = []
        for index, (speaker, text, strategy) in enumerate(conversation.turns):
            if speaker == SUPPORTER and text and any(s == SEEKER for s, _ in context):
                if strategy not in STRATEGIES:
                    raise DataError(f"conversation {row}, turn {index}: unknown strategy {strategy!r}")
                examples.append(SupporterReply(list(context), text, strategy, row, index))
            if not text:
                continue
            if context and context[-1][0] == speaker:
                context[-1] = (speaker, f"{context[-1][1]} {text}")
            else:
                context.append((speaker, text))
    return examples
