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


def traced_forward(model: keras.Model):
    """``model`` as one traced function of its inputs at any batch size, or None off TensorFlow.

    ``predict_on_batch`` traces a new graph for every new input shape (a photo with a new
    number of faces, a batch of texts of a new width) and warns when it keeps doing so.
    This is a ``tf.function`` whose signature is the model's own input shapes, the batch
    (and any width a text model leaves open) as None: traced once, it serves every shape.

    Args:
        model: a functional model (a tensor, list or dict of inputs; dict or tensor outputs).

    Returns:
        ``forward(inputs) -> outputs`` taking and giving NumPy arrays in the model's structures,
        or None when Keras runs on another backend (call ``predict_on_batch`` there).
    """
    from mepe_utils.runtime import keras_backend

    if keras_backend() != "tensorflow":
        return None
    import keras
    import tensorflow as tf

    flat_inputs = model.inputs  # the flattened order of ``model.input``
    specs = [tf.TensorSpec(x.shape, x.dtype, name=x.name) for x in flat_inputs]

    def call(*tensors):
        return model(keras.tree.pack_sequence_as(model.input, list(tensors)), training=False)

    graph = tf.function(call, input_signature=specs)

    def forward(inputs):
        if isinstance(inputs, dict):  # by input name; a text model's features may hold more than it reads
            values = [inputs[x.name] for x in flat_inputs]
        else:
            values = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        tensors = [tf.constant(value, spec.dtype) for spec, value in zip(specs, values, strict=True)]
        if graph.experimental_get_tracing_count():
            outputs = graph(*tensors)
        else:  # this model's one trace: TensorFlow counts traces of every model's ``call`` and calls it retracing
            logger = tf.get_logger()
            level = logger.level
            logger.setLevel("ERROR")
            try:
                outputs = graph(*tensors)
            finally:
                logger.setLevel(level)
        return keras.tree.map_structure(lambda value: value.numpy(), outputs)

    forward.tracing_count = graph.experimental_get_tracing_count  # 1 however many shapes it has served
    return forward


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
