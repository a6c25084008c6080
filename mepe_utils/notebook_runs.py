"""``mepe run-notebooks``: execute the phase notebooks top to bottom and commit them with their outputs.

A reader opening a notebook on GitHub sees what a real run printed and drew.
Each executed notebook records the run in its metadata (``mepe_run``): when,
on what hardware, in smoke mode or not, with which data folder, how long, the
command, and the sha256 of the notebook's story cells (every cell after the
rendered badge and setup cells). The tests refuse a notebook whose story
changed after its recorded run, or whose cells were not all run in one pass,
so the outputs shown are always those of the cells shown.

CI's smoke run (``tests/test_notebooks.py``) executes in memory and never
writes the notebooks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

RUN_KEY = "mepe_run"
RENDERED_CELLS = 2
"""The badge (Markdown) and setup (code) cells ``mepe render-docs`` writes; the story starts after them."""
CELL_TIMEOUT_S = 3600


def story_sha256(notebook: dict) -> str:
    """sha256 of the type and source of every cell after the rendered ones."""
    digest = hashlib.sha256()
    for cell in notebook["cells"][RENDERED_CELLS:]:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        digest.update(json.dumps([cell["cell_type"], source]).encode())
    return digest.hexdigest()


def run_problems(notebook: dict) -> list[str]:
    """Why ``notebook`` does not show one complete run of its current cells (empty when it does)."""
    run = notebook.get("metadata", {}).get(RUN_KEY)
    if not run:
        return ["no recorded run (run: mepe run-notebooks)"]
    problems = []
    if run.get("story_sha256") != story_sha256(notebook):
        problems.append("its cells changed after the recorded run (run: mepe run-notebooks)")
    counts = [cell.get("execution_count") for cell in notebook["cells"] if cell["cell_type"] == "code"]
    if counts != list(range(1, len(counts) + 1)):
        problems.append("its code cells were not all run, in order, in one pass")
    missing = {"executed_utc", "hardware", "smoke", "data", "seconds", "command"} - set(run)
    if missing:
        problems.append(f"its run record lacks {sorted(missing)}")
    return problems


@contextlib.contextmanager
def _environment(values: dict[str, str]):
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_notebook(path: Path, *, smoke: bool, data_dir: Path, command: str) -> float:
    """Executes the notebook at ``path`` top to bottom and writes it back with its outputs (atomically).

    Artifacts go to a temporary folder; the kernel runs in the notebook's folder with the machine's own
    matplotlib backend, as a reader's would.

    Returns:
        The run's seconds.

    Raises:
        nbclient.exceptions.CellExecutionError: a cell failed (the notebook is not written).
    """
    import nbformat
    from nbclient import NotebookClient

    from mepe_utils.artifacts import write_text_atomic
    from mepe_utils.runtime import hardware_description

    notebook = nbformat.read(path, as_version=4)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as artifacts:
        env = {"MEPE_SMOKE": "1" if smoke else "0", "MEPE_DATA_DIR": str(data_dir), "MEPE_ARTIFACTS": artifacts}
        with _environment(env):
            NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()  # fmt: skip
    seconds = round(time.monotonic() - started, 1)
    notebook.metadata[RUN_KEY] = {
        "executed_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "hardware": hardware_description(),
        "smoke": smoke,
        "data": "real data from the data folder (MEPE_DATA_DIR)",
        "seconds": seconds,
        "command": command,
        "story_sha256": story_sha256(notebook),
    }
    write_text_atomic(path, nbformat.writes(notebook) + "\n")
    return seconds
