"""Sync requests: a person asks for a cycle of a pipeline now ("sync now" in the console).

A request is a row: ``pending`` when asked for, ``running`` once a daemon replica claimed
it, ``done`` with the cycle's run id and outcome. Asking again while a request of the
pipeline is still pending gives that request back (one cycle serves both). Claiming is
one conditional UPDATE that stamps the rows with the claimer's token, so of two replicas
claiming at once each row goes to exactly one; the daemon claims only after taking the
pipeline's lock and lease, so the claimer is the replica that runs the cycle.

A running request whose replica died (its presence lease ``replica:<holder>`` lapsed), or
whose replica could not record the outcome, would stay running for ever: ``close_abandoned``
closes those (``done``, ``interrupted``), so the pipeline can be asked for again.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, insert, or_, select, update

from handoff_sync.engine.serialise import to_jsonable
from handoff_sync.store.schema import SyncRequestRow, table

REQUESTS = table(SyncRequestRow)
PENDING, RUNNING, DONE = "pending", "running", "done"
ABANDONED = "the replica running it stopped before recording the outcome; ask again"


def ask(connection: Connection, pipeline: str, *, full: bool, by: str,
        now: datetime) -> int:
    """A new pending request's id, or the id of the pipeline's request still pending (a
    full cycle asked for upgrades it)."""
    pending = connection.execute(
        select(REQUESTS.c.id, REQUESTS.c.full)
        .where(REQUESTS.c.pipeline == pipeline, REQUESTS.c.status == PENDING)
        .order_by(REQUESTS.c.id).limit(1)).first()
    if pending is not None:
        if not full or pending.full:
            return int(pending.id)
        upgraded = connection.execute(
            update(REQUESTS).where(REQUESTS.c.id == pending.id, REQUESTS.c.status == PENDING)
            .values(full=True))
        if upgraded.rowcount == 1:
            return int(pending.id)
        # A replica claimed it meanwhile for a cycle that may be incremental: a new one.
    result = connection.execute(insert(REQUESTS).values(
        pipeline=pipeline, full=full, requested_at=now, requested_by=by, status=PENDING))
    key = result.inserted_primary_key
    return int(key[0]) if key else 0


def pending_pipelines(connection: Connection) -> list[str]:
    """The pipelines with a request nobody has claimed yet."""
    return sorted(connection.execute(
        select(REQUESTS.c.pipeline).where(REQUESTS.c.status == PENDING).distinct()).scalars())


def claim(connection: Connection, pipeline: str, *, holder: str, token: str,
          now: datetime) -> list[dict[str, Any]]:
    """Claim every pending request of ``pipeline`` for ``holder`` (``token`` unique to this
    claim); the rows claimed, none when another replica was first."""
    connection.execute(
        update(REQUESTS).where(REQUESTS.c.pipeline == pipeline, REQUESTS.c.status == PENDING)
        .values(status=RUNNING, claim=token, claimed_by=holder, claimed_at=now))
    return _rows(connection, select(REQUESTS).where(REQUESTS.c.claim == token)
                 .order_by(REQUESTS.c.id))


def close_abandoned(connection: Connection, *, live: Collection[str], now: datetime,
                    pipeline: str | None = None, holder: str | None = None) -> int:
    """Close the running requests whose claimer is not among the ``live`` replicas, and
    (with ``pipeline`` and ``holder``) ``holder``'s own running requests of ``pipeline``:
    called under the pipeline's lock, no cycle of that replica serves them any more. How
    many were closed."""
    stale: ColumnElement[bool] = REQUESTS.c.claimed_by.not_in(list(live))
    if pipeline is not None and holder is not None:
        stale = or_(stale, and_(REQUESTS.c.pipeline == pipeline,
                                REQUESTS.c.claimed_by == holder))
    closed = connection.execute(
        update(REQUESTS).where(REQUESTS.c.status == RUNNING, stale)
        .values(status=DONE, finished_at=now, outcome="interrupted", message=ABANDONED))
    return int(closed.rowcount or 0)


def finish(connection: Connection, token: str, *, now: datetime, outcome: str,
           run_id: str | None, message: str | None) -> None:
    """Close the requests of one claim with the cycle's outcome."""
    connection.execute(
        update(REQUESTS).where(REQUESTS.c.claim == token, REQUESTS.c.status == RUNNING)
        .values(status=DONE, finished_at=now, outcome=outcome, run_id=run_id,
                message=message))


def unclaim(connection: Connection, token: str) -> None:
    """Make one claim's running requests pending again (its replica lost the lease)."""
    connection.execute(
        update(REQUESTS).where(REQUESTS.c.claim == token, REQUESTS.c.status == RUNNING)
        .values(status=PENDING, claim=None, claimed_by=None, claimed_at=None))


def one(connection: Connection, request_id: int) -> dict[str, Any] | None:
    rows = _rows(connection, select(REQUESTS).where(REQUESTS.c.id == request_id))
    return rows[0] if rows else None


def latest(connection: Connection, pipeline: str, *, limit: int = 5) -> list[dict[str, Any]]:
    """The pipeline's newest requests first."""
    return _rows(connection, select(REQUESTS).where(REQUESTS.c.pipeline == pipeline)
                 .order_by(REQUESTS.c.id.desc()).limit(limit))


def _rows(connection: Connection, query: Any) -> list[dict[str, Any]]:
    return [{key: to_jsonable(value) for key, value in row.items() if key != "claim"}
            for row in connection.execute(query).mappings()]
