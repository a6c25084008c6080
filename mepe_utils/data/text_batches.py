"""Tokenised GoEmotions in length buckets: no batch is padded past its longest text.

GoEmotions comments average about 19 tokens; padding every batch to a 128-token
window would spend most of the encoder's work on padding. Texts are tokenised
once, then each batch is cut to the smallest bucket width that holds its
longest text (16, 32, 64 ... up to the window), which keeps the number of
distinct shapes (and XLA compilations) small.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BUCKET_WIDTHS = (16, 32, 64, 128, 256, 512)


def bucket_widths(sequence_length: int) -> tuple[int, ...]:
    """The bucket widths used for a window of ``sequence_length`` tokens."""
    return tuple(w for w in BUCKET_WIDTHS if w < sequence_length) + (sequence_length,)


def tokenize(preprocessor, texts: Sequence[str], batch_size: int = 2048) -> dict[str, np.ndarray]:
    """Runs a KerasHub text preprocessor over ``texts`` once.

    Returns:
        ``{"token_ids", "padding_mask"[, "segment_ids"]}``, int32 arrays (N, window).
    """
    import tensorflow as tf

    chunks = []
    for start in range(0, len(texts), batch_size):
        batch = tf.constant(list(texts[start : start + batch_size]))
        chunks.append({name: np.asarray(value, dtype=np.int32) for name, value in preprocessor(batch).items()})
    return {name: np.concatenate([chunk[name] for chunk in chunks]) for name in chunks[0]}


def make_text_dataset(
    features: dict[str, np.ndarray],
    targets: dict[str, np.ndarray],
    *,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
):
    """A ``tf.data`` pipeline of length-bucketed (features, targets) batches.

    Args:
        features: tokenised texts from :func:`tokenize`.
        targets: ``{output name: (N, K) float32}``.
        batch_size: texts per batch.
        shuffle: reshuffle every epoch (seeded); batches then mix buckets randomly.
        seed: shuffle seed.
    """
    import tensorflow as tf

    window = features["padding_mask"].shape[1]
    widths = bucket_widths(window)
    dataset = tf.data.Dataset.from_tensor_slices((features, targets))
    if shuffle:
        dataset = dataset.shuffle(len(features["padding_mask"]), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.bucket_by_sequence_length(
        element_length_func=lambda f, t: tf.reduce_sum(f["padding_mask"]),
        bucket_boundaries=[w + 1 for w in widths[:-1]],
        bucket_batch_sizes=[batch_size] * len(widths),
    )
    width_table = tf.constant(widths, dtype=tf.int32)

    def trim(f, t):
        longest = tf.reduce_max(tf.reduce_sum(tf.cast(f["padding_mask"], tf.int32), axis=1))
        width = tf.gather(width_table, tf.searchsorted(width_table, tf.reshape(longest, [1]))[0])
        return {name: value[:, :width] for name, value in f.items()}, t

    dataset = dataset.map(trim, num_parallel_calls=tf.data.AUTOTUNE)
    if shuffle:
        dataset = dataset.shuffle(64, seed=seed + 1, reshuffle_each_iteration=True)
    return dataset.prefetch(tf.data.AUTOTUNE)
