"""The saved-model format every MEPE phase writes and reads.

A saved model is a directory::

    model.keras      the Keras model (weights + architecture, no custom code)
    manifest.json    kind, labels in output order, input spec, preprocessing,
                     metrics, data and split, seed, library versions,
                     creation time, sha256 of model.keras and of every asset
    MODEL_CARD.md    a short human-readable card written from the manifest
    <assets>         optional extra files a kind needs (a text model's tokenizer ...)

Writes are atomic: the directory is written beside its target under a
temporary name and renamed into place. Loading checks the manifest, the hash
and the label list, and loads with Keras ``safe_mode=True``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mepe_utils.errors import ModelFileError
from mepe_utils.labels import check_labels
from mepe_utils.runtime import library_versions

FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
MANIFEST_FILE = "manifest.json"
CARD_FILE = "MODEL_CARD.md"
WEIGHTS_STORAGE = ("float32", "float16")
"""How ``model.keras`` stores float weights; the model computes in float32 either way."""
FACE_KIND = "face-emotion"
TEXT_KIND = "text-emotion"
FUSION_KIND = "fusion"
PERSONA_KIND = "persona"
GENERATOR_KIND = "generator"


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)  # only still there when the write or the rename failed


def write_text_atomic(path: str | Path, text: str) -> None:
    """Writes ``text`` to ``path`` through a temporary file and a rename."""
    write_bytes_atomic(path, text.encode())


def write_json_atomic(path: str | Path, payload: Any) -> None:
    write_text_atomic(path, json.dumps(payload, indent=2, sort_keys=False) + "\n")


def replace_dir_atomic(staging: Path, target: Path) -> None:
    """Moves a fully written ``staging`` directory to ``target``, replacing any old one."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@dataclass
class Manifest:
    """What a saved model is, what it expects and how it was made.

    Attributes:
        kind: ``face-emotion``, ``text-emotion``, ``fusion`` ...
        labels: output label names in output order.
        input: input spec (shape, dtype, value range, what one item is).
        preprocessing: the steps a caller applies before the model.
        metrics: measured numbers, keyed ``<split>_<metric>``.
        data: dataset name, source and splits used for training and selection.
        training: config, seed, epochs, time, hardware, the command that reproduces it.
        extra: kind-specific fields (thresholds, output names ...).
        weights_storage: ``float32``, or ``float16`` for half-size files (see :func:`save_model`).
        layer_modules: the ``mepe_utils`` modules that define the model's custom layers;
            :func:`load_model` imports them (registering the layers) before loading.
        embedding: the named embedding layer's ``layer``, ``width`` and ``activation``
            (empty for a model without one), so that a model built on this one's
            embedding (fusion) can refuse an encoder whose embedding changed.
    """

    kind: str
    labels: list[str]
    input: dict[str, Any]
    preprocessing: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=library_versions)
    created_utc: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    format_version: int = FORMAT_VERSION
    model_file: str = MODEL_FILE
    model_sha256: str = ""
    asset_sha256: dict[str, str] = field(default_factory=dict)
    weights_storage: str = "float32"
    layer_modules: list[str] = field(default_factory=list)
    embedding: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, payload: dict[str, Any], where: str) -> Manifest:
        required = {"kind", "labels", "input", "model_sha256", "format_version"}
        missing = required - set(payload)
        if missing:
            raise ModelFileError(f"{where}: manifest lacks {sorted(missing)}")
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in payload.items() if key in known})


def model_card(manifest: Manifest, notes: str = "") -> str:
    """Renders a short model card from the manifest (plus free-form ``notes``)."""
    lines = [f"# MEPE model card: {manifest.kind}", "", f"Created {manifest.created_utc}.", ""]
    lines += ["## Labels (output order)", "", ", ".join(manifest.labels), ""]
    lines += ["## Input and preprocessing", "", f"- input: `{json.dumps(manifest.input)}`"]
    lines += [f"- {key}: {value}" for key, value in manifest.preprocessing.items()] + [""]
    if manifest.data:
        lines += ["## Data", ""] + [f"- {key}: {value}" for key, value in manifest.data.items()] + [""]
    if manifest.metrics:
        lines += ["## Metrics", "", "| metric | value |", "|---|---|"]
        lines += [f"| {key} | {value:.4f} |" for key, value in manifest.metrics.items()] + [""]
    if manifest.training:
        lines += ["## Training", ""]
        lines += [f"- {key}: `{json.dumps(value)}`" for key, value in manifest.training.items()] + [""]
    lines += ["## Library versions", "", ", ".join(f"{k} {v}" for k, v in manifest.versions.items()), ""]
    if notes:
        lines += [notes.strip(), ""]
    return "\n".join(lines)


def save_model(
    model,
    target: str | Path,
    manifest: Manifest,
    card_notes: str = "",
    assets: dict[str, Callable[[Path], None]] | None = None,
    weights_storage: str = "float32",
) -> Path:
    """Writes ``model`` and ``manifest`` as a MEPE saved-model directory, atomically.

    Args:
        model: a Keras model built from registered (serializable) layers only.
        target: the directory to create or replace.
        manifest: filled in by the caller; the hashes are set here.
        card_notes: markdown appended to the generated model card.
        assets: ``{relative path: writer}``; each writer is called with the path
            to create inside the folder (a file or a folder of files).
        weights_storage: ``"float16"`` stores every float32 weight of ``model.keras``
            in half precision, deflated (less than half the file); Keras casts them back into the
            model's float32 variables on load, so the model still computes in
            float32. Outputs move by the rounding of the weights (about 1e-3
            relative); measure that on the model's own data before shipping.

    Returns:
        The target path.
    """
    if weights_storage not in WEIGHTS_STORAGE:
        raise ValueError(f"weights_storage must be one of {WEIGHTS_STORAGE}, got {weights_storage!r}")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    staging.mkdir()
    try:
        manifest.layer_modules = custom_layer_modules(model)
        model.save(staging / MODEL_FILE)
        if weights_storage == "float16":
            _store_weights_in_half_precision(staging / MODEL_FILE)
        manifest.weights_storage = weights_storage
        manifest.model_file = MODEL_FILE
        manifest.model_sha256 = sha256_of(staging / MODEL_FILE)
        for name, write in (assets or {}).items():
            write(staging / name)
        manifest.asset_sha256 = {
            path.relative_to(staging).as_posix(): sha256_of(path)
            for path in sorted(staging.rglob("*"))
            if path.is_file() and path.name != MODEL_FILE
        }
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest.to_dict(), indent=2) + "\n")
        (staging / CARD_FILE).write_text(model_card(manifest, card_notes))
        replace_dir_atomic(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


OWN_PACKAGE = "mepe_utils."


def _all_layers(model) -> list:
    found, stack = [], [model]
    while stack:
        layer = stack.pop()
        found.append(layer)
        stack.extend(getattr(layer, "layers", []))
    return found


def custom_layer_modules(model) -> list[str]:
    """The MEPE modules whose classes the model is built from (e.g. ``mepe_utils.models.text``), sorted."""
    return sorted(
        {type(layer).__module__ for layer in _all_layers(model) if type(layer).__module__.startswith(OWN_PACKAGE)}
    )


def _import_layer_modules(manifest: Manifest, where: Path) -> None:
    import importlib

    for module in manifest.layer_modules:
        if not module.startswith(OWN_PACKAGE):
            raise ModelFileError(f"{where}: manifest names layer module {module!r} outside {OWN_PACKAGE[:-1]}")
        importlib.import_module(module)


def _store_weights_in_half_precision(keras_file: Path) -> None:
    """Rewrites the weights inside a ``.keras`` archive with float32 arrays stored as float16, deflated.

    The archive keeps its layout (``config.json``, ``metadata.json``,
    ``model.weights.h5`` with the same groups and attributes); the float32
    datasets become float16 and the entries are deflated (Keras writes them stored).
    """
    import io
    import zipfile

    import h5py
    import numpy as np

    def convert(weights: bytes) -> bytes:
        out_buffer = io.BytesIO()
        with h5py.File(io.BytesIO(weights), "r") as source, h5py.File(out_buffer, "w") as target:
            target.attrs.update(source.attrs)

            def copy(name, item):
                if isinstance(item, h5py.Dataset):
                    values = item[()]
                    if values.dtype == np.float32:
                        values = values.astype(np.float16)
                    target.create_dataset(name, data=values)
                else:
                    target.require_group(name)
                target[name].attrs.update(item.attrs)

            source.visititems(copy)
        return out_buffer.getvalue()

    rewritten = keras_file.with_name(f".{keras_file.name}.f16")
    with zipfile.ZipFile(keras_file) as source, zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            payload = source.read(entry.filename)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, convert(payload) if entry.filename.endswith(".weights.h5") else payload)
    os.replace(rewritten, keras_file)


QUANTIZE_MODES = ("int8",)
"""Keras ``Model.quantize`` modes an export may apply (weights and activations in int8)."""


def export_model(
    source: str | Path,
    target: str | Path,
    *,
    weights_storage: str = "float16",
    quantize: str | None = None,
    card_notes: str = "",
    command: str = "",
) -> Path:
    """Writes a smaller copy of a saved model: half-precision storage or Keras int8 quantisation.

    The copy carries the source's manifest (labels, thresholds, metrics, training
    record) and assets; ``extra["exported_from"]`` names the source and its hash,
    and says that the metrics were measured on the source. Measure the copy
    itself (``bench-text`` / ``bench-face``) before shipping it.

    Args:
        source: a saved model directory (checked and loaded in safe mode).
        target: the directory to create or replace.
        weights_storage: see :func:`save_model`.
        quantize: a :data:`QUANTIZE_MODES` entry, or None.
        card_notes: markdown appended to the copy's model card.
        command: the command line that made the copy, recorded in ``extra["exported_from"]``.

    Returns:
        The target path.
    """
    if quantize is not None and quantize not in QUANTIZE_MODES:
        raise ValueError(f"quantize must be one of {QUANTIZE_MODES} or None, got {quantize!r}")
    source = Path(source)
    model, manifest = load_model(source)
    if quantize:
        model.quantize(quantize)
    manifest.extra["exported_from"] = {
        "folder": str(source),
        "model_sha256": manifest.model_sha256,
        "weights_storage": weights_storage,
        "quantize": quantize,
        "metrics": "measured on the source model",
        "command": command,
    }
    tops = sorted({Path(name).parts[0] for name in manifest.asset_sha256})

    def copier(name: str) -> Callable[[Path], None]:
        origin = source / name
        return lambda path: shutil.copytree(origin, path) if origin.is_dir() else shutil.copy2(origin, path)

    return save_model(
        model,
        target,
        manifest,
        card_notes,
        assets={name: copier(name) for name in tops},
        weights_storage=weights_storage,
    )


def write_model_card(directory: str | Path, notes: str = "") -> Path:
    """Re-renders ``MODEL_CARD.md`` of a saved model from its manifest plus ``notes`` (atomic).

    For the notes a model earns after training: how it compares, what more
    compute would bring. The card is documentation, not a hashed file.
    """
    directory = Path(directory)
    path = directory / CARD_FILE
    write_text_atomic(path, model_card(read_manifest(directory), notes))
    return path


def read_manifest(directory: str | Path) -> Manifest:
    """Reads and checks ``manifest.json`` of a saved model directory."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelFileError(f"saved model folder not found: {directory}")
    path = directory / MANIFEST_FILE
    if not path.is_file():
        raise ModelFileError(f"{directory}: no {MANIFEST_FILE}; not a MEPE saved model")
    try:
        payload = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path}: corrupt manifest ({error})") from None
    if not isinstance(payload, dict):
        raise ModelFileError(f"{path}: corrupt manifest (not a JSON object)")
    manifest = Manifest.from_dict(payload, str(path))
    if manifest.format_version != FORMAT_VERSION:
        raise ModelFileError(f"{path}: format version {manifest.format_version}, this MEPE reads {FORMAT_VERSION}")
    return manifest


def load_model(
    directory: str | Path,
    *,
    kind: str | None = None,
    labels: list[str] | tuple[str, ...] | None = None,
):
    """Loads a MEPE saved model after checking it.

    Args:
        directory: the saved-model directory.
        kind: the kind the caller expects (``face-emotion`` ...), checked when given.
        labels: the label list the caller expects, checked (names and order) when given.

    Returns:
        ``(model, manifest)``.

    Raises:
        ModelFileError: missing folder or file, corrupt manifest, hash mismatch
            (tampered or truncated file), wrong kind, unloadable model.
        LabelError: the model's labels differ from ``labels``.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    if kind is not None and manifest.kind != kind:
        raise ModelFileError(f"{directory}: holds a {manifest.kind!r} model, expected {kind!r}")
    if labels is not None:
        check_labels(manifest.labels, labels, what=f"model in {directory}")
    model_path = directory / manifest.model_file
    if not model_path.is_file():
        raise ModelFileError(f"{directory}: model file {manifest.model_file} is missing")
    if sha256_of(model_path) != manifest.model_sha256:
        raise ModelFileError(f"{model_path}: sha256 does not match the manifest; the file is corrupt or was modified")
    check_assets(directory, manifest)
    _warn_on_version_drift(manifest, directory)
    _import_layer_modules(manifest, directory)
    import keras

    try:
        model = keras.models.load_model(model_path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a broken archive
        raise ModelFileError(f"{model_path}: cannot be loaded ({type(error).__name__}: {error})") from None
    return model, manifest


def check_assets(directory: str | Path, manifest: Manifest) -> None:
    """Checks every asset file listed in the manifest against its sha256.

    Raises:
        ModelFileError: an asset is missing or its content changed.
    """
    for name, digest in manifest.asset_sha256.items():
        path = Path(directory) / name
        if not path.is_file():
            raise ModelFileError(f"{directory}: asset {name} is missing")
        if sha256_of(path) != digest:
            raise ModelFileError(f"{path}: sha256 does not match the manifest; the file is corrupt or was modified")


FORMAT_LIBRARIES = ("keras", "keras-hub", "tensorflow")
"""The libraries whose version decides how ``model.keras`` deserialises; a change of their
major.minor version is worth a warning, a numpy or OpenCV release is not."""


def _release(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def _warn_on_version_drift(manifest: Manifest, directory: Path) -> None:
    current = library_versions()
    drift = {
        name: (saved, current[name])
        for name, saved in manifest.versions.items()
        if name in FORMAT_LIBRARIES and name in current and _release(current[name]) != _release(saved)
    }
    if drift:
        described = ", ".join(f"{name} {saved} -> {now}" for name, (saved, now) in drift.items())
        warnings.warn(f"{directory}: saved with other library versions ({described})", stacklevel=3)
