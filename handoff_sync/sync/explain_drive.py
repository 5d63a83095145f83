"""`mappings explain`'s second half: what the daemon would do with one record.

The mapping layer (mapping.explain) may not import the engine, so the drive - stage
autopilot, tasks, creation and routing, accept or reject - is worked out here by running
the engine's own ``plan`` on the record alone, as a first cycle with no store (like the
offline `plan`): the words are the ones `plan` and the daemon use, not a second reading
of handoff.yaml. Alone means no other side: a registration is planned as one no
opportunity matches (so the creation step runs), an opportunity as one no registration
names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from handoff_sync.engine.plan import EngineInput, plan
from handoff_sync.engine.stages import WINDOW_WORDS, StageWindow
from handoff_sync.engine.types import DecisionKind, EngineState
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.policy.conditions import describe_condition, evaluate
from handoff_sync.mapping.policy.templates import format_value
from handoff_sync.mapping.system.convert import flatten_record, to_canonical
from handoff_sync.model import (
    Acceptance,
    Deal,
    OwnerDirectory,
    Role,
    SystemName,
    TaskStatus,
)

_SIDE_WORDS = {Role.PRM: "partner, on the registration", Role.CRM: "CRM, on the opportunity"}


@dataclass(frozen=True)
class Drive:
    """What the daemon would do with the record: each part as lines for the text and a
    plain dict for --json (so both say the same)."""

    stage: dict[str, Any] | None  # None: no handoff type applies
    tasks: list[dict[str, Any]]
    creation: dict[str, Any] | None  # None: not a registration
    acceptance: dict[str, Any] | None  # None: no acceptance for this handoff type
    # A CRM record alone has no registration to put the partner's tasks on.
    partner_tasks_elsewhere: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "tasks": self.tasks, "creation": self.creation,
                "acceptance": self.acceptance,
                "partner_tasks_elsewhere": self.partner_tasks_elsewhere}


def drive(mappings: MappingSet, system: SystemName, raw: dict[str, Any],
          owners: OwnerDirectory, now: datetime) -> Drive:
    """The engine's first-cycle plan for the record alone, in an admin's terms.

    ``owners``: the users --owners gave (empty: unknown); used for both sides' people."""
    mapping = mappings.for_system(system)
    if mapping is None:
        raise ValueError(f"the mappings in {mappings.folder} do not map {system.value}")
    record = to_canonical(mapping, flatten_record(system, raw), owners)
    role = mapping.role
    planned = plan(EngineInput("explain", mappings,
                               (record,) if role is Role.PRM else (),
                               (record,) if role is Role.CRM else (),
                               EngineState(), now, owners, owners))
    policy = mappings.policy
    verdict = planned.verdicts[0] if planned.verdicts else None
    handoff = (policy.handoff_types[verdict.handoff_type]
               if verdict is not None and verdict.handoff_type is not None else None)
    stage_part: dict[str, Any] | None = None
    if verdict is not None and handoff is not None:
        stage = next(s for s in handoff.stages if s.id == verdict.stage)
        moves = [line for move in planned.stage_moves for line in move.reasons]
        stage_part = {
            "handoff_type": verdict.handoff_type, "stage": stage.id, "label": stage.label,
            "auto_advance": stage.auto_advance, "last": stage is handoff.stages[-1],
            "days": list(stage.days), "entered_at": verdict.stage_entered_at,
            "entered_from": _entry_source(record.values, stage.entered_at,
                                          verdict.stage_entered_at, now),
            "due_at": verdict.stage_due_at,
            "window": verdict.stage_window, "moves": moves,
            "earlier_failing": list(verdict.ahead_of_gate),
            "writes": bool(record.record_id) and role is Role.CRM}
    tasks: list[dict[str, Any]] = []
    for action in planned.tasks:
        task = action.task
        if task.status is not TaskStatus.OPEN or handoff is None:
            continue
        template = next((t for t in handoff.tasks if t.kind == task.kind), None)
        tasks.append({"kind": task.kind, "side": task.side.value,
                      "where": _SIDE_WORDS[task.side],
                      "role": template.assignee if template is not None else None,
                      "assignee": task.assignee_email if len(owners) else None,
                      "subject": task.subject})
    deal = Deal.from_values({k: v for k, v in record.values.items() if v is not None})
    creation = _creation(mappings, role, record.values.get("crm_id"), deal, planned,
                         bool(len(owners))) if role is Role.PRM else None
    acceptance = None
    state = deal.handoff_acceptance or Acceptance.PENDING.value
    # The receiver decides on the CRM record: a registration shows a decision it holds.
    if handoff is not None and handoff.acceptance is not None and (
            role is Role.CRM or state != Acceptance.PENDING):
        decision = next((d for d in planned.decisions
                         if d.decision in (DecisionKind.ACCEPTED, DecisionKind.REJECTED)),
                        None)
        acceptance = {"state": str(state), "receiver": handoff.acceptance.receiver,
                      "sender": handoff.acceptance.sender,
                      "reason": deal.handoff_rejection_reason
                      if state == Acceptance.REJECTED else None,
                      "reopens": handoff.acceptance.reopens or handoff.stages[0].id,
                      "recorded_by": decision.by if decision is not None else None,
                      "rejection_task": next((t.kind for t in handoff.tasks
                                              if t.open_while == "handoff_rejected"), None)}
    return Drive(stage_part, tasks, creation, acceptance,
                 partner_tasks_elsewhere=role is Role.CRM and handoff is not None
                 and any(t.side == Role.PRM.value for t in handoff.tasks))


def _entry_source(values: Any, history: str | None, entered: datetime | None,
                  now: datetime) -> str | None:
    """Where the stage's entry time came from, as plan's autopilot took it."""
    if entered is None:
        return None
    if values.get("stage_entered_at") == entered:
        return "the record's stage_entered_at"
    if history is not None and values.get(history) == entered:
        return history
    return "now: first seen" if entered == now else None


def _creation(mappings: MappingSet, role: Role, crm_id: object, deal: Deal,
              planned: Any, owners_known: bool) -> dict[str, Any]:
    """Whether the registration gets an opportunity created, for whom and why (or why not)."""
    creation = mappings.policy.creation
    made = planned.creations[0] if planned.creations else None
    part: dict[str, Any] = {"created": made is not None, "why_not": None, "owner": None,
                            "rule": None, "reason": None, "owners_known": owners_known,
                            "when": describe_condition(creation.when)
                            if creation is not None else None}
    if made is not None:
        if owners_known:
            part.update(owner=made.owner_email, rule=made.rule, reason=made.reason)
        return part
    if crm_id not in (None, ""):
        why = f"it names opportunity {crm_id}: linked, not created"
    elif creation is None:
        why = "handoff.yaml has no creation: section (grade only)"
    elif mappings.crm.create is None:
        why = f"{mappings.crm.file.name} has no create: section"
    elif not evaluate(creation.when, deal.get):
        why = f"creation.when does not hold ({part['when']})"
    else:
        why = "its handoff is not required"
    part["why_not"] = why
    return part


def drive_lines(found: Drive) -> list[str]:
    """The drive as `mappings explain` prints it, after the gate."""
    lines: list[str] = []
    stage = found.stage
    if stage is not None:
        lines += ["", "Stage autopilot:"]
        if stage["last"]:
            lines.append("  advance:    no (the last stage of its handoff)")
        elif stage["auto_advance"]:
            lines.append("  advance:    by itself once its gate and every earlier gate pass "
                         "(auto_advance)")
        else:
            lines.append("  advance:    only when a person moves it (no auto_advance)")
        if stage["entered_at"] is not None:
            source = f" ({stage['entered_from']})" if stage["entered_from"] else ""
            lines.append(f"  entered:    {format_value(stage['entered_at'])}{source}")
        if stage["due_at"] is not None and stage["window"] is not None:
            words = WINDOW_WORDS[StageWindow(stage["window"])]
            lines.append(f"  window:     days {stage['days'][0]}-{stage['days'][1]}, ends "
                         f"{format_value(stage['due_at'])}: {words}")
        for move in stage["moves"]:
            lines.append(f"  would move: {move}")
        for earlier in stage["earlier_failing"]:
            lines.append(f"  earlier stage incomplete: {earlier}")
        if not stage["writes"]:
            lines.append("  (the daemon sets and moves stages on the CRM opportunity only)")
    if found.creation is not None:
        lines += ["", "Opportunity:"]
        made = found.creation
        if not made["created"]:
            lines.append(f"  not created: {made['why_not']}")
        elif made["owners_known"]:
            lines.append(f"  created, owner {made['owner']} by {made['rule']}")
            lines.append(f"  why:        {made['reason']}")
        else:
            lines.append("  created (creation.when holds: " + str(made["when"]) + ")")
            lines.append("  owner:      unknown without --owners USERS.json (routing picks "
                         "only active CRM users)")
    if found.stage is not None:
        lines += ["", "Open tasks:"]
        if not found.tasks:
            lines.append("  none")
        for task in found.tasks:
            who = task["assignee"] or "owners unknown"
            lines.append(f"  - {task['kind']}: {task['where']}, for {task['role']} ({who})")
        if found.partner_tasks_elsewhere:
            lines.append("  (partner tasks go on the registration: explain it too)")
    if found.acceptance is not None:
        taken = found.acceptance
        lines += ["", "Acceptance:"]
        if taken["state"] == Acceptance.REJECTED:
            lines.append(f"  rejected: {taken['reason'] or '(no reason given)'}")
            named = f" ({taken['rejection_task']} task)" if taken["rejection_task"] else ""
            lines.append(f"  reopens stage {taken['reopens']}; back to {taken['sender']} "
                         f"as a task{named}")
        elif taken["state"] == Acceptance.ACCEPTED:
            lines.append(f"  accepted by {taken['recorded_by'] or taken['receiver']}")
        else:
            lines.append(f"  pending: {taken['receiver']} accepts or rejects it on the CRM "
                         "record")
    return lines


__all__ = ["Drive", "drive", "drive_lines"]
