"""Bulk statements both backends run fast: chunked executemany inserts and upserts.

Upserts use the dialect's INSERT ... ON CONFLICT DO UPDATE (SQLite and PostgreSQL spell
it the same). Rows are de-duplicated by key first (the last one wins, as if applied in
order), because PostgreSQL refuses to update one row twice in one statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, any_, bindparam, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

CHUNK = 5_000  # rows per executemany: bounded memory, few round trips
DELETE_CHUNK = 500  # ids per IN list (SQLite allows 32766 variables; keep statements small)
PG_ARRAY_CHUNK = 50_000  # ids per PostgreSQL array parameter

Row = Mapping[str, Any]
# Given the proposed row (``excluded``) and the table, the columns to update on conflict.
SetClause = Callable[[Any, Table], Mapping[str, ColumnElement[Any] | Any]]


def dialect_insert(connection: Connection, table: Table) -> Any:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def unique_by(rows: Iterable[Row], keys: Sequence[str]) -> list[Row]:
    """The rows, one per key (the last one given wins)."""
    latest: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        latest[tuple(row[key] for key in keys)] = row
    return list(latest.values())


def insert_rows(connection: Connection, table: Table, rows: Sequence[Row]) -> None:
    for chunk in chunks(rows, CHUNK):
        connection.execute(table.insert(), list(chunk))


def upsert(connection: Connection, table: Table, rows: Iterable[Row], keys: Sequence[str],
           *, set_: SetClause | None = None) -> int:
    """Insert the rows, or update the ones whose key exists; the number of rows given.

    Without ``set_`` every non-key column of the row is overwritten.
    """
    unique = unique_by(rows, keys)
    if not unique:
        return 0
    statement = dialect_insert(connection, table)
    if set_ is None:
        columns = [name for name in unique[0] if name not in keys]
        update = {name: statement.excluded[name] for name in columns}
    else:
        update = dict(set_(statement.excluded, table))
    statement = (statement.on_conflict_do_update(index_elements=list(keys), set_=update)
                 if update else statement.on_conflict_do_nothing(index_elements=list(keys)))
    for chunk in chunks(unique, CHUNK):
        connection.execute(statement, list(chunk))
    return len(unique)


def delete_ids(connection: Connection, table: Table, fixed: Mapping[str, Any], column: str,
               ids: Iterable[Any]) -> None:
    """Delete the rows whose ``fixed`` columns match and whose ``column`` is in ``ids``.

    PostgreSQL gets one array parameter per statement: with a long IN list on a freshly
    filled table (no statistics yet) its planner scans the whole pipeline's rows once per
    statement, which turned 50,000 deletions into minutes.
    """
    wanted = sorted(set(ids))
    where = [table.c[name] == value for name, value in fixed.items()]
    target = table.c[column]
    if connection.dialect.name == "postgresql":
        for chunk in chunks(wanted, PG_ARRAY_CHUNK):
            ids_param = bindparam("ids", list(chunk), type_=postgresql.ARRAY(target.type))
            connection.execute(delete(table).where(*where, target == any_(ids_param)))
        return
    for chunk in chunks(wanted, DELETE_CHUNK):
        connection.execute(delete(table).where(*where, target.in_(list(chunk))))
