"""MEPE as a wheel: the shipped models travel with it and ``mepe demo`` runs outside a clone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from conftest import fresh_venv_with_dependencies
from mepe_utils import __version__
from mepe_utils.runtime import REPO_ROOT

pytestmark = pytest.mark.slow


def _tracked_tree(into: Path) -> Path:
    """The repository's tracked files (plus new files not yet committed), copied to ``into``."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO_ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    archive = into.with_suffix(".tar")
    with tarfile.open(archive, "w") as tar:
        for name in filter(None, listed):
            if (REPO_ROOT / name).is_file():
                tar.add(REPO_ROOT / name, arcname=name)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = _tracked_tree(tmp_path_factory.mktemp("source") / "mepe")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        check=True,
    )
    (built,) = out.glob("mepe-*.whl")
    return built


def test_the_wheel_carries_every_shipped_model_its_license_and_the_requirements(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "assets").rglob("*") if p.is_file()}
    assert {"mepe_utils/" + name for name in shipped} <= names
    assert "mepe_utils/persona/policy.toml" in names
    info = f"mepe-{__version__}.dist-info"
    assert f"{info}/LICENSE" in names or f"{info}/licenses/LICENSE" in names
    metadata = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    required = [line.split(";")[0].split(">")[0].split("<")[0].split("=")[0].strip()
                for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#")]  # fmt: skip
    declared = {line.split(":", 1)[1].strip().split(";")[0].split(">")[0].split("<")[0].split("=")[0].strip()
                for line in metadata.splitlines() if line.startswith("Requires-Dist:")}  # fmt: skip
    assert set(required) <= declared


def test_mepe_demo_runs_from_the_installed_wheel_outside_the_clone(wheel, tmp_path):
    """A fresh virtual environment gets the wheel alone (``--no-deps``); the libraries it needs come from this
    environment's site-packages through a ``.pth`` file, so the test installs nothing from the network, while
    MEPE itself (code and models) comes only from the wheel, and runs from a folder outside the clone."""
    python, site = fresh_venv_with_dependencies(tmp_path / "venv")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MEPE_DATA_DIR")}
    run = subprocess.run(
        [str(python.parent / "mepe"), "demo", "--json"], cwd=elsewhere, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    record = json.loads(run.stdout)
    assert record["reply"]["text"].strip()
    where = subprocess.run(
        [str(python), "-c", "import mepe_utils.runtime as r; print(r.ASSETS_DIR)"],
        cwd=elsewhere, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(site), where
