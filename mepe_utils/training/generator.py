"""Training the reply generator: ``mepe train-generator``.

Protocol:

1. **Examples.** Every ESConv supporter turn after a seeker turn is one example:
   the dialogue before it -> the reply (:func:`~mepe_utils.data.esconv.supporter_replies`).
2. **Readings.** The text model reads every reply and every seeker message once
   (cached, :func:`~mepe_utils.predictors.text_readings.text_readings`).
3. **Control labels, measured on each reply** (:mod:`mepe_utils.generation.measure`):
   empathy and assertiveness from the reply's annotated strategy, style and
   formality from the persona model's arousal and formality heads, levelled at
   their terciles over the train replies. The strategy classifier that measures
   generated replies is fitted here (train, ``C`` on valid).
4. **Exemplars.** The retrieval index over train (:mod:`mepe_utils.generation.retrieval`)
   gives each example the reply to the nearest training message of *another*
   conversation; the prompt (:func:`~mepe_utils.generation.prompt.build_prompt`)
   holds the labels, that exemplar and the dialogue.
5. **Tokenizer.** A BPE SentencePiece model trained on the train prompts and
   replies, the control words as single pieces (or, with ``--preset``, the
   preset's own tokenizer); kept in the run folder so a resumed run reads with it.
6. **Fit.** Teacher-forced cross-entropy on the reply tokens, Adafactor
   (learning rate 1e-2 from scratch, 1e-3 for a preset) with a cosine decay over the
   planned epochs, the best epoch on validation loss, resumable (each epoch's order
   is a function of ``(seed, epoch)``).
7. **Saved** in the MEPE format (kind ``generator``): ``model.keras`` (a
   ``T5Seq2SeqLM`` with its preprocessor), the tokenizer, the strategy
   classifier and the retrieval index as hashed assets; the test split's
   word-level perplexity in the manifest.

The benchmark (``mepe bench-generator``) measures control adherence, ROUGE-L,
BLEU-2, distinct-n and speed on ESConv test.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.data.esconv import STRATEGIES, SupporterReply, load_esconv, supporter_replies
from mepe_utils.errors import MepeError
from mepe_utils.generation.measure import (
    CLASSIFIER_ASSET,
    MEASURE_VERSION,
    STRATEGY_CONTROLS,
    TRAIT_CONTROLS,
    ControlMeter,
    StrategyClassifier,
    control_scores,
    features_of,
    strategy_controls,
    trait_thresholds,
)
from mepe_utils.generation.prompt import CONTROL_SYMBOLS, PromptConfig, build_prompt
from mepe_utils.generation.retrieval import INDEX_ASSET, RetrievalIndex
from mepe_utils.models.generator import (
    TOKENIZER_ASSET,
    GeneratorModelConfig,
    build_t5,
    make_preprocessor,
    tokenize_pairs,
    train_sentencepiece,
)
from mepe_utils.models.persona import PersonaForward
from mepe_utils.options import config_from_dict
from mepe_utils.persona.schema import CONTROLS
from mepe_utils.persona.traits import SHIPPED_PERSONA_MODEL, check_text_model
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL
from mepe_utils.predictors.text_readings import TextReadings, text_readings
from mepe_utils.runtime import dtype_policy, is_smoke
from mepe_utils.training.run import Batches, Evaluation, Trainer, for_run, run_training

SPLITS = ("train", "valid", "test")
MODEL_INPUTS = ("encoder_token_ids", "encoder_padding_mask", "decoder_token_ids", "decoder_padding_mask")
FROM_SCRATCH_LEARNING_RATE, PRESET_LEARNING_RATE = 1e-2, 1e-3
SCORING_DECODER_LENGTH = 256
"""Reply tokens scored for perplexity: whole references (the training length cuts the longest 3%)."""


@dataclass
class GeneratorTrainConfig:
    """Hyper-parameters of a generator training run.

    Attributes:
        model: the T5's shape and sequence lengths (a preset keeps its shape; the lengths apply).
        prompt: the prompt's word budgets.
        preset: a KerasHub T5 preset to fine-tune (``flan_small_multi`` ... or a preset folder);
            empty: a T5 trained from scratch with its own tokenizer.
        epochs: planned epochs (the cosine decay spans them).
        batch_size: examples per batch.
        learning_rate: Adafactor's peak rate; 0 means 1e-2 from scratch, 1e-3 for a preset.
        patience: epochs without a better validation loss before stopping.
        seed: seeds the initialisation and every epoch's order.
        smoke_rows: examples per split kept under ``MEPE_SMOKE=1``.
    """

    model: GeneratorModelConfig = field(default_factory=GeneratorModelConfig)
    prompt: PromptConfig = field(default_factory=PromptConfig)
    preset: str = ""
    epochs: int = 4
    batch_size: int = 32
    learning_rate: float = 0.0
    patience: int = 2
    seed: int = 42
    smoke_rows: int = 96

    def for_smoke(self) -> GeneratorTrainConfig:
        """One epoch of a tiny T5 on a few dozen examples."""
        tiny = GeneratorModelConfig(
            vocabulary_size=400, num_layers=1, num_heads=2, hidden_dim=32, intermediate_dim=64, key_value_dim=16,
            encoder_sequence_length=96, decoder_sequence_length=24,
        )  # fmt: skip
        return GeneratorTrainConfig(
            model=self.model if self.preset else tiny, prompt=self.prompt, preset=self.preset, epochs=1,
            batch_size=8, learning_rate=self.learning_rate, patience=1, seed=self.seed, smoke_rows=self.smoke_rows,
        )  # fmt: skip

    @property
    def peak_learning_rate(self) -> float:
        if self.learning_rate:
            return self.learning_rate
        return PRESET_LEARNING_RATE if self.preset else FROM_SCRATCH_LEARNING_RATE


@dataclass
class GeneratorSources:
    """What a generator is trained from.

    Attributes:
        esconv: the ESConv folder.
        text_model: the saved text model that reads replies and messages.
        persona_model: the saved persona model whose heads measure style and formality.
        cache_dir: where text readings are cached.
    """

    esconv: Path
    text_model: Path = SHIPPED_TEXT_MODEL
    persona_model: Path = SHIPPED_PERSONA_MODEL
    cache_dir: Path = Path(".cache")


@dataclass
class LabelledSplit:
    """One split's examples with their measured controls, exemplars and prompts.

    Attributes:
        examples: the (context -> reply) examples.
        controls: each reply's control values (its labels).
        exemplars: each example's exemplar reply.
        prompts: each example's prompt.
        key_vectors: (N, D) the text model's sentence vectors of each example's latest seeker message.
    """

    examples: list[SupporterReply]
    controls: list[dict[str, str]]
    exemplars: list[str]
    prompts: list[str]
    key_vectors: np.ndarray

    @property
    def replies(self) -> list[str]:
        return [e.reply for e in self.examples]


@dataclass
class GeneratorData:
    """Everything the trainer and the benchmark read: the labelled splits, the meter and the index."""

    splits: dict[str, LabelledSplit]
    classifier: StrategyClassifier
    classifier_report: dict
    thresholds: dict[str, list[float]]
    index: RetrievalIndex


def smoke_examples(examples: list[SupporterReply], rows: int) -> list[SupporterReply]:
    """Under ``MEPE_SMOKE=1`` the first ``rows`` examples (whole conversations first); else all."""
    return examples[:rows] if is_smoke() else examples


def example_labels(strategies: list[str], meter_levels: list[dict[str, str]]) -> list[dict[str, str]]:
    """Each reply's control labels: empathy and assertiveness from its strategy, style and formality measured."""
    labels = []
    for strategy, measured in zip(strategies, meter_levels, strict=True):
        known = strategy_controls(strategy)
        labels.append({name: known[name] if name in STRATEGY_CONTROLS else measured[name] for name in CONTROLS})
    return labels


def prepare_data(sources: GeneratorSources, config: GeneratorTrainConfig) -> GeneratorData:
    """Steps 1-4 of the module docstring: examples, readings, labels, meter, index, exemplars, prompts."""
    conversations = load_esconv(sources.esconv)
    examples = {s: smoke_examples(supporter_replies(conversations[s]), config.smoke_rows) for s in SPLITS}
    reply_readings: dict[str, TextReadings] = {}
    keys: dict[str, np.ndarray] = {}
    for split in SPLITS:
        replies = [e.reply for e in examples[split]]
        reply_readings[split] = text_readings(sources.text_model, f"esconv-{split}-replies", replies, sources.cache_dir)
        messages = sorted({e.seeker_last for e in examples[split]})
        message_readings = text_readings(sources.text_model, f"esconv-{split}-seeker-last", messages, sources.cache_dir)
        row_of = {text: row for row, text in enumerate(messages)}
        keys[split] = message_readings.sentence_vectors[[row_of[e.seeker_last] for e in examples[split]]]

    classifier, report = StrategyClassifier.fit(
        features_of(reply_readings["train"]), [e.strategy for e in examples["train"]],
        features_of(reply_readings["valid"]), [e.strategy for e in examples["valid"]],
    )  # fmt: skip
    persona_model, _ = artifacts.load_model(sources.persona_model, kind=artifacts.PERSONA_KIND)
    forward = PersonaForward(persona_model)
    thresholds = trait_thresholds(control_scores(classifier, forward, reply_readings["train"]))
    meter = ControlMeter(classifier, forward, thresholds)

    labels = {
        split: example_labels([e.strategy for e in examples[split]], meter.levels(meter.scores(reply_readings[split])))
        for split in SPLITS
    }
    train = examples["train"]
    index = RetrievalIndex.build(keys["train"], [e.reply for e in train], [e.conversation for e in train],
                                 labels["train"])  # fmt: skip
    splits = {}
    for split in SPLITS:
        exclude = np.array([e.conversation for e in train]) if split == "train" else None
        nearest = index.nearest(keys[split], k=1, exclude_groups=exclude)[:, 0]
        exemplars = [str(index.replies[row]) for row in nearest]
        prompts = [
            build_prompt(e.context, c, x, config.prompt)
            for e, c, x in zip(examples[split], labels[split], exemplars, strict=True)
        ]
        splits[split] = LabelledSplit(examples[split], labels[split], exemplars, prompts, keys[split])
    return GeneratorData(splits, classifier, report, thresholds, index)


ENCODER_KEYS = ("encoder_token_ids", "encoder_padding_mask")
DECODER_KEYS = ("decoder_token_ids", "decoder_padding_mask", "labels", "label_mask")
SORT_CHUNK_BATCHES = 50
"""Batches whose rows are sorted together by prompt length (so a batch holds prompts of similar lengths)."""


def epoch_order(rows: int, batch_size: int, seed: int, epoch: int, lengths: np.ndarray | None = None) -> np.ndarray:
    """(steps, batch_size) row indices of one epoch, a function of ``(seed, epoch)``; the remainder dropped.

    With ``lengths``, rows are shuffled, sorted by length within chunks of :data:`SORT_CHUNK_BATCHES`
    batches, cut into batches, and the batches shuffled: each batch holds similar lengths (less
    padding to compute), while the epoch's mix stays random.
    """
    rng = np.random.default_rng([seed, epoch])
    steps = rows // batch_size
    order = rng.permutation(rows)[: steps * batch_size]
    if lengths is None:
        return order.reshape(steps, batch_size)
    chunk = SORT_CHUNK_BATCHES * batch_size
    order = np.concatenate(
        [part[np.argsort(lengths[part], kind="stable")] for part in np.split(order, range(chunk, len(order), chunk))]
    )
    return order.reshape(steps, batch_size)[rng.permutation(steps)]


def trimmed(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A batch cut to its longest prompt and reply (the rest is padding)."""
    encoder = int(batch["encoder_padding_mask"].sum(axis=1).max())
    decoder = int(max(batch["decoder_padding_mask"].sum(axis=1).max(), batch["label_mask"].sum(axis=1).max()))
    return {key: value[:, : encoder if key in ENCODER_KEYS else decoder] for key, value in batch.items()}


def prompt_lengths(arrays: dict[str, np.ndarray]) -> np.ndarray:
    return arrays["encoder_padding_mask"].sum(axis=1)


def _as_fit_batch(batch):
    return {key: batch[key] for key in MODEL_INPUTS}, batch["labels"], batch["label_mask"]


def train_stream(arrays: dict[str, np.ndarray], batch_size: int, seed: int, start_epoch: int):
    """An endless ``tf.data`` stream of ``(inputs, labels, label_mask)`` batches, epochs from ``start_epoch`` on.

    Epoch ``e``'s batches are :func:`epoch_order` ``(seed, e)`` (length-sorted), each cut to its
    longest prompt and reply, so a resumed run sees the batches the uninterrupted run would have;
    ``fit`` takes ``steps_per_epoch`` from :class:`Batches`.
    """
    import itertools

    import tensorflow as tf

    rows, lengths = len(arrays["labels"]), prompt_lengths(arrays)

    def batches():
        for epoch in itertools.count(start_epoch):
            for indices in epoch_order(rows, batch_size, seed, epoch, lengths):
                yield trimmed({key: value[indices] for key, value in arrays.items()})

    return _stream(tf, batches, arrays)


def _stream(tf, batches, arrays):
    signature = {key: tf.TensorSpec((None, None), tf.as_dtype(value.dtype)) for key, value in arrays.items()}
    stream = tf.data.Dataset.from_generator(batches, output_signature=signature)
    return stream.map(_as_fit_batch).prefetch(tf.data.AUTOTUNE)


def fixed_batches(arrays: dict[str, np.ndarray], batch_size: int):
    """Every row once, in batches of similar prompt lengths, each cut to its longest prompt and reply (validation)."""
    import tensorflow as tf

    order = np.argsort(prompt_lengths(arrays), kind="stable")
    starts = range(0, len(order), batch_size)

    def batches():
        for start in starts:
            indices = order[start : start + batch_size]
            yield trimmed({key: value[indices] for key, value in arrays.items()})

    return _stream(tf, batches, arrays).apply(tf.data.experimental.assert_cardinality(len(starts)))


def reply_token_losses(model, arrays: dict[str, np.ndarray], batch_size: int = 64) -> np.ndarray:
    """(N,) each reply's summed token negative log-likelihood (its end token included), teacher-forced."""
    totals = np.zeros(len(arrays["labels"]))
    order = np.argsort(prompt_lengths(arrays), kind="stable")
    for start in range(0, len(order), batch_size):
        indices = order[start : start + batch_size]
        batch = trimmed({key: value[indices] for key, value in arrays.items()})
        logits = np.asarray(model({key: batch[key] for key in MODEL_INPUTS}, training=False), np.float64)
        log_probs = logits - logits.max(axis=-1, keepdims=True)
        log_probs -= np.log(np.exp(log_probs).sum(axis=-1, keepdims=True))
        picked = np.take_along_axis(log_probs, batch["labels"][..., None].astype(np.int64), axis=-1)[..., 0]
        totals[indices] = -(picked * batch["label_mask"]).sum(axis=1)
    return totals


def scoring_arrays(proto: bytes, config: GeneratorModelConfig, prompts: list[str], replies: list[str]) -> dict:
    """:func:`tokenize_pairs` with room for whole replies (:data:`SCORING_DECODER_LENGTH` tokens)."""
    from dataclasses import replace

    preprocessor = make_preprocessor(proto, replace(config, decoder_sequence_length=SCORING_DECODER_LENGTH))
    return tokenize_pairs(preprocessor, prompts, replies)


def perplexities(losses: np.ndarray, arrays: dict[str, np.ndarray], replies: list[str]) -> dict[str, float]:
    """Token-level and word-level perplexity from :func:`reply_token_losses`.

    Word-level: ``exp(total NLL / total words)``, the words being each reply's whitespace-split
    words (the end token's NLL counts: it is part of saying the reply).
    """
    tokens = float(arrays["label_mask"].sum())
    words = float(sum(len(r.split()) for r in replies))
    total = float(losses.sum())
    return {
        "ppl_token": math.exp(total / tokens),
        "ppl_word": math.exp(total / words),
        "tokens_per_word": tokens / words,
    }


class GeneratorTrainer(Trainer):
    """The generator's hooks: labelled ESConv examples, a tokenizer kept in the run folder, a T5 in token ids."""

    curves = ("loss",)
    weights_storage = "float16"  # half the file; the model still computes in float32

    def __init__(self, sources: GeneratorSources, config: GeneratorTrainConfig, run_folder: Path):
        super().__init__(config)
        self.sources = sources
        self.run_folder = Path(run_folder)

    # --- data ------------------------------------------------------------------------------------

    def tokenizer_proto(self) -> bytes:
        """The run's tokenizer: read from the run folder, else trained (or taken from the preset) and kept there."""
        path = self.run_folder / TOKENIZER_ASSET
        if path.is_file():
            return path.read_bytes()
        if self.config.preset:
            proto = self.preset_model().preprocessor.tokenizer.proto
            proto = proto if isinstance(proto, bytes) else Path(proto).read_bytes()
        else:
            train = self.data.splits["train"]
            proto = train_sentencepiece(train.prompts + train.replies, self.config.model.vocabulary_size)
        artifacts.write_bytes_atomic(path, proto)
        return proto

    def preset_model(self):
        import keras_hub

        if not hasattr(self, "_preset_model"):
            self._preset_model = keras_hub.models.T5Seq2SeqLM.from_preset(self.config.preset)
        return self._preset_model

    def load_data(self) -> None:
        self.data = prepare_data(self.sources, self.config)
        self.proto = self.tokenizer_proto()
        preprocessor = make_preprocessor(self.proto, self.config.model)
        self.arrays = {
            split: tokenize_pairs(preprocessor, part.prompts, part.replies) for split, part in self.data.splits.items()
        }

    def batches(self, start_epoch: int) -> Batches:
        config = self.config
        train = self.arrays["train"]
        steps = len(train["labels"]) // config.batch_size
        if steps == 0:
            raise MepeError(f"{len(train['labels'])} training examples: fewer than one batch of {config.batch_size}")
        stream = train_stream(train, config.batch_size, config.seed, start_epoch)
        return Batches(stream, fixed_batches(self.arrays["valid"], config.batch_size), steps, repeats=True)

    # --- model -----------------------------------------------------------------------------------

    def compute_policy(self, best: str) -> str:
        """T5 overflows in float16: float32 unless bfloat16 is available."""
        return best if best == "mixed_bfloat16" else "float32"

    def build_model(self, steps_per_epoch: int):
        import keras

        if self.config.preset:
            model = self.preset_model()
            model.preprocessor = None
        else:
            model = build_t5(self.config.model)
        schedule = keras.optimizers.schedules.CosineDecay(
            self.config.peak_learning_rate, decay_steps=steps_per_epoch * self.config.epochs, alpha=0.1
        )
        model.compile(
            optimizer=keras.optimizers.Adafactor(learning_rate=schedule),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            weighted_metrics=[],
        )
        return model

    def resume_model(self, checkpoint: Path, steps_per_epoch: int):
        """A new compiled model with the checkpoint's weights and optimizer state (KerasHub's ``T5Seq2SeqLM``
        does not restore its custom ``compile`` on load, so ``load_model`` would drop the Adafactor state)."""
        model = self.build_model(steps_per_epoch)
        model.optimizer.build(model.trainable_variables)
        model.load_weights(checkpoint)
        return model

    def export(self, model):
        """A float32 ``T5Seq2SeqLM`` with the trained weights and the run's preprocessor."""
        import keras_hub

        with dtype_policy("float32"):
            backbone = keras_hub.models.T5Backbone.from_config({**model.backbone.get_config(), "dtype": "float32"})
            preprocessor = make_preprocessor(self.proto, self.config.model)
            export = keras_hub.models.T5Seq2SeqLM(backbone=backbone, preprocessor=preprocessor)
        backbone.set_weights([np.asarray(w, np.float32) for w in model.backbone.get_weights()])
        return export

    # --- evaluation and manifest -----------------------------------------------------------------

    def evaluate(self, model, folder: Path) -> Evaluation:
        """Validation and test perplexity of the whole references (teacher-forced); the benchmark measures the rest."""
        metrics = {}
        for split in ("valid", "test"):
            part = self.data.splits[split]
            arrays = scoring_arrays(self.proto, self.config.model, part.prompts, part.replies)
            scores = perplexities(reply_token_losses(model, arrays), arrays, part.replies)
            metrics.update({f"{split}_{name}": value for name, value in scores.items()})
        truncated = float(np.mean(self.arrays["test"]["encoder_padding_mask"][:, -1]))
        metrics["test_prompts_cut_share"] = truncated
        artifacts.write_json_atomic(
            folder / "evaluation.json", {"metrics": metrics, "strategy_classifier": self.data.classifier_report}
        )
        return Evaluation(metrics)

    def assets(self) -> dict:
        return {
            TOKENIZER_ASSET: lambda path: artifacts.write_bytes_atomic(path, self.proto),
            CLASSIFIER_ASSET: self.data.classifier.save,
            INDEX_ASSET: self.data.index.save,
        }

    def manifest(self, model, evaluation: Evaluation) -> artifacts.Manifest:
        text = artifacts.read_manifest(self.sources.text_model)
        persona = artifacts.read_manifest(self.sources.persona_model)
        check_text_model(self.sources.persona_model, persona, text, retrain="mepe train-persona")
        config = self.config
        sizes = {split: len(part.examples) for split, part in self.data.splits.items()}
        return artifacts.Manifest(
            kind=artifacts.GENERATOR_KIND,
            labels=list(CONTROL_SYMBOLS),
            input={
                "item": "a prompt (mepe_utils.generation.prompt.build_prompt): controls, exemplar, dialogue",
                "encoder_sequence_length": config.model.encoder_sequence_length,
                "decoder_sequence_length": config.model.decoder_sequence_length,
            },
            preprocessing={
                "tokenizer": f"{TOKENIZER_ASSET}: "
                + (
                    f"the preset {config.preset}'s SentencePiece model"
                    if config.preset
                    else "BPE SentencePiece trained on the train prompts and replies, control words as single pieces"
                ),
                "prompt": asdict(config.prompt),
                "exemplar": f"{INDEX_ASSET}: the reply to the nearest train message (text model sentence vector)",
            },  # fmt: skip
            metrics=evaluation.metrics,
            data={
                "dataset": "ESConv (Liu et al., ACL 2021), CC BY-NC 4.0: research, non-commercial",
                "source": str(self.sources.esconv),
                "examples": sizes,
                "selection": "valid loss",
                "smoke": is_smoke(),
            },
            extra={
                "text_model": {"model_sha256": text.model_sha256},
                "persona_model": {"model_sha256": persona.model_sha256},
                "control_meter": {
                    "version": MEASURE_VERSION,
                    "thresholds": self.data.thresholds,
                    "trait_heads": TRAIT_CONTROLS,
                    "strategies": list(STRATEGIES),
                    "strategy_classifier": self.data.classifier_report["chosen"],
                },
                "backbone": "preset " + config.preset if config.preset else "T5 trained from scratch",
                "params": int(model.count_params()),
            },
        )


def train_generator(
    sources: GeneratorSources,
    out: str | Path,
    config: GeneratorTrainConfig | None = None,
    *,
    resume: bool = False,
    command: str = "",
    extra_callbacks: list | None = None,
) -> Path:
    """Trains, evaluates and saves a reply generator.

    Args:
        sources: ESConv, the text and persona models, the readings cache.
        out: the run folder (tokenizer, checkpoints, history, ``model/``).
        config: hyper-parameters; shrunk under ``MEPE_SMOKE=1``.
        resume: continue the interrupted run in ``out``.
        command: the command line, recorded in the manifest.
        extra_callbacks: more Keras callbacks for ``fit``.

    Returns:
        The saved-model directory ``out/model``.
    """
    trainer = GeneratorTrainer(sources, for_run(config or GeneratorTrainConfig()), Path(out))
    return run_training(trainer, out, resume=resume, command=command, extra_callbacks=extra_callbacks)


def rebind_generator(generator: str | Path, sources: GeneratorSources, out: str | Path, *, command: str = "") -> Path:
    """A saved generator re-read through other text and persona models, its language model kept as trained.

    The T5 and its tokenizer read prompts and write replies; the text model only finds the
    exemplar (retrieval index) and, with the persona model, measures replies (control meter,
    strategy classifier). A new text model therefore needs those readings rebuilt, not a new
    T5: this rebuilds them with ``sources`` (steps 1-4 of the module docstring) and scores the
    kept T5 on the rebuilt validation and test prompts. The controls the T5 learned were
    measured by the models named under ``training.rebound.language_model_trained_with``;
    ``mepe bench-generator`` measures how well it follows the new meter.

    Args:
        generator: the saved generator whose ``model.keras`` and tokenizer are kept.
        sources: ESConv, the new text and persona models, the readings cache.
        out: the run folder (tokenizer, ``evaluation.json``, ``model/``).
        command: the command line, recorded in the manifest.

    Returns:
        The saved-model directory ``out/model``.
    """
    old = artifacts.read_manifest(generator)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    artifacts.write_bytes_atomic(out / TOKENIZER_ASSET, (Path(generator) / TOKENIZER_ASSET).read_bytes())
    trainer = GeneratorTrainer(sources, for_run(config_from_dict(GeneratorTrainConfig, old.training["config"])), out)
    trainer.load_data()
    model, _ = artifacts.load_model(generator, kind=artifacts.GENERATOR_KIND)
    evaluation = trainer.evaluate(model, out)
    manifest = trainer.manifest(model, evaluation)
    manifest.training = {
        **old.training,
        "rebound": {
            "command": command,
            "language_model_sha256": old.model_sha256,
            "language_model_trained_with": {
                "text_model": old.extra["text_model"],
                "persona_model": old.extra["persona_model"],
            },
            "rebuilt": "control meter, strategy classifier and retrieval index with the models under extra",
        },
    }
    return artifacts.save_model(
        model, out / "model", manifest, assets=trainer.assets(), weights_storage=trainer.weights_storage
    )
