"""Handoff quality: the quality and outcome figures practitioners watch (docs/domain.md,
"What operators measure"), each with its definition, its n and its target.

A pure function of the report rows, ``now`` and the period. Figures other sections
already compute (the rejection rate, time to first touch, the cycle-length impact) come
in as ``Reused`` and are shown here with the same value, not computed a second time. New
here, each defined in ``DEFINITIONS`` (the text every format prints next to the figure):

- asked for missing context: rejections, and gates reopened without one (gate history:
  the deal's stage moved back to an earlier stage of the same handoff type);
- recycled deals: a handoff that ended without moving on, then started again;
- time to kickoff: closed won (won_at) to the kickoff (kickoff_at), in business days of
  the won deal's handoff-type calendar (engine.calendar), against the kickoff target;
- attribution accuracy: won partner deals with every attribution field filled;
- the on-time bonus (only when handoff.yaml defines measures.on_time_bonus): won partner
  deals that closed by the close date they had when their handoff started (the store's
  baselines), and what the bonus comes to per partner.

Small samples: every figure carries its n; a figure or group under the policy's
min_sample is not marked against its target; rates by group carry a Wilson 95% interval.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from handoff_sync.engine.calendar import compile_calendar
from handoff_sync.mapping.policy.file_model import BusinessCalendar
from handoff_sync.report.facts import PARTNER, BaselineFact, DealFact, ReportData

# Without a calendar on the won deal's handoff type, business days are Monday to Friday.
WEEKDAYS_UTC = BusinessCalendar(timezone="UTC")
TOP_ROWS = 20  # rows the table and HTML show of a long list (they say "N of M")
_Z95 = 1.959964  # Wilson interval, 95%


@dataclass(frozen=True, slots=True)
class Reused:
    """Figures other sections compute, shown here as they are (one computation each)."""

    decided: int = 0  # handoffs accepted or rejected (acceptance section)
    rejected: int = 0
    rejection_rate_pct: float | None = None
    alert_pct: float | None = None  # None: no handoff type takes accept/reject
    alerts: tuple[str, ...] = ()  # one line per partner above the alert
    first_touched: int = 0  # first-touch clocks stopped by a touch (SLA section)
    first_touch_waiting: int = 0
    first_touch_median_hours: float | None = None
    first_touch_mean_hours: float | None = None
    partner_cycle_deals: int = 0  # closed-won deals with a cycle length (preservation)
    partner_cycle_days: float | None = None
    direct_cycle_deals: int = 0
    direct_cycle_days: float | None = None
    cycle_impact_pct: float | None = None


@dataclass(frozen=True, slots=True)
class QualityFigure:
    """One headline figure, as every format shows it."""

    id: str
    label: str
    value: float | None
    unit: str  # "%", " h", " business days"
    n: int  # the cases the value is computed over
    target: str  # "<= 5%", ">= 100%", "" (none)
    status: str  # ok | above target | below target | not marked (n < N) | ""
    definition: str
    note: str = ""  # why there is no value, or what goes with it


@dataclass(frozen=True, slots=True)
class Asks:
    handoffs: int  # deals in the period that needed a handoff
    asked: int  # of them, with at least one ask
    asked_pct: float | None
    rejections: int  # rejections recorded in the period
    reopened: int  # gates reopened in the period without a rejection in the same cycle
    asks: int  # rejections + reopened


@dataclass(frozen=True, slots=True)
class RecycledDeal:
    deal: str
    partner: str
    handoff_type: str
    restarts: int  # times the handoff started again (in the period)
    last_restarted_at: datetime


@dataclass(frozen=True, slots=True)
class Kickoff:
    target_days: float
    won: int  # won deals needing a handoff, in the period
    held: int  # with a recorded kickoff (and won time)
    median_days: float | None
    mean_days: float | None
    within: int  # held within the target
    within_pct: float | None
    waiting: int  # won, no kickoff yet
    waiting_past_target: int  # of them, already past the target
    no_won_time: int  # won deals without won_at: not measured


@dataclass(frozen=True, slots=True)
class Attribution:
    fields: tuple[str, ...]
    won: int  # won partner deals in the period
    documented: int
    documented_pct: float | None


@dataclass(frozen=True, slots=True)
class FieldGap:
    field: str
    deals: int  # won partner deals without it


@dataclass(frozen=True, slots=True)
class Bonus:
    pct: float
    handoff_type: str | None  # None: the deal's first recorded handoff
    grace_days: int
    won: int  # won partner deals in the period
    judged: int  # with an original close date on record and a close date
    on_time: int
    late: int
    on_time_pct: float | None
    no_baseline: int  # no original date: under way before handoff-sync saw it, or no handoff
    no_close_date: int
    without_amount: int  # on time, but no amount to pay a bonus on


@dataclass(frozen=True, slots=True)
class BonusTotal:
    currency: str  # "" when the deals carry none
    deals: int
    amount: Decimal  # the bonus owed


@dataclass(frozen=True, slots=True)
class BonusPartner:
    partner: str
    currency: str
    judged: int
    on_time: int
    late: int
    no_baseline: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class QualityGroup:
    """The new figures for one group of ``by`` (n and a 95% interval with each rate)."""

    group: str
    handoffs: int
    asked: int
    asked_pct: float | None
    asked_low: float | None
    asked_high: float | None
    recycled: int
    kickoffs: int
    kickoff_median_days: float | None
    won_partner: int
    documented_pct: float | None
    documented_low: float | None
    documented_high: float | None
    small: bool  # fewer handoffs than min_sample: shown, not marked or compared


@dataclass(frozen=True, slots=True)
class Quality:
    figures: tuple[QualityFigure, ...]
    alerts: tuple[str, ...]  # the rejection alerts, one line per partner
    asks: Asks
    recycled: tuple[RecycledDeal, ...]  # most restarts first
    kickoff: Kickoff
    attribution: Attribution
    attribution_gaps: tuple[FieldGap, ...]  # most often missing first
    bonus: Bonus | None  # None: handoff.yaml defines no on-time bonus
    bonus_totals: tuple[BonusTotal, ...]
    bonus_partners: tuple[BonusPartner, ...]  # most owed first
    by: str
    groups: tuple[QualityGroup, ...]  # most handoffs first (not a ranking)
    groups_definition: str
    min_sample: int


def definitions(data: ReportData) -> dict[str, str]:
    """What each figure means, with the policy's own numbers and fields in it."""
    targets, bonus = data.policy.targets, data.policy.on_time_bonus
    fields = ", ".join(data.policy.attribution_fields)
    found = {
        "rejection_rate": "Handoffs the receiving owner rejected at least once / handoffs "
        "accepted or rejected in the period (as in the acceptance section); above the "
        "policy's rejection_alert_pct it is an alert: investigate.",
        "asked_for_context": "Handoffs where the receiver asked the sender for missing "
        "context at least once in the period / deals in the period that needed a handoff. "
        "An ask is a rejection, or a gate reopened: the deal's stage moved back to an "
        "earlier stage of its handoff type with no rejection in the same cycle.",
        "recycled": "Deals whose handoff ended without moving on (the deal stopped needing "
        "it while keeping its handoff type: registration rejected or expired, deal lost, "
        "amount under the threshold) and later needed the same handoff again, counted "
        "in the period of the restart / deals in the period that needed a handoff.",
        "first_touch": "Median hours from a first-touch clock's start to the receiver's "
        "first recorded touch, touched handoffs (as in the SLA section); the mean is in "
        "the note.",
        "kickoff": "Median business days from closed won (won_at) to the customer-success "
        "kickoff (kickoff_at), won deals in the period that needed a handoff and hold both "
        "times; business days of the won deal's handoff-type calendar (Monday-Friday "
        f"UTC without one). Target: at most {targets.kickoff_business_days:g}.",
        "cycle_impact": "Median days from creation to close of closed-won partner deals / "
        "the same for direct deals, minus 1 (as in the preservation section); n is the "
        "smaller of the two samples.",
        "attribution": f"Won partner deals closed in the period with every attribution "
        f"field filled ({fields}) / won partner deals closed in the period.",
    }
    if bonus is not None:
        started = (f"their {bonus.handoff_type} handoff" if bonus.handoff_type
                   else "their first recorded handoff")
        grace = f" plus {bonus.grace_days} days" if bonus.grace_days else ""
        found["on_time_bonus"] = (
            f"Won partner deals closed in the period whose close date is on or before the "
            f"close date they had when {started} started{grace} (recorded by handoff-sync "
            "then, before the deal was won; the deal's own close date moves) / won partner "
            f"deals with that date on record. Each earns the partner {bonus.pct:g}% of its "
            "amount. Won partner deals without that date (the handoff was under way before "
            "handoff-sync saw it, or the deal never needed it) are counted apart, never as "
            "on time.")
    return found


def quality(data: ReportData, deals: Sequence[DealFact], *, now: datetime,
            since: datetime | None, by: str, group: Callable[[DealFact], str],
            reused: Reused) -> Quality:
    """The quality figures of the deals in the period (``deals``), grouped by ``by``."""
    policy, targets, minimum = data.policy, data.policy.targets, data.policy.min_sample
    words = definitions(data)
    handoffs = _handoffs(data, deals)
    asks_by_deal = _asks(data, handoffs, since)
    rejections = sum(kinds["rejected"] for kinds in asks_by_deal.values())
    reopened = sum(kinds["reopened"] for kinds in asks_by_deal.values())
    asked = {deal for deal, kinds in asks_by_deal.items() if kinds.total()}
    asks = Asks(len(handoffs), len(asked), _pct(len(asked), len(handoffs)), rejections,
                reopened, rejections + reopened)
    by_key = {d.key: d for d in deals}
    recycled = _recycled(data, handoffs, since, by_key)
    kickoff, kickoff_days = _kickoff(deals, policy.calendars, now, targets.kickoff_business_days)
    won_partner = [d for d in deals if d.kind == PARTNER and d.is_won]
    gaps = Counter(name for d in won_partner for name in policy.attribution_fields
                   if _blank(d.values.get(name)))
    documented = [d for d in won_partner
                  if not any(_blank(d.values.get(n)) for n in policy.attribution_fields)]
    attribution = Attribution(tuple(policy.attribution_fields), len(won_partner),
                              len(documented), _pct(len(documented), len(won_partner)))
    bonus, totals, partners = _bonus(data, won_partner)

    # A comparison is as sure as its smaller side.
    compared = min(reused.partner_cycle_deals, reused.direct_cycle_deals)

    def mark(value: float | None, n: int, target: float, *, at_most: bool) -> str:
        if value is None:
            return ""
        if n < minimum:
            return f"not marked (n < {minimum})"
        if at_most:
            return "ok" if value <= target else "above target"
        return "ok" if value >= target else "below target"

    figures = [
        QualityFigure(
            "rejection_rate", "Rejection rate", reused.rejection_rate_pct, "%",
            reused.decided,
            f"<= {reused.alert_pct:g}%" if reused.alert_pct is not None else "",
            mark(reused.rejection_rate_pct, reused.decided, reused.alert_pct, at_most=True)
            if reused.alert_pct is not None else "", words["rejection_rate"],
            "no handoff type takes accept/reject" if reused.alert_pct is None else
            (f"{_count(len(reused.alerts), 'partner')} above the alert" if reused.alerts
             else "")),
        QualityFigure(
            "asked_for_context", "Receivers asked for missing context", asks.asked_pct, "%",
            asks.handoffs, "", "", words["asked_for_context"],
            f"{_count(asks.asks, 'ask')}: {_count(asks.rejections, 'rejection')}, "
            f"{_count(asks.reopened, 'gate')} reopened" if asks.handoffs
            else "no deal in the period needed a handoff"),
        QualityFigure(
            "recycled", "Recycled deals", _pct(len(recycled), len(handoffs)), "%",
            len(handoffs), "", "", words["recycled"],
            _count(len(recycled), "deal") if handoffs
            else "no deal in the period needed a handoff"),
        QualityFigure(
            "first_touch", "Time to first touch (median)", reused.first_touch_median_hours,
            " h", reused.first_touched, "", "", words["first_touch"],
            f"mean {_num(reused.first_touch_mean_hours)} h; "
            f"{reused.first_touch_waiting} still waiting" if reused.first_touched
            else "no first touch recorded in the period"),
        QualityFigure(
            "kickoff", "Time to kickoff (median)", kickoff.median_days, " business days",
            kickoff.held, f"<= {targets.kickoff_business_days:g} business days",
            mark(kickoff.median_days, kickoff.held, targets.kickoff_business_days,
                 at_most=True), words["kickoff"], _kickoff_note(kickoff)),
        QualityFigure(
            "cycle_impact", "Cycle-length impact vs direct deals", reused.cycle_impact_pct,
            "%", compared, f"<= +{targets.cycle_impact_pct:g}%",
            mark(reused.cycle_impact_pct, compared, targets.cycle_impact_pct, at_most=True),
            words["cycle_impact"], _cycle_note(reused)),
        QualityFigure(
            "attribution", "Attribution accuracy", attribution.documented_pct, "%",
            attribution.won, f">= {targets.attribution_pct:g}%",
            mark(attribution.documented_pct, attribution.won, targets.attribution_pct,
                 at_most=False), words["attribution"],
            f"{attribution.documented} of {attribution.won} documented" if attribution.won
            else "no partner deal won in the period"),
    ]
    if bonus is not None:
        owed = "; ".join(f"{t.currency or 'amount'} {_money(t.amount)} on "
                         f"{_count(t.deals, 'deal')}" for t in totals)
        figures.append(QualityFigure(
            "on_time_bonus", f"On-time bonus eligibility ({bonus.pct:g}%)", bonus.on_time_pct,
            "%", bonus.judged, "", "", words["on_time_bonus"],
            (f"bonus owed: {owed}" if owed else "no bonus owed")
            + (f"; {_count(bonus.no_baseline, 'won deal')} without an original close date "
               "on record" if bonus.no_baseline else "")))
    return Quality(
        figures=tuple(figures), alerts=reused.alerts, asks=asks,
        recycled=tuple(sorted(recycled.values(), key=lambda r: (-r.restarts, r.deal))),
        kickoff=kickoff, attribution=attribution,
        attribution_gaps=tuple(FieldGap(name, count) for name, count in sorted(
            gaps.items(), key=lambda item: (-item[1], item[0]))),
        bonus=bonus, bonus_totals=totals, bonus_partners=partners, by=by,
        groups=_groups(deals, group, handoffs, asked, recycled, kickoff_days, won_partner,
                       {d.key for d in documented}, minimum),
        groups_definition=(
            f"By {by}, most handoffs first (not a ranking): handoffs (n) = deals that needed "
            "a handoff; asked, recycled, kickoffs and documented as the figures above, for "
            "the group's deals; rates with a 95% Wilson interval [low-high]; a group with "
            f"fewer than {minimum} handoffs is marked small and not compared."),
        min_sample=minimum)


def _handoffs(data: ReportData, deals: Sequence[DealFact]) -> set[str]:
    """Deals in the period that needed a handoff: now, or in any recorded verdict."""
    keys = {d.key for d in deals}
    return ({d.key for d in deals if d.required}
            | {h.deal for h in data.history if h.required and h.deal in keys})


def _asks(data: ReportData, handoffs: set[str], since: datetime | None,
          ) -> dict[str, Counter[str]]:
    """Per deal: rejections and gates reopened without a rejection in the same cycle."""
    asks: dict[str, Counter[str]] = defaultdict(Counter)
    rejected_in: set[tuple[str, datetime]] = set()
    for decision in data.decisions:
        if decision.decision != "rejected" or decision.deal not in handoffs:
            continue
        if decision.recorded_at is not None:
            rejected_in.add((decision.deal, decision.recorded_at))
        if _after(decision.at, since):
            asks[decision.deal]["rejected"] += 1
    order = data.policy.stage_order
    last: dict[str, tuple[str | None, int | None]] = {}
    for row in sorted(data.history, key=lambda h: h.recorded_at):
        stages = order.get(row.handoff_type or "", ())
        index = stages.index(row.stage) if row.stage in stages else None
        before = last.get(row.deal)
        last[row.deal] = (row.handoff_type, index)
        if (before is None or before[0] != row.handoff_type or index is None
                or before[1] is None or index >= before[1]):
            continue
        if row.deal in handoffs and _after(row.recorded_at, since) \
                and (row.deal, row.recorded_at) not in rejected_in:
            asks[row.deal]["reopened"] += 1
    return asks


def _recycled(data: ReportData, handoffs: set[str], since: datetime | None,
              by_key: Mapping[str, DealFact]) -> dict[str, RecycledDeal]:
    """Deals whose handoff ended (same type, no longer needed) and then started again."""
    found: dict[str, RecycledDeal] = {}
    state: dict[tuple[str, str], str] = {}  # (deal, type) -> "active" | "ended"
    previous: dict[str, tuple[str | None, bool]] = {}
    for row in sorted(data.history, key=lambda h: h.recorded_at):
        before = previous.get(row.deal)
        previous[row.deal] = (row.handoff_type, row.required)
        if before is not None and before[1] and before[0] is not None and not row.required \
                and row.handoff_type in (before[0], None):
            state[(row.deal, before[0])] = "ended"
        if not row.required or row.handoff_type is None:
            continue
        key = (row.deal, row.handoff_type)
        restarted = state.get(key) == "ended"
        state[key] = "active"
        if restarted and row.deal in handoffs and _after(row.recorded_at, since):
            old = found.get(row.deal)
            deal = by_key.get(row.deal)
            found[row.deal] = RecycledDeal(
                row.deal, (deal.partner if deal is not None else None) or "(direct)",
                row.handoff_type, (old.restarts if old else 0) + 1, row.recorded_at)
    return found


def business_days(start: datetime, end: datetime, calendar: BusinessCalendar) -> float:
    """Working days between two instants on ``calendar`` (a day: its working hours)."""
    compiled = compile_calendar(calendar)
    return compiled.elapsed(start, end) / compiled.day_length


def _kickoff(deals: Sequence[DealFact], calendars: Mapping[str, BusinessCalendar],
             now: datetime, target: float) -> tuple[Kickoff, dict[str, float]]:
    won = [d for d in deals if d.is_won and d.required]
    days: dict[str, float] = {}
    waiting = late = no_time = 0
    for deal in won:
        won_at, kickoff_at = deal.values.get("won_at"), deal.values.get("kickoff_at")
        calendar = calendars.get(deal.handoff_type or "", WEEKDAYS_UTC)
        if not isinstance(won_at, datetime):
            no_time += 1
        elif isinstance(kickoff_at, datetime):
            days[deal.key] = round(business_days(won_at, kickoff_at, calendar), 1)
        else:
            waiting += 1
            late += business_days(won_at, now, calendar) > target
    values = list(days.values())
    within = sum(1 for v in values if v <= target)
    return Kickoff(target, len(won), len(values), _median(values), _mean(values), within,
                   _pct(within, len(values)), waiting, late, no_time), days


def _bonus(data: ReportData, won: Sequence[DealFact],
           ) -> tuple[Bonus | None, tuple[BonusTotal, ...], tuple[BonusPartner, ...]]:
    bonus = data.policy.on_time_bonus
    if bonus is None:
        return None, (), ()
    won_at = {d.key: at for d in won if isinstance(at := d.values.get("won_at"), datetime)}
    original = _originals(data.baselines, bonus.handoff_type, won_at)
    counts: Counter[str] = Counter()
    rows: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    owed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    totals: dict[str, list[Decimal]] = defaultdict(list)
    rate = Decimal(str(bonus.pct)) / 100
    for deal in won:
        currency = deal.values.get("currency")
        row = (deal.partner or "(none)", currency if isinstance(currency, str) else "")
        first = original.get(deal.key)
        if first is None:
            outcome = "no_baseline"
        elif deal.close_date is None:
            outcome = "no_close_date"
        elif deal.close_date <= first + timedelta(days=bonus.grace_days):
            outcome = "on_time"
        else:
            outcome = "late"
        counts[outcome] += 1
        rows[row][outcome] += 1
        if outcome == "on_time":
            if deal.amount is None:
                counts["without_amount"] += 1
            else:
                owed[row] += deal.amount * rate
                totals[row[1]].append(deal.amount * rate)
    judged = counts["on_time"] + counts["late"]
    result = Bonus(bonus.pct, bonus.handoff_type, bonus.grace_days, len(won), judged,
                   counts["on_time"], counts["late"], _pct(counts["on_time"], judged),
                   counts["no_baseline"], counts["no_close_date"], counts["without_amount"])
    partners = sorted((BonusPartner(partner, currency, c["on_time"] + c["late"], c["on_time"],
                                    c["late"], c["no_baseline"], _cents(owed[(partner, currency)]))
                       for (partner, currency), c in rows.items()),
                      key=lambda p: (-p.amount, -p.on_time, p.partner, p.currency))
    return result, tuple(BonusTotal(currency, len(amounts), _cents(sum(amounts, Decimal())))
                         for currency, amounts in sorted(totals.items())), tuple(partners)


def _originals(baselines: Iterable[BaselineFact], handoff_type: str | None,
               won_at: Mapping[str, datetime]) -> dict[str, date]:
    """Each deal's original close date: of the named handoff type, else its first one.
    A date recorded once the deal was already won (first seen won: its customer-success
    handoff) is no original timeline and is left out."""
    found: dict[str, BaselineFact] = {}
    for baseline in baselines:
        won = won_at.get(baseline.deal)
        if baseline.close_date is None or (won is not None and baseline.recorded_at >= won):
            continue
        if handoff_type is not None:
            if baseline.handoff_type == handoff_type:
                found[baseline.deal] = baseline
            continue
        held = found.get(baseline.deal)
        if held is None or baseline.recorded_at < held.recorded_at:
            found[baseline.deal] = baseline
    return {deal: b.close_date for deal, b in found.items() if b.close_date is not None}


def _groups(deals: Sequence[DealFact], group: Callable[[DealFact], str], handoffs: set[str],
            asked: set[str], recycled: Mapping[str, RecycledDeal],
            kickoff_days: Mapping[str, float], won_partner: Sequence[DealFact],
            documented: set[str], minimum: int) -> tuple[QualityGroup, ...]:
    members: dict[str, list[DealFact]] = defaultdict(list)
    for deal in deals:
        members[group(deal)].append(deal)
    won = {d.key for d in won_partner}
    rows = []
    for name, mine in members.items():
        keys = {d.key for d in mine}
        handed, kicked = keys & handoffs, [kickoff_days[k] for k in keys if k in kickoff_days]
        if not handed and not kicked and not keys & won:
            continue
        n_asked, n_won, n_doc = len(handed & asked), len(keys & won), len(keys & won & documented)
        asked_ci, doc_ci = wilson(n_asked, len(handed)), wilson(n_doc, n_won)
        rows.append(QualityGroup(
            name, len(handed), n_asked, _pct(n_asked, len(handed)), asked_ci[0], asked_ci[1],
            len(handed & recycled.keys()), len(kicked), _median(kicked), n_won,
            _pct(n_doc, n_won), doc_ci[0], doc_ci[1], len(handed) < minimum))
    return tuple(sorted(rows, key=lambda r: (-r.handoffs, r.group)))


def wilson(successes: int, n: int) -> tuple[float | None, float | None]:
    """The Wilson score 95% interval of a rate, in percent (None, None when n is 0)."""
    if n == 0:
        return None, None
    p, z2 = successes / n, _Z95 ** 2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return round(max(centre - half, 0) * 100, 1), round(min(centre + half, 1) * 100, 1)


def _kickoff_note(kickoff: Kickoff) -> str:
    if not kickoff.won:
        return "no won deal in the period needed a handoff"
    parts = [f"{kickoff.within} of {kickoff.held} within the target"] if kickoff.held else []
    if kickoff.waiting:
        parts.append(f"{kickoff.waiting} waiting ({kickoff.waiting_past_target} already past "
                     "the target)")
    if kickoff.no_won_time:
        parts.append(f"{kickoff.no_won_time} without a won time (not measured)")
    return "; ".join(parts)


def _cycle_note(reused: Reused) -> str:
    if not reused.direct_cycle_deals:
        return "no closed-won direct deals in the period to compare with"
    if not reused.partner_cycle_deals:
        return "no closed-won partner deals in the period"
    return (f"partner median {_num(reused.partner_cycle_days)} d (n={reused.partner_cycle_deals})"
            f", direct {_num(reused.direct_cycle_days)} d (n={reused.direct_cycle_deals})")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) \
        or (isinstance(value, (tuple, list)) and not value)


def _after(at: datetime, since: datetime | None) -> bool:
    return since is None or at >= since


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 1)


def _median(values: Sequence[float]) -> float | None:
    return round(float(statistics.median(values)), 1) if values else None


def _mean(values: Sequence[float]) -> float | None:
    return round(float(statistics.fmean(values)), 1) if values else None


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"
