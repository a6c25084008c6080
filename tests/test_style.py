import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_ruff_finds_no_lint_errors():
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff not installed (it comes with requirements-dev.txt)")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", str(REPO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
