"""Texts with human-annotated scores: the common shape of the persona trait data sets.

EmoBank (valence, arousal, dominance), sentence formality and Dreaddit (stress
0/1) all come down to a list of texts, one row of scores per text, the score
names, row ids and the split. Each data set's loader returns a
:class:`ScoredTexts` per split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ScoredTexts:
    """One split of a scored-text data set.

    Attributes:
        texts: the texts.
        scores: float32 (N, K) annotations, one column per name.
        names: the K score names, in column order.
        ids: row ids (unique within the data set).
        split: the split's name.
    """

    texts: list[str]
    scores: np.ndarray
    names: tuple[str, ...]
    ids: list[str]
    split: str

    def __len__(self) -> int:
        return len(self.texts)

    def column(self, name: str) -> np.ndarray:
        """(N,) the scores named ``name``."""
        return self.scores[:, self.names.index(name)]

    def subset(self, rows) -> ScoredTexts:
        rows = np.asarray(rows, dtype=np.int64)
        return ScoredTexts(
            [self.texts[i] for i in rows], self.scores[rows], self.names, [self.ids[i] for i in rows], self.split
        )
