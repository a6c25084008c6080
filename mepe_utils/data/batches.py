"""Seeded epoch batches for ``Model.fit`` on any Keras backend: the base of the face and text batches.

An epoch's batches are a function of ``(seed, epoch)`` alone, drawn from
``np.random.default_rng([seed, epoch, stream])``. So they do not depend on
which worker thread builds a batch or when, and a run resumed after ``k``
epochs (``start_epoch=k``) sees exactly the batches the uninterrupted run would
have seen: the one resume policy of every MEPE trainer. The epoch counts
``on_epoch_end`` calls (Keras makes one before training starts, after peeking
at a batch, the same in a fresh and in a resumed run).
"""

from __future__ import annotations

import keras
import numpy as np

ORDER_STREAM, AUGMENT_STREAM = 0, 1
"""Tags that keep the shuffle's random stream apart from the augmentation's."""


class SeededBatches(keras.utils.PyDataset):
    """Rows served in batches whose composition is a function of ``(seed, epoch)``.

    Subclasses say how an epoch's rows form batches (:meth:`epoch_batches`) and
    how a batch of rows becomes model inputs (:meth:`__getitem__`).

    Args:
        rows: the number of rows.
        seed: seed of every epoch's draws.
        start_epoch: the epoch to start counting from (a resumed run's epochs done).
        workers: threads that build batches ahead of the training step.
    """

    def __init__(self, rows: int, *, seed: int = 0, start_epoch: int = 0, workers: int = 1):
        super().__init__(workers=workers, max_queue_size=4 * workers)
        self.rows = rows
        self.seed = seed
        self.epoch = start_epoch
        self.batches = self.epoch_batches(self.rng(ORDER_STREAM))

    def rng(self, *stream: int) -> np.random.Generator:
        """The generator of this epoch's ``stream`` (e.g. ``rng(AUGMENT_STREAM, batch_index)``)."""
        return np.random.default_rng([self.seed, self.epoch, *stream])

    def epoch_batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        """This epoch's batches as arrays of row indices; the count must not change between epochs."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.batches)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self.batches = self.epoch_batches(self.rng(ORDER_STREAM))
