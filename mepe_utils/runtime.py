"""Run context: smoke mode, data and artifact folders, seeding, hardware setup.

The same code runs on this CPU, in CI (``MEPE_SMOKE=1``), on Colab and on
Kaggle. Everything that depends on where it runs is resolved here.
"""

from __future__ import annotations

import contextlib
import os
import random
from pathlib import Path

import numpy as np

SMOKE_ENV = "MEPE_SMOKE"
DATA_ENV = "MEPE_DATA_DIR"
ARTIFACTS_ENV = "MEPE_ARTIFACTS"

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
INSTALLED_ASSETS_DIR = PACKAGE_DIR / "assets"
"""Where a wheel carries the shipped models (``setup.py`` copies ``assets/`` there when it builds one)."""
ASSETS_DIR = INSTALLED_ASSETS_DIR if INSTALLED_ASSETS_DIR.is_dir() else REPO_ROOT / "assets"
"""The shipped models and detectors: the repository's ``assets/`` in a clone, the package's copy in a wheel."""
SHIPPED_MODELS_DIR = ASSETS_DIR / "models"


def is_smoke() -> bool:
    """True when ``MEPE_SMOKE`` is set to a true value: tiny data, one epoch, tiny models."""
    return os.environ.get(SMOKE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def in_colab() -> bool:
    return Path("/content").is_dir() and "COLAB_RELEASE_TAG" in os.environ


def in_kaggle() -> bool:
    return Path("/kaggle/working").is_dir()


def resolve_data_dir(path: str | os.PathLike | None = None, *, required: bool = True) -> Path | None:
    """Finds the real-data folder (the one holding ``fer2013/`` and ``goemotions/``).

    Order: the ``path`` argument, ``$MEPE_DATA_DIR``, ``../shared/data`` beside the
    repository, ``/kaggle/input/mepe-data``.

    Args:
        path: an explicit folder; wins over everything else.
        required: raise when nothing is found instead of returning ``None``.

    Raises:
        FileNotFoundError: when ``required`` and no candidate folder exists.
    """
    candidates: list[Path] = []
    if path is not None:
        candidates.append(Path(path))
    elif os.environ.get(DATA_ENV):
        candidates.append(Path(os.environ[DATA_ENV]))
    else:
        candidates += [REPO_ROOT.parent / "shared" / "data", Path("/kaggle/input/mepe-data")]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    if required:
        tried = ", ".join(str(c) for c in candidates)
        raise FileNotFoundError(f"no MEPE data folder found (tried: {tried}); pass --data-dir or set {DATA_ENV}")
    return None


def resolve_artifacts_dir(path: str | os.PathLike | None = None) -> Path:
    """Folder for trained models and results, created if needed.

    Order: the ``path`` argument, ``$MEPE_ARTIFACTS``, Google Drive on Colab when
    mounted (``/content/drive/MyDrive/mepe``), ``/kaggle/working/mepe`` on Kaggle,
    ``./artifacts`` otherwise.
    """
    if path is not None:
        folder = Path(path)
    elif os.environ.get(ARTIFACTS_ENV):
        folder = Path(os.environ[ARTIFACTS_ENV])
    elif Path("/content/drive/MyDrive").is_dir():
        folder = Path("/content/drive/MyDrive/mepe")
    elif in_kaggle():
        folder = Path("/kaggle/working/mepe")
    else:
        folder = Path.cwd() / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def runtime_report() -> str:
    """What a notebook runs on, in a few lines: MEPE, the runtime, the GPU, the data and where artifacts go.

    On Colab it says how to keep artifacts on Google Drive; without a GPU, how to run in smoke mode.
    """
    from mepe_utils import __version__

    where = "Colab" if in_colab() else "Kaggle" if in_kaggle() else "local"
    gpu = _first_gpu()
    data = resolve_data_dir(required=False)
    lines = [
        f"MEPE {__version__} from {PACKAGE_DIR.parent} | runtime: {where} | Keras backend: {keras_backend()}",
        f"CPU: {cpu_description()}",
        f"GPU: {gpu[0]}" if gpu else "GPU: none (training is slow on a CPU; MEPE_SMOKE=1 runs a quick smoke version)",
        f"data: {data}"
        if data
        else f"data: no local folder (set {DATA_ENV}); GoEmotions comes from the Hugging Face "
        "hub, FER-2013 from Kaggle",
        f"smoke mode: {is_smoke()}",
    ]
    if in_colab() and not Path("/content/drive/MyDrive").is_dir():
        lines.append(
            "artifacts: ./artifacts, lost with the runtime; to keep them run "
            "`from google.colab import drive; drive.mount('/content/drive')` (they then go to MyDrive/mepe)"
        )
    return "\n".join(lines)


def set_seed(seed: int) -> None:
    """Seeds Python, NumPy and Keras/TensorFlow in one call."""
    random.seed(seed)
    np.random.seed(seed)
    import keras

    keras.utils.set_random_seed(seed)


def keras_backend() -> str:
    """The Keras backend this process uses (``"tensorflow"``, ``"jax"`` or ``"torch"``).

    Read the way Keras reads it (``$KERAS_BACKEND``, then ``~/.keras/keras.json``)
    without importing Keras, so the CLI can decide whether to import TensorFlow first.
    """
    import json
    import sys

    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


class SingleDevice:
    """The strategy used on JAX and PyTorch backends: one device, nothing to scope."""

    num_replicas_in_sync = 1

    def scope(self):
        return contextlib.nullcontext()


def distribution_strategy():
    """Picks a ``tf.distribute`` strategy from the visible hardware.

    Returns:
        ``TPUStrategy`` on a TPU runtime, ``MirroredStrategy`` with several GPUs,
        the default strategy otherwise; :class:`SingleDevice` on JAX and PyTorch backends.
    """
    if keras_backend() != "tensorflow":
        return SingleDevice()
    import tensorflow as tf

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except (ValueError, tf.errors.NotFoundError):
        pass
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _gpu_policy(compute_capability: tuple[int, int]) -> str:
    """bfloat16 from Ampere (8.0) on (no loss scaling); float16 with loss scaling on Volta/Turing; else float32."""
    if compute_capability >= (8, 0):
        return "mixed_bfloat16"
    return "mixed_float16" if compute_capability >= (7, 0) else "float32"


def _first_gpu() -> tuple[str, tuple[int, int]] | None:
    """Name and compute capability of the first GPU the Keras backend sees, ``None`` without one."""
    backend = keras_backend()
    if backend == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        if not gpus:
            return None
        major, _, minor = str(getattr(gpus[0], "compute_capability", "0.0")).partition(".")
        return gpus[0].device_kind, (int(major), int(minor or 0))
    if backend == "torch":
        import torch

        if not torch.cuda.is_available():
            return None
        return torch.cuda.get_device_name(0), tuple(torch.cuda.get_device_capability(0))
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    details = tf.config.experimental.get_device_details(gpus[0])
    return details.get("device_name", "GPU"), tuple(details.get("compute_capability", (0, 0)))


def best_mixed_precision_policy() -> str:
    """The fastest safe compute dtype policy for training on this hardware.

    On GPUs by compute capability (:func:`_gpu_policy`), on any backend;
    ``mixed_bfloat16`` on CPUs with AMX/AVX512-BF16 and on TPUs; ``float32``
    otherwise. Output layers are kept float32 by the model builders.
    """
    gpu = _first_gpu()
    if gpu is not None:
        return _gpu_policy(gpu[1])
    if keras_backend() == "tensorflow":
        import tensorflow as tf

        if tf.config.list_logical_devices("TPU"):
            return "mixed_bfloat16"
    if _cpu_has_bf16():
        return "mixed_bfloat16"
    return "float32"


def hardware_description() -> str:
    """Where training runs, for manifests: the processor, plus the GPU if any, and the Keras backend."""
    where = cpu_description()
    gpu = _first_gpu()
    if gpu is not None:
        where = f"{where} + {gpu[0]}"
    return f"{where} (Keras backend: {keras_backend()})"


def cpu_description() -> str:
    """The processor's model name (Linux ``/proc/cpuinfo``, else what ``platform`` knows) and its cores."""
    import platform

    name = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        name = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), name)
    return f"{name}, {os.cpu_count()} cores"


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def machine_record() -> dict:
    """What a benchmark's ``setup`` records of the machine and the libraries behind its numbers."""
    return {"cpu": cpu_description(), "versions": library_versions()}


def library_versions() -> dict[str, str]:
    """Versions of the libraries that decide a model's numbers."""
    import importlib.metadata as md

    versions = {}
    for package in ("tensorflow", "keras", "keras-hub", "numpy", "opencv-python-headless", "onnxruntime"):
        try:
            versions[package] = md.version(package)
        except md.PackageNotFoundError:
            continue
    import platform

    versions["python"] = platform.python_version()
    return versions


@contextlib.contextmanager
def dtype_policy(policy: str):
    """Sets the global Keras dtype policy (``"mixed_bfloat16"`` ...) inside a ``with`` block only."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
