"""Phase 5C pieces: ESConv examples, the prompt, the control meter, retrieval, decoding rules and metrics."""

import json

import numpy as np
import pytest

from mepe_utils.data.esconv import STRATEGIES, Conversation, load_esconv, supporter_replies
from mepe_utils.errors import MepeError, ModelFileError
from mepe_utils.generation.decoding import (
    DecodingConfig,
    NucleusSampler,
    guard_logits,
    hashed_uniform,
    row_keys,
    uniform_from_bits,
)
from mepe_utils.generation.measure import (
    STRATEGY_ASSERTIVENESS,
    STRATEGY_EMPATHY,
    ControlMeter,
    StrategyClassifier,
    level_value,
    strategy_controls,
)
from mepe_utils.generation.metrics import adherence, corpus_bleu, distinct_n, quality, rouge_l, words
from mepe_utils.generation.prompt import CONTROL_SYMBOLS, PromptConfig, build_prompt, control_words, dialogue_words
from mepe_utils.generation.reply import as_turns
from mepe_utils.generation.retrieval import RetrievalIndex
from mepe_utils.persona.schema import CONTROLS

CALM = {"empathy_level": "High", "response_style": "Calm", "assertiveness": "Low", "formality": "Casual"}


# --- ESConv examples ---------------------------------------------------------------------------------


def test_supporter_replies_join_runs_of_one_speaker_and_skip_replies_before_the_seeker_speaks():
    conversation = Conversation("anxiety", "job", "", [
        ("sys", "Hello!", "Others"),
        ("usr", "hi", None),
        ("usr", "i lost my job", None),
        ("sys", "I am sorry.", "Affirmation and Reassurance"),
        ("sys", "What happened?", "Question"),
    ])  # fmt: skip
    first, second = supporter_replies([conversation])
    assert first.context == [("sys", "Hello!"), ("usr", "hi i lost my job")] and first.strategy == STRATEGIES[4]
    assert second.context[-1] == ("sys", "I am sorry.") and second.reply == "What happened?"
    assert second.seeker_last == "hi i lost my job" and (first.turn, second.turn) == (3, 4)


def test_supporter_replies_refuse_an_unknown_strategy():
    conversation = Conversation("", "", "", [("usr", "hi", None), ("sys", "hello", "Chit-chat")])
    with pytest.raises(MepeError, match="unknown strategy 'Chit-chat'"):
        supporter_replies([conversation])


def test_real_esconv_gives_every_supporter_turn_after_a_seeker_turn(real_data_dir):
    splits = load_esconv(real_data_dir / "esconv")
    counts = {split: len(supporter_replies(conversations)) for split, conversations in splits.items()}
    assert counts == {"train": 12235, "valid": 2616, "test": 2794}


# --- prompt ---------------------------------------------------------------------------------------


def test_the_prompt_spells_out_the_controls_first_then_the_exemplar_and_the_newest_dialogue():
    context = [("sys", "Hi, how are you?"), ("usr", "not good, i lost my job today")]
    prompt = build_prompt(context, CALM, "That must be so hard.")
    assert prompt == (
        "empathy=high style=calm assertiveness=low formality=casual | exemplar: That must be so hard. | "
        "dialogue: supporter: Hi, how are you? seeker: not good, i lost my job today"
    )
    assert build_prompt(context, CALM).split(" | ")[1] == "exemplar: none"
    assert len(CONTROL_SYMBOLS) == sum(len(v) for v in CONTROLS.values()) and "style=upbeat" in CONTROL_SYMBOLS


def test_the_dialogue_keeps_the_newest_turns_within_its_word_budget():
    context = [("usr", "one two three"), ("sys", "four five"), ("usr", "six seven eight nine")]
    assert dialogue_words(context, 8) == "supporter: four five seeker: six seven eight nine"
    assert dialogue_words(context, 3) == "seeker: eight nine"  # the newest turn alone, cut to its last words
    long_exemplar = " ".join(["word"] * 100)
    prompt = build_prompt(context, CALM, long_exemplar, PromptConfig(dialogue_words=5, exemplar_words=4))
    assert "exemplar: word word word word |" in prompt and prompt.endswith("seeker: six seven eight nine")


def test_a_prompt_needs_the_persons_words_and_controls_from_the_schema():
    with pytest.raises(MepeError, match="no seeker turn"):
        build_prompt([("sys", "hello")], CALM)
    with pytest.raises(MepeError, match="response_style: 'Sad'"):
        control_words({**CALM, "response_style": "Sad"})
    with pytest.raises(MepeError, match="no words from the person"):
        as_turns([("sys", "hi")])
    assert as_turns("i am sad") == [("usr", "i am sad")]


# --- control meter --------------------------------------------------------------------------------


def test_strategy_mappings_cover_every_strategy_and_give_each_control_its_three_levels():
    assert set(STRATEGY_EMPATHY) == set(STRATEGIES) == set(STRATEGY_ASSERTIVENESS)
    assert strategy_controls("Reflection of feelings") == {"empathy_level": "High", "assertiveness": "Low"}
    assert strategy_controls("Providing Suggestions") == {"empathy_level": "Low", "assertiveness": "High"}
    assert strategy_controls("Self-disclosure") == {"empathy_level": "Medium", "assertiveness": "Medium"}
    thresholds = (0.4, 0.6)
    values = [level_value("formality", score, thresholds) for score in (0.39, 0.4, 0.59, 0.6)]
    assert values == ["Casual", "Neutral", "Neutral", "Formal"]


def test_the_strategy_classifier_learns_separable_strategies_and_survives_a_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(len(STRATEGIES), 6)) * 4
    labels = rng.integers(0, len(STRATEGIES), 400)
    features = centers[labels] + rng.normal(size=(400, 6))
    names = [STRATEGIES[i] for i in labels]
    classifier, report = StrategyClassifier.fit(features[:300], names[:300], features[300:], names[300:])
    assert report["chosen"]["valid_accuracy"] > 0.9 and len(report["candidates"]) == 4
    probabilities = classifier.probabilities(features[300:])
    assert probabilities.shape == (100, 8) and np.allclose(probabilities.sum(axis=1), 1.0)
    classifier.save(tmp_path / "classifier.npz")
    again = StrategyClassifier.load(tmp_path / "classifier.npz")
    assert np.allclose(again.probabilities(features[300:]), probabilities)
    (tmp_path / "broken.npz").write_bytes(b"not a file")
    with pytest.raises(ModelFileError, match="not a strategy classifier"):
        StrategyClassifier.load(tmp_path / "broken.npz")


# --- retrieval ------------------------------------------------------------------------------------


def _index():
    keys = np.array([[1.0, 0.0], [0.99, 0.1], [0.0, 1.0], [0.98, 0.12]])
    controls = [
        {"empathy_level": "Low", "response_style": "Neutral", "assertiveness": "High", "formality": "Formal"},
        CALM,
        CALM,
        {**CALM, "formality": "Formal"},
    ]
    return RetrievalIndex.build(keys, ["advice", "comfort", "other topic", "formal comfort"], [0, 1, 2, 3], controls)


def test_retrieval_finds_the_nearest_messages_and_skips_their_own_conversation():
    index = _index()
    assert index.nearest(np.array([[1.0, 0.0]]), k=2).tolist() == [[0, 1]]
    assert index.nearest(np.array([[1.0, 0.0]]), k=1, exclude_groups=np.array([0])).tolist() == [[1]]


def test_retrieval_prefers_among_similar_messages_the_reply_that_already_shows_the_controls(tmp_path):
    index = _index()
    assert index.best_reply(np.array([1.0, 0.0]), CALM, candidates=3) == 1
    assert index.best_reply(np.array([1.0, 0.0]), CALM, candidates=3, control_weight=0.0) == 0
    index.save(tmp_path / "index.npz")
    again = RetrievalIndex.load(tmp_path / "index.npz")
    assert again.replies.tolist() == index.replies.tolist() and again.best_reply(np.array([1.0, 0.0]), CALM) == 1


def test_distances_add_up_how_far_each_score_falls_outside_the_band_it_was_asked_for():
    meter = ControlMeter(None, None, {"response_style": (0.4, 0.6), "formality": (0.3, 0.7)})
    scores = {  # CALM asks empathy High, style Calm, assertiveness Low, formality Casual
        "empathy_level": np.array([0.9, 0.2]),
        "response_style": np.array([0.5, 0.5]),
        "assertiveness": np.array([0.1, 0.5]),
        "formality": np.array([0.1, 0.9]),
    }
    expected = [0.1, (2 / 3 - 0.2) + 0.1 + (0.5 - 1 / 3) + (0.9 - 0.3)]
    np.testing.assert_allclose(meter.distances(scores, [CALM, CALM]), expected)
    met = {name: np.array([0.0 if values[0] == CALM[name] else 1.0]) for name, values in CONTROLS.items()}
    assert meter.distances(met, [CALM])[0] == 0.0


# --- decoding -------------------------------------------------------------------------------------


def test_a_token_that_would_repeat_a_trigram_is_ruled_out_and_seen_tokens_are_penalised():
    tokens = np.array([[0, 5, 6, 7, 5, 6, 0, 0]])  # start, then "5 6 7 5 6"; position 6 is next
    logits = np.zeros((1, 10), np.float32)
    logits[0, 7], logits[0, 8], logits[0, 5] = 3.0, 2.0, -1.0
    guarded = np.asarray(guard_logits(logits, tokens, 6, no_repeat_ngram=3, repetition_penalty=2.0))
    assert guarded[0, 7] < -1e8  # "5 6 7" again
    assert guarded[0, 8] == 2.0 and guarded[0, 5] == -2.0 and guarded[0, 6] == 0.0
    untouched = np.asarray(guard_logits(logits, tokens, 6, no_repeat_ngram=0, repetition_penalty=1.0))
    assert np.array_equal(untouched, logits)
    other_row = np.array([[0, 2, 3, 4, 2, 3, 0, 0]])  # each row is guarded by its own tokens only
    both = np.asarray(guard_logits(np.concatenate([logits, logits]), np.concatenate([tokens, other_row]), 6, 3, 2.0))
    assert np.array_equal(both[0], guarded[0])
    assert both[1, 4] < -1e8 and both[1, 7] == 3.0 and both[1, 5] == -1.0  # "2 3 4" again; 5 and 7 unseen there
    with pytest.raises(ValueError, match="beam"):
        DecodingConfig(method="beam")
    with pytest.raises(ValueError, match="candidates"):
        DecodingConfig(method="greedy", candidates=4)


def test_hashed_noise_is_uniform_and_the_same_eagerly_and_compiled_by_xla():
    import tensorflow as tf

    seed = tf.Variable([7, 3], dtype="int64")  # variables, as a sampler's seed state and row keys are
    keys = tf.Variable(np.arange(400) * 2_654_435_761 % 2**32, dtype="int64")
    eager = np.asarray(hashed_uniform(seed, keys, 500))
    compiled = np.asarray(tf.function(lambda: hashed_uniform(seed, keys, 500), jit_compile=True)())
    assert np.array_equal(eager, compiled)
    assert eager.min() > 0.0 and eager.max() < 1.0
    counts = np.histogram(eager, bins=20, range=(0, 1))[0]
    assert np.abs(counts / eager.size - 0.05).max() < 0.002  # 200,000 draws: a few standard errors
    next_step = np.asarray(hashed_uniform(np.array([7, 4]), keys, 500))
    other_seed = np.asarray(hashed_uniform(np.array([8, 3]), keys, 500))
    other_keys = np.asarray(hashed_uniform(seed, keys + 1, 500))
    for other in (next_step, other_seed, other_keys):
        assert abs(np.corrcoef(eager.ravel(), other.ravel())[0, 1]) < 0.01
    rows = np.asarray(hashed_uniform(seed, np.array([5, 9, 5]), 500))
    assert np.array_equal(rows[0], rows[2]) and not np.array_equal(rows[0], rows[1])  # a row's noise is its key's


def test_row_keys_follow_the_prompt_not_its_neighbours():
    keys = row_keys(["I failed.", "I failed.", "I lost my job."])
    assert len(set(keys.tolist())) == 3  # a prompt's repeats (a reply's candidates) draw apart
    assert row_keys(["I lost my job."])[0] == keys[2]  # the same key alone as after other prompts
    assert np.array_equal(row_keys(["x", "y", "x"])[[0, 2]], row_keys(["x", "x"]))
    sampler = NucleusSampler(seed=0, max_rows=2)
    with pytest.raises(ValueError, match="3 rows in a batch; this sampler takes at most 2"):
        sampler.start_batch(0, keys)


def test_noise_from_the_extreme_bits_stays_strictly_inside_zero_and_one():
    noise = np.asarray(uniform_from_bits(np.array([0, 0x80000000, 0xFFFFFFFF], np.uint32)))
    assert noise[0] == 2.0**-25 and noise[1] == 0.5 + 2.0**-25
    assert 1.0 - 2.0**-23 < noise[2] < 1.0  # 1 - 2**-25 would round to 1.0, an infinite Gumbel draw
    assert np.isfinite(-np.log(-np.log(noise))).all()


def test_nucleus_sampling_draws_the_renormalised_nucleus_among_the_top_k():
    rows = 40_000
    probabilities = np.tile(np.array([[0.15, 0.5, 0.05, 0.3]], np.float32), (rows, 1))

    def counts(k):
        sampler = NucleusSampler(p=0.9, k=k, seed=1, max_rows=rows)
        return np.bincount(np.asarray(sampler.get_next_token(probabilities)), minlength=4)

    drawn = counts(4) / rows  # the nucleus: 0.5, 0.3, then 0.15 (0.8 < 0.9 before it)
    assert drawn[2] == 0.0
    assert drawn[[1, 3, 0]] == pytest.approx(np.array([0.5, 0.3, 0.15]) / 0.95, abs=0.01)
    two = counts(2)
    assert two[[0, 2]].sum() == 0 and two[1] / rows == pytest.approx(0.5 / 0.8, abs=0.01)
    assert np.array_equal(counts(4) / rows, drawn)  # a seed draws the same tokens again


def test_reply_metrics_on_hand_computed_cases():
    assert words("I'm SO tired!") == ["i'm", "so", "tired", "!"]
    assert rouge_l("sorry to hear that", "i am sorry to hear that") == pytest.approx(0.8)
    assert rouge_l("", "anything") == 0.0 and rouge_l("a b", "c d") == 0.0
    assert corpus_bleu(["the cat sat"], ["the cat sat"]) == pytest.approx(1.0)
    assert corpus_bleu(["the cat"], ["the cat sat on it"]) == pytest.approx(np.exp(1 - 5 / 2))
    assert distinct_n(["a b a b", "a b"], 1) == pytest.approx(2 / 6) and distinct_n([""], 2) == 0.0
    scores = quality(["sorry to hear that"], ["i am sorry to hear that"])
    assert scores["rouge_l"] == pytest.approx(80.0) and scores["mean_words"] == 4.0


def test_adherence_counts_ties_as_half():
    assert adherence([0.1, 0.5, 0.3], [0.2, 0.5, 0.1]) == pytest.approx(0.5)
    assert adherence([0.0, 0.0], [1.0, 1.0]) == 1.0
    with pytest.raises(ValueError):
        adherence([], [])


def test_generator_manifest_records_what_checks_read(tiny_generator):
    manifest = json.loads((tiny_generator / "manifest.json").read_text())
    assert manifest["kind"] == "generator" and manifest["labels"] == list(CONTROL_SYMBOLS)
    assert set(manifest["asset_sha256"]) == {"tokenizer.spm", "strategy_classifier.npz", "retrieval_index.npz"}
    assert set(manifest["extra"]["control_meter"]["thresholds"]) == {"response_style", "formality"}
    assert manifest["metrics"]["test_ppl_word"] > 1 and manifest["input"]["decoder_sequence_length"] == 16
