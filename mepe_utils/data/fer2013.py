"""FER-2013 loaders (Kaggle CSV and Kaggle folder layout) and the training batches.

Both loaders return a :class:`FaceData`: uint8 images (N, 48, 48, 1), labels in
FER order (``mepe_utils.labels.FER_LABELS``) and the usage of each row
(``Training``, ``PublicTest``, ``PrivateTest``, or ``train``/``test`` when the
file names do not say).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mepe_utils.errors import DataError
from mepe_utils.labels import FER_LABELS, NUM_FER

if TYPE_CHECKING:
    from mepe_utils.data.face_augment import FaceAugmentConfig
    from mepe_utils.data.face_batches import FaceBatches

FACE_SIZE = 48
"""FER-2013 faces are 48x48 gray pixels; every face MEPE reads is brought to this size."""
USAGES = ("Training", "PublicTest", "PrivateTest")
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


@dataclass
class FaceData:
    """FER-style faces in memory.

    Attributes:
        images: uint8 array (N, 48, 48, 1).
        labels: int64 array (N,), ids in ``FER_LABELS`` order.
        usage: str array (N,), the split of each row.
        source: where the rows came from (a file or folder path).
    """

    images: np.ndarray
    labels: np.ndarray
    usage: np.ndarray
    source: str = ""

    def __len__(self) -> int:
        return len(self.labels)

    def split(self, usage: str | Sequence[str]) -> FaceData:
        """Returns the rows whose usage is ``usage`` (or any of a list).

        Raises:
            DataError: if no row has that usage.
        """
        wanted = [usage] if isinstance(usage, str) else list(usage)
        mask = np.isin(self.usage, wanted)
        if not mask.any():
            present = sorted(set(self.usage.tolist()))
            raise DataError(f"split {wanted} is empty in {self.source} (present: {present})")
        return FaceData(self.images[mask], self.labels[mask], self.usage[mask], self.source)

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=NUM_FER)
        return {name: int(count) for name, count in zip(FER_LABELS, counts)}


def parse_pixels(pixels: str, where: str) -> np.ndarray:
    """Parses a FER CSV pixel string (2304 space-separated integers in 0..255).

    Raises:
        DataError: naming ``where`` when the string is not 2304 integers in range.
    """
    try:
        values = np.array(pixels.split(), dtype=np.int64)
    except ValueError as error:
        raise DataError(f"{where}: pixels are not integers ({error})") from None
    if values.size != FACE_SIZE * FACE_SIZE:
        raise DataError(f"{where}: expected {FACE_SIZE * FACE_SIZE} pixel values, got {values.size}")
    if values.min() < 0 or values.max() > 255:
        raise DataError(f"{where}: pixel values must lie in 0..255, got {values.min()}..{values.max()}")
    return values.astype(np.uint8).reshape(FACE_SIZE, FACE_SIZE, 1)


def load_fer2013_csv(path: str | Path) -> FaceData:
    """Loads the original Kaggle ``fer2013.csv`` (columns ``emotion,pixels,Usage``).

    Raises:
        DataError: missing file, missing column, bad pixel string, label out of range, no rows.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"FER-2013 CSV not found: {path}")
    images, labels, usage = [], [], []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(f"{path}: missing column(s) {sorted(missing)}; found {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            where = f"{path}:{line}"
            try:
                label = int(row["emotion"])
            except (TypeError, ValueError):
                raise DataError(f"{where}: emotion {row['emotion']!r} is not an integer") from None
            if not 0 <= label < NUM_FER:
                raise DataError(f"{where}: emotion id {label} is out of range 0..{NUM_FER - 1}")
            images.append(parse_pixels(row["pixels"] or "", where))
            labels.append(label)
            usage.append(row["Usage"])
    if not labels:
        raise DataError(f"{path}: no rows")
    return FaceData(np.stack(images), np.array(labels, dtype=np.int64), np.array(usage), str(path))


def _usage_from_name(file_name: str, folder_split: str) -> str:
    for usage in USAGES:
        if file_name.startswith(usage + "_"):
            return usage
    return folder_split


def _read_gray(path: Path) -> np.ndarray:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise DataError(f"{path}: not a readable image")
    if image.shape != (FACE_SIZE, FACE_SIZE):
        image = cv2.resize(image, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
    return image[..., None]


def load_fer2013_folder(root: str | Path, splits: Sequence[str] = ("train", "test")) -> FaceData:
    """Loads the Kaggle folder layout ``root/{train,test}/<class>/*.jpg``.

    Class folders are matched by name to ``FER_LABELS`` (never by alphabetical
    position). Usage comes from the ``Training_``/``PublicTest_``/``PrivateTest_``
    file-name prefix when present, otherwise from the split folder name.

    Raises:
        DataError: missing folder, unknown class folder, unreadable image, empty split.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"FER-2013 folder not found: {root}")
    paths, labels, usage = [], [], []
    for split in splits:
        split_dir = root / split
        if not split_dir.is_dir():
            raise DataError(f"FER-2013 split folder not found: {split_dir}")
        split_count = 0
        for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
            if class_dir.name not in FER_LABELS:
                raise DataError(f"unknown class folder {class_dir} (expected one of {list(FER_LABELS)})")
            label = FER_LABELS.index(class_dir.name)
            for file in sorted(class_dir.iterdir()):
                if file.suffix.lower() in _IMAGE_SUFFIXES:
                    paths.append(file)
                    labels.append(label)
                    usage.append(_usage_from_name(file.name, split))
                    split_count += 1
        if split_count == 0:
            raise DataError(f"FER-2013 split folder {split_dir} holds no images")
    with ThreadPoolExecutor(max_workers=4) as pool:
        images = list(pool.map(_read_gray, paths))
    return FaceData(np.stack(images), np.array(labels, dtype=np.int64), np.array(usage), str(root))


def load_fer2013(path: str | Path) -> FaceData:
    """Loads FER-2013 from a ``fer2013.csv`` file, a folder holding it, or the folder layout."""
    path = Path(path)
    if path.is_file():
        return load_fer2013_csv(path)
    if (path / "fer2013.csv").is_file():
        return load_fer2013_csv(path / "fer2013.csv")
    if (path / "fer2013").is_dir() and not (path / "train").is_dir():
        return load_fer2013(path / "fer2013")
    return load_fer2013_folder(path)


KAGGLE_DATASET = "msambare/fer2013"
"""The Kaggle dataset with the folder layout (``train|test/<class>/*.jpg``)."""


KAGGLE_CREDENTIALS = ("KAGGLE_USERNAME", "KAGGLE_KEY")


def kaggle_credentials_from_colab() -> None:
    """On Colab, reads the Kaggle credentials ``kagglehub`` needs from the notebook's secrets into the environment.

    Does nothing outside Colab or when both are already set.

    Raises:
        DataError: on Colab, a credential is neither set nor a secret this notebook may read (the message
            says what to set, and where).
    """
    from mepe_utils.runtime import in_colab

    missing = [name for name in KAGGLE_CREDENTIALS if not os.environ.get(name)]
    if not missing or not in_colab():
        return
    from google.colab import userdata

    for name in missing:
        try:
            os.environ[name] = userdata.get(name)
        except Exception:  # SecretNotFoundError, NotebookAccessError: the message below says what to do
            raise DataError(
                f"FER-2013 downloads from Kaggle, which needs {' and '.join(KAGGLE_CREDENTIALS)}: add them as Colab "
                "secrets (the key icon in the left bar; values from kaggle.com > Settings > API > Create New Token) "
                "and let this notebook read them, or upload FER-2013 and set MEPE_DATA_DIR"
            ) from None


def locate_fer2013(path: str | Path | None = None, *, download: bool = False) -> Path:
    """Finds FER-2013 on this machine, or downloads it from Kaggle when allowed.

    Order: ``path``; ``<data dir>/fer2013`` (``--data-dir``/``$MEPE_DATA_DIR``/``../shared/data``);
    the Kaggle notebook input ``/kaggle/input/fer2013``; a ``kagglehub`` download of
    ``msambare/fer2013`` when ``download`` is True (needs Kaggle credentials on Colab).

    Raises:
        DataError: nothing found and downloading not allowed.
    """
    from mepe_utils.runtime import resolve_data_dir

    if path is not None:
        return Path(path)
    data_dir = resolve_data_dir(required=False)
    candidates = ([data_dir / "fer2013"] if data_dir else []) + [Path("/kaggle/input/fer2013")]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    if download:
        import kagglehub

        kaggle_credentials_from_colab()
        return Path(kagglehub.dataset_download(KAGGLE_DATASET))
    tried = ", ".join(str(c) for c in candidates)
    raise DataError(f"FER-2013 not found (tried {tried}); set MEPE_DATA_DIR or allow the Kaggle download")


def make_dataset(
    data: FaceData,
    *,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    augment: FaceAugmentConfig | None = None,
    one_hot: bool = True,
    sample_weights: np.ndarray | None = None,
    start_epoch: int = 0,
) -> FaceBatches:
    """Builds the (image float32 0..255, label[, weight]) batches ``Model.fit`` reads, on any backend.

    Args:
        data: faces to serve.
        batch_size: global batch size.
        shuffle: reshuffle every epoch (seeded).
        seed: shuffle and augmentation seed.
        augment: augmentation parameters for training batches; None serves the faces as they are.
        one_hot: labels as one-hot float vectors (for label smoothing) instead of ids.
        sample_weights: optional per-row weights (class-imbalance answer).
        start_epoch: epochs already trained (a resumed run continues their random draws).

    Returns:
        A :class:`~mepe_utils.data.face_batches.FaceBatches` (a ``keras.utils.PyDataset``)
        whose batches are built and augmented on worker threads.
    """
    from mepe_utils.data.face_augment import FaceAugmenter
    from mepe_utils.data.face_batches import FaceBatches

    labels = np.eye(NUM_FER, dtype=np.float32)[data.labels] if one_hot else data.labels
    return FaceBatches(
        data.images, labels, batch_size=batch_size, shuffle=shuffle, seed=seed,
        augment=FaceAugmenter(augment) if augment is not None else None,
        sample_weights=sample_weights, workers=min(4, os.cpu_count() or 1), start_epoch=start_epoch,
    )  # fmt: skip
