"""FER batches for Keras backends without ``tf.data`` (JAX, PyTorch).

The same contract as the ``tf.data`` pipeline in :mod:`mepe_utils.data.fer2013`:
(image float32 0..255, label[, sample weight]) batches, reshuffled every epoch
with a seeded order, the augmenter applied to each training batch.
"""

from __future__ import annotations

import keras
import numpy as np


class FaceBatches(keras.utils.PyDataset):
    """Serves in-memory faces as batches to ``Model.fit`` / ``predict`` on any backend.

    Args:
        images: uint8 or float faces (N, 48, 48, 1).
        targets: labels (ids or one-hot rows), aligned with ``images``.
        batch_size: rows per batch.
        shuffle: a new seeded order every epoch, the last partial batch dropped.
        seed: seed of the epoch orders.
        augment: optional callable applied to each batch of images (training only).
        sample_weights: optional per-row weights.
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
    ):
        super().__init__()
        self.images = images
        self.targets = targets
        self.sample_weights = sample_weights
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.augment = augment
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(images)) if shuffle else np.arange(len(images))

    def __len__(self) -> int:
        if self.shuffle:
            return len(self.images) // self.batch_size
        return -(-len(self.images) // self.batch_size)

    def __getitem__(self, index: int):
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.images[rows].astype(np.float32)
        if self.augment is not None:
            images = self.augment(images, training=True)
        batch = (images, self.targets[rows])
        return batch if self.sample_weights is None else (*batch, self.sample_weights[rows])

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(len(self.images))
