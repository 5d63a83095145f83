"""The key figures by one dimension (``report --by``): volume, completeness, within SLA,
preservation and rejection rate per partner, segment, region, AE, handoff type or stage,
so a manager sees where handoffs go wrong, not only where the volume is.

Every rate carries its n and a Wilson 95% interval; a group under ``min_sample`` is shown
but not marked against the target. Rows are in volume order: this is not a ranking.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from handoff_sync.report.basis import (
    DECIDED,
    DIMENSION_LABELS,
    MET,
    NO_PARTNER,
    NONE,
    clock_state,
    decisions,
    group_of,
)
from handoff_sync.report.facts import PARTNER, ClockFact, DealFact, PolicyFacts, ReportData
from handoff_sync.report.figure import Cell, Column, rate_cell, value_cell
from handoff_sync.report.stats import mean, rate, round1


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    group: str
    deals: int
    handoffs: int
    completeness: Cell
    within_sla: Cell
    preservation: Cell
    rejection: Cell


@dataclass(frozen=True, slots=True)
class Breakdown:
    by: str
    by_label: str  # how a reader calls the dimension ("AE" for owner)
    rows: tuple[BreakdownRow, ...]
    columns: tuple[Column, ...]


def columns(by: str, policy: PolicyFacts) -> tuple[Column, ...]:
    """The table's columns; each rate's heading names its target (handoff.yaml)."""
    min_sample, targets = policy.min_sample, policy.targets
    judged = (f"judged against the target only when n reaches min_sample ({min_sample})")
    alert = ("" if policy.rejection_alert_pct is None
             else f" (alert > {policy.rejection_alert_pct:g}%)")
    return (
        Column("group", DIMENSION_LABELS[by], f"The deal's {DIMENSION_LABELS[by]}; "
               + (f"{NO_PARTNER}: a direct deal." if by == "partner"
                  else f"{NONE}: the deal has none.")),
        Column("deals", "deals", "Deals in the period: linked, direct and registered only."),
        Column("handoffs", "handoffs", "Of them, deals that need a handoff."),
        Column("completeness", f"completeness (>= {targets.completeness_pct:g}%)",
               f"Mean completeness of the handoffs (n = handoffs), {judged}."),
        Column("within_sla", f"within SLA (>= {targets.within_sla_pct:g}%)",
               "SLA clocks met / clocks with a known outcome (met or breached; running "
               f"ones not counted), Wilson 95% interval, {judged}."),
        Column("preservation", f"preservation (>= {targets.preservation_pct:g}%)",
               f"Partner deals closed won / partner deals closed, Wilson 95% interval, "
               f"{judged}."),
        Column("rejection", f"rejected{alert}", "Handoffs rejected at least once / handoffs the "
               "receiver accepted or rejected in the period, Wilson 95% interval; judged "
               f"against the alert threshold only when n reaches min_sample ({min_sample})."),
    )


def breakdown(data: ReportData, deals: Sequence[DealFact], clocks: Sequence[ClockFact],
              by: str, since: datetime | None, now: datetime) -> Breakdown:
    policy = data.policy
    least, targets = policy.min_sample, policy.targets
    groups: dict[str, list[DealFact]] = defaultdict(list)
    for deal in deals:
        groups[group_of(deal, by)].append(deal)
    clocks_of: dict[str, list[ClockFact]] = defaultdict(list)
    for clock in clocks:
        clocks_of[clock.deal].append(clock)
    decided = decisions(data, since)
    every_deal = {d.key: d for d in data.deals}
    decided_in: dict[str, list[str]] = defaultdict(list)
    for deal_key, decision in decided.latest.items():
        fact = every_deal.get(deal_key)
        if fact is not None:
            group = group_of(fact, by)
        elif by == "partner":
            group = decision.partner or NO_PARTNER
        else:
            group = NONE
        decided_in[group].append(deal_key)
        groups.setdefault(group, [])
    rows = []
    for group, mine in groups.items():
        handoffs = [d for d in mine if d.required]
        states = Counter(clock_state(c, now) for d in mine for c in clocks_of[d.key])
        closed = [d for d in mine if d.kind == PARTNER and d.is_closed]
        handled = decided_in[group]
        rows.append(BreakdownRow(
            group, len(mine), len(handoffs),
            value_cell(round1(mean([d.completeness_pct for d in handoffs])), len(handoffs),
                       target=targets.completeness_pct, min_sample=least),
            rate_cell(rate(states[MET], sum(states[s] for s in DECIDED), least),
                      target=targets.within_sla_pct, min_sample=least),
            rate_cell(rate(sum(1 for d in closed if d.is_won), len(closed), least),
                      target=targets.preservation_pct, min_sample=least),
            rate_cell(rate(sum(1 for k in handled if k in decided.rejected), len(handled),
                           least),
                      target=policy.rejection_alert_pct, at_most=True, min_sample=least)))
    rows.sort(key=lambda r: (-r.deals, r.group))
    return Breakdown(by, DIMENSION_LABELS[by], tuple(rows), columns(by, policy))
