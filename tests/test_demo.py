import numpy as np
import pytest

from mepe_utils.cli import main
from mepe_utils.demo import read_face

pytest.importorskip("skimage")


def test_demo_reads_the_face_of_the_default_photo(tiny_face_model_dir, capsys):
    reading = read_face(model_dir=tiny_face_model_dir)
    assert reading.found and len(reading.boxes) == 1
    assert sum(reading.probabilities.values()) == pytest.approx(1.0, rel=1e-5)
    assert main(["demo", "--face-model", str(tiny_face_model_dir)]) == 0
    assert "face at (x, y, w, h)" in capsys.readouterr().out


def test_demo_reports_a_photo_without_a_face(tiny_face_model_dir, tmp_path, capsys):
    from PIL import Image

    Image.fromarray(np.full((100, 100, 3), 90, np.uint8)).save(tmp_path / "wall.png")
    assert main(["demo", "--photo", str(tmp_path / "wall.png"), "--face-model", str(tiny_face_model_dir)]) == 0
    assert "no face found" in capsys.readouterr().out


def test_demo_names_a_missing_photo(tiny_face_model_dir, tmp_path, capsys):
    assert main(["demo", "--photo", str(tmp_path / "nope.jpg"), "--face-model", str(tiny_face_model_dir)]) == 2
    assert "nope.jpg: no such file" in capsys.readouterr().err
