import numpy as np
import pytest

from mepe_utils.cli import main
from mepe_utils.demo import DEFAULT_TEXT, read_face, read_text

pytest.importorskip("skimage")


def _models(text_dir, face_dir):
    return ["--text-model", str(text_dir), "--face-model", str(face_dir)]


def test_demo_reads_the_default_sentence_and_the_face_of_the_default_photo(
    tiny_text_model_dir, tiny_face_model_dir, capsys
):
    reading = read_face(model_dir=tiny_face_model_dir)
    assert reading.found and len(reading.boxes) == 1
    assert sum(reading.probabilities.values()) == pytest.approx(1.0, rel=1e-5)
    text = read_text(model_dir=tiny_text_model_dir)
    assert text.text == DEFAULT_TEXT and len(text.probabilities) == 28
    assert main(["demo", *_models(tiny_text_model_dir, tiny_face_model_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("text: ") and DEFAULT_TEXT[:40] in out and "ekman:" in out
    assert "face at (x, y, w, h)" in out


def test_demo_refuses_an_empty_sentence(tiny_text_model_dir, tiny_face_model_dir, capsys):
    assert main(["demo", "--text", "  ", *_models(tiny_text_model_dir, tiny_face_model_dir)]) == 2
    assert "empty" in capsys.readouterr().err


def test_demo_reports_a_photo_without_a_face(tiny_text_model_dir, tiny_face_model_dir, tmp_path, capsys):
    from PIL import Image

    Image.fromarray(np.full((100, 100, 3), 90, np.uint8)).save(tmp_path / "wall.png")
    photo = ["--photo", str(tmp_path / "wall.png")]
    assert main(["demo", *photo, *_models(tiny_text_model_dir, tiny_face_model_dir)]) == 0
    assert "no face found" in capsys.readouterr().out


def test_demo_names_a_missing_photo(tiny_text_model_dir, tiny_face_model_dir, tmp_path, capsys):
    photo = ["--photo", str(tmp_path / "nope.jpg")]
    assert main(["demo", *photo, *_models(tiny_text_model_dir, tiny_face_model_dir)]) == 2
    assert "nope.jpg: no such file" in capsys.readouterr().err
