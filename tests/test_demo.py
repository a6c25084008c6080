import json

import numpy as np
import pytest

from mepe_utils.cli import main
from mepe_utils.demo import DEFAULT_TEXT, run_demo
from mepe_utils.persona.schema import CONTROLS, TRAITS

pytest.importorskip("skimage")


@pytest.fixture
def models(tiny_fusion, tiny_text_model_dir, tiny_face_model_dir, tiny_persona):
    return ["--fusion-model", str(tiny_fusion), "--text-model", str(tiny_text_model_dir)] + [
        "--face-model",
        str(tiny_face_model_dir),
        "--persona-model",
        str(tiny_persona),
    ]


def test_demo_reads_the_default_sentence_and_photo_into_a_persona_and_controls(
    tiny_fusion, tiny_text_model_dir, tiny_face_model_dir, tiny_persona, models, capsys
):
    reading = run_demo(
        fusion_model=tiny_fusion, text_model=tiny_text_model_dir, face_model=tiny_face_model_dir,
        persona_model=tiny_persona,
    )  # fmt: skip
    fused = reading.fused
    assert fused.text.text == DEFAULT_TEXT and fused.face.found and len(fused.face.faces) == 1
    assert fused.missing == [] and 0.0 <= fused.gate_text <= 1.0
    assert sum(fused.probabilities.values()) == pytest.approx(1.0, rel=1e-5)
    assert reading.persona.missing == [] and set(reading.controls.decisions) == set(CONTROLS)
    assert main(["demo", *models]) == 0
    out = capsys.readouterr().out
    assert out.startswith("fused: ") and "weights:   text" in out and DEFAULT_TEXT[:40] in out and "face (" in out
    persona_line, controls_line = out.strip().splitlines()[-2:]
    assert persona_line.startswith("Detected Persona:  Stress ") and "Formality Preference " in persona_line
    assert controls_line.startswith("Derived Controls:  Empathy Level ") and "Formality " in controls_line


def test_analyze_explains_each_control_and_writes_persona_and_controls_as_json(models, capsys):
    assert main(["analyze", "--text", "i love this so much !", "--explain", *models]) == 0
    out = capsys.readouterr().out
    assert "why each control:" in out and "<-" in out and "missing:   face" in out
    assert main(["analyze", "--text", "i love this so much !", "--json", *models]) == 0
    record = json.loads(capsys.readouterr().out)
    traits, decisions = record["persona"]["traits"], record["controls"]["decisions"]
    assert set(traits) == set(TRAITS) and all(set(t) == {"score", "level"} for t in traits.values())
    assert set(decisions) == set(CONTROLS) and all(d["value"] and d["rules"] for d in decisions.values())
    assert record["persona"]["missing"] == ["face"] and record["missing"] == ["face"]


def test_demo_refuses_an_empty_sentence(models, capsys):
    assert main(["demo", "--text", "  ", *models]) == 2
    assert "empty" in capsys.readouterr().err


def test_demo_reads_a_photo_without_a_face_as_a_missing_signal(models, tmp_path, capsys):
    from PIL import Image

    Image.fromarray(np.full((100, 100, 3), 90, np.uint8)).save(tmp_path / "wall.png")
    assert main(["demo", "--photo", str(tmp_path / "wall.png"), *models]) == 0
    out = capsys.readouterr().out
    assert "missing:   face" in out and "no face found" in out and "weights:   text 1.00" in out


def test_demo_names_a_missing_photo(models, tmp_path, capsys):
    assert main(["demo", "--photo", str(tmp_path / "nope.jpg"), *models]) == 2
    assert "nope.jpg: no such file" in capsys.readouterr().err
