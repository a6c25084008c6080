"""The notebooks' shared opening: "Open in Colab/Kaggle" badges and the setup cell, rendered from one template.

Each phase notebook is a pair kept in sync by jupytext: ``phaseN_*.py`` (percent
format, the file people review) and ``phaseN_*.ipynb`` (the one Colab opens).
Both get, from ``mepe render-docs``:

- a badge line under the title of the first Markdown cell, pointing Colab and
  Kaggle at the notebook in the repository named in ``pyproject.toml``
  (``[project.urls] Repository``, the one place the address is written);
- the first code cell, ``docs/notebook_setup.py`` with that address filled in.

``mepe render-docs --check`` fails when a notebook drifts from the template.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

SETUP_TEMPLATE = Path("docs") / "notebook_setup.py"
REPOSITORY_SLOT = "{repository}"
BADGE_PREFIX = "[![Open In Colab]"
BRANCH = "main"


def repository_url(root: Path) -> str:
    """``[project.urls] Repository`` of ``root/pyproject.toml``, without a trailing ``/`` or ``.git``."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    url = project["urls"]["Repository"].rstrip("/")
    return url.removesuffix(".git")


def notebooks(root: Path) -> list[Path]:
    """The phase notebooks (``.ipynb``), in phase order."""
    return sorted(root.glob("phase*/phase*.ipynb"))


def badge_line(url: str, notebook: str) -> str:
    """Markdown badges that open ``notebook`` (a path inside the repository) on Colab and on Kaggle.

    Raises:
        ValueError: ``url`` is not a GitHub repository (Colab opens notebooks from GitHub).
    """
    match = re.fullmatch(r"https://github\.com/([^/]+/[^/]+)", url)
    if match is None:
        raise ValueError(f"the repository URL must be https://github.com/OWNER/NAME, got {url!r}")
    on_github = f"{url}/blob/{BRANCH}/{notebook}"
    colab = f"https://colab.research.google.com/github/{match.group(1)}/blob/{BRANCH}/{notebook}"
    kaggle = f"https://kaggle.com/kernels/welcome?src={on_github}"
    return (
        f"{BADGE_PREFIX}(https://colab.research.google.com/assets/colab-badge.svg)]({colab}) "
        f"[![Open In Kaggle](https://kaggle.com/static/images/open-in-kaggle.svg)]({kaggle})"
    )


def setup_cell(root: Path, url: str) -> str:
    """The first code cell's source (no trailing newline)."""
    return (root / SETUP_TEMPLATE).read_text().replace(REPOSITORY_SLOT, url).rstrip("\n")


def _with_badges(markdown: list[str], badges: str) -> list[str]:
    """The first Markdown cell's lines (without comment marks) with the badge line under the title."""
    lines = [line for line in markdown if not line.startswith(BADGE_PREFIX)]
    if lines[1:2] == [""] and lines[2:3] == [""]:
        del lines[2]  # the blank line a removed badge line leaves
    return [lines[0], "", badges, *lines[1:]] if lines[1:2] == [""] else [lines[0], "", badges, "", *lines[1:]]


def render_percent(text: str, badges: str, cell: str) -> str:
    """A jupytext percent ``.py`` notebook with the badges and the setup cell in place.

    Raises:
        ValueError: the notebook does not open with a Markdown cell then a code cell.
    """
    parts = re.split(r"(?m)^(?=# %%)", text)
    header, cells = parts[0], parts[1:]
    if len(cells) < 2 or not cells[0].startswith("# %% [markdown]") or cells[1].startswith("# %% [markdown]"):
        raise ValueError("a notebook must open with a Markdown cell, then a code cell")
    first_line, *body = cells[0].rstrip("\n").split("\n")
    markdown = [line[2:] if line.startswith("# ") else line.lstrip("#") for line in body]
    rendered = _with_badges(markdown, badges)
    cells[0] = first_line + "\n" + "\n".join(f"# {line}" if line else "#" for line in rendered) + "\n\n"
    cells[1] = f"# %%\n{cell}\n\n"
    return header + "".join(cells)


def render_ipynb(text: str, badges: str, cell: str) -> str:
    """An ``.ipynb`` (as jupytext writes it) with the badges and the setup cell in place; outputs kept."""
    notebook = json.loads(text)
    markdown, code = notebook["cells"][0], notebook["cells"][1]
    if markdown["cell_type"] != "markdown" or code["cell_type"] != "code":
        raise ValueError("a notebook must open with a Markdown cell, then a code cell")
    lines = _with_badges("".join(markdown["source"]).split("\n"), badges)
    markdown["source"] = _source(lines)
    code["source"] = _source(cell.split("\n"))
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"  # as nbformat writes it


def _source(lines: list[str]) -> list[str]:
    """Notebook JSON source: every line but the last ends with a newline."""
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def rendered_notebooks(root: Path) -> dict[Path, str]:
    """``{path: content}`` for both files of every phase notebook."""
    url = repository_url(root)
    cell = setup_cell(root, url)
    files = {}
    for notebook in notebooks(root):
        badges = badge_line(url, notebook.relative_to(root).as_posix())
        files[notebook] = render_ipynb(notebook.read_text(), badges, cell)
        percent = notebook.with_suffix(".py")
        files[percent] = render_percent(percent.read_text(), badges, cell)
    return files
