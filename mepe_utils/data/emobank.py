"""EmoBank (Buechel & Hahn, EACL 2017): 10,062 English sentences scored for valence, arousal and dominance.

One CSV, ``id,split,V,A,D,text``, scores on 1..5 (the mean of reader and
writer ratings), with the authors' split: train 8,062 / dev 1,000 / test 1,000.
For MEPE's persona, arousal is emotional intensity, dominance is how much in
control the writer sounds (confidence) and valence is pleasantness. License:
CC BY-SA 4.0.

Example:
    >>> splits = load_emobank("../shared/data/emobank")
    >>> splits["test"].names, len(splits["test"])
    (('valence', 'arousal', 'dominance'), 1000)
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from mepe_utils.data.scored_texts import ScoredTexts
from mepe_utils.errors import DataError

EMOBANK_FILE = "emobank.csv"
EMOBANK_SPLITS = ("train", "dev", "test")
VAD_NAMES = ("valence", "arousal", "dominance")
SCORE_RANGE = (1.0, 5.0)
_COLUMNS = ("id", "split", "V", "A", "D", "text")


def load_emobank(folder: str | Path) -> dict[str, ScoredTexts]:
    """Reads ``<folder>/emobank.csv`` into its three splits.

    Rows with an empty text are skipped (the corpus holds a few).

    Raises:
        DataError: a missing file or column, a score that is not a number in 1..5,
            an unknown split name, a split without rows.
    """
    path = Path(folder) / EMOBANK_FILE
    if not path.is_file():
        raise DataError(f"EmoBank file not found: {path}")
    rows: dict[str, list] = {split: [] for split in EMOBANK_SPLITS}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise DataError(f"{path}: missing column(s) {sorted(missing)}")
        for number, row in enumerate(reader, start=2):
            if row["split"] not in rows:
                raise DataError(f"{path}:{number}: unknown split {row['split']!r}; expected one of {EMOBANK_SPLITS}")
            try:
                scores = [float(row[key]) for key in ("V", "A", "D")]
            except ValueError:
                raise DataError(f"{path}:{number}: V/A/D scores must be numbers") from None
            if not all(SCORE_RANGE[0] <= s <= SCORE_RANGE[1] for s in scores):
                raise DataError(f"{path}:{number}: V/A/D scores {scores} outside {SCORE_RANGE}")
            text = (row["text"] or "").strip()
            if text:
                rows[row["split"]].append((row["id"], text, scores))
    splits = {}
    for split, items in rows.items():
        if not items:
            raise DataError(f"{path}: split {split!r} has no rows")
        ids, texts, scores = zip(*items)
        splits[split] = ScoredTexts(list(texts), np.asarray(scores, np.float32), VAD_NAMES, list(ids), split)
    return splits
