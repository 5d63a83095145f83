"""The mapping audit log: one row per saved edit of a mappings folder, newest first when
read. Written by whoever saves (the console); never updated or deleted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from handoff_sync.engine.serialise import to_jsonable
from handoff_sync.store.schema import MappingAuditRow, table

AUDIT = table(MappingAuditRow)


def record_edit(connection: Connection, folder: str, *, at: datetime, by: str,
                summary: str, diff: Mapping[str, str]) -> int:
    """Add one entry; its id."""
    result = connection.execute(insert(AUDIT).values(
        folder=folder, at=at, by=by, summary=summary, diff=dict(diff)))
    key = result.inserted_primary_key
    return int(key[0]) if key else 0


def list_edits(connection: Connection, folder: str | None = None, *,
               limit: int = 100) -> list[dict[str, Any]]:
    """Entries (JSON-safe), newest first."""
    query = select(AUDIT).order_by(AUDIT.c.at.desc(), AUDIT.c.id.desc()).limit(limit)
    if folder is not None:
        query = query.where(AUDIT.c.folder == folder)
    return [{key: to_jsonable(value) for key, value in row.items()}
            for row in connection.execute(query).mappings()]
