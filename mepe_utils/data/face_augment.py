"""Training-time augmentation of FER faces, in NumPy and OpenCV, on every Keras backend.

Flip, rotation, shift and zoom (one ``cv2.warpAffine`` per face, reflected
borders), brightness, contrast and random erasing (vectorised NumPy), a few
milliseconds per batch on one CPU core, so worker threads keep a GPU fed.
Keras' preprocessing layers would do the same inside ``tf.data`` on
TensorFlow, but on JAX and PyTorch they run eagerly, one small op dispatch per
layer and batch, many times slower, and that bound GPU training on JAX. One
implementation for all backends keeps a recipe's numbers the same wherever it runs.

The distributions follow those Keras layers: flip with probability 1/2;
rotation uniform in ``±rotation`` turns; shift uniform in ``±shift`` of the
side; zoom uniform in ``±zoom`` (aspect kept); reflected borders; brightness
``+ U(±brightness) * 255``; contrast ``(x - mean) * U(1 ± contrast) + mean``;
erasing with probability ``U(0, erasing)`` of a rectangle whose sides are
``sqrt(U(0.02, 0.15))`` of the image's; the output clipped to 0..255. One
deliberate difference: the erased rectangle holds uniform noise in 0..255,
where ``RandomErasing`` fills with ``N(0, 1) * 255`` (after clipping, half black
and a sixth white).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

ERASE_AREA = (0.02, 0.15)
"""Range of the erased rectangle's area, as a fraction of the image (each side the square root)."""


@dataclass
class FaceAugmentConfig:
    """Training-time augmentation of 48x48 faces (pixels 0..255); the module docstring has the distributions.

    Attributes:
        rotation: largest rotation, in turns either way.
        shift: largest shift, as a fraction of the side, either way.
        zoom: largest zoom in or out, as a fraction.
        brightness: largest brightness change, as a fraction of 255, either way.
        contrast: largest contrast change, as a fraction, either way.
        erasing: largest probability of erasing a rectangle (the probability is drawn in 0..erasing).
    """

    rotation: float = 0.04
    shift: float = 0.1
    zoom: float = 0.1
    brightness: float = 0.2
    contrast: float = 0.3
    erasing: float = 0.5


class FaceAugmenter:
    """Random flip, rotation, shift, zoom, brightness/contrast and erasing of face batches.

    Args:
        config: the augmentation parameters.

    Call it with a batch (N, H, W, 1) of float32 pixels in 0..255 and a NumPy
    generator; the result is a new float32 batch, so the same seed gives the same batch.
    """

    def __init__(self, config: FaceAugmentConfig):
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
