"""What `handoff-sync status` shows per pipeline, read from the store as JSON-safe data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from handoff_sync.engine.serialise import to_jsonable
from handoff_sync.store.codec import decode, decode_map
from handoff_sync.store.leases import pipeline_lease
from handoff_sync.store.reviews import ReviewStatus
from handoff_sync.store.schema import (
    Checkpoint,
    ConflictRow,
    Lease,
    LinkRow,
    PipelineMeta,
    ReviewRow,
    SyncError,
    SyncRun,
    TaskRow,
    table,
)
from handoff_sync.store.types import COMPLETED_OUTCOMES, CycleHealth, RunOutcome

RUNS_SHOWN = 10
ERRORS_SHOWN = 20
CONFLICTS_SHOWN = 10


def pipelines(connection: Connection) -> list[str]:
    """Every pipeline the store has seen a run or a recorded cycle of."""
    runs, meta = table(SyncRun), table(PipelineMeta)
    names = set(connection.execute(select(runs.c.pipeline).distinct()).scalars())
    names.update(connection.execute(select(meta.c.pipeline)).scalars())
    return sorted(names)


def pipeline_status(connection: Connection, pipeline: str, now: datetime, *,
                    errors_shown: int = ERRORS_SHOWN) -> dict[str, Any]:
    lease = _lease(connection, pipeline, now)
    runs = _runs(connection, pipeline, stale_possible=not (lease and lease["held"]))
    meta = connection.execute(select(table(PipelineMeta)).where(
        table(PipelineMeta).c.pipeline == pipeline)).first()
    budget = next((run["api_calls"] for run in runs
                   if run["outcome"] != RunOutcome.RUNNING and run["api_calls"]), None)
    return to_jsonable({
        "pipeline": pipeline,
        "lease": lease,
        "runs": runs,
        "checkpoints": _checkpoints(connection, pipeline),
        "mappings_hash": meta.mappings_hash if meta else None,
        "last_full_at": meta.last_full_at if meta else None,
        "drift": dict(meta.drift) if meta else {},
        "errors": _errors(connection, pipeline, now, errors_shown),
        "reviews": {"open": _count_by(connection, table(ReviewRow), "kind", pipeline,
                                      status=ReviewStatus.OPEN.value)},
        "conflicts": _conflicts(connection, pipeline),
        "tasks": {status: _count_by(connection, table(TaskRow), "status", pipeline)
                  .get(status, 0) for status in ("open", "done")},
        "links": connection.execute(select(func.count()).select_from(table(LinkRow)).where(
            table(LinkRow).c.pipeline == pipeline)).scalar_one(),
        "api_calls": budget,
        "health": _health_json(cycle_health(connection, pipeline)),
    })


def _health_json(health: CycleHealth) -> dict[str, Any]:
    return {"consecutive_failures": health.consecutive_failures,
            "last_success_at": health.last_success_at,
            "last_failure_at": health.last_failure_at, "last_failure": health.last_failure,
            "open_errors": health.open_errors}


def _lease(connection: Connection, pipeline: str, now: datetime) -> dict[str, Any] | None:
    leases = table(Lease)
    row = connection.execute(select(leases).where(
        leases.c.name == pipeline_lease(pipeline))).first()
    if row is None:
        return None
    return {"holder": row.holder, "expires_at": row.expires_at, "held": row.expires_at > now}


def _runs(connection: Connection, pipeline: str, *, stale_possible: bool) -> list[dict[str, Any]]:
    runs = table(SyncRun)
    query = (select(runs).where(runs.c.pipeline == pipeline)
             .order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(RUNS_SHOWN))
    shown = []
    for row in connection.execute(query).mappings():
        run = dict(row)
        run["api_calls"] = decode_map(row["api_calls"] or {})
        run["duration_s"] = (round((row["ended_at"] - row["started_at"]).total_seconds(), 3)
                             if row["ended_at"] else None)
        # A run still marked running while nobody holds the pipeline's lease: its daemon
        # died mid-cycle (nothing of it was recorded but this row).
        run["stale"] = stale_possible and row["outcome"] == RunOutcome.RUNNING
        shown.append(run)
    return shown


def _checkpoints(connection: Connection, pipeline: str) -> list[dict[str, Any]]:
    checkpoints = table(Checkpoint)
    query = (select(checkpoints).where(checkpoints.c.pipeline == pipeline)
             .order_by(checkpoints.c.system, checkpoints.c.object))
    return [{"system": row.system, "object": row.object, "modified_at": row.modified_at,
             "last_id": row.last_id, "updated_at": row.updated_at}
            for row in connection.execute(query)]


def _errors(connection: Connection, pipeline: str, now: datetime,
            shown: int) -> dict[str, Any]:
    errors = table(SyncError)
    mine = errors.c.pipeline == pipeline
    count = connection.execute(select(func.count()).select_from(errors).where(mine)).scalar_one()
    due = connection.execute(select(func.count()).select_from(errors).where(
        mine, errors.c.next_retry_at <= now)).scalar_one()
    query = (select(errors).where(mine)
             .order_by(errors.c.next_retry_at, errors.c.role, errors.c.record_id)
             .limit(shown))
    items = [{"role": row.role, "record": row.record_id, "kind": row.kind,
              "system": row.system, "object": row.object, "deal": row.deal, "code": row.code,
              "message": row.message, "fields": list(row.fields or ()),
              "retriable": row.retriable, "attempts": row.attempts,
              "first_seen": row.first_seen, "last_seen": row.last_seen,
              "next_retry_at": row.next_retry_at}
             for row in connection.execute(query)]
    return {"count": count, "retry_due": due, "items": items}


def _count_by(connection: Connection, rows: Any, column: str, pipeline: str,
              **where: str) -> dict[str, int]:
    query = (select(rows.c[column], func.count()).where(
        rows.c.pipeline == pipeline, *(rows.c[name] == value for name, value in where.items()))
        .group_by(rows.c[column]))
    return {name: count for name, count in connection.execute(query)}


def _conflicts(connection: Connection, pipeline: str) -> dict[str, Any]:
    conflicts = table(ConflictRow)
    mine = conflicts.c.pipeline == pipeline
    count = connection.execute(
        select(func.count()).select_from(conflicts).where(mine)).scalar_one()
    query = (select(conflicts).where(mine)
             .order_by(conflicts.c.recorded_at.desc(), conflicts.c.id.desc())
             .limit(CONFLICTS_SHOWN))
    last = [{"deal": row.deal, "field": row.field, "policy": row.policy,
             "winner": row.winner, "kept": decode(row.kept), "lost": decode(row.lost),
             "recorded_at": row.recorded_at, "run_id": row.run_id}
            for row in connection.execute(query)]
    return {"count": count, "last": last}


def cycle_health(connection: Connection, pipeline: str) -> CycleHealth:
    """The failing streak since the last completed run, that run's end and the open
    per-record errors: three indexed queries, cheap enough for a probe every few seconds."""
    runs, errors = table(SyncRun), table(SyncError)
    mine = runs.c.pipeline == pipeline
    completed = [outcome.value for outcome in COMPLETED_OUTCOMES]
    last = connection.execute(
        select(runs.c.started_at, runs.c.ended_at).where(mine, runs.c.outcome.in_(completed))
        .order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(1)).first()
    failed = [mine, runs.c.outcome == RunOutcome.FAILED.value]
    if last is not None:
        failed.append(runs.c.started_at > last.started_at)
    count = connection.execute(select(func.count()).select_from(runs).where(*failed)
                               ).scalar_one()
    newest = connection.execute(
        select(runs.c.ended_at, runs.c.message).where(*failed)
        .order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(1)).first()
    open_errors = connection.execute(select(func.count()).select_from(errors).where(
        errors.c.pipeline == pipeline)).scalar_one()
    return CycleHealth(pipeline=pipeline, consecutive_failures=int(count),
                       last_success_at=last.ended_at if last else None,
                       last_failure_at=newest.ended_at if newest else None,
                       last_failure=newest.message if newest else None,
                       open_errors=int(open_errors))
