"""FER batches for ``Model.fit`` on any Keras backend (a ``PyDataset``; tested on TensorFlow and JAX).

(image float32 0..255, label[, sample weight]) batches, reshuffled every epoch
with a seeded order, the augmenter applied to each training batch. Batches are
built on worker threads (OpenCV releases the GIL). An epoch's order and each
batch's augmentation come from generators seeded by (seed, epoch[, batch
index]), so they do not depend on which thread builds a batch or when, and a
run resumed at epoch k (``start_epoch=k``) sees the batches the uninterrupted
run would have seen. The epoch counts ``on_epoch_end`` calls (Keras makes one
before training starts, after peeking at a batch, the same in both cases).
"""

from __future__ import annotations

import keras
import numpy as np

ORDER_STREAM, AUGMENT_STREAM = 0, 1
"""Tags that keep the shuffle's random stream apart from the augmentation's."""


class FaceBatches(keras.utils.PyDataset):
    """Serves in-memory faces as batches to ``Model.fit`` / ``predict``.

    Args:
        images: uint8 or float faces (N, 48, 48, 1).
        targets: labels (ids or one-hot rows), aligned with ``images``.
        batch_size: rows per batch.
        shuffle: a new seeded order every epoch, the last partial batch dropped.
        seed: seed of the epoch orders and of the augmentation.
        augment: optional ``augment(images, rng)`` applied to each batch, for example a
            :class:`~mepe_utils.data.face_augment.FaceAugmenter`.
        sample_weights: optional per-row weights.
        workers: threads that build batches ahead of the training step.
        start_epoch: the epoch to start counting from (a resumed run's epochs done).
    """

    def __init__(
        self,
        images: np.ndarray,
        targets: np.ndarray,
        *,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        augment=None,
        sample_weights: np.ndarray | None = None,
        workers: int = 1,
        start_epoch: int = 0,
    ):
        super().__init__(workers=workers, max_queue_size=4 * workers)
        self.images = images
        self.targets = targets
        self.sample_weights = sample_weights
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.augment = augment
        self.seed = seed
        self._epoch = start_epoch
        self._order = self._epoch_order()

    def _epoch_order(self) -> np.ndarray:
        if not self.shuffle:
            return np.arange(len(self.images))
        return np.random.default_rng([self.seed, self._epoch, ORDER_STREAM]).permutation(len(self.images))

    def __len__(self) -> int:
        if self.shuffle:
            return len(self.images) // self.batch_size
        return -(-len(self.images) // self.batch_size)

    def __getitem__(self, index: int):
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.images[rows].astype(np.float32)
        if self.augment is not None:
            images = self.augment(images, np.random.default_rng([self.seed, self._epoch, AUGMENT_STREAM, index]))
        batch = (images, self.targets[rows])
        return batch if self.sample_weights is None else (*batch, self.sample_weights[rows])

    def on_epoch_end(self) -> None:
        self._epoch += 1
        self._order = self._epoch_order()
