"""Decoding any photo MEPE is given into a BGR (for detection) or gray (for the CNN) uint8 array, with clear errors.

Accepted: a path (JPEG, PNG, BMP, TIFF, WebP, GIF ...), the bytes of such a file,
a NumPy array (gray, RGB, RGBA, BGR when said; uint8, uint16 or float in 0..1),
a PIL image. EXIF
orientation is applied; 16-bit images are scaled to 8 bits; alpha is composited
on white.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from mepe_utils.errors import ImageError

FILE_BYTES = (bytes, bytearray, memoryview)
"""The types :func:`to_bgr` reads as an encoded image file's bytes (one photo, never a batch)."""
MAX_PIXELS = 40_000_000
"""Images above this many pixels are refused before decoding (decompression bombs)."""


def _open_path(path: Path):
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a directory, not an image")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: empty file (0 bytes)")
    return _decode(path, str(path))


def _decode(source, where: str):
    """The decoded, upright PIL image of a path or a file object, ``where`` naming it in errors."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(source) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageError(f"{where}: {width}x{height} is too large to decode safely (limit {MAX_PIXELS} px)")
            if width == 0 or height == 0:
                raise ImageError(f"{where}: zero-size image ({width}x{height})")
            image.load()
            return _upright(image)
    except UnidentifiedImageError:
        raise ImageError(f"{where}: not an image (unrecognised format)") from None
    except Image.DecompressionBombError:
        raise ImageError(f"{where}: too large to decode safely") from None
    except OSError as error:
        raise ImageError(f"{where}: truncated or corrupt image ({error})") from None


def _decode_pil(image):
    """A PIL image loaded (a lazily opened file is decoded here, with a clear error) and made upright."""
    try:
        image.load()
    except OSError as error:
        raise ImageError(f"the PIL image cannot be decoded: truncated or corrupt ({error})") from None
    return _upright(image)


def _upright(image):
    """The loaded image turned as its EXIF orientation says; as stored when the EXIF block itself is broken
    (Pillow raises struct.error, ValueError ... on a corrupt one), since the pixels are still a photo."""
    from PIL import ImageOps

    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - any failure inside the EXIF parser; the pixels are already decoded
        return image


def _pil_to_array(image) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if values.max() > 255 else 255.0
        return np.clip(values / top * 255.0, 0, 255).astype(np.uint8)
    if image.mode == "F":
        return to_uint8(np.asarray(image, dtype=np.float32))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return np.asarray(image.convert("RGBA"))
    if image.mode == "L":
        return np.asarray(image)
    return np.asarray(image.convert("RGB"))


def to_uint8(array: np.ndarray) -> np.ndarray:
    """Scales uint16 (0..65535), float (0..1, or 0..255 when above 1) or bool arrays to uint8."""
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return (array.astype(np.float64) / 257.0).round().astype(np.uint8)
    if array.dtype == bool:
        return array.astype(np.uint8) * 255
    values = array.astype(np.float64)
    if not np.isfinite(values).all():
        raise ImageError("image array holds NaN or infinite values")
    if values.max(initial=0) <= 1.0:
        values = values * 255.0
    return np.clip(values, 0, 255).round().astype(np.uint8)


def to_bgr(image, channel_order: str = "rgb") -> np.ndarray:
    """Returns any accepted image as an (H, W, 3) BGR uint8 array (OpenCV's order; gray is replicated).

    Args:
        image: path, a file's bytes, NumPy array or PIL image.
        channel_order: ``"rgb"`` or ``"bgr"`` (OpenCV arrays) for 3/4-channel arrays.

    Raises:
        ImageError: missing path, directory, not an image, truncated, zero-size,
            too large, or an array of an unusable shape or dtype.
    """
    import cv2

    if channel_order not in ("rgb", "bgr"):
        raise ImageError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
    if isinstance(image, str) and not image.strip():
        raise ImageError("the photo's path is empty")
    if isinstance(image, (str, os.PathLike)):
        array = _pil_to_array(_open_path(Path(image)))
        channel_order = "rgb"
    elif isinstance(image, FILE_BYTES):
        if not len(image):
            raise ImageError("empty bytes, not an image")
        array = _pil_to_array(_decode(io.BytesIO(image), f"{len(image)} bytes"))
        channel_order = "rgb"
    elif hasattr(image, "mode") and hasattr(image, "size"):  # a PIL image
        array = _pil_to_array(_decode_pil(image))
        channel_order = "rgb"
    elif isinstance(image, np.ndarray):
        array = image
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise ImageError(f"image array of {array.dtype} values: expected numbers (uint8, uint16 or float)")
    else:
        raise ImageError(
            f"unsupported image type {type(image).__name__}; pass a path, a file's bytes, a NumPy array or a PIL image"
        )

    if array.size == 0 or min(array.shape[:2], default=0) == 0:
        raise ImageError(f"zero-size image (shape {array.shape})")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ImageError(f"image array must be HxW, HxWx1, HxWx3 or HxWx4, got shape {array.shape}")
    if array.shape[0] * array.shape[1] > MAX_PIXELS:
        raise ImageError(f"image of {array.shape[1]}x{array.shape[0]} is too large (limit {MAX_PIXELS} px)")
    array = np.ascontiguousarray(to_uint8(array))
    if array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2BGR)
    if array.shape[-1] == 4:
        alpha = array[..., 3:4].astype(np.float32) / 255.0
        array = (array[..., :3].astype(np.float32) * alpha + 255.0 * (1 - alpha)).round().astype(np.uint8)
    return array if channel_order == "bgr" else cv2.cvtColor(array, cv2.COLOR_RGB2BGR)


def to_gray(image, channel_order: str = "rgb") -> np.ndarray:
    """Returns any accepted image as a 2-D gray uint8 array (see :func:`to_bgr` for what is accepted)."""
    import cv2

    return cv2.cvtColor(to_bgr(image, channel_order), cv2.COLOR_BGR2GRAY)
