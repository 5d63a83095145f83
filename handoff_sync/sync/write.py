"""The write half of a cycle: carry a plan's field writes and task upserts out, in batches.

Nothing here decides what to write (the engine did); this turns canonical values into
system values, sends them in chunks (checking for a stop request between chunks, so
SIGTERM finishes the batch in hand), and sorts the results into what may be recorded:
deals whose every write succeeded, task keys whose upsert succeeded, and failures to
retry later. A failed record never stops the others.

One refused field never fails the rest of its record. When a record's write comes back
refused, not retriable, naming fields it carried (a validation rule, a restricted
picklist, a field that shrank: ``RecordError.fields``), the record is sent once more in
the same cycle without them (one call for all such records of a chunk). If that write
goes through, the record counts as written for its other fields; each refused field
becomes a FIELD failure: a review item naming record, field, value and the system's
message, and a row in sync_errors keyed by record and field, holding a digest of the
refused value and the usual not-retriable backoff. The deal's base does not advance,
so the engine keeps planning the field; while the hold lasts and the value is the same
(``digest``), the field is left out of that record's writes before sending (no second
call, no failed call: a record with nothing else to write is not sent at all). A new
value, or the hold running out, sends the field again; a successful write of the record
without a refusal clears the field's row, and its review item resolves itself. A
refusal naming every field written leaves nothing to resend: those fields are held the
same way, never the whole record. If the second write fails too, the record fails as
before.

A training task closed because its partner account is gone (deleted or archived in the
PRM) may find the account, or the task with it, gone: the PRM refuses the attachment
(HubSpot writes the task, then cannot associate it with the archived company) or the
whole upsert (Salesforce: the WhatId names a deleted Account, whose Tasks it deleted
with it). Nothing is left to close, so that refusal counts as the close (``GONE_CODES``)
instead of a failure repeated every cycle, as the engine would otherwise plan it again.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from connectors.base import (
    AccountTarget,
    Connector,
    CreateTarget,
    DealCreate,
    RecordChange,
    RecordError,
    RecordWrite,
    TaskTarget,
    TaskWrite,
    WriteResult,
)
from connectors.errors import ConnectorError, PermissionDenied, SchemaError
from connectors.registry import spec
from handoff_sync.engine.readiness_tasks import GONE
from handoff_sync.engine.types import (
    DealCreation,
    FieldWrite,
    Plan,
    TaskAction,
    TaskActionKind,
)
from handoff_sync.mapping.system.convert import (
    SystemMapping,
    creation_to_system,
    outputs_to_system,
    task_to_system,
    to_system,
)
from handoff_sync.mapping.system.partners import partner_task_target, partner_task_write
from handoff_sync.model import Output, OwnerDirectory, Role, TaskAnchor
from handoff_sync.store.types import (
    FailureKind,
    FieldHold,
    MirrorRecord,
    RecordFailure,
    RetryHold,
)
from handoff_sync.sync.drift import drifted_fields
from handoff_sync.sync.progress import Phase, Progress, ProgressEvent, no_progress
from handoff_sync.sync.pull import merge

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
    field_failures: list[RecordFailure] = field(default_factory=list)  # refused this cycle
    fields_held: set[tuple[Role, str, str]] = field(default_factory=set)  # left out, held
    refused: list[Refused] = field(default_factory=list)  # both: one review item each
    # Registration id -> the CRM record created for it (or found holding its key).
    created: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refused:
    """A field the system refused for a record (this cycle or still held): its review."""

    role: Role
    system: str
    record_id: str
    deal: str
    field: str  # the system field
    value: Any
    message: str


def digest(value: Any) -> str:
    """A short fingerprint of a system value: a held field is retried once it differs."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def carry_out(plan: Plan, sides: Mapping[Role, Side], *,
              mirror: Mapping[Role, Mapping[str, MirrorRecord]],
              holds: Mapping[tuple[Role, str], RetryHold], drift: Mapping[str, str],
              now: datetime, should_stop: Callable[[], bool],
              heartbeat: Callable[[], None],
              withheld: Collection[tuple[Role, str]] = (),
              field_holds: Mapping[tuple[Role, str, str], FieldHold] | None = None,
              progress: Progress = no_progress) -> WriteOutcome:
    """Send the plan's writes and tasks; record what happened to each.

    Writes to ``withheld`` records (changed since the plan was made) are not sent: their
    deals keep their base, so the next cycle plans them again. ``progress`` hears how
    many of the plan's creations, writes and tasks are dealt with (sent, or left for a
    later cycle), after each batch."""
    out = WriteOutcome()
    done: Counter[str] = Counter()  # successful writes per deal
    advance = _Tally(progress, len(plan.creations) + len(plan.writes) + len(plan.tasks))
    advance(sum(1 for w in plan.writes if (w.role, w.record_id) in withheld))
    if plan.creations:
        _create_deals(sides[Role.CRM], plan.creations, out, holds=holds, now=now,
                      should_stop=should_stop, heartbeat=heartbeat, advance=advance)
    for writes in _passes(plan.writes) if not out.stopped else ():
        for role in (Role.CRM, Role.PRM):
            _write_records(sides[role], [w for w in writes if w.role is role
                                         and (role, w.record_id) not in withheld], out, done,
                           mirror=mirror.get(role, {}), holds=holds, drift=drift, now=now,
                           should_stop=should_stop, heartbeat=heartbeat,
                           field_holds=field_holds or {}, advance=advance)
            if out.stopped:
                break
        if out.stopped:
            break
    for role in (Role.CRM, Role.PRM):  # each task to its side's system
        side = sides[role]
        for anchor in TaskAnchor:  # deal tasks, then tasks on partner accounts
            actions = [a for a in plan.tasks if a.task.side is role
                       and a.task.anchor is anchor]
            if not out.stopped and actions and side.mapping.tasks is not None:
                _upsert_tasks(side, actions, out, holds=holds, now=now,
                              should_stop=should_stop, heartbeat=heartbeat, advance=advance)
            elif not out.stopped:
                advance(len(actions))  # no task object on this side: nothing to send
    out.written_deals = advancing_deals(plan, done)
    advance.end()
    return out


class _Tally:
    """The write phase's count for ``Progress``: items dealt with so far of the plan's."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        progress(ProgressEvent(Phase.WRITE, 0, total))

    def __call__(self, count: int) -> None:
        if count > 0:
            self.done += count
            self.progress(ProgressEvent(Phase.WRITE, self.done, self.total))

    def end(self) -> None:
        self.progress(ProgressEvent(Phase.WRITE, self.done, self.total, ended=True))


def _no_tally(count: int) -> None:
    """Counting for nobody (the helpers called outside ``carry_out``)."""


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
                   heartbeat: Callable[[], None],
                   field_holds: Mapping[tuple[Role, str, str], FieldHold],
                   advance: Callable[[int], None] = _no_tally) -> None:
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
        held = _held(side, write, fields, field_holds, now, out)
        if held and not fields.keys() & values.values.keys() and set(write.outputs) <= {
                Output.LAST_SYNCED}:
            fields = {}  # only the sync stamp is left: a write for nothing, every cycle
        if issues:
            out.failures.append(_failure(side, FailureKind.RECORD, write.record_id, write.deal,
                                         "INVALID_VALUE", "; ".join(map(str, issues)),
                                         retriable=False))
            continue
        if fields:
            ready.append((write, RecordWrite(write.record_id, write.record_id, fields),
                          not dropped and not held))
        elif not dropped and not held:
            done.update(_settles(write))  # nothing this system can take: nothing to fail
    advance(len(writes) - len(ready))  # backing off, refused here, or nothing to send
    for chunk in _chunks(ready, CHUNK):
        if should_stop():
            out.stopped = True
            return

        def write_chunk(c: Sequence[tuple[FieldWrite, RecordWrite, bool]] = chunk
                        ) -> list[WriteResult]:
            return side.connector.write(mapping.object, [rw for _, rw, _ in c])

        results = _send(write_chunk, [rw.ref for _, rw, _ in chunk])
        again: list[tuple[FieldWrite, RecordWrite, bool]] = []
        refusals: dict[str, tuple[RecordWrite, RecordError, set[str]]] = {}
        for (write, record_write, whole), result in zip(chunk, results, strict=True):
            named = _refused_fields(record_write, result)
            if not named or result.error is None:
                _settle(side, write, record_write, whole, result, out, done, mirror)
                continue
            rest = {k: v for k, v in record_write.fields.items() if k not in named}
            if not rest:  # nothing else to send: only the fields wait
                _refuse(side, write, record_write, result.error, named, out)
                continue
            refusals[record_write.ref] = (record_write, result.error, named)
            again.append((write, RecordWrite(record_write.ref, record_write.id, rest), False))
        if again:
            def write_again(c: Sequence[tuple[FieldWrite, RecordWrite, bool]] = again
                            ) -> list[WriteResult]:
                return side.connector.write(mapping.object, [rw for _, rw, _ in c])

            retried = _send(write_again, [rw.ref for _, rw, _ in again])
            for (write, record_write, whole), result in zip(again, retried, strict=True):
                if result.ok:  # the rest landed: the refused fields wait on their own
                    first, error, named = refusals[record_write.ref]
                    _refuse(side, write, first, error, named, out)
                # else the second write failed too: the record fails as before
                _settle(side, write, record_write, whole, result, out, done, mirror)
        advance(len(chunk))
        heartbeat()


def _held(side: Side, write: FieldWrite, fields: dict[str, Any],
          field_holds: Mapping[tuple[Role, str, str], FieldHold], now: datetime,
          out: WriteOutcome) -> bool:
    """Take out of ``fields`` those refused before with the same value while their hold
    lasts; each stays a review item. Whether any was taken out."""
    taken = False
    for name in list(fields):
        hold = field_holds.get((side.role, write.record_id, name))
        if hold is None or hold.next_retry_at <= now or hold.value_digest != digest(
                fields[name]):
            continue
        out.fields_held.add((side.role, write.record_id, name))
        out.refused.append(Refused(side.role, side.mapping.system.value, write.record_id,
                                   write.deal, name, fields.pop(name), hold.message))
        taken = True
    return taken


def _refused_fields(record_write: RecordWrite, result: WriteResult) -> set[str]:
    """The fields of ``record_write`` a not-retriable refusal names (none: not one)."""
    error = result.error
    if result.ok or error is None or error.retriable or not error.fields:
        return set()
    sent = {name.lower(): name for name in record_write.fields}
    named = {sent[name.lower()] for name in error.fields if name.lower() in sent}
    # A refusal naming a field the write did not carry is about the record as a whole.
    return named if len(named) == len({n.lower() for n in error.fields}) else set()


def _refuse(side: Side, write: FieldWrite, record_write: RecordWrite, error: RecordError,
            named: Collection[str], out: WriteOutcome) -> None:
    for name in sorted(named):
        value = record_write.fields[name]
        out.field_failures.append(RecordFailure(
            FailureKind.FIELD, side.role, side.mapping.system.value, side.mapping.object,
            write.record_id, error.code, error.message, write.deal, (name,),
            retriable=False, value_digest=digest(value)))
        out.refused.append(Refused(side.role, side.mapping.system.value, write.record_id,
                                   write.deal, name, value, error.message))


def _settle(side: Side, write: FieldWrite, record_write: RecordWrite, whole: bool,
            result: WriteResult, out: WriteOutcome, done: Counter[str],
            mirror: Mapping[str, MirrorRecord]) -> None:
    """Record one record's result: written (its mirror holds what was sent) or failed."""
    if result.ok:
        if whole:  # a field left out (drifted, refused) still differs: keep the base
            done.update(_settles(write))
        out.cleared.add((side.role, write.record_id))
        out.counts["records_written"] += 1
        previous = mirror.get(write.record_id)
        if previous is not None:  # the record now holds what we wrote, in its own form
            out.mirror[side.role][write.record_id] = _with_written(
                previous, {**record_write.fields, **(result.stored or {})})
        return
    error = result.error
    out.failures.append(_failure(
        side, FailureKind.RECORD, write.record_id, write.deal,
        error.code if error else "UNKNOWN", error.message if error else
        "the system gave no reason", fields=error.fields if error else (),
        retriable=error.retriable if error else True))


def _create_deals(side: Side, creations: Sequence[DealCreation], out: WriteOutcome, *,
                  holds: Mapping[tuple[Role, str], RetryHold], now: datetime,
                  should_stop: Callable[[], bool], heartbeat: Callable[[], None],
                  advance: Callable[[int], None] = _no_tally) -> None:
    """Create the plan's opportunities by their keys (before any other write: a failed or
    cut-off creation leaves nothing else waiting on it, and is planned again next cycle,
    when the key finds whatever this call did create)."""
    mapping = side.mapping
    rules = mapping.create
    if rules is None:
        advance(len(creations))
        return
    account = rules.account
    target = CreateTarget(mapping.object, rules.external_id_field, None if account is None
                          else AccountTarget(account.object, account.name_field,
                                             account.domain_field, account.link_field,
                                             account.association_type_id))
    schema = side.connector.describe(mapping.object)

    def creatable(name: str) -> bool:
        found = schema.get(name)
        return found is None or found.createable

    ready: list[tuple[DealCreation, DealCreate]] = []
    for creation in creations:
        hold = holds.get((side.role, creation.external_id))
        if hold is not None and hold.next_retry_at > now:
            continue
        values = creation_to_system(mapping, creation.values, side.owners, creatable=creatable)
        if values.issues:
            out.failures.append(_failure(side, FailureKind.RECORD, creation.external_id,
                                         creation.deal, "INVALID_VALUE",
                                         "; ".join(map(str, values.issues)), retriable=False))
            continue
        ready.append((creation, DealCreate(creation.external_id, dict(values.values),
                                           creation.account_name, creation.account_domain)))
    advance(len(creations) - len(ready))
    for chunk in _chunks(ready, CHUNK):
        if should_stop():
            out.stopped = True
            return

        def create_chunk(c: Sequence[tuple[DealCreation, DealCreate]] = chunk
                         ) -> list[WriteResult]:
            return side.connector.create_deals(target, [d for _, d in c])

        results = _send(create_chunk, [d.key for _, d in chunk])
        for (creation, _), result in zip(chunk, results, strict=True):
            if result.id:  # it exists (an account not attached fails it still)
                out.created[creation.prm_id] = result.id
                out.counts["opportunities_created" if result.created
                           else "opportunities_found"] += 1
            if result.ok and result.id:
                out.cleared.add((side.role, creation.external_id))
                continue
            error = result.error
            out.failures.append(_failure(
                side, FailureKind.RECORD, creation.external_id, creation.deal,
                error.code if error else "UNKNOWN",
                error.message if error else "the system gave no reason",
                fields=error.fields if error else (),
                retriable=error.retriable if error else True))
        advance(len(chunk))
        heartbeat()


def _upsert_tasks(side: Side, actions: Sequence[TaskAction], out: WriteOutcome, *,
                  holds: Mapping[tuple[Role, str], RetryHold], now: datetime,
                  should_stop: Callable[[], bool], heartbeat: Callable[[], None],
                  advance: Callable[[int], None] = _no_tally) -> None:
    """Upsert ``actions`` (all attached alike: to deals, or to partner accounts)."""
    rules = side.mapping.tasks
    assert rules is not None
    on_partners = actions[0].task.anchor is TaskAnchor.PARTNER
    target = (partner_task_target(side.mapping) if on_partners else
              TaskTarget(rules.object, rules.key_field, rules.deal_link_field,
                         rules.deal_association_type_id))
    if target is None:  # mappings validate refuses training tasks without a task_link
        advance(len(actions))
        return
    ready: list[tuple[TaskAction, TaskWrite]] = []
    for action in actions:
        hold = holds.get((side.role, action.task.key))
        if hold is not None and hold.next_retry_at > now:
            continue
        if on_partners:
            write, issues = partner_task_write(side.mapping, action.task, side.owners)
        else:
            values = task_to_system(side.mapping, action.task, side.owners)
            write = TaskWrite(action.task.key, action.task.crm_id, values.values)
            issues = values.issues
        if issues:
            out.failures.append(_failure(side, FailureKind.TASK, action.task.key, action.deal,
                                         "INVALID_VALUE", "; ".join(map(str, issues)),
                                         obj=rules.object, retriable=False))
            continue
        ready.append((action, write))
    advance(len(actions) - len(ready))
    for chunk in _chunks(ready, CHUNK):
        if should_stop():
            out.stopped = True
            return

        def upsert_chunk(c: Sequence[tuple[TaskAction, TaskWrite]] = chunk
                         ) -> list[WriteResult]:
            return side.connector.upsert_tasks(target, [tw for _, tw in c])

        results = _send(upsert_chunk, [tw.key for _, tw in chunk])
        for (action, _), result in zip(chunk, results, strict=True):
            if result.ok or _gone_with_its_account(action, result):
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
        advance(len(chunk))
        heartbeat()


# What the PRMs answer when a task's account (or the task) no longer exists: HubSpot's
# association to an archived company, Salesforce's reference to a deleted Account.
GONE_CODES = frozenset({"ASSOCIATION_FAILED", "OBJECT_NOT_FOUND", "ENTITY_IS_DELETED",
                        "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"})


def _gone_with_its_account(action: TaskAction, result: WriteResult) -> bool:
    """A gone partner's training task whose close the PRM refused because the account or
    the task is gone: closed as far as anyone can see."""
    return (action.kind is TaskActionKind.CLOSE and action.reason == GONE
            and result.error is not None and result.error.code in GONE_CODES)


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


class MappedSide(Protocol):
    """What ``field_changes`` needs of a side: a ``Side``, or offline just its mapping."""

    @property
    def mapping(self) -> SystemMapping: ...

    @property
    def owners(self) -> OwnerDirectory: ...


def field_changes(plan: Plan, sides: Mapping[Role, MappedSide],
                  mirror: Mapping[Role, Mapping[str, MirrorRecord]]) -> list[dict[str, Any]]:
    """Every field a plan would write, in system terms: system, object, record, deal,
    field, old (as the mirror holds it), new."""
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
    """Write calls the plan would cost per system (records / batch size, rounded up, at the
    batch sizes each system's registry row gives: Salesforce sObject Collections, HubSpot
    batch endpoints; a batch of creations counts its lookup by key and its upsert, not the
    account lookups)."""
    calls: dict[str, int] = {}
    for role, side in sides.items():
        system = side.mapping.system.value
        row = spec(system)
        tasks = sum(1 for action in plan.tasks if action.task.side is role)
        total = -(-tasks // row.task_batch)
        if role is Role.CRM and plan.creations:  # a lookup by key, then the creates
            total += 2 * -(-len(plan.creations) // row.write_batch)
        for writes in _passes(plan.writes):  # each pass has calls of its own
            records = sum(1 for w in writes if w.role is role)
            total += -(-records // row.write_batch)
        calls[system] = calls.get(system, 0) + total
    return calls
