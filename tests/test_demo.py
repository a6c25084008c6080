import numpy as np
import pytest

from mepe_utils.cli import main
from mepe_utils.demo import DEFAULT_TEXT, run_demo

pytest.importorskip("skimage")


@pytest.fixture
def models(tiny_fusion, tiny_text_model_dir, tiny_face_model_dir):
    return ["--fusion-model", str(tiny_fusion), "--text-model", str(tiny_text_model_dir)] + [
        "--face-model",
        str(tiny_face_model_dir),
    ]


def test_demo_fuses_the_default_sentence_and_the_face_of_the_default_photo(
    tiny_fusion, tiny_text_model_dir, tiny_face_model_dir, models, capsys
):
    reading = run_demo(fusion_model=tiny_fusion, text_model=tiny_text_model_dir, face_model=tiny_face_model_dir)
    assert reading.text.text == DEFAULT_TEXT and reading.face.found and len(reading.face.faces) == 1
    assert reading.missing == [] and 0.0 <= reading.gate_text <= 1.0
    assert sum(reading.probabilities.values()) == pytest.approx(1.0, rel=1e-5)
    assert main(["demo", *models]) == 0
    out = capsys.readouterr().out
    assert out.startswith("fused: ") and "weights:   text" in out and DEFAULT_TEXT[:40] in out and "face (" in out


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
