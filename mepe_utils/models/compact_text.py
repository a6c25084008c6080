"""The compact offline text-emotion model shipped in ``assets/models/text``.

A TF-IDF bag of words and word pairs (Keras ``TextVectorization``, vocabulary
and IDF learned from GoEmotions train) feeding logistic regressions and a small
embedding. It takes raw strings, needs no tokenizer download, fits in a few MB
and answers a single text in about a millisecond on a CPU. Outputs match the encoder classifier's:
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
        max_tokens: TF-IDF vocabulary size, out-of-vocabulary slot included (words and
            word pairs, by frequency).
        ngrams: longest word n-gram.
        embedding_dim: size of the named embedding layer.
        input_dropout: dropout on the (L2-normalised) TF-IDF vector.
        dropout: dropout before the heads.
        l2: L2 penalty on the TF-IDF -> embedding weights.
    """

    max_tokens: int = 32768
    ngrams: int = 2
    embedding_dim: int = 24
    input_dropout: float = 0.3
    dropout: float = 0.3
    l2: float = 1e-6

    @classmethod
    def tiny(cls) -> CompactTextConfig:
        return cls(max_tokens=64, embedding_dim=8, input_dropout=0.1, dropout=0.1)

    def to_dict(self) -> dict:
        return asdict(self)


STRIP_PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
"""What ``TextVectorization(standardize="lower_and_strip_punctuation")`` removes (Keras 3)."""


def standardize(text: str) -> str:
    """The vectorizer's own text standardization, in Python: lower case, punctuation removed."""
    import re

    return re.sub(STRIP_PUNCTUATION, "", text.lower())


def build_vectorizer(texts, config: CompactTextConfig) -> layers.TextVectorization:
    """A TF-IDF ``TextVectorization`` layer with scikit-learn's vocabulary and IDF for ``texts``.

    The terms are the ``max_tokens - 1`` most frequent words and word pairs (slot 0
    is out-of-vocabulary), tokenised exactly as the layer tokenises; the weights
    are scikit-learn's smoothed IDF, ``ln((1 + n) / (1 + df)) + 1`` (Keras' own
    ``adapt`` uses ``ln(1 + n / (1 + df))``). With the out-of-vocabulary slot
    left out (:func:`build_compact_text_model`) the model computes scikit-learn's
    L2-normalised TF-IDF exactly (tested); the benchmark's TF-IDF baseline differs
    only in its tokenisation, sublinear term counts and vocabulary size.
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    fitted = TfidfVectorizer(
        preprocessor=standardize,
        token_pattern=r"\S+",
        ngram_range=(1, config.ngrams),
        max_features=config.max_tokens - 1,
        dtype=np.float32,
    ).fit(list(texts))
    terms = fitted.get_feature_names_out()
    return layers.TextVectorization(
        ngrams=config.ngrams,
        output_mode="tf_idf",
        vocabulary=list(terms),
        idf_weights=fitted.idf_.astype("float32"),
        name="tfidf",
    )


def _wide_and_deep_head(tfidf, hidden, units: int, name: str):
    """Sigmoid over (linear in TF-IDF) + (linear in the embedding): logistic regression plus a deep part."""
    wide = layers.Dense(units, name=f"{name}_wide")(tfidf)
    deep = layers.Dense(units, use_bias=False, name=f"{name}_deep")(hidden)
    return layers.Activation("sigmoid", dtype="float32", name=name)(layers.Add(name=f"{name}_logits")([wide, deep]))


def build_compact_text_model(vectorizer: layers.TextVectorization, config: CompactTextConfig) -> keras.Model:
    """String input (batch, 1) -> TF-IDF -> L2 normalisation -> wide-and-deep 28 and 7 sigmoid heads.

    The "wide" part is a logistic regression on the TF-IDF vector (strong on rare
    labels); the "deep" part goes through the named ReLU embedding used for fusion.
    """
    inputs = keras.Input(shape=(1,), dtype="string", name=TEXT_INPUT)
    # Slot 0 counts out-of-vocabulary words at the mean IDF; left out, as scikit-learn does, or a text
    # with a few rare words would have its known words shrunk by the L2 normalisation.
    in_vocabulary = vectorizer(inputs)[..., 1:]
    tfidf = layers.UnitNormalization(name="l2_normalize")(in_vocabulary)
    x = layers.Dropout(config.input_dropout, name="tfidf_dropout")(tfidf)
    embedding = layers.Dense(
        config.embedding_dim,
        activation="relu",
        kernel_regularizer=keras.regularizers.L2(config.l2) if config.l2 else None,
        name=EMBEDDING_LAYER,
    )(x)
    hidden = layers.Dropout(config.dropout, name="head_dropout")(embedding)
    outputs = {
        PROBABILITIES_OUTPUT: _wide_and_deep_head(x, hidden, NUM_GOEMOTIONS, PROBABILITIES_OUTPUT),
        EKMAN_OUTPUT: _wide_and_deep_head(x, hidden, NUM_FER, EKMAN_OUTPUT),
    }
    return keras.Model(inputs, outputs, name="mepe_compact_text")
