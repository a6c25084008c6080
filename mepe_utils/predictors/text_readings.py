"""The text model's readings of many texts, cached: what the persona and generator trainers and benchmarks read.

A reading is the text model's pooled sentence vector, embedding, 28 GoEmotions
probabilities and 7-class Ekman view, with the text's writing-style features.
:func:`text_readings` computes them once per (text model, texts) and keeps them
in a cache folder keyed by the model file's sha256 and the texts' sha256, so a
rerun never reads a text twice and a retrained text model never meets stale readings.

Example:
    >>> readings = text_readings("assets/models/text", "esconv-train-replies", texts, "/tmp/mepe-cache")
    >>> readings.inputs()["reading"].shape
    (12235, 668)
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.models.common import EKMAN_OUTPUT, EMBEDDING_LAYER, PROBABILITIES_OUTPUT
from mepe_utils.models.persona import READING_INPUT, STYLE_INPUT, reading_features
from mepe_utils.models.text import POOLED_LAYER
from mepe_utils.persona.writing_style import writing_style_features

_READING_COLUMNS = (POOLED_LAYER, EMBEDDING_LAYER, PROBABILITIES_OUTPUT, EKMAN_OUTPUT)


@dataclass
class TextReadings:
    """The text model's outputs over a list of texts, and their writing style.

    Attributes:
        sentence_vectors: (N, P) the pooled sentence vectors.
        embeddings: (N, E) the embeddings.
        probabilities: (N, 28) GoEmotions probabilities.
        ekman: (N, 7) the Ekman view (FER order).
        style: (N, 15) writing-style features.
    """

    sentence_vectors: np.ndarray
    embeddings: np.ndarray
    probabilities: np.ndarray
    ekman: np.ndarray
    style: np.ndarray

    def __len__(self) -> int:
        return len(self.style)

    @classmethod
    def from_scores(cls, scores: dict[str, np.ndarray], texts: list[str]) -> TextReadings:
        """The readings from :meth:`~mepe_utils.predictors.text.TextEmotionModel.scores` of ``texts``."""
        columns = [np.asarray(scores[key], np.float32) for key in _READING_COLUMNS]
        return cls(*columns, writing_style_features(texts))

    def inputs(self) -> dict[str, np.ndarray]:
        """The persona model's inputs."""
        reading = reading_features(self.sentence_vectors, self.embeddings, self.probabilities)
        return {READING_INPUT: reading, STYLE_INPUT: self.style}


def texts_sha256(texts: list[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()


def readings_path(cache_dir: str | Path, model_sha256: str, name: str, digest: str) -> Path:
    """Where one text model's readings of the texts called ``name`` (``emobank-train`` ...) with hash ``digest``
    are cached (a smoke sample and the whole split keep files of their own)."""
    return Path(cache_dir) / f"text-readings-{model_sha256[:16]}-{name}-{digest[:12]}.npz"


def text_readings(text_model: str | Path, name: str, texts: list[str], cache_dir: str | Path) -> TextReadings:
    """The text model's readings of ``texts``: from the cache, or computed once and cached.

    Args:
        text_model: a saved MEPE text model.
        name: the texts' name in the cache (``<data set>-<split>``).
        texts: the texts.
        cache_dir: the cache folder (created when missing).

    Returns:
        The readings, in the order of ``texts``; the cache file (written atomically) is
        keyed by the model's sha256, ``name`` and the texts' sha256 (:func:`readings_path`).
    """
    manifest = artifacts.read_manifest(text_model)
    digest = texts_sha256(texts)
    path = readings_path(cache_dir, manifest.model_sha256, name, digest)
    columns = None
    if path.is_file():
        with np.load(path, allow_pickle=False) as stored:
            if str(stored["model_sha256"]) == manifest.model_sha256 and str(stored["texts_sha256"]) == digest:
                columns = {key: stored[key] for key in _READING_COLUMNS}
    if columns is None:
        from mepe_utils.predictors.text import TextEmotionModel

        scores = TextEmotionModel.load(text_model).scores(texts)
        columns = {key: np.asarray(scores[key], np.float32) for key in _READING_COLUMNS}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.npz")
        np.savez(tmp, model_sha256=np.array(manifest.model_sha256), texts_sha256=np.array(digest), **columns)
        os.replace(tmp, path)
    return TextReadings.from_scores(columns, texts)
