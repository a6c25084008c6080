"""The T5 reply generator: a saved MEPE generator folder, loaded and checked, behind :class:`ReplyGenerator`.

A reply is written in four steps: the person's latest words are read by the text
model (its sentence vector), the nearest training message's reply becomes the
exemplar (:class:`~mepe_utils.generation.retrieval.RetrievalIndex`), the prompt
spells out the controls, the exemplar and the dialogue
(:func:`~mepe_utils.generation.prompt.build_prompt`), and the T5 decodes
(:mod:`mepe_utils.generation.decoding`). The controls the reply shows are then
measured on it (:class:`~mepe_utils.generation.measure.ControlMeter`).

The folder (``mepe train-generator``) holds ``model.keras`` (a ``T5Seq2SeqLM``),
its SentencePiece model, the strategy classifier and the retrieval index, each
checked by sha256. KerasHub does not restore the preprocessor's sequence lengths
or the sampler on load, so both are set here from the manifest.

Example:
    >>> generator = T5Generator.load(SHIPPED_GENERATOR_MODEL, text_model, persona_forward)
    >>> generator.generate("I feel overwhelmed and frustrated.", controls).text
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.generation.decoding import REPLY_DECODING, ROWS_PER_BATCH, DecodingConfig, GuardedSampler, row_keys
from mepe_utils.generation.measure import ControlMeter
from mepe_utils.generation.prompt import PromptConfig, build_prompt
from mepe_utils.generation.reply import Context, Reply, as_turns, latest_message
from mepe_utils.generation.retrieval import INDEX_ASSET, RetrievalIndex
from mepe_utils.models.generator import TOKENIZER_ASSET, GeneratorModelConfig, make_preprocessor
from mepe_utils.models.text import POOLED_LAYER
from mepe_utils.persona.traits import check_text_model
from mepe_utils.runtime import SHIPPED_MODELS_DIR

GENERATOR_KIND = artifacts.GENERATOR_KIND
SHIPPED_GENERATOR_MODEL = SHIPPED_MODELS_DIR / "generator"


class T5Generator:
    """A trained T5 with its tokenizer, exemplar index and control meter.

    Args:
        lm: the ``T5Seq2SeqLM`` (its preprocessor set).
        proto: its SentencePiece model.
        manifest: the generator's manifest.
        index: the retrieval index (exemplars).
        meter: the control meter (controls measured on each reply).
        text_model: the text model the index and the meter read with.
        decoding: how replies are decoded.
    """

    name = "t5"

    def __init__(
        self,
        lm,
        proto: bytes,
        manifest,
        index: RetrievalIndex,
        meter: ControlMeter,
        text_model,
        decoding: DecodingConfig,
    ):
        self.lm = lm
        self.proto = proto
        self.manifest = manifest
        lengths = {key: manifest.input[key] for key in ("encoder_sequence_length", "decoder_sequence_length")}
        self.model_config = GeneratorModelConfig(**lengths)
        self.index = index
        self.meter = meter
        self.text_model = text_model
        self.prompt_config = PromptConfig(**manifest.preprocessing.get("prompt", {}))
        self.decoding = decoding
        self.sampler = GuardedSampler(decoding)
        self.lm.preprocessor = make_preprocessor(proto, self.model_config)
        self.lm.compile(sampler=self.sampler, jit_compile=True)  # the decoding loop compiled by XLA, CPUs too
        self.lm.run_eagerly = True  # the first batch: see :meth:`complete`

    @classmethod
    def load(
        cls,
        directory: str | Path = SHIPPED_GENERATOR_MODEL,
        text_model=None,
        persona_forward=None,
        decoding: DecodingConfig | None = None,
    ) -> T5Generator:
        """Loads a saved generator (hashes, kind, the text model it was trained with checked).

        Args:
            directory: the saved generator.
            text_model: the loaded text model (:class:`~mepe_utils.predictors.text.TextEmotionModel`);
                refused unless it is the one the generator was trained with.
            persona_forward: the persona model's pass, for the control meter.
            decoding: how replies are decoded (:data:`~mepe_utils.generation.decoding.REPLY_DECODING` when None).

        Raises:
            ModelFileError: the folder fails its checks or does not fit the text model.
        """
        directory = Path(directory)
        lm, manifest = artifacts.load_model(directory, kind=GENERATOR_KIND)
        check_text_model(
            directory,
            manifest,
            text_model.manifest,
            retrain="mepe train-generator, or mepe rebind-generator to keep its T5",
        )
        proto = (directory / TOKENIZER_ASSET).read_bytes()
        index = RetrievalIndex.load(directory / INDEX_ASSET)
        meter = ControlMeter.load(directory, manifest, persona_forward)
        return cls(lm, proto, manifest, index, meter, text_model, decoding or REPLY_DECODING)

    def with_decoding(self, decoding: DecodingConfig) -> T5Generator:
        """The same model under another decoding (shares the weights)."""
        return T5Generator(self.lm, self.proto, self.manifest, self.index, self.meter, self.text_model, decoding)

    def exemplars(self, messages: Sequence[str]) -> list[str]:
        """The reply to the nearest training message of each message."""
        vectors = self.text_model.scores(list(messages))[POOLED_LAYER]
        return [str(self.index.replies[row]) for row in self.index.nearest(vectors, k=1)[:, 0]]

    def prompt(self, context: Context, controls: Mapping[str, str], exemplar: str | None = None) -> str:
        """The prompt for ``context`` under ``controls`` (the exemplar looked up when not given)."""
        turns = as_turns(context)
        if exemplar is None:
            exemplar = self.exemplars([latest_message(turns)])[0]
        return build_prompt(turns, controls, exemplar, self.prompt_config)

    def complete(self, prompts: Sequence[str], seed: int = 0) -> list[str]:
        """The T5's replies to ready prompts, in batches of :data:`~mepe_utils.generation.decoding.ROWS_PER_BATCH`.

        A sampled reply depends only on its prompt, ``seed`` and how often the same prompt came
        before it in ``prompts`` (:func:`~mepe_utils.generation.decoding.row_keys`): the same
        alone or in any batch. The generator's first batch is decoded eagerly and the later ones
        by KerasHub's ``generate`` function compiled by XLA (the same replies for the same seed:
        :class:`~mepe_utils.generation.decoding.NucleusSampler`). A one-shot ``mepe demo``
        answers without compiling the decoding loop, which costs more than an eager reply
        (about 8 s against 1.6 s on a 2-core CPU); compiled, a reply takes less than half
        of the time the plain traced loop takes (KerasHub only compiles it on accelerators).
        """
        sampled = self.decoding.method != "greedy"
        keys = row_keys(prompts)
        replies = []
        for start in range(0, len(prompts), ROWS_PER_BATCH):
            batch = list(prompts[start : start + ROWS_PER_BATCH])
            if sampled:
                self.sampler.inner.start_batch(seed, keys[start : start + len(batch)])
            outputs = self.lm.generate(batch, max_length=self.decoding.max_new_tokens + 1)
            replies.extend(" ".join(str(text).split()) for text in outputs)
            if self.lm.run_eagerly:
                self.lm.run_eagerly, self.lm.generate_function = False, None  # compiled from the next batch on
        return replies

    def candidates(self, prompts: Sequence[str], seed: int = 0) -> tuple[list[str], dict[str, np.ndarray]]:
        """The decoding's ``candidates`` replies to each prompt, with each control's score on them.

        Returns:
            ``len(prompts) * candidates`` replies, each prompt's together, and each control's
            score on them (``{control: (N,)}``).
        """
        texts = self.complete([prompt for prompt in prompts for _ in range(self.decoding.candidates)], seed=seed)
        return texts, self.meter.score_texts(self.text_model, [text or "." for text in texts])

    def closest(self, texts: Sequence[str], scores: dict[str, np.ndarray], controls: Sequence[Mapping[str, str]]):
        """(P,) the row of :meth:`candidates`' output kept for each of P prompts: the reply whose
        measured controls come closest to the requested ones
        (:meth:`~mepe_utils.generation.measure.ControlMeter.distances`, ties to the first written;
        an empty reply only when all are empty)."""
        count = self.decoding.candidates
        distances = self.meter.distances(scores, [wanted for wanted in controls for _ in range(count)])
        distances[[not text for text in texts]] = np.inf
        return distances.reshape(len(controls), count).argmin(axis=1) + np.arange(len(controls)) * count

    def answer(
        self, prompts: Sequence[str], controls: Sequence[Mapping[str, str]], seed: int = 0
    ) -> tuple[list[str], dict[str, np.ndarray]]:
        """Each prompt's reply under its requested controls, with the controls measured on it: the
        :meth:`closest` of its :meth:`candidates` (the only one when ``candidates`` is 1).

        Args:
            prompts: ready prompts (:meth:`prompt`).
            controls: each prompt's requested control values.
            seed: the sampling seed (ignored by greedy decoding).

        Returns:
            The replies, and each control's score on them (``{control: (N,)}``).
        """
        texts, scores = self.candidates(prompts, seed=seed)
        kept = self.closest(texts, scores, controls)
        return [texts[row] for row in kept], {name: values[kept] for name, values in scores.items()}

    def generate(self, context: Context, controls: Mapping[str, str], *, seed: int = 0) -> Reply:
        """A reply to ``context`` under ``controls``, decoded with ``seed`` (ignored by greedy decoding).

        Raises:
            MepeError: no words from the person in ``context``, or a control outside the schema.
        """
        prompt = self.prompt(context, controls)
        texts, scores = self.answer([prompt], [controls], seed=seed)
        measured = self.meter.levels(scores)[0] if texts[0] else {}
        drawn = seed if self.decoding.method != "greedy" else None
        return Reply(texts[0], self.name, dict(controls), measured, prompt, drawn)
