"""bench-inference on tiny models: every predictor measured in a fresh process, the agreed keys written."""

import json

import pytest

from mepe_utils.bench.inference import COLUMNS, group_photo_path
from mepe_utils.cli import main


@pytest.mark.slow
def test_bench_inference_measures_every_predictor(
    tiny_text_model_dir, tiny_face_model_dir, tiny_fusion, tiny_persona, tiny_generator, tmp_path, capsys
):
    out = tmp_path / "inference.json"
    args = ["--text-model", str(tiny_text_model_dir), "--face-model", str(tiny_face_model_dir)]
    args += ["--fusion-model", str(tiny_fusion), "--persona-model", str(tiny_persona)]
    args += ["--generator-model", str(tiny_generator)]
    assert main(["bench-inference", *args, "--calls", "5", "--batch", "4", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    kinds = ["text", "face", "analyze", "demo"] + (["group"] if group_photo_path() else [])
    for kind in kinds:
        assert set(COLUMNS) <= set(results[kind])
        assert results[kind]["cold_start_s"] > results[kind]["latency_ms_p50"] / 1000 > 0
        assert results[kind]["latency_ms_p95"] >= results[kind]["latency_ms_p50"]
        assert results[kind]["peak_rss_mb"] > 50
    assert results["text"]["batch"] == results["face"]["batch"] == 4
    assert results["analyze"]["throughput_per_s"] is None  # one sentence and one photo a call
    assert results["demo"]["throughput_per_s"] is None
    assert "analyze" in capsys.readouterr().out


def test_a_failing_worker_is_reported(tmp_path):

    from mepe_utils.bench.inference import measure_in_fresh_process
    from mepe_utils.errors import MepeError

    with pytest.raises(MepeError, match="worker for text failed"):
        measure_in_fresh_process("text", {"text": str(tmp_path / "absent")}, tmp_path / "photo.png", calls=2, batch=2)


def test_the_face_item_read_back_from_its_file_is_the_astronaut_pixel_for_pixel(tmp_path):
    import numpy as np
    import skimage.data

    from mepe_utils.bench.inference import _read_photo, write_sample_photo

    photo = _read_photo(str(write_sample_photo(tmp_path)))
    assert np.array_equal(photo, skimage.data.astronaut())
