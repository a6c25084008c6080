"""The phase notebooks: paired with their py:percent source, committed with the outputs of one recorded run
of their current cells (``mepe run-notebooks``), and run again in smoke mode here, in memory (never written).

The run uses the kernel's own matplotlib backend (no ``MPLBACKEND``), as on
Colab and Kaggle, and every cell that draws must show an image.
"""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(REPO.glob("phase*/*.ipynb"))

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")


def _sources(notebook):
    return [(cell.cell_type, cell.source.strip()) for cell in notebook.cells]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_matches_its_percent_script_and_shows_one_recorded_run_of_its_cells(path):
    from mepe_utils.notebook_runs import RUN_KEY, run_problems

    script = path.with_suffix(".py")
    assert script.is_file(), f"{path.name} must be paired with {script.name} (jupytext py:percent)"
    notebook = nbformat.read(path, as_version=4)
    assert _sources(notebook) == _sources(jupytext.read(script)), f"run: jupytext --sync {script}"
    assert not run_problems(notebook), f"{path.name}: {run_problems(notebook)}"
    run = notebook.metadata[RUN_KEY]
    assert run["hardware"] and isinstance(run["smoke"], bool)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs for cell in code[:1]), f"{path.name}: the setup cell shows no runtime report"
    report = "".join(output.get("text", "") for output in code[0].outputs)
    assert f"smoke mode: {run['smoke']}" in report and "CPU:" in report and "GPU:" in report
    outputs = [(n, output) for n, cell in enumerate(notebook.cells) for output in cell.get("outputs", [])]
    warned = [n for n, output in outputs if output.get("name") == "stderr"]
    assert not warned, f"{path.name}: cells {warned} print to stderr (warnings a reader should not have to skip)"


def test_run_problems_name_a_changed_story_a_partial_run_and_a_missing_record():
    from mepe_utils.notebook_runs import RUN_KEY, run_problems, story_sha256

    cells = [nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("setup", execution_count=1),
             nbformat.v4.new_code_cell("x = 1", execution_count=2)]  # fmt: skip
    notebook = nbformat.v4.new_notebook(cells=cells)
    assert run_problems(notebook) == ["no recorded run (run: mepe run-notebooks)"]
    notebook.metadata[RUN_KEY] = {"executed_utc": "t", "hardware": "h", "smoke": True, "data": "d", "seconds": 1,
                                  "command": "c", "story_sha256": story_sha256(notebook)}  # fmt: skip
    assert run_problems(notebook) == []
    notebook.cells[2].source = "x = 2"
    assert run_problems(notebook) == ["its cells changed after the recorded run (run: mepe run-notebooks)"]
    notebook.metadata[RUN_KEY]["story_sha256"] = story_sha256(notebook)
    notebook.cells[2].execution_count = None
    assert run_problems(notebook) == ["its code cells were not all run, in order, in one pass"]


@pytest.mark.slow
@pytest.mark.real_data
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom_in_smoke_mode(path, tmp_path, monkeypatch, real_data_dir):
    from nbclient import NotebookClient

    monkeypatch.setenv("MEPE_SMOKE", "1")
    monkeypatch.setenv("MEPE_DATA_DIR", str(real_data_dir))
    monkeypatch.setenv("MEPE_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(  # raises CellExecutionError, naming the cell, when a cell fails
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    drawing = [cell for cell in notebook.cells if cell.cell_type == "code" and DRAWS.search(cell.source)]
    assert drawing, f"{path.name}: no cell draws a figure"
    blank = [cell.source.splitlines()[0] for cell in drawing if not any(_images(cell))]
    assert not blank, f"{path.name}: cells that draw but show no image: {blank}"


DRAWS = re.compile(r"plt\.show\(\)|display\((?!Markdown\()|^plot_\w+\(", re.MULTILINE)
"""A cell draws when it shows pyplot figures, displays an object (a Markdown table is not a figure), or ends
on a plot helper's figure."""


def _images(cell):
    return [o for o in cell.outputs if "image/png" in o.get("data", {})]
