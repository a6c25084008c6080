"""GoEmotions loaders (Hugging Face hub and the official local TSVs).

Both return a :class:`TextEmotionData` per split: texts, 28-label multi-hot
(``GOEMOTIONS_LABELS`` order), 7-class Ekman multi-hot (FER order) and the
comment ids. Split names are ``train``, ``dev`` and ``test`` (the hub's
``validation`` is ``dev``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils.errors import DataError, LabelError
from mepe_utils.labels import (
    EKMAN_MAPPING,
    GOEMOTIONS_LABELS,
    NUM_GOEMOTIONS,
    goemotions_to_ekman,
    ids_to_multi_hot,
)

HUB_ID = "google-research-datasets/go_emotions"
HUB_CONFIG = "simplified"
SPLITS = ("train", "dev", "test")
_HUB_SPLIT = {"train": "train", "dev": "validation", "test": "test"}


@dataclass
class TextEmotionData:
    """One GoEmotions split in memory.

    Attributes:
        texts: the comments.
        labels: uint8 (N, 28) multi-hot in ``GOEMOTIONS_LABELS`` order.
        ekman: uint8 (N, 7) multi-hot in ``FER_LABELS`` order.
        ids: comment ids.
        split: ``train``, ``dev`` or ``test``.
    """

    texts: list[str]
    labels: np.ndarray
    ekman: np.ndarray
    ids: list[str]
    split: str

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, rows) -> TextEmotionData:
        rows = np.asarray(rows)
        return TextEmotionData(
            [self.texts[i] for i in rows], self.labels[rows], self.ekman[rows], [self.ids[i] for i in rows], self.split
        )


def _build(texts: list[str], label_ids: list[list[int]], ids: list[str], split: str, source: str) -> TextEmotionData:
    if not texts:
        raise DataError(f"{source}: split {split!r} is empty")
    labels = np.stack([ids_to_multi_hot(row) for row in label_ids])
    return TextEmotionData(list(texts), labels, goemotions_to_ekman(labels), list(ids), split)


def load_goemotions_tsv(path: str | Path, split: str | None = None) -> TextEmotionData:
    """Reads one official TSV: ``text<TAB>comma-separated label ids<TAB>comment id``, no header.

    Args:
        path: the ``train.tsv``/``dev.tsv``/``test.tsv`` file.
        split: split name; defaults to the file stem.

    Raises:
        DataError: missing file, a line without 3 fields, a non-integer or
            out-of-range label id, a row with no label, an empty file.
    """
    path = Path(path)
    split = split or path.stem
    if not path.is_file():
        raise DataError(f"GoEmotions file not found: {path}")
    texts, label_ids, ids = [], [], []
    with path.open(encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.rstrip("\r\n").split("\t")
            if len(fields) != 3:
                raise DataError(f"{path}:{number}: expected 3 tab-separated fields, got {len(fields)}")
            text, raw_ids, comment_id = fields
            try:
                row = [int(value) for value in raw_ids.split(",") if value.strip()]
            except ValueError:
                raise DataError(f"{path}:{number}: label ids {raw_ids!r} are not integers") from None
            if not row:
                raise DataError(f"{path}:{number}: no label ids")
            bad = [value for value in row if not 0 <= value < NUM_GOEMOTIONS]
            if bad:
                raise DataError(f"{path}:{number}: label id {bad[0]} is out of range 0..{NUM_GOEMOTIONS - 1}")
            texts.append(text)
            label_ids.append(row)
            ids.append(comment_id)
    return _build(texts, label_ids, ids, split, str(path))


def check_official_label_files(folder: str | Path) -> None:
    """Checks ``emotions.txt`` (and ``ekman_mapping.json`` when present) against MEPE's label space.

    Raises:
        LabelError: the folder's label set or Ekman grouping differs from ``mepe_utils.labels``.
    """
    folder = Path(folder)
    emotions = folder / "emotions.txt"
    if emotions.is_file():
        names = [line.strip() for line in emotions.read_text().splitlines() if line.strip()]
        if names != list(GOEMOTIONS_LABELS):
            raise LabelError(f"{emotions}: wrong label set {names}; expected the 28 official GoEmotions labels")
    mapping_file = folder / "ekman_mapping.json"
    if mapping_file.is_file():
        mapping = {key: sorted(value) for key, value in json.loads(mapping_file.read_text()).items()}
        if mapping != {key: sorted(value) for key, value in EKMAN_MAPPING.items()}:
            raise LabelError(f"{mapping_file}: Ekman mapping differs from the official one held in mepe_utils.labels")


def load_goemotions_tsv_splits(folder: str | Path, splits=SPLITS) -> dict[str, TextEmotionData]:
    """Reads ``<folder>/{train,dev,test}.tsv`` after checking the folder's label files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"GoEmotions folder not found: {folder}")
    check_official_label_files(folder)
    return {split: load_goemotions_tsv(folder / f"{split}.tsv", split) for split in splits}


def load_goemotions_hub(split: str, dataset=None) -> TextEmotionData:
    """Reads a split of ``google-research-datasets/go_emotions`` ("simplified") from the hub.

    Args:
        split: ``train``, ``dev`` or ``test``.
        dataset: an already loaded ``datasets.DatasetDict`` (columns ``text``,
            ``labels``, ``id``); loaded from the hub when ``None``.
    """
    if split not in _HUB_SPLIT:
        raise DataError(f"unknown GoEmotions split {split!r}; expected one of {list(SPLITS)}")
    if dataset is None:
        import datasets

        dataset = datasets.load_dataset(HUB_ID, HUB_CONFIG)
    rows = dataset[_HUB_SPLIT[split]]
    missing = {"text", "labels", "id"} - set(rows.column_names)
    if missing:
        raise DataError(f"hub dataset {HUB_ID} split {split}: missing column(s) {sorted(missing)}")
    names = getattr(rows.features["labels"], "feature", None)
    names = getattr(names, "names", None)
    if names is not None and list(names) != list(GOEMOTIONS_LABELS):
        raise LabelError(f"hub dataset {HUB_ID}: wrong label set {names}")
    return _build(rows["text"], rows["labels"], rows["id"], split, f"{HUB_ID}[{split}]")


def load_goemotions(source: str | Path, splits=SPLITS) -> dict[str, TextEmotionData]:
    """Loads GoEmotions splits from ``"hub"`` or a local folder of official TSVs."""
    if str(source) == "hub":
        import datasets

        dataset = datasets.load_dataset(HUB_ID, HUB_CONFIG)
        return {split: load_goemotions_hub(split, dataset) for split in splits}
    return load_goemotions_tsv_splits(source, splits)


def locate_goemotions(path: str | Path | None = None) -> str | Path:
    """Where to read GoEmotions from: ``path``, else ``<data dir>/goemotions`` when present, else ``"hub"``."""
    from mepe_utils.runtime import resolve_data_dir

    if path is not None:
        return Path(path)
    data_dir = resolve_data_dir(required=False)
    if data_dir is not None and (data_dir / "goemotions").is_dir():
        return data_dir / "goemotions"
    return "hub"
