"""Recording one cycle: everything a ``CycleOutcome`` says, in the caller's transaction.

Only what was done advances: base snapshots of deals whose writes all succeeded, ledger
rows of tasks whose upsert succeeded. Everything else in the plan stays as it was, so
the next cycle plans it again (safe: writes are idempotent). The order of the steps does
not matter to readers, who see the whole transaction or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, case, delete, func, select, update

from handoff_sync.engine.types import LinkChangeKind, Plan, deal_key
from handoff_sync.model import TaskStatus
from handoff_sync.store import bulk, packing
from handoff_sync.store.backoff import NOT_RETRIABLE_DELAY, backoff
from handoff_sync.store.codec import dictionary_samples, encode_map
from handoff_sync.store.packing import dictionary_for
from handoff_sync.store.partners import record_partners
from handoff_sync.store.reviews import record_reviews
from handoff_sync.store.rows import (
    base_data,
    base_row,
    baseline_row,
    checkpoint_row,
    clock_row,
    conflict_row,
    decision_row,
    link_row,
    mirror_row,
    sla_event_row,
    task_row,
    verdict_fields,
)
from handoff_sync.store.schema import (
    BaselineRow,
    BaseRow,
    Checkpoint,
    ClockRow,
    ConflictRow,
    DecisionRow,
    GateHistoryRow,
    LinkRow,
    MirrorRow,
    PipelineMeta,
    SlaEventRow,
    SyncError,
    SyncRun,
    TaskRow,
    VerdictRow,
    table,
)
from handoff_sync.store.serial import bump_serial
from handoff_sync.store.types import (
    CycleOutcome,
    FailureKind,
    MirrorRecord,
    RecordFailure,
    ReviewChanges,
    RunKind,
    RunOutcome,
    StoreError,
)

COUNTS = ("records_read", "records_written", "tasks_created", "tasks_updated", "tasks_closed")


def record_cycle(connection: Connection, outcome: CycleOutcome, *,
                 holder: str | None = None) -> ReviewChanges:
    pipeline, now, plan = outcome.pipeline, outcome.ended_at, outcome.plan
    _links(connection, pipeline, plan, now)
    _bases(connection, outcome)
    _tasks(connection, outcome)
    bulk.upsert(connection, table(ClockRow), [clock_row(pipeline, c) for c in plan.clocks],
                ["pipeline", "deal", "handoff_type", "clock"])
    _verdicts(connection, outcome)
    bulk.insert_rows(connection, table(SlaEventRow),
                     [sla_event_row(pipeline, outcome.run_id, now, e) for e in plan.sla_events])
    bulk.insert_rows(connection, table(ConflictRow),
                     [conflict_row(pipeline, outcome.run_id, now, c) for c in plan.conflicts])
    # In plan order: a deal rejected and re-submitted in one cycle keeps that order by id.
    bulk.insert_rows(connection, table(DecisionRow),
                     [decision_row(pipeline, outcome.run_id, now, d) for d in plan.decisions])
    _baselines(connection, outcome)
    reviews = record_reviews(connection, pipeline, plan.reviews, now, plan.planned_deals,
                             outcome.review_names)
    _mirror(connection, outcome)
    if outcome.partners is not None:  # before the checkpoint that moves past them
        record_partners(connection, pipeline, outcome.partners, now)
    bulk.upsert(connection, table(Checkpoint),
                [checkpoint_row(pipeline, system, object_, cursor, now)
                 for (system, object_), cursor in outcome.checkpoints.items()],
                ["pipeline", "system", "object"])
    _meta(connection, outcome)
    _errors(connection, outcome)
    _run(connection, outcome, holder)
    bump_serial(connection, pipeline)
    return reviews


def _links(connection: Connection, pipeline: str, plan: Plan, now: datetime) -> None:
    final: dict[str, Any] = {}  # prm id -> the link, or None when removed (plan order)
    for change in plan.links:
        final[change.link.prm_id] = (change.link if change.kind is LinkChangeKind.CREATE
                                     else None)
    bulk.delete_ids(connection, table(LinkRow), {"pipeline": pipeline}, "prm_id",
                    [prm_id for prm_id, link in final.items() if link is None])
    bulk.upsert(connection, table(LinkRow),
                [link_row(pipeline, link, now) for link in final.values() if link is not None],
                ["pipeline", "prm_id"],
                # A link that is re-stated keeps the time it was first made.
                set_=lambda new, _t: {name: new[name]
                                      for name in ("crm_id", "method", "confidence")})
    # An opportunity planned alone until now (its registration not read yet, e.g. behind
    # HubSpot's search lag) is part of the linked deal from here: its lone deal's verdict,
    # base and clocks go, or a report would count the opportunity twice.
    absorbed = [deal_key(None, link.crm_id) for link in final.values() if link is not None]
    for row in (VerdictRow, BaseRow, ClockRow, BaselineRow):
        bulk.delete_ids(connection, table(row), {"pipeline": pipeline}, "deal", absorbed)


def _bases(connection: Connection, outcome: CycleOutcome) -> None:
    bases = [base for base in outcome.plan.bases if base.deal in outcome.written_deals]
    if not bases:
        return
    dictionary = dictionary_for(connection, outcome.pipeline, packing.BASES,
                                lambda: [base_data(base) for base in dictionary_samples(bases)],
                                outcome.ended_at)
    bulk.upsert(connection, table(BaseRow),
                [base_row(outcome.pipeline, base, outcome.ended_at, dictionary)
                 for base in bases], ["pipeline", "deal"])


def _tasks(connection: Connection, outcome: CycleOutcome) -> None:
    rows = [task_row(outcome.pipeline, action.task, action.deal,
                     outcome.task_ids[action.task.key], outcome.ended_at)
            for action in outcome.plan.tasks if action.task.key in outcome.task_ids]
    # The ledger holds what was last written. A task id the system did not report again
    # keeps the one on record; a person's closing stands unless the task was written
    # open again (the engine never does that; a race with the person could).
    bulk.upsert(connection, table(TaskRow), rows, ["pipeline", "task_key"],
                set_=lambda new, t: {
                    "deal": new.deal, "spec": new.spec, "status": new.status,
                    "updated_at": new.updated_at,
                    "system_task_id": func.coalesce(new.system_task_id, t.c.system_task_id),
                    "closed_by_user": case((new.status == TaskStatus.OPEN.value, False),
                                           else_=t.c.closed_by_user)})
    if outcome.closed_by_user:
        tasks = table(TaskRow)
        for chunk in bulk.chunks(sorted(outcome.closed_by_user), bulk.DELETE_CHUNK):
            connection.execute(
                update(tasks)
                .where(tasks.c.pipeline == outcome.pipeline, tasks.c.task_key.in_(list(chunk)))
                .values(closed_by_user=True, status=TaskStatus.DONE.value,
                        updated_at=outcome.ended_at))


def _verdicts(connection: Connection, outcome: CycleOutcome) -> None:
    pipeline, now = outcome.pipeline, outcome.ended_at
    verdicts = [verdict_fields(verdict) for verdict in outcome.plan.verdicts]
    bulk.upsert(connection, table(VerdictRow),
                [{"pipeline": pipeline, **fields, "updated_at": now} for fields in verdicts],
                ["pipeline", "deal"])
    bulk.insert_rows(connection, table(GateHistoryRow),
                     [{"pipeline": pipeline, "run_id": outcome.run_id, "recorded_at": now,
                       **fields} for fields in verdicts])


def _baselines(connection: Connection, outcome: CycleOutcome) -> None:
    # Written once: a later plan may only give a baseline recorded without a close date
    # its first one (engine.baselines); a redone cycle changes nothing.
    bulk.upsert(connection, table(BaselineRow),
                [baseline_row(outcome.pipeline, outcome.run_id, baseline)
                 for baseline in outcome.plan.baselines],
                ["pipeline", "deal", "handoff_type"],
                set_=lambda new, t: {"close_date": func.coalesce(t.c.close_date,
                                                                 new.close_date)})


def _mirror(connection: Connection, outcome: CycleOutcome) -> None:
    mirror = table(MirrorRow)
    for role in sorted(outcome.mirror_replace):
        # A full pull: records the system no longer returns leave the mirror.
        kept = outcome.mirror.get(role, {})
        stored = connection.execute(select(mirror.c.record_id).where(
            mirror.c.pipeline == outcome.pipeline, mirror.c.role == role.value)).scalars()
        gone = [record_id for record_id in stored if record_id not in kept]
        bulk.delete_ids(connection, mirror, {"pipeline": outcome.pipeline, "role": role.value},
                        "record_id", gone)
    rows: list[dict[str, Any]] = []
    for role, records in sorted(outcome.mirror.items()):
        if not records:
            continue
        recorded = list(records.values())
        dictionary = dictionary_for(connection, outcome.pipeline, packing.MIRROR_KINDS[role],
                                    partial(_fields, recorded), outcome.ended_at)
        rows.extend(mirror_row(outcome.pipeline, role, record, dictionary)
                    for record in recorded)
    bulk.upsert(connection, mirror, rows, ["pipeline", "role", "record_id"])


def _fields(records: list[MirrorRecord]) -> list[dict[str, Any]]:
    """What a mirror dictionary is trained on: the records' fields, as packed."""
    live = [record for record in records if not record.deleted]
    return [encode_map(record.fields) for record in dictionary_samples(live)]


def _meta(connection: Connection, outcome: CycleOutcome) -> None:
    full = (outcome.kind is RunKind.FULL
            and outcome.outcome in (RunOutcome.OK, RunOutcome.PARTIAL))
    row = {"pipeline": outcome.pipeline, "mappings_hash": outcome.mappings_hash,
           "last_full_at": outcome.ended_at if full else None,
           "drift": encode_map(outcome.drift), "updated_at": outcome.ended_at}
    bulk.upsert(connection, table(PipelineMeta), [row], ["pipeline"], set_=lambda new, t: {
        "mappings_hash": func.coalesce(new.mappings_hash, t.c.mappings_hash),
        "last_full_at": func.coalesce(new.last_full_at, t.c.last_full_at),
        "drift": new.drift, "updated_at": new.updated_at})


def failure_key(failure: RecordFailure) -> tuple[str, str, str]:
    return failure.role.value, failure.record_id, failure.key_kind


def error_rows(pipeline: str, failures: Iterable[RecordFailure],
               stored: Mapping[tuple[str, str, str], tuple[int, datetime]],
               now: datetime) -> list[dict[str, Any]]:
    """Rows for this cycle's failures, given (attempts, first seen) of the stored ones."""
    latest = {failure_key(failure): failure for failure in failures}
    rows = []
    for key, failure in latest.items():
        attempts, first_seen = stored.get(key, (0, now))
        attempts += 1
        delay: timedelta = backoff(attempts) if failure.retriable else NOT_RETRIABLE_DELAY
        rows.append({"pipeline": pipeline, "role": failure.role.value,
                     "record_id": failure.record_id, "kind": failure.key_kind,
                     "system": failure.system, "object": failure.object, "deal": failure.deal,
                     "code": failure.code, "message": failure.message,
                     "fields": list(failure.fields), "retriable": failure.retriable,
                     "attempts": attempts, "first_seen": first_seen, "last_seen": now,
                     "next_retry_at": now + delay, "value_digest": failure.value_digest})
    return rows


def _errors(connection: Connection, outcome: CycleOutcome) -> None:
    errors = table(SyncError)
    # The pipeline's error rows are few (only what is failing); every record written this
    # cycle is "cleared", so match the two here rather than send thousands of deletes.
    stored = {(row.role, row.record_id, row.kind): (row.attempts, row.first_seen)
              for row in connection.execute(
                  select(errors.c.role, errors.c.record_id, errors.c.kind, errors.c.attempts,
                         errors.c.first_seen).where(errors.c.pipeline == outcome.pipeline))}
    failing = {(f.role.value, f.record_id) for f in outcome.failures}
    cleared = {(role.value, record_id) for role, record_id in outcome.cleared} - failing
    # A record written this cycle keeps only the field rows refused or held this cycle.
    kept = {failure_key(f) for f in outcome.field_failures} | {
        (role.value, record_id, f"{FailureKind.FIELD.value}:{name}")
        for role, record_id, name in outcome.fields_held}
    for role, record_id, kind in [key for key in stored
                                  if key[:2] in cleared and key not in kept]:
        connection.execute(delete(errors).where(
            errors.c.pipeline == outcome.pipeline, errors.c.role == role,
            errors.c.record_id == record_id, errors.c.kind == kind))
    bulk.upsert(connection, errors,
                error_rows(outcome.pipeline, [*outcome.failures, *outcome.field_failures],
                           stored, outcome.ended_at),
                ["pipeline", "role", "record_id", "kind"])


def run_values(ended_at: datetime | None, outcome: RunOutcome, message: str | None,
               api_calls: Mapping[str, Any], counts: Mapping[str, int],
               errors: int) -> dict[str, Any]:
    return {"ended_at": ended_at, "outcome": RunOutcome(outcome).value, "message": message,
            "api_calls": encode_map(api_calls), "errors": errors,
            **{name: int(counts.get(name, 0)) for name in COUNTS}}


def _run(connection: Connection, outcome: CycleOutcome, holder: str | None) -> None:
    runs = table(SyncRun)
    values = run_values(outcome.ended_at, outcome.outcome, outcome.message, outcome.api_calls,
                        outcome.counts, len(outcome.failures))
    updated = connection.execute(update(runs).where(runs.c.run_id == outcome.run_id)
                                 .values(**values))
    if updated.rowcount == 0:  # start_run was not called: the cycle's row starts here
        connection.execute(runs.insert().values(
            run_id=outcome.run_id, pipeline=outcome.pipeline, kind=outcome.kind.value,
            started_at=outcome.started_at, holder=holder, **values))


def finish_run(connection: Connection, run_id: str, values: Mapping[str, Any]) -> None:
    runs = table(SyncRun)
    updated = connection.execute(update(runs).where(runs.c.run_id == run_id).values(**values))
    if updated.rowcount == 0:
        raise StoreError(f"no sync run {run_id!r} to finish (start_run records it first)")

