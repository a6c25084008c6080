"""Command-line options generated from configuration dataclasses, and configs read back from JSON.

Each field of a trainer's config (nested configs included) becomes one option:
``peak_learning_rate`` -> ``--peak-learning-rate``, typed from the annotation,
its help taken from the class docstring's ``Attributes:`` section, its choices
from ``field(metadata={"choices": ...})``. Options left out keep the config's
value, so ``--config RUN/config.json`` (a run folder's record) plus a few
options repeats a recorded run exactly or with a named change.

Nested configs' fields are not prefixed (``--preset``, not ``--model-preset``):
two fields with one name anywhere in a config tree are an error when the parser
is built, so a clash cannot slip in.

Example:
    >>> parser = argparse.ArgumentParser()
    >>> add_config_options(parser, TextTrainConfig)
    >>> args = parser.parse_args(["--epochs", "5", "--loss", "bce"])
    >>> config = config_from_args(TextTrainConfig, args)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import typing
from pathlib import Path

from mepe_utils.errors import MepeError

_ATTRIBUTE = re.compile(r"^\s{8}(\w+): (.*)$")
_ROLE = re.compile(r":\w+:`~?([^`]+)`")


def _plain(text: str) -> str:
    """Docstring markup as plain help text (argparse also needs ``%`` doubled)."""
    return _ROLE.sub(r"\1", text).replace("``", "").replace("%", "%%")


def _attribute_help(cls) -> dict[str, str]:
    """``{field: help}`` from the ``Attributes:`` section of ``cls``'s docstring."""
    helps: dict[str, str] = {}
    current = None
    in_section = False
    for line in (cls.__doc__ or "").splitlines():
        if line.strip() == "Attributes:":
            in_section = True
            continue
        if not in_section:
            continue
        match = _ATTRIBUTE.match(line)
        if match:
            current = match.group(1)
            helps[current] = match.group(2).strip()
        elif current and line.startswith(" " * 12) and line.strip():
            helps[current] += " " + line.strip()
        elif line.strip() and not line.startswith(" " * 8):
            break
    return helps


def _fields(cls) -> list[tuple[dataclasses.Field, typing.Any]]:
    hints = typing.get_type_hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls) if f.init]


def _is_config(kind) -> bool:
    return isinstance(kind, type) and dataclasses.is_dataclass(kind)


def _leaf_fields(cls) -> list[tuple[tuple[str, ...], dataclasses.Field, typing.Any, str]]:
    """``(path, field, type, help)`` of every non-dataclass field in the config tree under ``cls``."""
    helps = _attribute_help(cls)
    leaves = []
    for found, kind in _fields(cls):
        if _is_config(kind):
            leaves += [((found.name, *path), f, k, h) for path, f, k, h in _leaf_fields(kind)]
        else:
            leaves.append(((found.name,), found, kind, helps.get(found.name, "")))
    return leaves


def _option_type(kind) -> dict:
    """argparse keywords for a field annotation: bool -> --x/--no-x, tuple[int, ...] -> several values."""
    if kind is bool:
        return {"action": argparse.BooleanOptionalAction}
    if typing.get_origin(kind) is tuple:
        return {"type": typing.get_args(kind)[0], "nargs": "+"}
    if kind in (int, float, str):
        return {"type": kind}
    raise TypeError(f"no command-line option for a field of type {kind!r}")


def add_config_options(parser: argparse.ArgumentParser, cls) -> None:
    """Adds one option per field of ``cls`` (nested configs' fields too) and ``--config FILE.json``.

    Raises:
        TypeError: two fields of the config tree share a name, or a field's type has no option form.
    """
    seen: dict[str, tuple[str, ...]] = {}
    group = parser.add_argument_group(f"{cls.__name__} (defaults in brackets; --config sets them all)")
    group.add_argument("--config", metavar="FILE.json", help="start from this config (a run folder's config.json)")
    for path, found, kind, help_text in _leaf_fields(cls):
        if found.name in seen:
            raise TypeError(f"{cls.__name__}: fields {'.'.join(seen[found.name])} and {'.'.join(path)} share a name")
        seen[found.name] = path
        keywords = _option_type(kind)
        default = found.default if found.default is not dataclasses.MISSING else found.default_factory()
        choices = found.metadata.get("choices")
        if choices:
            keywords["choices"] = choices
        shown = list(default) if isinstance(default, tuple) else default
        group.add_argument(
            f"--{found.name.replace('_', '-')}", dest=found.name, default=None,
            help=f"{_plain(help_text)} [{shown}]".strip(), **keywords,
        )  # fmt: skip


def config_from_dict(cls, values: dict):
    """Builds ``cls`` from a (possibly partial) dict such as a run's ``config.json``; unknown keys are errors."""
    unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise MepeError(f"{cls.__name__} has no option(s) {sorted(unknown)}")
    kwargs = {}
    for found, kind in _fields(cls):
        if found.name not in values:
            continue
        value = values[found.name]
        if _is_config(kind):
            value = config_from_dict(kind, value)
        elif typing.get_origin(kind) is tuple:
            value = tuple(value)
        kwargs[found.name] = value
    return cls(**kwargs)


def config_from_args(cls, args: argparse.Namespace):
    """The config the command line asks for: ``--config`` (or the defaults), then every option given.

    Raises:
        MepeError: the ``--config`` file is missing, not JSON, or names options ``cls`` does not have.
    """
    config = cls()
    if getattr(args, "config", None):
        path = Path(args.config)
        try:
            config = config_from_dict(cls, json.loads(path.read_text()))
        except FileNotFoundError:
            raise MepeError(f"config file not found: {path}") from None
        except json.JSONDecodeError as error:
            raise MepeError(f"{path}: not JSON ({error})") from None
    for path, _, kind, _ in _leaf_fields(cls):
        value = getattr(args, path[-1], None)
        if value is None:
            continue
        if typing.get_origin(kind) is tuple:
            value = tuple(value)
        target = config
        for name in path[:-1]:
            target = getattr(target, name)
        setattr(target, path[-1], value)
    return config
