"""CRM claims: which pipelines write outputs and tasks to which CRM object of which org.

Two pipelines writing one object of one org would each add their own follow-up tasks to
the records both see. The config check compares connection settings; the org itself is
known only once a connector has logged in (its key is the API budget's: a Salesforce
instance URL, a HubSpot portal id). So each cycle claims (org, object) for its pipeline
here, and the sync refuses the cycle when an older claim of another pipeline may overlap.

One row per pipeline: a claim moves with the pipeline's connection, and a pipeline that
stops writing releases its row. ``claim`` writes its row and reads the others in one
transaction that claimants take one at a time (SQLite's BEGIN IMMEDIATE; a table lock on
PostgreSQL), so of two pipelines claiming at once the second always sees the first. A
claim not renewed within ``ttl`` has expired: it is deleted by the next claim, and a
pipeline renewing an expired claim starts a new one (it queues behind live ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, text, update

from handoff_sync.store.bulk import dialect_insert
from handoff_sync.store.database import write_transaction
from handoff_sync.store.schema import CrmClaim, table

_TABLE = table(CrmClaim)


@dataclass(frozen=True, slots=True)
class Claim:
    """One pipeline's claim on a CRM object of an org."""

    pipeline: str
    org: str
    object: str
    scope: Mapping[str, str]
    claimed_at: datetime


def claim(engine: Engine, pipeline: str, org: str, object_name: str,
          scope: Mapping[str, str], now: datetime, ttl: timedelta) -> tuple[Claim, list[Claim]]:
    """Claim ``object_name`` of ``org`` for ``pipeline`` (or renew its claim); return it
    and the other live claims on the same object of the same org."""
    obj = object_name.lower()
    stale = now - ttl
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":  # claimants one at a time
            connection.execute(text("LOCK TABLE crm_claims IN SHARE ROW EXCLUSIVE MODE"))
        connection.execute(delete(_TABLE).where(_TABLE.c.renewed_at <= stale,
                                                _TABLE.c.pipeline != pipeline))
        mine = connection.execute(select(_TABLE).where(_TABLE.c.pipeline == pipeline)).first()
        renewing = mine is not None and mine.org == org and mine.object == obj \
            and mine.renewed_at > stale
        claimed_at = mine.claimed_at if renewing and mine is not None else now
        values = {"org": org, "object": obj, "scope": dict(scope), "claimed_at": claimed_at,
                  "renewed_at": now}
        if mine is None:
            connection.execute(dialect_insert(connection, _TABLE).values(
                pipeline=pipeline, **values))
        else:
            connection.execute(update(_TABLE).where(_TABLE.c.pipeline == pipeline)
                               .values(**values))
        others = connection.execute(
            select(_TABLE).where(_TABLE.c.org == org, _TABLE.c.object == obj,
                                 _TABLE.c.pipeline != pipeline)
            .order_by(_TABLE.c.claimed_at, _TABLE.c.pipeline)).all()
    return (Claim(pipeline, org, obj, dict(scope), claimed_at),
            [Claim(row.pipeline, row.org, row.object, dict(row.scope), row.claimed_at)
             for row in others])


def release(engine: Engine, pipeline: str) -> None:
    """Drop ``pipeline``'s claim (it writes no outputs or tasks now)."""
    with write_transaction(engine) as connection:
        connection.execute(delete(_TABLE).where(_TABLE.c.pipeline == pipeline))
