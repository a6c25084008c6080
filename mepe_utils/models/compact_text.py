"""The compact offline text-emotion model shipped in ``assets/models/text``.

A TF-IDF bag of words and word pairs (Keras ``TextVectorization``, vocabulary
learned from GoEmotions train) feeding a small MLP. It takes raw strings, needs
no tokenizer download, fits in a few MB and answers a single text in about a
millisecond on a CPU. Outputs match the encoder classifier's:
``{"probabilities": (batch, 28), "ekman": (batch, 7)}`` and a layer named ``embedding``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
from keras import layers

from mepe_utils.labels import NUM_FER, NUM_GOEMOTIONS
from mepe_utils.models.common import EMBEDDING_LAYER, PROBABILITIES_OUTPUT
from mepe_utils.models.text import EKMAN_OUTPUT

TEXT_INPUT = "text"


@dataclass
class CompactTextConfig:
    """Architecture of the compact text model.

    Attributes:
        max_tokens: TF-IDF vocabulary size (unigrams and bigrams, by frequency).
        ngrams: longest word n-gram.
        embedding_dim: size of the named embedding layer.
        dropout: dropout on the TF-IDF vector and before the heads.
    """

    max_tokens: int = 16384
    ngrams: int = 2
    embedding_dim: int = 96
    dropout: float = 0.3

    @classmethod
    def tiny(cls) -> CompactTextConfig:
        return cls(max_tokens=64, embedding_dim=8, dropout=0.1)

    def to_dict(self) -> dict:
        return asdict(self)


def build_vectorizer(texts, config: CompactTextConfig) -> layers.TextVectorization:
    """A TF-IDF ``TextVectorization`` layer adapted (vocabulary + IDF) on ``texts``."""
    import numpy as np

    vectorizer = layers.TextVectorization(
        max_tokens=config.max_tokens, ngrams=config.ngrams, output_mode="tf_idf", name="tfidf"
    )
    vectorizer.adapt(np.array(list(texts), dtype=object), batch_size=4096)
    return vectorizer


def build_compact_text_model(vectorizer: layers.TextVectorization, config: CompactTextConfig) -> keras.Model:
    """String input (batch, 1) -> TF-IDF -> ReLU embedding -> 28 and 7 sigmoid heads."""
    inputs = keras.Input(shape=(1,), dtype="string", name=TEXT_INPUT)
    x = layers.Dropout(config.dropout, name="tfidf_dropout")(vectorizer(inputs))
    embedding = layers.Dense(config.embedding_dim, activation="relu", name=EMBEDDING_LAYER)(x)
    x = layers.Dropout(config.dropout, name="head_dropout")(embedding)
    outputs = {
        PROBABILITIES_OUTPUT: layers.Dense(NUM_GOEMOTIONS, activation="sigmoid", name=PROBABILITIES_OUTPUT)(x),
        EKMAN_OUTPUT: layers.Dense(NUM_FER, activation="sigmoid", name=EKMAN_OUTPUT)(x),
    }
    return keras.Model(inputs, outputs, name="mepe_compact_text")
