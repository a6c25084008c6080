"""Retrieval over ESConv's real supporter replies: the honest baseline, and the T5's exemplars.

The index holds, for every ESConv ``train`` supporter reply, the text model's
sentence vector of the seeker's latest words before it (the message it
answered), the reply itself and the controls measured on it
(:mod:`mepe_utils.generation.measure`). Given a new message:

1. the ``candidates`` training messages nearest by cosine similarity are found;
2. their replies are re-ranked by ``similarity + control_weight * (share of the four
   requested controls the reply shows)``, so that among replies to similar messages
   the one that already sounds as asked wins.

No generation and no randomness: the same message and controls always get the same
human-written reply. The T5 reads the nearest reply by similarity alone (step 1) as
its exemplar, so the controls it follows are the prompt's, not the exemplar's.

Example:
    >>> index = RetrievalIndex.load("assets/models/generator/retrieval_index.npz")
    >>> rows = index.nearest(query_vectors, k=5)
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils.artifacts import write_bytes_atomic
from mepe_utils.errors import ModelFileError
from mepe_utils.generation.measure import ControlMeter
from mepe_utils.generation.reply import Context, Reply, as_turns, latest_message
from mepe_utils.models.text import POOLED_LAYER
from mepe_utils.persona.schema import CONTROLS

INDEX_ASSET = "retrieval_index.npz"
"""The retrieval index's file in a saved generator's folder."""


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


@dataclass
class RetrievalIndex:
    """Training messages, the replies they got, and the controls measured on those replies.

    Attributes:
        keys: (N, D) unit sentence vectors of the messages (float16 on disk).
        replies: (N,) the supporters' replies.
        groups: (N,) each row's conversation (so a training example never retrieves its own conversation).
        controls: (N, 4) each reply's measured control values, as indices into each control's
            values (:data:`~mepe_utils.persona.schema.CONTROLS` order).
    """

    keys: np.ndarray
    replies: np.ndarray
    groups: np.ndarray
    controls: np.ndarray

    def __len__(self) -> int:
        return len(self.replies)

    def similarities(self, queries: np.ndarray) -> np.ndarray:
        """(Q, N) cosine similarities of query sentence vectors to every key."""
        return unit_rows(queries) @ self.keys.astype(np.float32).T

    def nearest(self, queries: np.ndarray, k: int = 1, exclude_groups: np.ndarray | None = None) -> np.ndarray:
        """(Q, k) rows of the most similar keys, most similar first.

        Args:
            queries: (Q, D) sentence vectors.
            k: rows per query.
            exclude_groups: (Q,) a group per query whose rows are never returned for it (or None).
        """
        similarity = self.similarities(queries)
        if exclude_groups is not None:
            similarity[np.asarray(exclude_groups)[:, None] == self.groups[None, :]] = -np.inf
        top = np.argpartition(-similarity, kth=min(k, similarity.shape[1] - 1), axis=1)[:, :k]
        order = np.take_along_axis(similarity, top, axis=1).argsort(axis=1)[:, ::-1]
        return np.take_along_axis(top, order, axis=1)

    def best_reply(
        self, query: np.ndarray, controls: Mapping[str, str], candidates: int = 32, control_weight: float = 0.25
    ) -> int:
        """The row whose reply best answers ``query`` under ``controls`` (the module docstring's re-ranking)."""
        rows = self.nearest(np.atleast_2d(query), k=candidates)[0]
        similarity = self.similarities(np.atleast_2d(query))[0, rows]
        wanted = np.array([CONTROLS[name].index(controls[name]) for name in CONTROLS])
        match = (self.controls[rows] == wanted).mean(axis=1)
        return int(rows[np.argmax(similarity + control_weight * match)])

    def save(self, path: str | Path) -> None:
        """Writes the index to an ``.npz`` file, atomically (keys in float16)."""
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            keys=self.keys.astype(np.float16),
            replies=np.asarray(self.replies, dtype=str),
            groups=self.groups.astype(np.int32),
            controls=self.controls.astype(np.int8),
        )
        write_bytes_atomic(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> RetrievalIndex:
        """Reads :meth:`save`'s file.

        Raises:
            ModelFileError: the file is missing or its arrays do not fit together.
        """
        try:
            with np.load(path, allow_pickle=False) as stored:
                index = cls(*(stored[key] for key in ("keys", "replies", "groups", "controls")))
        except (OSError, KeyError, ValueError) as error:
            raise ModelFileError(f"{path}: not a retrieval index ({type(error).__name__}: {error})") from None
        rows = {len(index.keys), len(index.replies), len(index.groups), len(index.controls)}
        if len(rows) != 1 or index.controls.shape[1:] != (len(CONTROLS),):
            raise ModelFileError(f"{path}: the index's arrays do not fit together")
        return index

    @classmethod
    def build(
        cls, key_vectors: np.ndarray, replies: Sequence[str], groups: Sequence[int], controls: Sequence[Mapping]
    ) -> RetrievalIndex:
        """An index from sentence vectors, replies, their conversations and their measured controls."""
        indices = np.array([[CONTROLS[name].index(c[name]) for name in CONTROLS] for c in controls], np.int8)
        return cls(
            unit_rows(key_vectors).astype(np.float16), np.asarray(replies, dtype=str), np.asarray(groups), indices
        )


class RetrievalGenerator:
    """The retrieval backend: the best-matching human reply from the index (see the module docstring).

    Args:
        index: the retrieval index.
        meter: the control meter (controls measured on each reply).
        text_model: the text model the index was built with.
        candidates: nearest messages re-ranked.
        control_weight: the weight of the control match in the re-ranking.
    """

    name = "retrieval"

    def __init__(self, index: RetrievalIndex, meter: ControlMeter, text_model, candidates: int = 32,
                 control_weight: float = 0.25):  # fmt: skip
        self.index = index
        self.meter = meter
        self.text_model = text_model
        self.candidates = candidates
        self.control_weight = control_weight

    def rows(self, messages: Sequence[str], controls: Sequence[Mapping[str, str]]) -> list[int]:
        """The chosen index row for each message under its controls."""
        vectors = self.text_model.scores(list(messages))[POOLED_LAYER]
        return [
            self.index.best_reply(vector, wanted, self.candidates, self.control_weight)
            for vector, wanted in zip(vectors, controls, strict=True)
        ]

    def generate(self, context: Context, controls: Mapping[str, str], *, seed: int = 0) -> Reply:
        """The human reply that best answers the person's latest words under ``controls`` (``seed`` is unused).

        Raises:
            MepeError: no words from the person in ``context``.
        """
        message = latest_message(as_turns(context))
        row = self.rows([message], [controls])[0]
        text = str(self.index.replies[row])
        measured = self.meter.measure_texts(self.text_model, [text])[0]
        return Reply(text, self.name, dict(controls), measured, f"index row {row}")
