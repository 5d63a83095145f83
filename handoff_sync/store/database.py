"""Database URLs and engines: SQLite (one file, the default) or PostgreSQL (production).

SQLite runs in WAL mode with a busy timeout, so the status command can read while the
daemon writes, and write transactions start with ``BEGIN IMMEDIATE``: a transaction that
reads then writes (the lease check before recording a cycle) holds the write lock from
its first statement instead of failing half-way with "database is locked".

The SQLite file is a copy of CRM data (names, amounts, emails), so it is created owner-only
(0600) before SQLite opens it; SQLite gives its -wal, -shm and -journal files the
database file's mode. An existing file others may read or write is used, with a warning
saying the ``chmod`` that fixes it (``local_files``: one rule for every file we keep). A
full disk is worded as such (``reason``): nothing committed is lost, the failed
transaction is rolled back and the next cycle redoes it.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from handoff_sync.safety.local_files import disk_full_advice, warn_if_loose
from handoff_sync.store.types import StoreError

SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 10
_WRITE = "handoff_sync_write"  # execution option: begin with BEGIN IMMEDIATE on SQLite
_PASSWORD_IN_TEXT = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_DISK_FULL = ("database or disk is full", "no space left on device")


def sqlite_url_for(path: str | Path) -> str:
    """The SQLAlchemy URL of a SQLite file (absolute, so it does not depend on cwd)."""
    return f"sqlite:///{Path(path).expanduser().absolute()}"


def redact_url(url: str | URL) -> str:
    """The URL with its password replaced by ***, for messages and logs."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return _PASSWORD_IN_TEXT.sub(r"\1***@", str(url))
    return parsed.render_as_string(hide_password=True)


def parse_url(url: str) -> URL:
    """The URL, with the psycopg 3 driver filled in for plain ``postgresql://``."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {redact_url(url)!r}; use "
                         "sqlite:///path/to/file.db or postgresql://user@host:5432/db") from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend != "sqlite":
        raise StoreError(f"unsupported database {redact_url(parsed)}: handoff-sync stores its "
                         "state in SQLite or PostgreSQL")
    return parsed


def is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def create(url: URL) -> Engine:
    """An engine with the pragmas and transaction rules this module describes."""
    options: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        if is_memory(url):
            # One connection for the process: every new connection would be a new database.
            options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            _make_parent(Path(str(url.database)))
            _make_private(Path(str(url.database)).expanduser().absolute())
    else:
        # client_encoding: a database created SQL_ASCII (no encoding) would otherwise hand
        # text back as bytes, which SQLAlchemy and every query here expect as str.
        options["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S,
                                   "client_encoding": "utf8"}
        options["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **options)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"no driver for {redact_url(url)}: {exc}") from None
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _make_parent(path: Path) -> None:
    try:
        path.expanduser().absolute().parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the folder for the database {path}: "
                         f"{exc.strerror}") from None


def _make_private(path: Path) -> None:
    """Create the SQLite file owner-only, or warn when an existing one is readable by all."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # A copy of CRM data: private (see local_files), like its -wal and -shm files.
        warn_if_loose(path, "store (a copy of CRM data)", private=True, event="database_file",
                      chmod_paths=f"{path} {path}-wal {path}-shm",
                      when=" while the daemon is stopped")
        return
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise StoreError(f"cannot create the database {path}, the disk is full: "
                             f"{disk_full_advice('it')}") from None
        raise StoreError(f"cannot create the database {path}: {exc.strerror}") from None
    os.close(descriptor)


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver must not open transactions on its own: _sqlite_begin does it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; safe with WAL
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed when the block ends, rolled back on error."""
    with engine.connect() as connection:
        connection.execution_options(**{_WRITE: True})
        with connection.begin():
            yield connection


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A consistent read: one snapshot for all its queries (SQLite: a WAL read
    transaction, which never blocks the writer; PostgreSQL: REPEATABLE READ)."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            yield connection


def reason(exc: SQLAlchemyError) -> str:
    """The driver's first line of an error, without SQLAlchemy's boilerplate."""
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(original).strip().splitlines()
    first = text[0] if text else type(original).__name__
    if any(sign in first.lower() for sign in _DISK_FULL) or \
            getattr(original, "sqlite_errorcode", None) == 13:  # SQLITE_FULL
        return f"{first}: {disk_full_advice('the database')}"
    return first
