"""Engine and store types to table rows and back (pure: no database here).

Every ``*_row`` function gives the dict a bulk statement takes; every ``*_from`` rebuilds
the frozen type from a result row, with enums and canonical values restored, so what
``load_pipeline`` returns equals what ``record_cycle`` was given.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.base import Cursor
from handoff_sync.engine.types import (
    BaseSnapshot,
    ClockState,
    Conflict,
    DecisionKind,
    HandoffBaseline,
    HandoffDecision,
    Link,
    LinkMethod,
    SlaEvent,
    TaskState,
    Verdict,
)
from handoff_sync.mapping.system.conflicts import ConflictPolicy
from handoff_sync.model import (
    GateStatus,
    Role,
    SlaStatus,
    TaskAnchor,
    TaskPriority,
    TaskSpec,
    TaskStatus,
)
from handoff_sync.store.codec import (
    AGREED,
    PackDictionary,
    decode,
    decode_map,
    encode,
    encode_map,
    frozen_map,
    pack,
    snapshot_data,
    snapshot_maps,
    unpack,
)
from handoff_sync.store.types import MirrorRecord

Row = dict[str, Any]


def link_row(pipeline: str, link: Link, now: datetime) -> Row:
    return {"pipeline": pipeline, "prm_id": link.prm_id, "crm_id": link.crm_id,
            "method": link.method.value, "confidence": float(link.confidence),
            "created_at": now}


def link_from(row: Any) -> Link:
    return Link(row.prm_id, row.crm_id, LinkMethod(row.method), row.confidence)


def base_data(base: BaseSnapshot) -> dict[str, Any]:
    """A base snapshot as the JSON data its row packs (``codec.snapshot_data``)."""
    return snapshot_data(encode_map(base.prm), encode_map(base.crm), encode_map(base.agreed))


def base_row(pipeline: str, base: BaseSnapshot, now: datetime,
             dictionary: PackDictionary | None = None) -> Row:
    return {"pipeline": pipeline, "deal": base.deal,
            "snapshot": pack(base_data(base), dictionary), "updated_at": now}


def base_from(row: Any, dictionaries: Mapping[int, bytes]) -> BaseSnapshot:
    prm, crm, agreed = snapshot_maps(unpack(row.snapshot, dictionaries))
    return BaseSnapshot(row.deal, frozen_map(prm), frozen_map(crm), frozen_map(agreed))


def agreed_from(snapshot: bytes, dictionaries: Mapping[int, bytes]) -> Mapping[str, Any]:
    """The agreed values of a stored base snapshot (a ``bases.snapshot`` value)."""
    return frozen_map(unpack(snapshot, dictionaries)[AGREED])


def spec_data(spec: TaskSpec) -> dict[str, Any]:
    return {"key": spec.key, "kind": spec.kind, "crm_id": spec.crm_id,
            "subject": spec.subject, "body": spec.body, "assignee_email": spec.assignee_email,
            "due_at": encode(spec.due_at), "priority": spec.priority.value,
            "status": spec.status.value, "side": spec.side.value,
            "anchor": spec.anchor.value}


def spec_from(data: Mapping[str, Any], status: str) -> TaskSpec:
    """The spec as last written; the ledger's status column is the one that counts (a
    person closing the task in the CRM changes it without a new spec)."""
    return TaskSpec(data["key"], data["kind"], data["crm_id"], data["subject"], data["body"],
                    data["assignee_email"], decode(data["due_at"]),
                    TaskPriority(data["priority"]), TaskStatus(status),
                    # Rows written before tasks had sides are the CRM's, and deal tasks.
                    Role(data.get("side", Role.CRM.value)),
                    TaskAnchor(data.get("anchor", TaskAnchor.DEAL.value)))


def task_row(pipeline: str, spec: TaskSpec, deal: str | None, system_task_id: str | None,
             now: datetime) -> Row:
    return {"pipeline": pipeline, "task_key": spec.key, "deal": deal, "spec": spec_data(spec),
            "system_task_id": system_task_id, "status": spec.status.value,
            "closed_by_user": False, "updated_at": now}


def task_from(row: Any) -> TaskState:
    return TaskState(spec_from(row.spec, row.status), row.system_task_id,
                     bool(row.closed_by_user))


def clock_row(pipeline: str, clock: ClockState) -> Row:
    return {"pipeline": pipeline, "deal": clock.deal, "handoff_type": clock.handoff_type,
            "clock": clock.clock, "started_at": clock.started_at, "due_at": clock.due_at,
            "status": clock.status.value, "stopped_at": clock.stopped_at}


def clock_from(row: Any) -> ClockState:
    return ClockState(row.deal, row.handoff_type, row.clock, row.started_at, row.due_at,
                      SlaStatus(row.status), row.stopped_at)


def verdict_fields(verdict: Verdict) -> Row:
    return {"deal": verdict.deal, "crm_id": verdict.crm_id, "prm_id": verdict.prm_id,
            "handoff_type": verdict.handoff_type, "stage": verdict.stage,
            "required": verdict.required, "status": verdict.status.value,
            "completeness_pct": verdict.completeness_pct, "missing": list(verdict.missing),
            "stage_owner_email": verdict.stage_owner_email,
            "ahead_of_gate": list(verdict.ahead_of_gate),
            "stage_entered_at": verdict.stage_entered_at, "stage_due_at": verdict.stage_due_at,
            "stage_window": verdict.stage_window,
            "placed_by_person": verdict.placed_by_person}


def verdict_from(row: Any) -> Verdict:
    return Verdict(row.deal, row.crm_id, row.prm_id, row.handoff_type, row.stage,
                   bool(row.required), GateStatus(row.status), row.completeness_pct,
                   tuple(row.missing), row.stage_owner_email, tuple(row.ahead_of_gate),
                   row.stage_entered_at, row.stage_due_at, row.stage_window,
                   row.placed_by_person)


def sla_event_row(pipeline: str, run_id: str, now: datetime, event: SlaEvent) -> Row:
    return {"pipeline": pipeline, "run_id": run_id, "recorded_at": now, "deal": event.deal,
            "handoff_type": event.handoff_type, "clock": event.clock,
            "kind": event.kind.value, "at": event.at, "escalate_to": event.escalate_to}


def decision_row(pipeline: str, run_id: str, now: datetime, decision: HandoffDecision) -> Row:
    return {"pipeline": pipeline, "run_id": run_id, "recorded_at": now,
            "deal": decision.deal, "handoff_type": decision.handoff_type,
            "decision": decision.decision.value, "at": decision.at, "by": decision.by,
            "by_system": decision.by_system, "reason": decision.reason,
            "partner": decision.partner}


def decision_from(row: Any) -> HandoffDecision:
    return HandoffDecision(row.deal, row.handoff_type, DecisionKind(row.decision), row.at,
                           row.by, bool(row.by_system), row.reason, row.partner)


def baseline_row(pipeline: str, run_id: str, baseline: HandoffBaseline) -> Row:
    return {"pipeline": pipeline, "deal": baseline.deal, "handoff_type": baseline.handoff_type,
            "run_id": run_id, "recorded_at": baseline.recorded_at,
            "close_date": baseline.close_date}


def baseline_from(row: Any) -> HandoffBaseline:
    return HandoffBaseline(row.deal, row.handoff_type, row.recorded_at, row.close_date)


def conflict_row(pipeline: str, run_id: str, now: datetime, conflict: Conflict) -> Row:
    return {"pipeline": pipeline, "run_id": run_id, "recorded_at": now, "deal": conflict.deal,
            "field": conflict.field, "policy": str(conflict.policy), "base": encode(conflict.base),
            "prm": encode(conflict.prm), "crm": encode(conflict.crm),
            "winner": conflict.winner.value if conflict.winner is not None else None,
            "kept": encode(conflict.kept), "lost": encode(conflict.lost)}


def conflict_from(row: Any) -> Conflict:
    return Conflict(row.deal, row.field, ConflictPolicy(row.policy), decode(row.base),
                    decode(row.prm),
                    decode(row.crm), Role(row.winner) if row.winner else None,
                    decode(row.kept), decode(row.lost))


def mirror_row(pipeline: str, role: Role, record: MirrorRecord,
               dictionary: PackDictionary | None = None) -> Row:
    return {"pipeline": pipeline, "role": role.value, "record_id": record.record_id,
            "modified_at": record.modified_at,
            "packed": pack(encode_map(record.fields), dictionary), "deleted": record.deleted}


def mirror_from(row: Any, dictionaries: Mapping[int, bytes]) -> MirrorRecord:
    return MirrorRecord(row.record_id, row.modified_at,
                        mirror_fields(row.packed, dictionaries), bool(row.deleted))


def mirror_fields(packed: bytes, dictionaries: Mapping[int, bytes]) -> dict[str, Any]:
    """A mirrored record's fields from its stored form (a ``mirror.packed`` value)."""
    return decode_map(unpack(packed, dictionaries))


def checkpoint_row(pipeline: str, system: str, object_: str, cursor: Cursor,
                   now: datetime) -> Row:
    return {"pipeline": pipeline, "system": system, "object": object_,
            "modified_at": cursor.modified_at, "last_id": cursor.last_id, "updated_at": now}
