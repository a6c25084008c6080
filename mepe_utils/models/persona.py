"""The persona model: small regressors of annotated traits on what the text reader already computed.

The model reads one text's **reading** (the text model's pooled sentence
vector, its embedding and its 28 GoEmotions probabilities, side by side:
:func:`reading_features`) and its **writing style**
(:mod:`mepe_utils.persona.writing_style`: casing and marks, which the uncased
encoder cannot see), and predicts four annotated scores, each on its data
set's own scale:

=============  =========================  ==========================================
output         annotation                 scale
=============  =========================  ==========================================
``valence``    EmoBank (Buechel & Hahn)   1 (unpleasant) .. 5 (pleasant)
``arousal``    EmoBank                    1 (calm) .. 5 (excited)
``dominance``  EmoBank                    1 (controlled) .. 5 (in control)
``formality``  Pavlick & Tetreault 2016   -3 (very informal) .. 3 (very formal)
=============  =========================  ==========================================

Each data set has a branch of its own (the two were annotated on different
texts)::

    [reading; style] -> Normalization (the branch's training statistics)
                     -> members x (Dense(hidden, relu, L2) -> Dropout -> Dense(1) per output)
                     -> Average over the members -> Rescaling back to the annotation's scale

The members are an ensemble: trained side by side, each on its own loss
(:func:`training_view`), averaged at the output. Every layer is a Keras
built-in, so the model saves and loads in safe mode with no custom code, and
:class:`PersonaForward` reads its weights into a NumPy pass that costs tens of
microseconds per text (the persona adds to every ``mepe analyze``).

Example:
    >>> model = build_persona_model(reading_dim=668, style_dim=15, config=PersonaModelConfig(members=2))
    >>> sorted(model.output)
    ['arousal', 'dominance', 'formality', 'valence']
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np
from keras import layers

READING_INPUT, STYLE_INPUT = "reading", "style"
BRANCHES: dict[str, tuple[str, ...]] = {"emobank": ("valence", "arousal", "dominance"), "formality": ("formality",)}
"""Each branch (a data set) and the outputs it predicts, in output order."""
PERSONA_OUTPUTS: tuple[str, ...] = tuple(name for names in BRANCHES.values() for name in names)
SCALES: dict[str, tuple[float, float]] = {
    "valence": (1.0, 5.0),
    "arousal": (1.0, 5.0),
    "dominance": (1.0, 5.0),
    "formality": (-3.0, 3.0),
}
"""Each output's annotation scale (lowest, highest)."""


def reading_features(sentence_vectors: np.ndarray, embeddings: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """The model's ``reading`` input: the sentence vector, the embedding and the 28 probabilities side by side.

    Args:
        sentence_vectors: (N, P) or (P,) the text model's pooled sentence vectors (``pool`` layer).
        embeddings: (N, E) or (E,) its embeddings.
        probabilities: (N, 28) or (28,) its GoEmotions probabilities.

    Returns:
        (N, P + E + 28) float32 (one row for one text).
    """
    parts = [np.atleast_2d(np.asarray(part, np.float32)) for part in (sentence_vectors, embeddings, probabilities)]
    return np.concatenate(parts, axis=1)


@dataclass
class PersonaModelConfig:
    """The persona model's branches.

    Attributes:
        hidden: width of each member's hidden layer.
        dropout: dropout after the hidden layer.
        l2: L2 penalty on the members' kernels (the loss is on standardised targets).
        members: ensemble members per branch, averaged at the output.
    """

    hidden: int = 128
    dropout: float = 0.5
    l2: float = 1e-3
    members: int = 5

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class BranchStatistics:
    """What a branch is normalised with: its training set's input and target statistics.

    Attributes:
        input_mean: (D,) mean of each ``[reading; style]`` column.
        input_variance: (D,) variance of each column.
        target_mean: output name -> mean of its training targets.
        target_std: output name -> standard deviation of its training targets.
    """

    input_mean: np.ndarray
    input_variance: np.ndarray
    target_mean: dict[str, float]
    target_std: dict[str, float]

    @classmethod
    def of(cls, inputs: np.ndarray, targets: dict[str, np.ndarray]) -> BranchStatistics:
        """The statistics of training rows ``inputs`` (N, D) and ``targets`` ({name: (N,)})."""
        return cls(
            inputs.mean(axis=0),
            np.maximum(inputs.var(axis=0), 1e-6),
            {name: float(np.mean(values)) for name, values in targets.items()},
            {name: float(max(np.std(values), 1e-6)) for name, values in targets.items()},
        )

    @classmethod
    def identity(cls, dim: int, outputs: tuple[str, ...]) -> BranchStatistics:
        """No normalisation (for tests and untrained models)."""
        return cls(np.zeros(dim), np.ones(dim), dict.fromkeys(outputs, 0.0), dict.fromkeys(outputs, 1.0))


def _member_output(output: str, member: int) -> str:
    return f"{output}_member{member}"


def build_persona_model(
    reading_dim: int,
    style_dim: int,
    config: PersonaModelConfig | dict[str, PersonaModelConfig] | None = None,
    statistics: dict[str, BranchStatistics] | None = None,
) -> keras.Model:
    """The persona model from ``{"reading", "style"}`` to ``{valence, arousal, dominance, formality}``.

    Args:
        reading_dim: width of a reading (:func:`reading_features`).
        style_dim: number of writing-style features.
        config: the branches' settings: one for all, or ``{branch: config}`` for every branch of :data:`BRANCHES`.
        statistics: branch name -> its training statistics (normalisation of the inputs, and the
            targets' mean and spread the outputs are scaled back with); identity when omitted.

    Returns:
        A functional model with dict inputs ``{"reading", "style"}`` and dict outputs
        ``{name: (batch, 1)}`` for every name of :data:`PERSONA_OUTPUTS`, on the scales of :data:`SCALES`.
    """
    configs = config if isinstance(config, dict) else dict.fromkeys(BRANCHES, config or PersonaModelConfig())
    reading = keras.Input((reading_dim,), name=READING_INPUT)
    style = keras.Input((style_dim,), name=STYLE_INPUT)
    joined = layers.Concatenate(name="joined")([reading, style])
    outputs = {}
    for branch, names in BRANCHES.items():
        config = configs[branch]
        stats = (statistics or {}).get(branch) or BranchStatistics.identity(reading_dim + style_dim, names)
        x = layers.Normalization(
            mean=np.asarray(stats.input_mean, np.float32),
            variance=np.asarray(stats.input_variance, np.float32),
            name=f"{branch}_normalization",
        )(joined)
        members: dict[str, list] = {name: [] for name in names}
        for member in range(config.members):
            penalty = keras.regularizers.L2(config.l2) if config.l2 else None
            h = layers.Dense(
                config.hidden, activation="relu", kernel_regularizer=penalty, name=f"{branch}_hidden{member}"
            )(x)
            h = layers.Dropout(config.dropout, name=f"{branch}_dropout{member}")(h)
            for name in names:
                members[name].append(layers.Dense(1, kernel_regularizer=penalty, name=_member_output(name, member))(h))
        for name in names:
            mean = members[name][0] if config.members == 1 else layers.Average(name=f"{name}_mean")(members[name])
            outputs[name] = layers.Rescaling(
                scale=float(stats.target_std[name]), offset=float(stats.target_mean[name]), name=name
            )(mean)
    return keras.Model({READING_INPUT: reading, STYLE_INPUT: style}, outputs, name="mepe_persona")


def training_view(model: keras.Model, members: int, outputs: tuple[str, ...] = PERSONA_OUTPUTS) -> keras.Model:
    """The persona model with every member's standardised output as an output of its own.

    Fitting this view trains each member on its own loss (an ensemble, not one wide network);
    targets are standardised with the branch statistics the model was built with.

    Args:
        model: a model of :func:`build_persona_model`.
        members: its members per branch.
        outputs: the outputs to train (one branch's, to train that branch alone).

    Returns:
        A model sharing ``model``'s layers, with outputs ``{"<name>_member<i>": (batch, 1)}``.
    """
    outputs = {
        _member_output(name, member): model.get_layer(_member_output(name, member)).output
        for name in outputs
        for member in range(members)
    }
    return keras.Model(model.input, outputs, name="mepe_persona_training")


def member_targets(targets: dict[str, np.ndarray], statistics: BranchStatistics, members: int) -> dict:
    """Standardised targets for :func:`training_view`: ``{"<name>_member<i>": (N, 1)}`` for the given outputs."""
    return {
        _member_output(name, member): ((values - statistics.target_mean[name]) / statistics.target_std[name])[:, None]
        for name, values in targets.items()
        for member in range(members)
    }


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


class PersonaForward:
    """The persona model's inference pass in NumPy, from the weights of a model of :func:`build_persona_model`.

    One text costs a few small matrix products (tens of microseconds), where a Keras call
    costs milliseconds of dispatch; ``tests/test_persona_model.py`` checks that both agree.

    Args:
        model: a persona model (loaded or built).
    """

    def __init__(self, model: keras.Model):
        self.branches = []
        for branch, names in BRANCHES.items():
            norm = model.get_layer(f"{branch}_normalization")
            mean, variance = (np.asarray(v, np.float32).reshape(-1) for v in (norm.mean, norm.variance))
            members = []
            member = 0
            while _has_layer(model, f"{branch}_hidden{member}"):
                hidden = model.get_layer(f"{branch}_hidden{member}").get_weights()
                heads = [model.get_layer(_member_output(name, member)).get_weights() for name in names]
                out_kernel = np.concatenate([k for k, _ in heads], axis=1)
                out_bias = np.concatenate([b for _, b in heads])
                members.append((hidden[0], hidden[1], out_kernel, out_bias))
                member += 1
            rescale = [model.get_layer(name) for name in names]
            scale = np.array([float(layer.scale) for layer in rescale], np.float32)
            offset = np.array([float(layer.offset) for layer in rescale], np.float32)
            self.branches.append(
                (names, mean, np.maximum(np.sqrt(variance), keras.config.epsilon()), members, scale, offset)
            )

    def __call__(self, reading: np.ndarray, style: np.ndarray) -> dict[str, np.ndarray]:
        """``{output name: (N,)}`` for readings (N, D) and styles (N, S) (one row each for one text)."""
        x = np.concatenate([np.atleast_2d(reading), np.atleast_2d(style)], axis=1).astype(np.float32)
        result = {}
        for names, mean, std, members, scale, offset in self.branches:
            z = (x - mean) / std
            mean_out = np.mean([_relu(z @ k1 + b1) @ k2 + b2 for k1, b1, k2, b2 in members], axis=0)
            values = mean_out * scale + offset
            result.update({name: values[:, column] for column, name in enumerate(names)})
        return result


def _has_layer(model: keras.Model, name: str) -> bool:
    try:
        model.get_layer(name)
    except ValueError:
        return False
    return True
