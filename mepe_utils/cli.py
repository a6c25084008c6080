"""``python -m mepe_utils`` / ``mepe``: one entry point, one subcommand per job.

Errors MEPE raises for bad input (:class:`mepe_utils.errors.MepeError`, missing
files) print as one line with exit code 2; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from mepe_utils.errors import MepeError

COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {}


def command(name: str, help_text: str, configure: Callable[[argparse.ArgumentParser], None]):
    """Registers ``function(args) -> exit code`` as subcommand ``name``."""

    def register(function):
        COMMANDS[name] = (help_text, configure, function)
        return function

    return register


def _data_dir_arg(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--data-dir", help=f"{what} (default: $MEPE_DATA_DIR/{{sub}}, then ../shared/data)")


def _command_line() -> str:
    return "python -m mepe_utils " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _resolve_sub(path: str | None, sub: str) -> Path:
    from mepe_utils.runtime import resolve_data_dir

    if path is not None:
        return Path(path)
    return resolve_data_dir() / sub


# --- data -----------------------------------------------------------------------------------------


def _configure_data_summary(parser):
    _data_dir_arg(parser, "folder holding fer2013/ and goemotions/")
    parser.add_argument("--json", help="also write the counts to this JSON file")


@command("data-summary", "count rows per split and class in the FER-2013 and GoEmotions data", _configure_data_summary)
def data_summary(args) -> int:
    from mepe_utils.artifacts import write_json_atomic
    from mepe_utils.data.fer2013 import load_fer2013
    from mepe_utils.data.goemotions import load_goemotions_tsv_splits
    from mepe_utils.runtime import resolve_data_dir

    root = Path(args.data_dir) if args.data_dir else resolve_data_dir()
    faces = load_fer2013(root / "fer2013")
    summary = {"fer2013": {}, "goemotions": {}}
    for usage in sorted(set(faces.usage.tolist())):
        summary["fer2013"][usage] = faces.split(usage).class_counts()
    for split, data in load_goemotions_tsv_splits(root / "goemotions").items():
        summary["goemotions"][split] = {"rows": len(data), "multi_label_rows": int((data.labels.sum(1) > 1).sum())}
    for dataset, splits in summary.items():
        for split, counts in splits.items():
            print(f"{dataset:10s} {split:12s} {json.dumps(counts)}")
    if args.json:
        write_json_atomic(args.json, summary)
    return 0


# --- entry point ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mepe",
        description="MEPE, the Multimodal Emotion Persona Engine: data, training, evaluation, benchmarks.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, configure, function) in COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        configure(sub)
        sub.set_defaults(run=function)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return args.run(args)
    except (MepeError, FileNotFoundError, IsADirectoryError, PermissionError) as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
