"""TensorFlow imported without its C++ start-up lines (CUDA probing, oneDNN, CPU features).

TensorFlow 2.20+ writes those lines to the process's stderr (file descriptor 2)
from C++ before ``TF_CPP_MIN_LOG_LEVEL`` takes effect, so neither Python's
``sys.stderr`` nor the log level keeps them out of a notebook or a one-line CLI
error. :func:`install` (run when :mod:`mepe_utils` is imported) makes the first
``import tensorflow`` of the process, whoever asks for it (``import keras``,
a notebook's ``import tensorflow as tf``), run with descriptor 2 pointed at
``/dev/null``. A failed import still raises its Python exception; later
C++ log lines are kept off by ``TF_CPP_MIN_LOG_LEVEL`` (set to ``"3"`` unless
the user chose a level: on a machine without a GPU, TensorFlow logs a failed
CUDA initialisation as an error on first use). Python exceptions and warnings
raised after the import show as usual.

Nothing changes when Keras runs on another backend (JAX, PyTorch) or when
TensorFlow was imported before MEPE.

The command line also imports TensorFlow *lean* (:func:`import_tensorflow_quietly`
with ``lean=True``). When installed, Keras and TensorFlow import scikit-learn, SciPy,
pandas, matplotlib and JAX at start-up, only to offer integrations (Keras'
scikit-learn wrappers, pandas inputs to ``fit``, image galleries, JAX export) that
no MEPE command uses. A lean import refuses those packages while TensorFlow and
Keras load, which shortens every command's cold start (``bench-inference``
measures it the way the command line imports). The refusal ends with the import,
so MEPE's own later ``import sklearn`` (benchmarks, plots) works as usual. Only
those Keras integrations stay off in that process. Notebooks and the Python API
import TensorFlow in full.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys

TF_LOG_LEVEL_ENV = "TF_CPP_MIN_LOG_LEVEL"
QUIET_TF_LOG_LEVEL = "3"
"""TensorFlow's C++ log level unless the user set one: fatal only."""


@contextlib.contextmanager
def stderr_silenced():
    """Points file descriptor 2 at ``/dev/null`` inside the block (C++ output included)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


OPTIONAL_INTEGRATIONS = ("jax", "matplotlib", "pandas", "scipy", "sklearn")
"""Packages that a lean TensorFlow import refuses (see the module docstring)."""


class _IntegrationRefuser(importlib.abc.MetaPathFinder):
    """Answers "not installed" for :data:`OPTIONAL_INTEGRATIONS` (what Keras and TensorFlow check for)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in OPTIONAL_INTEGRATIONS:
            raise ModuleNotFoundError(f"{fullname} is left out of a lean TensorFlow import", name=fullname)
        return None


@contextlib.contextmanager
def optional_integrations_refused():
    """Inside the block, importing a package of :data:`OPTIONAL_INTEGRATIONS` that is not loaded yet fails."""
    refuser = _IntegrationRefuser()
    sys.meta_path.insert(0, refuser)
    try:
        yield
    finally:
        sys.meta_path.remove(refuser)


def import_tensorflow_quietly(*, lean: bool = False) -> None:
    """Imports TensorFlow and Keras now, with TensorFlow's start-up lines kept off stderr.

    Nothing is imported when Keras runs on another backend, where TensorFlow need not be installed.

    Args:
        lean: refuse the optional integrations while they load (the command line's choice;
            see the module docstring). No effect when TensorFlow was imported before.
    """
    from mepe_utils.runtime import keras_backend

    if keras_backend() != "tensorflow":
        return
    install()
    refused = optional_integrations_refused() if lean and "tensorflow" not in sys.modules else contextlib.nullcontext()
    with refused:
        import keras  # noqa: F401
        import tensorflow  # noqa: F401  (quiet through the finder, unless it was imported before)


class _QuietLoader(importlib.abc.Loader):
    """Runs another loader's ``exec_module`` with stderr silenced, then steps aside."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        os.environ.setdefault(TF_LOG_LEVEL_ENV, QUIET_TF_LOG_LEVEL)
        with stderr_silenced():
            self.loader.exec_module(module)


class QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as usual and hands it a loader that imports it quietly; used once."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        uninstall()
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Makes the process's first TensorFlow import quiet (idempotent; see the module docstring)."""
    from mepe_utils.runtime import keras_backend

    if "tensorflow" in sys.modules or keras_backend() != "tensorflow" or installed():
        return
    sys.meta_path.insert(0, QuietTensorFlowFinder())


def installed() -> bool:
    return any(isinstance(finder, QuietTensorFlowFinder) for finder in sys.meta_path)


def uninstall() -> None:
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, QuietTensorFlowFinder)]
