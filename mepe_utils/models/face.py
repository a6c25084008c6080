"""The FER face-emotion CNN: residual VGG-style stages for 48x48 gray faces.

Input: float32 gray pixels in 0..255, shape (48, 48, 1). Output: the 7 FER
probabilities (softmax, float32). The layer named ``embedding`` is the dense
face embedding the fusion phase reads; ``mepe_utils.models.common.with_embedding`` exposes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
from keras import layers

from mepe_utils.data.fer2013 import FACE_SIZE
from mepe_utils.labels import NUM_FER
from mepe_utils.models.common import EMBEDDING_LAYER, PROBABILITIES_OUTPUT

BN_MOMENTUM = 0.9
"""Faster than Keras' 0.99 default: with AdamW at this learning rate the pre-BN statistics drift
quickly and 0.99 moving averages lagged so far behind that inference collapsed to one class
(PublicTest 0.19 at epoch 2, 0.42 once the statistics were re-estimated)."""


@dataclass
class FaceModelConfig:
    """Architecture of the face CNN.

    Attributes:
        widths: channels of each stage; each stage halves the resolution.
        convs_per_stage: 3x3 convolutions per stage (with a residual shortcut).
        embedding_dim: size of the named embedding layer.
        dropout: dropout between the embedding and the classifier. Only there:
            dropout in front of a BatchNormalization shifts its variance between
            training and inference.
        image_size: input side in pixels.
    """

    widths: tuple[int, ...] = (32, 64, 128, 256)
    convs_per_stage: int = 2
    embedding_dim: int = 256
    dropout: float = 0.4
    image_size: int = FACE_SIZE

    @classmethod
    def tiny(cls) -> FaceModelConfig:
        """A few-thousand-parameter model for tests and smoke runs."""
        return cls(widths=(4, 8), convs_per_stage=1, embedding_dim=8, dropout=0.1)

    def to_dict(self) -> dict:
        return {**asdict(self), "widths": list(self.widths)}


def _conv_bn_relu(x, filters: int, name: str):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _stage(x, filters: int, convs: int, index: int):
    shortcut = layers.Conv2D(filters, 1, use_bias=False, name=f"stage{index}_shortcut")(x)
    shortcut = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"stage{index}_shortcut_bn")(shortcut)
    for conv in range(convs):
        x = _conv_bn_relu(x, filters, f"stage{index}_{conv}")
    x = layers.Add(name=f"stage{index}_add")([x, shortcut])
    return layers.MaxPooling2D(name=f"stage{index}_pool")(x)


def build_face_model(config: FaceModelConfig | None = None) -> keras.Model:
    """Builds the face CNN as a functional Keras model.

    Args:
        config: architecture; the default is the shipped model's.

    Returns:
        A model mapping (batch, 48, 48, 1) pixels in 0..255 to (batch, 7)
        probabilities, with a layer named ``embedding``.
    """
    config = config or FaceModelConfig()
    inputs = keras.Input((config.image_size, config.image_size, 1), name="face")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale")(inputs)
    for index, filters in enumerate(config.widths):
        x = _stage(x, filters, config.convs_per_stage, index)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dense(config.embedding_dim, use_bias=False, name="embedding_dense")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="embedding_bn")(x)
    embedding = layers.ReLU(name=EMBEDDING_LAYER, dtype="float32")(x)
    x = layers.Dropout(config.dropout, name="classifier_dropout")(embedding)
    probabilities = layers.Dense(NUM_FER, activation="softmax", dtype="float32", name=PROBABILITIES_OUTPUT)(x)
    return keras.Model(inputs, probabilities, name="mepe_face_cnn")
