"""The write half of a cycle: carry a plan's field writes and task upserts out, in batches.

Nothing here decides what to write (the engine did); this turns canonical values into
system values, sends them in chunks (checking for a stop request between chunks, so
SIGTERM finishes the batch in hand), and sorts the results into what may be recorded:
deals whose every write succeeded, task keys whose upsert succeeded, and failures to
retry later. A failed record never stops the others.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.base import (
    Connector,
    RecordChange,
    RecordError,
    RecordWrite,
    TaskTarget,
    TaskWrite,
    WriteResult,
)
from connectors.errors import ConnectorError, PermissionDenied, SchemaError
from handoff_sync.engine.types import FieldWrite, Plan, TaskAction, TaskActionKind
from handoff_sync.mapping.convert import (
    SystemMapping,
    outputs_to_system,
    task_to_system,
    to_system,
)
from handoff_sync.model import OwnerDirectory, Role
from handoff_sync.store.types import FailureKind, MirrorRecord, RecordFailure, RetryHold
from handoff_sync.sync_drift import drifted_fields
from handoff_sync.sync_pull import merge

CHUNK = 200  # writes per connector call: one Salesforce collection, two HubSpot batches


@dataclass
class Side:
    """One system as the write half needs it."""

    role: Role
    connector: Connector
    mapping: SystemMapping
    owners: OwnerDirectory


@dataclass
class WriteOutcome:
    written_deals: set[str] = field(default_factory=set)  # deals whose bases may advance
    task_ids: dict[str, str | None] = field(default_factory=dict)
    failures: list[RecordFailure] = field(default_factory=list)
    cleared: set[tuple[Role, str]] = field(default_factory=set)
    mirror: dict[Role, dict[str, MirrorRecord]] = field(
        default_factory=lambda: {Role.PRM: {}, Role.CRM: {}})
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    stopped: bool = False


def carry_out(plan: Plan, sides: Mapping[Role, Side], *,
              mirror: Mapping[Role, Mapping[str, MirrorRecord]],
              holds: Mapping[tuple[Role, str], RetryHold], drift: Mapping[str, str],
              now: datetime, should_stop: Callable[[], bool],
              heartbeat: Callable[[], None],
              withheld: Collection[tuple[Role, str]] = ()) -> WriteOutcome:
    """Send the plan's writes and tasks; record what happened to each.

    Writes to ``withheld`` records (changed since the plan was made) are not sent: their
    deals keep their base, so the next cycle plans them again."""
    out = WriteOutcome()
    done: Counter[str] = Counter()  # successful writes per deal
    for writes in _passes(plan.writes):
        for role in (Role.CRM, Role.PRM):
            _write_records(sides[role], [w for w in writes if w.role is role
                                         and (role, w.record_id) not in withheld], out, done,
                           mirror=mirror.get(role, {}), holds=holds, drift=drift, now=now,
                           should_stop=should_stop, heartbeat=heartbeat)
            if out.stopped:
                break
        if out.stopped:
            break
    crm = sides[Role.CRM]
    if not out.stopped and plan.tasks and crm.mapping.tasks is not None:
        _upsert_tasks(crm, plan.tasks, out, holds=holds, now=now, should_stop=should_stop,
                      heartbeat=heartbeat)
    out.written_deals = advancing_deals(plan, done)
    return out


def advancing_deals(plan: Plan, done: Counter[str]) -> set[str]:
    """The deals whose new base may be recorded, given the successful writes per deal.

    A deal's base advances only when every write planned for it (or held for it:
    FieldWrite.holds) went through; a write that failed, waits on a backoff, lost a
    drifted field or was cut off by a stop leaves the old base, so the next cycle plans
    the same write again.
    """
    expected: Counter[str] = Counter()
    for write in plan.writes:
        expected.update(_settles(write))
    return {base.deal for base in plan.bases if done[base.deal] == expected[base.deal]}


def _settles(write: FieldWrite) -> tuple[str, ...]:
    """The deals whose base waits on ``write``."""
    return (write.deal, *write.holds)


def _passes(writes: Sequence[FieldWrite]) -> list[list[FieldWrite]]:
    """The writes in the calls-apart passes they must reach the systems in, by
    FieldWrite.rank: first those blanking an id the record no longer links by, then those
    replacing one, then the rest. An id field may be unique (Salesforce rejects a second
    holder with DUPLICATE_VALUE), so a record must let go of an id before another takes it.
    """
    passes: dict[int, list[FieldWrite]] = defaultdict(list)
    for write in writes:
        passes[write.rank].append(write)
    return [passes[rank] for rank in sorted(passes)]


def _write_records(side: Side, writes: Sequence[FieldWrite], out: WriteOutcome,
                   done: Counter[str], *, mirror: Mapping[str, MirrorRecord],
                   holds: Mapping[tuple[Role, str], RetryHold], drift: Mapping[str, str],
                   now: datetime, should_stop: Callable[[], bool],
                   heartbeat: Callable[[], None]) -> None:
    mapping = side.mapping
    skipped = drifted_fields(dict(drift), mapping.system.value, mapping.object)
    ready: list[tuple[FieldWrite, RecordWrite, bool]] = []
    for write in writes:
        hold = holds.get((side.role, write.record_id))
        if hold is not None and hold.next_retry_at > now:
            continue  # still backing off: not written this cycle
        values = to_system(mapping, write.values, side.owners)
        outputs = outputs_to_system(mapping, write.outputs, side.owners)
        fields = {**values.values, **outputs.values}
        issues = [*values.issues, *outputs.issues]
        dropped = skipped & fields.keys()
        for name in dropped:
            del fields[name]
        if issues:
            out.failures.append(_failure(side, FailureKind.RECORD, write.record_id, write.deal,
                                         "INVALID_VALUE", "; ".join(map(str, issues)),
                                         retriable=False))
            continue
        if fields:
            ready.append((write, RecordWrite(write.record_id, write.record_id, fields),
                          not dropped))
        elif not dropped:
            done.update(_settles(write))  # nothing this system can take: nothing to fail
    for chunk in _chunks(ready, CHUNK):
        if should_stop():
            out.stopped = True
            return

        def write_chunk(c: Sequence[tuple[FieldWrite, RecordWrite, bool]] = chunk
                        ) -> list[WriteResult]:
            return side.connector.write(mapping.object, [rw for _, rw, _ in c])

        results = _send(write_chunk, [rw.ref for _, rw, _ in chunk])
        for (write, record_write, whole), result in zip(chunk, results, strict=True):
            if result.ok:
                if whole:  # a drifted field left out still differs: keep the base
                    done.update(_settles(write))
                out.cleared.add((side.role, write.record_id))
                out.counts["records_written"] += 1
                previous = mirror.get(write.record_id)
                if previous is not None:  # the record now holds what we wrote
                    out.mirror[side.role][write.record_id] = _with_written(
                        previous, record_write.fields)
            else:
                error = result.error
                out.failures.append(_failure(
                    side, FailureKind.RECORD, write.record_id, write.deal,
                    error.code if error else "UNKNOWN", error.message if error else
                    "the system gave no reason", fields=error.fields if error else (),
                    retriable=error.retriable if error else True))
        heartbeat()


def _upsert_tasks(side: Side, actions: Sequence[TaskAction], out: WriteOutcome, *,
                  holds: Mapping[tuple[Role, str], RetryHold], now: datetime,
                  should_stop: Callable[[], bool], heartbeat: Callable[[], None]) -> None:
    rules = side.mapping.tasks
    assert rules is not None
    target = TaskTarget(rules.object, rules.key_field, rules.deal_link_field,
                        rules.deal_association_type_id)
    ready: list[tuple[TaskAction, TaskWrite]] = []
    for action in actions:
        hold = holds.get((side.role, action.task.key))
        if hold is not None and hold.next_retry_at > now:
            continue
        values = task_to_system(side.mapping, action.task, side.owners)
        if values.issues:
            out.failures.append(_failure(side, FailureKind.TASK, action.task.key, action.deal,
                                         "INVALID_VALUE", "; ".join(map(str, values.issues)),
                                         obj=rules.object, retriable=False))
            continue
        ready.append((action, TaskWrite(action.task.key, action.task.crm_id, values.values)))
    for chunk in _chunks(ready, CHUNK):
        if should_stop():
            out.stopped = True
            return

        def upsert_chunk(c: Sequence[tuple[TaskAction, TaskWrite]] = chunk
                         ) -> list[WriteResult]:
            return side.connector.upsert_tasks(target, [tw for _, tw in c])

        results = _send(upsert_chunk, [tw.key for _, tw in chunk])
        for (action, _), result in zip(chunk, results, strict=True):
            if result.ok:
                out.task_ids[action.task.key] = result.id
                out.cleared.add((side.role, action.task.key))
                out.counts[_TASK_COUNTS[action.kind]] += 1
            else:
                error = result.error
                out.failures.append(_failure(
                    side, FailureKind.TASK, action.task.key, action.deal,
                    error.code if error else "UNKNOWN",
                    error.message if error else "the system gave no reason",
                    obj=rules.object, retriable=error.retriable if error else True))
        heartbeat()


_TASK_COUNTS = {TaskActionKind.OPEN: "tasks_created", TaskActionKind.REOPEN: "tasks_updated",
                TaskActionKind.UPDATE: "tasks_updated", TaskActionKind.REASSIGN: "tasks_updated",
                TaskActionKind.CLOSE: "tasks_closed"}


def _send(call: Callable[[], list[WriteResult]], refs: Sequence[str]) -> list[WriteResult]:
    """One connector call; a call that fails as a whole fails each of its records.

    Retrying is the connector's job (transient errors) and the next cycle's (the rest):
    the records stay planned, and upserts by id or task key make the retry harmless even
    when the failed call did reach the system.
    """
    try:
        return call()
    except ConnectorError as exc:
        code = exc.code or type(exc).__name__
        # Network trouble, a quota, an expired login: worth trying again soon. A missing
        # field or permission needs a person (it waits the long backoff).
        retriable = not isinstance(exc, SchemaError | PermissionDenied)
        return [WriteResult(ref, None, False, error=RecordError(code, str(exc),
                                                                retriable=retriable))
                for ref in refs]


def _failure(side: Side, kind: FailureKind, record_id: str, deal: str | None, code: str,
             message: str, *, obj: str | None = None, fields: Iterable[str] = (),
             retriable: bool = True) -> RecordFailure:
    return RecordFailure(kind, side.role, side.mapping.system.value,
                         obj or side.mapping.object, record_id, code, message, deal,
                         tuple(fields), retriable)


def _with_written(previous: MirrorRecord, fields: Mapping[str, Any]) -> MirrorRecord:
    return merge(previous, RecordChange(previous.record_id, previous.modified_at,
                                        dict(fields), previous.deleted))


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# Records per write call, as each connector batches them (Salesforce sObject Collections,
# HubSpot batch endpoints); `plan` uses them to say what a cycle would cost.
WRITE_BATCH = {"salesforce": 200, "hubspot": 100, "files": 1}


def field_changes(plan: Plan, sides: Mapping[Role, Side],
                  mirror: Mapping[Role, Mapping[str, MirrorRecord]]) -> list[dict[str, Any]]:
    """Every field a plan would write, in system terms: system, object, record, old, new."""
    rows: list[dict[str, Any]] = []
    for write in plan.writes:
        side = sides[write.role]
        values = to_system(side.mapping, write.values, side.owners).values
        outputs = outputs_to_system(side.mapping, write.outputs, side.owners).values
        held = mirror.get(write.role, {}).get(write.record_id)
        for name, new in sorted({**values, **outputs}.items()):
            rows.append({"system": side.mapping.system.value, "object": side.mapping.object,
                         "record": write.record_id, "deal": write.deal, "field": name,
                         "old": held.fields.get(name) if held else None, "new": new})
    return rows


def write_call_estimate(plan: Plan, sides: Mapping[Role, Side]) -> dict[str, int]:
    """Write calls the plan would cost per system (records / batch size, rounded up)."""
    calls: dict[str, int] = {}
    for role, side in sides.items():
        system = side.mapping.system.value
        batch = WRITE_BATCH.get(system, 1)
        tasks = len(plan.tasks) if role is Role.CRM else 0
        total = -(-tasks // batch)
        for writes in _passes(plan.writes):  # each pass has calls of its own
            records = sum(1 for w in writes if w.role is role)
            total += -(-records // batch)
        calls[system] = calls.get(system, 0) + total
    return calls
