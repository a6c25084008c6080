"""The multi-label text-emotion classifier on a KerasHub encoder (DistilBERT, BERT ...).

Any KerasHub-loadable preset works: ``hf://distilbert/distilbert-base-uncased``
(the default, for GPUs), a local Hugging Face checkpoint folder (a BERT such as
all-MiniLM-L6-v2), a KerasHub preset name, or a backbone built from a tiny
config in tests. The model takes the preprocessor's token tensors and returns::

    {"probabilities": (batch, 28) sigmoid over GoEmotions,
     "ekman":         (batch, 7) sigmoid over FER-ordered Ekman classes}

with a layer named ``embedding`` (the pooled, projected text embedding for fusion).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import keras
import numpy as np
from keras import layers, ops

from mepe_utils.data.text_batches import bucket_widths
from mepe_utils.labels import NUM_FER, NUM_GOEMOTIONS
from mepe_utils.models.common import EKMAN_OUTPUT, EMBEDDING_LAYER, PROBABILITIES_OUTPUT

DISTILBERT_PRESET = "hf://distilbert/distilbert-base-uncased"
POOLED_LAYER = "pool"
"""The layer whose output is the encoder's sentence vector (mean of the token vectors, or [CLS]).

Persona traits (phase 5) are read from it."""
PREPROCESSOR_ASSET = "preprocessor"
"""A saved text model's asset folder holding its KerasHub preprocessor (tokenizer + packing)."""


@keras.saving.register_keras_serializable(package="mepe")
class MaskedMeanPooling(layers.Layer):
    """Mean of the token vectors where ``padding_mask`` is 1 (padding ignored)."""

    def call(self, sequence, padding_mask):
        mask = ops.cast(ops.expand_dims(padding_mask, -1), sequence.dtype)
        return ops.sum(sequence * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)

    def compute_output_shape(self, sequence_shape, padding_mask_shape):
        return (sequence_shape[0], sequence_shape[-1])


@dataclass
class TextModelConfig:
    """The text classifier around an encoder.

    Attributes:
        preset: a KerasHub preset, ``hf://`` handle or local HF checkpoint folder.
        sequence_length: the token window; longer texts are truncated.
        pooling: ``"mean"`` (masked mean of the tokens) or ``"cls"`` (first token).
        embedding_dim: size of the named embedding layer.
        dropout: dropout before the embedding and before the heads.
        emoji_words: replace emoji with their names before tokenising
            (:func:`mepe_utils.data.text_normalize.emoji_to_words`), in training and prediction.
        emoji_feelings: with ``emoji_words``, the emoji whose feeling is conventional become its
            word ("angry") rather than their name ("enraged face").
    """

    preset: str = DISTILBERT_PRESET
    sequence_length: int = 128
    pooling: str = field(default="mean", metadata={"choices": ("mean", "cls")})
    embedding_dim: int = 256
    dropout: float = 0.1
    emoji_words: bool = True
    emoji_feelings: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def load_backbone(preset: str, load_weights: bool = True):
    """Loads a KerasHub backbone from a preset, ``hf://`` handle or local checkpoint folder."""
    import keras_hub

    return keras_hub.models.Backbone.from_preset(preset, load_weights=load_weights)


def load_preprocessor(preset: str, sequence_length: int):
    """Loads the matching ``TextClassifierPreprocessor`` (tokenizer + packing) for ``preset``."""
    import keras_hub

    return keras_hub.models.TextClassifierPreprocessor.from_preset(preset, sequence_length=sequence_length)


def build_text_classifier(backbone, config: TextModelConfig | None = None) -> keras.Model:
    """Puts the pooling, the embedding layer and the two sigmoid heads on ``backbone``.

    Args:
        backbone: a KerasHub text backbone (its inputs name the token tensors).
        config: head settings; ``preset`` is not read here.

    Returns:
        A functional model from the backbone's token inputs to
        ``{"probabilities": (batch, 28), "ekman": (batch, 7)}``.
    """
    config = config or TextModelConfig()
    inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in backbone.input}
    encoded = backbone(inputs)
    sequence = encoded["sequence_output"] if isinstance(encoded, dict) else encoded
    if config.pooling == "mean":
        pooled = MaskedMeanPooling(name=POOLED_LAYER)(sequence, inputs["padding_mask"])
    elif config.pooling == "cls":
        pooled = layers.Identity(name=POOLED_LAYER)(sequence[:, 0, :])
    else:
        raise ValueError(f"pooling must be 'mean' or 'cls', got {config.pooling!r}")
    x = layers.Dropout(config.dropout, name="pool_dropout")(pooled)
    embedding = layers.Dense(config.embedding_dim, activation="tanh", dtype="float32", name=EMBEDDING_LAYER)(x)
    x = layers.Dropout(config.dropout, name="head_dropout")(embedding)
    outputs = {
        PROBABILITIES_OUTPUT: layers.Dense(
            NUM_GOEMOTIONS, activation="sigmoid", dtype="float32", name=PROBABILITIES_OUTPUT
        )(x),
        EKMAN_OUTPUT: layers.Dense(NUM_FER, activation="sigmoid", dtype="float32", name=EKMAN_OUTPUT)(x),
    }
    return keras.Model(inputs, outputs, name="mepe_text_classifier")


def predict_bucketed(
    model, features: dict[str, np.ndarray], batch_size: int = 128, *, forward=None
) -> dict[str, np.ndarray]:
    """Runs a text model over tokenised texts in length-sorted, width-trimmed batches.

    Args:
        model: a model with dict outputs (:func:`build_text_classifier`, or its ``with_embedding`` view).
        features: from :func:`~mepe_utils.data.text_batches.tokenize`.
        batch_size: texts per call.
        forward: a :func:`~mepe_utils.models.common.traced_forward` of ``model``: each batch is then
            trimmed to its longest text (one traced graph serves every width); without it, to the
            bucket width that holds it, and ``model.predict_on_batch`` runs it (a graph per width).

    Returns:
        ``{output name: (N, ...) array}`` in the original row order.
    """
    lengths = features["padding_mask"].sum(axis=1)
    order = np.argsort(lengths, kind="stable")
    widths = np.array(bucket_widths(features["padding_mask"].shape[1]))
    outputs: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        longest = int(lengths[rows].max())
        width = max(longest, 1) if forward is not None else int(widths[np.searchsorted(widths, longest)])
        batch = {name: value[rows, :width] for name, value in features.items()}
        result = forward(batch) if forward is not None else model.predict_on_batch(batch)
        for name, value in result.items():
            outputs.setdefault(name, []).append(np.asarray(value))
    restore = np.argsort(order, kind="stable")
    return {name: np.concatenate(parts)[restore] for name, parts in outputs.items()}


SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def tiny_distilbert(texts, sequence_length: int = 32, max_words: int = 2000):
    """A 2-layer, 32-wide DistilBERT with a word vocabulary from ``texts``, and its preprocessor.

    For smoke runs and CPU demos of the training code: it downloads nothing and
    trains in seconds. It is a real ``DistilBertBackbone``, only small.

    Returns:
        ``(backbone, preprocessor)``.
    """
    import re
    from collections import Counter

    import keras_hub

    words = Counter(w for text in texts for w in re.findall(r"\w+|[^\w\s]", text.lower()))
    vocabulary = SPECIAL_TOKENS + [w for w, _ in words.most_common(max_words)]
    backbone = keras_hub.models.DistilBertBackbone(
        vocabulary_size=len(vocabulary),
        num_layers=2,
        num_heads=2,
        hidden_dim=32,
        intermediate_dim=64,
        max_sequence_length=max(64, sequence_length),
    )
    tokenizer = keras_hub.models.DistilBertTokenizer(vocabulary=vocabulary, lowercase=True)
    return backbone, keras_hub.models.DistilBertTextClassifierPreprocessor(tokenizer, sequence_length=sequence_length)
