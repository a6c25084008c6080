"""Dreaddit (Turcan & McKeown 2019): Reddit post segments labelled stress (1) or no stress (0).

``train.csv`` (2,838 rows) and ``test.csv`` (715), with ``text``, ``label`` and
annotator ``confidence`` among many feature columns MEPE ignores. The data set
states no license and holds sensitive mental-health text: MEPE uses it only to
*validate* its stress trait (zero-shot) and, for reference, to fit a baseline in
the benchmark run. No shipped model is ever trained on it.

Example:
    >>> test = load_dreaddit("../shared/data/dreaddit")["test"]
    >>> test.names, int(test.column("stress").sum()) > 0
    (('stress',), True)
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from mepe_utils.data.scored_texts import ScoredTexts
from mepe_utils.errors import DataError

DREADDIT_SPLITS = ("train", "test")


def load_dreaddit(folder: str | Path, splits=DREADDIT_SPLITS) -> dict[str, ScoredTexts]:
    """Reads ``<folder>/{train,test}.csv``: one ``stress`` column of 0/1 per text.

    Raises:
        DataError: a missing file or column, a label other than 0/1, an empty split.
    """
    result = {}
    for split in splits:
        path = Path(folder) / f"{split}.csv"
        if not path.is_file():
            raise DataError(f"Dreaddit file not found: {path}")
        texts, labels, ids = [], [], []
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"text", "label", "id"} - set(reader.fieldnames or ())
            if missing:
                raise DataError(f"{path}: missing column(s) {sorted(missing)}")
            for number, row in enumerate(reader, start=2):
                if row["label"] not in ("0", "1"):
                    raise DataError(f"{path}:{number}: label {row['label']!r} is not 0 or 1")
                texts.append(row["text"].strip())
                labels.append(float(row["label"]))
                ids.append(row["id"])
        if not texts:
            raise DataError(f"{path}: no rows")
        result[split] = ScoredTexts(texts, np.asarray(labels, np.float32)[:, None], ("stress",), ids, split)
    return result
