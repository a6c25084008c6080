"""The persona model: named outputs on the annotation scales, safe-mode round trip, the NumPy pass, the ensemble's
training view."""

import keras
import numpy as np
import pytest

from mepe_utils.models.persona import (
    BRANCHES,
    PERSONA_OUTPUTS,
    BranchStatistics,
    PersonaForward,
    PersonaModelConfig,
    build_persona_model,
    member_targets,
    reading_features,
    training_view,
)

RNG = np.random.default_rng(0)
READING, STYLE = 10, 3
INPUTS = {
    "reading": RNG.normal(size=(6, READING)).astype("float32"),
    "style": RNG.normal(size=(6, STYLE)).astype("float32"),
}


def _statistics():
    dim = READING + STYLE
    targets = {
        "emobank": (
            {"valence": 3.0, "arousal": 3.1, "dominance": 2.9},
            {"valence": 0.3, "arousal": 0.2, "dominance": 0.25},
        ),
        "formality": ({"formality": 0.2}, {"formality": 1.4}),
    }
    return {
        branch: BranchStatistics(RNG.normal(size=dim), RNG.uniform(0.5, 2.0, dim), mean, std)
        for branch, (mean, std) in targets.items()
    }


def _model(members=(3, 1)):
    configs = {
        "emobank": PersonaModelConfig(hidden=8, members=members[0]),
        "formality": PersonaModelConfig(hidden=4, members=members[1]),
    }
    return build_persona_model(READING, STYLE, configs, _statistics())


def test_the_model_has_one_named_output_per_annotation():
    outputs = _model().predict_on_batch(INPUTS)
    assert set(outputs) == set(PERSONA_OUTPUTS) == {"valence", "arousal", "dominance", "formality"}
    assert all(value.shape == (6, 1) for value in outputs.values())


def test_with_silent_members_every_output_is_its_training_mean():
    model = _model()
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    outputs = model.predict_on_batch(INPUTS)
    stats = _statistics()
    for branch, names in BRANCHES.items():
        for name in names:
            np.testing.assert_allclose(outputs[name], stats[branch].target_mean[name], rtol=1e-6)


def test_the_model_saves_and_loads_in_safe_mode_with_equal_outputs(tmp_path):
    model = _model()
    model.save(tmp_path / "persona.keras")
    loaded = keras.models.load_model(tmp_path / "persona.keras", safe_mode=True, compile=False)
    before, after = model.predict_on_batch(INPUTS), loaded.predict_on_batch(INPUTS)
    for name in PERSONA_OUTPUTS:
        np.testing.assert_allclose(after[name], before[name], atol=1e-6, err_msg=name)


@pytest.mark.parametrize("members", [(3, 1), (1, 2)])
def test_the_numpy_pass_matches_keras(members):
    model = _model(members)
    expected = model.predict_on_batch(INPUTS)
    found = PersonaForward(model)(INPUTS["reading"], INPUTS["style"])
    for name in PERSONA_OUTPUTS:
        assert np.ptp(found[name]) > 0  # a real, input-dependent output
        np.testing.assert_allclose(found[name], expected[name][:, 0], rtol=1e-4, atol=1e-5, err_msg=name)
    one = PersonaForward(model)(INPUTS["reading"][0], INPUTS["style"][0])  # one text: 1-D rows
    np.testing.assert_allclose(one["valence"], expected["valence"][:1, 0], rtol=1e-4, atol=1e-5)


def test_the_training_view_gives_each_member_its_own_standardised_target():
    model = _model()
    view = training_view(model, 3, outputs=BRANCHES["emobank"])
    assert sorted(view.output) == sorted(f"{n}_member{i}" for n in BRANCHES["emobank"] for i in range(3))
    stats = _statistics()["emobank"]
    targets = member_targets({"valence": np.array([3.0, 3.6])}, stats, members=2)
    np.testing.assert_allclose(targets["valence_member1"][:, 0], [0.0, 2.0], atol=1e-6)


def test_training_one_member_leaves_the_others_and_the_other_branch_unchanged():
    model = _model()
    view = training_view(model, 1, outputs=("valence",))  # member 0 of valence only
    untouched = {name: model.get_layer(name).get_weights() for name in ("emobank_hidden1", "formality_hidden0")}
    trained = model.get_layer("emobank_hidden0").get_weights()[0].copy()
    view.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    view.fit(INPUTS, {"valence_member0": np.ones((6, 1))}, epochs=1, verbose=0)
    for name, weights in untouched.items():
        for before, after in zip(weights, model.get_layer(name).get_weights()):
            np.testing.assert_array_equal(after, before, err_msg=name)
    assert not np.array_equal(model.get_layer("emobank_hidden0").get_weights()[0], trained)


def test_statistics_and_reading_features():
    inputs = np.array([[0.0, 1.0], [2.0, 1.0]])
    stats = BranchStatistics.of(inputs, {"valence": np.array([2.0, 4.0])})
    np.testing.assert_allclose(stats.input_mean, [1.0, 1.0])
    assert stats.input_variance[1] > 0  # a constant column is not divided by zero
    assert stats.target_mean == {"valence": 3.0} and stats.target_std == {"valence": 1.0}
    row = reading_features(np.ones(4), np.zeros(2), np.full(28, 0.5))
    assert row.shape == (1, 34) and row.dtype == np.float32
