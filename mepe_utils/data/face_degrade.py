"""Degraded faces, made from the real FER-2013 crops: what a webcam in a dim room or a chat thumbnail gives.

Each degradation maps uint8 faces (N, 48, 48, 1) to degraded uint8 faces of the
same shape; the random ones take a seeded generator, so a degraded split is the
same every time it is built.

=============  =====================================================================
``blur``       Gaussian blur, sigma 2 px (out of focus, motion)
``low_light``  brightness x0.25 plus sensor noise (sigma 6 grey levels)
``occlusion``  a grey square over 40% of the face's area at a random place (hand, mask)
``jpeg``       JPEG at quality 8 (heavy compression)
``downscale``  down to 16x16 and back up to 48x48 (a face far from the camera)
=============  =====================================================================
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np


def _each(images: np.ndarray, function: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    return np.stack([function(image[..., 0])[..., None] for image in images]).astype(np.uint8)


def blur(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return _each(images, lambda face: cv2.GaussianBlur(face, (0, 0), sigmaX=2.0))


def low_light(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    noisy = images.astype(np.float32) * 0.25 + rng.normal(0.0, 6.0, images.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def occlusion(images: np.ndarray, rng: np.random.Generator, area: float = 0.4) -> np.ndarray:
    out = images.copy()
    size = images.shape[1]
    side = round(size * np.sqrt(area))
    corners = rng.integers(0, size - side + 1, size=(len(images), 2))
    for face, (top, left) in zip(out, corners):
        face[top : top + side, left : left + side] = 128
    return out


def jpeg(images: np.ndarray, rng: np.random.Generator, quality: int = 8) -> np.ndarray:
    def compress(face):
        ok, encoded = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, quality])
        return cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)

    return _each(images, compress)


def downscale(images: np.ndarray, rng: np.random.Generator, low: int = 16) -> np.ndarray:
    size = images.shape[1]

    def shrink(face):
        small = cv2.resize(face, (low, low), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR)

    return _each(images, shrink)


DEGRADATIONS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "blur": blur,
    "low_light": low_light,
    "occlusion": occlusion,
    "jpeg": jpeg,
    "downscale": downscale,
}
"""Every degradation by name, in the order the benchmark reports them."""


def degrade(images: np.ndarray, name: str, seed: int = 0) -> np.ndarray:
    """``images`` with the degradation ``name`` applied, its randomness drawn from ``seed``.

    Raises:
        ValueError: an unknown degradation name.
    """
    if name not in DEGRADATIONS:
        raise ValueError(f"unknown degradation {name!r}; known: {', '.join(DEGRADATIONS)}")
    return DEGRADATIONS[name](np.asarray(images, dtype=np.uint8), np.random.default_rng(seed))
