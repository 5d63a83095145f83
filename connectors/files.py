"""A PRM that cannot be called, only read: CSV or JSON Lines exports dropped in a folder.

Some partner portals have no usable API but export registrations on a schedule. This
connector lists the exports that are finished and not yet handled (``pending``), reads
each one into the same ``RecordChange`` values the API connectors produce (``read``), and
describes the columns it has seen (``describe``), so the mapping layer and the engine
treat a row exactly like an API record.

Which files are done is the caller's record, kept by content checksum in the store: a
file is read once, a copy under another name is not read again, and a re-export with new
content is read again (rows are upserts by id, so that is harmless). Files are never
moved, renamed or deleted; the folder may be read-only. A bad row is reported with its
file and line and skipped; the good rows of the same file still count.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, BinaryIO

import structlog

from connectors.base import (
    ApiUsage,
    Cursor,
    FieldSchema,
    ObjectSchema,
    Page,
    RecordChange,
    RecordError,
    RecordWrite,
    TaskTarget,
    TaskWrite,
    WriteResult,
)
from connectors.errors import FatalError, PermissionDenied, SchemaError
from connectors.files_formats import (
    DELIMITERS,
    BadRow,
    CsvReader,
    FileRejected,
    Row,
    decoded_lines,
    jsonl_rows,
)
from handoff_sync.mapping.problems import did_you_mean
from handoff_sync.mapping.transforms import ValueProblem, read_bool, read_datetime
from handoff_sync.model import Owner, is_blank

log = structlog.get_logger("connectors.files")

SYSTEM = "files"
CHUNK = 1 << 16  # bytes per read: the file is hashed and parsed without being held
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
DESCRIBE_SAMPLE = 1000  # JSONL objects per file whose keys describe() collects
# Editors and spreadsheets leave these beside the files they have open.
_LOCK_PREFIXES = (".", "~$")


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


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row (or, with ``line`` 0, a whole file) that was skipped, and why."""

    file: str  # the file's name in the drop folder
    line: int  # where the row starts (1-based); 0: the file as a whole
    record_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class DropFile:
    """One finished export, identified by its content."""

    path: Path
    checksum: str  # sha256 of the bytes, hex
    size: int
    modified_at: datetime  # the file's modification time, UTC

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class FileRead:
    """What one file held: its changes in file order, and the rows that were skipped.

    ``rejected`` means nothing in the file was used (wrong encoding, ambiguous header,
    the file changed while it was read): do not record its checksum, so it is offered
    again once the file or the settings are fixed.
    """

    file: DropFile
    changes: tuple[RecordChange, ...]
    problems: tuple[RowProblem, ...]
    rejected: bool = False


@dataclass
class _FileState:
    """Per-file bookkeeping while rows stream past."""

    name: str
    file_time: datetime
    changes: dict[str, tuple[int, RecordChange]] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)

    def problem(self, line: int, message: str, record_id: str | None = None) -> None:
        self.problems.append(RowProblem(self.name, line, record_id, message))


class FileDropConnector:
    """Lists, reads and describes the exports in one drop folder."""

    system = SYSTEM

    def __init__(self, settings: FileDropSettings, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.usage = ApiUsage()
        self._clock = clock
        # (path, inode, size, mtime_ns) -> sha256: unchanged files are hashed only once
        # however many cycles they sit in the folder.
        self._checksums: dict[tuple[str, int, int, int], str] = {}
        self._described: dict[str, ObjectSchema] = {}

    # ------------------------------------------------------------------ listing

    def pending(self, seen_checksums: Collection[str]) -> list[DropFile]:
        """Finished exports whose content has not been handled, oldest first.

        Order is (modification time, name), so a later export of a registration wins.
        Of several files with the same content only the first is listed.
        """
        taken = set(seen_checksums)
        found: list[DropFile] = []
        live: dict[tuple[str, int, int, int], str] = {}
        for path, stat in self._settled_files():
            key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
            checksum = self._checksums.get(key)
            if checksum is None:
                try:
                    checksum = _sha256(path)
                except FileNotFoundError:
                    continue  # moved away since it was listed
                except PermissionError as exc:
                    raise _unreadable(path) from exc
            live[key] = checksum
            if checksum in taken:
                continue
            taken.add(checksum)
            found.append(DropFile(path, checksum, stat.st_size,
                                  datetime.fromtimestamp(stat.st_mtime, UTC)))
        self._checksums = live
        return found

    def _settled_files(self) -> list[tuple[Path, os.stat_result]]:
        folder = self.settings.folder
        patterns = [p.lower() for p in self.settings.patterns]
        now = self._clock()
        files: list[tuple[Path, os.stat_result]] = []
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError) as exc:
            what = "is not a folder" if folder.exists() else "does not exist"
            raise SchemaError(f"the file drop folder {folder} {what}; create it or point the "
                              "file drop's 'folder' setting at the folder the PRM exports "
                              "into", system=SYSTEM, code="FOLDER_MISSING") from exc
        except PermissionError as exc:
            raise _unreadable(folder) from exc
        for entry in entries:
            name = entry.name
            if name.startswith(_LOCK_PREFIXES) or not any(
                    fnmatchcase(name.lower(), p) for p in patterns):
                continue
            try:
                if not entry.is_file():
                    continue
                stat = entry.stat()
            except FileNotFoundError:
                continue
            if now - stat.st_mtime < self.settings.settle_seconds:
                continue  # still being written; next cycle
            files.append((Path(entry.path), stat))
        files.sort(key=lambda item: (item[1].st_mtime_ns, item[0].name))
        return files

    # ------------------------------------------------------------------ reading

    def read(self, file: DropFile) -> FileRead:
        """Every row of the file as a change, or a problem saying why it was skipped.

        Never raises for a bad row or a bad file; only an unreadable file (permissions)
        raises ``PermissionDenied``, because an admin must fix that.
        """
        self.usage.count("file")
        state = _FileState(file.name, file.modified_at)
        digest = hashlib.sha256()
        try:
            with file.path.open("rb") as handle:
                for item in self._rows(_chunks(handle, digest), file):
                    self.usage.count("row")
                    if isinstance(item, BadRow):
                        state.problem(item.line, item.message)
                    else:
                        self._take(state, item)
        except FileRejected as exc:
            return self._rejected(file, exc.line, exc.message)
        except FileNotFoundError:
            return self._rejected(file, 0, "the file disappeared before it was read")
        except PermissionError as exc:
            raise _unreadable(file.path) from exc
        except OSError as exc:  # e.g. an I/O error on a network share: try next cycle
            return self._rejected(file, 0, f"the file could not be read ({exc.strerror})")
        if digest.hexdigest() != file.checksum:
            return self._rejected(file, 0, "the file changed while it was being read; it "
                                  "is read again once it has settled")
        changes = tuple(change for _, change in state.changes.values())
        problems = tuple(sorted(state.problems, key=lambda p: p.line))
        log.info("file drop read", file=file.name, changes=len(changes),
                 problems=len(problems))
        return FileRead(file, changes, problems)

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
        except FileRejected as exc:
            raise FileRejected(exc.line, f"{exc.message}; the file was not read. Export it "
                               f"as UTF-8, or set the file drop's 'encoding' setting (now "
                               f"{self.settings.encoding!r}) to the encoding the PRM uses, "
                               "e.g. 'cp1252' for Windows exports") from exc

    def _check_columns(self, reader: CsvReader) -> None:
        if not reader.columns:
            return  # an empty file holds no rows to misread
        settings = self.settings
        wanted = [("id_field", settings.id_field), ("modified_field", settings.modified_field),
                  ("deleted_field", settings.deleted_field)]
        missing = [(setting, column) for setting, column in wanted
                   if column is not None and column not in reader.columns]
        if missing:
            setting, column = missing[0]
            hint = did_you_mean(column, reader.columns) or (
                f"columns: {', '.join(reader.columns[:12])}")
            raise FileRejected(reader.header_line, f"the header has no column '{column}' "
                               f"(the file drop's '{setting}' setting; {hint}); the file "
                               "was not read")

    def _take(self, state: _FileState, row: Row) -> None:
        change = self._change(state, row)
        if change is None:
            return
        earlier = state.changes.pop(change.id, None)
        if earlier is not None:
            state.problem(earlier[0], f"registration '{change.id}' appears again on line "
                          f"{row.line}; the later row is used", change.id)
        state.changes[change.id] = (row.line, change)

    def _change(self, state: _FileState, row: Row) -> RecordChange | None:
        settings = self.settings
        record_id = _record_id(row.fields.get(settings.id_field))
        if record_id is None:
            value = row.fields.get(settings.id_field)
            state.problem(row.line, f"no registration id in '{settings.id_field}'"
                          if is_blank(value) else f"the id in '{settings.id_field}' must be "
                          f"text or a whole number, found {value!r}")
            return None
        modified_at = state.file_time
        if settings.modified_field is not None:
            raw = row.fields.get(settings.modified_field)
            if not is_blank(raw):
                try:
                    modified_at = read_datetime(raw)
                except ValueProblem:
                    state.problem(row.line, f"'{settings.modified_field}' value {raw!r} is "
                                  "not a date and time (write it like 2026-03-31T14:05:00Z "
                                  "or in epoch milliseconds); row skipped", record_id)
                    return None
        deleted = False
        if settings.deleted_field is not None:
            raw = row.fields.get(settings.deleted_field)
            if not is_blank(raw):
                try:
                    deleted = read_bool(raw)
                except ValueProblem:
                    state.problem(row.line, f"'{settings.deleted_field}' value {raw!r} is not "
                                  "true or false (yes/no, 1/0 also work); row skipped rather "
                                  "than guess whether the registration was deleted",
                                  record_id)
                    return None
        return RecordChange(record_id, modified_at, row.fields, deleted)

    def _rejected(self, file: DropFile, line: int, message: str) -> FileRead:
        problem = RowProblem(file.name, line, None, message)
        log.warning("file drop rejected", file=file.name, problem=str(problem))
        return FileRead(file, (), (problem,), rejected=True)

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
        for path, _ in self._settled_files():
            try:
                found = self._names_in(path)
            except (FileRejected, FileNotFoundError):
                continue  # reported when the file is read
            except PermissionError as exc:
                raise _unreadable(path) from exc
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
        with path.open("rb") as handle:
            lines = self._decoded(_chunks(handle, None))
            if path.suffix.lower() not in JSONL_SUFFIXES:
                return list(CsvReader(lines, self.settings.delimiter).columns)
            keys: dict[str, None] = {}
            for count, item in enumerate(jsonl_rows(lines)):
                if count >= DESCRIBE_SAMPLE:
                    break
                if isinstance(item, Row):
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
            return f"{record_id!r} is not a file-drop id: ids are never blank or padded"
        if any(not ch.isprintable() for ch in record_id):
            return f"{record_id!r} is not a file-drop id: it holds a control character"
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

    def owners(self) -> list[Owner]:
        """A drop folder has no user list: nobody to look owner ids up in."""
        return []

    def start_cycle(self) -> None:
        """Forget the cached describe: the PRM may have added columns since."""
        self._described.clear()

    def close(self) -> None:
        """Nothing is held open between calls."""


def _read_only(ref: str, record_id: str | None) -> WriteResult:
    return WriteResult(ref, record_id, False, error=RecordError(
        "READ_ONLY", "a file drop is read-only: handoff-sync cannot write back to files"))


def _record_id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _chunks(handle: BinaryIO, digest: Any) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        if digest is not None:
            digest.update(chunk)
        yield chunk


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for _ in _chunks(handle, digest):
            pass
    return digest.hexdigest()


def _unreadable(path: Path) -> PermissionDenied:
    return PermissionDenied(f"cannot read {path}: give the daemon's user read access to the "
                            "file drop folder and its files, or remove the file",
                            system=SYSTEM, code="UNREADABLE")
