"""What a mappings change would do, before it is saved: "flips 37 deals to Blocked,
creates 41 tasks: 12 for dana@...", computed from the stored mirror with no API call.

The pipeline's deals are planned twice from the same stored state at the same clock:
once with the mappings in force and once with the candidate. A plan states what differs
from the stored state, so planning with the current mappings gives what the next cycle
would do anyway (time moved, a record changed); what the candidate's plan does beyond it
is the change's own effect. ``summarise`` (pure) compares the two plans' outcomes deal by
deal: gate statuses, completeness, tasks open and closed per assignee, SLA clocks, stage
moves. ``what_if`` is the IO edge: it reads the store and maps the mirror.

Owners come from the store (``sync.stored_owners``): managers are not stored, so work for
the manager role is shown for the fallback owner; a caller holding live directories (a
daemon's runner) may pass them instead.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from handoff_sync.engine.merges import Merge
from handoff_sync.engine.plan import Dirty, EngineInput, plan
from handoff_sync.engine.types import ClockState, EngineState, Link, Plan, TaskState, deal_key
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.system.convert import MappedRecord
from handoff_sync.model import (
    GateStatus,
    OwnerDirectory,
    PartnerAccount,
    Role,
    TaskSpec,
    TaskStatus,
)
from handoff_sync.store.types import MirrorRecord, PipelineState
from handoff_sync.sync.cycle_parts import canonical, links_after
from handoff_sync.sync.stored_owners import stored_owners

STATUS_LABELS = {GateStatus.PASSED: "Passed", GateStatus.BLOCKED: "Blocked",
                 GateStatus.NOT_REQUIRED: "Not required", None: "No handoff"}


@dataclass(frozen=True, slots=True)
class GateChange:
    """One deal whose gate outcome the change moves."""

    deal: str
    name: str | None
    stage: str | None  # the stage after the change (before, when it has none then)
    before: GateStatus | None  # None: no handoff type applies
    after: GateStatus | None
    completeness_before: int | None
    completeness_after: int | None
    missing_after: tuple[str, ...] = ()

    @property
    def flips(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True, slots=True)
class TaskChange:
    """A task the change opens or closes (or gives to someone else)."""

    key: str
    deal: str
    name: str | None
    kind: str
    subject: str
    assignee: str  # email; the new one for a reassignment
    change: str  # "open", "close", "reassign"
    was: str | None = None  # the former assignee of a reassignment


@dataclass(frozen=True, slots=True)
class ClockChange:
    """An SLA clock the change starts, stops or moves."""

    deal: str
    name: str | None
    handoff_type: str
    clock: str
    before: ClockState | None
    after: ClockState | None

    def describe(self) -> str:
        return f"{_clock_text(self.before)} -> {_clock_text(self.after)}"


@dataclass(frozen=True)
class WhatIf:
    """What a change does to the pipeline's deals, against the plan without it."""

    pipeline: str
    now: datetime
    deals: int  # deals planned
    gates: tuple[GateChange, ...] = ()  # status or completeness moved, by deal
    tasks: tuple[TaskChange, ...] = ()
    clocks: tuple[ClockChange, ...] = ()
    stage_moves: tuple[str, ...] = ()  # deal keys whose stage move differs
    writes: int = 0  # records whose planned writes differ
    people: Mapping[str, str] = field(default_factory=dict)  # email -> name, when known
    notes: tuple[str, ...] = ()
    seconds: float = 0.0  # how long the two plans took

    @property
    def flips(self) -> Counter[str]:
        """How many deals go to each gate status (by its label)."""
        return Counter(STATUS_LABELS[g.after] for g in self.gates if g.flips)

    def opened(self) -> Counter[str]:
        return Counter(t.assignee for t in self.tasks if t.change == "open")

    def closed(self) -> Counter[str]:
        return Counter(t.assignee for t in self.tasks if t.change == "close")

    @property
    def is_empty(self) -> bool:
        return not (self.gates or self.tasks or self.clocks or self.stage_moves or self.writes)

    def who(self, email: str) -> str:
        return self.people.get(email) or email

    def headline(self) -> str:
        """One sentence: "this change flips 3 deals to Blocked, creates 4 tasks: 3 for
        ada@x, 1 for bo@x, closes 1 task, moves 2 SLA clocks"."""
        if self.is_empty:
            return f"this change changes nothing for the {self.deals} deals planned"
        parts = [f"flips {_count(n, 'deal')} to {status}"
                 for status, n in sorted(self.flips.items(), key=lambda i: (-i[1], i[0]))]
        moved = sum(1 for g in self.gates if not g.flips)
        if moved:
            parts.append(f"changes the completeness of {_count(moved, 'deal')}")
        for verb, counts in (("creates", self.opened()), ("closes", self.closed())):
            if counts:
                total = sum(counts.values())
                ranked = sorted(counts.items(), key=lambda i: (-i[1], i[0]))
                shown = ", ".join(f"{n} for {self.who(email)}" for email, n in ranked[:4])
                more = f", {total - sum(n for _, n in ranked[:4])} for others" \
                    if len(ranked) > 4 else ""
                parts.append(f"{verb} {_count(total, 'task')}: {shown}{more}")
        reassigned = sum(1 for t in self.tasks if t.change == "reassign")
        if reassigned:
            parts.append(f"reassigns {_count(reassigned, 'task')}")
        if self.clocks:
            parts.append(f"changes {_count(len(self.clocks), 'SLA clock')}")
        if self.stage_moves:
            parts.append(f"moves {_count(len(self.stage_moves), 'deal')} to another stage")
        if self.writes and not parts:
            parts.append(f"changes what is written to {_count(self.writes, 'record')}")
        return "this change " + ", ".join(parts)


def summarise(pipeline: str, before: Plan, after: Plan, state: EngineState, *,
              names: Mapping[str, str] | None = None, people: Mapping[str, str] | None = None,
              notes: Sequence[str] = (), seconds: float = 0.0) -> WhatIf:
    """What ``after`` (the candidate's plan) does that ``before`` (the plan with the
    mappings in force, same state and clock) does not. Pure and deterministic."""
    names = names or {}
    return WhatIf(pipeline, after.now, after.deals, _gates(before, after, state, names),
                  _tasks(before, after, state, names), _clocks(before, after, state, names),
                  _moves(before, after), _writes(before, after), dict(people or {}),
                  tuple(notes), seconds)


def _gates(before: Plan, after: Plan, state: EngineState,
           names: Mapping[str, str]) -> tuple[GateChange, ...]:
    was = {v.deal: v for v in before.verdicts}
    now = {v.deal: v for v in after.verdicts}
    out = []
    for deal in sorted(was.keys() | now.keys()):
        old, new = was.get(deal, state.verdicts.get(deal)), now.get(deal, state.verdicts.get(deal))
        old_status = old.status if old is not None and old.handoff_type else None
        new_status = new.status if new is not None and new.handoff_type else None
        old_pct = old.completeness_pct if old is not None else None
        new_pct = new.completeness_pct if new is not None else None
        if old_status == new_status and old_pct == new_pct:
            continue
        stage = (new.stage if new is not None else None) or (old.stage if old else None)
        out.append(GateChange(deal, names.get(deal), stage, old_status, new_status, old_pct,
                              new_pct, new.missing if new is not None else ()))
    return tuple(out)


def _tasks(before: Plan, after: Plan, state: EngineState,
           names: Mapping[str, str]) -> tuple[TaskChange, ...]:
    was, now = _task_outcome(before, state.tasks), _task_outcome(after, state.tasks)
    deals = {a.task.key: a.deal for a in (*before.tasks, *after.tasks)}
    out = []
    for key in sorted(was.keys() | now.keys()):
        old, new = _open(was.get(key)), _open(now.get(key))
        if old is None and new is not None:
            out.append(_task_change(key, new, "open", names, deals))
        elif old is not None and new is None:
            out.append(_task_change(key, old, "close", names, deals))
        elif old is not None and new is not None and old.assignee_email != new.assignee_email:
            out.append(_task_change(key, new, "reassign", names, deals,
                                    was=old.assignee_email))
    return tuple(out)


def _task_outcome(result: Plan, ledger: Mapping[str, TaskState]) -> dict[str, TaskSpec]:
    """Every task as the plan would leave it: its action's spec, else the ledger's."""
    outcome = {key: task.spec for key, task in ledger.items()}
    outcome.update({action.task.key: action.task for action in result.tasks})
    return outcome


def _open(spec: TaskSpec | None) -> TaskSpec | None:
    return spec if spec is not None and spec.status is TaskStatus.OPEN else None


def _task_change(key: str, spec: TaskSpec, change: str, names: Mapping[str, str],
                 deals: Mapping[str, str], was: str | None = None) -> TaskChange:
    deal = deals.get(key, "")
    return TaskChange(key, deal, names.get(deal), spec.kind, spec.subject,
                      spec.assignee_email, change, was)


def _clocks(before: Plan, after: Plan, state: EngineState,
            names: Mapping[str, str]) -> tuple[ClockChange, ...]:
    def outcome(result: Plan) -> dict[tuple[str, str, str], ClockState]:
        clocks = dict(state.clocks)
        clocks.update({(c.deal, c.handoff_type, c.clock): c for c in result.clocks})
        return clocks

    was, now = outcome(before), outcome(after)
    out = []
    for key in sorted(was.keys() | now.keys()):
        old, new = was.get(key), now.get(key)
        if old != new:
            out.append(ClockChange(key[0], names.get(key[0]), key[1], key[2], old, new))
    return tuple(out)


def _moves(before: Plan, after: Plan) -> tuple[str, ...]:
    was = {m.deal: (m.handoff_type, m.stage) for m in before.stage_moves}
    now = {m.deal: (m.handoff_type, m.stage) for m in after.stage_moves}
    return tuple(sorted(deal for deal in was.keys() | now.keys()
                        if was.get(deal) != now.get(deal)))


def _writes(before: Plan, after: Plan) -> int:
    def by_record(result: Plan) -> dict[tuple[Role, str], tuple[object, object]]:
        return {(w.role, w.record_id): (dict(w.values), dict(w.outputs)) for w in result.writes}

    was, now = by_record(before), by_record(after)
    return sum(1 for key in was.keys() | now.keys() if was.get(key) != now.get(key))


def _clock_text(clock: ClockState | None) -> str:
    if clock is None:
        return "not running"
    if clock.stopped_at is not None:
        return f"{clock.status.value} (stopped {clock.stopped_at:%Y-%m-%d %H:%M})"
    return f"{clock.status.value}, due {clock.due_at:%Y-%m-%d %H:%M} UTC"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# ---------------------------------------------------------------------- the IO edge
class StateSource(Protocol):
    """The part of the store the what-if reads (``store.Store``)."""

    def load_pipeline(self, pipeline: str) -> PipelineState: ...

    def load_partners(self, pipeline: str) -> dict[str, PartnerAccount]: ...

    def state_version(self, pipeline: str) -> tuple[Any, ...]: ...


@dataclass(frozen=True)
class Baseline:
    """The stored deals mapped and planned with the mappings in force at one clock: what
    every preview of a change to those mappings compares with, until the store moves."""

    key: tuple[Any, ...]  # pipeline, store state version, mappings, create
    now: datetime
    state: PipelineState
    partners: Mapping[str, PartnerAccount]
    owners: Mapping[Role, OwnerDirectory]
    records: Mapping[Role, tuple[MappedRecord, ...]]
    plan: Plan
    notes: tuple[str, ...]
    merges: Mapping[str, Merge] = field(default_factory=dict)  # each deal's field merge


class Baselines:
    """The last baseline per pipeline, for previews one after another (an admin editing a
    form). One is reused while the store's state version, the mappings in force and the
    pipeline's create setting are the same and it is younger than ``max_age``; the
    candidate is then planned at the baseline's clock (both plans at one clock keep the
    comparison exact; ``max_age`` keeps that clock near now). Safe between threads: one
    key is made once at a time, so a preview asked while the policy page warms the
    baseline (``warm``) waits for it rather than planning every deal a second time."""

    def __init__(self, max_age: timedelta = timedelta(minutes=10)) -> None:
        self.max_age = max_age
        self._held: dict[str, Baseline] = {}
        self._making: dict[str, threading.Lock] = {}  # pipeline -> held while making
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], now: datetime) -> Baseline | None:
        with self._lock:
            held = self._held.get(key[0])
        if held is None or held.key != key or not timedelta(0) <= now - held.now <= self.max_age:
            return None
        return held

    def put(self, baseline: Baseline) -> None:
        with self._lock:
            self._held[baseline.key[0]] = baseline

    def peek(self, pipeline: str) -> Baseline | None:
        """The baseline held for ``pipeline``, however old (how many deals it planned)."""
        with self._lock:
            return self._held.get(pipeline)

    def get_or_make(self, key: tuple[Any, ...], now: datetime,
                    make: Callable[[], Baseline]) -> Baseline:
        """The baseline ``key`` held for ``now``, else ``make()``'s, kept; one is made at
        a time per pipeline, so a second asker of the same key waits for the first's."""
        with self._lock:
            making = self._making.setdefault(key[0], threading.Lock())
        try:
            with making:
                held = self.get(key, now)
                if held is None:
                    held = make()
                    self.put(held)
                return held
        finally:
            with self._lock:
                if self._making.get(key[0]) is making and not making.locked():
                    del self._making[key[0]]


def baseline_key(store: StateSource, pipeline: str, current: MappingSet,
                 create: bool) -> tuple[Any, ...]:
    """What a baseline depends on: the pipeline, the store's state version, the mappings
    in force and the create setting."""
    return (pipeline, store.state_version(pipeline), _fingerprint(current), create)


def warm(store: StateSource, pipeline: str, current: MappingSet, now: datetime, *,
         create: bool, baselines: Baselines) -> Baseline:
    """The baseline the next preview of a change to ``current`` compares with, made now
    (unless held): the policy page warms it when opened, so a first preview plans only
    the candidate's half."""
    key = baseline_key(store, pipeline, current, create)
    return baselines.get_or_make(
        key, now, lambda: _baseline(store, key, current, now, create, None))


def what_if(store: StateSource, pipeline: str, current: MappingSet, candidate: MappingSet,
            now: datetime, *, create: bool = True,
            owners: Mapping[Role, OwnerDirectory] | None = None,
            baselines: Baselines | None = None, narrow: bool = True) -> WhatIf:
    """The candidate's effect on ``pipeline``'s stored deals at ``now`` (no API call).

    Exact, and cheaper than planning every deal twice: the plan with the mappings in force
    is reused from ``baselines`` while the store has not moved (its clock then stands for
    ``now``), a change confined to some handoff types (``policy_scope``) plans only
    their deals again, carrying every other deal's outcome over (EngineInput.carry), and
    a change that leaves the field mappings and rules alone reuses the baseline's field
    merges (EngineInput.merges: the merge is most of a deal's planning).
    ``narrow=False`` plans every deal with the candidate: the reference it equals."""
    started = time.perf_counter()
    key = baseline_key(store, pipeline, current, create)
    if baselines is not None and owners is None:
        baseline = baselines.get_or_make(
            key, now, lambda: _baseline(store, key, current, now, create, None))
    else:
        baseline = _baseline(store, key, current, now, create, owners)
    state, before = baseline.state, baseline.plan
    records = baseline.records
    same_sides = _same_sides(current, candidate)
    candidate_records = records if same_sides else \
        _mapped(candidate, state.mirror, baseline.owners)
    types = policy_scope(current, candidate) if narrow else None
    dirty = None if types is None else Dirty(deals=deals_of_types(types, before,
                                                                  state.engine))
    # The same records, bases, field rules and owners merge alike: the baseline's merges
    # stand (read only: candidates share the baseline).
    merges = MappingProxyType(baseline.merges) \
        if narrow and same_sides and current.sync == candidate.sync else None
    after = plan(_inputs(pipeline, candidate, candidate_records, state, baseline,
                         create, dirty=dirty, carry=before if dirty is not None else None,
                         merges=merges))
    seconds = time.perf_counter() - started
    names = deal_names(records, links_after(state.engine.links, after))
    return summarise(pipeline, before, after, state.engine, names=names,
                     people=_people(baseline.owners), notes=baseline.notes, seconds=seconds)


def _baseline(store: StateSource, key: tuple[Any, ...], current: MappingSet, now: datetime,
              create: bool, owners: Mapping[Role, OwnerDirectory] | None) -> Baseline:
    state = store.load_pipeline(key[0])
    partners = store.load_partners(key[0])
    notes = []
    if not any(state.mirror.get(role) for role in Role):
        notes.append("the store holds no records of this pipeline yet (no cycle ran): "
                     "nothing to compare")
    if owners is None:
        owners = stored_owners(current, state.engine, state.mirror)
        notes.append("owners as the store knows them (users are read live by a cycle): "
                     "work for managers is shown for the fallback owner")
    records = _mapped(current, state.mirror, owners)
    merges: dict[str, Merge] = {}  # filled by the plan, read by the candidates' plans
    held = Baseline(key, now, state, partners, owners, records, Plan(key[0], now), tuple(notes),
                    merges)
    return dataclasses.replace(held, plan=plan(_inputs(key[0], current, records, state, held,
                                                       create, merges=merges)))


def _inputs(pipeline: str, mappings: MappingSet, mapped: Mapping[Role, tuple[MappedRecord, ...]],
            state: PipelineState, baseline: Baseline, create: bool, *,
            dirty: Dirty | None = None, carry: Plan | None = None,
            merges: Mapping[str, Merge] | None = None) -> EngineInput:
    return EngineInput(pipeline, mappings, mapped[Role.PRM], mapped[Role.CRM], state.engine,
                       baseline.now, baseline.owners[Role.CRM], baseline.owners[Role.PRM],
                       create=create, dismissed=state.dismissed,
                       partners=baseline.partners or None, dirty=dirty, carry=carry,
                       merges=merges)


def policy_scope(current: MappingSet, candidate: MappingSet) -> frozenset[str] | None:
    """The handoff types whose deals alone the candidate can plan differently from
    ``current``; None when it may change any deal.

    A deal's handoff type comes from its own handoff_type field, else the first type
    whose applies_when holds, and a type taking another over moves a deal to it when its
    applies_when and required_when hold (engine.stages.place). So when the records map
    alike, nothing outside handoff_types changed, the types are the same in the same
    order and each keeps its applies_when, takes_over and required_when, every deal keeps
    its type, and only the deals of a changed type (stages, gates, tasks, SLAs, calendar,
    brief, acceptance) can be planned differently. The steps over every deal (creation,
    routing loads, training tasks) are planned in full either way (EngineInput.carry)."""
    if not _same_sides(current, candidate) or current.sync != candidate.sync:
        return None
    was, now = current.policy, candidate.policy
    if list(was.handoff_types) != list(now.handoff_types) or \
            was.model_copy(update={"handoff_types": {}}) != \
            now.model_copy(update={"handoff_types": {}}):
        return None
    changed = set()
    for type_id, old in was.handoff_types.items():
        new = now.handoff_types[type_id]
        if (old.applies_when, old.takes_over, old.required_when) != \
                (new.applies_when, new.takes_over, new.required_when):
            return None
        if old != new:
            changed.add(type_id)
    return frozenset(changed)


def deals_of_types(types: frozenset[str], result: Plan, state: EngineState) -> frozenset[str]:
    """The deals ``result`` or the stored state puts in one of ``types`` (by their verdict,
    SLA clocks or baselines): a plan states a verdict only when it differs from the
    stored one, so the two together give every planned deal's type."""
    if not types:
        return frozenset()
    verdicts = {**state.verdicts, **{v.deal: v for v in result.verdicts}}
    deals = {deal for deal, verdict in verdicts.items() if verdict.handoff_type in types}
    deals.update(c.deal for c in (*state.clocks.values(), *result.clocks)
                 if c.handoff_type in types)
    deals.update(deal for deal, type_id in (*state.baselines, *((b.deal, b.handoff_type)
                                                                for b in result.baselines))
                 if type_id in types)
    return frozenset(deals)


def _fingerprint(mappings: MappingSet) -> tuple[Any, ...]:
    """What the plan with ``mappings`` depends on (not where the files sit)."""
    sides = [dataclasses.replace(mappings.side(role), file=Path(), positions={}) for role in Role]
    return (*sides, mappings.policy.model_dump_json(), repr(mappings.sync))


def _same_sides(a: MappingSet, b: MappingSet) -> bool:
    """Whether both sets map records alike (a policy-only change maps the mirror once).
    Where the files were read from and the lines keys sit on do not count: a draft is
    checked in a copy of the folder."""
    return all(dataclasses.replace(b.side(role), file=a.side(role).file,
                                   positions=a.side(role).positions) == a.side(role)
               for role in Role)


def _mapped(mappings: MappingSet, mirror: Mapping[Role, Mapping[str, MirrorRecord]],
            owners: Mapping[Role, OwnerDirectory]) -> dict[Role, tuple[MappedRecord, ...]]:
    return {role: tuple(canonical(record, mappings.side(role), owners[role])
                        for _, record in sorted(mirror.get(role, {}).items()))
            for role in Role}


def deal_names(records: Mapping[Role, Sequence[MappedRecord]],
               links: Mapping[str, Link]) -> dict[str, str]:
    """Deal key -> the opportunity's name, else the registration's."""
    names: dict[str, str] = {}
    crm_names = {r.record_id: r.values.get("deal_name") for r in records[Role.CRM]
                 if r.record_id}
    prm_of = {link.crm_id: prm_id for prm_id, link in links.items()}
    for record in records[Role.CRM]:
        if record.record_id and isinstance(name := record.values.get("deal_name"), str):
            names[deal_key(prm_of.get(record.record_id), record.record_id)] = name
    for record in records[Role.PRM]:
        key = deal_key(record.record_id, None) if record.record_id else None
        if key and key not in names and isinstance(name := record.values.get("deal_name"), str):
            link = links.get(record.record_id or "")
            crm_name = crm_names.get(link.crm_id) if link is not None else None
            names[key] = crm_name if isinstance(crm_name, str) else name
    return names


def _people(owners: Mapping[Role, OwnerDirectory]) -> dict[str, str]:
    people: dict[str, str] = {}
    for role in (Role.PRM, Role.CRM):  # the CRM's name wins (tasks are mostly there)
        for email in owners[role].active_emails():
            holders = owners[role].active_holders(email)
            if len(holders) == 1 and holders[0].name:
                people[email] = holders[0].name
    return people
