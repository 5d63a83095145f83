"""The report's figures: a pure function of the report rows, ``now`` and the period.

Definitions (docs/domain.md, "What operators measure"):
- period: deals open now or closed on/after ``since``; clocks started, SLA events and
  conflicts at/after ``since``; review items open now. No ``since``: everything.
- completeness: the verdict's percent of the current gate filled, over deals that need a
  handoff; target 90%.
- within SLA: clocks met, or still running and not breached (on_track, at_risk), over
  those plus breached ones; cancelled clocks (the deal stopped needing the handoff) are
  left out. Target 90%.
- time to first touch: a first-touch clock (one that stops when the receiver's first
  touch is recorded) from its start to its stop, in elapsed hours.
- escalations: breached events that named someone to escalate to.
- preservation: partner deals closed won / partner deals closed; target 85%.
- cycle length: days from the CRM record's creation to its close date, closed-won deals;
  impact = partner median / direct median - 1; target +10% at most.
- acceptance: handoffs the receiving owner decided on (accepted or rejected) in the
  period; rejection rate = handoffs rejected at least once / handoffs decided, overall
  and by partner (n shown); a partner above the policy's rejection_alert_pct is an alert.
- readiness: a weighted mean of completeness, SLA compliance and preservation (weights in
  ``READINESS_WEIGHTS``, re-normalised over the components a partner has data for).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from handoff_sync.mapping.policy.measures import Targets
from handoff_sync.report.facts import (
    DIRECT,
    PARTNER,
    PRM_ONLY,
    ClockFact,
    DealFact,
    DecisionFact,
    HistoryFact,
    ReportData,
)
from handoff_sync.report.readiness import ReadinessSection
from handoff_sync.report.readiness import readiness as partner_readiness

SECTIONS = ("volume", "completeness", "sla", "acceptance", "preservation", "reviews",
            "scorecard", "readiness")
SECTION_TITLES = {
    "volume": "Handoff volume",
    "completeness": "Handoff completeness",
    "sla": "SLA compliance and first touch",
    "acceptance": "Handoff acceptance and rejections",
    "preservation": "Deal preservation and cycle length",
    "reviews": "Review queue and conflicts",
    "scorecard": "Partner scorecard",
    "readiness": "Partner readiness",
}
DIMENSIONS = ("partner", "handoff_type", "stage", "owner", "region")
READINESS_WEIGHTS = {"completeness": 0.4, "sla": 0.3, "preservation": 0.3}
TOP_MISSING = 10
TREND_POINTS = 60
NO_PARTNER = "(direct)"
NONE = "(none)"


@dataclass(frozen=True, slots=True)
class VolumeRow:
    group: str
    partner: int
    direct: int
    prm_only: int
    total: int


@dataclass(frozen=True, slots=True)
class Volume:
    by: str
    rows: tuple[VolumeRow, ...]
    partner: int
    direct: int
    prm_only: int  # registrations without a CRM opportunity yet
    total: int


@dataclass(frozen=True, slots=True)
class Bucket:
    label: str  # "0-9" ... "90-100"
    low: int
    high: int
    count: int


@dataclass(frozen=True, slots=True)
class Count:
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class Completeness:
    deals: int  # deals that need a handoff
    mean_pct: float | None
    median_pct: float | None
    at_target: int  # deals at or above the target
    at_target_pct: float | None
    target_pct: float
    histogram: tuple[Bucket, ...]
    most_missing: tuple[Count, ...]


@dataclass(frozen=True, slots=True)
class ClockSummary:
    clock: str
    label: str
    counted: int  # within + breached
    within: int
    breached: int
    within_pct: float | None


@dataclass(frozen=True, slots=True)
class Sla:
    counted: int
    within: int
    met: int
    running: int  # on_track or at_risk
    at_risk: int
    breached: int
    cancelled: int
    within_pct: float | None
    target_pct: float
    by_clock: tuple[ClockSummary, ...]
    breach_events: int
    escalations: int
    escalation_tasks: int
    escalation_tasks_open: int
    first_touch_clocks: tuple[str, ...]
    first_touched: int
    first_touch_waiting: int
    first_touch_median_hours: float | None
    first_touch_mean_hours: float | None


@dataclass(frozen=True, slots=True)
class Preservation:
    partner_closed: int
    partner_won: int
    rate_pct: float | None
    target_pct: float
    direct_closed: int
    direct_won: int
    direct_rate_pct: float | None
    partner_cycle_deals: int
    partner_cycle_days: float | None  # median
    direct_cycle_deals: int
    direct_cycle_days: float | None
    cycle_impact_pct: float | None
    cycle_target_pct: float


@dataclass(frozen=True, slots=True)
class Reviews:
    open: int
    by_kind: tuple[Count, ...]
    conflicts: int
    conflicts_by_field: tuple[Count, ...]


@dataclass(frozen=True, slots=True)
class PartnerRejections:
    partner: str
    decided: int  # handoffs accepted or rejected in the period
    rejected: int  # of them, rejected at least once
    rate_pct: float | None
    alert: bool  # the rate is above the policy's threshold


@dataclass(frozen=True, slots=True)
class AcceptanceFigures:
    enabled: bool  # some handoff type lets the receiver accept or reject
    decided: int
    accepted: int  # decided handoffs whose latest decision is an acceptance
    rejected: int  # decided handoffs rejected at least once
    rejection_rate_pct: float | None
    resubmitted: int  # re-submissions after a rejection
    alert_pct: float | None
    partners: tuple[PartnerRejections, ...]  # highest rate first
    alerts: tuple[str, ...]  # one line per partner above the threshold
    top_reasons: tuple[Count, ...]


@dataclass(frozen=True, slots=True)
class PartnerScore:
    partner: str
    deals: int
    handoffs: int  # deals that need a handoff
    completeness_pct: float | None
    sla_pct: float | None
    preservation_pct: float | None
    readiness: float | None
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
    partners: tuple[PartnerScore, ...]
    trend: tuple[TrendPoint, ...]  # mean completeness of handoff deals over the period


@dataclass(frozen=True, slots=True)
class Report:
    pipeline: str
    generated_at: datetime
    since: datetime | None
    by: str
    runs: int
    volume: Volume
    completeness: Completeness
    sla: Sla
    acceptance: AcceptanceFigures
    preservation: Preservation
    reviews: Reviews
    scorecard: Scorecard
    readiness: ReadinessSection
    notes: tuple[str, ...]


def compute(data: ReportData, *, now: datetime, since: datetime | None = None,
            by: str = "partner") -> Report:
    if by not in DIMENSIONS:
        raise ValueError(f"--by must be one of {', '.join(DIMENSIONS)}, not {by!r}")
    deals = in_period(data.deals, since)
    targets = data.policy.targets
    keys = {deal.key for deal in deals}
    clocks = tuple(c for c in data.clocks if c.deal in keys and _after(c.started_at, since))
    notes = list(data.notes)
    notes.append("Period: deals open now or closed since the start; clocks started, SLA "
                 "events and conflicts since the start; review items open now.")
    notes.append("Time to first touch is elapsed time from the clock's start (the daemon "
                 "first saw the handoff required) to the first recorded touch.")
    return Report(
        pipeline=data.pipeline, generated_at=now, since=since, by=by, runs=data.runs,
        volume=volume(deals, by), completeness=completeness(deals, targets),
        sla=sla(data, clocks, keys, since), acceptance=acceptance(data, since),
        preservation=preservation(deals, targets), reviews=reviews(data, since),
        scorecard=scorecard(data, deals, clocks, since, now),
        readiness=partner_readiness(data), notes=tuple(notes))


def in_period(deals: Iterable[DealFact], since: datetime | None) -> tuple[DealFact, ...]:
    if since is None:
        return tuple(deals)
    return tuple(d for d in deals if not d.is_closed or d.close_date is None
                 or d.close_date >= since.date())


def group_of(deal: DealFact, by: str) -> str:
    value = {"partner": deal.partner if deal.kind != DIRECT else NO_PARTNER,
             "handoff_type": deal.handoff_type, "stage": deal.stage,
             "owner": deal.owner, "region": deal.region}[by]
    return value or NONE


def volume(deals: Sequence[DealFact], by: str) -> Volume:
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for deal in deals:
        groups[group_of(deal, by)][deal.kind] += 1
    rows = tuple(VolumeRow(g, c[PARTNER], c[DIRECT], c[PRM_ONLY], c.total())
                 for g, c in groups.items())
    rows = tuple(sorted(rows, key=lambda r: (-r.total, r.group)))
    kinds = Counter(d.kind for d in deals)
    return Volume(by, rows, kinds[PARTNER], kinds[DIRECT], kinds[PRM_ONLY], len(deals))


def histogram(values: Iterable[int]) -> tuple[Bucket, ...]:
    """Ten buckets of ten points; 100% falls in the last one (90-100)."""
    counts = Counter(min(max(v, 0) // 10, 9) for v in values)
    return tuple(Bucket(f"{i * 10}-{i * 10 + 9 if i < 9 else 100}", i * 10,
                        i * 10 + 9 if i < 9 else 100, counts[i]) for i in range(10))


def completeness(deals: Sequence[DealFact], targets: Targets) -> Completeness:
    handoffs = [d for d in deals if d.required]
    values = [d.completeness_pct for d in handoffs]
    at_target = sum(1 for v in values if v >= targets.completeness_pct)
    missing = Counter(label for d in handoffs for label in d.missing)
    return Completeness(
        deals=len(handoffs), mean_pct=_mean(values), median_pct=_median(values),
        at_target=at_target, at_target_pct=_pct(at_target, len(values)),
        target_pct=targets.completeness_pct, histogram=histogram(values),
        most_missing=_top(missing, TOP_MISSING))


def clock_outcome(clock: ClockFact) -> str:
    """within, breached or cancelled (stopped without being met or breached)."""
    if clock.status == "breached":
        return "breached"
    if clock.status == "met" or clock.stopped_at is None:
        return "within"
    return "cancelled"


def sla(data: ReportData, clocks: Sequence[ClockFact], keys: set[str],
        since: datetime | None) -> Sla:
    outcomes = Counter(clock_outcome(c) for c in clocks)
    within, breached = outcomes["within"], outcomes["breached"]
    by_clock: list[ClockSummary] = []
    for name in sorted({c.clock for c in clocks}):
        mine = Counter(clock_outcome(c) for c in clocks if c.clock == name)
        by_clock.append(ClockSummary(
            name, data.policy.clock_labels.get(name, name), mine["within"] + mine["breached"],
            mine["within"], mine["breached"],
            _pct(mine["within"], mine["within"] + mine["breached"])))
    events = [e for e in data.events if e.deal in keys and _after(e.at, since)]
    breach_events = [e for e in events if e.kind == "breached"]
    escalation_tasks = [t for t in data.tasks if t.kind in data.policy.escalation_task_kinds
                        and (t.deal is None or t.deal in keys)]
    touch = [c for c in clocks if c.clock in data.policy.first_touch_clocks
             and clock_outcome(c) != "cancelled"]
    hours = [(c.stopped_at - c.started_at).total_seconds() / 3600 for c in touch
             if c.stopped_at is not None]
    return Sla(
        counted=within + breached, within=within,
        met=sum(1 for c in clocks if c.status == "met"),
        running=sum(1 for c in clocks if c.stopped_at is None and c.status != "breached"),
        at_risk=sum(1 for c in clocks if c.stopped_at is None and c.status == "at_risk"),
        breached=breached, cancelled=outcomes["cancelled"],
        within_pct=_pct(within, within + breached), target_pct=data.policy.targets.within_sla_pct,
        by_clock=tuple(by_clock), breach_events=len(breach_events),
        escalations=sum(1 for e in breach_events if e.escalate_to),
        escalation_tasks=len(escalation_tasks),
        escalation_tasks_open=sum(1 for t in escalation_tasks if t.status == "open"),
        first_touch_clocks=tuple(sorted(data.policy.first_touch_clocks)),
        first_touched=len(hours), first_touch_waiting=len(touch) - len(hours),
        first_touch_median_hours=_round(_median(hours)),
        first_touch_mean_hours=_round(_mean(hours)))


def cycle_days(deal: DealFact) -> int | None:
    if deal.created_at is None or deal.close_date is None:
        return None
    return (deal.close_date - deal.created_at.date()).days


def preservation(deals: Sequence[DealFact], targets: Targets) -> Preservation:
    def closed(kind: str) -> list[DealFact]:
        return [d for d in deals if d.kind == kind and d.is_closed]

    def cycles(kind: str) -> list[int]:
        found = (cycle_days(d) for d in closed(kind) if d.is_won)
        return [days for days in found if days is not None and days >= 0]

    partner, direct = closed(PARTNER), closed(DIRECT)
    partner_won = sum(1 for d in partner if d.is_won)
    direct_won = sum(1 for d in direct if d.is_won)
    p_cycles, d_cycles = cycles(PARTNER), cycles(DIRECT)
    p_days, d_days = _median(p_cycles), _median(d_cycles)
    impact = (None if p_days is None or not d_days else _round((p_days / d_days - 1) * 100))
    return Preservation(
        partner_closed=len(partner), partner_won=partner_won,
        rate_pct=_pct(partner_won, len(partner)), target_pct=targets.preservation_pct,
        direct_closed=len(direct), direct_won=direct_won,
        direct_rate_pct=_pct(direct_won, len(direct)),
        partner_cycle_deals=len(p_cycles), partner_cycle_days=p_days,
        direct_cycle_deals=len(d_cycles), direct_cycle_days=d_days,
        cycle_impact_pct=impact, cycle_target_pct=targets.cycle_impact_pct)


def acceptance(data: ReportData, since: datetime | None) -> AcceptanceFigures:
    """Accepted and rejected handoffs, and the rejection rate by partner."""
    alert = data.policy.rejection_alert_pct
    decisions = [d for d in data.decisions if _after(d.at, since)]
    latest: dict[str, DecisionFact] = {}  # deal -> its last accept or reject
    rejected: set[str] = set()
    partner_of: dict[str, str] = {}
    reasons: Counter[str] = Counter()
    for decision in decisions:
        if decision.decision not in ("accepted", "rejected"):
            continue
        latest[decision.deal] = decision
        partner_of[decision.deal] = decision.partner or NO_PARTNER
        if decision.decision == "rejected":
            rejected.add(decision.deal)
            reasons[(decision.reason or "").strip() or "(no reason given)"] += 1
    by_partner: dict[str, list[str]] = defaultdict(list)
    for deal, partner in partner_of.items():
        by_partner[partner].append(deal)
    partners: list[PartnerRejections] = []
    for partner, deals in by_partner.items():
        mine = sum(1 for deal in deals if deal in rejected)
        rate = _pct(mine, len(deals))
        partners.append(PartnerRejections(partner, len(deals), mine, rate,
                                          alert is not None and rate is not None
                                          and rate > alert))
    partners.sort(key=lambda p: (-(p.rate_pct or 0), -p.decided, p.partner))
    alerts = tuple(f"{p.partner}: {p.rejected} of {p.decided} handoffs rejected "
                   f"({p.rate_pct:g}%), above {alert:g}%: investigate"
                   for p in partners if p.alert and p.rate_pct is not None and alert is not None)
    return AcceptanceFigures(
        enabled=alert is not None, decided=len(latest),
        accepted=sum(1 for d in latest.values() if d.decision == "accepted"),
        rejected=len(rejected), rejection_rate_pct=_pct(len(rejected), len(latest)),
        resubmitted=sum(1 for d in decisions if d.decision == "resubmitted"),
        alert_pct=alert, partners=tuple(partners), alerts=alerts,
        top_reasons=_top(reasons, TOP_MISSING))


def reviews(data: ReportData, since: datetime | None) -> Reviews:
    open_items = Counter(r.kind for r in data.reviews if r.status == "open")
    conflicts = Counter(c.field for c in data.conflicts if _after(c.recorded_at, since))
    return Reviews(open=open_items.total(), by_kind=_top(open_items),
                   conflicts=conflicts.total(), conflicts_by_field=_top(conflicts))


def readiness(parts: dict[str, float | None]) -> float | None:
    """The weighted mean of the components present (weights re-normalised)."""
    present = {k: v for k, v in parts.items() if v is not None}
    weight = sum(READINESS_WEIGHTS[k] for k in present)
    if not present or weight == 0:
        return None
    return _round(sum(READINESS_WEIGHTS[k] * v for k, v in present.items()) / weight)


def completeness_at(history: Sequence[HistoryFact], at: datetime | None,
                    ) -> dict[str, int]:
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
    history = tuple(sorted((h for h in data.history if h.recorded_at <= now),
                           key=lambda h: h.recorded_at))
    start = completeness_at(history, since)
    latest = completeness_at(history, now)
    partners: dict[str, list[DealFact]] = defaultdict(list)
    for deal in deals:
        if deal.kind != DIRECT and deal.partner:
            partners[deal.partner].append(deal)
    scores: list[PartnerScore] = []
    for name, mine in partners.items():
        keys = {d.key for d in mine}
        handoffs = [d for d in mine if d.required]
        outcomes = Counter(clock_outcome(c) for c in clocks if c.deal in keys)
        closed = [d for d in mine if d.kind == PARTNER and d.is_closed]
        parts = {
            "completeness": _round(_mean([d.completeness_pct for d in handoffs])),
            "sla": _pct(outcomes["within"], outcomes["within"] + outcomes["breached"]),
            "preservation": _pct(sum(1 for d in closed if d.is_won), len(closed)),
        }
        tracked = [d.key for d in handoffs if d.key in start and d.key in latest]
        trend_start = _round(_mean([start[k] for k in tracked]))
        trend_now = _round(_mean([latest[k] for k in tracked]))
        delta = (None if trend_start is None or trend_now is None
                 else _round(trend_now - trend_start))
        scores.append(PartnerScore(
            name, len(mine), len(handoffs), parts["completeness"], parts["sla"],
            parts["preservation"], readiness(parts), trend_start, trend_now, delta))
    scores.sort(key=lambda s: (s.readiness is None, -(s.readiness or 0), s.partner))
    return Scorecard(dict(READINESS_WEIGHTS), tuple(scores), trend(history, since))


def trend(history: Sequence[HistoryFact], since: datetime | None) -> tuple[TrendPoint, ...]:
    """Mean completeness of the deals needing a handoff after each recorded change in the
    period (the state before the period is replayed first), thinned to TREND_POINTS."""
    current: dict[str, HistoryFact] = {}
    points: list[TrendPoint] = []
    for index, row in enumerate(history):
        current[row.deal] = row
        last_of_instant = (index + 1 == len(history)
                           or history[index + 1].recorded_at != row.recorded_at)
        if last_of_instant and _after(row.recorded_at, since):
            required = [h.completeness_pct for h in current.values() if h.required]
            if required:
                points.append(TrendPoint(row.recorded_at, _round(_mean(required)) or 0.0,
                                         len(required)))
    if len(points) <= TREND_POINTS:
        return tuple(points)
    step = (len(points) - 1) / (TREND_POINTS - 1)
    return tuple(points[round(i * step)] for i in range(TREND_POINTS))


def _after(at: datetime, since: datetime | None) -> bool:
    return since is None or at >= since


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 1)


def _mean(values: Sequence[float]) -> float | None:
    return float(statistics.fmean(values)) if values else None


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _top(counts: Counter[str], limit: int | None = None) -> tuple[Count, ...]:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(Count(label, n) for label, n in ordered[:limit])

