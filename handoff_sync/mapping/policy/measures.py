"""The ``measures:`` section of mappings/handoff.yaml: what the report holds figures to.

Targets are the practitioners' numbers (docs/domain.md, "What operators measure") unless
the admin sets their own; ``min_sample`` keeps a partner with one handoff from ranking
first on a score of 100; ``improvement_owners`` names who owns improving each figure (the
governance maturity meter's fifth dimension).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from handoff_sync.mapping.policy.duration import Duration
from handoff_sync.mapping.policy.funnels import Funnel
from handoff_sync.mapping.system.file_model import FileModel

HistoryMeasure = Literal["completeness", "within_sla", "acceptance", "preservation"]
HISTORY_MEASURES: tuple[str, ...] = ("completeness", "within_sla", "acceptance",
                                     "preservation")
PARTNER_SOURCE = "partner."  # a field of the partner account (the PRM's partners: section)
HISTORY_SOURCE = "history."  # a figure of the partner's own handoffs
Score = Annotated[float, Field(ge=0, le=100)]
TRAINING_PLACEHOLDERS: dict[str, str] = {
    "partner_name": "the partner account's name",
    "dimension_label": "the dimension's label",
    "dimension_score": "the dimension's score, 0-100",
    "dimension_value": "what was scored (the field's value, or the history figure and n)",
    "threshold": "the dimension's threshold",
    "readiness_score": "the partner's weighted readiness score, 0-100",
    "channel_manager_email": "the partner account owner's email",
}
"""What a training task's subject and body may name, besides the partner.* fields."""

# The figures a person can own the improvement of (measures.improvement_owners keys), with
# the words the report uses for them. A figure another part of the report adds joins here.
IMPROVABLE_FIGURES: dict[str, str] = {
    "completeness": "Handoff completeness",
    "within_sla": "Handoffs within SLA",
    "first_touch": "Time to first touch",
    "rejection_rate": "Handoff rejection rate",
    "preservation": "Deal preservation",
    "cycle_impact": "Cycle-length impact",
    "funnel": "Leakage funnel conversion",
    "time_to_kickoff": "Time to kickoff",
    "attribution": "Attribution accuracy",
    "partner_readiness": "Partner readiness",
}
# The target (a Targets field below) each figure is held to: a figure held to a target
# needs a named improvement owner for governance maturity level 3. rejection_rate's
# target is the handoff types' acceptance.rejection_alert_pct, when a type has one.
TARGET_OF: dict[str, str] = {
    "completeness": "completeness_pct",
    "within_sla": "within_sla_pct",
    "preservation": "preservation_pct",
    "cycle_impact": "cycle_impact_pct",
    "time_to_kickoff": "kickoff_business_days",
    "attribution": "attribution_pct",
}
TARGETED_FIGURES = tuple(TARGET_OF)


class Targets(FileModel):
    """The targets the report marks each figure against."""

    completeness_pct: float = Field(default=90, ge=0, le=100)
    """Mean completeness of the deals needing a handoff, at least."""
    within_sla_pct: float = Field(default=90, ge=0, le=100)
    """Finished SLA clocks met in time, at least."""
    preservation_pct: float = Field(default=85, ge=0, le=100)
    """Partner deals closed won / partner deals closed, at least."""
    cycle_impact_pct: float = Field(default=10, ge=0, le=1000)
    """How much longer partner deals may take to close than direct ones, at most."""
    kickoff_business_days: float = Field(default=5, gt=0, le=365)
    """Business days from closed won to the customer-success kickoff, at most (measured
    on the business calendar of the won deal's handoff type)."""
    attribution_pct: float = Field(default=100, ge=0, le=100)
    """Won partner deals with their partner contribution and split documented, at least."""


BONUS_PCT = (5.0, 10.0)
"""The on-time bonus partner programmes pay, in percent of the deal (docs/domain.md)."""

ATTRIBUTION_FIELDS = ("partner_account", "partner_ongoing_role", "partner_split_pct")
"""What documents a won partner deal's attribution by default: the partner of record,
what the partner contributes, and the commission split (stage 5 of docs/domain.md)."""


class OnTimeBonus(FileModel):
    """A bonus some partner programmes pay when a handoff deal closes won within its
    original timeline: by the close date it had when its handoff started (handoff-sync
    records that date; the deal's own close date moves as the deal slips)."""

    # 5-10 (BONUS_PCT) is checked in measures_checks, with a hint.
    pct: float = Field(gt=0, le=100)
    """The bonus, in percent of the deal's amount, from 5 to 10."""
    handoff_type: str | None = None
    """The handoff whose start fixes the original timeline, e.g. partner_to_direct
    (default: the first handoff of the deal handoff-sync saw start)."""
    grace_days: int = Field(default=0, ge=0, le=366)
    """Days after the original close date that still count as on time."""


class ReadinessDimension(FileModel):
    """One capability a partner is scored on, 0-100, from one source."""

    id: str
    """Short id, unique among the dimensions (part of the training task's key)."""
    label: str
    """What is scored, for people, e.g. Runs technical conversations."""
    weight: float = Field(gt=0, le=100)
    """Its share of the readiness score; the dimensions' weights sum to 100."""
    source: str
    """partner.<field> (a field of the partner account, mapped in the PRM file's partners:
    section) or history.<figure>: history.completeness, history.within_sla,
    history.acceptance or history.preservation (the partner's own handoffs)."""
    scale: dict[str, Score] | None = None
    """A picklist or text field: the score (0-100) of each value it takes."""
    full_at: float | None = Field(default=None, gt=0)
    """A number field: the value that scores 100 (0 scores 0, linear between, capped)."""
    threshold: float | None = Field(default=None, ge=0, le=100)
    """Under this score the partner gets a training task (default: readiness.threshold)."""
    min_sample: int | None = Field(default=None, ge=1, le=10_000)
    """history.* only: the fewest handoffs (finished clocks, decisions, closed deals) worth
    scoring; fewer is "not enough history", left out of the score (default:
    measures.min_sample)."""


class TrainingTask(FileModel):
    """The task a partner's channel manager gets for a dimension under its threshold."""

    subject: str
    """Task subject; {placeholders}: partner_name, dimension_label, dimension_score,
    dimension_value, threshold, readiness_score, channel_manager_email, or a partner.*
    field of the partners section."""
    body: str = ""
    """Task description; {placeholders} as in subject."""
    due: Duration
    """How long after the task opens it is due."""
    priority: Literal["high", "normal", "low"] = "normal"
    """Task priority."""
    calendar: str | None = None
    """The business calendar for a due in business_days or business_hours."""


class Readiness(FileModel):
    """Partner readiness: a weighted score of capability dimensions, with training tasks."""

    threshold: float = Field(default=60, ge=0, le=100)
    """The score under which a dimension opens a training task (a dimension may set its
    own)."""
    dimensions: list[ReadinessDimension] = Field(min_length=1)
    """The dimensions, with weights summing to 100."""
    training_task: TrainingTask | None = None
    """The training task for a dimension under its threshold, on the partner account in
    the PRM, for the partner's channel manager (else ownership.fallback_owner_email); none:
    scores only."""


class Measures(FileModel):
    """How handoffs are measured: targets, the smallest sample worth ranking, funnels, what
    documents an attribution, and the on-time bonus."""

    targets: Targets = Field(default_factory=Targets)
    """Targets the report marks figures against."""
    min_sample: int = Field(default=5, ge=1, le=10_000)
    """A group (partner, region, ...) with fewer finished cases is shown with its n but
    neither ranked nor marked against a target."""
    funnels: list[Funnel] = Field(default_factory=list)
    """Leakage funnels: chains of steps whose counts, conversion, time between steps and
    dollars lost the report shows (none: no funnel section)."""
    attribution_fields: list[str] = Field(default_factory=lambda: list(ATTRIBUTION_FIELDS),
                                          min_length=1)
    """Canonical fields a won partner deal must have filled for its attribution (the
    partner's contribution and split) to count as documented."""
    on_time_bonus: OnTimeBonus | None = None
    """The on-time bonus the report works out per partner (none: not shown)."""
    readiness: Readiness | None = None
    """Partner readiness: dimensions, weights, thresholds and the training task."""
    improvement_owners: dict[str, str] = Field(default_factory=dict)
    """Who owns improving each figure: figure id (completeness, within_sla, first_touch,
    rejection_rate, preservation, cycle_impact, funnel, time_to_kickoff, attribution,
    partner_readiness) -> the person's email. Every figure held to a target named is
    governance maturity level 3 on this dimension."""
