"""Batches: folders and CSV/JSONL files as inputs, one record per item, bad items as error records."""

import codecs
import json

import numpy as np
import pytest
from PIL import Image

from mepe_utils.batch import NOT_TEXT, analyze_items, photo_items, report, text_items
from mepe_utils.cli import main
from mepe_utils.errors import MepeError


@pytest.fixture
def inputs(tmp_path):
    """A folder of two photos (one with a face) and two texts, a CSV of texts and a JSONL of text/photo rows."""
    import skimage.data

    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(skimage.data.astronaut()).save(photos / "astronaut.jpg")
    Image.fromarray(np.full((80, 120, 3), 200, np.uint8)).save(photos / "wall.png")
    (photos / "astronaut.txt").write_text("i love this so much !")
    (photos / "alone.txt").write_text("i am so sad today")
    (photos / "notes.md").write_text("not read")
    (tmp_path / "texts.csv").write_text("id,text\n1,i love this\n2,\n3,i am so sad\n")
    (tmp_path / "rows.jsonl").write_text(
        '{"text": "i love this so much !", "photo": "photos/astronaut.jpg"}\n'
        '{"photo": "photos/missing.jpg"}\n'
        "\n"
        "[1, 2]\n"
        '{"note": "neither"}\n'
    )
    return tmp_path


def test_text_items_come_from_arguments_then_each_file_with_their_line_as_source(inputs):
    items = text_items(["hello"], [str(inputs / "texts.csv"), str(inputs / "photos")])
    assert [item.source for item in items] == [
        "argument 1",
        f"{inputs / 'texts.csv'}:2",
        f"{inputs / 'texts.csv'}:3",
        f"{inputs / 'texts.csv'}:4",
        str(inputs / "photos" / "alone.txt"),
        str(inputs / "photos" / "astronaut.txt"),
    ]
    assert [item.text for item in items[1:4]] == ["i love this", "", "i am so sad"]
    (inputs / "other.csv").write_text("words\nhello\n")
    (row,) = text_items([], [str(inputs / "other.csv")])
    assert row.error == "no 'text' column" and row.text is None
    with pytest.raises(FileNotFoundError, match="not a folder or a .csv/.jsonl file"):
        text_items([], [str(inputs / "photos" / "notes.md")])


def test_photo_items_expand_folders_and_lists_and_keep_bad_rows_as_errors(inputs):
    (inputs / "empty").mkdir()
    items = photo_items([str(inputs / "photos"), str(inputs / "rows.jsonl"), str(inputs / "empty"), "absent.jpg"])
    sources = [item.source for item in items]
    assert sources[:2] == [str(inputs / "photos" / "astronaut.jpg"), str(inputs / "photos" / "wall.png")]
    assert items[2].photo == inputs / "photos" / "astronaut.jpg"  # relative to the list's folder
    assert items[3].photo == inputs / "photos" / "missing.jpg" and items[3].error is None  # read later: no such file
    assert items[4].error == "not a JSON object" and items[4].source.endswith("rows.jsonl:4")
    assert items[5].error == "no 'photo' in this row"
    assert items[6].error == "no photos in folder"
    assert items[7].photo.name == "absent.jpg" and items[7].error is None


def test_analyze_items_pair_a_folders_photos_with_their_texts(inputs):
    items = analyze_items(inputs / "photos")
    pairs = {item.source.split("/")[-1]: (item.text, item.photo and item.photo.name) for item in items}
    assert pairs == {
        "alone.txt": ("i am so sad today", None),
        "astronaut.jpg": ("i love this so much !", "astronaut.jpg"),
        "wall.png": (None, "wall.png"),
    }
    rows = analyze_items(inputs / "rows.jsonl")
    assert [row.error for row in rows] == [None, None, "not a JSON object", "neither 'text' nor 'photo' in this row"]
    assert rows[0].text == "i love this so much !" and rows[1].text is None


def test_a_row_that_is_not_utf8_is_an_error_of_its_own_and_a_byte_order_mark_is_read(tmp_path):
    (tmp_path / "latin1.csv").write_bytes("text\ni feel fine\nje suis tr\xe8s fatigu\xe9\nall good\n".encode("latin-1"))
    items = text_items([], [str(tmp_path / "latin1.csv")])
    assert [item.text for item in items] == ["i feel fine", None, "all good"]
    assert items[1].error == f"'text' is {NOT_TEXT}" and items[1].source.endswith("latin1.csv:3")
    (tmp_path / "notes.csv").write_bytes(b"text,note\nfine,caf\xe9\n")  # a column no one reads
    assert [(item.text, item.error) for item in text_items([], [str(tmp_path / "notes.csv")])] == [("fine", None)]
    (tmp_path / "header.csv").write_bytes(b"text,ph\xf6to\nfine,a.jpg\n")
    with pytest.raises(MepeError, match="header.csv:1: the header is not UTF-8 text"):
        text_items([], [str(tmp_path / "header.csv")])
    (tmp_path / "rows.jsonl").write_bytes(b'{"text": "ok"}\r\n{"text": "caf\xe9"}\n{"text": 42}\n')
    items = text_items([], [str(tmp_path / "rows.jsonl")])
    assert [item.error for item in items] == [None, f"'text' is {NOT_TEXT}", "'text' is not a string: 42"]
    (tmp_path / "separators.jsonl").write_text('{"text": "one\u2028two"}\n{"text": "three"}\n', encoding="utf-8")
    items = text_items([], [str(tmp_path / "separators.jsonl")])  # JSON strings may hold U+2028 raw
    assert [item.text for item in items] == ["one\u2028two", "three"] and items[1].source.endswith(":2")
    (tmp_path / "excel.csv").write_bytes(codecs.BOM_UTF8 + b"text,photo\ni am thrilled,\n")
    assert [item.text for item in text_items([], [str(tmp_path / "excel.csv")])] == ["i am thrilled"]
    (tmp_path / "utf16.csv").write_bytes("text\nich bin froh\n".encode("utf-16"))
    assert [item.text for item in text_items([], [str(tmp_path / "utf16.csv")])] == ["ich bin froh"]
    (tmp_path / "broken16.csv").write_bytes(codecs.BOM_UTF16_LE + b"t\x00e\x00x")
    with pytest.raises(MepeError, match="broken16.csv: starts with a UTF-16 byte-order mark but is not UTF-16 text"):
        text_items([], [str(tmp_path / "broken16.csv")])


def test_a_folders_text_files_are_read_by_their_encoding_and_a_bad_one_is_named(tmp_path):
    (tmp_path / "a.txt").write_bytes("I am so angry at my brother\n".encode("utf-16"))
    (tmp_path / "b.txt").write_bytes("tr\xe8s fatigu\xe9".encode("latin-1"))
    (tmp_path / "c.txt").write_text("  plain words\n\n")
    items = text_items([], [str(tmp_path)])
    assert [(item.text, item.error) for item in items] == [
        ("I am so angry at my brother", None), (None, NOT_TEXT), ("plain words", None)
    ]  # fmt: skip


def test_a_csv_row_with_more_fields_than_the_header_or_an_unclosed_quote_is_an_error_not_a_cut_text(tmp_path):
    (tmp_path / "one.csv").write_text("text\nI'm okay, I guess.\n\"I'm okay, I guess.\"\nfine\n")
    items = text_items([], [str(tmp_path / "one.csv")])
    assert items[0].text is None and items[0].error.startswith("2 fields where the header has 1: put a text")
    assert [item.text for item in items[1:]] == ["I'm okay, I guess.", "fine"]
    (tmp_path / "open.csv").write_text('text\n\nfine\n\n"this quote is never closed\nand eats\nthe rest\n')
    items = text_items([], [str(tmp_path / "open.csv")])
    assert [item.text for item in items] == ["fine", None]
    assert items[1].source.endswith("open.csv:5") and items[1].error == "a quote opened on this line is never closed"
    (tmp_path / "open2.csv").write_text('text\n"never closed\n')
    assert text_items([], [str(tmp_path / "open2.csv")])[0].source.endswith("open2.csv:2")
    (tmp_path / "loose.csv").write_text('text\n"Fine" is what I always say\n"multi\nline"\n')
    items = text_items([], [str(tmp_path / "loose.csv")])  # read as spreadsheets read them
    assert [(item.text, item.source[-2:]) for item in items] == [
        ("Fine is what I always say", ":2"),
        ("multi\nline", ":4"),
    ]


def test_a_table_without_rows_is_named(tmp_path):
    (tmp_path / "header.csv").write_text("text,photo\n")
    (tmp_path / "blank.jsonl").write_text("\n\n")
    for name in ("header.csv", "blank.jsonl"):
        (item,) = photo_items([str(tmp_path / name)])
        assert item.source == str(tmp_path / name) and item.error == "no rows in this file"


def test_an_empty_text_beside_a_photo_is_a_missing_text_in_folders_and_tables(inputs):
    (inputs / "photos" / "astronaut.txt").write_text("\n")
    (inputs / "photos" / "blank.txt").write_text("")
    pairs = {item.source.split("/")[-1]: (item.text, item.photo and item.photo.name, item.error)
             for item in analyze_items(inputs / "photos")}  # fmt: skip
    assert pairs["astronaut.jpg"] == (None, "astronaut.jpg", None)  # the photo is read alone
    assert pairs["blank.txt"] == ("", None, None)  # nothing else to read: reading it names the empty text


def test_report_writes_jsonl_atomically_or_prints_json(tmp_path, capsys):
    records = [{"source": "a", "x": 1}, {"source": "b", "error": "bad"}]
    assert report(records, tmp_path / "out.jsonl", as_json=False)
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == records
    assert "wrote 2 records (1 with an error)" in capsys.readouterr().out
    assert report(records, None, as_json=True) and json.loads(capsys.readouterr().out) == records
    assert not report(records, None, as_json=False)


def test_predict_text_reads_a_csv_and_reports_the_empty_row_without_stopping(tiny_text_model_dir, inputs, capsys):
    out = inputs / "texts.jsonl"
    code = main(["predict-text", "hello", "--file", str(inputs / "texts.csv"), "--model", str(tiny_text_model_dir),
                 "--output", str(out)])  # fmt: skip
    assert code == 2
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 4 and [("error" in r) for r in records] == [False, False, True, False]
    assert records[2] == {"source": f"{inputs / 'texts.csv'}:3", "error": "the text is empty or whitespace only",
                          "text": ""}  # fmt: skip
    assert records[3]["text"] == "i am so sad" and records[3]["top_label"]
    err = capsys.readouterr().err
    assert err.strip() == f"error: {inputs / 'texts.csv'}:3: the text is empty or whitespace only"


def test_predict_text_needs_texts_or_a_file(tiny_text_model_dir, capsys):
    assert main(["predict-text", "--model", str(tiny_text_model_dir)]) == 2
    assert "no texts given" in capsys.readouterr().err


def test_predict_face_reads_a_folder_and_a_list_and_records_each_bad_photo(tiny_face_model_dir, inputs, capsys):
    paths = [str(inputs / "photos"), str(inputs / "rows.jsonl")]
    assert main(["predict-face", *paths, "--model", str(tiny_face_model_dir), "--json"]) == 2
    captured = capsys.readouterr()
    records = json.loads(captured.out)
    assert [r.get("found") for r in records] == [True, False, True, None, None, None]
    assert records[2]["photo"] == str(inputs / "photos" / "astronaut.jpg")
    assert records[3]["error"].endswith("missing.jpg: no such file")
    assert captured.err.count("error: ") == 3 and "rows.jsonl:2: " in captured.err
    assert f"note: {inputs / 'photos'}: reads photos only (not subfolders); left out: alone.txt, astronaut.txt, " \
           "notes.md" in captured.err  # fmt: skip


def test_analyze_batch_reads_each_row_and_keeps_going_past_a_bad_one(engine_models, inputs, capsys):
    out = inputs / "readings.jsonl"
    code = main(["analyze", "--batch", str(inputs / "rows.jsonl"), "--output", str(out), *engine_models])
    assert code == 2
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 4
    first = records[0]
    assert first["source"].endswith("rows.jsonl:1") and first["persona"] and first["controls"]
    assert first["safety"]["crisis"] is False
    assert [("error" in r) for r in records] == [False, True, True, True]
    assert main(["analyze", "--batch", str(inputs / "photos"), *engine_models]) == 2  # wall.png: nothing to read
    captured = capsys.readouterr()
    assert captured.out.count("== ") == 2 and "wall.png" in captured.err


def test_analyze_batch_refuses_a_text_or_photo_beside_it(engine_models, inputs, capsys):
    assert main(["analyze", "--batch", str(inputs / "rows.jsonl"), "--text", "hi", *engine_models]) == 2
    assert "leave out --text and --photo" in capsys.readouterr().err


@pytest.fixture
def engine_models(tiny_fusion, tiny_text_model_dir, tiny_face_model_dir, tiny_persona):
    return ["--fusion-model", str(tiny_fusion), "--text-model", str(tiny_text_model_dir), "--face-model",
            str(tiny_face_model_dir), "--persona-model", str(tiny_persona)]  # fmt: skip
