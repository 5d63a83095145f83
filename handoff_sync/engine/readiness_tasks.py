"""Training tasks: one per partner and readiness dimension under its threshold.

A dimension under its threshold is a training need (engine.readiness); the partner's
channel manager (the partner account's owner, when they are an active PRM user, else the
policy's fallback owner) gets one task for it, on the partner account in the PRM. The
task is keyed by (pipeline, partner account, dimension), so a second cycle, a cycle redone
after a crash or another replica upserts the same task instead of opening another; it
goes through the task ledger like any deal task (engine.tasks.task_actions):

    dimension under its threshold, no task      -> open
    dimension back at or above its threshold    -> close
    under again after the engine closed it      -> reopen
    closed by a person                          -> left closed
    dimension with no data (a blank field, too little history)   -> left as it is

A dimension with no data says nothing about the partner's need: its task is neither
opened nor closed until the data comes. A dimension removed from the policy, or the
training task removed, closes the partner's tasks. So does a partner account that is no
longer a live partner (deleted or archived in the PRM, or its type changed): nobody is
left to train, and an open task would wait forever for a channel manager (the sync layer
treats a close the PRM refuses because the account or the task is gone as done).
Partner accounts not read this cycle (engine.plan gets None; no step here) leave every
task alone: nothing is closed on a read that did not happen.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from handoff_sync.engine.memo import PlanMemo
from handoff_sync.engine.ownership import Assignee
from handoff_sync.engine.readiness import (
    DimensionScore,
    PartnerReadiness,
    engine_histories,
    score_partners,
)
from handoff_sync.engine.readiness_memo import partner_names, readiness_scores
from handoff_sync.engine.tasks import DesiredTask, task_actions
from handoff_sync.engine.types import (
    BaseSnapshot,
    ClockState,
    EngineState,
    HandoffDecision,
    TaskAction,
    TaskState,
    Verdict,
)
from handoff_sync.mapping.policy.file_model import BusinessCalendar, HandoffPolicy
from handoff_sync.mapping.policy.measures import Readiness, TrainingTask
from handoff_sync.mapping.policy.templates import render
from handoff_sync.mapping.system.convert import MappedRecord
from handoff_sync.model import (
    OwnerDirectory,
    PartnerAccount,
    PersonRole,
    Role,
    TaskAnchor,
    TaskPriority,
    Value,
)

TRAINING_KIND = "readiness:"  # + the dimension id: a training task's kind
PARTNER_DEAL = "partner:"  # + the account id: the ledger's deal column of its tasks
GONE = "the account is no longer a live partner in the PRM"  # the close's reason


def training_key(pipeline: str, partner_id: str, dimension_id: str) -> str:
    """Deterministic, in the task keys' format (36 characters), and never a deal task's:
    the hashed text names the partner account, which no deal task's does."""
    raw = "\x1f".join((pipeline, "partner", partner_id, "readiness", dimension_id))
    return "hs1-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def dimension_of(kind: str) -> str | None:
    """The dimension id of a training task's kind (None: not a training task)."""
    return kind.removeprefix(TRAINING_KIND) if kind.startswith(TRAINING_KIND) else None


def training_actions(pipeline: str, readiness: Readiness | None,
                     partners: Mapping[str, PartnerAccount],
                     scores: Mapping[str, PartnerReadiness], ledger: Iterable[TaskState], *,
                     owners: OwnerDirectory, fallback_email: str,
                     calendars: Mapping[str, BusinessCalendar], now: datetime
                     ) -> list[TaskAction]:
    """The upserts that bring the training tasks of ``partners`` (the live partner
    accounts read this cycle, by id) to what their ``scores`` (by id; none without a
    readiness section: their tasks close) ask for; the open tasks of a partner not in
    ``partners`` (no longer one) close. ``owners``: the PRM's users."""
    template = readiness.training_task if readiness is not None else None
    declared = {d.id for d in readiness.dimensions} if readiness is not None else set()
    held: dict[str, list[TaskState]] = defaultdict(list)
    for state in ledger:
        if state.spec.anchor is TaskAnchor.PARTNER:
            held[state.spec.crm_id].append(state)
    calendar = (calendars.get(template.calendar) if template is not None
                and template.calendar is not None else None)
    actions: list[TaskAction] = []
    for partner_id in sorted(held.keys() - partners.keys()):  # no longer a partner
        actions.extend(dataclasses.replace(action, reason=GONE) for action in task_actions(
            PARTNER_DEAL + partner_id, partner_id, [], held[partner_id], now=now,
            calendar=calendar))
    for partner_id in sorted(partners):
        account, partner = partners[partner_id], scores.get(partner_id)
        waiting = set() if partner is None else {
            d.id for d in partner.dimensions if d.score is None}
        mine = [state for state in held.get(partner_id, ())
                if dimension_of(state.spec.kind) not in waiting
                or dimension_of(state.spec.kind) not in declared]
        wanted = [] if template is None or partner is None else [
            _desired(pipeline, template, account, partner, dimension, owners,
                     fallback_email) for dimension in partner.under]
        actions.extend(task_actions(PARTNER_DEAL + partner_id, partner_id, wanted, mine,
                                    now=now, calendar=calendar))
    return actions


def _desired(pipeline: str, template: TrainingTask, account: PartnerAccount,
             partner: PartnerReadiness, dimension: DimensionScore, owners: OwnerDirectory,
             fallback_email: str) -> DesiredTask:
    values = template_values(account, partner, dimension)
    return DesiredTask(
        training_key(pipeline, partner.partner_id, dimension.id),
        TRAINING_KIND + dimension.id, render(template.subject, values),
        render(template.body, values), channel_manager(partner, owners, fallback_email),
        template.due, TaskPriority(template.priority), Role.PRM, partner.partner_id,
        TaskAnchor.PARTNER)


def channel_manager(partner: PartnerReadiness, owners: OwnerDirectory,
                    fallback_email: str) -> Assignee:
    """The partner account's owner when they are one active PRM user, else the fallback."""
    wanted = partner.channel_manager.strip().lower() if partner.channel_manager else None
    if wanted and owners.id_for(wanted) is not None:
        return Assignee(wanted, PersonRole.MANAGER, wanted, True, side=Role.PRM)
    return Assignee(fallback_email, PersonRole.MANAGER, wanted, False, side=Role.PRM)


def template_values(account: PartnerAccount, partner: PartnerReadiness,
                    dimension: DimensionScore) -> dict[str, Value]:
    """What a training task's {placeholders} are filled with (TRAINING_PLACEHOLDERS)."""
    return {
        "partner_name": partner.name,
        "dimension_label": dimension.label,
        "dimension_score": _number(dimension.score),
        "dimension_value": dimension.value,
        "threshold": _number(dimension.threshold),
        "readiness_score": _number(partner.score),
        "channel_manager_email": partner.channel_manager,
        **account.values,
    }


def _number(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


class PlannedChanges(Protocol):
    """What engine.plan has planned for the deals so far (its collector)."""

    verdicts: list[Verdict]
    clocks: list[ClockState]
    decisions: list[HandoffDecision]
    bases: list[BaseSnapshot]


def deal_tasks(state: EngineState) -> EngineState:
    """``state`` with only the deals' tasks in its ledger (no partner's training task)."""
    return dataclasses.replace(state, tasks={
        key: task for key, task in state.tasks.items() if task.spec.anchor is TaskAnchor.DEAL})


def readiness_step(pipeline: str, policy: HandoffPolicy, partners: Mapping[str, PartnerAccount],
                   registrations: Mapping[str, MappedRecord], state: EngineState,
                   planned: PlannedChanges, *, owners: OwnerDirectory, now: datetime,
                   crm_records: Mapping[str, MappedRecord] | None = None,
                   links: Mapping[str, str] | None = None, memo: PlanMemo | None = None,
                   reuse: bool = False) -> list[TaskAction]:
    """engine.plan's training tasks: every partner scored on the store's history with
    the deals' ``planned`` changes applied, so a full and an incremental plan score
    alike; ``registrations``: the PRM records by id, ``crm_records`` the CRM's and
    ``links`` registration id -> CRM id (where a deal's partner_account is read).
    ``memo``: the last scoring, read again only where it changed (engine.readiness_memo;
    afresh unless ``reuse``)."""
    verdicts, clocks, decisions, bases = (planned.verdicts, planned.clocks,
                                          planned.decisions, planned.bases)
    measures = policy.measures
    readiness = measures.readiness
    scores: dict[str, PartnerReadiness] = {}
    if readiness is not None:
        all_bases = {**state.bases, **{b.deal: b for b in bases}}
        all_clocks = {**state.clocks, **{(c.deal, c.handoff_type, c.clock): c
                                         for c in clocks}}
        all_verdicts = {**state.verdicts, **{v.deal: v for v in verdicts}}
        all_decisions = {**state.decisions, **{d.deal: d for d in decisions}}
        if memo is not None:
            return training_actions(
                pipeline, readiness, partners, readiness_scores(
                    memo.readiness, reuse, readiness, measures.min_sample, partners,
                    registrations, crm_records or {}, links or {}, all_bases, all_verdicts,
                    all_clocks, all_decisions), state.tasks.values(), owners=owners,
                fallback_email=policy.ownership.fallback_owner_email,
                calendars=policy.calendars, now=now)
        partner_of = partner_names(registrations, crm_records or {}, links or {}, all_bases)
        deals = engine_histories(partner_of, all_verdicts, all_clocks.values(), all_decisions,
                                 all_bases)
        scores = {p.partner_id: p for p in score_partners(
            readiness, partners.values(), deals, min_sample=measures.min_sample)}
    return training_actions(pipeline, readiness, partners, scores, state.tasks.values(),
                            owners=owners, fallback_email=policy.ownership.fallback_owner_email,
                            calendars=policy.calendars, now=now)
