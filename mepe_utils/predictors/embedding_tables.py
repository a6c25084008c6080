"""Embedding tables: a saved text or face model run once over a data split, cached on disk.

Fusion (phase 4) trains on the encoders' outputs, not on text and pixels: the
7-class probabilities and the embedding of every GoEmotions text and every
FER-2013 face. Computing them takes minutes on a CPU, so a table is written
once and reused, keyed by the model's sha256 and the split: a retrained or
re-exported model gets a new table, an unchanged one never recomputes.

Both kinds share the 7-class space of :mod:`mepe_utils.labels` (FER order):
for a text, ``labels`` are its gold Ekman classes (multi-hot) and
``probabilities`` the model's Ekman view; for a face, ``labels`` are one-hot and
``probabilities`` the CNN's softmax.

Example:
    >>> table = embedding_table("assets/models/text", "test", "../shared/data/goemotions", cache_dir)
    >>> table.probabilities.shape[1], len(table) == len(table.embeddings)
    (7, True)
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.labels import NUM_FER
from mepe_utils.models.common import EKMAN_OUTPUT, EMBEDDING_LAYER, PROBABILITIES_OUTPUT

FACE_BATCH = 512
"""Faces per forward pass when a face table is computed."""
_COLUMNS = ("ids", "labels", "probabilities", "embeddings")


@dataclass
class EmbeddingTable:
    """One model's outputs over one split.

    Attributes:
        kind: the model's kind (``text-emotion`` or ``face-emotion``).
        split: the split (GoEmotions ``train``/``dev``/``test``, FER-2013 ``Training``/``PublicTest``/``PrivateTest``).
        model_sha256: the sha256 of the model file the table was computed with.
        ids: (N,) row ids (GoEmotions comment ids; ``<usage>:<row>`` for faces).
        labels: (N, 7) uint8 gold classes, multi-hot, FER order.
        probabilities: (N, 7) float32 model probabilities, FER order.
        embeddings: (N, D) float32 embeddings.
    """

    kind: str
    split: str
    model_sha256: str
    ids: np.ndarray
    labels: np.ndarray
    probabilities: np.ndarray
    embeddings: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def table_path(
    cache_dir: str | Path,
    manifest: artifacts.Manifest,
    split: str,
    degradation: str | None = None,
    sample: int | None = None,
) -> Path:
    """Where a table is cached: the model's kind and hash, the split, the sample size and the degradation."""
    suffix = (f"~{sample}" if sample else "") + (f"+{degradation}" if degradation else "")
    return Path(cache_dir) / f"{manifest.kind}-{manifest.model_sha256[:16]}-{split}{suffix}.npz"


def sample_rows(total: int, sample: int | None) -> np.ndarray:
    """The rows a table of ``sample`` rows keeps (seeded, sorted); every row when ``sample`` is None or too big."""
    if sample is None or sample >= total:
        return np.arange(total)
    return np.sort(np.random.default_rng(0).choice(total, sample, replace=False))


def _compute_text(model_dir: Path, split: str, source, degradation: str | None, sample: int | None) -> tuple:
    from mepe_utils.data.goemotions import load_goemotions
    from mepe_utils.predictors.text import TextEmotionModel

    if degradation:
        raise ValueError(f"degradations apply to faces, not texts (got {degradation!r})")
    data = load_goemotions(source, splits=(split,))[split]
    data = data.subset(sample_rows(len(data), sample))
    scores = TextEmotionModel.load(model_dir).scores(data.texts)
    return np.array(data.ids), data.ekman, scores[EKMAN_OUTPUT], scores[EMBEDDING_LAYER]


def _compute_face(model_dir: Path, split: str, source, degradation: str | None, sample: int | None) -> tuple:
    from mepe_utils.data.face_degrade import degrade
    from mepe_utils.data.fer2013 import load_fer2013
    from mepe_utils.predictors.face import FaceEmotionModel

    data = load_fer2013(source).split(split)
    rows = sample_rows(len(data), sample)
    images = degrade(data.images[rows], degradation) if degradation else data.images[rows]
    model = FaceEmotionModel.load(model_dir)
    parts = [model.scores(images[start : start + FACE_BATCH]) for start in range(0, len(images), FACE_BATCH)]
    ids = np.array([f"{split}:{row}" for row in rows])
    labels = np.eye(NUM_FER, dtype=np.uint8)[data.labels[rows]]
    return (
        ids,
        labels,
        np.concatenate([part[PROBABILITIES_OUTPUT] for part in parts]),
        np.concatenate([part[EMBEDDING_LAYER] for part in parts]),
    )


def embedding_table(
    model_dir: str | Path,
    split: str,
    data_source,
    cache_dir: str | Path,
    degradation: str | None = None,
    sample: int | None = None,
) -> EmbeddingTable:
    """The table of a saved model over a split: read from the cache, or computed and cached.

    Args:
        model_dir: a saved MEPE text or face model (its manifest says which).
        split: the split to run over.
        data_source: the GoEmotions source (TSV folder or ``"hub"``) or the FER-2013 folder / CSV.
        cache_dir: the cache folder (created when missing).
        degradation: for a face model, a :data:`~mepe_utils.data.face_degrade.DEGRADATIONS` name
            applied to every face first (seeded, so the table is the same each time).
        sample: keep a seeded sample of this many rows (:func:`sample_rows`; smoke runs), else every row.

    Returns:
        The table; written atomically to :func:`table_path` when it was computed.
    """
    model_dir = Path(model_dir)
    manifest = artifacts.read_manifest(model_dir)
    path = table_path(cache_dir, manifest, split, degradation, sample)
    if path.is_file():
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["model_sha256"]) == manifest.model_sha256:
                return EmbeddingTable(manifest.kind, split, manifest.model_sha256, *(stored[k] for k in _COLUMNS))
    compute = {artifacts.TEXT_KIND: _compute_text, artifacts.FACE_KIND: _compute_face}[manifest.kind]
    columns = compute(model_dir, split, data_source, degradation, sample)
    table = EmbeddingTable(manifest.kind, split, manifest.model_sha256, *columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.npz")
    np.savez(tmp, model_sha256=np.array(manifest.model_sha256), **{k: getattr(table, k) for k in _COLUMNS})
    os.replace(tmp, path)
    return table
