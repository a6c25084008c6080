"""The first-person check set: sentences written for MEPE, a person saying how they feel.

GoEmotions is Reddit comments, mostly about something else; a user of MEPE
writes "I feel ..." about themselves. The check set holds such sentences,
written for this project (none copied from a data set), with the Ekman class a
reader would give them. ``expected`` is one class, several joined by ``|``
(mixed feelings and sarcasm: any of them is right) or ``ambiguous``; ``kind``
says what the row tests (``plain``, ``short``, ``emoji``, ``negation``,
``sarcasm``, ``mixed``, ``ambiguous``, ``non_english``, ``demo`` for the
mission's demo sentence).

Non-English rows are not scored on their class: an English model cannot read
them, and the right answer is to say so (their reading's coverage must be low).

Example (with a loaded ``TextEmotionModel``)::

    items = load_check_set()
    readings = model.predict([item.text for item in items])
    tops = [max(r.ekman, key=r.ekman.get) for r in readings]
    score_check_set(items, tops, [r.warning is not None for r in readings])["accuracy"]
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mepe_utils.errors import DataError
from mepe_utils.labels import FER_LABELS
from mepe_utils.runtime import REPO_ROOT

CHECK_SET = REPO_ROOT / "tests" / "data" / "first_person_check_set.csv"
AMBIGUOUS = "ambiguous"
NON_ENGLISH = "non_english"


@dataclass(frozen=True)
class CheckItem:
    """One sentence of the check set.

    Attributes:
        text: the sentence.
        expected: the accepted Ekman classes (FER names); empty for an ambiguous row.
        kind: what the row tests (see the module docstring).
    """

    text: str
    expected: tuple[str, ...]
    kind: str

    @property
    def scored(self) -> bool:
        """True when the row's class counts towards the accuracy."""
        return bool(self.expected) and self.kind != NON_ENGLISH


def load_check_set(path: str | Path = CHECK_SET) -> list[CheckItem]:
    """Reads the check set CSV (``text,expected,kind``).

    Raises:
        DataError: the file is missing, or a row names a class outside the 7 Ekman/FER classes.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"check set not found: {path}")
    items = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            expected = () if row["expected"] == AMBIGUOUS else tuple(row["expected"].split("|"))
            unknown = [name for name in expected if name not in FER_LABELS]
            if unknown:
                raise DataError(f"{path}:{line}: unknown class {unknown[0]!r} (expected one of {FER_LABELS})")
            items.append(CheckItem(row["text"], expected, row["kind"]))
    return items


def score_check_set(items: Sequence[CheckItem], top_classes: Sequence[str], low_coverage: Sequence[bool]) -> dict:
    """Scores a model's answers on the check set.

    Args:
        items: from :func:`load_check_set`.
        top_classes: the model's top Ekman class for each item.
        low_coverage: whether each reading said the model could not read the text.

    Returns:
        ``accuracy`` (top class among the accepted ones, over the scored rows),
        ``scored``, ``accuracy_by_kind``, ``non_english_flagged`` (share of
        non-English rows reported as unreadable), ``english_flagged`` (share of
        the other rows wrongly reported so) and ``misread`` (the scored rows the
        model got wrong, with its answer).
    """
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    misread = []
    for item, top in zip(items, top_classes):
        if not item.scored:
            continue
        totals[item.kind] += 1
        if top in item.expected:
            hits[item.kind] += 1
        else:
            misread.append({"text": item.text, "expected": "|".join(item.expected), "read": top})
    scored = sum(totals.values())
    foreign = [flag for item, flag in zip(items, low_coverage) if item.kind == NON_ENGLISH]
    english = [flag for item, flag in zip(items, low_coverage) if item.kind != NON_ENGLISH]
    return {
        "accuracy": sum(hits.values()) / scored if scored else float("nan"),
        "scored": scored,
        "accuracy_by_kind": {kind: hits[kind] / totals[kind] for kind in sorted(totals)},
        "non_english_flagged": sum(foreign) / len(foreign) if foreign else float("nan"),
        "english_flagged": sum(english) / len(english) if english else float("nan"),
        "misread": misread,
    }
