"""The schema of mappings/handoff.yaml: handoff types, stages, gates, tasks, SLAs, briefs.

These frozen models are both the file's structural check and the policy the engine
reads. Conditions are data (field, operator, value; all/any/not), evaluated by
policy/conditions.py - nothing in this file is ever executed as code. Meaning that spans
keys or files (a gate naming a field no mapping provides, a task for a stage that does
not exist) is checked in policy/checks.py.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

# Condition lives in its own module so that measures (funnel steps) can use it too.
from handoff_sync.mapping.policy.condition import Condition
from handoff_sync.mapping.policy.duration import Duration
from handoff_sync.mapping.policy.measures import Measures
from handoff_sync.mapping.system.file_model import FileModel

FORMAT_VERSION = 1

RoleName = Literal["prm_owner", "crm_owner", "cs_owner", "manager"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
EventName = Literal["handoff_required", "stage_entered", "gate_passed", "field_filled",
                    "closed_won", "handoff_accepted"]
TaskTrigger = Literal["gate_blocked", "stage_active", "stage_at_risk", "stage_overdue",
                     "sla_at_risk", "sla_breached", "handoff_rejected"]
Normalisation = Literal["lowercase", "trim", "collapse_spaces", "strip_punctuation",
                        "strip_legal_suffixes", "strip_www"]
LaxDate = Annotated[date, Field(strict=False)]



def _default_working_days() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


class BusinessCalendar(FileModel):
    """When the clock runs for business-hours SLAs."""

    timezone: str
    """IANA time zone name, e.g. Europe/Berlin or America/New_York."""
    working_days: list[Weekday] = Field(default_factory=_default_working_days)
    """Days the team works."""
    day_starts: str = "09:00"
    """Start of the working day, HH:MM local time."""
    day_ends: str = "17:00"
    """End of the working day, HH:MM local time."""
    holidays: list[LaxDate] = Field(default_factory=list)
    """Dates (YYYY-MM-DD) on which the clock does not run."""


class Event(FileModel):
    """Something that happens to a deal; starts or stops an SLA clock."""

    on: EventName
    """handoff_required, stage_entered, gate_passed, field_filled, closed_won or
    handoff_accepted."""
    stage: str | None = None
    """The stage, for stage_entered and gate_passed."""
    field: str | None = None
    """The canonical field, for field_filled."""


class SlaClock(FileModel):
    """A service-level clock: runs from one event to another, with a deadline."""

    id: str
    """Short id, unique within the handoff type (used in task keys and reports)."""
    label: str
    """What the clock measures, for people."""
    start: Event
    """The event that starts the clock."""
    stop: Event | list[Event]
    """The event that stops it (met), or a list: the first of them to happen stops it."""
    duration: Duration
    """How long the clock may run before it is breached."""
    at_risk_pct: int = Field(default=75, ge=1, le=99)
    """Share of the duration elapsed at which the clock turns at_risk."""
    escalate_to: RoleName | None = "manager"
    """Who hears about a breach (a task for them), or nothing."""

    @property
    def stops(self) -> tuple[Event, ...]:
        """The stop events, one or several."""
        return tuple(self.stop) if isinstance(self.stop, list) else (self.stop,)


class GateRequirement(FileModel):
    """One thing that must be true before a deal leaves a stage."""

    field: str | None = None
    """A canonical field that must be filled."""
    check: Condition | None = None
    """A condition that must hold (instead of, or in addition to, a filled field)."""
    label: str | None = None
    """What people see when it is missing; defaults to the field's label."""
    weight: float = Field(default=1, gt=0, le=100)
    """Its share in the completeness score."""
    when: Condition | None = None
    """The requirement applies only when this holds."""


class Stage(FileModel):
    """One stage of a handoff: a day window, an owner and a gate."""

    id: str
    """Stage id; the values the handoff_stage field maps to."""
    label: str
    """The stage's name, for people."""
    days: list[int] = Field(min_length=2, max_length=2)
    """[first day, last day] of the stage, counted from the start of the handoff."""
    owner: RoleName
    """Who owns the deal during this stage."""
    gate: list[GateRequirement] = Field(default_factory=list)
    """What must be true to leave the stage."""
    auto_advance: bool = False
    """Move the deal to the next stage once this stage's gate (and every earlier one)
    passes. Off unless set: turning it on makes handoff-sync write the stage field."""
    entered_at: str | None = None
    """A datetime field holding when the deal entered this stage in the system's own
    history (e.g. approved_at, won_at, or a custom field mapped to HubSpot's
    hs_date_entered_<stage>); used when handoff-sync puts the deal in this stage."""


class TaskTemplate(FileModel):
    """A follow-up task the engine keeps open while its trigger holds."""

    kind: str
    """Template id, unique within the handoff type (part of the task key)."""
    open_while: TaskTrigger
    """gate_blocked, stage_active, stage_at_risk, stage_overdue (the stage's day window),
    sla_at_risk, sla_breached or handoff_rejected; closed once it ends."""
    sla: str | None = None
    """The SLA clock id, for sla_at_risk and sla_breached."""
    stages: list[str] | None = None
    """Only in these stages (default: every stage)."""
    when: Condition | None = None
    """Only for deals where this holds."""
    subject: str
    """Task subject; {placeholders} name canonical fields or computed values."""
    body: str = ""
    """Task description; {placeholders} as in subject."""
    assignee: RoleName
    """Who does it: prm_owner, crm_owner, cs_owner or manager."""
    due: Duration
    """How long after the task opens it is due."""
    priority: Literal["high", "normal", "low"] = "normal"
    """Task priority."""
    side: Literal["crm", "prm"] = "crm"
    """Where the task is written: crm (on the opportunity, owned by a CRM user) or prm (on
    the partner's registration, owned by a PRM user: the partner rep, else the channel
    manager). The side's mapping file needs a tasks section."""


class BriefSection(FileModel):
    heading: str
    """Section heading."""
    text: str
    """Section text with {placeholders}."""
    if_blank: str = "Not captured yet."
    """Shown instead when every placeholder in the text is blank."""


class Brief(FileModel):
    """The one-page handoff story the receiving rep reads in the CRM."""

    title: str
    """First line, with {placeholders}."""
    sections: list[BriefSection] = Field(min_length=1)
    """The sections, in order."""


class Acceptance(FileModel):
    """The receiving owner accepts or rejects the handoff on the CRM record."""

    receiver: RoleName = "crm_owner"
    """Who accepts or rejects: recorded as the decider when the system does not say."""
    sender: RoleName = "prm_owner"
    """Who hands over and re-submits: recorded as the one who re-submitted."""
    reopens: str | None = None
    """The stage whose gate a rejection sends the deal back to (default: the first)."""
    rejection_alert_pct: float = Field(default=5, ge=0, le=100)
    """The report flags a partner whose share of rejected handoffs is above this."""


class HandoffType(FileModel):
    """A kind of handoff: who hands what to whom, in which stages, under which SLAs."""

    label: str
    """Name for people, e.g. Partner to direct sales."""
    applies_when: Condition | None = None
    """Deals whose handoff_type is blank are of this type when this holds (first wins)."""
    takes_over: list[str] = Field(default_factory=list)
    """Handoff types whose deals move to this one once its applies_when holds (e.g. a won
    partner deal moves on to the customer-success handoff)."""
    required_when: Condition | None = None
    """Handoff-required threshold; without it every deal of this type needs the handoff."""
    calendar: str | None = None
    """The business calendar for business_hours/business_days durations."""
    stages: list[Stage] = Field(min_length=1)
    """The stages, in order."""
    tasks: list[TaskTemplate] = Field(default_factory=list)
    """Follow-up task templates."""
    slas: list[SlaClock] = Field(default_factory=list)
    """SLA clocks."""
    brief: Brief
    """The handoff brief template."""
    acceptance: Acceptance | None = None
    """Whether the receiving owner accepts or rejects this handoff (handoff_acceptance)."""


def _default_normalisation() -> list[Normalisation]:
    return ["lowercase", "trim", "collapse_spaces", "strip_punctuation", "strip_legal_suffixes"]


class Matching(FileModel):
    """How a PRM registration is linked to a CRM deal when no id field links them."""

    exact: list[str] = Field(default_factory=list)
    """Fields that must be equal after normalisation when both sides have them."""
    fuzzy: list[str] = Field(default_factory=lambda: ["deal_name"])
    """Text fields compared by similarity."""
    normalise: list[Normalisation] = Field(default_factory=_default_normalisation)
    """Clean-ups applied before comparing texts."""
    fuzzy_min_score: int = Field(default=85, ge=0, le=100)
    """Similarity (0-100) a fuzzy field needs to count as a match."""
    amount_tolerance_pct: float = Field(default=10, ge=0, le=100)
    """Amounts may differ by this percentage."""
    close_date_window_days: int = Field(default=30, ge=0, le=3650)
    """Close dates may differ by this many days."""
    auto_link_min_confidence: float = Field(default=0.9, gt=0, le=1)
    """Candidates at or above this confidence are linked automatically."""
    review_min_confidence: float = Field(default=0.5, gt=0, le=1)
    """Candidates between this and the auto-link level go to the review queue."""


class Creation(FileModel):
    """Which registrations get an opportunity created in the CRM when none matches."""

    when: Condition
    """Registrations needing a handoff for which one is created, e.g. approved ones."""


class Ownership(FileModel):
    fallback_owner_email: str
    """Who owns a task when the role's person has no user in the system it is written to."""
    channel_manager_field: str | None = None
    """A field naming the registration's channel manager (e.g. custom.channel_manager_email,
    the PRM record's owner): PRM tasks whose person has no PRM user go to them before the
    fallback owner."""


class RoutingTeam(FileModel):
    """People who share new opportunities in turn (round robin), each up to a cap."""

    members: list[str]
    """CRM users' emails; ties in open handoffs go to the one listed first."""
    cap: int | None = None
    """Most open handoffs one member may hold; a member at the cap is skipped. None: no
    cap."""


class RoutingRule(FileModel):
    """Who gets a new opportunity when ``when`` holds: exactly one of owner, team or
    partner_ae."""

    name: str | None = None
    """A label for plan and the brief, e.g. EMEA territory (default: the kind of rule)."""
    when: Condition | None = None
    """The rule applies only to deals where this holds (none: every deal)."""
    owner: str | None = None
    """A CRM user's email: this person gets the deal."""
    team: str | None = None
    """A team under routing.teams: its least-loaded member under the cap gets the deal."""
    partner_ae: str | None = None
    """A canonical or custom field holding an email: the partner's assigned account
    executive gets the deal (skipped when the field is blank)."""


class Routing(FileModel):
    """Who owns an opportunity handoff-sync creates: rules in order, first match wins."""

    teams: dict[str, RoutingTeam] = Field(default_factory=dict)
    """Round-robin teams by id."""
    rules: list[RoutingRule] = Field(default_factory=list)
    """The rules, in order; the first that routes the deal wins."""
    fallback_owner: str | None = None
    """The queue owner when no rule routes a deal (default:
    ownership.fallback_owner_email)."""


class HandoffPolicy(FileModel):
    """mappings/handoff.yaml: how handoffs are gated, tasked, clocked and linked."""

    version: int
    """Format version of this file; this handoff-sync reads version 1."""
    calendars: dict[str, BusinessCalendar] = Field(default_factory=dict)
    """Business-hours calendars by name."""
    ownership: Ownership
    """Ownership rules shared by every handoff type."""
    matching: Matching = Field(default_factory=Matching)
    """Linking rules."""
    creation: Creation | None = None
    """Create an opportunity for a registration no opportunity matches (needs the CRM
    mapping's create: section); without it handoff-sync only grades existing ones."""
    routing: Routing | None = None
    """Who owns the opportunities handoff-sync creates (none: the fallback owner)."""
    handoff_types: dict[str, HandoffType] = Field(min_length=1)
    """Handoff types by id (the values the handoff_type field maps to)."""
    measures: Measures = Field(default_factory=Measures)
    """What the report holds figures to (targets, smallest sample worth ranking)."""
