"""Follow-up tasks: which ones should be open for a deal, and how to get the CRM there.

A task template (handoff.yaml) is open while its trigger holds: the stage's gate is
blocked, the deal is in the stage, the stage is at risk / overdue against its day window,
an SLA clock is at risk / breached, or the receiving owner rejected the handoff (until the
sender re-submits it). It is written to its side (``side: crm``, the default: on the CRM
opportunity; ``side: prm``: on the partner's registration, so the partner sees what is
missing where they work, even before any opportunity exists). The key of a task is a hash
of (pipeline, the side's deal record, handoff type, stage or clock, kind), the record
prefixed with its side for PRM tasks, so there is at most one task per deal, side, handoff
type, stage and kind, a PRM and a CRM task never share a key, and an upsert by key is
idempotent. Comparing the desired tasks with the ledger yields the actions:

    desired, no ledger row              -> open
    desired, open, other assignee       -> reassign   (the owner changed)
    desired, open, other subject/body   -> update     (e.g. fewer fields missing)
    desired, closed by the engine       -> reopen     (the gap came back)
    desired, closed by a person         -> nothing    (never fight a human)
    not desired, open                   -> close      (the gap is filled)

A task's due date is set when it opens and never moved afterwards: a deadline that
slides every cycle is no deadline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from handoff_sync.engine.calendar import due_at
from handoff_sync.engine.ownership import Assignee
from handoff_sync.engine.stages import StageWindow
from handoff_sync.engine.types import (
    ClockState,
    TaskAction,
    TaskActionKind,
    TaskState,
)
from handoff_sync.mapping.policy.conditions import evaluate
from handoff_sync.mapping.policy.file_model import (
    BusinessCalendar,
    Duration,
    HandoffType,
    SlaClock,
    TaskTemplate,
)
from handoff_sync.mapping.policy.gates import is_rejected
from handoff_sync.mapping.policy.templates import render
from handoff_sync.model import (
    Deal,
    GateResult,
    GateStatus,
    PersonRole,
    Role,
    SlaStatus,
    TaskAnchor,
    TaskPriority,
    TaskSpec,
    TaskStatus,
    Value,
    quick_init,
)

ESCALATION_PREFIX = "escalate_"
# Used when a clock names an escalation role but no template covers its breach.
_ESCALATION_DUE = Duration(hours=4)


def task_key(pipeline: str, crm_id: str, handoff_type: str, scope: str, kind: str,
             side: Role = Role.CRM) -> str:
    """Deterministic and short enough for any external-id field (36 characters).

    ``crm_id`` is the side's deal record; a CRM task's key is what it was before tasks
    had sides (no task churn on upgrade), a PRM task's names its side too."""
    record = crm_id if side is Role.CRM else f"{side.value}:{crm_id}"
    raw = "\x1f".join((pipeline, record, handoff_type, scope, kind))
    return "hs1-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


@quick_init
@dataclass(frozen=True, slots=True)
class DesiredTask:
    """A task whose trigger holds now, before it is compared with the ledger."""

    key: str
    kind: str
    subject: str
    body: str
    assignee: Assignee
    due: Duration
    priority: TaskPriority
    side: Role = Role.CRM
    record_id: str | None = None  # the side's deal record (None: task_actions' crm_id)
    anchor: TaskAnchor = TaskAnchor.DEAL  # PARTNER: record_id is a partner account


@quick_init
@dataclass(frozen=True, slots=True)
class TaskContext:
    """What the task templates of one deal are evaluated against."""

    pipeline: str
    crm_id: str | None  # None: no opportunity yet (only PRM tasks can be wanted)
    handoff_type: str
    handoff: HandoffType
    stage_id: str
    stage_label: str
    gate: GateResult
    deal: Deal
    clocks: Mapping[str, ClockState]
    values: Mapping[str, Value]  # canonical values + computed placeholders
    assign: Callable[[PersonRole, Role], Assignee]  # a role's person on a side
    prm_id: str | None = None  # the registration, for side: prm tasks
    # False: the PRM holds no tasks (a file drop): side: prm tasks go on the opportunity.
    prm_tasks: bool = True
    stage_window: StageWindow | None = None  # the stage against its day window, if timed

    def side(self, template: TaskTemplate) -> Role:
        return Role.PRM if template.side == Role.PRM.value and self.prm_tasks else Role.CRM

    def record(self, side: Role) -> str | None:
        return self.crm_id if side is Role.CRM else self.prm_id


def desired_tasks(ctx: TaskContext) -> list[DesiredTask]:
    """Every task that should be open for this deal now, sorted by key."""
    if not ctx.gate.required:
        return []
    wanted: list[DesiredTask] = []
    covered_breaches: set[str] = set()
    clocks_by_id = {clock.id: clock for clock in ctx.handoff.slas}
    for template in ctx.handoff.tasks:
        if template.open_while == "sla_breached" and template.sla:
            covered_breaches.add(template.sla)
        side = ctx.side(template)
        record = ctx.record(side)
        if record is None or not _holds(template, ctx):
            continue
        scope = f"sla:{template.sla}" if template.sla else ctx.stage_id
        values = ctx.values
        if template.sla:
            values = {**values, **_sla_values(clocks_by_id[template.sla],
                                              ctx.clocks[template.sla])}
        wanted.append(DesiredTask(
            task_key(ctx.pipeline, record, ctx.handoff_type, scope, template.kind, side),
            template.kind, render(template.subject, values), render(template.body, values),
            ctx.assign(PersonRole(template.assignee), side), template.due,
            TaskPriority(template.priority), side, record))
    for clock in ctx.handoff.slas:
        state = ctx.clocks.get(clock.id)
        if (clock.escalate_to is None or clock.id in covered_breaches or state is None
                or ctx.crm_id is None or not _running_with(state, SlaStatus.BREACHED)):
            continue
        kind = ESCALATION_PREFIX + clock.id
        values = {**ctx.values, **_sla_values(clock, state)}
        wanted.append(DesiredTask(
            task_key(ctx.pipeline, ctx.crm_id, ctx.handoff_type, f"sla:{clock.id}", kind),
            kind, render("Escalation: {sla_label} breached for {deal_name}", values),
            render("{sla_label} was due {sla_due_at}.\nStill missing:\n{missing_fields}",
                   values),
            ctx.assign(PersonRole(clock.escalate_to), Role.CRM), _ESCALATION_DUE,
            TaskPriority.HIGH, Role.CRM, ctx.crm_id))
    return sorted(wanted, key=lambda task: task.key)


def task_actions(deal: str, crm_id: str | None, desired: Iterable[DesiredTask],
                 ledger: Iterable[TaskState], *, now: datetime,
                 calendar: BusinessCalendar | None) -> list[TaskAction]:
    """The upserts that bring this deal's tasks (``ledger``: those of its records, on
    both sides) to the desired set; ``crm_id`` for a task that names no record."""
    actions: list[TaskAction] = []
    known = {state.spec.key: state for state in ledger}
    wanted_keys: set[str] = set()
    for task in desired:
        wanted_keys.add(task.key)
        state = known.get(task.key)
        record = task.record_id or crm_id
        assert record is not None, "a task needs the record it is attached to"
        spec = TaskSpec(task.key, task.kind, record, task.subject, task.body,
                        task.assignee.email, _due(now, task.due, calendar), task.priority,
                        side=task.side, anchor=task.anchor)
        if state is None:
            actions.append(TaskAction(TaskActionKind.OPEN, spec, deal, "trigger holds"))
            continue
        held = state.spec
        if held.status is TaskStatus.DONE:
            if not state.closed_by_user:
                actions.append(TaskAction(TaskActionKind.REOPEN, spec, deal,
                                          "the gap came back after the task was closed"))
            continue
        kept = replace(spec, due_at=held.due_at)
        if held.assignee_email != kept.assignee_email:
            actions.append(TaskAction(TaskActionKind.REASSIGN, kept, deal,
                                      f"owner changed from {held.assignee_email}"))
        elif (held.subject, held.body, held.priority) != (kept.subject, kept.body,
                                                          kept.priority):
            actions.append(TaskAction(TaskActionKind.UPDATE, kept, deal, "details changed"))
    for key in sorted(known.keys() - wanted_keys):
        held = known[key].spec
        if held.status is TaskStatus.OPEN:
            actions.append(TaskAction(TaskActionKind.CLOSE, replace(held, status=TaskStatus.DONE),
                                      deal, "trigger no longer holds"))
    return sorted(actions, key=lambda action: action.task.key)


# (now, duration, calendar), by identity -> them and the due time: a cycle asks the same
# few (its one now, the policy's task durations) for every task of every deal. An entry
# keeps its objects alive, so their ids are not reused while it is held.
_DUE: dict[tuple[int, int, int],
           tuple[datetime, Duration, BusinessCalendar | None, datetime]] = {}
_DUE_LIMIT = 256


def _due(now: datetime, duration: Duration, calendar: BusinessCalendar | None) -> datetime:
    """``due_at(now, duration, calendar)``, remembered."""
    key = (id(now), id(duration), id(calendar))
    held = _DUE.get(key)
    if held is not None and held[0] is now and held[1] is duration and held[2] is calendar:
        return held[3]
    due = due_at(now, duration, calendar)
    if len(_DUE) >= _DUE_LIMIT:
        _DUE.clear()
    _DUE[key] = (now, duration, calendar, due)
    return due


def _holds(template: TaskTemplate, ctx: TaskContext) -> bool:
    if template.stages is not None and ctx.stage_id not in template.stages:
        return False
    if template.when is not None and not evaluate(template.when, ctx.deal.get):
        return False
    if template.open_while == "gate_blocked":
        return ctx.gate.status is GateStatus.BLOCKED
    if template.open_while == "stage_active":
        return True
    if template.open_while == "handoff_rejected":
        return is_rejected(ctx.handoff, ctx.deal)
    if template.open_while in ("stage_at_risk", "stage_overdue"):
        wanted_window = (StageWindow.AT_RISK if template.open_while == "stage_at_risk"
                         else StageWindow.OVERDUE)
        return ctx.stage_window is wanted_window
    state = ctx.clocks.get(template.sla or "")
    if state is None:
        return False
    wanted = SlaStatus.AT_RISK if template.open_while == "sla_at_risk" else SlaStatus.BREACHED
    return _running_with(state, wanted)


def _running_with(state: ClockState, status: SlaStatus) -> bool:
    return state.stopped_at is None and state.status is status


def _sla_values(clock: SlaClock, state: ClockState) -> dict[str, Value]:
    return {"sla_label": clock.label, "sla_due_at": state.due_at}
