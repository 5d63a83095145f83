"""The partner scorecard: each partner's handoff outcomes, blended into a "handoff outcome
score", ranked only where the sample says something.

The blend used to be called "readiness". It is not: readiness (can the partner run
technical conversations, navigate its approvals, does it have depth) is about capability
and lives in its own section. This is what the partner's handoffs turned out like.

A component enters the score only when its own n reaches ``min_sample`` (one closed deal
makes preservation 0% or 100%, which is noise, not a grade); the weights are
re-normalised over the components that entered. A partner is ranked only when it has at
least ``min_sample`` handoffs and a score: a partner with one perfect handoff is listed,
with its n, below the ranked ones.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from handoff_sync.mapping.policy.measures import Targets
from handoff_sync.report.basis import DECIDED, MET, clock_state
from handoff_sync.report.facts import (
    DIRECT,
    PARTNER,
    ClockFact,
    DealFact,
    HistoryFact,
    ReportData,
)
from handoff_sync.report.figure import (
    Cell,
    Column,
    Figure,
    count,
    rate_cell,
    value_cell,
)
from handoff_sync.report.stats import enough, mean, ranked, rate, round1

OUTCOME_WEIGHTS = {"completeness": 0.4, "sla": 0.3, "preservation": 0.3}
TREND_POINTS = 60


@dataclass(frozen=True, slots=True)
class PartnerScore:
    partner: str
    rank: int | None  # None: fewer than min_sample handoffs, or no component to score
    deals: int
    handoffs: int  # deals that need a handoff: the score's n
    completeness: Cell  # mean completeness of its handoffs (n = handoffs)
    sla: Cell  # within SLA of its finished clocks (n = finished clocks)
    preservation: Cell  # its partner deals closed won / closed (n = closed)
    outcome_score: float | None
    score_parts: tuple[str, ...]  # the components that entered the score
    trend_start_pct: float | None
    trend_now_pct: float | None
    trend_delta: float | None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    at: datetime
    mean_pct: float
    deals: int


@dataclass(frozen=True, slots=True)
class Scorecard:
    weights: dict[str, float]
    min_sample: int
    outcome_score: Figure  # its definition, and how many partners were ranked
    unranked: Figure
    partners: tuple[PartnerScore, ...]  # ranked ones first, by score; then the rest
    partner_columns: tuple[Column, ...]
    trend: tuple[TrendPoint, ...]  # mean completeness of handoff deals over the period
    trend_definition: str


def score_definition(min_sample: int) -> str:
    parts = ", ".join(f"{name} {weight:.0%}" for name, weight in OUTCOME_WEIGHTS.items())
    return (f"Handoff outcome score (0-100) = weighted mean of {parts}, over the components "
            f"with at least {min_sample} cases (weights re-normalised over those); ranked "
            f"only for partners with at least {min_sample} handoffs. It grades what the "
            "partner's handoffs turned out like, not the partner's capability.")


def partner_columns(min_sample: int, targets: Targets) -> tuple[Column, ...]:
    return (
        Column("partner", "partner", "The partner account on the deal registration."),
        Column("rank", "rank", f"By handoff outcome score, among partners with at least "
               f"{min_sample} handoffs; blank: not ranked (too few handoffs, or nothing to "
               "score)."),
        Column("deals", "deals", "The partner's deals in the period (linked or registered "
               "only)."),
        Column("handoffs", "handoffs (n)", "Of them, deals that need a handoff: the score's "
               "n."),
        Column("completeness", f"completeness (>= {targets.completeness_pct:g}%)",
               "Mean completeness of its handoffs (n = handoffs)."),
        Column("sla", f"within SLA (>= {targets.within_sla_pct:g}%)", "Its SLA clocks met / "
               "clocks with a known outcome (n), Wilson 95% interval."),
        Column("preservation", f"preservation (>= {targets.preservation_pct:g}%)", "Its "
               "partner deals closed won / closed (n), Wilson 95% interval."),
        Column("outcome_score", "outcome score", score_definition(min_sample)),
        Column("score_parts", "scored on", f"The components with at least {min_sample} "
               "cases, which entered the score."),
        Column("trend_delta", "completeness trend", "Mean completeness of the same handoffs "
               "at the start of the period and at its end, or now (change in points)."),
    )


def outcome_score(parts: dict[str, float | None]) -> float | None:
    """The weighted mean of the components present (weights re-normalised)."""
    present = {k: v for k, v in parts.items() if v is not None}
    weight = sum(OUTCOME_WEIGHTS[k] for k in present)
    if not present or weight == 0:
        return None
    return round1(sum(OUTCOME_WEIGHTS[k] * v for k, v in present.items()) / weight)


def completeness_at(history: Sequence[HistoryFact], at: datetime | None) -> dict[str, int]:
    """Each deal's completeness as of ``at``: its last row at or before it, else (for a
    deal first seen later, or ``at`` None) its first row."""
    result: dict[str, int] = {}
    for row in history:  # ordered by recorded_at
        if at is None:
            result.setdefault(row.deal, row.completeness_pct)
        elif row.recorded_at <= at or row.deal not in result:
            result[row.deal] = row.completeness_pct
    return result


def scorecard(data: ReportData, deals: Sequence[DealFact], clocks: Sequence[ClockFact],
              since: datetime | None, now: datetime) -> Scorecard:
    least, targets = data.policy.min_sample, data.policy.targets
    history = tuple(sorted((h for h in data.history if h.recorded_at <= now),
                           key=lambda h: h.recorded_at))
    start, latest = completeness_at(history, since), completeness_at(history, now)
    partners: dict[str, list[DealFact]] = defaultdict(list)
    for deal in deals:
        if deal.kind != DIRECT and deal.partner:
            partners[deal.partner].append(deal)
    clocks_of: dict[str, list[ClockFact]] = defaultdict(list)
    for clock in clocks:  # once, not once per partner
        clocks_of[clock.deal].append(clock)
    scores: list[PartnerScore] = []
    for name, mine in partners.items():
        handoffs = [d for d in mine if d.required]
        states = Counter(clock_state(c, now) for key in {d.key for d in mine}
                         for c in clocks_of.get(key, ()))
        closed = [d for d in mine if d.kind == PARTNER and d.is_closed]
        cells = {
            "completeness": value_cell(
                round1(mean([d.completeness_pct for d in handoffs])), len(handoffs),
                target=targets.completeness_pct, min_sample=least),
            "sla": rate_cell(rate(states[MET], sum(states[s] for s in DECIDED), least),
                             target=targets.within_sla_pct, min_sample=least),
            "preservation": rate_cell(rate(sum(1 for d in closed if d.is_won), len(closed),
                                           least),
                                      target=targets.preservation_pct, min_sample=least),
        }
        counted = {k: c.value for k, c in cells.items() if enough(c.n, least)}
        tracked = [d.key for d in handoffs if d.key in start and d.key in latest]
        trend_start = round1(mean([start[k] for k in tracked]))
        trend_now = round1(mean([latest[k] for k in tracked]))
        scores.append(PartnerScore(
            name, None, len(mine), len(handoffs), cells["completeness"], cells["sla"],
            cells["preservation"], outcome_score(counted),
            tuple(k for k, v in counted.items() if v is not None), trend_start, trend_now,
            None if trend_start is None or trend_now is None
            else round1(trend_now - trend_start)))
    ranks, rest = ranked(scores, score=lambda s: s.outcome_score, n=lambda s: s.handoffs,
                         min_sample=least, name=lambda s: s.partner)
    ordered = tuple([_ranked(s, r) for r, s in ranks] + rest)
    return Scorecard(
        dict(OUTCOME_WEIGHTS), least,
        count("partners ranked by handoff outcome score", len(ranks),
              score_definition(least)),
        count("partners not ranked", len(rest), f"Partners with fewer than {least} "
              "handoffs, or no component with enough cases: listed with their n, unranked."),
        ordered, partner_columns(least, targets), trend(history, since),
        "Mean completeness of the deals needing a handoff after each recorded gate change "
        "in the period (the state before the period replayed first); the dashed line is "
        "the completeness target.")


def _ranked(score: PartnerScore, rank: int) -> PartnerScore:
    return replace(score, rank=rank)


def trend(history: Sequence[HistoryFact], since: datetime | None) -> tuple[TrendPoint, ...]:
    """Mean completeness of the deals needing a handoff after each recorded change in the
    period (the state before the period is replayed first), thinned to TREND_POINTS."""
    current: dict[str, HistoryFact] = {}
    points: list[TrendPoint] = []
    for index, row in enumerate(history):
        current[row.deal] = row
        last_of_instant = (index + 1 == len(history)
                           or history[index + 1].recorded_at != row.recorded_at)
        if last_of_instant and (since is None or row.recorded_at >= since):
            required = [h.completeness_pct for h in current.values() if h.required]
            if required:
                points.append(TrendPoint(row.recorded_at, round1(mean(required)) or 0.0,
                                         len(required)))
    if len(points) <= TREND_POINTS:
        return tuple(points)
    step = (len(points) - 1) / (TREND_POINTS - 1)
    return tuple(points[round(i * step)] for i in range(TREND_POINTS))
