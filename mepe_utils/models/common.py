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


def traced_forward(model: keras.Model, eager_calls: int = 1):
    """``model`` as one traced function of its inputs at any batch size, or None off TensorFlow.

    ``predict_on_batch`` traces a new graph for every new input shape (a photo with a new
    number of faces, a batch of texts of a new width) and warns when it keeps doing so.
    This is a ``tf.function`` whose signature is the model's own input shapes, the batch
    (and any width a text model leaves open) as None: traced once, it serves every shape.

    The first ``eager_calls`` calls run the model eagerly and the trace waits for the next
    one: a one-shot command (``mepe predict-text "..."``, ``mepe analyze``) answers without
    paying for a trace it would use once (about 1 s for MiniLM, where an eager answer costs
    0.15-0.3 s).

    Args:
        model: a functional model (a tensor, list or dict of inputs; dict or tensor outputs).
        eager_calls: calls answered eagerly before the trace.

    Returns:
        ``forward(inputs) -> outputs`` taking and giving NumPy arrays in the model's structures,
        or None when Keras runs on another backend (call ``predict_on_batch`` there).
    """
    from mepe_utils.runtime import keras_backend

    return _TracedForward(model, eager_calls) if keras_backend() == "tensorflow" else None


class _TracedForward:
    """The callable :func:`traced_forward` returns (TensorFlow backend only)."""

    def __init__(self, model: keras.Model, eager_calls: int):
        import tensorflow as tf

        self.model = model
        self.eager_calls = eager_calls
        self.inputs = model.inputs  # the flattened order of ``model.input``
        self.specs = [tf.TensorSpec(x.shape, x.dtype, name=x.name) for x in self.inputs]
        self.graph = tf.function(self._call, input_signature=self.specs)
        self.calls = 0

    def _call(self, *tensors):
        import keras

        return self.model(keras.tree.pack_sequence_as(self.model.input, list(tensors)), training=False)

    def tracing_count(self) -> int:
        """Traces made so far: 1 however many shapes it has served (0 while it answers eagerly)."""
        return self.graph.experimental_get_tracing_count()

    def __call__(self, inputs):
        import keras
        import tensorflow as tf

        if isinstance(inputs, dict):  # by input name; a text model's features may hold more than it reads
            values = [inputs[x.name] for x in self.inputs]
        else:
            values = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        tensors = [tf.constant(value, spec.dtype) for spec, value in zip(self.specs, values, strict=True)]
        self.calls += 1
        if self.calls <= self.eager_calls:
            outputs = self._call(*tensors)
        elif self.tracing_count():
            outputs = self.graph(*tensors)
        else:  # this model's one trace: TensorFlow counts traces of every model's ``call`` and calls it retracing
            logger = tf.get_logger()
            level = logger.level
            logger.setLevel("ERROR")
            try:
                outputs = self.graph(*tensors)
            finally:
                logger.setLevel(level)
        return keras.tree.map_structure(lambda value: value.numpy(), outputs)


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
