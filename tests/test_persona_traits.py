"""Persona traits: the formulas (ranges, monotone where they should be), the gate-weighted emotions, levels from
terciles, and the reader (missing signals recorded, thresholds and text model checked)."""

import numpy as np
import pytest
from persona_fixtures import LEVELS as TINY_LEVELS
from persona_fixtures import TEXT_SHA, face_reading, fused_reading, save_tiny_persona, text_reading

from mepe_utils import artifacts
from mepe_utils.errors import MepeError, ModelFileError
from mepe_utils.labels import FER_LABELS
from mepe_utils.persona.schema import LEVELS, TRAITS, Persona
from mepe_utils.persona.traits import (
    PersonaReader,
    TraitSignals,
    check_text_model,
    level_of,
    tercile_thresholds,
    trait_components,
    trait_scores,
    unit_scale,
)

N = 400
SAD_FACE = {name: 0.9 if name == "sad" else 0.1 / 6 for name in FER_LABELS}
CALM_FACE = {name: 0.9 if name == "neutral" else 0.1 / 6 for name in FER_LABELS}
FER = {name: i for i, name in enumerate(FER_LABELS)}


def _signals(seed=0, face=True) -> TraitSignals:
    rng = np.random.default_rng(seed)
    outputs = {
        "valence": rng.uniform(1, 5, N),
        "arousal": rng.uniform(1, 5, N),
        "dominance": rng.uniform(1, 5, N),
        "formality": rng.uniform(-3, 3, N),
    }
    text = rng.uniform(0.01, 1, (N, 7))  # the text model's Ekman view: independent sigmoids
    faces = rng.dirichlet(np.ones(7), N) if face else None
    return TraitSignals(outputs, text, faces, rng.uniform(0, 1, N) if face else None)


def _with(signals: TraitSignals, **changes) -> TraitSignals:
    return TraitSignals(
        {**signals.outputs, **changes.get("outputs", {})},
        changes.get("text_emotions", signals.text_emotions),
        changes.get("face_emotions", signals.face_emotions),
        signals.text_weight,
    )


def test_every_score_is_in_the_unit_interval_even_off_scale():
    signals = _signals()
    wild = _with(signals, outputs={"valence": signals.outputs["valence"] * 3 - 6, "formality": np.full(N, 9.0)})
    for scores in (trait_scores(signals), trait_scores(wild)):
        assert list(scores) == list(TRAITS)
        for name, values in scores.items():
            assert values.shape == (N,) and (values >= 0).all() and (values <= 1).all(), name


def test_scales_map_linearly_onto_the_unit_interval():
    np.testing.assert_allclose(unit_scale([1, 3, 5, 7], "valence"), [0, 0.5, 1, 1])
    np.testing.assert_allclose(unit_scale([-3, 0, 1.5], "formality"), [0, 0.5, 0.75])


@pytest.mark.parametrize("face", [True, False])
def test_lower_valence_never_lowers_stress_or_sadness(face):
    signals = _signals(face=face)
    lower = _with(signals, outputs={"valence": signals.outputs["valence"] - np.linspace(0.01, 2, N)})
    before, after = trait_scores(signals), trait_scores(lower)
    for name in ("stress", "sadness"):
        assert (after[name] >= before[name] - 1e-12).all(), name
        assert (after[name] > before[name]).any(), name  # and it does raise them
    for name in ("confidence", "formality_preference", "emotional_intensity"):
        np.testing.assert_array_equal(after[name], before[name])


def test_more_arousal_never_lowers_stress_or_intensity():
    signals = _signals()
    higher = _with(signals, outputs={"arousal": signals.outputs["arousal"] + 0.5})
    before, after = trait_scores(signals), trait_scores(higher)
    for name in ("stress", "emotional_intensity"):
        assert (after[name] >= before[name]).all() and (after[name] > before[name]).any(), name


def test_stress_needs_unpleasant_and_activated_words():
    text = np.tile(np.eye(7)[FER["neutral"]], (4, 1))
    outputs = {"valence": np.array([1.5, 4.5, 1.5, 4.5]), "arousal": np.array([4.5, 4.5, 1.5, 1.5])}
    outputs |= {"dominance": np.full(4, 3.0), "formality": np.zeros(4)}
    tense, excited, gloomy, calm = trait_scores(TraitSignals(outputs, text))["stress"]
    assert tense > max(excited, gloomy) and min(excited, gloomy) > calm


@pytest.mark.parametrize(("emotion", "traits"), [("sad", ("sadness",)), ("fear", ("stress",)), ("angry", ("stress",))])
def test_more_of_an_emotion_in_either_signal_never_lowers_its_traits(emotion, traits):
    signals = _signals()
    for source in ("text_emotions", "face_emotions"):
        raised = getattr(signals, source).copy()
        raised[:, FER[emotion]] += 0.3
        before, after = trait_scores(signals), trait_scores(_with(signals, **{source: raised}))
        for name in traits:
            assert (after[name] >= before[name] - 1e-12).all(), (source, name)
            assert (after[name] > before[name]).any(), (source, name)


def test_a_more_neutral_reading_never_raises_intensity():
    signals = _signals()
    neutral = signals.text_emotions.copy()
    neutral[:, FER["neutral"]] += 1.0
    before, after = trait_scores(signals), trait_scores(_with(signals, text_emotions=neutral))
    assert (after["emotional_intensity"] <= before["emotional_intensity"] + 1e-12).all()


def test_the_formulas_on_one_hand_worked_reading():
    text = np.zeros((1, 7))
    text[0, [FER["sad"], FER["fear"], FER["neutral"]]] = [0.5, 0.25, 0.25]
    outputs = {
        "valence": np.array([2.0]),
        "arousal": np.array([4.0]),
        "dominance": np.array([2.0]),
        "formality": np.array([1.5]),
    }
    scores = {k: float(v[0]) for k, v in trait_scores(TraitSignals(outputs, text)).items()}
    assert scores["stress"] == pytest.approx((0.75 * 0.75 + 0.25) / 2)
    assert scores["sadness"] == pytest.approx((0.5 + 0.75) / 2)
    assert scores["emotional_intensity"] == pytest.approx((0.75 + 0.75) / 2)
    assert scores["confidence"] == pytest.approx(0.25) and scores["formality_preference"] == pytest.approx(0.75)


def test_the_gate_weighs_each_signals_own_distribution():
    text, face = np.zeros((3, 7)), np.zeros((3, 7))
    text[:, FER["happy"]], face[:, FER["sad"]] = 2.0, 1.0  # the text's view is normalised first
    outputs = {"valence": np.full(3, 3.0)}
    mixed = TraitSignals(outputs, text, face, np.array([1.0, 0.25, 0.0])).emotions()
    np.testing.assert_allclose(mixed[:, FER["sad"]], [0.0, 0.75, 1.0])
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0)
    np.testing.assert_allclose(TraitSignals(outputs, text).emotions()[:, FER["happy"]], 1.0)  # no face: text alone
    np.testing.assert_allclose(TraitSignals(outputs, None, face).emotions()[:, FER["sad"]], 1.0)
    with pytest.raises(MepeError, match="no emotion reading"):
        TraitSignals(outputs).emotions()
    full = {name: outputs["valence"] for name in ("valence", "arousal", "dominance", "formality")}
    assert set(trait_components(TraitSignals(full, text))) >= {"distress", "sad", "emotional", "pleasantness"}


def test_terciles_split_a_population_into_three_equal_levels():
    scores = np.random.default_rng(0).uniform(0.2, 0.7, 3000)
    thresholds = tercile_thresholds(scores)
    counts = {level: 0 for level in LEVELS}
    for score in scores:
        counts[level_of(score, thresholds)] += 1
    assert all(abs(count - 1000) <= 2 for count in counts.values()), counts
    assert (level_of(0.39, (0.4, 0.6)), level_of(0.4, (0.4, 0.6)), level_of(0.6, (0.4, 0.6))) == (
        "Low",
        "Medium",
        "High",
    )


# --- the reader ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_persona(tmp_path_factory):
    return save_tiny_persona(tmp_path_factory.mktemp("persona") / "persona")


def test_a_text_alone_gives_a_persona_that_says_the_face_is_missing(tiny_persona):
    reader = PersonaReader.load(tiny_persona)
    reading = text_reading()
    persona = reader.read(reading)
    assert persona.missing == ["face"] and persona.modality_weights == {"text": 1.0, "face": 0.0}
    outputs = {k: v for k, v in reader.outputs([reading]).items()}
    expected = trait_scores(TraitSignals(outputs, np.array([[reading.ekman[n] for n in FER_LABELS]])))
    for name in TRAITS:
        assert persona.traits[name].score == pytest.approx(float(expected[name][0]))
        assert persona.traits[name].level == level_of(persona.traits[name].score, (0.4, 0.6))
    assert sum(persona.emotions.values()) == pytest.approx(1.0)
    assert Persona.from_dict(persona.to_dict()) == persona


def test_a_face_enters_through_the_gate_and_a_sad_face_raises_sadness(tiny_persona):
    reader = PersonaReader.load(tiny_persona)
    reading = text_reading()
    sad_face = face_reading(SAD_FACE)
    calm_face = face_reading(CALM_FACE)
    sad = reader.read(reading, fused_reading(reading, sad_face, gate_text=0.4))
    calm = reader.read(reading, fused_reading(reading, calm_face, gate_text=0.4))
    assert sad.missing == [] and sad.modality_weights == pytest.approx({"text": 0.4, "face": 0.6})
    assert sad.traits["sadness"].score > calm.traits["sadness"].score
    assert sad.traits["emotional_intensity"].score > calm.traits["emotional_intensity"].score
    assert sad.traits["confidence"] == calm.traits["confidence"]  # words alone
    assert sad.emotions == pytest.approx({name: 1 / 7 for name in FER_LABELS})  # the fusion's distribution


def test_the_face_the_fusion_read_is_the_one_that_counts(tiny_persona):
    reader = PersonaReader.load(tiny_persona)
    reading = text_reading()
    photo = face_reading(CALM_FACE, SAD_FACE)  # the largest face is calm, the second sad
    largest = reader.read(reading, fused_reading(reading, photo, gate_text=0.4, fused_face=0))
    second = reader.read(reading, fused_reading(reading, photo, gate_text=0.4, fused_face=1))
    assert second.traits["sadness"].score > largest.traits["sadness"].score
    assert largest.traits == reader.read(reading, fused_reading(reading, face_reading(CALM_FACE), gate_text=0.4)).traits


def test_a_photo_without_a_face_counts_as_a_missing_face(tiny_persona):
    reader = PersonaReader.load(tiny_persona)
    reading = text_reading()
    persona = reader.read(fusion_reading=fused_reading(reading, face_reading(found=False), gate_text=1.0))
    assert persona.missing == ["face"]
    assert persona.traits == reader.read(reading).traits


def test_without_words_the_text_traits_sit_at_the_reference_median(tiny_persona):
    reader = PersonaReader.load(tiny_persona)
    persona = reader.read(fusion_reading=fused_reading(None, face_reading(), gate_text=0.0))
    assert persona.missing == ["text"] and persona.modality_weights == {"text": 0.0, "face": 1.0}
    assert persona.traits["confidence"].score == pytest.approx((3.4 - 1) / 4)
    assert persona.traits["formality_preference"].score == pytest.approx(0.5)
    with pytest.raises(MepeError, match="no reading"):
        reader.read(fusion_reading=fused_reading(None, face_reading(found=False), gate_text=0.0))


def test_stale_or_missing_thresholds_and_another_text_model_are_refused(tmp_path, tiny_persona):
    stale = save_tiny_persona(tmp_path / "stale", levels={**TINY_LEVELS, "rules_version": 0})
    with pytest.raises(ModelFileError, match="retrain it"):
        PersonaReader.load(stale)
    broken = save_tiny_persona(tmp_path / "broken", levels={**TINY_LEVELS, "thresholds": {"stress": [0.1, 0.2]}})
    with pytest.raises(ModelFileError, match="thresholds incomplete"):
        PersonaReader.load(broken)
    manifest = artifacts.read_manifest(tiny_persona)
    check_text_model(
        tiny_persona, manifest, artifacts.Manifest(kind="text-emotion", labels=[], input={}, model_sha256=TEXT_SHA)
    )
    other = artifacts.Manifest(kind="text-emotion", labels=[], input={}, model_sha256="2" * 64)
    with pytest.raises(ModelFileError, match="not 222222222222"):
        check_text_model(tiny_persona, manifest, other)
    with pytest.raises(ModelFileError, match="folder not found"):
        PersonaReader.load(tmp_path / "absent")
