"""Fusion batches: label-matched pairs of cached readings, with missing and degraded signals, seeded per epoch.

Every epoch re-pairs the faces with texts of their class
(:func:`~mepe_utils.data.pairs.pair_by_class`) and draws, per pair, whether the
text or the face is missing and whether the face is a degraded version of
itself, all from ``(seed, epoch)``. A row's features are an encoder's embedding
with its 7 probabilities appended, read from the embedding tables, so training
never runs the encoders.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from mepe_utils.data.batches import SeededBatches
from mepe_utils.data.pairs import Pairs, pair_by_class
from mepe_utils.labels import NUM_FER
from mepe_utils.models.common import PROBABILITIES_OUTPUT
from mepe_utils.models.fusion import FACE_INPUT, PRESENCE_INPUT, TEXT_INPUT

PAIR_STREAM, DROPOUT_STREAM = 2, 3
"""Tags of the pairing's and the modality dropout's random streams (apart from the order's and augmentation's)."""


def features(table) -> np.ndarray:
    """An embedding table's model input: (N, D + 7) embedding and probabilities side by side, float32."""
    return np.concatenate([table.embeddings, table.probabilities], axis=1).astype(np.float32)


@dataclass
class SignalDropout:
    """How often a training pair loses or degrades a signal.

    Attributes:
        text_missing: share of pairs whose text is absent.
        face_missing: share of pairs whose face is absent (never both).
        face_degraded: share of the pairs with a face whose face is one of its degraded versions.
    """

    text_missing: float = 0.15
    face_missing: float = 0.15
    face_degraded: float = 0.3

    def __post_init__(self):
        outside = [name for name, share in asdict(self).items() if not 0.0 <= share <= 1.0]
        if outside:
            raise ValueError(f"signal shares must lie in [0, 1]: {', '.join(outside)}")
        if self.text_missing + self.face_missing > 1.0:
            raise ValueError("text_missing + face_missing must be at most 1 (a pair never loses both)")


def presence_rows(count: int, dropout: SignalDropout, rng: np.random.Generator) -> np.ndarray:
    """(count, 2) float32 presence [text, face]: each row loses at most one signal."""
    draw = rng.random(count)
    presence = np.ones((count, 2), dtype=np.float32)
    presence[draw < dropout.text_missing, 0] = 0.0
    presence[(draw >= dropout.text_missing) & (draw < dropout.text_missing + dropout.face_missing), 1] = 0.0
    return presence


class FusionBatches(SeededBatches):
    """Serves ``({"text", "face", "presence"}, class one-hot)`` batches to ``Model.fit``.

    Args:
        text_features: (T, Dt) from :func:`features` of the text table.
        text_classes: (T,) single class id per text, -1 for texts left out.
        face_features: ``{"clean": (F, Df), <degradation>: (F, Df) ...}``, rows aligned with the faces.
        face_classes: (F,) class id per face.
        batch_size: pairs per batch.
        dropout: missing and degraded signals for training; None serves clean pairs with both signals.
        shuffle: training batches (re-paired and reshuffled every epoch); else one fixed pairing in face order.
        seed: seed of every epoch's draws.
        start_epoch: epochs already trained.
    """

    def __init__(
        self,
        text_features: np.ndarray,
        text_classes: np.ndarray,
        face_features: dict[str, np.ndarray],
        face_classes: np.ndarray,
        *,
        batch_size: int,
        dropout: SignalDropout | None = None,
        shuffle: bool = False,
        seed: int = 0,
        start_epoch: int = 0,
    ):
        self.text_features = text_features
        self.text_classes = text_classes
        self.face_features = face_features
        self.degradations = [name for name in face_features if name != "clean"]
        self.face_classes = face_classes
        self.batch_size = batch_size
        self.dropout = dropout
        self.shuffle = shuffle
        self.targets = np.eye(NUM_FER, dtype=np.float32)[face_classes]
        super().__init__(len(face_classes), seed=seed, start_epoch=start_epoch)

    def epoch_batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        epoch_rng = self.rng if self.shuffle else (lambda *stream: np.random.default_rng([self.seed, *stream]))
        self.pairs: Pairs = pair_by_class(self.text_classes, self.face_classes, epoch_rng(PAIR_STREAM))
        self.presence = np.ones((self.rows, 2), dtype=np.float32)
        self.face_source = np.zeros(self.rows, dtype=np.int64)  # 0 clean, k the k-th degradation
        if self.dropout is not None:
            draws = epoch_rng(DROPOUT_STREAM)
            self.presence = presence_rows(self.rows, self.dropout, draws)
            degraded = draws.random(self.rows) < self.dropout.face_degraded
            if self.degradations:
                self.face_source[degraded] = draws.integers(1, len(self.degradations) + 1, degraded.sum())
        order = rng.permutation(self.rows) if self.shuffle else np.arange(self.rows)
        return [order[i : i + self.batch_size] for i in range(0, self.rows, self.batch_size)]

    def inputs(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The model inputs of the pairs at ``rows`` (this epoch's pairing, presence and face versions)."""
        face = self.face_features["clean"][rows].copy()
        for index, name in enumerate(self.degradations, start=1):
            chosen = self.face_source[rows] == index
            face[chosen] = self.face_features[name][rows[chosen]]
        return {
            TEXT_INPUT: self.text_features[self.pairs.text_rows[rows]],
            FACE_INPUT: face,
            PRESENCE_INPUT: self.presence[rows],
        }

    def __getitem__(self, index: int):
        rows = self.batches[index]
        return self.inputs(rows), {PROBABILITIES_OUTPUT: self.targets[rows]}
