"""The engine's vocabulary: what it remembers between cycles, and the Plan it returns.

Inputs are canonical records (``mapping.convert.MappedRecord``) plus ``EngineState``, the
part of the store the engine reads. The output is one ``Plan``: every action the daemon
should take this cycle, as plain frozen data that serialises to stable JSON
(``engine.serialise``). Nothing here performs IO.

Deal keys: a deal is known by its PRM registration when it has one (``prm:<id>``), else
by its CRM record (``crm:<id>``); clocks, bases and verdicts are stored under that key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from handoff_sync.mapping.system.conflicts import ConflictPolicy
from handoff_sync.model import (
    GateStatus,
    Output,
    Role,
    SlaStatus,
    TaskSpec,
    TaskStatus,
    Value,
    quick_init,
)

_EMPTY: Mapping[Any, Any] = MappingProxyType({})


def deal_key(prm_id: str | None, crm_id: str | None) -> str:
    """The deal's identity in the store: its PRM registration first, else its CRM record."""
    if prm_id:
        return f"prm:{prm_id}"
    if crm_id:
        return f"crm:{crm_id}"
    raise ValueError("a deal needs a PRM or a CRM id")


class LinkMethod(StrEnum):
    STORED = "stored"  # remembered from an earlier cycle
    ID_FIELD = "id_field"  # one side names the other's id in a mapped field
    MATCHED = "matched"  # matching rules scored above the auto-link threshold
    MANUAL = "manual"  # an admin resolved a review item
    CREATED = "created"  # the daemon created the opportunity for the registration


@dataclass(frozen=True, slots=True)
class Link:
    """A PRM registration and the CRM opportunity it became."""

    prm_id: str
    crm_id: str
    method: LinkMethod
    confidence: float  # 1.0 for stored, id-field and manual links


class LinkChangeKind(StrEnum):
    CREATE = "create"
    REMOVE = "remove"  # one of the linked records was deleted (id-field disagreements
    # never unlink: they raise a LINK_CONFLICT review and keep the stored link)


@dataclass(frozen=True, slots=True)
class LinkChange:
    kind: LinkChangeKind
    link: Link
    reason: str  # one line for the audit log: "id field crm_id", "name 0.97 amount ok ..."


class ReviewKind(StrEnum):
    AMBIGUOUS_LINK = "ambiguous_link"  # more than one candidate, or confidence too low
    CHANNEL_CONFLICT = "channel_conflict"  # two partners registered the same deal/account
    UNRESOLVED_OWNER = "unresolved_owner"  # an email with no active CRM user
    LINK_CONFLICT = "link_conflict"  # id fields disagree with the stored link
    LINKED_RECORD_DELETED = "linked_record_deleted"
    INVALID_VALUE = "invalid_value"  # a value the mapping could not convert
    DUPLICATE_OWNER_EMAIL = "duplicate_owner_email"  # active users sharing one email
    ROUTING_OWNER = "routing_owner"  # routing would give deals to no active CRM user
    UNROUTED = "unrouted"  # no routing rule could route a deal: the fallback owner took it
    # A person whose PRM tasks fell back to the fallback owner: one item per email,
    # listing the deals (the channel manager stands in first, so this is rare).
    UNRESOLVED_PRM_OWNER = "unresolved_prm_owner"
    # An approved registration that needs a handoff had an opportunity, which is gone
    # (deleted, or linked to another registration by a person): nothing re-creates what a
    # person removed, so a person links it or dismisses the item.
    NO_OPPORTUNITY = "no_opportunity"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """Something a person must decide; the store keeps one open item per key."""

    key: str  # deterministic, e.g. "ambiguous_link:prm:123"
    kind: ReviewKind
    deal: str  # deal key
    summary: str  # one line for people
    candidates: tuple[tuple[str, float], ...] = ()  # (crm id, confidence), best first
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@quick_init
@dataclass(frozen=True, slots=True)
class BaseSnapshot:
    """What each side held, and what was agreed, for one linked pair after the last cycle.

    Per-side values make the three-way merge exact even for fields only one side may
    write: a side "changed" a field when its value differs from what it held last time.
    """

    deal: str  # deal key
    prm: Mapping[str, Value]  # canonical field -> the PRM's value after our writes
    crm: Mapping[str, Value]
    agreed: Mapping[str, Value]  # canonical field -> the merged value


@quick_init
@dataclass(frozen=True, slots=True)
class Conflict:
    """Both sides changed a field since the last agreed value; the policy picked one."""

    deal: str
    field: str
    policy: ConflictPolicy
    base: Value
    prm: Value
    crm: Value
    winner: Role | None  # None: read_only, nothing written
    kept: Value  # the winning value
    lost: Value  # the loser's value, kept here so nobody's edit vanishes untraced


# The canonical id fields that link records: an opportunity's prm_id names its
# registration, a registration's crm_id its opportunity.
LINK_ID_FIELDS = ("prm_id", "crm_id")


@quick_init
@dataclass(frozen=True, slots=True)
class FieldWrite:
    """Canonical values and outputs to write to one record (only what differs from it)."""

    role: Role
    record_id: str
    deal: str
    values: Mapping[str, Value] = field(default_factory=lambda: _EMPTY)  # canonical fields
    outputs: Mapping[Output, Value] = field(default_factory=lambda: _EMPTY)

    # Id fields (LINK_ID_FIELDS) whose held value this write takes off the record: it
    # blanks one naming a record it is no longer linked to (engine.link, stale id fields),
    # or replaces one with the id of its new counterpart. An id may be unique in the
    # system (an external id), so these writes lead Plan.writes and are sent first: a
    # value is let go of before another record takes it.
    releases: tuple[str, ...] = ()
    # Other deals whose base snapshot advances only once this write goes through. An
    # opportunity left naming a registration re-linked elsewhere is blanked by its own
    # deal's write, but it is the registration's base that remembers the old pair (and so
    # marks the claim stale): if the blank fails, that base must stay, so the next cycle
    # still knows the claim is stale and blanks it again.
    holds: tuple[str, ...] = ()

    @property
    def rank(self) -> int:
        """The pass the sync layer sends this write in: 0 blanks a released id, 1 replaces
        one (it may take an id a rank-0 write lets go of), 2 is every other write."""
        if not self.releases:
            return 2
        values = self.values
        return 0 if all(values.get(name) is None for name in self.releases) else 1


class TaskActionKind(StrEnum):
    OPEN = "open"
    UPDATE = "update"  # subject/body changed (e.g. fewer fields missing)
    REASSIGN = "reassign"  # the responsible person changed
    CLOSE = "close"  # the gap is filled / the trigger ended
    REOPEN = "reopen"  # the gap came back after the engine closed the task


@quick_init
@dataclass(frozen=True, slots=True)
class TaskAction:
    kind: TaskActionKind
    task: TaskSpec  # the full desired task; upserted by task.key
    deal: str
    reason: str


@quick_init
@dataclass(frozen=True, slots=True)
class TaskState:
    """The ledger's row for a task key: what was last written and who closed it."""

    spec: TaskSpec  # as last written (status included)
    system_task_id: str | None = None
    closed_by_user: bool = False  # a person completed it in the CRM: never reopen it


@quick_init
@dataclass(frozen=True, slots=True)
class ClockState:
    """One SLA clock of one deal."""

    deal: str
    handoff_type: str
    clock: str  # SlaClock.id
    started_at: datetime
    due_at: datetime
    status: SlaStatus
    stopped_at: datetime | None = None


class SlaEventKind(StrEnum):
    STARTED = "started"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    MET = "met"
    CANCELLED = "cancelled"  # the deal no longer needs the handoff


@quick_init
@dataclass(frozen=True, slots=True)
class SlaEvent:
    deal: str
    handoff_type: str
    clock: str
    kind: SlaEventKind
    at: datetime
    escalate_to: str | None = None  # email, for BREACHED with an escalation role


@quick_init
@dataclass(frozen=True, slots=True)
class Verdict:
    """A deal's gate outcome as recorded in gate history (one row per change)."""

    deal: str
    crm_id: str | None
    prm_id: str | None
    handoff_type: str | None
    stage: str | None
    required: bool
    status: GateStatus
    completeness_pct: int
    missing: tuple[str, ...]  # requirement labels, policy order
    stage_owner_email: str | None = None
    # Earlier stages whose gates still fail although the deal has moved past them.
    ahead_of_gate: tuple[str, ...] = ()
    # The stage autopilot (engine.stages): when the deal entered its stage, when the
    # stage's day window ends and where it stands against it (a StageWindow value), and
    # whether a person set the position: "type", "stage" (only the stage) or None (the
    # engine then leaves it where it is).
    stage_entered_at: datetime | None = None
    stage_due_at: datetime | None = None
    stage_window: str | None = None
    placed_by_person: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class StageMove:
    """The stage autopilot put a deal in another handoff position (engine.stages)."""

    deal: str
    from_type: str | None  # the position the records held (None: blank)
    from_stage: str | None
    handoff_type: str  # the position written
    stage: str
    entered_at: datetime
    kind: str  # "set" (a deal with no position), "advanced" (a gate passed), "handed_over"
    # (another handoff type took the deal over, e.g. won -> customer success), "reopened"
    # (a rejection sent it back to the acceptance section's reopens stage)
    reasons: tuple[str, ...]  # one line per step: "stage set to ...", "advanced a -> b ..."


@quick_init
@dataclass(frozen=True, slots=True)
class Rejection:
    """The rejection a deal holds (engine.acceptance), as the stage autopilot needs it."""

    at: datetime  # when it was recorded: the reopened stage's entry time
    new: bool  # recorded this cycle: news that moves even a stage a person set


class DecisionKind(StrEnum):
    """A change of the receiving owner's decision on a handoff (engine.acceptance)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RESUBMITTED = "resubmitted"  # the sender re-submitted a rejected handoff
    WITHDRAWN = "withdrawn"  # the receiver set an accepted or rejected handoff back to pending


@quick_init
@dataclass(frozen=True, slots=True)
class HandoffDecision:
    """One recorded decision: what, why, who and when (one row per change, kept)."""

    deal: str  # deal key
    handoff_type: str
    decision: DecisionKind
    at: datetime  # the record's modification time when first seen (never after the cycle)
    by: str | None  # email: the system's last modifier, else the role that owns the step
    by_system: bool  # `by` was read from the system (else inferred from the deal's roles)
    reason: str | None = None  # the rejection reason, for REJECTED
    partner: str | None = None  # partner_account, for reports


@quick_init
@dataclass(frozen=True, slots=True)
class HandoffBaseline:
    """What a deal looked like when its handoff started (engine.baselines): the close date
    it was expected to close on then. close_date syncs both ways and moves; this does not,
    so "closed within its original timeline" can be judged after the dates have moved."""

    deal: str  # deal key
    handoff_type: str
    recorded_at: datetime  # the cycle that saw the handoff start
    close_date: date | None  # the deal's close date then (None: it had none yet)


@dataclass(frozen=True, slots=True)
class DealCreation:
    """An opportunity to create in the CRM for a registration nothing matched.

    Created by ``external_id`` (an upsert key the CRM record keeps), so sending it twice -
    after a crash before the link was recorded, or from a second replica - finds the
    record the first send made instead of making another.
    """

    deal: str  # deal key (prm:<registration id>)
    prm_id: str
    external_id: str  # deterministic: pipeline + registration id (see creation_key)
    values: Mapping[str, Value]  # canonical fields to write (prm_id and ae_email included)
    account_name: str | None  # the customer account, found or created by these
    account_domain: str | None
    owner_email: str  # the CRM user routing chose
    rule: str  # the routing rule that chose them
    reason: str  # one line for the brief and `plan`


def creation_key(pipeline: str, prm_id: str) -> str:
    """The external id of the opportunity created for a registration: one per pipeline and
    registration, whatever cycle, replica or retry sends it."""
    return f"handoff-sync:{pipeline}:{prm_id}"


@dataclass(frozen=True)
class EngineState:
    """What the store remembers, as the engine reads it (all keyed for direct lookup)."""

    links: Mapping[str, Link] = field(default_factory=lambda: _EMPTY)  # by prm id
    bases: Mapping[str, BaseSnapshot] = field(default_factory=lambda: _EMPTY)  # by deal key
    tasks: Mapping[str, TaskState] = field(default_factory=lambda: _EMPTY)  # by task key
    clocks: Mapping[tuple[str, str, str], ClockState] = field(
        default_factory=lambda: _EMPTY)  # by (deal key, handoff type, clock id)
    verdicts: Mapping[str, Verdict] = field(default_factory=lambda: _EMPTY)  # by deal key
    # The latest recorded decision per deal key (engine.acceptance).
    decisions: Mapping[str, HandoffDecision] = field(default_factory=lambda: _EMPTY)
    # The close date each deal had when each of its handoffs started (engine.baselines).
    baselines: Mapping[tuple[str, str], HandoffBaseline] = field(
        default_factory=lambda: _EMPTY)  # by (deal key, handoff type)


@dataclass(frozen=True)
class Plan:
    """Everything one cycle should do, sorted so equal inputs give equal plans."""

    pipeline: str
    now: datetime
    links: tuple[LinkChange, ...] = ()
    # Opportunities to create (by registration id); sent before the writes.
    creations: tuple[DealCreation, ...] = ()
    # By FieldWrite.rank (ids let go of first), then system and record id; the sync
    # layer sends each rank in calls of its own, in that order.
    writes: tuple[FieldWrite, ...] = ()
    tasks: tuple[TaskAction, ...] = ()
    verdicts: tuple[Verdict, ...] = ()  # changed gate outcomes, for history
    sla_events: tuple[SlaEvent, ...] = ()
    clocks: tuple[ClockState, ...] = ()  # clock states that changed
    bases: tuple[BaseSnapshot, ...] = ()  # base snapshots that changed
    conflicts: tuple[Conflict, ...] = ()
    decisions: tuple[HandoffDecision, ...] = ()  # acceptance changes seen, by deal, in order
    baselines: tuple[HandoffBaseline, ...] = ()  # handoffs started (or given a close date)
    # Standing problems for people; re-stated every cycle while they hold (the store
    # keeps one open item per key), so they are not "work to do".
    reviews: tuple[ReviewItem, ...] = ()
    # Handoff positions the stage autopilot moved (their writes are in ``writes``), by deal.
    stage_moves: tuple[StageMove, ...] = ()
    deals: int = 0  # deals considered
    # The deal keys planned when only some were (EngineInput.dirty); None: every deal.
    # Per-deal review items of the others were not restated, so they still hold.
    planned_deals: frozenset[str] | None = None

    def is_empty(self) -> bool:
        """Nothing to write or remember: a plan for inputs the last plan was applied to."""
        return not (self.links or self.creations or self.writes or self.tasks or self.verdicts
                    or self.sla_events or self.clocks or self.bases or self.conflicts
                    or self.decisions or self.baselines)

    def counts(self) -> dict[str, int]:
        return {"deals": self.deals, "links": len(self.links),
                "creations": len(self.creations), "writes": len(self.writes),
                "tasks": len(self.tasks), "verdicts": len(self.verdicts),
                "sla_events": len(self.sla_events), "clocks": len(self.clocks),
                "bases": len(self.bases), "conflicts": len(self.conflicts),
                "decisions": len(self.decisions), "baselines": len(self.baselines),
                "reviews": len(self.reviews),
                "stage_moves": len(self.stage_moves)}


__all__ = [
    "LINK_ID_FIELDS", "BaseSnapshot", "ClockState", "Conflict", "DealCreation",
    "DecisionKind", "EngineState", "FieldWrite", "HandoffBaseline", "HandoffDecision",
    "Link", "LinkChange", "LinkChangeKind", "LinkMethod", "Plan", "Rejection",
    "ReviewItem", "ReviewKind", "SlaEvent", "SlaEventKind", "StageMove", "TaskAction",
    "TaskActionKind", "TaskState", "TaskStatus", "Verdict", "creation_key", "deal_key",
]
