"""``python -m mepe_utils bench-generator``: the reply generators on ESConv test.

Every test example is a dialogue and the supporter's real reply. Three backends answer it:

==================  ===================================================================================
backend             what it reads
==================  ===================================================================================
``t5``              the shipped T5, prompted with the controls MEPE's policy derives from the seeker's
                    latest words (read as text, as ``mepe analyze`` reads them): what a user gets
``retrieval``       the same controls; the best-matching human reply from the train index
``static_prompt``   the same T5 with the controls fixed (:data:`STATIC_CONTROLS`) whatever the person
==================  ===================================================================================

plus ``t5_reference_controls``: the T5 prompted with the controls measured on the reference
reply itself, as in training (how well the model can write a given reply when told its controls);
and, when the decoding writes several candidates per answer, ``t5_first_candidate`` in the
adherence table: the first candidate of each answer, before the closest is chosen (what the
T5 follows by itself, without the choice made by the meter that also scores adherence).

**Quality** (all test examples, the product's decoding unless told otherwise, seeded): word-level perplexity
of the reference under the T5's prompt (:func:`~mepe_utils.training.generator.perplexities`),
ROUGE-L, BLEU-2 and distinct-1/2 (:mod:`mepe_utils.generation.metrics`).

**Adherence** (a seeded sample of ``adherence_contexts`` test dialogues): for each control, a
reply is generated at its lowest and at its highest value, the other three at the policy's
values for that dialogue; both replies are measured by the generator's control meter (the
measurement that labelled the training replies) and the share where "high" measures higher
is reported, ties half. The static prompt writes one reply per dialogue whatever is asked, so
its pairs tie (0.5): the chance level.

**Speed**: latency of a 40-token reply (the same decoding, forced to 40 tokens: one answer's
candidates in one batch, after the first, eager batch has compiled the loop), and the
whole ``mepe demo`` (both readers, fusion, persona, policy, reply) in a fresh process: cold start
and warm p50 (:mod:`mepe_utils.bench.inference`, kind ``demo``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from mepe_utils import artifacts
from mepe_utils.bench.timing import latency_ms
from mepe_utils.data.esconv import load_esconv, supporter_replies
from mepe_utils.generation.decoding import DecodingConfig, describe_decoding
from mepe_utils.generation.metrics import adherence, quality
from mepe_utils.generation.prompt import PROMPT_NAMES, build_prompt
from mepe_utils.generation.retrieval import RetrievalGenerator
from mepe_utils.generation.t5 import SHIPPED_GENERATOR_MODEL, T5Generator
from mepe_utils.persona.policy import Policy
from mepe_utils.persona.schema import CONTROLS
from mepe_utils.persona.traits import SHIPPED_PERSONA_MODEL, PersonaReader, TraitSignals, trait_scores
from mepe_utils.predictors.text import SHIPPED_TEXT_MODEL, TextEmotionModel
from mepe_utils.predictors.text_readings import TextReadings, text_readings
from mepe_utils.runtime import is_smoke, machine_record
from mepe_utils.training.generator import example_labels, perplexities, reply_token_losses, scoring_arrays

STATIC_CONTROLS = {"empathy_level": "Medium", "response_style": "Neutral", "assertiveness": "Medium",
                   "formality": "Neutral"}  # fmt: skip
"""The static prompt's controls: the middle of every scale, whatever the person wrote."""
BACKENDS = ("t5", "retrieval", "static_prompt", "t5_reference_controls")
REPLY_TOKENS = 40
SAMPLES_SHOWN = 8


def policy_controls(reader: PersonaReader, policy: Policy, readings: TextReadings) -> list[dict[str, str]]:
    """The controls MEPE's policy derives from each text read alone (no face), as ``mepe analyze`` does."""
    inputs = readings.inputs()
    outputs = reader.forward(inputs["reading"], inputs["style"])
    scores = trait_scores(TraitSignals(outputs, text_emotions=readings.ekman))
    controls = []
    for row in range(len(readings)):
        levels = reader.levels({name: values[row] for name, values in scores.items()})
        decided = policy.decide_levels(levels, {"face"})
        controls.append({name: decision.value for name, decision in decided.decisions.items()})
    return controls


def _measured_scores(generator: T5Generator, replies: list[str]) -> dict[str, np.ndarray]:
    texts = [reply if reply.strip() else "." for reply in replies]
    return generator.meter.score_texts(generator.text_model, texts)


def _extremes(controls: dict[str, str], control: str) -> tuple[dict, dict]:
    values = CONTROLS[control]
    return {**controls, control: values[0]}, {**controls, control: values[-1]}


def bench_generator(
    generator_dir: str | Path | None,
    esconv_dir: str | Path,
    cache_dir: str | Path,
    *,
    text_model: str | Path | None = None,
    persona_model: str | Path | None = None,
    adherence_contexts: int = 500,
    limit: int | None = None,
    seed: int = 0,
    decoding: DecodingConfig | None = None,
    speed: bool = True,
    json_path: str | Path | None = None,
    command: str = "",
) -> dict:
    """Measures the generators (see the module docstring); writes ``json_path`` when given.

    Args:
        generator_dir: the saved generator (the shipped one when None).
        esconv_dir: the ESConv folder.
        cache_dir: the text-readings cache.
        text_model, persona_model: the models the generator was trained with (the shipped ones when None).
        adherence_contexts: test dialogues in the adherence sample.
        limit: score only the first ``limit`` test examples (quick checks; None: all).
        seed: the adherence sample's seed.
        decoding: the T5's decoding (the product's, :data:`~mepe_utils.generation.decoding.REPLY_DECODING`, when None).
        speed: also time a reply and the demo (fresh process).
        json_path: where to write the results.
        command: the command line, recorded in the results.
    """
    generator_dir = Path(generator_dir or SHIPPED_GENERATOR_MODEL)
    text_model, persona_model = Path(text_model or SHIPPED_TEXT_MODEL), Path(persona_model or SHIPPED_PERSONA_MODEL)
    text_reader = TextEmotionModel.load(text_model)
    persona_reader = PersonaReader.load(persona_model, text_model=text_reader.manifest)
    policy = Policy.load()
    t5 = T5Generator.load(generator_dir, text_reader, persona_reader.forward, decoding)
    retrieval = RetrievalGenerator(t5.index, t5.meter, text_reader)

    examples = supporter_replies(load_esconv(esconv_dir, splits=("test",))["test"])
    if limit is not None or is_smoke():
        examples = examples[: limit or 64]
    references = [e.reply for e in examples]
    reference_readings = text_readings(text_model, "esconv-test-replies", references, cache_dir)
    messages = sorted({e.seeker_last for e in examples})
    message_readings = text_readings(text_model, "esconv-test-seeker-last", messages, cache_dir)
    row_of = {text: row for row, text in enumerate(messages)}
    rows = [row_of[e.seeker_last] for e in examples]
    message_controls = policy_controls(persona_reader, policy, message_readings)
    asked = [message_controls[row] for row in rows]
    keys = message_readings.sentence_vectors[rows]
    exemplars = [str(t5.index.replies[row]) for row in t5.index.nearest(keys, k=1)[:, 0]]
    reference_controls = example_labels(
        [e.strategy for e in examples], t5.meter.levels(t5.meter.scores(reference_readings))
    )

    def t5_scores(indices, controls_per_index) -> dict[str, dict[str, np.ndarray]]:
        """The measured controls of the T5's answers, and of each answer's first candidate."""
        chosen = zip(indices, controls_per_index, strict=True)
        prompts = [build_prompt(examples[i].context, c, exemplars[i], t5.prompt_config) for i, c in chosen]
        texts, scores = t5.candidates(prompts)
        rows = {"t5": t5.closest(texts, scores, controls_per_index)}
        if t5.decoding.candidates > 1:
            rows["t5_first_candidate"] = np.arange(len(prompts)) * t5.decoding.candidates
        return {backend: {name: values[kept] for name, values in scores.items()} for backend, kept in rows.items()}

    def retrieval_replies(indices, controls_per_index) -> list[str]:
        chosen = zip(indices, controls_per_index, strict=True)
        best = (t5.index.best_reply(keys[i], c, retrieval.candidates, retrieval.control_weight) for i, c in chosen)
        return [str(t5.index.replies[row]) for row in best]

    control_sets = {
        "t5": asked,
        "static_prompt": [STATIC_CONTROLS] * len(examples),
        "t5_reference_controls": reference_controls,
    }
    replies, results = {}, {"quality": {}, "adherence": {}}
    for backend, controls in control_sets.items():
        chosen = zip(examples, controls, exemplars, strict=True)
        backend_prompts = [build_prompt(e.context, c, x, t5.prompt_config) for e, c, x in chosen]
        replies[backend] = t5.answer(backend_prompts, controls)[0]
        arrays = scoring_arrays(t5.proto, t5.model_config, backend_prompts, references)
        scores = perplexities(reply_token_losses(t5.lm, arrays), arrays, references)
        results["quality"][backend] = {"ppl_word": scores["ppl_word"], "ppl_token": scores["ppl_token"],
                                       **quality(replies[backend], references)}  # fmt: skip
    replies["retrieval"] = retrieval_replies(range(len(examples)), asked)
    results["quality"]["retrieval"] = quality(replies["retrieval"], references)

    sample = np.sort(np.random.default_rng(seed).permutation(len(examples))[: min(adherence_contexts, len(examples))])
    static_scores = _measured_scores(t5, [replies["static_prompt"][i] for i in sample])
    for control in CONTROLS:
        low_controls, high_controls = zip(*(_extremes(asked[i], control) for i in sample), strict=True)
        name = PROMPT_NAMES[control]
        low, high = (t5_scores(sample, side) for side in (low_controls, high_controls))
        pairs = {
            **{backend: (low[backend], high[backend]) for backend in low},
            "retrieval": [
                _measured_scores(t5, retrieval_replies(sample, side)) for side in (low_controls, high_controls)
            ],
        }
        for backend, (low_scores, high_scores) in pairs.items():
            results["adherence"].setdefault(backend, {})[name] = adherence(low_scores[control], high_scores[control])
        static = adherence(static_scores[control], static_scores[control])
        results["adherence"].setdefault("static_prompt", {})[name] = static

    results["samples"] = [
        {"context": examples[i].context[-2:], "reference": references[i], "controls": asked[i],
         **{backend: replies[backend][i] for backend in ("t5", "retrieval", "static_prompt")}}
        for i in sample[:SAMPLES_SHOWN]
    ]  # fmt: skip
    if speed:
        results["speed"] = _speed(t5, generator_dir, text_model, persona_model)
    results["generator_file_mb"] = round((generator_dir / "model.keras").stat().st_size / 2**20, 2)
    results["setup"] = {
        "test_examples": len(examples),
        "adherence_contexts": int(len(sample)),
        "decoding": describe_decoding(t5.decoding),
        "candidates": t5.decoding.candidates,
        "static_controls": STATIC_CONTROLS,
        "generator": str(generator_dir),
        "generator_manifest_sha256": artifacts.read_manifest(generator_dir).model_sha256,
        **machine_record(),
        "command": command,
        "smoke": is_smoke(),
    }
    if json_path:
        artifacts.write_json_atomic(json_path, results)
    return results


def _speed(t5: T5Generator, generator_dir: Path, text_model: Path, persona_model: Path) -> dict:
    """A 40-token reply's latency here, and the demo's cold start and warm p50 in a fresh process."""
    from mepe_utils.bench.inference import measure_in_fresh_process, write_sample_photo
    from mepe_utils.demo import DEFAULT_TEXT
    from mepe_utils.predictors.face import SHIPPED_FACE_MODEL
    from mepe_utils.predictors.fusion import SHIPPED_FUSION_MODEL

    prompts = [t5.prompt(DEFAULT_TEXT, STATIC_CONTROLS)] * t5.decoding.candidates  # what one answer decodes
    t5.complete(prompts)  # a generator's first batch is decoded eagerly (T5Generator.complete): time the compiled loop
    reply = latency_ms(lambda: t5.lm.generate(prompts, max_length=REPLY_TOKENS + 1, stop_token_ids=None),
                       calls=30, warmup=3)  # fmt: skip
    models = {"text": str(text_model), "face": str(SHIPPED_FACE_MODEL), "fusion": str(SHIPPED_FUSION_MODEL),
              "persona": str(persona_model), "generator": str(generator_dir)}  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        demo = measure_in_fresh_process("demo", models, write_sample_photo(Path(folder)), calls=50, batch=1)
    return {
        "reply_ms_p50": round(reply["p50"], 1),
        "reply_ms_p95": round(reply["p95"], 1),
        "demo_ms_p50": demo["latency_ms_p50"],
        "demo_ms_p95": demo["latency_ms_p95"],
        "demo_cold_start_s": demo["cold_start_s"],
        "demo_peak_rss_mb": demo["peak_rss_mb"],
    }


def print_generator_benchmark(results: dict) -> None:
    """The quality and adherence tables and the speed line."""
    print("quality on ESConv test (ROUGE-L, BLEU-2 in %; distinct as fractions):")
    columns = ("ppl_word", "rouge_l", "bleu_2", "distinct_1", "distinct_2", "mean_words")
    print(f"  {'backend':22s}" + "".join(f"{c:>11s}" for c in columns))
    for backend, scores in results["quality"].items():
        cells = "".join(f"{scores[c]:11.3f}" if c in scores else f"{'-':>11s}" for c in columns)
        print(f"  {backend:22s}{cells}")
    print("control adherence (share of dialogues where the 'high' reply measures higher; chance 0.5):")
    names = list(PROMPT_NAMES.values())
    print(f"  {'backend':22s}" + "".join(f"{n:>15s}" for n in names))
    for backend, scores in results["adherence"].items():
        print(f"  {backend:22s}" + "".join(f"{scores[n]:15.3f}" for n in names))
    if "speed" in results:
        print("speed: " + ", ".join(f"{k} {v}" for k, v in results["speed"].items()))
    print(f"generator file: {results['generator_file_mb']} MB")
