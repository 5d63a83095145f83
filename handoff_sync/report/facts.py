"""The plain rows a report is computed from (no SQLAlchemy, no engine types).

``source`` reads them out of the store; tests build them by hand. Everything the figures
need is here, so ``figures`` stays a pure function of these rows and ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from handoff_sync.mapping.policy.file_model import BusinessCalendar
from handoff_sync.mapping.policy.funnels import Funnel
from handoff_sync.mapping.policy.measures import (
    ATTRIBUTION_FIELDS,
    OnTimeBonus,
    Readiness,
    Targets,
)
from handoff_sync.model import PartnerAccount, Value

PARTNER = "partner"  # a PRM registration linked to a CRM opportunity
DIRECT = "direct"  # a CRM opportunity no registration links to
PRM_ONLY = "prm_only"  # a registration with no CRM opportunity (yet)


@dataclass(frozen=True, slots=True)
class DealFact:
    """One deal's current canonical values and gate verdict, as the report needs them."""

    key: str  # deal key: prm:<id> or crm:<id>
    kind: str  # PARTNER, DIRECT or PRM_ONLY
    partner: str | None = None
    handoff_type: str | None = None
    stage: str | None = None  # the handoff stage
    owner: str | None = None  # the AE's email
    region: str | None = None
    segment: str | None = None  # custom.segment (the packs: Enterprise, Mid-Market, SMB)
    amount: Decimal | None = None
    is_closed: bool = False
    is_won: bool = False
    created_at: datetime | None = None  # the CRM record's creation (cycle length)
    close_date: date | None = None
    required: bool = False  # the deal needs a handoff (its gate counts)
    gate_status: str = "not_required"
    completeness_pct: int = 100
    missing: tuple[str, ...] = ()
    # Every canonical value the deal carries (agreed values for partner deals), for
    # figures that read fields the policy names (funnel steps, readiness, bonus).
    values: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ClockFact:
    """One SLA clock of one deal (the store's current state of it)."""

    deal: str
    handoff_type: str
    clock: str
    started_at: datetime
    due_at: datetime
    status: str  # on_track | at_risk | breached | met
    stopped_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SlaEventFact:
    deal: str
    clock: str
    kind: str  # started | at_risk | breached | met | cancelled
    at: datetime
    escalate_to: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryFact:
    """One gate-history row: a deal's verdict as it changed."""

    deal: str
    recorded_at: datetime
    required: bool
    completeness_pct: int
    handoff_type: str | None = None
    stage: str | None = None  # the stage whose gate the verdict is of


@dataclass(frozen=True, slots=True)
class TaskFact:
    deal: str | None
    kind: str
    status: str  # open | done
    record: str | None = None  # the record it is attached to (a partner account's id
    # for a training task)
    assignee: str | None = None  # the assignee's email
    due_at: datetime | None = None
    anchor: str = "deal"  # deal | partner (model.TaskAnchor)


@dataclass(frozen=True, slots=True)
class ReviewFact:
    deal: str
    kind: str
    status: str  # open | resolved | dismissed
    role: str | None = None  # unresolved_owner: the role whose person has no user


@dataclass(frozen=True, slots=True)
class ConflictFact:
    deal: str
    field: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class DecisionFact:
    """One recorded accept/reject decision (or re-submission, or withdrawal)."""

    deal: str
    handoff_type: str
    decision: str  # accepted | rejected | resubmitted | withdrawn
    at: datetime
    by: str | None = None
    reason: str | None = None
    partner: str | None = None
    recorded_at: datetime | None = None  # the cycle that recorded it


@dataclass(frozen=True, slots=True)
class BaselineFact:
    """The close date a deal had when one of its handoffs started (engine.baselines)."""

    deal: str
    handoff_type: str
    recorded_at: datetime
    close_date: date | None


@dataclass(frozen=True, slots=True)
class HandoffTypeFacts:
    """What the governance maturity meter reads from one handoff type of the policy."""

    id: str
    label: str
    # Stage id -> the role owning the stage (prm_owner, crm_owner, cs_owner, manager),
    # in the stages' order.
    stage_owners: Mapping[str, str] = field(default_factory=dict)
    ungated_stages: tuple[str, ...] = ()  # labels of stages with no gate requirement
    slas: tuple[str, ...] = ()  # SLA clock ids
    silent_slas: tuple[str, ...] = ()  # labels of clocks whose breach escalates to nobody
    acceptance: bool = False  # the receiver accepts or rejects the handoff


@dataclass(frozen=True, slots=True)
class GovernanceFacts:
    """The policy side of the governance maturity meter (report/maturity.py)."""

    types: tuple[HandoffTypeFacts, ...] = ()
    # handoff.yaml measures.improvement_owners: figure id -> the owner's email.
    improvement_owners: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PolicyFacts:
    """What the report reads from the handoff policy."""

    first_touch_clocks: frozenset[str] = frozenset({"first_touch"})  # stop on a touch
    escalation_task_kinds: frozenset[str] = frozenset()  # tasks opened by a breach
    clock_labels: dict[str, str] = field(default_factory=dict)
    # The lowest rejection alert threshold of the handoff types with acceptance; None:
    # no type lets the receiver accept or reject.
    rejection_alert_pct: float | None = None
    targets: Targets = field(default_factory=Targets)  # handoff.yaml measures.targets
    min_sample: int = 5  # handoff.yaml measures.min_sample
    funnels: tuple[Funnel, ...] = ()  # handoff.yaml measures.funnels
    # Stage ids in order, by handoff type (a gate reopened: a stage earlier than before).
    stage_order: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Business calendars by handoff type id (types without one are absent).
    calendars: Mapping[str, BusinessCalendar] = field(default_factory=dict)
    attribution_fields: tuple[str, ...] = ATTRIBUTION_FIELDS
    on_time_bonus: OnTimeBonus | None = None  # handoff.yaml measures.on_time_bonus
    readiness: Readiness | None = None  # handoff.yaml measures.readiness
    governance: GovernanceFacts = field(default_factory=GovernanceFacts)


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything one pipeline's report is computed from."""

    pipeline: str
    deals: tuple[DealFact, ...] = ()
    clocks: tuple[ClockFact, ...] = ()
    events: tuple[SlaEventFact, ...] = ()
    history: tuple[HistoryFact, ...] = ()
    tasks: tuple[TaskFact, ...] = ()
    reviews: tuple[ReviewFact, ...] = ()
    conflicts: tuple[ConflictFact, ...] = ()
    decisions: tuple[DecisionFact, ...] = ()  # in the order they were recorded
    baselines: tuple[BaselineFact, ...] = ()
    policy: PolicyFacts = field(default_factory=PolicyFacts)
    runs: int = 0  # completed sync cycles
    notes: tuple[str, ...] = ()  # what the source could not read, for the footnote
    # The PRM's live partner accounts (the PRM file's partners: section), by id.
    partners: tuple[PartnerAccount, ...] = ()
