"""Embedding tables: computed once per (model sha256, split), cached, recomputed when the model changes."""

import numpy as np
import pytest

from conftest import write_fer_folder, write_goemotions_folder
from mepe_utils.labels import NUM_FER
from mepe_utils.predictors import embedding_tables
from mepe_utils.predictors.embedding_tables import embedding_table, table_path


def test_a_text_table_holds_the_ekman_view_and_the_embedding(tiny_text_model_dir, tmp_path):
    goemotions = write_goemotions_folder(tmp_path / "goemotions")
    table = embedding_table(tiny_text_model_dir, "train", goemotions, tmp_path / "cache")
    assert table.kind == "text-emotion" and len(table) == 3
    assert table.ids.tolist() == ["c1", "c2", "c3"]
    assert table.labels.shape == table.probabilities.shape == (3, NUM_FER)
    assert table.embeddings.shape == (3, 8)
    assert table.labels[2].tolist() == [0, 0, 0, 0, 0, 0, 1]  # "ok" is neutral


def test_a_face_table_reads_the_crops_of_a_split(tiny_face_model_dir, tmp_path):
    fer = write_fer_folder(tmp_path / "fer", per_class=2)
    table = embedding_table(tiny_face_model_dir, "PrivateTest", fer, tmp_path / "cache")
    assert table.kind == "face-emotion" and len(table) == 14
    np.testing.assert_allclose(table.probabilities.sum(axis=1), 1.0, rtol=1e-4)
    assert (table.labels.sum(axis=1) == 1).all() and table.ids[0] == "PrivateTest:0"


def test_a_cached_table_is_reused_and_a_changed_model_recomputes(tiny_text_model_dir, tmp_path, monkeypatch):
    from mepe_utils import artifacts

    goemotions = write_goemotions_folder(tmp_path / "goemotions")
    first = embedding_table(tiny_text_model_dir, "dev", goemotions, tmp_path / "cache")

    def refuse(*_):
        raise AssertionError("recomputed a cached table")

    monkeypatch.setattr(embedding_tables, "_compute_text", refuse)
    again = embedding_table(tiny_text_model_dir, "dev", goemotions, tmp_path / "cache")
    np.testing.assert_array_equal(again.embeddings, first.embeddings)
    monkeypatch.undo()

    stale = table_path(tmp_path / "cache", artifacts.read_manifest(tiny_text_model_dir), "dev")
    np.savez(stale, model_sha256=np.array("0" * 64), ids=np.array(["x"]), labels=np.zeros((1, 7)),
             probabilities=np.zeros((1, 7)), embeddings=np.zeros((1, 8)))  # fmt: skip
    recomputed = embedding_table(tiny_text_model_dir, "dev", goemotions, tmp_path / "cache")
    assert len(recomputed) == 2  # the stored table belonged to another model file: computed again
    np.testing.assert_array_equal(recomputed.embeddings, first.embeddings)


def test_an_unknown_split_is_a_clear_error(tiny_text_model_dir, tmp_path):
    from mepe_utils.errors import DataError

    with pytest.raises(DataError, match="validation.tsv"):
        embedding_table(tiny_text_model_dir, "validation", write_goemotions_folder(tmp_path / "g"), tmp_path / "c")


def test_a_degraded_face_table_is_cached_apart_and_differs(tiny_face_model_dir, tiny_text_model_dir, tmp_path):
    fer = write_fer_folder(tmp_path / "fer", per_class=2)
    clean = embedding_table(tiny_face_model_dir, "PublicTest", fer, tmp_path / "cache")
    blurred = embedding_table(tiny_face_model_dir, "PublicTest", fer, tmp_path / "cache", degradation="blur")
    assert (clean.labels == blurred.labels).all() and not np.allclose(clean.embeddings, blurred.embeddings)
    cached = sorted(path.name.split("-")[-1] for path in (tmp_path / "cache").iterdir())
    assert cached == ["PublicTest+blur.npz", "PublicTest.npz"]
    goemotions = write_goemotions_folder(tmp_path / "goemotions")
    with pytest.raises(ValueError, match="degradations apply to faces"):
        embedding_table(tiny_text_model_dir, "dev", goemotions, tmp_path / "cache", degradation="blur")


def test_a_sampled_table_keeps_seeded_rows_and_is_cached_apart(tiny_face_model_dir, tmp_path):
    from mepe_utils.predictors.embedding_tables import sample_rows

    fer = write_fer_folder(tmp_path / "fer", per_class=3)
    full = embedding_table(tiny_face_model_dir, "Training", fer, tmp_path / "cache")
    sampled = embedding_table(tiny_face_model_dir, "Training", fer, tmp_path / "cache", sample=8)
    rows = sample_rows(len(full), 8)
    assert len(sampled) == 8 and sampled.ids.tolist() == full.ids[rows].tolist()
    np.testing.assert_allclose(sampled.embeddings, full.embeddings[rows], atol=1e-5)
    assert sample_rows(5, None).tolist() == sample_rows(5, 9).tolist() == [0, 1, 2, 3, 4]
    assert len(list((tmp_path / "cache").iterdir())) == 2
