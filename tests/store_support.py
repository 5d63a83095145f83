"""Store test support: fresh databases on both backends, and the ``store_url`` fixture.

Every store test runs on SQLite and on PostgreSQL (one parametrised fixture, as
APScheduler runs one data store suite over its backends). Each test gets a database of
its own: a SQLite file in a temporary folder, or a PostgreSQL database created for it
and dropped afterwards. Without a reachable PostgreSQL the PostgreSQL cases are skipped
on a developer machine and fail in CI (env CI set), so CI cannot go green by skipping.

    pytest_plugins = ("tests.store_support",)  # in a test module: store_url and store

``fresh_database_url`` is the same thing as a context manager, for tests that need a
database outside a fixture (e.g. for a daemon subprocess).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from handoff_sync.store import Store, sqlite_url_for

BACKENDS = ("sqlite", "postgresql")
# The admin connection that creates and drops test databases (trust auth, user postgres).
PG_ADMIN_URL = os.environ.get("HANDOFF_SYNC_TEST_PG",
                              "postgresql://postgres@127.0.0.1:5432/test")


@cache
def postgres_problem(admin_url: str) -> str | None:
    """Why PostgreSQL at ``admin_url`` cannot be used for tests, or None when it can."""
    try:
        with psycopg.connect(admin_url, connect_timeout=5, autocommit=True) as admin:
            admin.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {admin_url} is unreachable: {str(exc).strip().splitlines()[0]}"
    return None


def require_postgres(admin_url: str | None = None) -> None:
    """Skip without PostgreSQL, except in CI, where its absence is a failure."""
    problem = postgres_problem(admin_url or PG_ADMIN_URL)
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{problem} (CI must run the PostgreSQL store tests)")
    pytest.skip(problem)


def _database_url(name: str) -> str:
    info = conninfo_to_dict(PG_ADMIN_URL)
    user = info.get("user") or "postgres"
    host = info.get("host") or "127.0.0.1"
    port = info.get("port") or "5432"
    return f"postgresql+psycopg://{user}@{host}:{port}/{name}"


@contextmanager
def fresh_database_url(backend: str, folder: Path | None = None) -> Iterator[str]:
    """The URL of a new, empty database, removed when the block ends.

    ``backend`` is "sqlite" (a file in ``folder``, or in a temporary folder) or
    "postgresql" (a database named hs_<random hex>, dropped WITH (FORCE) afterwards, so
    a daemon subprocess still connected does not keep it alive).
    """
    if backend == "sqlite":
        if folder is not None:
            yield sqlite_url_for(folder / f"hs_{secrets.token_hex(4)}.db")
            return
        with tempfile.TemporaryDirectory(prefix="hs-store-") as temporary:
            yield sqlite_url_for(Path(temporary) / "handoff-sync.db")
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}: use one of {BACKENDS}")
    require_postgres()
    name = f"hs_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _database_url(name)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend (not migrated)."""
    with fresh_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store on each backend."""
    opened = Store.connect(store_url)
    opened.migrate()
    try:
        yield opened
    finally:
        opened.close()
