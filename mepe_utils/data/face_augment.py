"""Face augmentation in NumPy and OpenCV, for Keras backends without ``tf.data``.

On TensorFlow the Keras preprocessing layers of
:func:`mepe_utils.models.face.build_face_augmenter` run inside the ``tf.data``
graph, on CPU threads beside the accelerator. On JAX and PyTorch the same
layers would run eagerly, one small op dispatch per layer and batch, and that
bound training on an H200 to 17 s per FER epoch. This module draws the same
random transformations from the same :class:`~mepe_utils.models.face.FaceAugmentConfig`
and applies them with one ``cv2.warpAffine`` per face and vectorised NumPy,
so a batch costs a few milliseconds on one CPU core.

The distributions follow the Keras layers: flip with probability 1/2;
rotation uniform in ``±rotation`` turns; shift uniform in ``±shift`` of the
side; zoom uniform in ``±zoom`` (aspect kept); reflected borders; brightness
``+ U(±brightness) * 255``; contrast ``(x - mean) * U(1 ± contrast) + mean``;
erasing with probability ``U(0, erasing)`` of a rectangle whose sides are
``sqrt(U(0.02, 0.15))`` of the image's. Two deliberate differences: the erased
rectangle holds uniform noise in 0..255 (the Keras layer fills with
``N(0, 1) * 255``, mostly out of range) and the output is clipped to 0..255.
"""

from __future__ import annotations

import cv2
import numpy as np

ERASE_AREA = (0.02, 0.15)
"""Range of the erased rectangle's area, as a fraction of the image (each side the square root)."""


class FaceAugmenter:
    """Random flip, rotation, shift, zoom, brightness/contrast and erasing of face batches.

    Args:
        config: a :class:`~mepe_utils.models.face.FaceAugmentConfig` (the layers' parameters).

    Call it with a batch (N, H, W, 1) of float32 pixels in 0..255 and a NumPy
    generator; the result is a new float32 batch, so the same seed gives the same batch.
    """

    def __init__(self, config):
        self.config = config

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        images = np.asarray(images, dtype=np.float32)
        count, height, width = images.shape[:3]
        config = self.config
        flips = rng.random(count) < 0.5
        angles = rng.uniform(-config.rotation, config.rotation, count) * 360.0
        shifts = rng.uniform(-config.shift, config.shift, (count, 2)) * (width, height)
        scales = 1.0 / (1.0 + rng.uniform(-config.zoom, config.zoom, count))
        out = np.empty_like(images)
        center = ((width - 1) / 2.0, (height - 1) / 2.0)
        for i in range(count):
            face = images[i, :, :, 0]
            if flips[i]:
                face = face[:, ::-1]
            matrix = cv2.getRotationMatrix2D(center, angles[i], scales[i])
            matrix[:, 2] += shifts[i]
            out[i, :, :, 0] = cv2.warpAffine(
                np.ascontiguousarray(face), matrix, (width, height),
                flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT,
            )  # fmt: skip

        out += rng.uniform(-config.brightness, config.brightness, (count, 1, 1, 1)).astype(np.float32) * 255.0
        np.clip(out, 0.0, 255.0, out=out)
        means = out.mean(axis=(1, 2), keepdims=True)
        contrast = rng.uniform(1.0 - config.contrast, 1.0 + config.contrast, (count, 1, 1, 1)).astype(np.float32)
        out = (out - means) * contrast + means
        self._erase(out, rng)
        return np.clip(out, 0.0, 255.0, out=out)

    def _erase(self, images: np.ndarray, rng: np.random.Generator) -> None:
        """Fills a random rectangle of some faces with uniform noise, in place."""
        count, height, width = images.shape[:3]
        chosen = np.flatnonzero(rng.random(count) < rng.uniform(0.0, self.config.erasing, count))
        sides = np.sqrt(rng.uniform(*ERASE_AREA, (len(chosen), 2))) * (height, width)
        starts = rng.random((len(chosen), 2)) * ((height, width) - sides)
        for i, (rows, cols), (top, left) in zip(chosen, sides.astype(int), starts.astype(int)):
            images[i, top : top + rows, left : left + cols] = rng.uniform(0.0, 255.0, (rows, cols, 1))
