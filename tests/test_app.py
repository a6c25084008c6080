"""``mepe serve``: the web demo, started on the loopback address, called through its API and looked at in a
headless Chromium (skipped without Chromium, except under ``MEPE_REQUIRE_BROWSER=1``, as in CI)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

gradio = pytest.importorskip("gradio")

pytestmark = pytest.mark.slow

STARTUP_SECONDS = 240


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"mepe serve stopped: {server.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as page:
                if page.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise AssertionError(f"mepe serve did not answer on {url} within {STARTUP_SECONDS} s")


@pytest.fixture(scope="module")
def server_url(tiny_fusion, tiny_text_model_dir, tiny_face_model_dir, tiny_persona, tiny_generator):
    port = _free_port()
    models = ["--fusion-model", tiny_fusion, "--text-model", tiny_text_model_dir, "--face-model",
              tiny_face_model_dir, "--persona-model", tiny_persona, "--generator-model", tiny_generator]  # fmt: skip
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen(
        [sys.executable, "-m", "mepe_utils", "serve", "--port", str(port), *map(str, models)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_app_reads_a_sentence_and_a_photo_and_answers(server_url, tmp_path):
    import skimage.data
    from gradio_client import Client, handle_file
    from PIL import Image

    from mepe_utils.app import API_NAME
    from mepe_utils.labels import FER_LABELS

    Image.fromarray(skimage.data.astronaut()).save(tmp_path / "me.png")
    client = Client(server_url, verbose=False)
    fused, weights, persona, reply, record = client.predict(
        "i love this so much !", handle_file(str(tmp_path / "me.png")), 3, api_name=f"/{API_NAME}"
    )
    assert fused["label"] in FER_LABELS
    assert {c["label"] for c in weights["confidences"]} == {"text", "face"}
    assert "| Stress |" in persona and "| Empathy Level |" in persona
    assert record["reply"]["text"].strip() and record["reply"]["text"] in reply
    assert record["missing"] == [] and record["safety"]["crisis"] is False


def test_the_app_shows_a_bad_input_as_one_sentence(server_url):
    from gradio_client import Client

    from mepe_utils.app import API_NAME

    client = Client(server_url, verbose=False)
    with pytest.raises(Exception, match="nothing to read"):
        client.predict("   ", None, 0, api_name=f"/{API_NAME}")


def test_a_headless_browser_shows_the_page_with_its_reading(server_url, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        if os.environ.get("MEPE_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (MEPE_REQUIRE_BROWSER=1) and was not found")
        pytest.skip("no Chromium on this machine")
    shot = tmp_path / "app.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,1000",
         "--virtual-time-budget=15000", f"--screenshot={shot}", server_url],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=np.float32)
    assert pixels.shape[:2] == (1000, 1280)
    dark = (pixels.mean(axis=2) < 100).mean()  # text
    assert pixels.std() > 10 and 0.002 < dark < 0.5, (pixels.std(), dark)
    assert len(np.unique(pixels.reshape(-1, 3).astype(np.uint8), axis=0)) > 50  # more than a flat page
