"""The gated multimodal unit: mask semantics, gate range, serialization round trip, the concat baseline."""

import numpy as np
import pytest

from mepe_utils.models.common import PROBABILITIES_OUTPUT
from mepe_utils.models.fusion import (
    GATE_OUTPUT,
    PERSONA_EMBEDDING,
    FusionConfig,
    GatedMultimodalUnit,
    build_fusion_model,
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
