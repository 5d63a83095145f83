"""Leases: which replica runs a pipeline. One row per lease name, taken atomically.

A holder renews its lease well before it expires; a replica that dies stops renewing and
another takes the lease once ``expires_at`` has passed. Taking is one conditional UPDATE
(or, for a new name, an INSERT that does nothing on conflict), so of two replicas racing
for one lease exactly one wins, on PostgreSQL and on SQLite. A cycle is recorded only
while its replica still holds the lease (``check_held``, in the recording transaction).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, delete, or_, select, update

from handoff_sync.store.bulk import dialect_insert
from handoff_sync.store.database import read_transaction, write_transaction
from handoff_sync.store.schema import Lease, table
from handoff_sync.store.types import LeaseLost, StoreError

_TABLE = table(Lease)


def pipeline_lease(pipeline: str) -> str:
    """The lease name a daemon holds while it runs ``pipeline``."""
    return f"pipeline:{pipeline}"


def try_lease(engine: Engine, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Acquire the lease or renew it; False when another holder's lease is still valid."""
    if ttl <= timedelta(0):
        raise StoreError(f"a lease needs a positive time to live (got {ttl})")
    expires_at = now + ttl
    with write_transaction(engine) as connection:
        taken = connection.execute(
            update(_TABLE)
            .where(_TABLE.c.name == name,
                   or_(_TABLE.c.holder == holder, _TABLE.c.expires_at <= now))
            .values(holder=holder, expires_at=expires_at))
        if taken.rowcount == 1:
            return True
        created = connection.execute(
            dialect_insert(connection, _TABLE)
            .values(name=name, holder=holder, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(_TABLE.c.name))
        return created.first() is not None


def release_lease(engine: Engine, name: str, holder: str) -> None:
    """Give the lease up (only if ``holder`` has it), so another replica need not wait."""
    with write_transaction(engine) as connection:
        connection.execute(delete(_TABLE).where(_TABLE.c.name == name,
                                                _TABLE.c.holder == holder))


def lease(engine: Engine, name: str) -> tuple[str, datetime] | None:
    """(holder, expires at) as stored, expired or not; None when nobody ever took it."""
    with read_transaction(engine) as connection:
        row = connection.execute(select(_TABLE.c.holder, _TABLE.c.expires_at)
                                 .where(_TABLE.c.name == name)).first()
    return (row.holder, row.expires_at) if row is not None else None


def check_held(connection: Connection, name: str, holder: str, now: datetime) -> None:
    """LeaseLost unless ``holder`` holds the lease at ``now``. On PostgreSQL the row stays
    locked until the caller's transaction ends, so nobody takes it over mid-transaction
    (SQLite's write transaction already excludes every other writer)."""
    query = select(_TABLE.c.holder, _TABLE.c.expires_at).where(_TABLE.c.name == name)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        raise LeaseLost(f"{holder} does not hold the lease {name!r} (nobody does): "
                        "the cycle was not recorded")
    if row.holder != holder:
        raise LeaseLost(f"the lease {name!r} is held by {row.holder} (until "
                        f"{row.expires_at.isoformat()}), not {holder}: the cycle was not "
                        "recorded")
    if row.expires_at <= now:
        raise LeaseLost(f"the lease {name!r} of {holder} expired at "
                        f"{row.expires_at.isoformat()}: the cycle was not recorded")


REPLICA_PREFIX = "replica:"


def replica_lease(holder: str) -> str:
    """The lease a running daemon replica renews while it lives (whatever pipelines it
    runs), so others can tell that a daemon serves this database."""
    return f"{REPLICA_PREFIX}{holder}"


def live_replicas(engine: Engine, now: datetime) -> list[str]:
    """The holders of unexpired replica leases: the daemons running against this database."""
    with read_transaction(engine) as connection:
        return live_replicas_in(connection, now)


def live_replicas_in(connection: Connection, now: datetime) -> list[str]:
    """``live_replicas`` inside the caller's transaction."""
    return list(connection.execute(
        select(_TABLE.c.holder).where(_TABLE.c.name.startswith(REPLICA_PREFIX),
                                      _TABLE.c.expires_at > now)
        .order_by(_TABLE.c.holder)).scalars())
