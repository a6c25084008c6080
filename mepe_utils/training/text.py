"""Fine-tuning the text-emotion classifier on GoEmotions: ``python -m mepe_utils train-text``.

Protocol: train on ``train``, early-stop on ``dev`` (28-label macro-F1 at 0.5),
tune per-label thresholds on ``dev``, report ``test`` once. The same code path
fine-tunes DistilBERT from ``hf://distilbert/distilbert-base-uncased`` on a GPU
and the real all-MiniLM-L6-v2 checkpoint on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.data.feeling_words import (
    FEELING_WORDS_FILE,
    feeling_statements,
    load_feeling_words,
    news_statements,
    plain_statements,
)
from mepe_utils.data.first_person import concatenate, esconv_situations
from mepe_utils.data.goemotions import TextEmotionData, load_goemotions
from mepe_utils.data.text_batches import TextBatches, tokenize
from mepe_utils.data.text_normalize import describe_emoji_reading, normalize_texts
from mepe_utils.data.word_coverage import MIN_WORD_COUNT, WORDS_ASSET, fine_tuning_vocabulary, write_vocabulary
from mepe_utils.evaluation import ekman_view, evaluate_text_scores, top_class_accuracy
from mepe_utils.labels import FER_LABELS, GOEMOTIONS_LABELS
from mepe_utils.models.common import EKMAN_OUTPUT, PROBABILITIES_OUTPUT
from mepe_utils.models.text import (
    PREPROCESSOR_ASSET,
    TextModelConfig,
    build_text_classifier,
    load_backbone,
    load_preprocessor,
    predict_bucketed,
)
from mepe_utils.plots import plot_confusion_matrix, plot_per_label_f1
from mepe_utils.runtime import dtype_policy, is_smoke
from mepe_utils.training.run import Batches, Evaluation, Trainer, for_run, run_training

TEXT_KIND = artifacts.TEXT_KIND
MONITOR = f"val_{PROBABILITIES_OUTPUT}_macro_f1"
FIRST_PERSON_SPLITS = ("valid", "test")


@dataclass
class TextTrainConfig:
    """Hyper-parameters of a text fine-tuning run.

    Attributes:
        model: encoder preset and head settings.
        epochs: planned epochs (the schedule spans them).
        batch_size: texts per batch.
        peak_learning_rate: AdamW rate after warm-up.
        warmup_fraction: share of all steps spent warming up linearly.
        weight_decay: decoupled AdamW decay (not on biases and LayerNorm).
        loss: ``"focal"`` (binary focal loss, the answer to label imbalance) or ``"bce"``;
            the README's results compare the two on all-MiniLM-L6-v2 (``results/bench_text_minilm.json``).
        focal_gamma: focusing parameter of the focal loss.
        ekman_loss_weight: weight of the 7-class Ekman head's loss.
        patience: epochs without dev improvement before stopping.
        first_person_repeats: copies of ESConv's first-person situations
            (:mod:`mepe_utils.data.first_person`) added to each training epoch; 0 trains on GoEmotions alone.
        feeling_statements_per_word: first-person statements per feeling word
            (:mod:`mepe_utils.data.feeling_words`) added to training; 0 adds none.
        plain_statements_per_activity: plain first-person statements labelled neutral per
            everyday activity of the same file (``[plain]``) added to training; 0 adds none.
        news_statements_per_event: statements of good news told without a feeling word per
            event of the same file (``[news]``, labelled by event) added to training; 0 adds none.
        init_model: a saved text model (same preset and head) whose weights the run starts from
            instead of the pretrained encoder and a new head; empty for a fresh fine-tune.
        jit_compile: XLA-compile the train step.
        seed: seeds data order and initialisation.
        smoke_rows: texts per split kept under ``MEPE_SMOKE=1``.
    """

    model: TextModelConfig = field(default_factory=TextModelConfig)
    epochs: int = 3
    batch_size: int = 32
    peak_learning_rate: float = 5e-5
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    loss: str = field(default="focal", metadata={"choices": ("focal", "bce")})
    focal_gamma: float = 2.0
    ekman_loss_weight: float = 0.5
    patience: int = 2
    first_person_repeats: int = 0
    feeling_statements_per_word: int = 0
    plain_statements_per_activity: int = 0
    news_statements_per_event: int = 0
    init_model: str = ""
    jit_compile: bool = True
    seed: int = 42
    smoke_rows: int = 64

    def for_smoke(self) -> TextTrainConfig:
        """One epoch on a few dozen texts, same preset (the notebook passes a tiny one)."""
        return TextTrainConfig(
            model=self.model,
            epochs=1,
            batch_size=8,
            warmup_fraction=0.0,
            loss=self.loss,
            patience=1,
            first_person_repeats=self.first_person_repeats,
            feeling_statements_per_word=self.feeling_statements_per_word,
            plain_statements_per_activity=self.plain_statements_per_activity,
            news_statements_per_event=self.news_statements_per_event,
            init_model=self.init_model,
            jit_compile=False,
            seed=self.seed,
            smoke_rows=self.smoke_rows,
        )


def gold_targets(data: TextEmotionData) -> dict[str, np.ndarray]:
    """The two heads' training targets: 28-label and Ekman multi-hot rows, float32."""
    return {PROBABILITIES_OUTPUT: data.labels.astype(np.float32), EKMAN_OUTPUT: data.ekman.astype(np.float32)}


def smoke_shrunk(data: TextEmotionData, rows: int) -> TextEmotionData:
    """``data`` itself, or under ``MEPE_SMOKE=1`` only its first ``rows`` texts."""
    return data.subset(np.arange(min(len(data), rows))) if is_smoke() else data


def load_goemotions_for_run(source, smoke_rows: int) -> dict[str, TextEmotionData]:
    """All three GoEmotions splits; under ``MEPE_SMOKE=1`` only the first ``smoke_rows`` texts of each."""
    return {name: smoke_shrunk(split, smoke_rows) for name, split in load_goemotions(source).items()}


def load_first_person_for_run(
    folder: str | Path, smoke_rows: int, *, include_train: bool = False
) -> dict[str, TextEmotionData]:
    """ESConv situations as ``first_person_<split>`` (valid and test, train too when asked), smoke-shrunk."""
    splits = ("train", *FIRST_PERSON_SPLITS) if include_train else FIRST_PERSON_SPLITS
    return {f"first_person_{split}": smoke_shrunk(esconv_situations(folder, split), smoke_rows) for split in splits}


def _loss(config: TextTrainConfig):
    import keras

    if config.loss == "bce":
        return keras.losses.BinaryCrossentropy()
    if config.loss == "focal":
        return keras.losses.BinaryFocalCrossentropy(gamma=config.focal_gamma)
    raise ValueError(f"loss must be 'bce' or 'focal', got {config.loss!r}")


def _compile(model, config: TextTrainConfig, steps_per_epoch: int) -> None:
    import keras

    total = max(1, config.epochs * steps_per_epoch)
    warmup = int(config.warmup_fraction * total)
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else config.peak_learning_rate,
        decay_steps=max(1, total - warmup),
        alpha=0.0,
        warmup_target=config.peak_learning_rate if warmup else None,
        warmup_steps=warmup,
    )
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=config.weight_decay, clipnorm=1.0)
    optimizer.exclude_from_weight_decay(var_names=["bias", "layer_norm", "LayerNorm", "gamma", "beta"])
    model.compile(
        optimizer=optimizer,
        loss={PROBABILITIES_OUTPUT: _loss(config), EKMAN_OUTPUT: _loss(config)},
        loss_weights={PROBABILITIES_OUTPUT: 1.0, EKMAN_OUTPUT: config.ekman_loss_weight},
        metrics={
            PROBABILITIES_OUTPUT: [keras.metrics.F1Score(average="macro", threshold=0.5, name="macro_f1")],
            EKMAN_OUTPUT: [keras.metrics.F1Score(average="macro", threshold=0.5, name="macro_f1")],
        },
        jit_compile=config.jit_compile,
    )


def evaluate_text_model(model, features: dict[str, dict], data: dict[str, TextEmotionData]) -> dict:
    """GoEmotions dev-tuned thresholds and test metrics, plus top-Ekman accuracy on any first-person splits.

    Args:
        model: a text classifier (:func:`~mepe_utils.models.text.build_text_classifier`).
        features: tokenised splits: ``dev`` and ``test``, and ``first_person_valid`` / ``first_person_test``
            when ``data`` holds them.
        data: the splits' texts and labels.

    Returns:
        :func:`~mepe_utils.evaluation.evaluate_text_scores`' result, its metrics extended with
        ``first_person_<split>_ekman_accuracy``.
    """
    scores = {split: predict_bucketed(model, features[split]) for split in ("dev", "test")}
    result = evaluate_text_scores(scores, data)
    for split in FIRST_PERSON_SPLITS:
        name = f"first_person_{split}"
        if name in data:
            ekman = ekman_view(predict_bucketed(model, features[name]), result["ekman_source"])
            result["metrics"][f"{name}_ekman_accuracy"] = top_class_accuracy(data[name].ekman, ekman)
    return result


def tuned_reading(result: dict) -> dict:
    """The manifest ``extra`` entries that an evaluation tunes: thresholds and the Ekman view."""
    return {
        "thresholds": result["thresholds"],
        "ekman_labels": list(FER_LABELS),
        "ekman_source": result["ekman_source"],
        "ekman_thresholds": result["ekman_thresholds"],
    }


def write_text_reports(result: dict, folder: Path) -> None:
    """Writes ``evaluation.json``, the per-label F1 chart and the Ekman confusion matrix."""
    artifacts.write_json_atomic(folder / "evaluation.json", result)
    plot_per_label_f1(
        result["reports"]["test_28_tuned"]["per_label"],
        title="GoEmotions test F1 per label (dev-tuned thresholds)",
        path=folder / "per_label_f1.png",
    )
    plot_confusion_matrix(
        result["ekman_confusion_single_label_test"],
        FER_LABELS,
        title="Ekman view, test (single-label rows)",
        path=folder / "confusion_ekman.png",
    )


def goemotions_record(source, data: dict[str, TextEmotionData]) -> dict:
    """The manifest's ``data`` block for a model trained on GoEmotions with the dev/test protocol."""
    return {
        "dataset": "GoEmotions (simplified)",
        "source": str(source),
        "train": f"train ({len(data['train'])} texts)",
        "selection": f"dev ({len(data['dev'])} texts): early stopping, thresholds, Ekman view",
        "test": f"test ({len(data['test'])} texts): reported once",
        "smoke": is_smoke(),
    }


def _backbone_of(model):
    import keras_hub

    return next(layer for layer in model.layers if isinstance(layer, keras_hub.models.Backbone))


class TextTrainer(Trainer):
    """The text classifier's hooks: GoEmotions, length-bucketed seeded batches, AdamW, dev-tuned thresholds.

    Args:
        data_source: a folder of official GoEmotions TSVs, or ``"hub"``.
        config: hyper-parameters (shrunk by :func:`~mepe_utils.training.run.for_run`).
        backbone, preprocessor: already built ones (tiny test models); loaded from
            ``config.model.preset`` when None.
        first_person_source: the ESConv folder: its train situations join training when
            ``config.first_person_repeats`` > 0, its valid and test ones are scored (top-Ekman accuracy).
    """

    monitor = MONITOR
    mode = "max"
    curves = ("loss", f"{PROBABILITIES_OUTPUT}_macro_f1")

    def __init__(
        self, data_source: str | Path, config: TextTrainConfig, backbone=None, preprocessor=None,
        first_person_source: str | Path | None = None,
    ):  # fmt: skip
        super().__init__(config)
        if config.first_person_repeats and first_person_source is None:
            raise ValueError("first_person_repeats needs the ESConv folder (first_person_source)")
        self.data_source = data_source
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.first_person_source = first_person_source
        wants_statements = (config.feeling_statements_per_word or config.plain_statements_per_activity
                            or config.news_statements_per_event)  # fmt: skip
        self.feeling_words = load_feeling_words() if wants_statements else None

    def load_data(self) -> None:
        model = self.config.model
        self.data = load_goemotions_for_run(self.data_source, self.config.smoke_rows)
        if self.first_person_source is not None:
            self._add_first_person()
        if self.feeling_words is not None:
            self._add_feeling_statements()
        self.preprocessor = self.preprocessor or load_preprocessor(model.preset, model.sequence_length)
        self.texts = {
            name: normalize_texts(split.texts, emoji_words=model.emoji_words, emoji_feelings=model.emoji_feelings)
            for name, split in self.data.items()
        }
        self.features = {name: tokenize(self.preprocessor, texts) for name, texts in self.texts.items()}

    def _add_first_person(self) -> None:
        """ESConv's train situations join ``train`` (repeated); valid and test become scored splits."""
        first_person = load_first_person_for_run(self.first_person_source, self.config.smoke_rows, include_train=True)
        train = first_person.pop("first_person_train")
        self.data["train"] = concatenate(self.data["train"], train, self.config.first_person_repeats)
        self.data.update(first_person)

    def _add_feeling_statements(self) -> None:
        """Statements naming a feeling in a word, plain ones naming none and good news told without
        one join ``train`` (drawn with the run's seed)."""
        config = self.config
        drawn = ((feeling_statements, config.feeling_statements_per_word),
                 (plain_statements, config.plain_statements_per_activity),
                 (news_statements, config.news_statements_per_event))  # fmt: skip
        for statements_of, per_item in drawn:
            if per_item:
                statements = statements_of(self.feeling_words, per_item, config.seed)
                self.data["train"] = concatenate(self.data["train"], smoke_shrunk(statements, config.smoke_rows))

    def batches(self, start_epoch: int) -> Batches:
        config = self.config
        train = TextBatches(
            self.features["train"], gold_targets(self.data["train"]), batch_size=config.batch_size, shuffle=True,
            seed=config.seed, start_epoch=start_epoch,
        )  # fmt: skip
        dev = TextBatches(self.features["dev"], gold_targets(self.data["dev"]), batch_size=128)
        return Batches(train, dev, len(train))

    def build_model(self, steps_per_epoch: int):
        model = build_text_classifier(self.backbone or load_backbone(self.config.model.preset), self.config.model)
        if self.config.init_model:
            start, _ = artifacts.load_model(self.config.init_model, kind=TEXT_KIND)
            model.set_weights(start.get_weights())
        _compile(model, self.config, steps_per_epoch)
        return model

    def export(self, model):
        backbone = _backbone_of(model)
        backbone_config = backbone.get_config()
        backbone_config["dtype"] = "float32"
        with dtype_policy("float32"):
            export = build_text_classifier(type(backbone).from_config(backbone_config), self.config.model)
        export.set_weights(model.get_weights())
        return export

    def evaluate(self, model, folder: Path) -> Evaluation:
        result = evaluate_text_model(model, self.features, self.data)
        write_text_reports(result, folder)
        return Evaluation(result["metrics"], result)

    def manifest(self, model, evaluation: Evaluation) -> artifacts.Manifest:
        config, result = self.config.model, evaluation.details
        return artifacts.Manifest(
            kind=TEXT_KIND,
            labels=list(GOEMOTIONS_LABELS),
            input={
                "item": "one text (str)",
                "window_tokens": config.sequence_length,
                "model_inputs": sorted(self.features["train"]),
            },
            preprocessing={
                "tokenizer": f"KerasHub preprocessor of {config.preset}, saved in {PREPROCESSOR_ASSET}/",
                "truncation": f"texts longer than {config.sequence_length} tokens are truncated",
                "emoji": describe_emoji_reading(config.emoji_words, config.emoji_feelings),
                "coverage": f"share of a text's words in {WORDS_ASSET} (train words seen >= {MIN_WORD_COUNT} times)",
            },
            metrics=evaluation.metrics,
            data=self._data_record(),
            extra={
                **tuned_reading(result),
                "input_kind": "tokens",
                "preset": config.preset,
                "emoji_words": config.emoji_words,
                "emoji_feelings": config.emoji_feelings,
                "params": int(model.count_params()),
            },
        )

    def _data_record(self) -> dict:
        record = goemotions_record(self.data_source, self.data)
        if self.first_person_source is not None:
            record["first_person"] = {
                "dataset": "ESConv seekers' situations (CC BY-NC 4.0: research, non-commercial)",
                "source": str(self.first_person_source),
                "labels": "the seeker's reported emotion mapped onto GoEmotions (mepe_utils.data.first_person)",
                "train": f"train situations x {self.config.first_person_repeats} per epoch",
                "scored": {split: len(self.data[f"first_person_{split}"]) for split in FIRST_PERSON_SPLITS},
            }
        source = f"{FEELING_WORDS_FILE.name} (written for MEPE; mepe_utils.data.feeling_words)"
        if self.config.feeling_statements_per_word:
            per_word = self.config.feeling_statements_per_word
            record["feeling_words"] = {
                "source": source,
                "words": len(self.feeling_words),
                "train": f"{per_word} statements per word, drawn with the run's seed",
            }
        if self.config.plain_statements_per_activity:
            per_activity = self.config.plain_statements_per_activity
            record["plain_statements"] = {
                "source": f"{source}, [plain]",
                "activities": len(self.feeling_words.activities),
                "train": f"{per_activity} statements per activity labelled neutral, drawn with the run's seed",
            }
        if self.config.news_statements_per_event:
            per_event = self.config.news_statements_per_event
            record["news_statements"] = {
                "source": f"{source}, [news]",
                "events": {label: len(events) for label, events in self.feeling_words.news.items()},
                "train": f"{per_event} statements per event labelled by event, drawn with the run's seed",
            }
        return record

    def training_details(self) -> dict:
        if not self.config.init_model:
            return {}
        return {"init_model_sha256": artifacts.read_manifest(self.config.init_model).model_sha256}

    def assets(self) -> dict:
        vocabulary = fine_tuning_vocabulary(self.texts["train"])
        return {
            PREPROCESSOR_ASSET: self.preprocessor.save_to_preset,
            WORDS_ASSET: lambda path: write_vocabulary(vocabulary, path),
        }


def train_text(
    data_source: str | Path,
    out: str | Path,
    config: TextTrainConfig | None = None,
    *,
    resume: bool = False,
    command: str = "",
    extra_callbacks: list | None = None,
    backbone=None,
    preprocessor=None,
    first_person_source: str | Path | None = None,
) -> Path:
    """Fine-tunes, evaluates and saves a text-emotion classifier.

    Args:
        data_source: a folder of official GoEmotions TSVs, or ``"hub"``.
        out: the run folder (checkpoints, history, plots, ``model/``).
        config: hyper-parameters; shrunk under ``MEPE_SMOKE=1``.
        resume: continue the interrupted run in ``out``.
        command: the command line, recorded in the manifest.
        extra_callbacks: more Keras callbacks for ``fit``.
        backbone, preprocessor: already built ones (tiny test models); loaded from
            ``config.model.preset`` when None.
        first_person_source: the ESConv folder (see :class:`TextTrainer`), or None.

    Returns:
        The saved-model directory ``out/model``.
    """
    config = for_run(config or TextTrainConfig())
    trainer = TextTrainer(data_source, config, backbone, preprocessor, first_person_source)
    return run_training(trainer, out, resume=resume, command=command, extra_callbacks=extra_callbacks)
