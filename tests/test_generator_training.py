"""``train-generator`` end to end on tiny models: the T5 from scratch, resume, safe reload, the preset path."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from conftest import (
    build_tiny_persona,
    tiny_generator_config,
    tiny_text_encoder,
    tiny_text_head,
    write_esconv_folder,
    write_goemotions_folder,
)
from mepe_utils.errors import MepeError, ModelFileError
from mepe_utils.generation.decoding import DecodingConfig
from mepe_utils.generation.prompt import CONTROL_SYMBOLS
from mepe_utils.generation.retrieval import RetrievalGenerator
from mepe_utils.generation.t5 import T5Generator
from mepe_utils.models.generator import GeneratorModelConfig, train_sentencepiece
from mepe_utils.persona.traits import PersonaReader
from mepe_utils.predictors.text import TextEmotionModel
from mepe_utils.training.generator import GeneratorSources, epoch_order, rebind_generator, train_generator

CALM = {"empathy_level": "High", "response_style": "Calm", "assertiveness": "Low", "formality": "Casual"}
MESSAGES = ["i feel so stressed about my job", "My partner left me and I cannot stop crying."]


@pytest.fixture(scope="module")
def readers(tiny_text_model_dir, tiny_persona):
    text_model = TextEmotionModel.load(tiny_text_model_dir)
    return text_model, PersonaReader.load(tiny_persona).forward


def test_the_control_words_are_single_pieces_of_the_trained_tokenizer():
    import keras_hub

    proto = train_sentencepiece(["hello there, how are you feeling today?"] * 20 + list(CONTROL_SYMBOLS), 80)
    tokenizer = keras_hub.models.T5Tokenizer(proto=proto)
    pieces = [tokenizer.id_to_token(int(i)) for i in tokenizer.tokenize("empathy=high formality=casual")]
    assert "empathy=high" in pieces and "formality=casual" in pieces
    assert [tokenizer.id_to_token(i) for i in range(3)] == ["<pad>", "</s>", "<unk>"]


def test_each_epoch_order_is_a_function_of_seed_and_epoch():
    first = epoch_order(10, 3, seed=1, epoch=4)
    assert first.shape == (3, 3) and len(set(first.ravel())) == 9
    assert np.array_equal(first, epoch_order(10, 3, seed=1, epoch=4))
    assert not np.array_equal(first, epoch_order(10, 3, seed=1, epoch=5))


@pytest.mark.slow
def test_a_saved_generator_reloads_in_safe_mode_and_writes_the_same_greedy_replies(tiny_generator, readers):
    text_model, forward = readers
    first = T5Generator.load(tiny_generator, text_model, forward, DecodingConfig())
    second = T5Generator.load(tiny_generator, text_model, forward, DecodingConfig())
    replies = [first.generate(m, CALM).text for m in MESSAGES]
    assert replies == [second.generate(m, CALM).text for m in MESSAGES]
    assert first.lm.preprocessor.encoder_sequence_length == 64  # set from the manifest, not KerasHub's 1024
    reply = first.generate(MESSAGES[0], CALM)
    assert reply.backend == "t5" and reply.controls_requested == CALM and "exemplar: " in reply.prompt
    sampler = first.with_decoding(DecodingConfig(method="top_p", seed=0))
    assert sampler.lm.run_eagerly  # its first reply is decoded eagerly, the next by the traced loop: same words
    assert sampler.generate(MESSAGES[1], CALM, seed=5).text == sampler.generate(MESSAGES[1], CALM, seed=5).text
    assert not sampler.lm.run_eagerly
    retrieved = RetrievalGenerator(first.index, first.meter, text_model).generate(MESSAGES[1], CALM)
    assert retrieved.backend == "retrieval" and retrieved.text in set(first.index.replies.tolist())


@pytest.mark.slow
def test_best_of_k_keeps_the_written_reply_whose_measured_controls_come_closest(tiny_generator, readers):
    text_model, forward = readers
    decoding = DecodingConfig(method="top_p", temperature=1.5, candidates=4, seed=0)
    generator = T5Generator.load(tiny_generator, text_model, forward, decoding)
    prompt = generator.prompt(MESSAGES[0], CALM)
    generator.complete([prompt], seed=0)  # the first batch decodes eagerly: compare replies decoded alike
    candidates = generator.complete([prompt] * 4, seed=3)  # what answer() writes with the same seed
    measured = generator.meter.score_texts(text_model, [text or "." for text in candidates])
    distances = generator.meter.distances(measured, [CALM] * 4)
    distances[[not text for text in candidates]] = np.inf  # an empty reply is kept only when all four are empty
    closest = int(np.argmin(distances))
    assert candidates[closest]
    replies, scores = generator.answer([prompt], [CALM], seed=3)
    assert replies == [candidates[closest]]
    assert all(scores[name][0] == pytest.approx(measured[name][closest]) for name in measured)
    reply = generator.generate(MESSAGES[0], CALM, seed=3)
    assert reply.text == candidates[closest] and set(reply.controls_measured) == set(CALM)


@pytest.mark.slow
def test_a_sampled_reply_depends_on_its_prompt_and_seed_not_on_the_batch_around_it(tiny_generator, readers):
    text_model, forward = readers
    decoding = DecodingConfig(method="top_p", temperature=1.5, seed=0)
    generator = T5Generator.load(tiny_generator, text_model, forward, decoding)
    first, second = (generator.prompt(message, CALM) for message in MESSAGES[:2])
    alone = generator.complete([second], seed=4)  # eager: the generator's first batch
    together = generator.complete([first, first, second], seed=4)  # compiled, second in the third row
    assert together[2] == alone[0]
    assert generator.complete([second, first], seed=4)[0] == alone[0]
    assert len({generator.complete([second], seed=seed)[0] for seed in range(6)}) > 1  # the seed still draws


@pytest.mark.slow
def test_a_generator_refuses_a_text_model_it_was_not_trained_with(tiny_generator, tiny_persona, readers):
    text_model, forward = readers
    other = replace(text_model.manifest, model_sha256="0" * 64)
    text_model_other = type("Other", (), {"manifest": other})()
    with pytest.raises(ModelFileError, match="retrain it \\(mepe train-generator, or mepe rebind-generator"):
        T5Generator.load(tiny_generator, text_model_other, forward)


def test_a_rebound_generator_keeps_its_t5_and_reads_with_the_new_text_model(tiny_generator, readers, tmp_path):
    from mepe_utils import artifacts
    from mepe_utils.training.text import TextTrainConfig, train_text

    backbone, preprocessor = tiny_text_encoder()
    config = TextTrainConfig(model=tiny_text_head(), epochs=1, batch_size=2, warmup_fraction=0.0, jit_compile=False,
                             seed=7)  # fmt: skip
    text_dir = train_text(write_goemotions_folder(tmp_path / "goemotions"), tmp_path / "text", config,
                          backbone=backbone, preprocessor=preprocessor)  # fmt: skip
    persona_dir = build_tiny_persona(text_dir, tmp_path / "persona")
    sources = GeneratorSources(write_esconv_folder(tmp_path / "esconv"), text_dir, persona_dir, tmp_path / "cache")
    rebound = rebind_generator(tiny_generator, sources, tmp_path / "rebound", command="mepe rebind-generator")

    old, new = artifacts.read_manifest(tiny_generator), artifacts.read_manifest(rebound)
    assert new.extra["text_model"]["model_sha256"] == artifacts.read_manifest(text_dir).model_sha256
    assert new.training["rebound"]["language_model_trained_with"]["text_model"] == old.extra["text_model"]
    assert new.training["rebound"]["language_model_sha256"] == old.model_sha256
    assert (rebound / "tokenizer.spm").read_bytes() == (tiny_generator / "tokenizer.spm").read_bytes()
    kept, _ = artifacts.load_model(tiny_generator, kind=artifacts.GENERATOR_KIND)
    reloaded, _ = artifacts.load_model(rebound, kind=artifacts.GENERATOR_KIND)
    for before, after in zip(kept.backbone.get_weights(), reloaded.backbone.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    forward = PersonaReader.load(persona_dir).forward
    reply = T5Generator.load(rebound, TextEmotionModel.load(text_dir), forward).generate(MESSAGES[0], CALM)
    assert reply.backend == "t5" and reply.text
    old_text_model, _ = readers
    with pytest.raises(ModelFileError, match="retrain it"):  # the text model it was trained with no longer fits
        T5Generator.load(rebound, old_text_model, forward)


@pytest.mark.slow
def test_an_interrupted_run_resumes_and_refuses_changed_options(tiny_text_model_dir, tiny_persona, tmp_path):
    sources = GeneratorSources(write_esconv_folder(tmp_path / "esconv"), tiny_text_model_dir, tiny_persona,
                               tmp_path / "cache")  # fmt: skip
    config = tiny_generator_config()
    train_generator(sources, tmp_path / "run", config)
    with pytest.raises(MepeError, match="already holds a training run"):
        train_generator(sources, tmp_path / "run", config)
    changed = replace(config, batch_size=4, epochs=2)
    with pytest.raises(MepeError, match="batch_size"):
        train_generator(sources, tmp_path / "run", changed, resume=True)
    saved = train_generator(sources, tmp_path / "run", replace(config, epochs=2), resume=True)
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["training"]["epochs_run"] == 2 and len(manifest["training"]["resumed_with"]) == 1
    header, *rows = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert len(rows) == 2 and "accuracy" not in header  # resumed with the run's own compile (Adafactor, its loss)


@pytest.mark.slow
def test_the_preset_path_fine_tunes_a_keras_hub_t5_preset_with_its_own_tokenizer(
    tiny_text_model_dir, tiny_persona, tmp_path, readers
):
    import keras_hub

    from mepe_utils.models.generator import build_t5, make_preprocessor

    texts = ["hello there, how are you feeling today?", "i am sorry to hear that"] * 20
    proto = train_sentencepiece(texts, 100, symbols=())  # a preset's tokenizer knows no control symbols
    shape = GeneratorModelConfig(vocabulary_size=100, num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32,
                                 key_value_dim=8, encoder_sequence_length=64, decoder_sequence_length=16)  # fmt: skip
    preset = keras_hub.models.T5Seq2SeqLM(build_t5(shape).backbone, make_preprocessor(proto, shape))
    preset.save_to_preset(str(tmp_path / "preset"))
    sources = GeneratorSources(write_esconv_folder(tmp_path / "esconv"), tiny_text_model_dir, tiny_persona,
                               tmp_path / "cache")  # fmt: skip
    config = replace(tiny_generator_config(), preset=str(tmp_path / "preset"))
    saved = train_generator(sources, tmp_path / "run", config)
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["extra"]["backbone"] == f"preset {tmp_path / 'preset'}"
    assert manifest["training"]["config"]["preset"] == str(tmp_path / "preset")
    assert (saved / "tokenizer.spm").read_bytes() == proto
    text_model, forward = readers
    assert T5Generator.load(saved, text_model, forward).generate(MESSAGES[0], CALM).backend == "t5"


@pytest.mark.slow
def test_bench_generator_writes_every_key_the_checks_read(
    tiny_generator, tiny_text_model_dir, tiny_persona, tmp_path, monkeypatch
):
    from mepe_utils.bench.generator import bench_generator

    def demo_in_fresh_process(kind, models, photo, calls, batch):  # the real one is bench-inference's, tested there
        assert kind == "demo" and Path(photo).is_file() and Path(models["generator"]) == Path(tiny_generator)
        return {"cold_start_s": 1.5, "latency_ms_p50": 2.0, "latency_ms_p95": 3.0, "peak_rss_mb": 4.0}

    monkeypatch.setattr("mepe_utils.bench.inference.measure_in_fresh_process", demo_in_fresh_process)
    esconv = write_esconv_folder(tmp_path / "esconv")
    results = bench_generator(
        tiny_generator, esconv, tmp_path / "cache", text_model=tiny_text_model_dir, persona_model=tiny_persona,
        adherence_contexts=8, json_path=tmp_path / "bench.json",
    )  # fmt: skip
    stored = json.loads((tmp_path / "bench.json").read_text())
    assert stored["speed"]["demo_cold_start_s"] == 1.5 and stored["speed"]["reply_ms_p50"] > 0
    assert set(stored["adherence"]) == {"t5", "t5_first_candidate", "retrieval", "static_prompt"}  # best of 3
    for backend in ("t5", "t5_first_candidate", "retrieval", "static_prompt"):
        assert set(stored["adherence"][backend]) == {"empathy", "style", "assertiveness", "formality"}
        assert backend == "t5_first_candidate" or {"rouge_l", "distinct_2"} <= set(stored["quality"][backend])
    assert all(value == 0.5 for value in stored["adherence"]["static_prompt"].values())
    assert "ppl_word" in stored["quality"]["t5"] and "ppl_word" in stored["quality"]["static_prompt"]
    assert stored["generator_file_mb"] > 0 and results["setup"]["adherence_contexts"] == 8


@pytest.mark.slow
def test_the_selection_table_builds_flan_t5_small_in_its_presets_shape(tiny_generator):
    from mepe_utils.bench.llm_selection import measure_in_this_process

    small = measure_in_this_process("flan_small_multi", str(tiny_generator))
    assert small["params_m"] == 77.0 and small["weights"].startswith("random")
    shipped = measure_in_this_process("shipped_t5", str(tiny_generator))
    assert shipped["weights"].startswith("trained") and shipped["reply_40_tokens_ms_p50"] > 0
