"""The gated multimodal unit: mask semantics, gate range, serialization round trip, the concat baseline,
the temperatures per presence pattern."""

import numpy as np
import pytest

from mepe_utils.models.common import PROBABILITIES_OUTPUT
from mepe_utils.models.fusion import (
    GATE_OUTPUT,
    PERSONA_EMBEDDING,
    PRESENCE_PATTERNS,
    TEMPERATURE_LAYER,
    TEMPERATURE_RANGE,
    FusionConfig,
    GatedMultimodalUnit,
    build_fusion_model,
    fit_temperatures,
)

RNG = np.random.default_rng(0)
TEXT = RNG.normal(size=(6, 5)).astype("float32")
FACE = RNG.normal(size=(6, 4)).astype("float32")
BOTH, TEXT_ONLY, FACE_ONLY = ([[1, 1]] * 6, [[1, 0]] * 6, [[0, 1]] * 6)


def _inputs(presence):
    return {"text": TEXT, "face": FACE, "presence": np.asarray(presence, "float32")}


def test_the_gate_is_learned_with_both_signals_and_forced_with_one():
    layer = GatedMultimodalUnit(3)
    fused, gate = (np.asarray(v) for v in layer(TEXT, FACE, np.asarray(BOTH, "float32")))
    assert fused.shape == gate.shape == (6, 3)
    assert ((gate > 0) & (gate < 1)).all()
    _, text_gate = layer(TEXT, FACE, np.asarray(TEXT_ONLY, "float32"))
    _, face_gate = layer(TEXT, FACE, np.asarray(FACE_ONLY, "float32"))
    np.testing.assert_array_equal(np.asarray(text_gate), 1.0)
    np.testing.assert_array_equal(np.asarray(face_gate), 0.0)


@pytest.mark.parametrize("kind", ["gmu", "concat"])
def test_an_absent_face_does_not_reach_the_fused_outputs(kind):
    model = build_fusion_model(5, 4, FusionConfig(units=3, kind=kind))
    inputs = _inputs(TEXT_ONLY)
    other = {**inputs, "face": FACE * 100 + 7}
    for name, value in model.predict_on_batch(inputs).items():
        np.testing.assert_allclose(model.predict_on_batch(other)[name], value, atol=1e-5, err_msg=name)


def test_an_absent_signal_does_not_reach_the_output():
    layer = GatedMultimodalUnit(3)
    presence = np.asarray(TEXT_ONLY, "float32")
    fused, _ = layer(TEXT, FACE, presence)
    other_face, _ = layer(TEXT, FACE * 100 + 7, presence)
    np.testing.assert_allclose(np.asarray(fused), np.asarray(other_face), atol=1e-6)
    text_only = np.tanh(TEXT @ np.asarray(layer.text_kernel) + np.asarray(layer.text_bias))
    np.testing.assert_allclose(np.asarray(fused), text_only, atol=1e-5)


@pytest.mark.parametrize("kind", ["gmu", "concat"])
def test_the_fusion_model_saves_and_loads_in_safe_mode_with_equal_outputs(kind, tmp_path):
    import keras

    model = build_fusion_model(5, 4, FusionConfig(units=3, kind=kind))
    model.get_layer(TEMPERATURE_LAYER).log_temperatures.assign(np.log([2.0, 0.5, 3.0]).astype("float32"))
    path = tmp_path / "fusion.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True, compile=False)
    for presence in (BOTH, TEXT_ONLY, FACE_ONLY):
        before, after = model.predict_on_batch(_inputs(presence)), loaded.predict_on_batch(_inputs(presence))
        assert set(before) == ({PROBABILITIES_OUTPUT, PERSONA_EMBEDDING} | ({GATE_OUTPUT} if kind == "gmu" else set()))
        for name in before:
            np.testing.assert_allclose(after[name], before[name], atol=1e-6, err_msg=name)
        np.testing.assert_allclose(before[PROBABILITIES_OUTPUT].sum(axis=1), 1.0, rtol=1e-5)


def test_the_layer_config_round_trips():
    layer = GatedMultimodalUnit(7, name="g")
    again = GatedMultimodalUnit.from_config(layer.get_config())
    assert again.units == 7 and again.name == "g"
    with pytest.raises(ValueError, match="kind must be 'gmu' or 'concat'"):
        build_fusion_model(5, 4, FusionConfig(kind="sum"))


def test_each_presence_pattern_has_its_own_temperature_which_changes_confidence_not_the_answer():
    model = build_fusion_model(5, 4, FusionConfig(units=3))
    patterns = {name: [list(pattern)] * 6 for name, pattern in PRESENCE_PATTERNS.items()}
    before = {name: model.predict_on_batch(_inputs(p))[PROBABILITIES_OUTPUT] for name, p in patterns.items()}
    cooled = [4.0 if name == "text_only" else 1.0 for name in PRESENCE_PATTERNS]
    model.get_layer(TEMPERATURE_LAYER).log_temperatures.assign(np.log(cooled).astype("float32"))
    after = {name: model.predict_on_batch(_inputs(p))[PROBABILITIES_OUTPUT] for name, p in patterns.items()}
    np.testing.assert_allclose(after["both"], before["both"], atol=1e-6)
    np.testing.assert_allclose(after["face_only"], before["face_only"], atol=1e-6)
    assert (after["text_only"].max(axis=1) < before["text_only"].max(axis=1)).all()
    np.testing.assert_array_equal(after["text_only"].argmax(axis=1), before["text_only"].argmax(axis=1))


@pytest.mark.filterwarnings("ignore:the (text_only|face_only) temperature")  # labels follow the both-signal answers
def test_fitted_temperatures_cool_an_overconfident_model_and_keep_its_accuracy():
    model = build_fusion_model(5, 4, FusionConfig(units=8))
    head = model.get_layer("logits")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * 20.0, bias])  # a head whose probabilities are near 0 or 1
    rng = np.random.default_rng(1)
    inputs = {"text": rng.normal(size=(400, 5)).astype("float32"), "face": rng.normal(size=(400, 4)).astype("float32")}
    inputs["presence"] = np.ones((400, 2), "float32")
    predicted = model.predict_on_batch(inputs)[PROBABILITIES_OUTPUT].argmax(axis=1)
    classes = np.where(rng.random(400) < 0.6, predicted, rng.integers(0, 7, 400))  # right 60+% of the time
    temperatures = fit_temperatures(model, inputs, classes)
    assert set(temperatures) == set(PRESENCE_PATTERNS)
    assert 2.0 < temperatures["both"] < TEMPERATURE_RANGE[1] * 0.99
    calibrated = model.predict_on_batch(inputs)[PROBABILITIES_OUTPUT]
    np.testing.assert_array_equal(calibrated.argmax(axis=1), predicted)
    assert 0.4 < calibrated.max(axis=1).mean() < 0.9


def test_a_temperature_on_the_edge_of_its_range_is_kept_with_a_warning():
    model = build_fusion_model(5, 4, FusionConfig(units=8))
    head = model.get_layer("logits")
    kernel, bias = head.get_weights()
    head.set_weights([kernel * 1e4, bias])  # confidently wrong on random labels: no temperature in range fits
    rng = np.random.default_rng(2)
    inputs = {"text": rng.normal(size=(200, 5)).astype("float32"), "face": rng.normal(size=(200, 4)).astype("float32")}
    inputs["presence"] = np.ones((200, 2), "float32")
    with pytest.warns(UserWarning, match="temperature sits on the edge"):
        temperatures = fit_temperatures(model, inputs, rng.integers(0, 7, 200))
    assert max(temperatures.values()) == pytest.approx(TEMPERATURE_RANGE[1])


def test_the_head_stays_float32_under_mixed_precision():
    import keras

    from mepe_utils.runtime import dtype_policy

    with dtype_policy("mixed_bfloat16"):
        model = build_fusion_model(5, 4, FusionConfig(units=3))
    outputs = model.predict_on_batch(_inputs(BOTH))
    assert outputs[PROBABILITIES_OUTPUT].dtype == np.float32
    assert keras.backend.standardize_dtype(model.get_layer("gmu").compute_dtype) == "bfloat16"
