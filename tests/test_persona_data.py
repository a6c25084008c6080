"""Loaders of the persona trait data: EmoBank, sentence formality, Dreaddit, ESConv."""

import json

import numpy as np
import pytest

from mepe_utils.data.dreaddit import load_dreaddit
from mepe_utils.data.emobank import VAD_NAMES, load_emobank
from mepe_utils.data.esconv import load_esconv, seeker_utterances
from mepe_utils.data.formality import detokenize, formality_split, load_formality
from mepe_utils.errors import DataError


def _emobank(folder, rows):
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["id,split,V,A,D,text"] + rows
    (folder / "emobank.csv").write_text("\n".join(lines) + "\n")
    return folder


EMOBANK_ROWS = ['a,train,3.0,2.0,4.0,"I won, finally!"', "b,dev,1.5,4.2,2.0,Leave me alone.", "c,test,3,3,3,Fine."]


def test_emobank_keeps_its_split_and_the_three_scores_in_order(tmp_path):
    splits = load_emobank(_emobank(tmp_path, [*EMOBANK_ROWS, "d,train,3,3,3,"]))
    assert {k: len(v) for k, v in splits.items()} == {"train": 1, "dev": 1, "test": 1}  # the empty text is skipped
    train = splits["train"]
    assert train.texts == ["I won, finally!"] and train.names == VAD_NAMES
    np.testing.assert_array_equal(train.scores, [[3.0, 2.0, 4.0]])
    assert train.column("dominance")[0] == 4.0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("e,train,x,3,3,Hi there.", "scores must be numbers"),
        ("e,train,6,3,3,Hi there.", "outside"),
        ("e,valid,3,3,3,Hi there.", "unknown split 'valid'"),
    ],
)
def test_emobank_names_a_bad_row(tmp_path, row, message):
    with pytest.raises(DataError, match=message):
        load_emobank(_emobank(tmp_path, [*EMOBANK_ROWS, row]))


def test_a_missing_emobank_file_is_named(tmp_path):
    with pytest.raises(DataError, match="EmoBank file not found"):
        load_emobank(tmp_path)


def test_formality_sentences_are_detokenised():
    assert detokenize("I do n't know , it 's ( maybe ) 10 % .") == "I don't know, it's (maybe) 10%."
    assert detokenize("He said `` no way '' !") == 'He said "no way"!'


def _formality(folder, lines_per_genre=40):
    folder.mkdir(parents=True, exist_ok=True)
    for genre in ("answers", "blog", "email", "news"):
        lines = [
            f"{(i % 7) - 3:.1f}\t-1.0,0.0,1.0,2.0,3.0\tid{i}.{genre}\tsentence {i} of {genre} ." for i in range(40)
        ]
        (folder / genre).write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return folder


def test_the_formality_split_depends_on_the_sentence_id_alone(tmp_path):
    splits = load_formality(_formality(tmp_path))
    assert sum(len(s) for s in splits.values()) == 160
    ids = [set(s.ids) for s in splits.values()]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    for split in splits.values():
        assert all(formality_split(*i.split("/", 1)) == split.split for i in split.ids)
        assert split.scores.shape == (len(split), 1) and (np.abs(split.scores) <= 3).all()
    assert splits["train"].texts[0].endswith("of answers.")


def test_a_bad_formality_line_is_named(tmp_path):
    folder = _formality(tmp_path)
    (folder / "blog").write_text("4.5\t1,2\tx.1\tToo formal .\n")
    with pytest.raises(DataError, match="blog:1: mean score 4.5 outside"):
        load_formality(folder)


def test_dreaddit_reads_stress_labels_and_refuses_others(tmp_path):
    header = "subreddit,post_id,sentence_range,text,id,label,confidence\n"
    (tmp_path / "train.csv").write_text(header + 'r,p,"(0, 5)","I can\'t sleep, rent is due.",1,1,0.8\n')
    (tmp_path / "test.csv").write_text(header + "r,p,x,Nice day.,2,0,1.0\n")
    splits = load_dreaddit(tmp_path)
    assert splits["train"].texts == ["I can't sleep, rent is due."] and splits["train"].column("stress")[0] == 1.0
    (tmp_path / "test.csv").write_text(header + "r,p,x,Nice day.,2,maybe,1.0\n")
    with pytest.raises(DataError, match="test.csv:2: label 'maybe' is not 0 or 1"):
        load_dreaddit(tmp_path)


def test_esconv_gives_the_seekers_turns_with_their_conversation(tmp_path):
    dialog = [
        {"speaker": "usr", "text": "Hi."},
        {"speaker": "sys", "text": "Hello, how are you feeling?", "strategy": "Question"},
        {"speaker": "usr", "text": "I feel anxious about my job."},
    ]
    record = {"emotion_type": "anxiety", "problem_type": "job crisis", "situation": "job", "dialog": dialog}
    for split in ("train", "valid", "test"):
        (tmp_path / f"{split}.json").write_text(json.dumps(record) + "\n")
    conversations = load_esconv(tmp_path)["train"]
    assert conversations[0].turns[1] == ("sys", "Hello, how are you feeling?", "Question")
    (utterance,) = seeker_utterances(conversations)
    assert (
        utterance.text == "I feel anxious about my job." and utterance.turn == 2 and utterance.emotion_type == "anxiety"
    )
    (tmp_path / "valid.json").write_text('{"no": "dialog"}\n')
    with pytest.raises(DataError, match="valid.json:1: not an ESConv conversation"):
        load_esconv(tmp_path)


@pytest.mark.real_data
def test_the_real_persona_data_has_its_published_sizes(real_data_dir):
    emobank = load_emobank(real_data_dir / "emobank")
    assert {k: len(v) for k, v in emobank.items()} == {"train": 8062, "dev": 1000, "test": 1000}
    formality = load_formality(real_data_dir / "formality")
    assert sum(len(s) for s in formality.values()) == 11274
    assert {k: len(v) for k, v in formality.items()} == {"train": 8987, "dev": 1135, "test": 1152}
    dreaddit = load_dreaddit(real_data_dir / "dreaddit")
    assert {k: len(v) for k, v in dreaddit.items()} == {"train": 2838, "test": 715}
    esconv = load_esconv(real_data_dir / "esconv")
    assert {k: len(v) for k, v in esconv.items()} == {"train": 910, "valid": 195, "test": 195}
