"""The phase notebooks: paired with their py:percent source, stored without outputs, and run in smoke mode."""

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


@pytest.mark.real_data
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom_in_smoke_mode(path, tmp_path, monkeypatch, real_data_dir):
    from nbclient import NotebookClient

    monkeypatch.setenv("MEPE_SMOKE", "1")
    monkeypatch.setenv("MEPE_DATA_DIR", str(real_data_dir))
    monkeypatch.setenv("MEPE_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
