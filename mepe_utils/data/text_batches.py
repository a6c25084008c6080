"""Tokenised texts in length buckets: no batch is padded past its longest text.

GoEmotions comments are short; padding every batch to a 128-token
window would spend most of the encoder's work on padding. Texts are tokenised
once, then each batch is cut to the smallest bucket width that holds its
longest text (16, 32, 64 ... up to the window), which keeps the number of
distinct shapes (and XLA compilations) small.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mepe_utils.data.batches import SeededBatches

BUCKET_WIDTHS = (16, 32, 64, 128, 256, 512)


def bucket_widths(sequence_length: int) -> tuple[int, ...]:
    """The bucket widths used for a window of ``sequence_length`` tokens."""
    return tuple(w for w in BUCKET_WIDTHS if w < sequence_length) + (sequence_length,)


def tokenize(preprocessor, texts: Sequence[str], batch_size: int = 2048) -> dict[str, np.ndarray]:
    """Runs a KerasHub text preprocessor over ``texts`` once.

    Returns:
        ``{"token_ids", "padding_mask"[, "segment_ids"]}``, int32 arrays (N, window).
    """
    import tensorflow as tf

    chunks = []
    for start in range(0, len(texts), batch_size):
        batch = tf.constant(list(texts[start : start + batch_size]))
        chunks.append({name: np.asarray(value, dtype=np.int32) for name, value in preprocessor(batch).items()})
    return {name: np.concatenate([chunk[name] for chunk in chunks]) for name in chunks[0]}


class TextBatches(SeededBatches):
    """Tokenised texts in length-bucketed batches for ``Model.fit``, on any Keras backend.

    Training batches (``shuffle=True``): each epoch a seeded permutation of the
    texts is cut into pools of ``pool_batches`` batches; each pool is sorted by
    length and cut into batches, and the batches are shuffled. Batches so hold
    texts of similar length (little padding) while their composition changes
    every epoch, as a function of (seed, epoch) alone. Evaluation batches: the
    texts sorted by length. Each batch is trimmed to the smallest bucket width
    that holds its longest text.

    Args:
        features: from :func:`tokenize`.
        targets: ``{output name: (N, K) float32}``.
        batch_size: texts per batch.
        shuffle: training batches (see above) instead of evaluation batches.
        seed: seed of every epoch's draws.
        start_epoch: epochs already trained (a resumed run continues their draws).
        pool_batches: batches per length-sorted pool.
    """

    def __init__(
        self,
        features: dict[str, np.ndarray],
        targets: dict[str, np.ndarray],
        *,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        start_epoch: int = 0,
        pool_batches: int = 50,
    ):
        self.features = features
        self.targets = targets
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.pool = batch_size * pool_batches
        self.lengths = features["padding_mask"].sum(axis=1)
        self.widths = np.array(bucket_widths(features["padding_mask"].shape[1]))
        super().__init__(len(self.lengths), seed=seed, start_epoch=start_epoch)

    def _cut(self, rows: np.ndarray) -> list[np.ndarray]:
        rows = rows[np.argsort(self.lengths[rows], kind="stable")]
        return [rows[i : i + self.batch_size] for i in range(0, len(rows), self.batch_size)]

    def epoch_batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        if not self.shuffle:
            return self._first_two_widths_differ(self._cut(np.arange(self.rows)))
        order = rng.permutation(self.rows)
        batches = [
            batch for start in range(0, self.rows, self.pool) for batch in self._cut(order[start : start + self.pool])
        ]
        return self._first_two_widths_differ([batches[i] for i in rng.permutation(len(batches))])

    def _width(self, rows: np.ndarray) -> int:
        return int(self.widths[np.searchsorted(self.widths, self.lengths[rows].max())])

    def _first_two_widths_differ(self, batches: list[np.ndarray]) -> list[np.ndarray]:
        """Moves a batch of another width to position 1 when batches 0 and 1 are equally wide.

        Keras' TensorFlow adapter reads the input signature off a ``PyDataset``'s first two
        batches: two batches of one width would fix that width, and the first wider batch
        would stop training ("generator yielded an element of shape ...").
        """
        first = self._width(batches[0]) if batches else None
        other = next((i for i in range(1, len(batches)) if self._width(batches[i]) != first), None)
        if other is not None and other != 1:
            batches[1], batches[other] = batches[other], batches[1]
        return batches

    def __getitem__(self, index: int):
        rows = self.batches[index]
        width = self._width(rows)
        features = {name: value[rows, :width] for name, value in self.features.items()}
        return features, {name: value[rows] for name, value in self.targets.items()}
