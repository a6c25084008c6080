"""``predict-text`` and ``predict-face``: readable tables, JSON, and one-line errors with exit code 2."""

import json

import numpy as np
import pytest
from PIL import Image

from mepe_utils.cli import main
from mepe_utils.labels import FER_LABELS, GOEMOTIONS_LABELS


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    import skimage.data

    folder = tmp_path_factory.mktemp("photos")
    Image.fromarray(skimage.data.astronaut()).save(folder / "astronaut.jpg")
    Image.fromarray(np.full((200, 300, 3), 180, np.uint8)).save(folder / "wall.png")
    (folder / "notes.txt").write_text("not a photo")
    Image.fromarray(skimage.data.astronaut()).save(folder / "full.jpg")
    (folder / "truncated.jpg").write_bytes((folder / "full.jpg").read_bytes()[:3000])
    return folder


def test_predict_text_prints_a_table_and_json(tiny_text_model_dir, capsys):
    assert main(["predict-text", "I love this so much!", "ok", "--model", str(tiny_text_model_dir)]) == 0
    table = capsys.readouterr().out
    assert "'I love this so much!'" in table and "top:" in table and "ekman:" in table
    assert main(["predict-text", "I love this", "--model", str(tiny_text_model_dir), "--json", "--embedding"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert list(record["probabilities"]) == list(GOEMOTIONS_LABELS)
    assert record["top_label"] in GOEMOTIONS_LABELS and len(record["embedding"]) == 8
    assert record["truncated"] is False and len(record["sentence_vector"]) > 0
    assert main(["predict-text", "I love this", "--model", str(tiny_text_model_dir), "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert "embedding" not in record and "sentence_vector" not in record


@pytest.mark.parametrize(
    ("text", "message"), [("", "argument 1: the text is empty"), ("   ", "argument 1: the text is empty")]
)
def test_predict_text_refuses_empty_text_in_one_line(tiny_text_model_dir, capsys, text, message):
    assert main(["predict-text", text, "--model", str(tiny_text_model_dir)]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error and error.count("\n") == 1


def test_predict_face_reports_faces_and_missing_faces(tiny_face_model_dir, photos, capsys):
    paths = [str(photos / "astronaut.jpg"), str(photos / "wall.png")]
    assert main(["predict-face", *paths, "--model", str(tiny_face_model_dir)]) == 0
    astronaut, wall = capsys.readouterr().out.strip().splitlines()
    assert "astronaut.jpg: face (" in astronaut and wall.endswith("wall.png: no face found")
    assert main(["predict-face", *paths, "--model", str(tiny_face_model_dir), "--json"]) == 0
    first, second = json.loads(capsys.readouterr().out)
    face = first["faces"][0]
    assert first["found"] and len(first["faces"]) == 1 and len(face["box"]) == 4
    assert list(face["probabilities"]) == list(FER_LABELS) and face["top_label"] in FER_LABELS
    assert len(face["landmarks"]) == 5 and 0 < face["detector_score"] <= 1 and "embedding" not in face
    assert not second["found"] and second["faces"] == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("absent.jpg", "no such file"),
        ("empty_folder", "no photos in folder"),
        ("notes.txt", "not an image"),
        ("truncated.jpg", "truncated or corrupt"),
    ],
)
def test_predict_face_bad_paths_fail_in_one_line(tiny_face_model_dir, photos, capsys, name, message):
    (photos / "empty_folder").mkdir(exist_ok=True)
    assert main(["predict-face", str(photos / name), "--model", str(tiny_face_model_dir)]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_predict_face_reads_the_good_photos_of_a_batch_and_names_the_bad_one(tiny_face_model_dir, photos, capsys):
    paths = [str(photos / "astronaut.jpg"), str(photos / "notes.txt"), str(photos / "wall.png")]
    assert main(["predict-face", *paths, "--model", str(tiny_face_model_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "notes.txt: not an image" in captured.err
    astronaut, wall = captured.out.strip().splitlines()
    assert "astronaut.jpg: face (" in astronaut and wall.endswith("wall.png: no face found")


def test_predict_face_reads_every_face_of_a_group_or_only_the_largest(tiny_face_model_dir, photos, tmp_path, capsys):
    import cv2

    astronaut = cv2.imread(str(photos / "astronaut.jpg"))
    smaller = np.pad(cv2.resize(astronaut, (307, 307), interpolation=cv2.INTER_AREA), ((0, 205), (0, 0), (0, 0)))
    group = np.hstack([astronaut, smaller])  # the same face twice, the second at 60 %
    cv2.imwrite(str(tmp_path / "two.jpg"), group)
    assert main(["predict-face", str(tmp_path / "two.jpg"), "--model", str(tiny_face_model_dir), "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    areas = [face["box"][2] * face["box"][3] for face in record["faces"]]
    assert len(areas) == 2 and areas[0] > areas[1]
    assert main(["predict-face", str(tmp_path / "two.jpg"), "--model", str(tiny_face_model_dir), "--largest"]) == 0
    assert capsys.readouterr().out.count("two.jpg: face") == 1


def test_a_tampered_model_is_refused_in_one_line(tiny_face_model_dir, photos, tmp_path, capsys):
    import shutil

    tampered = tmp_path / "face"
    shutil.copytree(tiny_face_model_dir, tampered)
    with (tampered / "model.keras").open("ab") as handle:
        handle.write(b"tampered")
    assert main(["predict-face", str(photos / "astronaut.jpg"), "--model", str(tampered)]) == 2
    assert "sha256" in capsys.readouterr().err


@pytest.mark.slow
def test_the_same_input_gives_the_same_output_in_two_processes(tiny_text_model_dir, tiny_face_model_dir, photos):
    import subprocess
    import sys

    commands = [
        ["predict-text", "I love this so much!", "--model", str(tiny_text_model_dir), "--json", "--embedding"],
        ["predict-face", str(photos / "astronaut.jpg"), "--model", str(tiny_face_model_dir), "--json", "--embedding"],
    ]
    for arguments in commands:
        outputs = [
            subprocess.run(
                [sys.executable, "-m", "mepe_utils", *arguments], capture_output=True, text=True, check=True
            ).stdout
            for _ in range(2)
        ]
        record = json.loads(outputs[0])[0]
        assert outputs[0] == outputs[1] and (record.get("embedding") or record["faces"][0]["embedding"])


@pytest.mark.slow
def test_a_fresh_process_prints_exactly_one_error_line(tiny_text_model_dir):
    import os
    import subprocess
    import sys

    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as in a user's shell
    done = subprocess.run(
        [sys.executable, "-m", "mepe_utils", "predict-text", "   ", "--model", str(tiny_text_model_dir)],
        capture_output=True,
        text=True,
        env=environment,
    )
    assert done.returncode == 2
    # one line: no TensorFlow start-up log
    assert done.stderr.strip() == "error: argument 1: the text is empty or whitespace only"
