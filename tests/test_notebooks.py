"""The phase notebooks: paired with their py:percent source, stored without outputs, and run in smoke mode.

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
def test_notebook_matches_its_percent_script_and_has_no_outputs(path):
    script = path.with_suffix(".py")
    assert script.is_file(), f"{path.name} must be paired with {script.name} (jupytext py:percent)"
    notebook = nbformat.read(path, as_version=4)
    assert _sources(notebook) == _sources(jupytext.read(script)), f"run: jupytext --sync {script}"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip outputs before committing"


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
