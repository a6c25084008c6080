"""Packs the shipped models (``assets/``) into the wheel as ``mepe_utils/assets``.

Everything else is declared in ``pyproject.toml``. The models sit at the top of
the repository, beside the notebooks that train them; a wheel (``pip install .``,
``pip install git+...``) must carry them so that ``mepe demo`` works outside a
clone, and :data:`mepe_utils.runtime.ASSETS_DIR` finds them there. Editable
installs read ``assets/`` in place and copy nothing.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ASSETS = Path(__file__).resolve().parent / "assets"


class BuildWithAssets(build_py):
    """``build_py`` that also copies ``assets/`` into the built package."""

    def run(self):
        super().run()
        if not self.editable_mode:
            shutil.copytree(ASSETS, Path(self.build_lib) / "mepe_utils" / "assets", dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithAssets})
