import json

import numpy as np
import pytest

from mepe_utils.cli import main
from mepe_utils.demo import DEFAULT_TEXT, run_demo
from mepe_utils.persona.schema import CONTROLS, TRAITS

pytest.importorskip("skimage")


@pytest.fixture
def engine_models(tiny_fusion, tiny_text_model_dir, tiny_face_model_dir, tiny_persona):
    return ["--fusion-model", str(tiny_fusion), "--text-model", str(tiny_text_model_dir)] + [
        "--face-model",
        str(tiny_face_model_dir),
        "--persona-model",
        str(tiny_persona),
    ]


@pytest.fixture
def models(engine_models, tiny_generator):
    return [*engine_models, "--generator-model", str(tiny_generator)]


def test_demo_reads_the_default_sentence_and_photo_and_answers_under_the_controls(
    tiny_fusion, tiny_text_model_dir, tiny_face_model_dir, tiny_persona, tiny_generator, models, capsys
):
    response = run_demo(
        generator_model=tiny_generator, fusion_model=tiny_fusion, text_model=tiny_text_model_dir,
        face_model=tiny_face_model_dir, persona_model=tiny_persona,
    )  # fmt: skip
    reading = response.reading
    fused = reading.fused
    assert fused.text.text == DEFAULT_TEXT and fused.face.found and len(fused.face.faces) == 1
    assert fused.missing == [] and 0.0 <= fused.gate_text <= 1.0
    assert sum(fused.probabilities.values()) == pytest.approx(1.0, rel=1e-5)
    assert reading.persona.missing == [] and set(reading.controls.decisions) == set(CONTROLS)
    reply = response.reply
    assert reply.backend == "t5" and reply.controls_requested == {
        n: d.value for n, d in reading.controls.decisions.items()
    }
    assert reply.text == " ".join(reply.text.split()) and set(reply.controls_measured) <= set(CONTROLS)
    assert reply.prompt.startswith("empathy=") and DEFAULT_TEXT in reply.prompt
    assert main(["demo", *models]) == 0
    out = capsys.readouterr().out
    assert out.startswith("fused: ") and "weights:   text" in out and DEFAULT_TEXT[:40] in out
    assert "face:      the given image: 1 face, largest first\n  1/1 (" in out and "<- fused" not in out
    lines = out.strip().splitlines()
    persona = lines[lines.index("Detected Persona:") + 1]
    controls = lines[lines.index("Derived Control Signals:") + 1]
    assert persona.strip().startswith("Stress ") and "Formality Preference " in persona
    assert controls.strip().startswith("Empathy Level ") and "modality weights: text" in out
    assert lines[lines.index("Generated Response:") + 2].strip().startswith("(t5; measured on the reply:")


def test_demo_answers_with_retrieval_and_as_json(models, capsys):
    assert main(["demo", "--generator", "retrieval", "--json", *models]) == 0
    record = json.loads(capsys.readouterr().out)
    assert {"persona", "controls", "modality_weights", "reply"} <= set(record)
    reply = record["reply"]
    assert reply["backend"] == "retrieval" and reply["text"] and set(reply["controls_measured"]) == set(CONTROLS)
    assert record["modality_weights"]["text"] + record["modality_weights"]["face"] == pytest.approx(1.0)


def test_demo_reads_the_words_alone_without_a_photo(models, capsys):
    assert main(["demo", "--text", "my dog died yesterday", "--no-photo", "--json", *models]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["persona"]["missing"] == ["face"] and record["modality_weights"] == {"text": 1.0, "face": 0.0}
    assert record["reply"]["text"] and record["reply"]["controls_requested"] == {
        name: decision["value"] for name, decision in record["controls"]["decisions"].items()
    }


def test_sampled_replies_repeat_with_their_seed(models, capsys):
    replies = []
    for seed in (3, 3):
        assert main(["demo", "--text", "i failed my exam", "--seed", str(seed), "--json", *models]) == 0
        replies.append(json.loads(capsys.readouterr().out)["reply"]["text"])
    assert replies[0] == replies[1]
    assert main(["demo", "--text", "i failed my exam", "--seed", "3", "--json", *models]) == 0
    assert json.loads(capsys.readouterr().out)["reply"]["seed"] == 3  # the record tells how to draw it again
    assert main(["demo", "--text", "i failed my exam", "--greedy", "--json", *models]) == 0
    assert json.loads(capsys.readouterr().out)["reply"]["seed"] is None


def test_analyze_explains_each_control_and_writes_persona_and_controls_as_json(engine_models, capsys):
    assert main(["analyze", "--text", "i love this so much !", "--explain", *engine_models]) == 0
    out = capsys.readouterr().out
    assert "why each control:" in out and "<-" in out and "missing:   face" in out
    stress = next(line for line in out.splitlines() if line.strip().startswith("stress "))
    assert stress.endswith(" <= High)") and "(Low < 0." in stress  # the level's cut points beside the score
    assert main(["analyze", "--text", "i love this so much !", "--json", *engine_models]) == 0
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
    assert "modality weights: text 1.00 | face 0.00 (missing: face)" in out and "Generated Response:" in out


def test_demo_names_a_missing_photo(models, tmp_path, capsys):
    assert main(["demo", "--photo", str(tmp_path / "nope.jpg"), *models]) == 2
    assert "nope.jpg: no such file" in capsys.readouterr().err


def test_demo_names_an_unknown_generator_and_a_generator_of_another_text_model(models, tiny_persona, capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--generator", "gpt", *models])
    assert "invalid choice: 'gpt'" in capsys.readouterr().err
    assert main(["demo", *models, "--generator-model", str(tiny_persona)]) == 2
    assert "holds a 'persona' model, expected 'generator'" in capsys.readouterr().err


def test_crisis_language_gets_the_crisis_message_instead_of_a_reply(models, engine_models, capsys):
    from mepe_utils.safety.messages import CRISIS_MESSAGE

    assert main(["demo", "--text", "i want to kill myself tonight", "--no-photo", "--json", *models]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["reply"]["text"] == CRISIS_MESSAGE and record["reply"]["backend"] == "crisis_message"
    assert record["safety"]["crisis"] is True and record["safety"]["reply_screen"] == "crisis"
    assert record["safety"]["matched"][0]["category"] == "suicide" and record["controls"]["decisions"]
    assert main(["demo", "--text", "i want to kill myself tonight", "--no-photo", *models]) == 0
    out = capsys.readouterr().out
    assert "Safety: crisis language (suicide: 'kill myself')" in out and "(crisis_message: a fixed text" in out
    assert "  (not used: the words hold crisis language, so the fixed crisis message answers" in out
    from mepe_utils.app import response_views
    from mepe_utils.demo import NO_PHOTO

    response = run_demo("i want to kill myself tonight", NO_PHOTO, generator_model=models[-1], **dict(
        zip(["fusion_model", "text_model", "face_model", "persona_model"], engine_models[1::2])))  # fmt: skip
    assert response_views(response)[2].endswith(
        "*Controls not used: the words hold crisis language, so the fixed "
        "crisis message answers, whatever the persona.*"
    )  # the web demo too
    assert main(["analyze", "--text", "i want to kill myself tonight", *engine_models]) == 0
    assert "Safety:  crisis language" in capsys.readouterr().out
    assert main(["analyze", "--text", "my dog died yesterday", "--json", *engine_models]) == 0
    assert json.loads(capsys.readouterr().out)["safety"] == {"crisis": False, "matched": []}


def test_a_bad_photo_text_or_output_is_named_before_any_model_loads(tmp_path, capsys):
    absent = ["--text-model", str(tmp_path / "no-model")]  # loading it would fail: the check comes first
    assert main(["demo", "--photo", str(tmp_path / "nope.jpg"), *absent]) == 2
    assert capsys.readouterr().err.strip() == f"error: --photo {tmp_path / 'nope.jpg'}: no such file"
    assert main(["analyze", "--text", "hi", "--photo", str(tmp_path), *absent]) == 2
    assert "a folder, not a photo" in capsys.readouterr().err
    assert main(["demo", "--text", " \n", *absent]) == 2
    assert capsys.readouterr().err.strip() == "error: --text: the text is empty or whitespace only"
    assert main(["predict-text", "hi", "--output", str(tmp_path), "--model", str(tmp_path / "no-model")]) == 2
    assert f"--output '{tmp_path}': not a file name" in capsys.readouterr().err
    (tmp_path / "plain.txt").write_text("")
    assert main(["predict-text", "hi", "--output", str(tmp_path / "plain.txt" / "x.jsonl")]) == 2
    assert capsys.readouterr().err.strip().endswith(f"{tmp_path / 'plain.txt'} is a file, not a folder")
    assert main(["demo", "--photo", "", *absent]) == 2
    assert capsys.readouterr().err.strip() == "error: --photo: the path is empty"


def test_a_seed_with_greedy_decoding_or_retrieval_is_refused(tmp_path, capsys):
    for flags in (["--greedy"], ["--generator", "retrieval"]):
        assert main(["demo", "--seed", "2", *flags, "--text-model", str(tmp_path / "no-model")]) == 2
        assert "--seed picks a sampled reply" in capsys.readouterr().err


def test_the_fused_reading_lists_a_photos_faces_once_and_marks_the_fused_one():
    from mepe_utils.labels import FER_LABELS
    from mepe_utils.predictors.face import FaceEmotion, FaceReading
    from mepe_utils.predictors.fusion import FusedEmotion
    from mepe_utils.predictors.report import format_fused_reading

    probabilities = {name: 1 / 7 for name in FER_LABELS}
    faces = [FaceReading((10 * k, 0, 50 - k, 50 - k), None, 0.9, probabilities, "happy", np.zeros(4)) for k in range(3)]
    reading = FusedEmotion(probabilities, "happy", 0.4, [], np.zeros(4), None, FaceEmotion("group.jpg", faces), 1)
    lines = format_fused_reading(reading).splitlines()
    assert lines[3] == "face:      group.jpg: 3 faces, largest first"
    assert [line.split()[0] for line in lines[4:]] == ["1/3", "2/3", "3/3"] and lines[5].endswith("<- fused")
    assert sum("<- fused" in line for line in lines) == 1 and sum("group.jpg" in line for line in lines) == 1


def test_analyze_counts_faces_from_1_as_the_listing_does(engine_models, tmp_path, capsys):
    import skimage.data
    from PIL import Image

    Image.fromarray(skimage.data.astronaut()).save(tmp_path / "one.png")
    photo = ["--text", "hello there", "--photo", str(tmp_path / "one.png"), *engine_models]
    assert main(["analyze", *photo, "--face", "1"]) == 0
    assert "  1/1 (" in capsys.readouterr().out
    assert main(["analyze", *photo, "--face", "2"]) == 2
    assert capsys.readouterr().err.strip() == "error: --face 2: the photo has 1 face(s), numbered from 1, largest first"
    assert main(["analyze", *photo, "--face", "0"]) == 2
    assert "numbered from 1" in capsys.readouterr().err


def test_the_python_api_names_a_bad_text_photo_face_or_seed_in_one_line(
    tiny_fusion, tiny_text_model_dir, tiny_face_model_dir, tiny_persona, tiny_generator
):
    import skimage.data

    from mepe_utils.errors import ImageError, MepeError, TextInputError
    from mepe_utils.generation.decoding import MAX_SEED
    from mepe_utils.pipeline import MepePipeline

    mepe = MepePipeline.load("t5", tiny_generator, tiny_fusion, tiny_text_model_dir, tiny_face_model_dir, tiny_persona)
    photo = skimage.data.astronaut()
    for call, error, message in (
        (lambda: mepe.respond(["i am sad"]), TextInputError, "text: expected a str, got list"),
        (lambda: mepe.respond("  ", photo), TextInputError, "text: the text is empty"),
        (lambda: mepe.respond(None, [photo, photo]), ImageError, "photo: one photo .* not a batch"),
        (lambda: mepe.respond(None, photo[None]), ImageError, "not a batch"),
        (lambda: mepe.respond("hi", photo, face=1.5), MepeError, r"face: a whole number \(0 = the largest\), got 1.5"),
        (lambda: mepe.respond("hi", seed=-1), MepeError, f"seed: a whole number from 0 to {MAX_SEED}, got -1"),
        (lambda: mepe.respond("hi", seed=1.5), MepeError, "got 1.5"),
        (lambda: mepe.respond("hi", seed=2**32), MepeError, "got 4294967296"),
        (lambda: mepe.respond("hi", seed="3"), MepeError, "got '3'"),
    ):
        with pytest.raises(error, match=message):
            call()
    assert mepe.respond("hi", seed=np.int64(2)).reply.seed == 2


def test_the_web_demos_seed_box_gives_a_whole_number_or_leaves_the_check_to_name_it():
    from mepe_utils.app import whole_number

    assert [whole_number(v) for v in (None, 0.0, 7.0)] == [0, 0, 7]
    assert isinstance(whole_number(7.0), int) and whole_number(1.5) == 1.5 and np.isnan(whole_number(float("nan")))
    assert whole_number(10**400) == 10**400 and whole_number("3") == "3"  # passed on for check_seed to name
