"""Training the compact offline text model: ``python -m mepe_utils train-compact-text``.

Same protocol as the encoder: train on ``train``, early-stop on ``dev``
macro-F1, thresholds tuned on ``dev``, numbers on ``test``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.data.goemotions import TextEmotionData
from mepe_utils.data.text_batches import predict_strings
from mepe_utils.labels import GOEMOTIONS_LABELS
from mepe_utils.models.common import PROBABILITIES_OUTPUT
from mepe_utils.models.compact_text import CompactTextConfig, build_compact_text_model, build_vectorizer
from mepe_utils.models.text import EKMAN_OUTPUT
from mepe_utils.runtime import is_smoke
from mepe_utils.training.checkpoints import fit_resumable, start_run, training_record
from mepe_utils.training.history import plot_history
from mepe_utils.training.text import (
    TEXT_KIND,
    evaluate_text_scores,
    goemotions_record,
    gold_targets,
    load_goemotions_for_run,
    text_manifest_extra,
    write_text_reports,
)

MONITOR = f"val_{PROBABILITIES_OUTPUT}_loss"
"""Dev loss, not dev F1 at 0.5: thresholds are tuned afterwards, and F1 at 0.5 keeps rising
(rare labels crossing 0.5) long after the model has started to overfit."""


@dataclass
class CompactTrainConfig:
    """Hyper-parameters of the compact model's training run.

    Attributes:
        model: the compact architecture.
        epochs: most epochs (early stopping on dev loss usually ends sooner).
        batch_size: texts per batch.
        learning_rate: Adam rate.
        ekman_loss_weight: weight of the Ekman head's loss.
        distill_weight: with a teacher, the training target is
            ``(1 - w) * gold labels + w * teacher probabilities`` (knowledge distillation).
        wide_c: when set, each head's wide part is first fitted exactly as L2 logistic
            regressions (inverse strength ``C``) on the model's own TF-IDF features and
            the training targets (distilled when there is a teacher), then frozen; the
            deep part, starting from zero, learns what they miss. ``None`` trains the
            wide parts from zero with the rest.
        patience: epochs without dev improvement before stopping.
        seed: seeds data order and initialisation.
        smoke_rows: texts per split kept under ``MEPE_SMOKE=1``.
    """

    model: CompactTextConfig = field(default_factory=CompactTextConfig)
    epochs: int = 20
    batch_size: int = 128
    learning_rate: float = 2e-3
    ekman_loss_weight: float = 0.5
    distill_weight: float = 0.8
    wide_c: float | None = 4.0
    patience: int = 3
    seed: int = 42
    smoke_rows: int = 256

    def for_smoke(self) -> CompactTrainConfig:
        return CompactTrainConfig(model=CompactTextConfig.tiny(), epochs=1, batch_size=32, seed=self.seed)


def distillation_targets(data: TextEmotionData, teacher_scores: dict[str, np.ndarray] | None, weight: float):
    """Training targets: the gold multi-hot labels, blended with a teacher's probabilities when given."""
    targets = gold_targets(data)
    if teacher_scores is None:
        return targets
    return {
        name: (1 - weight) * gold + weight * teacher_scores[name].astype(np.float32) for name, gold in targets.items()
    }


def tfidf_features(model, texts, batch_size: int = 2048):
    """The model's L2-normalised TF-IDF vectors of ``texts``, as a sparse CSR matrix."""
    import keras
    from scipy import sparse

    vectorize = keras.Model(model.inputs, model.get_layer("l2_normalize").output)
    inputs = np.array(list(texts), dtype=object)[:, None]
    rows = [
        sparse.csr_matrix(vectorize.predict_on_batch(inputs[start : start + batch_size]))
        for start in range(0, len(inputs), batch_size)
    ]
    return sparse.vstack(rows).tocsr()


def fit_wide_parts(model, texts, targets: dict[str, np.ndarray], c: float) -> None:
    """Sets each head's wide part to L2 logistic regressions on the model's TF-IDF, fitted exactly, frozen.

    One regression per output column, solved by liblinear on the model's own
    TF-IDF features. Soft targets (gold labels blended with a teacher's
    probabilities) are fitted exactly too: every text appears once as a positive
    with weight ``t`` and once as a negative with weight ``1 - t``, which is the
    cross-entropy against ``t``. Each head's deep part is zeroed so training starts
    from these regressions. A column without both classes gets a constant logit.

    Args:
        model: a compact model from ``build_compact_text_model``.
        texts: the training texts.
        targets: ``{head name: (N, K) targets in 0..1}``.
        c: inverse L2 strength of the regressions (scikit-learn's ``C``).
    """
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    features = tfidf_features(model, texts)
    doubled = sparse.vstack([features, features]).tocsr()
    sides = np.r_[np.ones(len(texts)), np.zeros(len(texts))]
    for name, head_targets in targets.items():
        kernel = np.zeros((features.shape[1], head_targets.shape[1]), np.float32)
        bias = np.zeros(head_targets.shape[1], np.float32)
        for column, target in enumerate(head_targets.T.astype(np.float64)):
            if target.min() == target.max():
                rate = np.clip(target.mean(), 1e-3, 1 - 1e-3)
                bias[column] = np.log(rate / (1 - rate))
                continue
            fitted = LogisticRegression(C=c, max_iter=1000, solver="liblinear")
            fitted.fit(doubled, sides, sample_weight=np.r_[target, 1 - target])
            kernel[:, column], bias[column] = fitted.coef_[0], fitted.intercept_[0]
        wide = model.get_layer(f"{name}_wide")
        wide.set_weights([kernel, bias])
        wide.trainable = False
        deep = model.get_layer(f"{name}_deep")
        deep.set_weights([np.zeros_like(w) for w in deep.get_weights()])


def make_string_dataset(
    data: TextEmotionData,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    targets: dict[str, np.ndarray] | None = None,
):
    """A ``tf.data`` pipeline of (texts (batch, 1), {"probabilities", "ekman"}) batches (gold targets by default)."""
    import tensorflow as tf

    targets = targets or gold_targets(data)
    dataset = tf.data.Dataset.from_tensor_slices((tf.constant(data.texts)[:, None], targets))
    if shuffle:
        dataset = dataset.shuffle(len(data), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def train_compact_text(
    data_source: str | Path,
    out: str | Path,
    config: CompactTrainConfig | None = None,
    *,
    resume: bool = False,
    teacher: str | Path | None = None,
    command: str = "",
) -> Path:
    """Trains, evaluates and saves the compact TF-IDF text model.

    Args:
        data_source: a folder of official GoEmotions TSVs, or ``"hub"``.
        out: the run folder (checkpoints, history, plots, ``model/``).
        config: hyper-parameters; shrunk under ``MEPE_SMOKE=1``.
        resume: continue the interrupted run in ``out``.
        teacher: a saved MEPE text model (the fine-tuned encoder) whose train-split
            probabilities are blended into the targets (``config.distill_weight``).
        command: the command line, recorded in the manifest.

    Returns:
        The saved-model directory ``out/model``.
    """
    import keras

    from mepe_utils.predictors.text import TextEmotionModel

    config = config or CompactTrainConfig()
    if is_smoke():
        config = config.for_smoke()
    run, state = start_run(out, config, resume, command)
    data = load_goemotions_for_run(data_source, config.smoke_rows)
    teacher_scores = TextEmotionModel.load(teacher).scores(data["train"].texts) if teacher else None
    train_targets = distillation_targets(data["train"], teacher_scores, config.distill_weight)

    if resume:
        model = keras.models.load_model(run.last_model)
    else:
        model = build_compact_text_model(build_vectorizer(data["train"].texts, config.model), config.model)
        if config.wide_c is not None:
            fit_wide_parts(model, data["train"].texts, train_targets, config.wide_c)
        model.compile(
            optimizer=keras.optimizers.Adam(config.learning_rate),
            loss={PROBABILITIES_OUTPUT: "binary_crossentropy", EKMAN_OUTPUT: "binary_crossentropy"},
            loss_weights={PROBABILITIES_OUTPUT: 1.0, EKMAN_OUTPUT: config.ekman_loss_weight},
            metrics={
                PROBABILITIES_OUTPUT: [keras.metrics.F1Score(average="macro", threshold=0.5, name="macro_f1")],
                EKMAN_OUTPUT: [keras.metrics.F1Score(average="macro", threshold=0.5, name="macro_f1")],
            },
        )
    state = fit_resumable(
        model,
        run,
        state,
        make_string_dataset(
            data["train"], batch_size=config.batch_size, shuffle=True, seed=config.seed, targets=train_targets
        ),
        make_string_dataset(data["dev"], batch_size=1024, shuffle=False),
        epochs=config.epochs,
        monitor=MONITOR,
        mode="min",
        patience=config.patience,
    )

    # An uncompiled twin sharing the fitted vectorizer: the saved file holds no optimizer state (a third of the size).
    export = build_compact_text_model(model.get_layer("tfidf"), config.model)
    for layer in export.layers:  # by name: frozen wide parts change the order of model.get_weights()
        layer.set_weights(model.get_layer(layer.name).get_weights())
    scores = {split: predict_strings(export, data[split].texts) for split in ("dev", "test")}
    result = evaluate_text_scores(scores, data)
    write_text_reports(result, run.root)
    plot_history(run.read_history(), run.root / "curves.png", metrics=("loss", f"{PROBABILITIES_OUTPUT}_macro_f1"))
    manifest = artifacts.Manifest(
        kind=TEXT_KIND,
        labels=list(GOEMOTIONS_LABELS),
        input={"item": "one text (str)", "model_inputs": "strings, shape (batch, 1)"},
        preprocessing={"vectorizer": "TF-IDF of lower-cased words and word pairs, inside the model"},
        metrics=result["metrics"],
        data=goemotions_record(data_source, data, teacher=str(teacher) if teacher else None),
        training=training_record(config, state),
        extra=text_manifest_extra(result, input_kind="text", params=int(export.count_params())),
    )
    return artifacts.save_model(export, run.root / "model", manifest)
