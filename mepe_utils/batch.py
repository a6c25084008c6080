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

Files are read as UTF-8, or as UTF-16 or UTF-32 when they start with that
byte-order mark (Excel's "CSV UTF-8" starts with one too). A row or a ``.txt``
file that is not valid text in its encoding, a CSV row with more fields than
the header (a text holding a comma must be quoted) and a quote that is never
closed each become an error record, not a wrong text. A folder's files that
are not read (other kinds of file, subfolders) are named in one note on stderr.

Example:
    >>> items = photo_items(["group.jpg", "holiday_photos/", "selfies.csv"])
    >>> [item.source for item in items][:2]
    ['group.jpg', 'holiday_photos/beach.jpg']
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mepe_utils.errors import MepeError

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif")
TABLE_SUFFIXES = (".csv", ".jsonl")
TEXT_COLUMN = "text"
PHOTO_COLUMN = "photo"
PROGRESS_AFTER_SECONDS = 3.0
"""A batch shows a progress bar (on stderr) once it has run this long."""
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16's: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
NOT_TEXT = "not UTF-8 text: save the file as UTF-8"
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


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


def decode_file(data: bytes) -> str:
    """A file's text: decoded by its byte-order mark (UTF-8, UTF-16, UTF-32), else as UTF-8.

    A byte that is not UTF-8 is kept as a lone surrogate (``surrogateescape``), so one bad
    line can be reported on its own (:func:`has_bad_bytes`).

    Raises:
        MepeError: the data starts with a UTF-16 or UTF-32 mark and is not valid in that encoding.
    """
    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                name = encoding.removesuffix("-sig").upper()
                raise MepeError(f"starts with a {name} byte-order mark but is not {name} text") from None
    return data.decode("utf-8", errors="surrogateescape")


def has_bad_bytes(text: str) -> bool:
    """Whether :func:`decode_file` kept bytes that were not UTF-8 in ``text``."""
    return _ESCAPED_BYTE.search(text) is not None


def read_text_file(path: Path) -> tuple[str | None, str | None]:
    """``(text, None)`` for a readable ``.txt`` file (surrounding whitespace removed), ``(None, why)`` otherwise."""
    try:
        text = decode_file(path.read_bytes())
    except MepeError as error:
        return None, str(error)
    return (None, NOT_TEXT) if has_bad_bytes(text) else (text.strip(), None)


def table_rows(path: Path) -> Iterator[tuple[str, dict | None, str | None]]:
    """``(source, row, problem)`` for each row of a CSV (with header) or JSONL file; ``row`` is None on a problem.

    A file without rows gives one problem of its own. Texts are checked where they are used
    (:func:`_cells`): a byte that is not UTF-8 in a column no one reads does not matter.

    Raises:
        FileNotFoundError: the file does not exist.
        MepeError: the file starts with a UTF-16 or UTF-32 mark but is not valid in that encoding,
            or a CSV header is not UTF-8 text.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        text = decode_file(path.read_bytes())
    except MepeError as error:
        raise MepeError(f"{path}: {error}") from None
    lines = io.StringIO(text, newline="").readlines()  # \n, \r\n or \r only: JSON strings may hold U+2028
    rows = _csv_rows(path, lines) if path.suffix.lower() == ".csv" else _jsonl_rows(path, lines)
    empty = True
    for row in rows:
        empty = False
        yield row
    if empty:
        yield str(path), None, "no rows in this file"


def _jsonl_rows(path: Path, lines: list[str]) -> Iterator[tuple[str, dict | None, str | None]]:
    """:func:`table_rows` of a JSONL file's lines (blank lines skipped)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            yield f"{path}:{number}", None, f"not a JSON object ({error.msg})"
            continue
        yield (
            (f"{path}:{number}", row, None)
            if isinstance(row, dict)
            else (f"{path}:{number}", None, "not a JSON object")
        )


def _csv_rows(path: Path, lines: list[str]) -> Iterator[tuple[str, dict | None, str | None]]:
    """:func:`table_rows` of a CSV file's lines: the source names a row's last line, or the line of the
    quote that is never closed. Parsed as spreadsheets do (``"Fine" is what I say`` reads as
    ``Fine is what I say``); a quote left open, which swallows the rest of the file, is an error."""
    reader = csv.reader(lines)
    header, last = None, None
    while True:
        first_line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as error:  # a NUL byte, a field over the size limit
            yield f"{path}:{first_line}", None, f"not a CSV row ({error})"
            continue
        if not fields:  # a blank line
            continue
        if header is None:
            if any(has_bad_bytes(name) for name in fields):
                raise MepeError(f"{path}:{first_line}: the header is {NOT_TEXT}")
            header = fields
            continue
        if last is not None:
            yield last[1]
        source = f"{path}:{reader.line_num}"
        if len(fields) > len(header):
            problem = (
                f"{len(fields)} fields where the header has {len(header)}: put a text that holds a comma in quotes"
            )
            last = first_line, (source, None, problem)
        else:
            last = first_line, (source, dict(zip(header, fields + [None] * (len(header) - len(fields)))), None)
    if last is not None:
        first_line, row = last
        yield (
            (f"{path}:{first_line}", None, "a quote opened on this line is never closed")
            if _quote_left_open(lines[first_line - 1 :])
            else row
        )


def _quote_left_open(lines: list[str]) -> bool:
    """Whether the CSV row starting at ``lines[0]`` opens a quote that the file never closes."""
    try:
        for _ in csv.reader(lines, strict=True):
            pass
    except csv.Error as error:
        return "end of data" in str(error)
    return False


def _cells(row: dict | None, columns: Sequence[str]) -> tuple[list[str | None], str | None]:
    """The row's non-empty texts in ``columns`` (None where empty or missing), and the problem when one
    holds something other than a string (a JSON number, list or object) or bytes that are not UTF-8."""
    values = [None if row is None else row.get(column) for column in columns]
    for column, value in zip(columns, values):
        if value is not None and not isinstance(value, str):
            return [None] * len(columns), f"'{column}' is not a string: {json.dumps(value)[:40]}"
        if value is not None and has_bad_bytes(value):
            return [None] * len(columns), f"'{column}' is {NOT_TEXT}"
    return [value if value and value.strip() else None for value in values], None


def _photo_path(value: str, table: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else table.parent / path


def _folder(path: Path, suffixes: Sequence[str], kinds: str) -> list[Path]:
    """The files of ``path`` with one of ``suffixes``, sorted by name; the rest (subfolders and other
    files, hidden ones aside) is named in one note on stderr, so nothing is left out unsaid."""
    entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
    kept = [p for p in entries if p.is_file() and p.suffix.lower() in suffixes]
    skipped = [p.name + ("/" if p.is_dir() else "") for p in entries if p not in kept]
    if skipped:
        shown = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        print(f"note: {path}: reads {kinds} only (not subfolders); left out: {shown}", file=sys.stderr)
    return kept


def text_items(texts: Sequence[str] = (), sources: Sequence[str] = ()) -> list[BatchItem]:
    """Texts given as arguments, then those of each source (a folder of ``.txt`` files, a CSV or JSONL file).

    Raises:
        FileNotFoundError: a source that does not exist, or is neither a folder nor a CSV/JSONL file.
    """
    items = [BatchItem(f"argument {number}", text=text) for number, text in enumerate(texts, start=1)]
    for source in map(Path, sources):
        if source.is_dir():
            for path in _folder(source, (".txt",), ".txt files"):
                text, problem = read_text_file(path)
                items.append(BatchItem(str(path), text=text, error=problem))
        elif is_table(source):
            for where, row, problem in table_rows(source):
                if problem is None and TEXT_COLUMN not in row:
                    problem = f"no '{TEXT_COLUMN}' column"
                (text,), wrong_type = _cells(row, [TEXT_COLUMN])
                problem = problem or wrong_type
                items.append(BatchItem(where, text=None if problem else text or "", error=problem))
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
            photos = _folder(path, PHOTO_SUFFIXES, "photos")
            items += [BatchItem(str(p), photo=p) for p in photos] or [BatchItem(str(path), error="no photos in folder")]
        elif is_table(path):
            for where, row, problem in table_rows(path):
                (value,), wrong_type = _cells(row, [PHOTO_COLUMN])
                problem = problem or wrong_type
                if problem is None and value is None:
                    problem = f"no '{PHOTO_COLUMN}' in this row"
                items.append(BatchItem(where, photo=_photo_path(value, path) if value else None, error=problem))
        else:
            items.append(BatchItem(str(path), photo=path))
    return items


def analyze_items(source: str | Path) -> list[BatchItem]:
    """What ``mepe analyze --batch`` reads: rows of a CSV/JSONL file, or a folder's photos and texts.

    An empty text beside a photo (an empty cell, an empty ``.txt``) is a missing text: the photo is
    read alone.

    Raises:
        FileNotFoundError: ``source`` does not exist, or is neither a folder nor a CSV/JSONL file.
    """
    source = Path(source)
    if source.is_dir():
        files = _folder(source, (*PHOTO_SUFFIXES, ".txt"), "photos and .txt files")
        photos = {p.stem: p for p in files if p.suffix.lower() != ".txt"}
        texts = {p.stem: p for p in files if p.suffix.lower() == ".txt"}
        items = []
        for stem in sorted(set(photos) | set(texts)):
            text, problem = read_text_file(texts[stem]) if stem in texts else (None, None)
            photo = photos.get(stem)
            text = None if photo and not text else text
            items.append(BatchItem(str(photo or texts[stem]), text=text, photo=photo, error=problem))
        return items or [BatchItem(str(source), error="no photos or .txt files in folder")]
    if not is_table(source):
        raise FileNotFoundError(f"{source}: not a folder or a .csv/.jsonl file")
    items = []
    for where, row, problem in table_rows(source):
        (text, photo), wrong_type = _cells(row, [TEXT_COLUMN, PHOTO_COLUMN])
        problem = problem or wrong_type
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
