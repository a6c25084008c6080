"""FER batches for ``Model.fit`` on any Keras backend (tested on TensorFlow and JAX).

(image float32 0..255, label[, sample weight]) batches, reshuffled every epoch
with a seeded order (:class:`~mepe_utils.data.batches.SeededBatches`), the
augmenter applied to each training batch with a generator seeded by (seed,
epoch, batch index). Batches are built on worker threads (OpenCV releases the GIL).
"""

from __future__ import annotations

import numpy as np

from mepe_utils.data.batches import AUGMENT_STREAM, SeededBatches


class FaceBatches(SeededBatches):
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
        self.images = images
        self.targets = targets
        self.sample_weights = sample_weights
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.augment = augment
        super().__init__(len(images), seed=seed, start_epoch=start_epoch, workers=workers)

    def epoch_batches(self, rng: np.random.Generator) -> list[np.ndarray]:
        if not self.shuffle:
            order = np.arange(self.rows)
            return [order[i : i + self.batch_size] for i in range(0, self.rows, self.batch_size)]
        order = rng.permutation(self.rows)
        full = self.rows // self.batch_size
        return [order[i * self.batch_size : (i + 1) * self.batch_size] for i in range(full)]

    def __getitem__(self, index: int):
        rows = self.batches[index]
        images = self.images[rows].astype(np.float32)
        if self.augment is not None:
            images = self.augment(images, self.rng(AUGMENT_STREAM, index))
        batch = (images, self.targets[rows])
        return batch if self.sample_weights is None else (*batch, self.sample_weights[rows])
