"""The fusion model: a gated multimodal unit (GMU) over the text and face readings.

Arevalo et al. (2017), "Gated Multimodal Units for Information Fusion"::

    h_t = tanh(W_t x_t)            the text's view
    h_f = tanh(W_f x_f)            the face's view
    z   = sigmoid(W_z [x_t; x_f])  a gate per unit: how much of the text to take
    h   = z * h_t + (1 - z) * h_f  the fused vector: MEPE's persona embedding

Each input ``x`` is an encoder's embedding with its 7 class probabilities
appended. A third input, ``presence`` (batch, 2) = [text present, face
present], says which signals exist: an absent input is zeroed and the gate is
forced to take all of the other (z = 1 with the face missing, z = 0 with the
text missing), so the model answers from one signal without a special code
path, and training with modality dropout teaches its head to do so.

The class head divides its logits by a temperature chosen by which signals
are present (both, text only, face only). Training leaves the temperatures at
1; they are fitted afterwards on validation pairs (Guo et al. 2017), because
the encoders' readings of their own training data are more confident than
their readings of anything else, and a head trained on them learns that
overconfidence. The temperatures change how sure the model is, never its
answer.

The model's outputs::

    {"probabilities": (batch, 7) softmax, FER order,
     "gate":          (batch, units) z, the per-unit weight of the text,
     "persona_embedding": (batch, units) h}
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field

import keras
import numpy as np
from keras import layers, ops

from mepe_utils.labels import NUM_FER
from mepe_utils.models.common import PROBABILITIES_OUTPUT

PERSONA_EMBEDDING = "persona_embedding"
"""The fused vector's layer and output name: the persona embedding phase 5 reads."""
GATE_OUTPUT = "gate"
TEXT_INPUT, FACE_INPUT, PRESENCE_INPUT = "text", "face", "presence"
TEMPERATURE_LAYER = "temperature"
LOGITS_LAYER = "logits"
"""The class head's logits, before the temperature."""
PRESENCE_PATTERNS = {"both": (1, 1), "text_only": (1, 0), "face_only": (0, 1)}
"""The presence patterns [text, face] a model meets, in the order of :class:`PresenceTemperature`'s temperatures."""
PREDICT_BATCH = 1024
TEMPERATURE_RANGE = (1 / 16, 16.0)
"""The temperatures :func:`fit_temperatures` searches."""


@keras.saving.register_keras_serializable(package="mepe")
class GatedMultimodalUnit(layers.Layer):
    """The GMU over two inputs with a presence mask; returns ``(h, z)``.

    Args:
        units: width of ``h`` and ``z``.

    Call arguments:
        text: (batch, d_t) text features.
        face: (batch, d_f) face features.
        presence: (batch, 2) 1/0 for [text present, face present]; at least one present per row.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, text_shape, face_shape, presence_shape):
        d_t, d_f = text_shape[-1], face_shape[-1]
        self.text_kernel = self.add_weight(name="text_kernel", shape=(d_t, self.units), initializer="glorot_uniform")
        self.text_bias = self.add_weight(name="text_bias", shape=(self.units,), initializer="zeros")
        self.face_kernel = self.add_weight(name="face_kernel", shape=(d_f, self.units), initializer="glorot_uniform")
        self.face_bias = self.add_weight(name="face_bias", shape=(self.units,), initializer="zeros")
        self.gate_kernel = self.add_weight(
            name="gate_kernel", shape=(d_t + d_f, self.units), initializer="glorot_uniform"
        )
        self.gate_bias = self.add_weight(name="gate_bias", shape=(self.units,), initializer="zeros")

    def call(self, text, face, presence):
        presence = ops.cast(presence, text.dtype)
        text_present, face_present = presence[:, 0:1], presence[:, 1:2]
        text = text * text_present
        face = face * face_present
        h_text = ops.tanh(ops.matmul(text, self.text_kernel) + self.text_bias)
        h_face = ops.tanh(ops.matmul(face, self.face_kernel) + self.face_bias)
        learned = ops.sigmoid(ops.matmul(ops.concatenate([text, face], axis=-1), self.gate_kernel) + self.gate_bias)
        gate = learned * text_present * face_present + text_present * (1.0 - face_present)
        return gate * h_text + (1.0 - gate) * h_face, gate

    def compute_output_shape(self, text_shape, face_shape, presence_shape):
        return (text_shape[0], self.units), (text_shape[0], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="mepe")
class PresenceTemperature(layers.Layer):
    """Divides class logits by one temperature per presence pattern (:data:`PRESENCE_PATTERNS`).

    The temperatures are stored as logarithms in a non-trainable weight (zeros:
    every temperature 1) and set by calibration after training.

    Call arguments:
        logits: (batch, classes).
        presence: (batch, 2) 1/0 for [text present, face present].
    """

    def build(self, logits_shape, presence_shape):
        self.log_temperatures = self.add_weight(
            name="log_temperatures", shape=(len(PRESENCE_PATTERNS),), initializer="zeros", trainable=False
        )

    def call(self, logits, presence):
        presence = ops.cast(presence, logits.dtype)
        text, face = presence[:, 0:1], presence[:, 1:2]
        # one-hot of the row's pattern, in the order of PRESENCE_PATTERNS
        pattern = ops.concatenate(
            [(text if t else 1.0 - text) * (face if f else 1.0 - face) for t, f in PRESENCE_PATTERNS.values()], axis=-1
        )
        log_temperature = ops.sum(pattern * ops.cast(self.log_temperatures, logits.dtype), axis=-1, keepdims=True)
        return logits / ops.exp(log_temperature)

    def compute_output_shape(self, logits_shape, presence_shape):
        return logits_shape


@dataclass
class FusionConfig:
    """The fusion model.

    Attributes:
        units: width of the GMU (the persona embedding).
        dropout: dropout on the persona embedding before the class head.
        kind: ``"gmu"``, or ``"concat"`` for the baseline: an MLP on the concatenated
            inputs (absent ones zeroed) with the same width and head.
    """

    units: int = 64
    dropout: float = 0.2
    kind: str = field(default="gmu", metadata={"choices": ("gmu", "concat")})

    def to_dict(self) -> dict:
        return asdict(self)


def build_fusion_model(text_dim: int, face_dim: int, config: FusionConfig | None = None) -> keras.Model:
    """The fusion model from (text features, face features, presence) to class probabilities.

    Args:
        text_dim: the text features' width (embedding + 7 probabilities).
        face_dim: the face features' width.
        config: the model's settings.

    Returns:
        A functional model with dict inputs ``{"text", "face", "presence"}`` and dict
        outputs ``{"probabilities", "persona_embedding"[, "gate"]}`` (no gate for ``concat``).
    """
    config = config or FusionConfig()
    text = keras.Input((text_dim,), name=TEXT_INPUT)
    face = keras.Input((face_dim,), name=FACE_INPUT)
    presence = keras.Input((2,), name=PRESENCE_INPUT)
    outputs = {}
    if config.kind == "gmu":
        fused, gate = GatedMultimodalUnit(config.units, name="gmu")(text, face, presence)
        outputs[GATE_OUTPUT] = layers.Identity(name=GATE_OUTPUT)(gate)
    elif config.kind == "concat":
        masked_text = layers.Multiply(name="text_present")([text, presence[:, 0:1]])
        masked_face = layers.Multiply(name="face_present")([face, presence[:, 1:2]])
        joined = layers.Concatenate(name="joined")([masked_text, masked_face, presence])
        fused = layers.Dense(config.units, activation="tanh", name="fused")(joined)
    else:
        raise ValueError(f"kind must be 'gmu' or 'concat', got {config.kind!r}")
    persona = layers.Identity(name=PERSONA_EMBEDDING)(fused)
    x = layers.Dropout(config.dropout, name="head_dropout")(persona)
    # the head stays float32 under a mixed-precision policy (probabilities, temperatures, loss)
    logits = layers.Dense(NUM_FER, dtype="float32", name=LOGITS_LAYER)(x)
    logits = PresenceTemperature(dtype="float32", name=TEMPERATURE_LAYER)(logits, presence)
    outputs[PROBABILITIES_OUTPUT] = layers.Softmax(dtype="float32", name=PROBABILITIES_OUTPUT)(logits)
    outputs[PERSONA_EMBEDDING] = persona
    return keras.Model({TEXT_INPUT: text, FACE_INPUT: face, PRESENCE_INPUT: presence}, outputs, name="mepe_fusion")


def predict_fusion(model, inputs: dict[str, np.ndarray], batch: int = PREDICT_BATCH) -> dict[str, np.ndarray]:
    """A fusion model's outputs over many rows, ``batch`` rows per call (``predict_on_batch``, no tracing per call)."""
    parts = [
        model.predict_on_batch({k: v[i : i + batch] for k, v in inputs.items()})
        for i in range(0, len(inputs[TEXT_INPUT]), batch)
    ]
    return {name: np.concatenate([np.asarray(p[name]) for p in parts]) for name in parts[0]}


def fit_temperatures(model, inputs: dict[str, np.ndarray], classes: np.ndarray) -> dict[str, float]:
    """Fits the model's temperature for each presence pattern on labelled pairs, and sets them.

    Every pair is scored once per pattern (the absent signal zeroed); each
    temperature minimises the negative log-likelihood of ``classes`` over a
    log-spaced grid from :data:`TEMPERATURE_RANGE`, on the head's raw logits.

    Args:
        model: a model from :func:`build_fusion_model`.
        inputs: ``{"text", "face", "presence"}`` of validation pairs (their presence is replaced).
        classes: (N,) true class ids.

    Returns:
        ``{pattern: temperature}``.

    Warns:
        UserWarning: a best temperature sits on the grid's edge (kept there): the model is far
            more, or less, confident than the range allows (a model barely trained, say).
    """
    import keras

    logits_model = keras.Model(model.inputs, {LOGITS_LAYER: model.get_layer(LOGITS_LAYER).output})
    grid = np.linspace(np.log(TEMPERATURE_RANGE[0]), np.log(TEMPERATURE_RANGE[1]), 321)
    fitted = []
    for name, pattern in PRESENCE_PATTERNS.items():
        presence = np.tile(np.asarray(pattern, np.float32), (len(classes), 1))
        logits = predict_fusion(logits_model, {**inputs, PRESENCE_INPUT: presence})[LOGITS_LAYER]
        losses = [_negative_log_likelihood(logits / np.exp(log_t), classes) for log_t in grid]
        best = int(np.argmin(losses))
        if best in (0, len(grid) - 1):
            warnings.warn(
                f"the {name} temperature sits on the edge of {TEMPERATURE_RANGE} "
                "(the model is far more, or less, sure than its answers deserve): check the model",
                stacklevel=2,
            )
        fitted.append(grid[best])
    model.get_layer(TEMPERATURE_LAYER).log_temperatures.assign(np.asarray(fitted, np.float32))
    return {name: float(np.exp(log_t)) for name, log_t in zip(PRESENCE_PATTERNS, fitted)}


def _negative_log_likelihood(logits: np.ndarray, classes: np.ndarray) -> float:
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_softmax[np.arange(len(classes)), classes].mean())
