"""Schema revisions: Alembic, configured in code, over the top-level ``migrations`` folder.

No alembic.ini is needed at run time: the script location is the installed ``migrations``
folder, found by path (its import spec, never imported: the revisions import the store,
so importing them from here would make a cycle) and the connection is handed to
``migrations/env.py`` through ``config.attributes["connection"]``, so `handoff-sync
migrate`, the daemon's start-up check and the tests all take the same path.
"""

from __future__ import annotations

from functools import cache
from importlib.util import find_spec
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

# Two replicas starting `migrate` at once on PostgreSQL: the second waits, then finds the
# schema current. (An arbitrary constant, unique to handoff-sync's migrations.)
_PG_MIGRATE_LOCK = 0x68616E646F6666


def script_location() -> Path:
    spec = find_spec("migrations")
    if spec is None or spec.origin is None:  # pragma: no cover - installed with the package
        raise RuntimeError("the migrations folder is not installed beside handoff_sync")
    return Path(spec.origin).resolve().parent


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = scripts().get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("the migrations package holds no revisions")
    return head


def revision_label(revision: str) -> str:
    """``0001_initial``: the revision's file name, as people see it in the folder."""
    script = scripts().get_revision(revision)
    return Path(script.path).stem if script is not None and script.path else revision


def known(revision: str) -> bool:
    return any(script.revision == revision for script in scripts().walk_revisions())


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection) -> list[str]:
    """Bring the schema to head inside the caller's transaction; the revisions applied."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": _PG_MIGRATE_LOCK})
    before = current_revision(connection)
    head = head_revision()
    if before == head:
        return []
    pending = [script.revision for script in scripts().iterate_revisions(head, before)]
    command.upgrade(alembic_config(connection), "head")
    return list(reversed(pending))
