"""Streaming readers for the two export formats a PRM drops: CSV and JSON Lines.

They turn an iterator of byte chunks into numbered rows without ever holding the file,
and report what is wrong with a row as data (``BadRow``) so one bad row never costs the
good ones. Only a problem that makes the whole file unreadable (bytes in another
encoding, a line too long to be an export's, an ambiguous header) raises ``FileRejected``.
What a row means (its id, its modification time) is decided in connectors/files/connector.py.

Until a file is known to be an export (its header names the id column), no message quotes
anything from it: a file that is not an export may hold a secret, and messages end up in
logs and in the cycle's report.
"""

from __future__ import annotations

import codecs
import csv
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

DELIMITERS = (",", ";", "\t")
# Characters one line may hold. A line is the unit held in memory (a quoted CSV value
# spans lines; the csv module bounds a value itself), so this bounds what a file without
# line breaks, or with one enormous JSON object, can cost.
MAX_LINE_CHARS = 1 << 20


@dataclass(frozen=True, slots=True)
class Row:
    """One record: the line it starts on and its values by column or key name."""

    line: int
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class BadRow:
    """A record that cannot be read, and why (said for the admin who fixes the export)."""

    line: int
    message: str


class FileRejected(Exception):
    """Nothing in the file can be trusted; ``line`` is where that became clear (0: none)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class Undecodable(FileRejected):
    """Bytes that are not valid in the configured encoding (the caller says what to do)."""


def decoded_lines(chunks: Iterable[bytes], encoding: str, *,
                  max_line_chars: int = MAX_LINE_CHARS) -> Iterator[str]:
    """Text lines, each with its line ending, decoded incrementally (any chunk size).

    Lines are split on "\\n" only, so "\\r\\n" stays whole for the csv module and a form
    feed or U+2028 inside a value does not start a new line. A line longer than
    ``max_line_chars`` rejects the file before more of it is held.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    newlines = 0
    pending: list[str] = []  # the current line so far; a list so a huge line costs O(n)
    held = 0  # characters in pending
    for chunk, final in _with_end(chunks):
        try:
            text = decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            # exc.object is this call's input (plus at most a few buffered bytes of a
            # split character), so counting b"\n" before the bad byte gives its line
            # for every ASCII-compatible encoding. The bytes themselves are not quoted:
            # they are the file's content, and the file may not be an export at all.
            before = exc.object[:exc.start].count(b"\n")
            raise Undecodable(newlines + before + 1, f"this line holds bytes that are not "
                              f"valid {encoding}") from exc
        if "\n" not in text:
            if text:
                pending.append(text)
                held += len(text)
                _check_length(held, newlines + 1, max_line_chars)
            continue
        pending.append(text)
        parts = "".join(pending).split("\n")
        tail = parts.pop()
        pending = [tail] if tail else []
        held = len(tail)
        for part in parts:
            newlines += 1
            _check_length(len(part), newlines, max_line_chars)
            yield part + "\n"
        _check_length(held, newlines + 1, max_line_chars)
    if pending:
        yield "".join(pending)


def _check_length(chars: int, line: int, limit: int) -> None:
    if chars > limit:
        raise FileRejected(line, f"this line is longer than {limit:,} characters, more than "
                           "any export row needs; the file was not read. Check that it is "
                           "a CSV or JSON Lines export (a file without line breaks is not)")


def _with_end(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    for chunk in chunks:
        yield chunk, False
    yield b"", True


def sniff_delimiter(line: str) -> str:
    """The candidate delimiter used most often outside quotes in a header line."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties go to the earlier candidate
    return best if counts[best] else ","


# csv.Error text -> what it usually means in an export. The csv module does not number its
# errors, so the table matches the start of its message.
_CSV_ERRORS: tuple[tuple[str, str], ...] = (
    ("unexpected end of data",
     "a quoted value that starts in this row is never closed, so the rest of the file "
     "was read as part of it"),
    ("field larger than field limit",
     "a value is longer than the csv reader allows, usually an unclosed quote"),
    ("new-line character seen in unquoted field",
     "a bare carriage return inside a value that is not quoted"),
    ("' expected after '\"'",
     "text follows a closing quote; a quote inside a quoted value must be doubled (\"\")"),
)


def _csv_error(exc: csv.Error) -> str:
    text = str(exc)
    for start, meaning in _CSV_ERRORS:
        if start in text:
            return meaning
    return f"the csv reader stopped: {text}"


def _is_blank_record(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _span(start: int, end: int) -> str:
    return f" (the row spans lines {start}-{end})" if end > start else ""


class CsvReader:
    """Reads the header on construction; iterating yields the rows that follow it.

    Values stay exactly as written (an empty cell is ""); header names are trimmed, and
    columns with a blank name are dropped since no mapping can name them. Extra cells
    past the header are tolerated only when blank (spreadsheets pad rows with them).
    The header's names are not checked here: the caller first checks that the header is
    an export's (names its id column), then calls ``check_unique``, which quotes names.
    """

    def __init__(self, lines: Iterator[str], delimiter: str | None) -> None:
        # A BOM survives when the encoding setting is plain utf-8; it is never data.
        first = next(lines, "").lstrip("\ufeff")
        self._offset = 0  # blank lines before the header: rows keep the file's numbering
        while first and not first.strip():
            self._offset += 1
            first = next(lines, "")
        self.delimiter = delimiter or sniff_delimiter(first)
        self._reader = csv.reader(_prepend(first, lines), delimiter=self.delimiter,
                                  strict=True)
        self.header_line = self._offset + 1
        self.columns: tuple[str, ...] = ()
        self._names: list[str] = []
        if not first:
            return  # an empty file: no header, no rows
        try:
            cells = next(self._reader)
        except csv.Error as exc:
            raise FileRejected(self.header_line, "the header row cannot be read: "
                               f"{_csv_error(exc)}") from exc
        self._names = [cell.strip() for cell in cells]
        self.columns = tuple(name for name in self._names if name)

    def check_unique(self) -> None:
        """Reject a header that names a column twice (it quotes the names)."""
        positions: dict[str, list[int]] = {}
        for index, name in enumerate(self._names, 1):
            if name:
                positions.setdefault(name, []).append(index)
        twice = {name: where for name, where in positions.items() if len(where) > 1}
        if twice:
            listed = "; ".join(f"'{name}' (columns {', '.join(map(str, where))})"
                               for name, where in twice.items())
            raise FileRejected(self.header_line, "the header names a column more than "
                               f"once: {listed}. "
                               "The file was not read because each row would hold two "
                               "values for one name and nothing says which is meant; "
                               "rename or remove the extra column and export again")

    @property
    def _last_line(self) -> int:
        return self._offset + self._reader.line_num

    def __iter__(self) -> Iterator[Row | BadRow]:
        width = len(self._names)
        if not width:
            return
        while True:
            start = self._offset + self._reader.line_num + 1
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield BadRow(start, f"{_csv_error(exc)}; row skipped"
                             f"{_span(start, self._last_line)}")
                continue
            if _is_blank_record(cells):
                continue
            if len(cells) > width and _is_blank_record(cells[width:]):
                cells = cells[:width]
            if len(cells) != width:
                yield BadRow(start, f"{len(cells)} cells, but the header has {width}; row "
                             f"skipped (an unquoted '{_shown(self.delimiter)}' inside a "
                             "value, or a missing cell, would shift every value after it)"
                             f"{_span(start, self._last_line)}")
                continue
            yield Row(start, {name: cell for name, cell in zip(self._names, cells, strict=True)
                              if name})


def _shown(delimiter: str) -> str:
    return "\\t" if delimiter == "\t" else delimiter


def _prepend(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _json_float(text: str) -> float | str:
    """A JSON number as a float, or its text when a float would change it: 1e400 would
    become infinity and 1e-400 zero. The text goes on to the mapping, which reports the
    value on its record and field instead of syncing what the partner did not write."""
    number = float(text)
    if math.isinf(number) or (number == 0.0 and any(c in "123456789" for c in
                                                    text.partition("e")[0].partition("E")[0])):
        return text
    return number


def _json_int(text: str) -> int | str:
    """A JSON integer, or its text past the digits Python converts (4,300 by default)."""
    try:
        return int(text)
    except ValueError:
        return text


_JSON_KINDS = {list: "a list [...]", str: "a string", int: "a number", float: "a number",
               bool: "true/false", type(None): "null"}


def jsonl_rows(lines: Iterable[str]) -> Iterator[Row | BadRow]:
    """One JSON object per line; blank lines are skipped; values are kept as parsed."""
    for number, text in enumerate(lines, 1):
        if number == 1:
            text = text.lstrip("\ufeff")
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            value = json.loads(text, object_pairs_hook=_unique_pairs,
                               parse_float=_json_float, parse_int=_json_int,
                               parse_constant=str)
        except json.JSONDecodeError as exc:
            reason = exc.msg.removesuffix(" at")
            yield BadRow(number, f"not valid JSON at column {exc.colno} "
                         f"({reason[:1].lower()}{reason[1:]}); line skipped")
            continue
        except _DuplicateKey as exc:
            yield BadRow(number, f"the key '{exc.key}' appears twice in one object, so its "
                         "value is ambiguous; line skipped")
            continue
        except RecursionError:
            yield BadRow(number, "the JSON is nested too deeply to read; line skipped")
            continue
        if not isinstance(value, dict):
            kind = _JSON_KINDS.get(type(value), type(value).__name__)
            yield BadRow(number, f"expected a JSON object {{...}}, found {kind}; line skipped")
            continue
        yield Row(number, value)
