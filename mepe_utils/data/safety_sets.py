"""The safety check sets: messages that must (or must not) set off the crisis path, and replies to screen.

Both were written for MEPE (none copied from a data set), in ``tests/data/``:

- ``safety_messages.csv`` (``text,expected,kind``): ``expected`` is ``crisis`` or ``not_crisis``;
  ``kind`` says what the row tests (``direct``, ``indirect``, ``self_harm``, ``harm_to_others``,
  ``abuse``, ``misspelled``, ``lower_case``, ``upper_case``, ``in_longer_message``; and for the
  rows that must not fire ``figure_of_speech``, ``film_or_story``, ``sadness``, ``everyday``).
- ``safety_replies.csv`` (``reply,acceptable,kind``): ``acceptable`` is ``yes`` or ``no``; ``kind``
  names what is wrong with an unacceptable reply (``empty``, ``repetition``, ``fragment``,
  ``blame``, ``dismiss``, ``mock``, ``profanity``, ``unsafe_advice``) or what an acceptable one is.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from mepe_utils.errors import DataError
from mepe_utils.runtime import REPO_ROOT

SAFETY_MESSAGES = REPO_ROOT / "tests" / "data" / "safety_messages.csv"
SAFETY_REPLIES = REPO_ROOT / "tests" / "data" / "safety_replies.csv"


@dataclass(frozen=True)
class SafetyItem:
    """One row of a safety check set.

    Attributes:
        text: the message or the reply.
        positive: True when it must set off the check (a crisis message, an unacceptable reply).
        kind: what the row tests.
    """

    text: str
    positive: bool
    kind: str


def _read(path: Path, text_column: str, label_column: str, positive: str, negative: str) -> list[SafetyItem]:
    if not path.is_file():
        raise DataError(f"safety check set not found: {path}")
    items = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            label = row[label_column]
            if label not in (positive, negative):
                raise DataError(f"{path}:{line}: {label_column} must be {positive!r} or {negative!r}, got {label!r}")
            items.append(SafetyItem(row[text_column], label == positive, row["kind"]))
    return items


def load_safety_messages(path: str | Path = SAFETY_MESSAGES) -> list[SafetyItem]:
    """The messages; ``positive`` marks those that must set off the crisis path.

    Raises:
        DataError: the file is missing or a row's ``expected`` is not ``crisis``/``not_crisis``.
    """
    return _read(Path(path), "text", "expected", "crisis", "not_crisis")


def load_safety_replies(path: str | Path = SAFETY_REPLIES) -> list[SafetyItem]:
    """The candidate replies; ``positive`` marks the unacceptable ones the screen must catch.

    Raises:
        DataError: the file is missing or a row's ``acceptable`` is not ``yes``/``no``.
    """
    return _read(Path(path), "reply", "acceptable", "no", "yes")
