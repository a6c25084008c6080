"""A loaded MEPE text-emotion model, scoring lists of texts.

The model is a fine-tuned encoder classifier (a KerasHub backbone); its
tokenizer is the ``preprocessor/`` asset beside ``model.keras`` and the words it
was fine-tuned on are the ``fine_tuning_words.txt`` asset, from which each
reading's coverage (how much of the text the model could read) is measured.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.data.text_batches import tokenize
from mepe_utils.data.text_normalize import emoji_settings, normalize_texts
from mepe_utils.data.word_coverage import LOW_COVERAGE, WORDS_ASSET, read_vocabulary, word_coverage
from mepe_utils.errors import ModelFileError, TextInputError
from mepe_utils.evaluation import ekman_view
from mepe_utils.labels import FER_LABELS, GOEMOTIONS_LABELS
from mepe_utils.models.common import EKMAN_OUTPUT, EMBEDDING_LAYER, PROBABILITIES_OUTPUT, traced_forward, with_embedding
from mepe_utils.models.text import POOLED_LAYER, PREPROCESSOR_ASSET, predict_bucketed
from mepe_utils.runtime import SHIPPED_MODELS_DIR

SHIPPED_TEXT_MODEL = SHIPPED_MODELS_DIR / "text"
EAGER_READS = 3
"""Reads answered eagerly before the model is traced (:func:`~mepe_utils.models.common.traced_forward`):
a one-shot ``mepe demo`` reads three times (the message, the nearest training message, the reply's
measured controls), and three eager reads cost less than one trace."""


def check_texts(texts: str | Sequence[str]) -> list[str]:
    """Validates one text or a batch of texts.

    Emoji-only and non-English texts are valid (the model answers, usually with
    low confidence); a text longer than the model's window is valid and is
    truncated by the model (see :attr:`TextEmotion.truncated`).

    Returns:
        The texts as a list.

    Raises:
        TextInputError: not a str or a sequence of str, no texts, or an empty /
            whitespace-only text (the message names its position).
    """
    if isinstance(texts, str):
        texts = [texts]
    elif isinstance(texts, (bytes, bytearray)) or not isinstance(texts, Sequence | np.ndarray):
        raise TextInputError(f"text must be a str or a list of str, got {type(texts).__name__}")
    texts = list(texts)
    if not texts:
        raise TextInputError("no texts given")
    for position, text in enumerate(texts):
        problem = text_problem(text)
        if problem:
            raise TextInputError(f"text {position}: {problem}")
    return texts


def text_problem(text) -> str | None:
    """Why ``text`` cannot be read (not a str, empty or whitespace only), or None when it can."""
    if not isinstance(text, str):
        return f"expected a str, got {type(text).__name__}"
    if not text.strip():
        return "the text is empty or whitespace only"
    return None


@dataclass
class TextEmotion:
    """The reading of one text.

    Attributes:
        text: the input.
        probabilities: GoEmotions label -> probability (28).
        emotions: labels at or above their dev-tuned threshold, most probable first.
        top_label: the most probable GoEmotions label.
        ekman: Ekman class (FER order) -> score (7).
        embedding: the text embedding for fusion.
        sentence_vector: the encoder's pooled sentence vector (persona traits are read from it).
        tokens: tokens the text needs (special tokens included).
        truncated: True when the text was longer than the model's window and was cut.
        coverage: share of the text's words the model was fine-tuned on (emoji count
            as the words that name them); 0 for a text without words.
        warning: a plain sentence when the reading is unreliable (coverage below
            :data:`~mepe_utils.data.word_coverage.LOW_COVERAGE`: another language,
            no words), else None.
    """

    text: str
    probabilities: dict[str, float]
    emotions: list[str]
    top_label: str
    ekman: dict[str, float]
    embedding: np.ndarray
    sentence_vector: np.ndarray
    tokens: int
    truncated: bool
    coverage: float
    warning: str | None


def coverage_warning(coverage: float) -> str | None:
    """The sentence a reading carries when too few of its words are known to the model."""
    if coverage >= LOW_COVERAGE:
        return None
    return (
        f"the model knows only {coverage:.0%} of these words (another language, or no words at all): "
        "this reading is a guess, not a reading"
    )


def load_preprocessor_asset(folder: Path):
    """Rebuilds a KerasHub preprocessor saved with ``save_to_preset`` (config + vocabulary), in safe mode."""
    import keras

    config = json.loads((folder / "preprocessor.json").read_text())
    preprocessor = keras.saving.deserialize_keras_object(config, safe_mode=True)
    preprocessor.load_preset_assets(str(folder))
    return preprocessor


class TextEmotionModel:
    """A checked, loaded text model.

    Attributes:
        manifest: the saved model's manifest (labels, thresholds, Ekman view ...).
        thresholds: (28,) dev-tuned per-label thresholds.
        ekman_thresholds: (7,) dev-tuned thresholds of the Ekman view.
        vocabulary: the words the model was fine-tuned on (for coverage).
    """

    def __init__(self, model, manifest: artifacts.Manifest, preprocessor, vocabulary: frozenset[str]):
        import keras

        view = with_embedding(model)
        self.model = keras.Model(view.inputs, {**view.output, POOLED_LAYER: model.get_layer(POOLED_LAYER).output})
        self.manifest = manifest
        self.preprocessor = preprocessor
        self.vocabulary = vocabulary
        self.thresholds = np.asarray(manifest.extra["thresholds"], dtype=np.float32)
        self.ekman_thresholds = np.asarray(manifest.extra["ekman_thresholds"], dtype=np.float32)
        self.ekman_source = manifest.extra["ekman_source"]
        self.emoji = emoji_settings(manifest.extra)
        self._forward = traced_forward(self.model, eager_calls=EAGER_READS)

    @classmethod
    def load(cls, directory: str | Path = SHIPPED_TEXT_MODEL) -> TextEmotionModel:
        """Loads a saved text model (manifest, hashes, labels and safe mode checked)."""
        directory = Path(directory)
        model, manifest = artifacts.load_model(directory, kind=artifacts.TEXT_KIND, labels=GOEMOTIONS_LABELS)
        for asset in (PREPROCESSOR_ASSET, WORDS_ASSET):
            if not (directory / asset).exists():
                raise ModelFileError(f"{directory}: asset {asset} is missing; not an encoder text model of this MEPE")
        preprocessor = load_preprocessor_asset(directory / PREPROCESSOR_ASSET)
        return cls(model, manifest, preprocessor, read_vocabulary(directory / WORDS_ASSET))

    @property
    def window(self) -> int:
        """The token window; longer texts are truncated."""
        return int(self.manifest.input["window_tokens"])

    def model_texts(self, texts: Sequence[str]) -> list[str]:
        """The texts as the model reads them (emoji as words when the model was trained so)."""
        return normalize_texts(texts, **self.emoji)

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        """Tokens each text needs before truncation, special tokens included."""
        return self._token_counts(self.model_texts(texts))

    def _token_counts(self, model_texts: list[str]) -> np.ndarray:
        import tensorflow as tf

        pieces = self.preprocessor.tokenizer(tf.constant(model_texts))  # one token list per text
        return np.array([len(tokens) for tokens in pieces]) + 2  # [CLS] ... [SEP]

    def coverage(self, texts: Sequence[str]) -> np.ndarray:
        """(N,) share of each text's words the model was fine-tuned on (see :class:`TextEmotion`)."""
        return word_coverage(self.model_texts(texts), self.vocabulary)

    def predict(self, texts: str | Sequence[str]) -> list[TextEmotion]:
        """Reads one text or a batch: typed results in input order.

        Raises:
            TextInputError: see :func:`check_texts`.
        """
        texts = check_texts(texts)
        model_texts = self.model_texts(texts)
        scores, counts = self._read(model_texts)
        filled = np.flatnonzero(counts >= self.window)  # only these may have been cut: count their tokens
        if len(filled):
            counts[filled] = self._token_counts([model_texts[row] for row in filled])
        coverage = word_coverage(model_texts, self.vocabulary)
        results = []
        for row, text in enumerate(texts):
            probabilities = scores[PROBABILITIES_OUTPUT][row]
            order = np.argsort(-probabilities)
            results.append(
                TextEmotion(
                    text=text,
                    probabilities={GOEMOTIONS_LABELS[i]: float(probabilities[i]) for i in range(len(probabilities))},
                    emotions=[GOEMOTIONS_LABELS[i] for i in order if probabilities[i] >= self.thresholds[i]],
                    top_label=GOEMOTIONS_LABELS[int(order[0])],
                    ekman={name: float(v) for name, v in zip(FER_LABELS, scores[EKMAN_OUTPUT][row])},
                    embedding=scores[EMBEDDING_LAYER][row],
                    sentence_vector=scores[POOLED_LAYER][row],
                    tokens=int(counts[row]),
                    truncated=bool(counts[row] > self.window),
                    coverage=float(coverage[row]),
                    warning=coverage_warning(float(coverage[row])),
                )
            )
        return results

    def scores(self, texts: Sequence[str], batch_size: int = 256) -> dict[str, np.ndarray]:
        """Probabilities (N, 28), Ekman scores (N, 7, the manifest's chosen view), embeddings and sentence vectors.

        Raises:
            TextInputError: see :func:`check_texts`.
        """
        return self._read(self.model_texts(check_texts(texts)), batch_size)[0]

    def head_outputs(self, texts: Sequence[str], batch_size: int = 256) -> dict[str, np.ndarray]:
        """Like :meth:`scores`, but ``ekman`` is always the Ekman head's output, whichever view the
        manifest keeps: for evaluations that compare the two views (``bench-text``).

        Raises:
            TextInputError: see :func:`check_texts`.
        """
        return self._run(self.model_texts(check_texts(texts)), batch_size)[0]

    def _run(self, model_texts: list[str], batch_size: int = 256) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The network's outputs and each text's tokens within the window (special tokens included)."""
        features = tokenize(self.preprocessor, model_texts)
        outputs = predict_bucketed(self.model, features, batch_size=batch_size, forward=self._forward)
        return outputs, features["padding_mask"].sum(axis=1).astype(np.int64)

    def _read(self, model_texts: list[str], batch_size: int = 256) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The scores of :meth:`scores` and each text's tokens within the window (special tokens included)."""
        outputs, counts = self._run(model_texts, batch_size)
        scores = {
            PROBABILITIES_OUTPUT: outputs[PROBABILITIES_OUTPUT],
            EKMAN_OUTPUT: ekman_view(outputs, self.ekman_source),
            EMBEDDING_LAYER: outputs[EMBEDDING_LAYER],
            POOLED_LAYER: outputs[POOLED_LAYER],
        }
        return scores, counts
