"""The reply generator's model: a T5 (KerasHub) and the SentencePiece tokenizer it reads with.

The T5 trained here from scratch is KerasHub's ``T5Backbone`` under ``T5Seq2SeqLM``
(encoder-decoder, relative position buckets, gated-GELU feed-forward, tied
embeddings), sized by :class:`GeneratorModelConfig`. Its tokenizer is a BPE
SentencePiece model trained on the training text (BPE keeps whole words on a
small corpus, where unigram splits rare words into characters), with the
prompt's control words (:data:`~mepe_utils.generation.prompt.CONTROL_SYMBOLS`)
as user-defined symbols: each ``empathy=high`` is one token the model learns
an embedding for. Its ids follow T5's convention: 0 ``<pad>``, 1 ``</s>``, 2 ``<unk>``.

Two models share one set of weights:

- the **training model** has no preprocessor: it reads token ids that were
  tokenised once before training (:func:`tokenize_pairs`);
- the **generator** (:func:`with_preprocessor`) adds ``T5Seq2SeqLMPreprocessor``
  with the sequence lengths of the config, so ``generate()`` reads strings.

Example:
    >>> proto = train_sentencepiece(texts, vocabulary_size=500)
    >>> model = build_t5(GeneratorModelConfig(vocabulary_size=500, num_layers=1, hidden_dim=32,
    ...                                       intermediate_dim=64, num_heads=2, key_value_dim=16))
    >>> generator = with_preprocessor(model, proto, GeneratorModelConfig(...))
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from mepe_utils.generation.prompt import CONTROL_SYMBOLS

warnings.filterwarnings("ignore", message=r"Layer '(self|cross)_attention' \(of type T5MultiHeadAttention\)")
# KerasHub's T5 attention layers receive Keras masks they never use (they read the padding masks directly).

PAD_ID, END_ID, UNKNOWN_ID = 0, 1, 2
TOKENIZER_ASSET = "tokenizer.spm"
"""The SentencePiece model's file in a saved generator's folder."""


@dataclass(frozen=True)
class GeneratorModelConfig:
    """The T5's shape and the preprocessor's sequence lengths.

    Attributes:
        vocabulary_size: SentencePiece pieces (and the embedding's rows).
        num_layers: encoder layers (and as many decoder layers).
        num_heads: attention heads.
        hidden_dim: the model width.
        intermediate_dim: the feed-forward width.
        key_value_dim: each head's width.
        dropout: dropout rate in training.
        encoder_sequence_length: prompt tokens read (longer prompts are cut at the end).
        decoder_sequence_length: reply tokens, the end token included.
    """

    vocabulary_size: int = 8000
    num_layers: int = 4
    num_heads: int = 4
    hidden_dim: int = 256
    intermediate_dim: int = 1024
    key_value_dim: int = 64
    dropout: float = 0.1
    encoder_sequence_length: int = 160
    decoder_sequence_length: int = 64

    def backbone_args(self) -> dict:
        """The ``T5Backbone`` arguments."""
        args = asdict(self)
        for name in ("encoder_sequence_length", "decoder_sequence_length"):
            args.pop(name)
        return args


def train_sentencepiece(
    texts: Iterable[str], vocabulary_size: int, symbols: Sequence[str] = CONTROL_SYMBOLS, seed_sentences: int = 0
) -> bytes:
    """A BPE SentencePiece model trained in memory on ``texts``, with ``symbols`` as single pieces.

    Args:
        texts: the training text (prompts and replies).
        vocabulary_size: the pieces, special ids and symbols included.
        symbols: words that must stay one piece each (the control words).
        seed_sentences: when > 0, train on this many sentences sampled by SentencePiece
            (0: every sentence).

    Returns:
        The serialised model (``T5Tokenizer(proto=...)`` reads it).
    """
    import sentencepiece as spm

    writer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(texts)),
        model_writer=writer,
        model_type="bpe",
        vocab_size=vocabulary_size,
        pad_id=PAD_ID,
        eos_id=END_ID,
        unk_id=UNKNOWN_ID,
        bos_id=-1,
        pad_piece="<pad>",
        eos_piece="</s>",
        unk_piece="<unk>",
        user_defined_symbols=list(symbols),
        character_coverage=0.9995,
        input_sentence_size=seed_sentences,
        shuffle_input_sentence=True,
        minloglevel=2,
    )
    return writer.getvalue()


def build_t5(config: GeneratorModelConfig):
    """A new T5 training model (no preprocessor): token ids in, next-token logits out."""
    import keras_hub

    backbone = keras_hub.models.T5Backbone(**config.backbone_args())
    return keras_hub.models.T5Seq2SeqLM(backbone=backbone, preprocessor=None)


def make_preprocessor(proto: bytes, config: GeneratorModelConfig):
    """The ``T5Seq2SeqLMPreprocessor`` for ``proto`` with the config's sequence lengths."""
    import keras_hub

    tokenizer = keras_hub.models.T5Tokenizer(proto=proto)
    return keras_hub.models.T5Seq2SeqLMPreprocessor(
        tokenizer=tokenizer,
        encoder_sequence_length=config.encoder_sequence_length,
        decoder_sequence_length=config.decoder_sequence_length,
    )


def with_preprocessor(model, proto: bytes, config: GeneratorModelConfig):
    """A ``T5Seq2SeqLM`` over ``model``'s backbone (weights shared) that reads and writes strings."""
    import keras_hub

    return keras_hub.models.T5Seq2SeqLM(backbone=model.backbone, preprocessor=make_preprocessor(proto, config))


def tokenize_pairs(
    preprocessor, prompts: Sequence[str], replies: Sequence[str], batch_size: int = 512
) -> dict[str, np.ndarray]:
    """Prompts and replies as the training model's arrays, tokenised once.

    Returns:
        ``encoder_token_ids``, ``encoder_padding_mask``, ``decoder_token_ids``,
        ``decoder_padding_mask`` (the model's inputs), ``labels`` (the next token at
        each decoder position) and ``label_mask`` (1 where a label is a real token),
        each (N, length).
    """
    columns: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(prompts), batch_size):
        x, y, weight = preprocessor(
            {"encoder_text": list(prompts[start : start + batch_size]),
             "decoder_text": list(replies[start : start + batch_size])}
        )  # fmt: skip
        parts = {**{key: np.asarray(value) for key, value in x.items()}, "labels": np.asarray(y)}
        parts["label_mask"] = np.asarray(weight)
        for key, value in parts.items():
            columns.setdefault(key, []).append(value)
    return {key: np.concatenate(values) for key, values in columns.items()}
