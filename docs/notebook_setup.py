# MEPE setup, the same first cell in every notebook (rendered from docs/notebook_setup.py by `mepe render-docs`).
# Inside a clone it uses the clone; opened from GitHub on Colab or Kaggle it clones MEPE's repository first.
# Either way it installs MEPE when it is not installed, then reports the runtime, the GPU and the data.
import os
import subprocess
import sys
from pathlib import Path

MEPE_REPOSITORY = "{repository}"  # from pyproject.toml; $MEPE_REPOSITORY overrides it


def find_clone(start: Path) -> Path | None:
    """The MEPE clone that holds ``start``, if any."""
    for folder in [start, *start.parents]:
        if (folder / "pyproject.toml").is_file() and (folder / "mepe_utils").is_dir():
            return folder
    return None


ROOT = find_clone(Path.cwd())
if ROOT is None:  # a fresh Colab/Kaggle runtime, opened from GitHub
    ROOT = Path.cwd() / "mepe"
    if not (ROOT / "mepe_utils").is_dir():
        repository = os.environ.get("MEPE_REPOSITORY", MEPE_REPOSITORY)
        subprocess.check_call(["git", "clone", "--quiet", "--depth", "1", repository, str(ROOT)])
try:
    import mepe_utils  # noqa: F401
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "--editable", str(ROOT)])
    sys.path.insert(0, str(ROOT))  # this kernel started before the install
    import mepe_utils  # noqa: F401

from mepe_utils.runtime import runtime_report

print(runtime_report())
