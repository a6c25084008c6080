"""Pieces shared by the model builders."""

from __future__ import annotations

import keras

EMBEDDING_LAYER = "embedding"
PROBABILITIES_OUTPUT = "probabilities"


def with_embedding(model: keras.Model, layer: str = EMBEDDING_LAYER) -> keras.Model:
    """A view of ``model`` that also outputs its named embedding layer.

    Args:
        model: a functional model with one output (the probabilities) or a dict of outputs.
        layer: the embedding layer's name.

    Returns:
        A model with dict outputs: the original ones (a single output is named
        ``probabilities``) plus ``embedding``.
    """
    single = not isinstance(model.output, dict)
    outputs = {PROBABILITIES_OUTPUT: model.outputs[0]} if single else dict(model.output)
    outputs[EMBEDDING_LAYER] = model.get_layer(layer).output
    return keras.Model(model.inputs, outputs, name=f"{model.name}_with_embedding")
