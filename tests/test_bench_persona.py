"""train-persona and bench-persona on tiny data and the tiny text encoder: cached readings, resumable selection on
dev, thresholds from the reference population, the agreed benchmark keys; and the shipped persona model's readings."""

import json

import numpy as np
import pytest
from persona_fixtures import write_persona_data

from mepe_utils import artifacts
from mepe_utils.errors import ModelFileError
from mepe_utils.persona.schema import TRAITS
from mepe_utils.persona.traits import PersonaReader

CONFIG_FIELDS = {"hidden": (4,), "l2": (1e-3, 1e-2), "members": 2, "epochs": 2, "batch_size": 8, "patience": 1}


@pytest.fixture(scope="module")
def tiny_persona_run(tiny_text_model_dir, tmp_path_factory):
    from mepe_utils.training.persona import PersonaTrainConfig, train_persona

    root = tmp_path_factory.mktemp("persona_run")
    data = write_persona_data(root / "data")
    out = train_persona(
        PersonaTrainConfig(**CONFIG_FIELDS), data, root / "cache", root / "persona", text_model=tiny_text_model_dir,
        command="mepe train-persona (test)", log=lambda line: None,
    )  # fmt: skip
    cached = sorted(path.name for path in (root / "cache").glob("text-readings-*.npz"))
    return data, root / "cache", out, cached


@pytest.mark.slow
def test_train_persona_selects_on_dev_and_stores_terciles(tiny_persona_run, tiny_text_model_dir):
    data, cache, out, cached = tiny_persona_run
    reader = PersonaReader.load(out, text_model=tiny_text_model_dir)
    manifest = reader.manifest
    assert manifest.kind == "persona" and manifest.labels == ["valence", "arousal", "dominance", "formality"]
    assert set(manifest.metrics) == {"dev_valence_r", "dev_arousal_r", "dev_dominance_r", "dev_formality_spearman"}
    selection = manifest.training["selection"]
    for branch in ("emobank", "formality"):
        assert len(selection[branch]) == 2  # both L2 penalties tried
        best = max(selection[branch], key=lambda record: record["dev_mean"])
        assert manifest.training["chosen"][branch] == best["candidate"]
    levels = manifest.extra["levels"]
    assert levels["size"] == 8 and levels["population"].startswith("ESConv")
    assert set(levels["thresholds"]) == set(TRAITS)
    assert all(0 <= low <= high <= 1 for low, high in levels["thresholds"].values())
    assert manifest.extra["text_model"]["model_sha256"] == artifacts.read_manifest(tiny_text_model_dir).model_sha256
    # the test splits are never read by the trainer (only by the benchmark)
    assert [name.split("-", 3)[-1].rsplit("-", 1)[0] for name in cached] == [
        "emobank-dev", "emobank-train", "esconv-train-seekers", "formality-dev", "formality-train",
    ]  # fmt: skip


@pytest.mark.slow
def test_a_rerun_reuses_the_cached_readings_and_candidates(
    tiny_persona_run, tiny_text_model_dir, tmp_path, monkeypatch
):
    from mepe_utils.predictors import text
    from mepe_utils.training import persona

    data, cache, first, _ = tiny_persona_run

    def refuse(*args, **kwargs):
        raise AssertionError("recomputed what was cached")

    monkeypatch.setattr(text.TextEmotionModel, "load", refuse)
    monkeypatch.setattr(persona, "train_candidate", refuse)
    config = persona.PersonaTrainConfig(**CONFIG_FIELDS)
    again = persona.train_persona(
        config, data, cache, tmp_path / "again", text_model=tiny_text_model_dir, log=lambda _: None
    )
    first_reader = PersonaReader.load(first)
    width = first_reader.forward.branches[0][1].shape[0]  # reading + style
    inputs = np.random.default_rng(0).normal(size=(3, width)).astype(np.float32)
    readings = {"reading": inputs[:, :-15], "style": inputs[:, -15:]}
    first_out = first_reader.forward(**readings)
    again_out = PersonaReader.load(again).forward(**readings)
    for name, values in first_out.items():
        np.testing.assert_allclose(again_out[name], values, rtol=1e-6)


@pytest.mark.slow
def test_bench_persona_writes_the_agreed_keys(tiny_persona_run, tiny_text_model_dir, tmp_path, capsys):
    from mepe_utils.bench.persona import bench_persona, print_persona_benchmark

    data, cache, out, _ = tiny_persona_run
    path = tmp_path / "bench.json"
    results = bench_persona(out, data, cache, text_model=tiny_text_model_dir, json_path=path, command="test")
    assert json.loads(path.read_text()) == json.loads(json.dumps(results))
    for key in ("valence_r", "arousal_r", "dominance_r"):
        assert -1 <= results["emobank"][key] <= 1 and -1 <= results["emobank"]["baseline"][key] <= 1
    assert -1 <= results["formality"]["spearman"] <= 1 and -1 <= results["formality"]["baseline_spearman"] <= 1
    dreaddit = results["dreaddit"]
    assert 0 <= dreaddit["auc_zero_shot"] <= 1 and 0 <= dreaddit["supervised_reference_auc"] <= 1
    assert dreaddit["n"] == 16 and dreaddit["stressed"] == 8
    assert results["emobank"]["n"] == 16 and results["setup"]["command"] == "test"
    assert results["latency_ms_read_decide"]["p50"] > 0
    print_persona_benchmark(results)
    assert "Dreaddit stress AUC" in capsys.readouterr().out


@pytest.mark.slow
def test_the_persona_refuses_another_text_model(tiny_persona_run, tmp_path):
    _, _, out, _ = tiny_persona_run
    other = tmp_path / "other_text"
    other.mkdir()
    manifest = artifacts.Manifest(kind="text-emotion", labels=[], input={}, model_sha256="f" * 64)
    (other / artifacts.MANIFEST_FILE).write_text(json.dumps(manifest.to_dict()))
    with pytest.raises(ModelFileError, match="retrain it"):
        PersonaReader.load(out, text_model=other)


SHIPPED_EXAMPLES = {
    "sad": "I can't stop crying since she left.",
    "fun": "lol this is so fun!!",
    "formal": "Dear Sir, I would be grateful for your advice on my application.",
    "stressed": "I feel overwhelmed and frustrated with how things are going.",
    "confident": "I'm confident we'll nail the launch tomorrow.",
}


@pytest.mark.slow
def test_the_shipped_persona_reads_contrasting_sentences_apart():
    from mepe_utils.persona.traits import SHIPPED_PERSONA_MODEL
    from mepe_utils.predictors.text import TextEmotionModel

    if not (SHIPPED_PERSONA_MODEL / artifacts.MANIFEST_FILE).is_file():
        pytest.skip("no shipped persona model")
    assert (SHIPPED_PERSONA_MODEL / artifacts.MODEL_FILE).stat().st_size < 5e6
    text_model = TextEmotionModel.load()
    reader = PersonaReader.load(text_model=text_model.manifest)
    readings = dict(zip(SHIPPED_EXAMPLES, text_model.predict(list(SHIPPED_EXAMPLES.values()))))
    score = {name: {t: reader.read(r).traits[t].score for t in TRAITS} for name, r in readings.items()}
    assert score["sad"]["sadness"] > score["fun"]["sadness"]
    assert (
        score["stressed"]["stress"] > score["fun"]["stress"] and score["stressed"]["stress"] > score["formal"]["stress"]
    )
    assert score["formal"]["formality_preference"] > score["fun"]["formality_preference"]
    assert score["confident"]["confidence"] > score["sad"]["confidence"]
    assert score["fun"]["emotional_intensity"] > score["formal"]["emotional_intensity"]
