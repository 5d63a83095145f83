"""What a person needs beside a plan to read it: each deal's names and people (pure).

A plan speaks in deal keys, record ids and task keys. `handoff-sync plan` shows each deal
under its name, account, partner and owner, with its gate verdict and SLA clocks, and
names the assignees of tasks; this gathers those facts from the canonical records the
plan was made from, the owner directories and what the store remembers. Live (a dry-run
cycle) and offline (exported files) build the same ``PlanContext``, so one renderer
(``cli.plan_view``) shows both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from handoff_sync.engine.types import (
    ClockState,
    EngineState,
    Link,
    Plan,
    Verdict,
    deal_key,
)
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.system.convert import MappedRecord
from handoff_sync.mapping.system.scope import RecordRef, SkippedRecord
from handoff_sync.model import OwnerDirectory, Role, Value
from handoff_sync.sync.cycle_parts import links_after

__all__ = ["DealCard", "KnownRecord", "Person", "PlanContext", "RecordRef", "plan_context"]


@dataclass(frozen=True, slots=True)
class Person:
    """Someone the plan names: an email, and the user's name and id when a system has one."""

    email: str
    name: str = ""
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class DealCard:
    """One deal as people know it."""

    key: str
    name: str | None  # the opportunity's name, else the registration's
    registered_as: str | None  # the registration's name, when it differs
    account: str | None
    partner: str | None
    partner_rep: Person | None
    owner: Person | None  # the opportunity owner (the AE)
    prm: RecordRef | None
    crm: RecordRef | None
    verdict: Verdict | None  # this plan's, else the one the store holds
    verdict_changed: bool  # the plan records a new verdict
    clocks: tuple[ClockState, ...] = ()  # running clocks, as this plan leaves them


@dataclass(frozen=True, slots=True)
class KnownRecord:
    """A record of the pipeline, planned or not, so `plan --deal` can find any deal."""

    record: RecordRef
    deal: str  # its deal key
    name: str | None


@dataclass(frozen=True)
class PlanContext:
    cards: Mapping[str, DealCard]  # deal key -> card, every deal the plan touches
    people: Mapping[str, Person]  # task assignee email -> the CRM user (else the PRM's)
    known: tuple[KnownRecord, ...] = ()
    skipped: tuple[SkippedRecord, ...] = ()  # records outside their mapping's scope
    notes: tuple[str, ...] = ()  # what could not be checked, for people
    links: Mapping[str, Link] = field(default_factory=dict)  # prm id -> link, after the plan


def plan_context(plan: Plan, mappings: MappingSet, records: Mapping[Role, Sequence[MappedRecord]],
                 owners: Mapping[Role, OwnerDirectory], state: EngineState, *,
                 skipped: Sequence[SkippedRecord] = (), notes: Sequence[str] = ()) -> PlanContext:
    """The context of ``plan``, made from ``records`` (each side's canonical records, as
    the engine got them) with ``state`` the store's engine state (empty offline)."""
    by_id = {role: {r.record_id: r for r in records[role] if r.record_id and not r.deleted}
             for role in Role}
    links = links_after(state.links, plan)
    crm_to_prm = {link.crm_id: prm_id for prm_id, link in links.items()}
    verdicts = {v.deal: v for v in plan.verdicts}
    moved = set(plan.clocks)
    clocks: dict[str, dict[tuple[str, str], ClockState]] = {}
    for clock in (*state.clocks.values(), *plan.clocks):  # the plan's states win
        clocks.setdefault(clock.deal, {})[(clock.handoff_type, clock.clock)] = clock
    cards: dict[str, DealCard] = {}
    for key in _deals_touched(plan):
        prm_id, crm_id = _ids(key, links)
        prm = by_id[Role.PRM].get(prm_id) if prm_id else None
        crm = by_id[Role.CRM].get(crm_id) if crm_id else None
        verdict = verdicts.get(key, state.verdicts.get(key))
        running = tuple(c for _, c in sorted(clocks.get(key, {}).items())
                        if c.stopped_at is None or c in moved)
        cards[key] = _card(key, mappings, prm_id, crm_id, prm, crm, owners, verdict,
                           key in verdicts, running)
    # A partner rep owns partner tasks as a PRM user: found there when the CRM has none.
    people = {email: _person(email, owners[Role.CRM], owners[Role.PRM])
              for email in sorted({a.task.assignee_email for a in plan.tasks})}
    known = tuple(KnownRecord(RecordRef(record.system.value, mappings.side(role).object,
                                        record_id),
                              _known_key(role, record_id, links, crm_to_prm),
                              _text(record.values.get("deal_name")))
                  for role in Role for record_id, record in sorted(by_id[role].items())
                  if record.in_scope)
    return PlanContext(MappingProxyType(cards), MappingProxyType(people), known,
                       tuple(skipped), tuple(notes), MappingProxyType(links))


def _deals_touched(plan: Plan) -> list[str]:
    keys: set[str] = set()
    keys.update(w.deal for w in plan.writes)
    keys.update(a.deal for a in plan.tasks)
    keys.update(v.deal for v in plan.verdicts)
    keys.update(c.deal for c in plan.conflicts)
    keys.update(e.deal for e in plan.sla_events)
    keys.update(r.deal for r in plan.reviews)
    keys.update(deal_key(c.link.prm_id, None) for c in plan.links)
    return sorted(k for k in keys if k.startswith(("prm:", "crm:")))


def _ids(key: str, links: Mapping[str, Link]) -> tuple[str | None, str | None]:
    side, _, record_id = key.partition(":")
    if side == "crm":
        return None, record_id
    link = links.get(record_id)
    return record_id, link.crm_id if link is not None else None


def _known_key(role: Role, record_id: str, links: Mapping[str, Link],
               crm_to_prm: Mapping[str, str]) -> str:
    if role is Role.PRM:
        return deal_key(record_id, None)
    return deal_key(crm_to_prm.get(record_id), record_id)


def _card(key: str, mappings: MappingSet, prm_id: str | None, crm_id: str | None,
          prm: MappedRecord | None, crm: MappedRecord | None,
          owners: Mapping[Role, OwnerDirectory], verdict: Verdict | None, changed: bool,
          clocks: tuple[ClockState, ...]) -> DealCard:
    def first(name: str) -> str | None:
        for record in (crm, prm):
            if record is not None and (text := _text(record.values.get(name))):
                return text
        return None

    registered = _text(prm.values.get("deal_name")) if prm is not None else None
    name = first("deal_name")
    rep = first("partner_rep_email")
    owner = _text(crm.values.get("ae_email")) if crm is not None else None
    return DealCard(
        key, name, registered if registered and registered != name else None,
        first("account_name"), first("partner_account"),
        _person(rep, owners[Role.PRM], owners[Role.CRM]) if rep else None,
        _person(owner, owners[Role.CRM]) if owner else None,
        _ref(mappings, Role.PRM, prm_id), _ref(mappings, Role.CRM, crm_id),
        verdict, changed, clocks)


def _ref(mappings: MappingSet, role: Role, record_id: str | None) -> RecordRef | None:
    if record_id is None:
        return None
    side = mappings.side(role)
    return RecordRef(side.system.value, side.object, record_id)


def _person(email: str, *directories: OwnerDirectory) -> Person:
    """The one active user with this email in the first directory that has one."""
    for directory in directories:
        holders = directory.active_holders(email)
        if len(holders) == 1:
            return Person(email, holders[0].name, holders[0].id)
    return Person(email)


def _text(value: Value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None

