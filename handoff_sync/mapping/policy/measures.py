"""The ``measures:`` section of mappings/handoff.yaml: what the report holds figures to.

Targets are the practitioners' numbers (docs/domain.md, "What operators measure") unless
the admin sets their own; ``min_sample`` keeps a partner with one handoff from ranking
first on a score of 100; ``improvement_owners`` names who owns improving each figure (the
governance maturity meter's fifth dimension).
"""

from __future__ import annotations

from pydantic import Field

from handoff_sync.mapping.policy.funnels import Funnel
from handoff_sync.mapping.system.file_model import FileModel

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
    improvement_owners: dict[str, str] = Field(default_factory=dict)
    """Who owns improving each figure: figure id (completeness, within_sla, first_touch,
    rejection_rate, preservation, cycle_impact, funnel, time_to_kickoff, attribution,
    partner_readiness) -> the person's email. Every figure held to a target named is
    governance maturity level 3 on this dimension."""
