"""Decoding that does not collapse: greedy or seeded top-p sampling, with repetition kept out.

Sampling is nucleus (top-p) sampling among the ``top_k`` most likely tokens, drawn by the
Gumbel-max trick from :func:`hashed_uniform` noise: a counter-based hash of (seed, step, row key,
token) in integer arithmetic. The same seed gives the same reply whether the loop runs eagerly,
traced or compiled by XLA (TensorFlow's own stateless generators give XLA-compiled code other
numbers than the CPU kernels when the seed is a variable), so a reply can be written again.
Each row's key is a hash of its prompt (:func:`row_keys`), so a reply depends on its prompt and
seed only, not on which other prompts share its batch, and two messages never share their noise.

A small T5 decoded greedily repeats itself ("I am sorry to hear that. I am sorry
to hear that ...") and falls into a few templates. :class:`GuardedSampler` wraps
a KerasHub sampler and changes each step's logits before it picks:

- **no repeated n-grams**: a token that would complete an n-gram (``no_repeat_ngram``,
  default 3) already in the reply is ruled out;
- **repetition penalty** (Keskar et al. 2019, CTRL): the logit of every token already
  in the reply is divided by ``repetition_penalty`` when positive, multiplied when negative.

Both run inside KerasHub's compiled generation loop (``T5Seq2SeqLM.generate``), on the
whole batch, in a few tensor operations per step.

Example:
    >>> lm.compile(sampler=GuardedSampler(DecodingConfig(method="top_p", seed=7)))
    >>> lm.generate(["empathy=high style=calm ... | dialogue: seeker: I failed my exam."])
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import keras
import keras_hub
import numpy as np
from keras import ops, random

from mepe_utils.errors import MepeError

DECODING_METHODS = ("greedy", "top_p")
ROWS_PER_BATCH = 64
"""Replies decoded in one batch (:meth:`~mepe_utils.generation.t5.T5Generator.complete`)."""


@dataclass(frozen=True)
class DecodingConfig:
    """How replies are decoded.

    Attributes:
        method: ``greedy`` (deterministic) or ``top_p`` (nucleus sampling, seeded).
        top_p: the nucleus's probability mass (``top_p`` only).
        top_k: the nucleus is looked for among the ``top_k`` most likely tokens (``top_p`` only):
            sorting only these instead of the whole vocabulary halves a compiled decoding step.
        temperature: the softmax temperature (``top_p`` only).
        seed: the sampler's seed (``top_p`` only).
        no_repeat_ngram: n-grams that may not repeat within a reply (0: no rule).
        repetition_penalty: divisor of repeated tokens' logits (1: none).
        max_new_tokens: the reply's longest length in tokens.
        candidates: replies sampled for each answer; the one whose measured controls come
            closest to the requested ones is kept (``top_p`` only; greedy writes one reply).
    """

    method: str = "greedy"
    top_p: float = 0.9
    top_k: int = 64
    temperature: float = 0.8
    seed: int = 0
    no_repeat_ngram: int = 3
    repetition_penalty: float = 1.2
    max_new_tokens: int = 40
    candidates: int = 1

    def __post_init__(self):
        if self.method not in DECODING_METHODS:
            raise ValueError(f"decoding method {self.method!r} is not one of {DECODING_METHODS}")
        if self.candidates < 1 or (self.method == "greedy" and self.candidates > 1):
            raise ValueError(
                f"candidates must be 1 for greedy decoding and at least 1 for top_p, got {self.candidates}"
            )


REPLY_DECODING = DecodingConfig(method="top_p", candidates=3)
"""How MEPE decodes a reply unless told otherwise (``mepe demo``, the pipeline, ``bench-generator``): seeded
top-p sampling, best of three by measured controls. Greedy decoding of the shipped T5 falls into a few stock
replies ("I can understand that."); sampling keeps the repetition rules and a seed, so a reply can be written
again. Three candidates decode in one batch (about twice the time of one on a 2-core CPU) and the reply kept is
the one that shows the asked controls best, as the control meter measures them."""


def describe_decoding(config: DecodingConfig) -> str:
    """One line saying how replies are decoded (for results and cards)."""
    if config.method == "greedy":
        parts = ["greedy"]
    else:
        parts = [f"top-p {config.top_p} within the top {config.top_k} at temperature {config.temperature}"]
        if config.candidates > 1:
            parts.append(f"best of {config.candidates} by measured controls")
    if config.no_repeat_ngram >= 2:
        parts.append(f"no repeated {config.no_repeat_ngram}-grams")
    if config.repetition_penalty != 1.0:
        parts.append(f"repetition penalty {config.repetition_penalty}")
    parts.append(f"at most {config.max_new_tokens} new tokens")
    return ", ".join(parts)


HASH_MULTIPLIERS = (0x9E3779B9, 0xCC9E2D51, 0x85EBCA6B, 0xC2B2AE35, 0x7FEB352D, 0x846CA68B)
"""Odd 32-bit constants of :func:`hashed_uniform` (the golden ratio's, MurmurHash3's and lowbias32's)."""


def row_keys(prompts) -> np.ndarray:
    """(N,) int64 sampling keys, one per prompt: the CRC-32 of the prompt and how often it came before.

    A prompt's key does not depend on the other prompts around it, so its reply is the same
    alone and in any batch; repeats of one prompt (a reply's candidates) get keys of their own.

    Example:
        >>> row_keys(["a", "a", "b"])  # three different keys; "b" alone gets the same as here
    """
    seen: dict[str, int] = {}
    keys = []
    for prompt in prompts:
        seen[prompt] = seen.get(prompt, -1) + 1
        keys.append(zlib.crc32(f"{seen[prompt]}\x00{prompt}".encode()))
    return np.array(keys, np.int64)


def as_uint32(values):
    """Non-negative integers (any integer dtype) as uint32, modulo 2**32."""
    return ops.cast(ops.mod(ops.cast(values, "int64"), 2**32), "uint32")


MAX_SEED = 2**31 - 1
"""The largest reply seed: seeds are hashed as unsigned 32-bit numbers, and a screened-out reply is written
again with the next seed, so every seed up to this one draws its own noise."""


def check_seed(seed) -> int:
    """``seed`` as an int, when it is a whole number from 0 to :data:`MAX_SEED`.

    Raises:
        MepeError: anything else (a float with a fraction, a negative or too large number, a string).
    """
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED:
        return int(seed)
    raise MepeError(f"seed: a whole number from 0 to {MAX_SEED}, got {seed!r}")


def hashed_uniform(seed, keys, columns: int):
    """(rows, columns) float32 noise in (0, 1): a hash of (seed, row key, column) in uint32 arithmetic.

    Integer operations give the same bits eagerly, traced, compiled by XLA and on every
    backend, which random number kernels do not promise.

    Args:
        seed: two non-negative integers (a ``keras.random.SeedGenerator``'s state).
        keys: (rows,) non-negative integers, one per row: rows with equal keys get equal noise.
        columns: the noise's width.

    Example:
        >>> noise = hashed_uniform(ops.convert_to_tensor([7, 0]), ops.arange(2), 64)  # the same in any mode
    """
    golden, row_multiplier, murmur_1, murmur_2, lowbias_1, lowbias_2 = (np.uint32(m) for m in HASH_MULTIPLIERS)
    seed, keys = as_uint32(seed), as_uint32(keys)
    x = ops.cast(ops.arange(columns), "uint32")[None, :] * golden + keys[:, None] * row_multiplier
    x = x + seed[0] * murmur_1
    x = ops.bitwise_xor(x, ops.right_shift(x, np.uint32(16))) * lowbias_1 + seed[1] * murmur_2
    x = ops.bitwise_xor(x, ops.right_shift(x, np.uint32(15))) * lowbias_2
    x = ops.bitwise_xor(x, ops.right_shift(x, np.uint32(16)))
    return uniform_from_bits(x)


LARGEST_BELOW_ONE = np.float32(1.0 - 2.0**-24)
"""The largest float32 below 1."""


def uniform_from_bits(bits):
    """uint32 ``bits`` as float32 numbers strictly inside (0, 1): the top 24 bits, centred in their interval.

    The top interval's centre, 1 - 2**-25, is not a float32 and would round to 1.0 (where the
    Gumbel noise ``-log(-log(u))`` is infinite): it is kept at :data:`LARGEST_BELOW_ONE`.
    """
    return ops.minimum((ops.cast(ops.right_shift(bits, np.uint32(8)), "float32") + 0.5) / 2.0**24, LARGEST_BELOW_ONE)


class NucleusSampler(keras_hub.samplers.Sampler):
    """Top-p sampling among the top-k tokens, by the Gumbel-max trick on :func:`hashed_uniform` noise.

    The token kept is ``argmax(log p + Gumbel noise)`` over the nucleus: a draw from the nucleus
    renormalised, as KerasHub's ``TopPSampler`` draws, but the same in every execution mode.

    Args:
        p: the nucleus's probability mass.
        k: the tokens the nucleus is looked for among.
        seed: the seed of ``seed_generator``, whose state moves on by one per step.
        max_rows: the largest batch it samples for (the length of ``keys``).
        **kwargs: ``temperature`` and the rest of ``keras_hub.samplers.Sampler``'s arguments.

    Attributes:
        keys: (max_rows,) each row's sampling key (:meth:`start_batch`; 0, 1, 2 ... until set).
    """

    def __init__(self, p: float = 0.9, k: int = 64, seed: int | None = None, max_rows: int = ROWS_PER_BATCH,
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.p, self.k, self.seed, self.max_rows = p, k, seed, max_rows
        self.seed_generator = random.SeedGenerator(seed)
        self.keys = keras.Variable(np.arange(max_rows, dtype=np.int64), trainable=False, name="row_keys")

    def start_batch(self, seed: int, keys) -> None:
        """Sets the next batch's draws: ``seed`` from its first step, and each row's key (e.g. :func:`row_keys`).

        Raises:
            ValueError: more keys than ``max_rows``.
        """
        keys = np.asarray(keys, np.int64)
        if len(keys) > self.max_rows:
            raise ValueError(f"{len(keys)} rows in a batch; this sampler takes at most {self.max_rows}")
        self.seed_generator.state.assign([seed, 0])
        self.keys.assign(np.concatenate([keys, np.zeros(self.max_rows - len(keys), np.int64)]))

    def get_next_token(self, probabilities):
        k = min(self.k, ops.shape(probabilities)[1])
        top, indices = ops.top_k(probabilities, k=k, sorted=True)
        before = ops.cumsum(top, axis=-1) - top  # the mass of the likelier tokens
        in_nucleus = before < self.p  # the most likely token always
        noise = hashed_uniform(self.seed_generator.next(), self.keys[: ops.shape(top)[0]], k)
        gumbel = -ops.log(-ops.log(noise))
        scores = ops.where(in_nucleus, ops.log(ops.maximum(top, 1e-30)) + gumbel, -1e30)
        chosen = ops.expand_dims(ops.argmax(scores, axis=-1), -1)
        return ops.squeeze(ops.take_along_axis(indices, chosen, axis=-1), axis=-1)

    def get_config(self):
        return {**super().get_config(), "p": self.p, "k": self.k, "seed": self.seed, "max_rows": self.max_rows}


def inner_sampler(config: DecodingConfig):
    """The sampler that picks each token."""
    if config.method == "greedy":
        return keras_hub.samplers.GreedySampler()
    return NucleusSampler(p=config.top_p, k=config.top_k, temperature=config.temperature, seed=config.seed)


def flagged_tokens(tokens, flags, vocabulary):
    """(batch, vocabulary) True for each token that stands at a flagged position of its row.

    A scatter of the flags onto the vocabulary: the work grows with the reply's length,
    not with length x vocabulary as a one-hot would.

    Args:
        tokens: (batch, length) token ids.
        flags: (batch, length) bool, the positions that count.
        vocabulary: the vocabulary's size.
    """
    batch, length = ops.shape(tokens)[0], ops.shape(tokens)[1]
    rows = ops.broadcast_to(ops.arange(batch)[:, None], (batch, length))
    indices = ops.stack([ops.reshape(rows, (-1,)), ops.reshape(ops.cast(tokens, "int32"), (-1,))], axis=1)
    counts = ops.scatter(indices, ops.reshape(ops.cast(flags, "float32"), (-1,)), (batch, vocabulary))
    return counts > 0


def guard_logits(logits, tokens, index, no_repeat_ngram: int, repetition_penalty: float):
    """Step ``index``'s logits with repeated n-grams ruled out and repeated tokens penalised.

    Args:
        logits: (batch, vocabulary) the next token's logits.
        tokens: (batch, length) the decoder's tokens; positions before ``index`` are the reply so far
            (position 0 is the start token).
        index: the position being decoded.
        no_repeat_ngram: n of the n-gram rule (0 or 1: none).
        repetition_penalty: the CTRL penalty (1: none).
    """
    vocabulary = ops.shape(logits)[-1]
    length = ops.shape(tokens)[1]
    logits = ops.cast(logits, "float32")
    positions = ops.arange(length)
    written = ops.logical_and(positions >= 1, positions < index)  # the reply's tokens, start token excluded
    if repetition_penalty != 1.0:
        seen = flagged_tokens(tokens, ops.broadcast_to(written[None, :], ops.shape(tokens)), vocabulary)
        penalised = ops.where(logits > 0, logits / repetition_penalty, logits * repetition_penalty)
        logits = ops.where(seen, penalised, logits)
    if no_repeat_ngram >= 2:
        n = no_repeat_ngram
        starts = ops.arange(length - n + 1)
        match = (starts >= 1) & (starts + n - 1 < index)  # an n-gram wholly inside the reply so far
        match = ops.broadcast_to(match[None, :], (ops.shape(tokens)[0], length - n + 1))
        for offset in range(n - 1):
            previous = ops.take(tokens, ops.maximum(index - (n - 1) + offset, 0), axis=1)
            window = tokens[:, offset : length - n + 1 + offset]
            match = match & (window == previous[:, None])
        match = match & (index - (n - 1) >= 1)
        completing = tokens[:, n - 1 :]
        banned = flagged_tokens(completing, match, vocabulary)
        logits = ops.where(banned, ops.full_like(logits, -1e9), logits)
    return logits


class GuardedSampler(keras_hub.samplers.Sampler):
    """A KerasHub sampler (greedy or top-p) behind the repetition rules of :func:`guard_logits`.

    Args:
        config: the decoding configuration.
    """

    def __init__(self, config: DecodingConfig = DecodingConfig(), **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.inner = inner_sampler(config)

    def __call__(self, next, prompt, cache=None, index=0, mask=None, stop_token_ids=None, hidden_states=None,
                 model=None, **kwargs):  # fmt: skip
        config = self.config

        def guarded_next(tokens, step_cache, step_index):
            logits, hidden, step_cache = next(tokens, step_cache, step_index)
            logits = guard_logits(logits, tokens, step_index, config.no_repeat_ngram, config.repetition_penalty)
            return logits, hidden, step_cache

        return self.inner(
            guarded_next, prompt, cache=cache, index=index, mask=mask, stop_token_ids=stop_token_ids,
            hidden_states=hidden_states, model=model, **kwargs,
        )  # fmt: skip
