"""Many inputs at once: folders and CSV/JSONL files as well as single items, one record each.

``mepe predict-text``, ``predict-face`` and ``analyze`` read batches through this
module. Where an input comes from is its ``source``: ``argument 2``,
``notes.csv:14`` (the line of the row), ``photos/a.jpg``. An item that cannot be
read (an empty text, a missing photo, a row without the column) becomes an
error record ``{"source": ..., "error": "one line"}``; the other items are read
all the same.

Sources:

- a **folder**: for faces, every photo in it (sorted by name); for texts, every
  ``.txt`` file (one text each); for ``analyze``, every photo paired with the
  ``.txt`` of the same name when there is one, and every ``.txt`` without a photo.
- a **CSV file** (with a header) or a **JSONL file** (one JSON object per line):
  the column ``text`` for texts, ``photo`` for photos (relative paths are read
  from the file's folder), both for ``analyze`` (either may be empty).

Example:
    >>> items = photo_items(["group.jpg", "holiday_photos/", "selfies.csv"])
    >>> [item.source for item in items][:2]
    ['group.jpg', 'holiday_photos/beach.jpg']
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
TABLE_SUFFIXES = (".csv", ".jsonl")
TEXT_COLUMN = "text"
PHOTO_COLUMN = "photo"
PROGRESS_AFTER_SECONDS = 3.0
"""A batch shows a progress bar (on stderr) once it has run this long."""


@dataclass
class BatchItem:
    """One input of a batch.

    Attributes:
        source: where it came from (an argument, ``file:line``, a path).
        text: the text to read, if any.
        photo: the photo to read, if any.
        error: why the item cannot be read, found while collecting it (else None).
    """

    source: str
    text: str | None = None
    photo: Path | None = None
    error: str | None = None

    def error_line(self, error: str | None = None) -> str:
        """``error: <source>: <why>`` (the source once, when the message already starts with it)."""
        error = error or self.error
        return f"error: {error}" if error.startswith(self.source) else f"error: {self.source}: {error}"

    def error_record(self, error: str | None = None) -> dict:
        """``{"source", "error"}``, plus the text when there is one."""
        record = {"source": self.source, "error": error or self.error}
        if self.text is not None:
            record["text"] = self.text
        return record


def is_table(path: str | Path) -> bool:
    return Path(path).suffix.lower() in TABLE_SUFFIXES


def table_rows(path: Path) -> Iterator[tuple[str, dict | None, str | None]]:
    """``(source, row, problem)`` for each row of a CSV (with header) or JSONL file; ``row`` is None on a problem.

    Raises:
        FileNotFoundError: the file does not exist.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8") as handle:
        if path.suffix.lower() == ".csv":
            reader = csv.DictReader(handle)
            for row in reader:
                yield f"{path}:{reader.line_num}", row, None
            return
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                yield f"{path}:{number}", None, f"not a JSON object ({error.msg})"
                continue
            if isinstance(row, dict):
                yield f"{path}:{number}", row, None
            else:
                yield f"{path}:{number}", None, "not a JSON object"


def _cell(row: dict, column: str) -> str | None:
    """The row's non-empty value in ``column`` as a str, else None."""
    value = row.get(column)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value if isinstance(value, str) else str(value)


def _photo_path(value: str, table: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else table.parent / path


def _folder(path: Path, suffixes: Sequence[str]) -> list[Path]:
    """The files of ``path`` (not recursive) with one of ``suffixes``, sorted by name."""
    return sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


def text_items(texts: Sequence[str] = (), sources: Sequence[str] = ()) -> list[BatchItem]:
    """Texts given as arguments, then those of each source (a folder of ``.txt`` files, a CSV or JSONL file).

    Raises:
        FileNotFoundError: a source that does not exist, or is neither a folder nor a CSV/JSONL file.
    """
    items = [BatchItem(f"argument {number}", text=text) for number, text in enumerate(texts, start=1)]
    for source in map(Path, sources):
        if source.is_dir():
            items += [BatchItem(str(p), text=p.read_text(encoding="utf-8", errors="replace")) for p in
                      _folder(source, (".txt",))]  # fmt: skip
        elif is_table(source):
            for where, row, problem in table_rows(source):
                if problem is None and row is not None and TEXT_COLUMN not in row:
                    problem = f"no '{TEXT_COLUMN}' column"
                items.append(BatchItem(where, text=None if problem else str(row[TEXT_COLUMN] or ""), error=problem))
        else:
            raise FileNotFoundError(f"{source}: not a folder or a .csv/.jsonl file")
    return items


def photo_items(paths: Sequence[str]) -> list[BatchItem]:
    """Photos given as paths; a folder gives its photos, a CSV/JSONL file those of its ``photo`` column.

    A path that is not a photo is kept as an item: reading it gives the one-line error.
    """
    items = []
    for path in map(Path, paths):
        if path.is_dir():
            photos = _folder(path, PHOTO_SUFFIXES)
            items += [BatchItem(str(p), photo=p) for p in photos] or [BatchItem(str(path), error="no photos in folder")]
        elif is_table(path):
            for where, row, problem in table_rows(path):
                value = _cell(row, PHOTO_COLUMN) if row is not None else None
                if problem is None and value is None:
                    problem = f"no '{PHOTO_COLUMN}' in this row"
                items.append(BatchItem(where, photo=_photo_path(value, path) if value else None, error=problem))
        else:
            items.append(BatchItem(str(path), photo=path))
    return items


def analyze_items(source: str | Path) -> list[BatchItem]:
    """What ``mepe analyze --batch`` reads: rows of a CSV/JSONL file, or a folder's photos and texts.

    Raises:
        FileNotFoundError: ``source`` does not exist, or is neither a folder nor a CSV/JSONL file.
    """
    source = Path(source)
    if source.is_dir():
        photos = {p.stem: p for p in _folder(source, PHOTO_SUFFIXES)}
        texts = {p.stem: p for p in _folder(source, (".txt",))}
        items = []
        for stem in sorted(set(photos) | set(texts)):
            text = texts[stem].read_text(encoding="utf-8", errors="replace") if stem in texts else None
            items.append(BatchItem(str(photos.get(stem) or texts[stem]), text=text, photo=photos.get(stem)))
        return items or [BatchItem(str(source), error="no photos or .txt files in folder")]
    if not is_table(source):
        raise FileNotFoundError(f"{source}: not a folder or a .csv/.jsonl file")
    items = []
    for where, row, problem in table_rows(source):
        text = _cell(row, TEXT_COLUMN) if row is not None else None
        photo = _cell(row, PHOTO_COLUMN) if row is not None else None
        if problem is None and text is None and photo is None:
            problem = f"neither '{TEXT_COLUMN}' nor '{PHOTO_COLUMN}' in this row"
        items.append(BatchItem(where, text=text, photo=_photo_path(photo, source) if photo else None, error=problem))
    return items


def progress(items: Iterable, total: int, what: str):
    """``items`` with a progress bar on stderr that appears only when the batch runs longer than a few seconds."""
    from tqdm import tqdm

    return tqdm(items, total=total, desc=what, delay=PROGRESS_AFTER_SECONDS, file=sys.stderr, leave=False)


def read_each(items: Sequence[BatchItem], what: str, read, errors) -> list[tuple[BatchItem, object, str | None]]:
    """Runs ``read(item)`` over a batch with a progress bar; an item that cannot be read does not stop the others.

    Args:
        items: the batch.
        what: the progress bar's label.
        read: ``item -> result``.
        errors: the exception type(s) that mean "this item cannot be read".

    Returns:
        ``(item, result, None)`` for each item read, ``(item, None, why)`` for the others (each also
        printed as one :meth:`BatchItem.error_line` on stderr), in input order.
    """
    outcomes = []
    for item in progress(items, len(items), what):
        why = item.error
        if why is None:
            try:
                outcomes.append((item, read(item), None))
                continue
            except errors as error:
                why = str(error)
        print(item.error_line(why), file=sys.stderr)
        outcomes.append((item, None, why))
    return outcomes


def write_jsonl(path: str | Path, records: Sequence[dict]) -> None:
    """Writes one JSON record per line, atomically (a reader never sees half a file)."""
    from mepe_utils.artifacts import write_text_atomic

    write_text_atomic(path, "".join(json.dumps(record) + "\n" for record in records))


def report(records: Sequence[dict], output: str | Path | None, as_json: bool) -> bool:
    """Sends a batch's records where the command line asked: ``--output`` JSONL, ``--json`` on stdout.

    Returns:
        True when the records went to a file or stdout (the caller prints its table otherwise).
    """
    if output:
        write_jsonl(output, records)
        failed = sum("error" in record for record in records)
        print(f"wrote {len(records)} records ({failed} with an error) to {output}")
        return True
    if as_json:
        print(json.dumps(list(records), indent=1))
        return True
    return False
