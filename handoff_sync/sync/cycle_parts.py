"""The pure parts of a sync cycle (sync.cycle): the mirror after the pulls, records as the
engine sees them, the links after a plan, what a plan will write, and the words a run
records."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

import structlog

from connectors.errors import StopRequested
from handoff_sync.engine.types import (
    EngineState,
    Link,
    LinkChange,
    LinkChangeKind,
    LinkMethod,
    Plan,
    ReviewItem,
    ReviewKind,
)
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.system.convert import MappedRecord, SystemMapping, to_canonical
from handoff_sync.model import OwnerDirectory, Role, TaskStatus, Value
from handoff_sync.safety.sanitise import for_terminal, quoted
from handoff_sync.store.types import MirrorRecord, PipelineState, RecordFailure, ReviewChanges
from handoff_sync.sync.drift import SCHEMA_ERROR_CODES
from handoff_sync.sync.pull import SidePull
from handoff_sync.sync.write import Refused

log = structlog.get_logger("handoff_sync.sync")

def mappings_hash(folder: Path) -> str:
    """Content hash of the mappings folder: a changed hash triggers a full reconcile."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()
                       and p.suffix in (".yaml", ".yml")):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def merged_mirror(state: PipelineState, pulls: Mapping[Role, SidePull],
                   full: bool) -> dict[Role, dict[str, MirrorRecord]]:
    """The mirror after this cycle's pulls; a full pull drops records it did not see."""
    merged: dict[Role, dict[str, MirrorRecord]] = {}
    for role in Role:
        records = pulls[role].records
        if full and pulls[role].complete:
            merged[role] = dict(records)
        else:
            merged[role] = {**state.mirror.get(role, {}), **records}
    return merged


def closed_by_people(state: EngineState, keys: set[str]) -> EngineState:
    """The engine's view of the ledger once people's closures are known: never reopen."""
    if not keys:
        return state
    tasks = dict(state.tasks)
    for key in keys:
        task = tasks[key]
        tasks[key] = dataclasses.replace(
            task, spec=dataclasses.replace(task.spec, status=TaskStatus.DONE),
            closed_by_user=True)
    return dataclasses.replace(state, tasks=MappingProxyType(tasks))


def canonical(record: MirrorRecord, mapping: SystemMapping,
               owners: OwnerDirectory) -> MappedRecord:
    mapped = to_canonical(mapping, record.fields, owners)
    if record.deleted or mapped.record_id != record.record_id:
        mapped = dataclasses.replace(mapped, record_id=record.record_id,
                                     deleted=record.deleted)
    if mapped.modified_at is not None and record.modified_at is not None \
            and mapped.modified_at != record.modified_at:
        # The mirror's stamp moves only with the values the engine reads (sync_pull.merge):
        # a stamp our own output write moved is not a person's newer edit.
        mapped = dataclasses.replace(mapped, modified_at=record.modified_at)
    return mapped


def engine_changes(pulled: Mapping[str, MirrorRecord], mirror: Mapping[str, MirrorRecord],
                   mapping: SystemMapping, owners: OwnerDirectory) -> set[str]:
    """The ids of pulled records the engine would see otherwise than their mirrored
    version: new ones, and ones whose canonical form (the values it reads, the outputs it
    compares, deleted, in scope, the stamp) changed. A record that came back differing
    only in what no rule reads, like the system's modification stamp on the read-back of
    the daemon's own writes (an echo), plans nothing: its deal's plan would be the same.
    Only records that came back are mapped: O(records pulled), not O(mirror)."""
    changed = set()
    for record_id, record in pulled.items():
        old = mirror.get(record_id)
        if old == record:
            continue
        if old is None or canonical(old, mapping, owners) != canonical(record, mapping,
                                                                       owners):
            changed.add(record_id)
    return changed


def canonical_values(cache: Mapping[Role, Mapping[str, tuple[MirrorRecord, MappedRecord]]],
                     mappings: MappingSet, owners: Mapping[Role, OwnerDirectory]
                     ) -> Callable[[Role, MirrorRecord], Mapping[str, Value]]:
    """A record's canonical values: the cycle's mapped record when it is of this very
    record, else mapped now."""
    def values(role: Role, record: MirrorRecord) -> Mapping[str, Value]:
        hit = cache[role].get(record.record_id)
        if hit is not None and hit[0] == record:
            return hit[1].values
        return canonical(record, mappings.side(role), owners[role]).values

    return values


def links_after(links: Mapping[str, Link], result: Plan) -> dict[str, Link]:
    after = dict(links)
    for change in result.links:
        if change.kind is LinkChangeKind.CREATE:
            after[change.link.prm_id] = change.link
        else:
            after.pop(change.link.prm_id, None)
    return after


def with_creations(result: Plan, created: Mapping[str, str]) -> Plan:
    """The plan with a link for each opportunity created (or found by its key) this cycle,
    recorded with the cycle: the next one plans the pair, writing the opportunity's id to
    the registration. Not recorded (a crash before the transaction), the created record
    names its registration and links by that id field, or the next creation finds it by
    its key."""
    if not created:
        return result
    reasons = {creation.prm_id: creation for creation in result.creations}
    links = [LinkChange(LinkChangeKind.CREATE, Link(prm_id, crm_id, LinkMethod.CREATED, 1.0),
                        f"created for registration {prm_id}, owned by "
                        f"{reasons[prm_id].owner_email} ({reasons[prm_id].rule})")
             for prm_id, crm_id in sorted(created.items()) if prm_id in reasons]
    return dataclasses.replace(result, links=(*result.links, *links))


def planned_counts(result: Plan) -> dict[str, int]:
    counts = {"records_written": len(result.writes), "tasks_created": 0, "tasks_updated": 0,
              "tasks_closed": 0, "opportunities_created": len(result.creations)}
    for action in result.tasks:
        name = {"open": "tasks_created", "close": "tasks_closed"}.get(action.kind.value,
                                                                      "tasks_updated")
        counts[name] += 1
    return counts


def schema_suspect(state: PipelineState) -> bool:
    return any(hold.code in SCHEMA_ERROR_CODES for hold in state.holds.values())


def run_message(failures: list[RecordFailure], drift: Mapping[str, str],
             stopped: bool) -> str | None:
    parts = []
    if stopped:
        parts.append("stopped by a signal after the batch in hand; the rest is planned "
                     "again next cycle")
    if failures:
        parts.append(f"{len(failures)} record(s) failed and retry later; "
                     "see `handoff-sync status`")
    if drift:
        parts.append(f"{len(drift)} mapped field(s) skipped for schema drift: "
                     + ", ".join(sorted(drift)))
    return "; ".join(parts) or None


def stopped_message(exc: Exception) -> str:
    if isinstance(exc, StopRequested):
        return ("stopped while waiting for the API budget; nothing recorded, the next "
                "cycle redoes the work")
    return "stopped while pulling; nothing recorded, the next cycle pulls again"


def with_refusals(result: Plan, refused: Sequence[Refused]) -> Plan:
    """The plan with a review item for each field a system refused (sync_write)."""
    if not refused:
        return result
    items = {}
    for refusal in refused:
        key = f"invalid_value:{refusal.deal}:{refusal.role.value}:{refusal.field}"
        where = f"{refusal.system} record {refusal.record_id}"
        items[key] = ReviewItem(
            key, ReviewKind.INVALID_VALUE, refusal.deal,
            f"{refusal.field} {quoted(str(refusal.value))} was refused by {where}: "
            f"{quoted(refusal.message, 200)}; the record's other fields were written; fix the "
            "value at its source (or the rule that refuses it)",
            details={"record": refusal.record_id, "system": refusal.system,
                     "field": refusal.field, "value": quoted(str(refusal.value)),
                     "message": quoted(refusal.message, 200)})
    return dataclasses.replace(result, reviews=(*result.reviews, *items.values()))


def log_review_changes(changes: ReviewChanges) -> None:
    """One line when a problem enters the review queue and one when it leaves it by
    itself; a problem that stands is in `review`, not in every cycle's log."""
    for item in changes.opened:
        log.info("review_opened", kind=item["kind"], key=for_terminal(item["key"]),
                 summary=for_terminal(item["summary"]))
    for key in changes.resolved:
        log.info("review_resolved", key=for_terminal(key))
