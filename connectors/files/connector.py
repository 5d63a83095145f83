"""A PRM that cannot be called, only read: CSV or JSON Lines exports dropped in a folder.

Some partner portals have no usable API but export registrations on a schedule. This
connector lists the exports that are finished and not yet handled (``pending``), reads
each one into the same ``RecordChange`` values the API connectors produce (``read``, page
by page with ``read_pages``), and describes the columns it has seen (``describe``), so
the mapping layer and the engine treat a row exactly like an API record. It is the
``DropSource`` of ``connectors.base``: the cycle reads it file by file, never from a
cursor, and never writes to it.

Which files are done is the caller's record, kept by content checksum in the store: a
file is read once, a copy under another name is not read again, and a re-export with new
content is read again (rows are upserts by id, so that is harmless). A bad row is
reported with its file and line and skipped; the good rows of the same file still count.
The folder's side - listing settled exports, refusing links and pipes, opening without
following links - is ``connectors.files.folder``; the id, modified and deleted columns are
read by ``connectors.files.columns``; CSV and JSON Lines by ``connectors.files.formats``.
Nothing a file holds is quoted in a log line or message until its header shows it is an
export.

A file is read as a stream of pages of ``page_size`` changes (``read_pages``): the
connector itself holds a page and an id index, not the file (a 300,000-row export peaks
at about 110 MB, benchmarks/file_drop.py). ``read`` merges a file's pages, the later row
of an id winning, and keeps one entry per id to the end of the file, because a file is
used whole or not at all; the cycle's pull reads through it (keeping each row as its
mirror record) and then plans over every record, so a cycle holds the whole file's
records: about 520 MB peak at 300,000 rows.
"""

from __future__ import annotations

import codecs
import hashlib
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, overload

import structlog

from connectors.base import (
    ApiUsage,
    CreateTarget,
    Cursor,
    DealCreate,
    DropFile,
    FieldSchema,
    FileRead,
    ObjectSchema,
    Owner,
    Page,
    RecordChange,
    RecordError,
    RecordWrite,
    RowProblem,
    TaskTarget,
    TaskWrite,
    WriteResult,
)
from connectors.errors import FatalError, SchemaError
from connectors.files import columns
from connectors.files.facts import PAGE_SIZE, READ_ONLY, SYSTEM
from connectors.files.folder import DropFolder, Refused, chunks, open_export, refusal, unreadable
from connectors.files.formats import (
    DELIMITERS,
    BadRow,
    CsvReader,
    FileRejected,
    Row,
    Undecodable,
    decoded_lines,
    jsonl_rows,
)
from connectors.quoting import quoted

log = structlog.get_logger("connectors.files")
T = TypeVar("T")

JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
DESCRIBE_SAMPLE = 1000  # JSONL objects per file whose keys describe() collects


@dataclass(frozen=True)
class FileDropSettings:
    """Where a PRM drops its exports and how to read them."""

    folder: Path
    """The folder the PRM exports into (only its top level is read)."""
    id_field: str
    """The column (CSV) or key (JSONL) holding the registration id; required in every row."""
    modified_field: str | None = None
    """The column holding the row's modification time; None: rows take the file's time."""
    deleted_field: str | None = None
    """A column whose true value (true/yes/1) marks a deleted registration."""
    patterns: tuple[str, ...] = ("*.csv", "*.jsonl")
    """File name patterns to read, matched ignoring case; anything else is left alone."""
    encoding: str = "utf-8-sig"
    """Text encoding of the files; the default also accepts UTF-8 with a BOM (Excel)."""
    delimiter: str | None = None
    """CSV delimiter; None: guessed per file from the header among ',' ';' and tab."""
    settle_seconds: float = 5.0
    """Files modified more recently than this are still being written: read them later."""
    page_size: int = PAGE_SIZE
    """Changes per page of ``read_pages``: what a file costs in memory while it is read."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder", Path(self.folder))
        if not self.id_field.strip():
            raise ValueError("id_field: name the column that holds the registration id")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ValueError(f"encoding: unknown encoding {self.encoding!r} (e.g. utf-8-sig, "
                             "cp1252, latin-1, utf-16)") from None
        if self.delimiter is not None and len(self.delimiter) != 1:
            raise ValueError(f"delimiter: one character, e.g. {' '.join(map(repr, DELIMITERS))}"
                             f"; got {self.delimiter!r}")
        if not self.patterns:
            raise ValueError("patterns: at least one file name pattern, e.g. '*.csv'")
        if self.settle_seconds < 0:
            raise ValueError("settle_seconds: zero or more seconds")
        if self.page_size < 1:
            raise ValueError("page_size: one or more changes per page")


@dataclass(frozen=True, slots=True)
class FilePage:
    """Up to ``page_size`` changes of one file, and the problems found since the last page.

    A page with ``rejected`` set is the file's last and holds the reason: nothing in the
    file may be used, not even the changes of its earlier pages (the caller stages a
    file's pages and drops them), and its checksum must not be recorded.
    """

    changes: tuple[RecordChange, ...]
    problems: tuple[RowProblem, ...]
    rejected: bool = False


@dataclass
class _FileState:
    """Per-file bookkeeping while rows stream past: the page being filled.

    Only the id -> line index outlives a page; it names the earlier row when an id
    appears again. Within a page the later row replaces the earlier one; across pages
    the caller does (a later change of the same id in the same file wins whole).
    """

    name: str
    file_time: datetime
    page_size: int
    lines: dict[str, int] = field(default_factory=dict)  # id -> line of its latest row
    page: dict[str, RecordChange] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    changes: int = 0  # changes handed out in pages, for the log line
    problem_count: int = 0

    def problem(self, line: int, message: str, record_id: str | None = None) -> None:
        self.problems.append(RowProblem(self.name, line, record_id, message))

    def take(self, line: int, change: RecordChange) -> None:
        earlier = self.lines.get(change.id)
        if earlier is not None:
            self.problem(earlier, f"registration '{change.id}' appears again on line "
                         f"{line}; the later row is used", change.id)
            self.page.pop(change.id, None)
        self.lines[change.id] = line
        self.page[change.id] = change

    @property
    def full(self) -> bool:
        return len(self.page) >= self.page_size

    def flush(self) -> FilePage:
        page = FilePage(tuple(self.page.values()),
                        tuple(sorted(self.problems, key=lambda p: p.line)))
        self.changes += len(page.changes)
        self.problem_count += len(page.problems)
        self.page = {}
        self.problems = []
        return page


class FileDropConnector:
    """Lists, reads and describes the exports in one drop folder."""

    system = SYSTEM

    def __init__(self, settings: FileDropSettings, *,
                 clock: Callable[[], float] = time.time,
                 environ: Mapping[str, str] | None = None,
                 ledgers: Callable[[str], Any] | None = None,
                 stop: Callable[[], bool] | None = None,
                 on_secret: Callable[[str], None] | None = None) -> None:
        """``environ``, ``ledgers``, ``stop`` and ``on_secret`` are taken so every
        connector is built alike (``connectors.base.ConnectorFactory``) and not used: a
        folder has no secret to read and no API budget to count or wait for."""
        self.settings = settings
        self.usage = ApiUsage()
        self._folder = DropFolder(settings.folder, settings.patterns, settings.settle_seconds,
                                  clock)
        self._described: dict[str, ObjectSchema] = {}

    # ------------------------------------------------------------------ listing

    def pending(self, seen_checksums: Collection[str]) -> list[DropFile]:
        """Finished exports whose content has not been handled, oldest first; refused
        entries listed with the reason (see ``DropFolder.pending``)."""
        return self._folder.pending(seen_checksums)

    # ------------------------------------------------------------------ reading

    def read_pages(self, file: DropFile) -> Iterator[FilePage]:
        """The file's rows as pages of changes in file order, each with its problems.

        Never raises for a bad row or a bad file; only an unreadable file (permissions)
        raises ``PermissionDenied``, because an admin must fix that. A refused or bad
        file ends with a ``rejected`` page: the caller drops what it staged of the file.
        """
        self.usage.count("file")
        if file.refused is not None:
            yield self._rejected(file, 0, file.refused)
            return
        state = _FileState(file.name, file.modified_at, self.settings.page_size)
        digest = hashlib.sha256()
        failure: tuple[int, str] | None = None
        try:
            with open_export(file.path) as handle:
                for item in self._rows(chunks(handle, digest), file):
                    self.usage.count("row")
                    if isinstance(item, BadRow):
                        state.problem(item.line, item.message)
                    else:
                        self._take(state, item)
                    if state.full:
                        yield state.flush()
        except Refused as exc:
            failure = (0, exc.reason)
        except FileRejected as exc:
            failure = (exc.line, exc.message)
        except FileNotFoundError:
            failure = (0, "the file disappeared before it was read")
        except PermissionError as exc:
            raise unreadable(file.path) from exc
        except OSError as exc:  # e.g. an I/O error on a network share: try next cycle
            failure = (0, f"the file could not be read ({exc.strerror})")
        if failure is None and digest.hexdigest() != file.checksum:
            failure = (0, "the file changed while it was being read; it is read again once "
                       "it has settled")
        if failure is not None:
            yield self._rejected(file, *failure)
            return
        yield state.flush()
        log.info("file drop read", file=file.name, changes=state.changes,
                 problems=state.problem_count)

    @overload
    def read(self, file: DropFile) -> FileRead[RecordChange]: ...

    @overload
    def read(self, file: DropFile, keep: Callable[[RecordChange], T], *,
             after_page: Callable[[], None] = ...) -> FileRead[T]: ...

    def read(self, file: DropFile, keep: Callable[[RecordChange], Any] | None = None, *,
             after_page: Callable[[], None] = lambda: None) -> FileRead[Any]:
        """The whole file: its pages read to the end, the later row of an id winning whole.

        What is kept of each change is ``keep(change)`` (the change itself by default): the
        cycle keeps the record merged over its mirrored version, so a row is held once,
        not as a change and a record. ``after_page`` runs after every page (the cycle's
        heartbeat and stop check). A rejected file keeps nothing: only its reason.
        """
        kept: dict[str, Any] = {}
        problems: list[RowProblem] = []
        for page in self.read_pages(file):
            if page.rejected:
                return FileRead(file, (), page.problems, rejected=True)
            for change in page.changes:
                kept.pop(change.id, None)  # file order: the later row's place
                kept[change.id] = change if keep is None else keep(change)
            problems.extend(page.problems)
            after_page()
        return FileRead(file, tuple(kept.values()),
                        tuple(sorted(problems, key=lambda p: p.line)))

    def _rows(self, chunks: Iterator[bytes], file: DropFile) -> Iterator[Row | BadRow]:
        lines = self._decoded(chunks)
        if file.path.suffix.lower() in JSONL_SUFFIXES:
            return jsonl_rows(lines)
        reader = CsvReader(lines, self.settings.delimiter)
        self._check_columns(reader)
        return iter(reader)

    def _decoded(self, chunks: Iterator[bytes]) -> Iterator[str]:
        try:
            yield from decoded_lines(chunks, self.settings.encoding)
        except Undecodable as exc:
            raise FileRejected(exc.line, f"{exc.message}; the file was not read. Export it "
                               f"as UTF-8, or set the file drop's 'encoding' setting (now "
                               f"{self.settings.encoding!r}) to the encoding the PRM uses, "
                               "e.g. 'cp1252' for Windows exports") from exc

    def _check_export(self, reader: CsvReader) -> None:
        """Is the header an export's? Nothing of it is quoted until it names the id column."""
        if reader.columns and self.settings.id_field not in reader.columns:
            raise FileRejected(reader.header_line, columns.no_id_column(self.settings.id_field,
                                                                        reader.columns))
        reader.check_unique()

    def _check_columns(self, reader: CsvReader) -> None:
        if not reader.columns:
            return  # an empty file holds no rows to misread
        self._check_export(reader)
        settings = self.settings
        wanted = [("modified_field", settings.modified_field),
                  ("deleted_field", settings.deleted_field)]
        missing = [(setting, column) for setting, column in wanted
                   if column is not None and column not in reader.columns]
        if missing:
            setting, column = missing[0]
            raise FileRejected(reader.header_line,
                               columns.missing_column(column, setting, reader.columns))

    def _take(self, state: _FileState, row: Row) -> None:
        change = self._change(state, row)
        if change is not None:
            state.take(row.line, change)

    def _change(self, state: _FileState, row: Row) -> RecordChange | None:
        settings = self.settings
        record_id = columns.record_id(row.fields.get(settings.id_field))
        if record_id is None:
            value = row.fields.get(settings.id_field)
            state.problem(row.line, f"no registration id in '{settings.id_field}'"
                          if columns.blank(value) else f"the id in '{settings.id_field}' must be "
                          f"text or a whole number, found {quoted(value)}")
            return None
        modified_at = state.file_time
        if settings.modified_field is not None:
            raw = row.fields.get(settings.modified_field)
            if not columns.blank(raw):
                try:
                    modified_at = columns.instant(raw)
                except columns.Unreadable:
                    state.problem(row.line, f"'{settings.modified_field}' value {quoted(raw)} is "
                                  "not a date and time (write it like 2026-03-31T14:05:00Z "
                                  "or in epoch milliseconds); row skipped", record_id)
                    return None
        deleted = False
        if settings.deleted_field is not None:
            raw = row.fields.get(settings.deleted_field)
            if not columns.blank(raw):
                try:
                    deleted = columns.flag(raw)
                except columns.Unreadable:
                    state.problem(row.line, f"'{settings.deleted_field}' value {quoted(raw)} "
                                  "is not true or false (yes/no, 1/0 also work); row skipped "
                                  "rather than guess whether the registration was deleted",
                                  record_id)
                    return None
        return RecordChange(record_id, modified_at, row.fields, deleted)

    def _rejected(self, file: DropFile, line: int, message: str) -> FilePage:
        problem = RowProblem(file.name, line, None, message)
        log.warning("file drop rejected", file=file.name, problem=str(problem))
        return FilePage((), (problem,), rejected=True)

    # ------------------------------------------------------------------ describing

    def describe(self, object_name: str) -> ObjectSchema:
        """The columns (CSV) and keys (JSONL) of the settled files in the folder.

        Every value in a file is text until a mapping transform reads it, so every field
        is described as a read-only string. Cached until ``start_cycle``.
        """
        if object_name in self._described:
            return self._described[object_name]
        names: dict[str, None] = {}
        described = 0
        for path, info in self._folder.candidates():
            if refusal(info) is not None or self._folder.settling(info):
                continue  # a refused entry is reported when the cycle reads it
            try:
                found = self._names_in(path)
            except (Refused, FileRejected, FileNotFoundError):
                continue  # reported when the file is read
            except PermissionError as exc:
                raise unreadable(path) from exc
            names.update(dict.fromkeys(found))
            described += 1
        if not described:
            raise SchemaError(f"the file drop folder {self.settings.folder} holds no readable "
                              f"export matching {', '.join(self.settings.patterns)} to "
                              "describe; drop one export there first", system=SYSTEM,
                              code="NOTHING_TO_DESCRIBE")
        schema = ObjectSchema(object_name, {
            name: FieldSchema(name, "string", createable=False, updateable=False)
            for name in names})
        self._described[object_name] = schema
        return schema

    def _names_in(self, path: Path) -> list[str]:
        """The columns or keys of an export; only of rows that name an id (see read)."""
        with open_export(path) as handle:
            lines = self._decoded(chunks(handle, None))
            if path.suffix.lower() not in JSONL_SUFFIXES:
                reader = CsvReader(lines, self.settings.delimiter)
                self._check_export(reader)
                return list(reader.columns)
            keys: dict[str, None] = {}
            for count, item in enumerate(jsonl_rows(lines)):
                if count >= DESCRIBE_SAMPLE:
                    break
                if isinstance(item, Row) and self.settings.id_field in item.fields:
                    keys.update(dict.fromkeys(item.fields))
            return list(keys)

    # ------------------------------------------------------------------ the rest of Connector
    # The cycle reads a drop folder with pending() and read() and never writes to it (the
    # mappings cannot), but it holds every side as a Connector and asks each for owners().

    def pull(self, object_name: str, fields: Sequence[str], since: Cursor | None, *,
             scope: Mapping[str, str] | None = None) -> Iterator[Page]:
        """Not supported: exports are listed with ``pending`` and read with ``read``."""
        raise FatalError("a file drop is read file by file (pending, read), not pulled "
                         "from a cursor", system=SYSTEM, code="NOT_SUPPORTED")

    def id_problem(self, object_name: str, record_id: str) -> str | None:
        """An export's id column may hold any text, but not a blank or a line break."""
        if record_id != record_id.strip() or not record_id:
            return f"{quoted(record_id)} is not a file-drop id: ids are never blank or padded"
        if any(not ch.isprintable() for ch in record_id):
            return f"{quoted(record_id)} is not a file-drop id: it holds a control character"
        return None

    def fetch(self, object_name: str, ids: Sequence[str],
              fields: Sequence[str]) -> list[RecordChange]:
        """Not supported: rows cannot be looked up by id, an export is read whole."""
        raise FatalError("a file drop cannot look rows up by id", system=SYSTEM,
                         code="NOT_SUPPORTED")

    def write(self, object_name: str, writes: Sequence[RecordWrite]) -> list[WriteResult]:
        """Every write fails (not the batch): a file drop is read-only."""
        return [_read_only(write.ref, write.id) for write in writes]

    def upsert_tasks(self, target: TaskTarget, tasks: Sequence[TaskWrite]) -> list[WriteResult]:
        """Every task fails (not the batch): a file drop is read-only."""
        return [_read_only(task.key, None) for task in tasks]

    def create_deals(self, target: CreateTarget,
                     deals: Sequence[DealCreate]) -> list[WriteResult]:
        """Every creation fails (not the batch): a file drop is read-only."""
        return [_read_only(deal.key, None) for deal in deals]

    def owners(self) -> list[Owner]:
        """A drop folder has no user list: nobody to look owner ids up in."""
        return []

    def org_key(self) -> str | None:
        """None: a folder of files is no org, and nothing here writes tasks."""
        return None

    def start_cycle(self) -> None:
        """Forget the cached describe: the PRM may have added columns since."""
        self._described.clear()

    def close(self) -> None:
        """Nothing is held open between calls."""


def _read_only(ref: str, record_id: str | None) -> WriteResult:
    return WriteResult(ref, record_id, False, error=RecordError("READ_ONLY", READ_ONLY))
