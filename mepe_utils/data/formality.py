"""Sentence formality (Pavlick & Tetreault, TACL 2016): 11,274 sentences scored from -3 (very informal) to 3.

Four genre files (``answers``, ``blog``, ``email``, ``news``), tab-separated and
without a header: the mean of 5 annotators' scores, their scores, a sentence id
and the tokenised sentence. The files are not UTF-8 throughout, so they are read
as Latin-1. The sentences come tokenised ("do n't", "here ."); they are joined
back into ordinary text, since MEPE reads what people type.

The corpus has no official split. MEPE's is fixed by the sentence id alone
(:func:`formality_split`: a SHA-1 of ``genre/id``, 80 / 10 / 10), so it never
changes with file order, library versions or a seed.

Example:
    >>> splits = load_formality("../shared/data/formality")
    >>> sorted(splits), splits["train"].names
    (['dev', 'test', 'train'], ('formality',))
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from mepe_utils.data.scored_texts import ScoredTexts
from mepe_utils.errors import DataError

GENRES = ("answers", "blog", "email", "news")
FORMALITY_SPLITS = ("train", "dev", "test")
SCORE_RANGE = (-3.0, 3.0)
_DETOKENIZE = (
    (re.compile(r" (n't|'s|'re|'ve|'m|'ll|'d)\b", re.IGNORECASE), r"\1"),
    (re.compile(r" ([.,!?;:%)\]}])"), r"\1"),
    (re.compile(r"([(\[{$]) "), r"\1"),
    (re.compile(r"``\s*|\s*''"), '"'),
)


def detokenize(sentence: str) -> str:
    """Joins a tokenised sentence back into text: ``"I do n't know ."`` -> ``"I don't know."``."""
    for pattern, replacement in _DETOKENIZE:
        sentence = pattern.sub(replacement, sentence)
    return sentence.strip()


def formality_split(genre: str, sentence_id: str) -> str:
    """The split of one sentence: 80% ``train``, 10% ``dev``, 10% ``test``, from a hash of its id."""
    bucket = int(hashlib.sha1(f"{genre}/{sentence_id}".encode()).hexdigest(), 16) % 10
    return "train" if bucket < 8 else ("dev" if bucket == 8 else "test")


def load_formality(folder: str | Path, genres=GENRES) -> dict[str, ScoredTexts]:
    """Reads the genre files of ``folder`` into MEPE's fixed split.

    Returns:
        ``{"train", "dev", "test"}`` -> :class:`ScoredTexts` with one score column, ``formality`` (-3..3);
        ids are ``<genre>/<sentence id>``.

    Raises:
        DataError: a missing folder or genre file, a line without 4 fields, a mean score that is
            not a number in -3..3, an empty split.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"formality folder not found: {folder}")
    rows: dict[str, list] = {split: [] for split in FORMALITY_SPLITS}
    for genre in genres:
        path = folder / genre
        if not path.is_file():
            raise DataError(f"formality genre file not found: {path}")
        with path.open(encoding="latin-1", newline="") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                fields = line.rstrip("\r\n").split("\t")
                if len(fields) != 4:
                    raise DataError(f"{path}:{number}: expected 4 tab-separated fields, got {len(fields)}")
                mean, _, sentence_id, sentence = fields
                try:
                    score = float(mean)
                except ValueError:
                    raise DataError(f"{path}:{number}: mean score {mean!r} is not a number") from None
                if not SCORE_RANGE[0] <= score <= SCORE_RANGE[1]:
                    raise DataError(f"{path}:{number}: mean score {score} outside {SCORE_RANGE}")
                text = detokenize(sentence)
                if text:
                    rows[formality_split(genre, sentence_id)].append((f"{genre}/{sentence_id}", text, score))
    splits = {}
    for split, items in rows.items():
        if not items:
            raise DataError(f"{folder}: the {split!r} split is empty")
        ids, texts, scores = zip(*items)
        splits[split] = ScoredTexts(
            list(texts), np.asarray(scores, np.float32)[:, None], ("formality",), list(ids), split
        )
    return splits
