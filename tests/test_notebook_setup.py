"""The notebooks' badges and first cell: rendered from one template, and working on a runtime without a clone."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import fresh_venv_with_dependencies
from mepe_utils.notebook_setup import (
    BADGE_PREFIX,
    badge_line,
    notebooks,
    render_ipynb,
    render_percent,
    repository_url,
    setup_cell,
)
from mepe_utils.runtime import REPO_ROOT

PERCENT = """# ---
# jupyter: {}
# ---

# %% [markdown]
# # Phase 9: a title
#
# A story.

# %%
print("old setup")

# %%
print("the story goes on")
"""


def test_badges_open_the_notebook_from_the_repository_on_colab_and_kaggle():
    line = badge_line("https://github.com/someone/mepe", "phase3_inference/phase3_inference.ipynb")
    assert line.startswith(BADGE_PREFIX)
    assert (
        "https://colab.research.google.com/github/someone/mepe/blob/main/phase3_inference/phase3_inference.ipynb"
        in line
    )
    assert (
        "kernels/welcome?src=https://github.com/someone/mepe/blob/main/phase3_inference/phase3_inference.ipynb" in line
    )
    with pytest.raises(ValueError, match="https://github.com/OWNER/NAME"):
        badge_line("https://gitlab.com/someone/mepe", "x.ipynb")


def test_rendering_a_percent_notebook_puts_badges_under_the_title_and_replaces_the_first_cell_idempotently():
    once = render_percent(PERCENT, "[![Open In Colab](b)](c)", "print('new setup')")
    assert (
        once.split("# %%")[1] == " [markdown]\n# # Phase 9: a title\n#\n# [![Open In Colab](b)](c)\n#\n# A story.\n\n"
    )
    assert "# %%\nprint('new setup')\n\n# %%\nprint(\"the story goes on\")" in once and "old setup" not in once
    assert render_percent(once, "[![Open In Colab](b)](c)", "print('new setup')") == once
    with pytest.raises(ValueError, match="Markdown cell, then a code cell"):
        render_percent("# %%\nprint(1)\n", "b", "c")


def test_rendering_an_ipynb_keeps_other_cells_and_outputs():
    notebook = REPO_ROOT / "phase3_inference" / "phase3_inference.ipynb"
    before = json.loads(notebook.read_text())
    after = json.loads(render_ipynb(notebook.read_text(), "[![Open In Colab](x)](y)", "print('setup')"))
    assert after["cells"][1]["source"] == ["print('setup')"]
    assert after["cells"][0]["source"][2] == "[![Open In Colab](x)](y)\n"
    assert after["cells"][2:] == before["cells"][2:]


def test_every_notebook_opens_with_the_rendered_setup_cell():
    cell = setup_cell(REPO_ROOT, repository_url(REPO_ROOT))
    assert len(notebooks(REPO_ROOT)) == 5
    for notebook in notebooks(REPO_ROOT):
        cells = json.loads(notebook.read_text())["cells"]
        assert "".join(cells[1]["source"]) == cell, notebook
        assert any(line.startswith(BADGE_PREFIX) for line in cells[0]["source"]), notebook


@pytest.mark.slow
def test_the_first_cell_installs_mepe_on_a_fresh_runtime_outside_a_clone(tmp_path):
    """As on Colab opened from GitHub: no clone around, MEPE not installed. The cell clones the repository
    (here this one's committed HEAD, through $MEPE_REPOSITORY=file://...), installs it and imports it. The
    fresh virtual environment sees the libraries MEPE needs through a .pth file (nothing is downloaded),
    but not MEPE itself."""
    python = str(fresh_venv_with_dependencies(tmp_path / "venv")[0])
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["MEPE_REPOSITORY"] = f"file://{REPO_ROOT}"
    not_installed = subprocess.run([python, "-c", "import mepe_utils"], cwd=tmp_path, env=env, capture_output=True)
    assert not_installed.returncode != 0  # the fresh runtime has no MEPE
    first_notebook = notebooks(REPO_ROOT)[0]
    cell = "".join(json.loads(first_notebook.read_text())["cells"][1]["source"])
    runtime = tmp_path / "content"
    runtime.mkdir()
    ran = subprocess.run([python, "-c", cell], cwd=runtime, env=env, capture_output=True, text=True, timeout=900)
    assert ran.returncode == 0, ran.stderr[-3000:]
    clone = runtime / "mepe"
    assert f"from {clone}" in ran.stdout and "GPU:" in ran.stdout and "smoke mode:" in ran.stdout
    imported = subprocess.run([python, "-c", "import mepe_utils; print(mepe_utils.__file__)"], cwd=tmp_path,
                              env=env, check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    assert Path(imported).is_relative_to(clone)
