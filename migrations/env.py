"""Alembic environment of the handoff-sync store.

The store hands its open connection in ``config.attributes["connection"]`` (inside a
transaction it commits); the ``alembic`` command line, for developers writing a new
revision, gets a URL from alembic.ini's ``sqlalchemy.url`` instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from handoff_sync.store import database
from handoff_sync.store.schema import Base

config = context.config
DEFAULT_URL = "sqlite:///handoff-sync.db"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=Base.metadata, compare_type=True,
        # SQLite alters tables by copying them; later revisions get that for free.
        render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """`alembic upgrade head --sql`: print the SQL instead of running it."""
    context.configure(url=config.get_main_option("sqlalchemy.url") or DEFAULT_URL,
                      target_metadata=Base.metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = database.parse_url(config.get_main_option("sqlalchemy.url") or DEFAULT_URL)
    engine = database.create(url)
    try:
        with database.write_transaction(engine) as own:
            _run(own)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
