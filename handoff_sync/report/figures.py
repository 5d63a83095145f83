"""The report's figures: a pure function of the report rows, ``now`` and the period.

Every figure carries its definition (``figure.Figure``, ``figure.Column``), its n, and
its target from handoff.yaml ``measures`` with where it stands; rates count only cases
whose outcome is known, carry a Wilson 95% interval by group, and a group under
``measures.min_sample`` is neither ranked nor marked (``stats``).

A selection (``selection``: partners, segments, regions, handoff types) narrows the rows
first; every section then computes as without one, except partner readiness, which
scores each selected partner on its whole history as the sync cycle does.

The period, ``[since, until)``: deals open at its end (now without ``until``) or closed in
it (a closed deal with no close date is in no period); clocks started, SLA events,
decisions and conflicts in it; review items open now. No ``since``: from the first
cycle; no ``until``: up to now. With ``until``, the rows are first taken back to the end
(``period.as_of``: what was not yet created, closed, stopped or recorded then is not, and
the figures' "now" is the end when it is past), so a quarter reads the same whenever its
report is made, but for what the store keeps only as it is now (deal values, tasks,
review items). Sections with more to say
live in their own modules (``sla_figures``, ``scorecard``, ``breakdown``, ``funnel``); the
small ones are here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from handoff_sync.mapping.policy.measures import Targets
from handoff_sync.report.basis import (
    DIMENSION_LABELS,
    DIMENSIONS,
    NO_PARTNER,
    NONE,
    Count,
    after,
    cycle_days,
    decisions,
    group_of,
    in_period,
    top,
    undated_closed,
)
from handoff_sync.report.breakdown import Breakdown, breakdown
from handoff_sync.report.facts import (
    DIRECT,
    PARTNER,
    PRM_ONLY,
    DealFact,
    ReportData,
)
from handoff_sync.report.figure import (
    Cell,
    Column,
    Figure,
    count,
    measure,
    rate_cell,
    share,
)
from handoff_sync.report.funnel import FunnelMemo, FunnelSection, compute_funnels
from handoff_sync.report.maturity import Maturity, assess
from handoff_sync.report.period import as_of, deals_at
from handoff_sync.report.quality import Quality, Reused, quality
from handoff_sync.report.readiness import ReadinessSection
from handoff_sync.report.readiness import readiness as partner_readiness
from handoff_sync.report.scorecard import (
    OUTCOME_WEIGHTS,
    PartnerScore,
    Scorecard,
    TrendPoint,
    scorecard,
)
from handoff_sync.report.selection import Selection, select
from handoff_sync.report.sla_figures import ClockRow, Sla, sla
from handoff_sync.report.stats import enough, mean, median, ranked, rate, round1

__all__ = ["DIMENSIONS", "DIMENSION_LABELS", "NONE", "NO_PARTNER", "OUTCOME_WEIGHTS",
           "SECTIONS", "SECTION_TITLES", "AcceptanceFigures", "Breakdown", "Bucket",
           "ClockRow", "Completeness", "Count", "Maturity", "PartnerRejections",
           "PartnerScore", "Preservation", "Quality", "Report", "Reviews", "Scorecard", "Sla",
           "TrendPoint", "Volume", "VolumeRow", "compute", "group_of", "histogram",
           "in_period"]

SECTIONS = ("maturity", "volume", "breakdown", "completeness", "sla", "acceptance",
            "preservation", "quality", "funnel", "reviews", "scorecard", "readiness")
SECTION_TITLES = {
    "maturity": "Governance maturity",
    "volume": "Handoff volume",
    "breakdown": "Key figures by group",
    "completeness": "Handoff completeness",
    "sla": "SLA compliance and first touch",
    "acceptance": "Handoff acceptance and rejections",
    "preservation": "Deal preservation and cycle length",
    "quality": "Handoff quality",
    "funnel": "Leakage funnel",
    "reviews": "Review queue and conflicts",
    "scorecard": "Partner scorecard: handoff outcome score",
    "readiness": "Partner readiness",
}
TOP_MISSING = 10


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
    total: Figure
    partner: Figure
    direct: Figure
    prm_only: Figure  # registrations without a CRM opportunity yet
    rows: tuple[VolumeRow, ...]
    columns: tuple[Column, ...]


@dataclass(frozen=True, slots=True)
class Bucket:
    label: str  # "0-9" ... "90-100"
    low: int
    high: int
    count: int


@dataclass(frozen=True, slots=True)
class Completeness:
    handoffs: Figure
    mean: Figure
    median: Figure
    at_target: Figure
    histogram: tuple[Bucket, ...]
    histogram_definition: str
    most_missing: tuple[Count, ...]
    most_missing_of: int  # different facts missing in all (the list shows the top)
    most_missing_definition: str


@dataclass(frozen=True, slots=True)
class PartnerRejections:
    partner: str
    decided: int  # handoffs accepted or rejected in the period: the rate's n
    rejected: int  # of them, rejected at least once
    rate: Cell  # rejected / decided, Wilson interval, status against the alert threshold
    alert: bool  # above the threshold, with n at min_sample or more


@dataclass(frozen=True, slots=True)
class AcceptanceFigures:
    enabled: bool  # some handoff type lets the receiver accept or reject
    decided: Figure
    accepted: Figure
    rejected: Figure
    rejection_rate: Figure
    resubmitted: Figure
    alert_pct: float | None
    partners: tuple[PartnerRejections, ...]  # judged ones by rate, then small samples
    partner_columns: tuple[Column, ...]
    alerts: tuple[str, ...]  # one line per partner above the threshold
    top_reasons: tuple[Count, ...]
    top_reasons_of: int  # different reasons given in all (the list shows the top)
    top_reasons_definition: str


@dataclass(frozen=True, slots=True)
class Preservation:
    preservation: Figure
    direct_win_rate: Figure
    partner_cycle: Figure
    direct_cycle: Figure
    cycle_impact: Figure


@dataclass(frozen=True, slots=True)
class Reviews:
    open: Figure
    conflicts: Figure
    by_kind: tuple[Count, ...]
    by_kind_definition: str
    conflicts_by_field: tuple[Count, ...]
    conflicts_by_field_definition: str


@dataclass(frozen=True, slots=True)
class Report:
    pipeline: str
    generated_at: datetime
    since: datetime | None
    until: datetime | None  # the first instant after the period (None: up to now)
    by: str
    runs: int
    min_sample: int
    volume: Volume
    breakdown: Breakdown
    completeness: Completeness
    sla: Sla
    acceptance: AcceptanceFigures
    preservation: Preservation
    quality: Quality
    funnel: FunnelSection
    reviews: Reviews
    scorecard: Scorecard
    readiness: ReadinessSection
    maturity: Maturity
    notes: tuple[str, ...]
    # The selection the figures are narrowed to: dimension -> values kept ({}: none).
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)


def compute(data: ReportData, *, now: datetime, since: datetime | None = None,
            until: datetime | None = None, by: str = "partner",
            selection: Selection | None = None, memo: FunnelMemo | None = None) -> Report:
    """The report of ``data``; ``memo`` (one per ``data``) keeps what does not depend on
    ``now`` for the next report of the same rows."""
    if by not in DIMENSIONS:
        raise ValueError(f"--by must be one of {', '.join(DIMENSIONS)}, not {by!r}")
    if since is not None and until is not None and until <= since:
        raise ValueError(f"the period ends ({until.isoformat()}) before it starts "
                         f"({since.isoformat()})")
    selection = selection or Selection()
    generated = now  # the figures' "now" is the end when the end is past
    if until is not None:
        end, rows = until, data.deals  # the memo keeps the rewound deals per end
        deals_then = (None if memo is None
                      else memo.rewound(rows, end, lambda: deals_at(rows, end)))
        data, now = as_of(data, until, now, deals_then), min(until, now)
    whole, data = data, select(data, selection)
    deals = in_period(data.deals, since, until)
    keys = {deal.key for deal in deals}
    clocks = tuple(c for c in data.clocks if c.deal in keys and after(c.started_at, since))
    notes = list(data.notes)
    if until is None:
        notes.append("Period: deals open now or closed since the start; clocks started, "
                     "SLA events, decisions and conflicts since the start; review items "
                     "open now.")
    else:
        notes.append("Period: deals open at its end or closed in it; clocks started, SLA "
                     "events, decisions and conflicts in it; what was recorded after the "
                     "end is left out, and running clocks and waiting kickoffs are aged "
                     "to the end (to now if it is not past). Deal values, tasks and open "
                     "review items are as they are now.")
    notes.append(f"Small samples: every rate shows its n; a group with fewer than "
                 f"{data.policy.min_sample} cases (handoff.yaml measures.min_sample) is "
                 "shown but neither ranked nor marked against its target. [a-b] is the "
                 "Wilson 95% interval of a rate.")
    if undated := undated_closed(data.deals, since, until):
        notes.append(f"{undated} closed deal{'s have' if undated > 1 else ' has'} no close "
                     f"date: {'they' if undated > 1 else 'it'} cannot be placed in the "
                     f"period, so {'they are' if undated > 1 else 'it is'} left out.")
    if selection:
        notes.append(f"Only {selection.describe()}: deals of the selection, and the rows "
                     "about them; partner readiness scores each partner on its whole "
                     "history, as the sync cycle does.")
    if not deals:
        notes.append("No deal in the period: every figure is n/a.")
    clocked, accepted = sla(data, clocks, keys, since, now), acceptance(data, since)
    preserved = preservation(deals, data.policy.targets, data.policy.min_sample)
    return Report(
        pipeline=data.pipeline, generated_at=generated, since=since, until=until, by=by,
        runs=data.runs,
        min_sample=data.policy.min_sample, volume=volume(deals, by),
        breakdown=breakdown(data, deals, clocks, by, since, now),
        completeness=completeness(deals, data.policy.targets, data.policy.min_sample),
        sla=clocked, acceptance=accepted, preservation=preserved,
        quality=quality(data, deals, now=now, since=since, by=by,
                        group=lambda deal: group_of(deal, by),
                        reused=reused(accepted, clocked, preserved)),
        funnel=compute_funnels(deals, data.policy.funnels, data.policy.min_sample, until,
                               memo),
        reviews=reviews(data, since), scorecard=scorecard(data, deals, clocks, since, now),
        readiness=partner_readiness(replace(whole, partners=data.partners)),
        maturity=assess(data, deals), notes=tuple(notes), filters=selection.as_dict())


def reused(accepted: AcceptanceFigures, clocked: Sla, preserved: Preservation) -> Reused:
    """The figures the quality section shows as these sections computed them."""
    return Reused(
        accepted.rejection_rate, accepted.alerts,
        tuple(replace(t.median, label=f"time to first touch, median: {t.label}")
              for t in clocked.first_touch),
        replace(preserved.cycle_impact, label="cycle-length impact vs direct deals"))


def volume(deals: Sequence[DealFact], by: str) -> Volume:
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for deal in deals:
        groups[group_of(deal, by)][deal.kind] += 1
    rows = tuple(sorted((VolumeRow(g, c[PARTNER], c[DIRECT], c[PRM_ONLY], c.total())
                         for g, c in groups.items()), key=lambda r: (-r.total, r.group)))
    kinds = Counter(d.kind for d in deals)
    label = DIMENSION_LABELS[by]
    return Volume(
        by,
        count("deals", len(deals), "Deals in the period: open at its end (now without "
              "--until), or closed in it (by close date: a closed deal with none is only in "
              "a report without --since or --until)."),
        count("partner deals (linked)", kinds[PARTNER], "Partner registrations linked to "
              "a CRM opportunity."),
        count("direct deals", kinds[DIRECT], "CRM opportunities no registration links to."),
        count("registered, not in the CRM", kinds[PRM_ONLY], "Registrations with no CRM "
              "opportunity (yet)."),
        rows,
        (Column("group", label, f"The deal's {label}."),
         Column("partner", "partner deals", "Partner registrations linked to a CRM "
                "opportunity."),
         Column("direct", "direct deals", "CRM opportunities no registration links to."),
         Column("prm_only", "PRM only", "Registrations with no CRM opportunity (yet)."),
         Column("total", "total", "All deals of the group.")))


def histogram(values: Iterable[int]) -> tuple[Bucket, ...]:
    """Ten buckets of ten points; 100% falls in the last one (90-100)."""
    counts = Counter(min(max(v, 0) // 10, 9) for v in values)
    return tuple(Bucket(f"{i * 10}-{i * 10 + 9 if i < 9 else 100}", i * 10,
                        i * 10 + 9 if i < 9 else 100, counts[i]) for i in range(10))


def completeness(deals: Sequence[DealFact], targets: Targets,
                 min_sample: int) -> Completeness:
    handoffs = [d for d in deals if d.required]
    values = [d.completeness_pct for d in handoffs]
    at_target = sum(1 for v in values if v >= targets.completeness_pct)
    n = len(values)
    missing = Counter(label for d in handoffs for label in d.missing)
    return Completeness(
        handoffs=count("deals needing a handoff", n, "Deals in the period the policy says "
                       "need a handoff (a handoff type's required_when holds)."),
        mean=measure("mean completeness", round1(mean(values)),
                     "Mean share of the current gate's required facts filled, over the "
                     "deals needing a handoff.", unit="%", n=n,
                     target=targets.completeness_pct, min_sample=min_sample,
                     why="no deal needs a handoff"),
        median=measure("median completeness", round1(median(values)), "Median of the same "
                       "shares.", unit="%", n=n, min_sample=min_sample,
                       why="no deal needs a handoff"),
        at_target=share(f"deals at >= {targets.completeness_pct:g}%",
                        rate(at_target, n, min_sample), "Deals needing a handoff whose "
                        "completeness reaches the target, out of all deals needing one.",
                        min_sample=min_sample, why="no deal needs a handoff"),
        histogram=histogram(values),
        histogram_definition="Deals needing a handoff per 10-point band of completeness "
                             "(100% falls in the last band).",
        most_missing=top(missing, TOP_MISSING), most_missing_of=len(missing),
        most_missing_definition=f"The {TOP_MISSING} facts most often missing on deals "
                                "needing a handoff (a deal counts once per fact).")


def acceptance(data: ReportData, since: datetime | None) -> AcceptanceFigures:
    """Accepted and rejected handoffs, and the rejection rate by partner."""
    alert, least = data.policy.rejection_alert_pct, data.policy.min_sample
    decided = decisions(data, since)
    by_partner: dict[str, list[str]] = defaultdict(list)
    for deal, decision in decided.latest.items():
        by_partner[decision.partner or NO_PARTNER].append(deal)
    rows: list[PartnerRejections] = []
    for partner, deals in by_partner.items():
        mine = sum(1 for deal in deals if deal in decided.rejected)
        cell = rate_cell(rate(mine, len(deals), least), target=alert, at_most=True,
                         min_sample=least)
        rows.append(PartnerRejections(partner, len(deals), mine, cell,
                                      alert is not None and enough(len(deals), least)
                                      and cell.value is not None and cell.value > alert))
    judged, rest = ranked(rows, score=lambda p: p.rate.value, n=lambda p: p.decided,
                          min_sample=least, name=lambda p: p.partner)
    partners = tuple([p for _, p in judged] + rest)
    alerts = tuple(f"{p.partner}: {p.rejected} of {p.decided} handoffs rejected "
                   f"({p.rate.value:g}%), above {alert:g}%: investigate"
                   for p in partners if p.alert and p.rate.value is not None
                   and alert is not None)
    n = len(decided.latest)
    threshold = ("" if alert is None else f" Alert above {alert:g}% (the lowest "
                 "rejection_alert_pct of the handoff types with acceptance).")
    return AcceptanceFigures(
        enabled=alert is not None,
        decided=count("handoffs decided", n, "Handoffs the receiving owner accepted or "
                      "rejected in the period (a withdrawal is no decision)."),
        accepted=count("accepted", sum(1 for d in decided.latest.values()
                                       if d.decision == "accepted"),
                       "Decided handoffs whose latest decision is an acceptance."),
        rejected=count("rejected at least once", len(decided.rejected),
                       "Decided handoffs rejected at least once (a re-submitted and then "
                       "accepted handoff still counts)."),
        rejection_rate=share("rejection rate", rate(len(decided.rejected), n, least),
                             "Handoffs rejected at least once / handoffs decided." + threshold,
                             target=alert, at_most=True, min_sample=least,
                             why="no handoff was accepted or rejected in the period"),
        resubmitted=count("re-submissions", decided.resubmitted, "Times a sender "
                          "re-submitted a rejected handoff."),
        alert_pct=alert, partners=partners,
        partner_columns=(
            Column("partner", "partner", "The registration's partner."),
            Column("decided", "decided (n)", "Its handoffs accepted or rejected."),
            Column("rejected", "rejected", "Of them, rejected at least once."),
            Column("rate", "rate" if alert is None else f"rate (alert > {alert:g}%)",
                   "rejected / decided, Wilson 95% interval; alert above "
                   f"the threshold only when n reaches min_sample ({least}); partners "
                   "under it are listed last, unjudged."),
        ),
        alerts=alerts, top_reasons=top(decided.reasons, TOP_MISSING),
        top_reasons_of=len(decided.reasons),
        top_reasons_definition="Reasons receivers gave when rejecting, most frequent first.")


def preservation(deals: Sequence[DealFact], targets: Targets,
                 min_sample: int) -> Preservation:
    def closed(kind: str) -> list[DealFact]:
        return [d for d in deals if d.kind == kind and d.is_closed]

    def cycles(kind: str) -> list[int]:
        found = (cycle_days(d) for d in closed(kind) if d.is_won)
        return [days for days in found if days is not None and days >= 0]

    partner, direct = closed(PARTNER), closed(DIRECT)
    p_cycles, d_cycles = cycles(PARTNER), cycles(DIRECT)
    p_days, d_days = round1(median(p_cycles)), round1(median(d_cycles))
    impact = (None if p_days is None or not d_days
              else round1((p_days / d_days - 1) * 100))
    why = ("no closed-won partner deal with a cycle length" if p_days is None
           else "no closed-won direct deal to compare with" if d_days is None
           else "direct deals closed the day they were created" if not d_days else "")
    cycle = ("days from the CRM record's creation to its close date, over {} deals closed "
             "won in the period.")
    return Preservation(
        preservation=share("deal preservation", rate(sum(1 for d in partner if d.is_won),
                                                     len(partner), min_sample),
                           "Partner deals closed won / partner deals closed (won or lost) "
                           "in the period; open deals are not counted.",
                           target=targets.preservation_pct, min_sample=min_sample,
                           why="no partner deal closed in the period"),
        direct_win_rate=share("direct win rate", rate(sum(1 for d in direct if d.is_won),
                                                      len(direct), min_sample),
                              "Direct deals closed won / direct deals closed, for "
                              "comparison.", min_sample=min_sample,
                              why="no direct deal closed in the period"),
        partner_cycle=measure("median cycle, partner deals", p_days,
                              "Median " + cycle.format("partner"), unit=" d",
                              n=len(p_cycles), min_sample=min_sample,
                              why="no closed-won partner deal with a creation date"),
        direct_cycle=measure("median cycle, direct deals", d_days,
                             "Median " + cycle.format("direct"), unit=" d", n=len(d_cycles),
                             min_sample=min_sample,
                             why="no closed-won direct deal with a creation date"),
        cycle_impact=measure("cycle-length impact", impact,
                             "Median partner cycle / median direct cycle - 1, in percent "
                             "(negative: partner deals close faster); n is the smaller of "
                             "the two samples.", unit="%",
                             n=min(len(p_cycles), len(d_cycles)),
                             target=targets.cycle_impact_pct, at_most=True,
                             min_sample=min_sample, why=why, signed=True))


def reviews(data: ReportData, since: datetime | None) -> Reviews:
    open_items = Counter(r.kind for r in data.reviews if r.status == "open")
    conflicts = Counter(c.field for c in data.conflicts if after(c.recorded_at, since))
    return Reviews(
        open=count("open review items", open_items.total(), "Items the daemon will not "
                   "guess (ambiguous links, channel conflicts, owners with no user...), "
                   "open now, whatever the period."),
        conflicts=count("conflicts", conflicts.total(), "Fields both systems changed since "
                        "the last cycle; the field's policy picked a winner."),
        by_kind=top(open_items),
        by_kind_definition="Open review items by kind (ambiguous_link, channel_conflict, "
                           "unresolved_owner, unrouted, no_opportunity...).",
        conflicts_by_field=top(conflicts),
        conflicts_by_field_definition="Conflicts in the period by canonical field.")

