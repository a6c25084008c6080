"""Pieces shared by the model builders."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

EMBEDDING_LAYER = "embedding"
"""The named layer whose output is a model's embedding (the vector fusion reads)."""
PROBABILITIES_OUTPUT = "probabilities"
"""The output holding a model's label probabilities, in its manifest's label order."""
EKMAN_OUTPUT = "ekman"
"""A text model's second output: the 7 Ekman classes in FER order."""


def with_embedding(model: keras.Model, layer: str = EMBEDDING_LAYER) -> keras.Model:
    """A view of ``model`` that also outputs its named embedding layer.

    Args:
        model: a functional model with one output (the probabilities) or a dict of outputs.
        layer: the embedding layer's name.

    Returns:
        A model with dict outputs: the original ones (a single output is named
        ``probabilities``) plus ``embedding``.
    """
    import keras

    single = not isinstance(model.output, dict)
    outputs = {PROBABILITIES_OUTPUT: model.outputs[0]} if single else dict(model.output)
    outputs[EMBEDDING_LAYER] = model.get_layer(layer).output
    return keras.Model(model.inputs, outputs, name=f"{model.name}_with_embedding")


def embedding_signature(model: keras.Model, layer: str = EMBEDDING_LAYER) -> dict:
    """``{"layer", "width"[, "activation"]}`` of the model's named embedding layer, or ``{}`` without one."""
    try:
        found = model.get_layer(layer)
    except ValueError:
        return {}
    signature = {"layer": layer, "width": int(found.output.shape[-1])}
    activation = getattr(found, "activation", None)
    if activation is not None:
        signature["activation"] = getattr(activation, "__name__", str(activation))
    return signature
