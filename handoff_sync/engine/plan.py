"""engine.plan(): link, reconcile, gate, clock and task every deal of one cycle into a Plan.

The single entry point of the pure core. Per deal (a linked pair, or a registration or
opportunity on its own):

1. reconcile the two sides against the base snapshot (three-way merge) -> merged deal;
2. record a change of the receiving owner's accept/reject decision and plan a
   re-submission's reset (engine.acceptance); evaluate its gate (policy.gates: a rejected
   handoff reopens an earlier gate) and the gates of stages it has already passed;
3. advance its SLA clocks;
4. compute the outputs reps see (gate status, completeness, missing fields, SLA, brief)
   and write to each side only the values that differ from what it holds;
5. compare the tasks that should be open with the task ledger.

Records the sync layer did not pull this cycle may be passed from its mirror of the last read;
a linked pair with one side absent plans from the base snapshot for that side, writing none.

A record left unlinked whose id field still names its former counterpart (re-linked by hand,
or the counterpart deleted: see engine.link, stale id fields) is planned as if the field were
blank, and its write blanks it. Writes that take an id off a record (blank it, or replace it)
come first in ``Plan.writes`` (``FieldWrite.releases``); a replacement taking an id another
replacing record holds (a swap, a chain of re-links) is split into a blank first and the
write last (engine.id_passes), so a record may have two writes in one plan.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from connectors.base import ObjectSchema
from connectors.reading import is_blank
from connectors.registry import SYSTEMS
from handoff_sync.engine.acceptance import (
    UNREVIEWED_FIELDS,
    AcceptanceStep,
    acceptance_step,
    write_sets,
)
from handoff_sync.engine.baselines import baseline_for
from handoff_sync.engine.carry import carry_over, moving_ids
from handoff_sync.engine.create import creation_step
from handoff_sync.engine.deals import deal_from
from handoff_sync.engine.gate_view import (
    Fails,
    failing_earlier_gates,
    gate_fails,
    shown_gate,
    template_values,
)
from handoff_sync.engine.id_passes import split_waiting_replacements
from handoff_sync.engine.link import StaleId, link_records
from handoff_sync.engine.memo import PlanMemo
from handoff_sync.engine.merges import Merge, merge_of
from handoff_sync.engine.ownership import (
    Assignee,
    duplicate_owner_reviews,
    resolve_on_prm,
    resolve_person,
    unresolved_owner_review,
    unresolved_prm_owner_reviews,
)
from handoff_sync.engine.readiness_tasks import deal_tasks, readiness_step
from handoff_sync.engine.reconcile import Reconciler
from handoff_sync.engine.sla import (
    advance_clocks,
    first_seen_notes,
    headline_clock,
)
from handoff_sync.engine.stages import (
    StageWindow,
    decided_values,
    place,
    stage_window,
    window_line,
)
from handoff_sync.engine.stored import StoredForms
from handoff_sync.engine.tasks import TaskContext, desired_tasks, task_actions
from handoff_sync.engine.time_driven import (  # the sync layer imports it from here
    clock_driven_deals as clock_driven_deals,
)
from handoff_sync.engine.types import (
    LINK_ID_FIELDS,
    BaseSnapshot,
    ClockState,
    Conflict,
    EngineState,
    FieldWrite,
    HandoffBaseline,
    HandoffDecision,
    LinkChange,
    Plan,
    ReviewItem,
    SlaEvent,
    StageMove,
    TaskAction,
    TaskState,
    Verdict,
    deal_key,
)
from handoff_sync.engine.value_reviews import invalid_value_review, unwritable_review
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.policy.gates import evaluate_gate, handoff_type_of
from handoff_sync.mapping.policy.templates import render_brief
from handoff_sync.mapping.system.conflicts import ConflictPolicy
from handoff_sync.mapping.system.convert import MappedRecord, SystemMapping
from handoff_sync.model import (
    ROLE_FIELDS,
    Deal,
    GateResult,
    Output,
    OwnerDirectory,
    PartnerAccount,
    PersonRole,
    Role,
    TaskStatus,
    Value,
)


@dataclass(frozen=True)
class EngineInput:
    """Everything one cycle of one pipeline plans from."""

    pipeline: str
    mappings: MappingSet
    prm: Sequence[MappedRecord]
    crm: Sequence[MappedRecord]
    state: EngineState
    now: datetime  # aware UTC; the only clock the engine knows
    crm_owners: OwnerDirectory  # CRM tasks and owner fields resolve against the CRM's users
    # ... PRM tasks (side: prm) and the partner rep's stage against the PRM's.
    prm_owners: OwnerDirectory = dataclasses.field(default_factory=OwnerDirectory)
    # None: plan every deal. Otherwise plan only the deals this can change (see Dirty);
    # every other deal's plan would be empty, so skipping it changes nothing.
    dirty: Dirty | None = None
    # Each side's deal object as its system describes it: a value longer or larger than
    # the field holds is not written but raised for review. Absent: no limits known.
    limits: Mapping[Role, ObjectSchema] = dataclasses.field(
        default_factory=lambda: MappingProxyType({}))
    create: bool = True  # the pipeline's create_opportunities: False grades only
    # Review keys a person dismissed: a dismissed direct-deal conflict (it is not that
    # deal) no longer holds its registration's creation back (engine.create).
    dismissed: frozenset[str] = frozenset()
    # The live partner accounts by id, for training tasks (engine.readiness_tasks);
    # None: not read this cycle (no partners: section, a failed read): left as they are.
    partners: Mapping[str, PartnerAccount] | None = None
    carry: Plan | None = None  # where the deals ``dirty`` leaves out come from (engine.carry)
    merges: Mapping[str, Merge] | None = None  # another plan's field merges (engine.merges)
    memo: PlanMemo | None = None  # a cache of the steps over every record (engine.memo)


@dataclass(frozen=True)
class Dirty:
    """What changed since the last recorded cycle, so only the deals it touches are planned.

    A deal is planned when one of its records changed, when its link was made or removed
    this cycle, or when its key is in ``deals`` (the sync layer adds deals whose SLA clocks
    are running: time alone moves them). Linking looks at every record (engine.memo: once).
    """

    prm: frozenset[str] = frozenset()  # PRM record ids read with new content (or deleted)
    crm: frozenset[str] = frozenset()
    deals: frozenset[str] = frozenset()  # deal keys to plan whatever changed


@dataclass
class _Collector:
    writes: list[FieldWrite] = dataclasses.field(default_factory=list)
    tasks: list[TaskAction] = dataclasses.field(default_factory=list)
    verdicts: list[Verdict] = dataclasses.field(default_factory=list)
    events: list[SlaEvent] = dataclasses.field(default_factory=list)
    clocks: list[ClockState] = dataclasses.field(default_factory=list)
    bases: list[BaseSnapshot] = dataclasses.field(default_factory=list)
    conflicts: list[Conflict] = dataclasses.field(default_factory=list)
    reviews: dict[str, ReviewItem] = dataclasses.field(default_factory=dict)
    decisions: list[HandoffDecision] = dataclasses.field(default_factory=list)
    baselines: list[HandoffBaseline] = dataclasses.field(default_factory=list)
    moves: list[StageMove] = dataclasses.field(default_factory=list)

    def review(self, item: ReviewItem | None) -> None:
        if item is not None:
            self.reviews.setdefault(item.key, item)


def plan(inputs: EngineInput) -> Plan:
    """The plan for one cycle: deterministic, sorted, and empty when nothing is to do."""
    mappings, memo, reuse = inputs.mappings, inputs.memo, inputs.dirty is not None
    linked = link_records(inputs.prm, inputs.crm, inputs.state.links,
                          mappings.policy.matching, former=_former(inputs.state),
                          clearable=_clearable(mappings), memo=memo, reuse=reuse)
    out = _Collector()
    prm_by_id = {r.record_id: r for r in inputs.prm if r.record_id and not r.deleted}
    crm_by_id = {r.record_id: r for r in inputs.crm if r.record_id and not r.deleted}
    created = creation_step(inputs.pipeline, mappings, prm_by_id, crm_by_id, linked,
                            inputs.state, inputs.crm_owners, create=inputs.create,
                            dismissed=inputs.dismissed, memo=memo, reuse=reuse)
    # A look-alike's ambiguous_link item is restated as a channel conflict (engine.create).
    for item in (*(i for i in linked.reviews if i.key not in created.replaced),
                 *created.reviews):
        out.review(item)
    fallback = mappings.policy.ownership.fallback_owner_email
    for role, owners in ((Role.CRM, inputs.crm_owners), (Role.PRM, inputs.prm_owners)):
        for item in duplicate_owner_reviews(owners, role, mappings.side(role).system.value,
                                            fallback):
            out.review(item)
    # Deals are planned against their own tasks; the partners' are readiness_step's.
    planner = _DealPlanner(dataclasses.replace(inputs, state=deal_tasks(inputs.state)), out)
    for stale in linked.stale:
        by_id = prm_by_id if stale.role is Role.PRM else crm_by_id
        if (record := by_id.get(stale.record_id)) is not None:
            by_id[stale.record_id] = planner.clear(stale, record)
    claimed_crm: set[str] = set()
    carry = inputs.carry if inputs.dirty is not None else None
    wanted = _wanted(inputs.dirty, linked.changes, linked.stale, moving_ids(carry))
    deals = 0
    planned: set[str] = set()
    for prm_id, link in sorted(linked.links.items()):  # ids are unique: links not compared
        claimed_crm.add(link.crm_id)
        prm, crm = prm_by_id.get(prm_id), crm_by_id.get(link.crm_id)
        if (prm is None and crm is None) or not wanted(prm_id, link.crm_id):
            continue
        planner.plan_deal(prm, crm, prm_id, link.crm_id)
        planned.add(deal_key(prm_id, link.crm_id))
        deals += 1
    for prm_id in sorted(prm_by_id.keys() - linked.links.keys()):
        record = prm_by_id[prm_id]
        if record.in_scope and wanted(prm_id, None):
            planner.plan_deal(record, None, prm_id, None)
            planned.add(deal_key(prm_id, None))
            deals += 1
    for crm_id in sorted(crm_by_id.keys() - claimed_crm):
        if wanted(None, crm_id):
            planner.plan_deal(None, crm_by_id[crm_id], None, crm_id)
            planned.add(deal_key(None, crm_id))
            deals += 1
    if carry is not None:
        deals = carry_over(out, carry, planned)
    records = {Role.PRM: prm_by_id, Role.CRM: crm_by_id}

    def held(role: Role, record_id: str, name: str) -> Value:
        record = records[role].get(record_id)
        return record.values.get(name) if record is not None else None

    for item in planner.prm_owner_reviews(prm_by_id):
        out.review(item)
    if inputs.partners is not None:  # scored on the history with this plan applied
        out.tasks.extend(readiness_step(
            inputs.pipeline, mappings.policy, inputs.partners, prm_by_id, inputs.state, out,
            owners=inputs.prm_owners, now=inputs.now, crm_records=crm_by_id, memo=memo,
            links={prm_id: link.crm_id for prm_id, link in linked.links.items()}, reuse=reuse))
    writes = split_waiting_replacements(out.writes, held)
    return Plan(
        pipeline=inputs.pipeline, now=inputs.now, links=linked.changes,
        creations=created.creations,
        writes=tuple(sorted(writes, key=lambda w: (w.rank, w.role.value, w.record_id))),
        tasks=tuple(sorted(out.tasks, key=lambda t: t.task.key)),
        verdicts=tuple(sorted(out.verdicts, key=lambda v: v.deal)),
        sla_events=tuple(sorted(out.events, key=lambda e: (e.deal, e.handoff_type, e.clock,
                                                          e.at, e.kind.value))),
        clocks=tuple(sorted(out.clocks, key=lambda c: (c.deal, c.handoff_type, c.clock))),
        bases=tuple(sorted(out.bases, key=lambda b: b.deal)),
        conflicts=tuple(sorted(out.conflicts, key=lambda c: (c.deal, c.field))),
        decisions=tuple(sorted(out.decisions, key=lambda d: d.deal)),  # stable: keeps order
        baselines=tuple(sorted(out.baselines, key=lambda b: (b.deal, b.handoff_type))),
        reviews=tuple(out.reviews[key] for key in sorted(out.reviews)),
        stage_moves=tuple(sorted(out.moves, key=lambda m: m.deal)),
        deals=deals,
        planned_deals=None if inputs.dirty is None or carry is not None else frozenset(planned),
    )


# The id field each side's records hold of the other side's record.
_ID_FIELD = {Role.PRM: "crm_id", Role.CRM: "prm_id"}


def _former(state: EngineState) -> Callable[[str], str | None]:
    """Registration -> the opportunity of its base snapshot: the pair it was in last
    cycle, even when the link has moved since (a person re-linked it) or is gone."""
    bases = state.bases

    def former(prm_id: str) -> str | None:
        base = bases.get(deal_key(prm_id, None))
        crm_id = base.agreed.get("crm_id") if base is not None else None
        return crm_id if isinstance(crm_id, str) else None

    return former


def _clearable(mappings: MappingSet) -> frozenset[Role]:
    """The sides whose id field the field rules let the engine write (and so blank)."""
    sides = set()
    for role, name in _ID_FIELD.items():
        rule = mappings.sync.get(name)
        writes = rule is not None and (rule.prm_writes if role is Role.PRM
                                       else rule.crm_writes)
        if writes and rule is not None and rule.policy != ConflictPolicy.READ_ONLY:
            sides.add(role)
    return frozenset(sides)


def _wanted(dirty: Dirty | None, changes: Sequence[LinkChange], stale: Sequence[StaleId],
            also: frozenset[str]) -> Callable[[str | None, str | None], bool]:
    """Whether the deal of (prm id, crm id) is to be planned this cycle."""
    if dirty is None:
        return lambda prm_id, crm_id: True
    # A record left holding a stale id is planned to blank it, changed or not.
    relinked_prm = {change.link.prm_id for change in changes}
    relinked_prm.update(s.record_id for s in stale if s.role is Role.PRM)
    # ... and so is the registration it names, whose base waits on it (FieldWrite.holds).
    relinked_prm.update(s.names for s in stale if s.role is Role.CRM)
    relinked_crm = {change.link.crm_id for change in changes}
    relinked_crm.update(s.record_id for s in stale if s.role is Role.CRM)

    def wanted(prm_id: str | None, crm_id: str | None) -> bool:
        return (prm_id in dirty.prm or crm_id in dirty.crm or prm_id in relinked_prm
                or crm_id in relinked_crm or deal_key(prm_id, crm_id) in dirty.deals
                or deal_key(prm_id, crm_id) in also)

    return wanted


class _DealPlanner:
    """Plans one deal at a time; holds the per-cycle lookups every deal shares."""

    def __init__(self, inputs: EngineInput, out: _Collector) -> None:
        self.inputs = inputs
        self.out = out
        self.policy = inputs.mappings.policy
        self.sides: dict[Role, SystemMapping] = {Role.PRM: inputs.mappings.prm,
                                                 Role.CRM: inputs.mappings.crm}
        self.stored = StoredForms(self.sides, {Role.PRM: inputs.prm_owners,
                                               Role.CRM: inputs.crm_owners}, inputs.limits)
        self.reconcile = Reconciler(inputs.mappings.sync, stored=self.stored)
        # (side, record id) -> the stale id field its write blanks (see clear)
        self.clears: dict[tuple[Role, str], str] = {}
        # (side, record id) -> the deals whose base waits on its blanking (FieldWrite.holds)
        self.holds: dict[tuple[Role, str], tuple[str, ...]] = {}
        # (side, deal record) -> the ledger's tasks on it
        self.tasks_by_record: dict[tuple[Role, str], list[TaskState]] = defaultdict(list)
        for state in inputs.state.tasks.values():
            self.tasks_by_record[(state.spec.side, state.spec.crm_id)].append(state)
        self.clocks_by_deal: dict[str, dict[str, dict[str, ClockState]]] = defaultdict(
            lambda: defaultdict(dict))
        for (key, type_id, clock_id), clock in inputs.state.clocks.items():
            self.clocks_by_deal[key][type_id][clock_id] = clock
        # Stages whose gate_passed events some SLA clock listens to, per handoff type.
        self.watched_gates = {
            type_id: {event.stage for clock in handoff.slas for event in (clock.start,
                      *clock.stops) if event.on == "gate_passed" and event.stage}
            for type_id, handoff in self.policy.handoff_types.items()}

    def clear(self, stale: StaleId, record: MappedRecord) -> MappedRecord:
        """The record as it holds once its stale id field is blanked; its write says so."""
        name = _ID_FIELD[stale.role]
        self.clears[(stale.role, stale.record_id)] = name
        if stale.role is Role.CRM:  # the registration's base holds the former pair
            self.holds[(stale.role, stale.record_id)] = (deal_key(stale.names, None),)
        return dataclasses.replace(record, values=MappingProxyType({**record.values,
                                                                    name: None}))

    def plan_deal(self, prm: MappedRecord | None, crm: MappedRecord | None,
                  prm_id: str | None, crm_id: str | None) -> None:
        inputs, out = self.inputs, self.out
        key = deal_key(prm_id, crm_id)
        linked = prm_id is not None and crm_id is not None
        base = inputs.state.bases.get(key) if linked else None
        if base is not None and base.agreed.get("crm_id") not in (None, crm_id):
            # Re-linked to another opportunity (a person resolved a review): the old
            # pair's agreed values say nothing about this pair. Merging against them
            # would read every difference as an edit of the new opportunity and copy
            # its values over the registration.
            base = None
        # A linked side not pulled this cycle (and not in the mirror) is None here:
        # reconcile takes it to hold its base values and plans no write to it.
        merged = merge_of(self.inputs.merges, self.reconcile, key, prm, crm, base,
                          (prm_id, crm_id))
        deal = deal_from(merged.merged, inputs.pipeline)
        step = self._acceptance(key, deal, prm, crm)
        deal = step.deal  # as it holds once a re-submission's reset is written
        out.decisions.extend(step.decisions)
        previous = inputs.state.verdicts.get(key)
        placement = place(self.policy, deal, drives=crm_id is not None,
                          before=base.agreed if base is not None else None,
                          previous=previous, now=inputs.now, rejection=step.rejection)
        decided = decided_values(deal, placement)
        if decided:  # the autopilot moved the deal: merge again with its position
            merged = self.reconcile.redecide(merged, prm, crm, decided)
        if (move := placement.move(key, deal)) is not None:
            out.moves.append(move)
        deal = placement.applied(deal)
        out.conflicts.extend(merged.conflicts)
        for read in (r for r in (prm, crm) if r is not None):
            for issue in read.issues:
                if issue.name not in UNREVIEWED_FIELDS:
                    out.review(invalid_value_review(key, read, issue))
        for rejected in merged.rejected:
            out.review(unwritable_review(self.sides[rejected.role], key, rejected,
                                         crm if rejected.role is Role.CRM else prm))
        gate = evaluate_gate(self.policy, deal)
        clocks: Mapping[str, ClockState] = {}
        stage_owner: str | None = None
        ahead: tuple[str, ...] = ()
        values: dict[str, Value] = {}
        window: tuple[datetime, StageWindow] | None = None
        shown = gate  # the gate people see: earlier failing gates included
        if gate.handoff_type is not None:
            handoff = self.policy.handoff_types[gate.handoff_type]
            stage = next(s for s in handoff.stages if s.id == gate.stage)
            # Gate results per stage id for this deal (missing fields do not depend on
            # whether a handoff is required): earlier and watched stages often coincide.
            fails: Fails = {gate.stage: bool(gate.missing)}
            ahead = failing_earlier_gates(self.policy, deal, gate, fails)
            shown = shown_gate(self.policy, deal, gate, ahead)
            if gate.required and deal.stage_entered_at is not None:
                window = stage_window(stage, deal.stage_entered_at, inputs.now)
            # The partner rep's stage is theirs in the PRM; its tasks raise any review.
            owner = (self._prm_assignee(deal, PersonRole.PRM_OWNER)
                     if stage.owner == PersonRole.PRM_OWNER.value
                     else self._assign(key, deal, PersonRole(stage.owner)))
            stage_owner = owner.email
            update = advance_clocks(
                deal=deal, deal_key=key, handoff_type=gate.handoff_type, handoff=handoff,
                calendars=self.policy.calendars, required=gate.required,
                gates_passed=self._gates_passed(deal, gate.handoff_type, fails),
                previous=self.clocks_by_deal[key][gate.handoff_type], now=inputs.now,
                escalation_email=lambda role: self._assign(key, deal, PersonRole(role)).email,
                accepted_at=step.accepted_at)
            clocks = update.clocks
            out.clocks.extend(update.changed)
            out.events.extend(update.events)
            values = template_values(deal, shown, handoff.label, stage.label, window)
            calendar = self.policy.calendars.get(handoff.calendar or "")
            context = TaskContext(
                inputs.pipeline, crm_id, gate.handoff_type, handoff, stage.id,
                stage.label, shown, deal, clocks, values,
                lambda role, side: self._assign_on(side, key, deal, role), prm_id=prm_id,
                prm_tasks=self.sides[Role.PRM].tasks is not None,
                stage_window=window[1] if window else None)
            out.tasks.extend(task_actions(key, crm_id, desired_tasks(context),
                                          self._ledger(prm_id, crm_id),
                                          now=inputs.now, calendar=calendar))
        else:
            # No handoff type applies any more (e.g. a won deal reopened): nothing is
            # wanted, so the tasks it still has open close, as when a handoff stops being
            # required.
            out.tasks.extend(task_actions(key, crm_id, (), self._ledger(prm_id, crm_id),
                                          now=inputs.now, calendar=None))
        verdict = Verdict(key, crm_id, prm_id, gate.handoff_type, gate.stage, gate.required,
                          shown.status, shown.completeness_pct, shown.missing_labels,
                          stage_owner, ahead, **placement.verdict_fields(gate.required, window))
        if previous != verdict:
            out.verdicts.append(verdict)
        baseline = baseline_for(
            deal=key, handoff_type=gate.handoff_type, required=gate.required,
            close_date=deal.close_date, previous=previous, now=inputs.now,
            stored=inputs.state.baselines.get((key, gate.handoff_type or "")))
        if baseline is not None:
            out.baselines.append(baseline)
        outputs = self._outputs(deal, shown, clocks, values, window)
        base_after = merged.base
        for role, record in ((Role.PRM, prm), (Role.CRM, crm)):
            if record is None or record.record_id is None:
                continue
            fields = dict(merged.writes.get(role, {}))
            if step.sets:
                base_after = write_sets(self.inputs.mappings.sync, self.stored, role, record,
                                        step.sets, fields, base_after)
            cleared = self.clears.get((role, record.record_id))
            if cleared is not None:
                fields[cleared] = None
            changed = self._changed_outputs(role, record, outputs)
            if fields or changed:
                if Output.LAST_SYNCED in self.sides[role].outputs:
                    changed[Output.LAST_SYNCED] = inputs.now
                # A cleared record is planned blanked already: it held the stale id.
                releases = tuple(name for name in LINK_ID_FIELDS if name in fields and (
                    name == cleared or not is_blank(record.values.get(name))))
                holds = self.holds.get((role, record.record_id), ())
                out.writes.append(FieldWrite(role, record.record_id, key,
                                             MappingProxyType(fields),
                                             MappingProxyType(changed), releases, holds))
        if linked and base_after != base:
            out.bases.append(base_after)

    def _acceptance(self, key: str, deal: Deal, prm: MappedRecord | None,
                    crm: MappedRecord | None) -> AcceptanceStep:
        """The deal's accept/reject step (engine.acceptance), for its handoff type."""
        type_id = handoff_type_of(self.policy, deal)
        if type_id is None:
            return AcceptanceStep((), MappingProxyType({}), deal, None)
        return acceptance_step(
            key=key, handoff_type=type_id, handoff=self.policy.handoff_types[type_id],
            deal=deal, last=self.inputs.state.decisions.get(key), now=self.inputs.now,
            crm_modified=crm.modified_at if crm is not None else None,
            prm_modified=prm.modified_at if prm is not None else None)

    def _assign(self, key: str, deal: Deal, role: PersonRole) -> Assignee:
        assignee = resolve_person(role, deal, self.inputs.crm_owners,
                                  self.policy.ownership.fallback_owner_email)
        self.out.review(unresolved_owner_review(key, assignee))
        return assignee

    def _assign_on(self, side: Role, key: str, deal: Deal, role: PersonRole) -> Assignee:
        return self._prm_assignee(deal, role) if side is Role.PRM else \
            self._assign(key, deal, role)

    def _prm_assignee(self, deal: Deal, role: PersonRole) -> Assignee:
        """The role's person on the PRM side; a fallback is reviewed per person, from the
        ledger (prm_owner_reviews), not per deal here."""
        ownership = self.policy.ownership
        return resolve_on_prm(role, deal, self.inputs.prm_owners,
                              ownership.channel_manager_field, ownership.fallback_owner_email)

    def _ledger(self, prm_id: str | None, crm_id: str | None) -> list[TaskState]:
        """The ledger's tasks on this deal's records: the opportunity's and the
        registration's."""
        tasks = list(self.tasks_by_record.get((Role.CRM, crm_id), ())) if crm_id else []
        if prm_id is not None:
            tasks += self.tasks_by_record.get((Role.PRM, prm_id), ())
        return tasks

    def prm_owner_reviews(self, registrations: Mapping[str, MappedRecord]
                          ) -> list[ReviewItem]:
        """One item per person whose open PRM tasks went to the fallback owner, over every
        deal (the ledger, with this plan's task actions applied), so an incremental cycle
        states the same items as a full one."""
        fallback = self.policy.ownership.fallback_owner_email
        open_tasks = {key: state.spec for key, state in self.inputs.state.tasks.items()
                      if state.spec.side is Role.PRM and state.spec.status is TaskStatus.OPEN}
        for action in self.out.tasks:
            if action.task.side is not Role.PRM:
                continue
            if action.task.status is TaskStatus.OPEN:
                open_tasks[action.task.key] = action.task
            else:
                open_tasks.pop(action.task.key, None)
        fallen: dict[str | None, list[str]] = defaultdict(list)
        for spec in open_tasks.values():
            if spec.assignee_email != fallback:
                continue
            record = registrations.get(spec.crm_id)
            if record is None:
                continue  # the registration is gone: nobody can act on its task
            rep = record.values.get(ROLE_FIELDS[PersonRole.PRM_OWNER])
            email = rep.strip().lower() if isinstance(rep, str) and not is_blank(rep) else None
            fallen[email].append(deal_key(spec.crm_id, None))
        return unresolved_prm_owner_reviews(
            fallen, SYSTEMS[self.sides[Role.PRM].system.value].title, fallback,
            self.policy.ownership.channel_manager_field)

    def _gates_passed(self, deal: Deal, type_id: str,
                      fails: Fails) -> dict[str, bool]:
        """Whether each stage some SLA clock watches has its gate met now."""
        stages = {s.id: s for s in self.policy.handoff_types[type_id].stages}
        return {stage_id: not gate_fails(type_id, stages[stage_id], deal, fails)
                for stage_id in sorted(self.watched_gates[type_id]) if stage_id in stages}

    def _outputs(self, deal: Deal, gate: GateResult, clocks: Mapping[str, ClockState],
                 values: Mapping[str, Value],
                 window: tuple[datetime, StageWindow] | None) -> dict[Output, Value]:
        headline = headline_clock(clocks)
        brief: str | None = None
        if gate.required and gate.handoff_type is not None:
            handoff = self.policy.handoff_types[gate.handoff_type]
            notes = first_seen_notes(deal, handoff, clocks)
            if window is not None:
                notes = (window_line(values, window), "", *notes)
            brief = render_brief(handoff.brief, values, notes)
        # A deal that needs no handoff has nothing to complete: a score and a list of
        # "missing" facts on it would be noise that teaches reps to ignore both fields.
        return {
            Output.HANDOFF_REQUIRED: gate.required,
            Output.GATE_STATUS: gate.status.value,
            Output.COMPLETENESS: gate.completeness_pct if gate.required else None,
            Output.MISSING_FIELDS: (gate.missing_labels or None) if gate.required else None,
            Output.SLA_DUE: headline.due_at if headline else None,
            Output.SLA_STATUS: headline.status.value if headline else None,
            Output.BRIEF: brief,
        }

    def _changed_outputs(self, role: Role, record: MappedRecord,
                         outputs: Mapping[Output, Value]) -> dict[Output, Value]:
        rules = self.sides[role].outputs
        changed: dict[Output, Value] = {}
        for output, value in outputs.items():
            if output not in rules:
                continue
            # An output not read back (e.g. a field added since) is simply written.
            if output not in record.outputs or self.stored(role, output, value) != self.stored(
                    role, output, record.outputs[output]):
                changed[output] = value
        return changed



