"""Handoff quality: the quality and outcome figures practitioners watch (docs/domain.md,
"What operators measure"), each a ``figure.Figure`` with its definition, n and target.

A pure function of the report rows, ``now`` and the period. Figures other sections
already compute (the rejection rate, time to first touch, the cycle-length impact) come
in as ``Reused`` and are shown here as they are, not computed a second time. New here:

- asked for missing context: rejections, and gates reopened without one (gate history:
  the deal's stage moved back to an earlier stage of the same handoff type);
- recycled deals: a handoff that ended without moving on, then started again;
- time to kickoff: closed won (won_at) to the kickoff (kickoff_at), in business days of
  the won deal's handoff-type calendar (engine.calendar), against the kickoff target;
- attribution accuracy: won partner deals with every attribution field filled;
- the on-time bonus (only when handoff.yaml defines measures.on_time_bonus): won partner
  deals that closed by the close date they had when their handoff started (the store's
  baselines), and what the bonus comes to per partner.

Small samples follow ``stats``: every figure carries its n, one under min_sample is not
judged, and rates by group carry a Wilson 95% interval.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal

from handoff_sync.engine.calendar import compile_calendar
from handoff_sync.mapping.policy.file_model import BusinessCalendar
from handoff_sync.report.basis import DIMENSION_LABELS, Count, after, top
from handoff_sync.report.facts import PARTNER, BaselineFact, DealFact, ReportData
from handoff_sync.report.figure import (
    Cell,
    Column,
    Figure,
    count,
    measure,
    rate_cell,
    share,
    value_cell,
)
from handoff_sync.report.stats import median, rate, round1

# Without a calendar on the won deal's handoff type, business days are Monday to Friday.
WEEKDAYS_UTC = BusinessCalendar(timezone="UTC")
TOP_ROWS = 20  # rows the table and HTML show of a long list (they say "top N of M")


@dataclass(frozen=True, slots=True)
class Reused:
    """Figures other sections compute, shown here as they are (one computation each)."""

    rejection_rate: Figure  # the acceptance section's
    alerts: tuple[str, ...]  # its partners above the rejection alert
    first_touch: tuple[Figure, ...]  # the SLA section's medians, one per first-touch clock
    cycle_impact: Figure  # the preservation section's


@dataclass(frozen=True, slots=True)
class RecycledDeal:
    deal: str
    partner: str
    handoff_type: str
    restarts: int  # times the handoff started again (in the period)
    last_restarted_at: datetime


@dataclass(frozen=True, slots=True)
class BonusTotal:
    currency: str  # "" when the deals carry none
    deals: int  # on-time deals with an amount
    amount: Decimal  # the bonus owed


@dataclass(frozen=True, slots=True)
class BonusPartner:
    partner: str
    currency: str
    judged: int
    on_time: int
    late: int
    no_original: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Bonus:
    """The on-time bonus handoff.yaml defines (measures.on_time_bonus)."""

    pct: float
    handoff_type: str | None  # None: the deal's first recorded handoff
    grace_days: int
    on_time: Figure  # share of the judged won partner deals
    late: Figure
    no_original: Figure  # no original close date on record: not judged
    no_close_date: Figure
    without_amount: Figure  # on time, nothing to pay on
    totals: tuple[BonusTotal, ...]
    totals_definition: str
    partners: tuple[BonusPartner, ...]  # most owed first
    partner_columns: tuple[Column, ...]


@dataclass(frozen=True, slots=True)
class QualityRow:
    """The new figures for one group of ``by`` (not a ranking)."""

    group: str
    handoffs: int
    asked: Cell
    recycled: Cell
    kickoff: Cell  # median business days, n = kickoffs held
    attribution: Cell


@dataclass(frozen=True, slots=True)
class Quality:
    rejection_rate: Figure  # as the acceptance section has it
    asked_for_context: Figure
    rejections: Figure
    reopened: Figure
    recycled: Figure
    kickoff: Figure
    kickoff_in_time: Figure
    kickoff_waiting: Figure
    kickoff_overdue: Figure
    kickoff_unmeasured: Figure
    cycle_impact: Figure  # as the preservation section has it
    attribution: Figure
    first_touch: tuple[Figure, ...]  # as the SLA section has them, one per clock
    bonus: Bonus | None  # None: handoff.yaml defines no on-time bonus
    alerts: tuple[str, ...]  # the rejection alerts, one line per partner
    recycled_deals: tuple[RecycledDeal, ...]  # most restarts first
    recycled_definition: str
    attribution_gaps: tuple[Count, ...]
    attribution_gaps_definition: str
    reused_definition: str
    by: str
    by_label: str
    rows: tuple[QualityRow, ...]  # most handoffs first
    columns: tuple[Column, ...]


def headline(quality: Quality) -> list[Figure]:
    """The figures the section leads with, in the order the issue lists them."""
    return [quality.rejection_rate, quality.asked_for_context, quality.recycled,
            *quality.first_touch, quality.kickoff, quality.cycle_impact, quality.attribution,
            *([quality.bonus.on_time] if quality.bonus is not None else [])]


def every_figure(quality: Quality) -> list[Figure]:
    """Every figure of the section, for its figure table: the headline ones first."""
    lead = headline(quality)
    rest = [value for value in (getattr(quality, f.name) for f in fields(quality))
            if isinstance(value, Figure) and value not in lead]
    bonus = quality.bonus
    extra = [] if bonus is None else [bonus.late, bonus.no_original, bonus.no_close_date,
                                      bonus.without_amount]
    return [*lead, *rest, *extra]


def quality(data: ReportData, deals: Sequence[DealFact], *, now: datetime,
            since: datetime | None, by: str, group: Callable[[DealFact], str],
            reused: Reused) -> Quality:
    """The quality figures of the deals in the period (``deals``), grouped by ``by``."""
    policy, least = data.policy, data.policy.min_sample
    targets = policy.targets
    handoffs = _handoffs(data, deals)
    asks = _asks(data, handoffs, since)
    asked = {deal for deal, kinds in asks.items() if kinds.total()}
    by_key = {d.key: d for d in deals}
    recycled = _recycled(data, handoffs, since, by_key)
    days, waiting, overdue, unmeasured, won_count = _kickoffs(
        deals, policy.calendars, now, targets.kickoff_business_days)
    won_partner = [d for d in deals if d.kind == PARTNER and d.is_won]
    documented = {d.key for d in won_partner
                  if not any(_blank(d.values.get(n)) for n in policy.attribution_fields)}
    fields_ = ", ".join(policy.attribution_fields)
    none_needed = "no deal in the period needed a handoff"
    kickoff_target = targets.kickoff_business_days
    kicked = list(days.values())
    return Quality(
        rejection_rate=reused.rejection_rate,
        asked_for_context=share(
            "receivers asked for missing context", rate(len(asked), len(handoffs), least),
            "Deals in the period that needed a handoff where the receiver asked the sender "
            "for missing context at least once in the period, out of those deals. An ask is "
            "a rejection, or a gate reopened: the deal's stage moved back to an earlier "
            "stage of its handoff type with no rejection recorded in the same cycle.",
            min_sample=least, why=none_needed),
        rejections=count("asks: rejections", sum(k["rejected"] for k in asks.values()),
                         "Rejections recorded in the period on those deals (each counts)."),
        reopened=count("asks: gates reopened", sum(k["reopened"] for k in asks.values()),
                       "Times those deals' stage moved back to an earlier stage of the same "
                       "handoff type without a rejection in that cycle (gate history)."),
        recycled=share(
            "recycled deals", rate(len(recycled), len(handoffs), least),
            "Deals whose handoff ended without moving on (the deal stopped needing it while "
            "keeping its handoff type: registration rejected or expired, deal lost, amount "
            "under the threshold) and later needed the same handoff again, restarted in the "
            "period, out of the deals in the period that needed a handoff.",
            min_sample=least, why=none_needed),
        kickoff=measure(
            "time to kickoff, median", round1(median(kicked)),
            "Median business days from closed won (won_at) to the customer-success kickoff "
            "(kickoff_at), over won deals in the period that needed a handoff and hold both "
            "times; business days of the won deal's handoff-type calendar (Monday-Friday "
            "UTC without one), a day being its working hours.", unit=" business days",
            n=len(kicked), target=kickoff_target, at_most=True, min_sample=least,
            why="no kickoff recorded for a won deal in the period"),
        kickoff_in_time=share(
            f"kickoffs within {kickoff_target:g} business days",
            rate(sum(1 for d in kicked if d <= kickoff_target), len(kicked), least),
            "Kickoffs held within the target, out of the kickoffs held (as the kickoff SLA "
            "clock counts: at the due time is in time).", min_sample=least,
            why="no kickoff recorded for a won deal in the period"),
        kickoff_waiting=count("won, kickoff not held yet", waiting,
                              f"Won deals needing a handoff (of {won_count}) with no "
                              "kickoff recorded yet."),
        kickoff_overdue=count(f"waiting, past {kickoff_target:g} business days", overdue,
                              "Of those, the ones already past the target at the report's "
                              "time."),
        kickoff_unmeasured=count("won without a won time (not measured)", unmeasured,
                                 "Won deals needing a handoff whose won_at is blank: the "
                                 "time to kickoff cannot be measured."),
        cycle_impact=reused.cycle_impact,
        attribution=share(
            "attribution accuracy", rate(len(documented), len(won_partner), least),
            f"Won partner deals closed in the period with every attribution field filled "
            f"({fields_}: the partner's contribution and split), out of the won partner "
            "deals closed in the period.", target=targets.attribution_pct,
            min_sample=least, why="no partner deal won in the period"),
        first_touch=reused.first_touch,
        bonus=_bonus(data, won_partner, least),
        alerts=reused.alerts,
        recycled_deals=tuple(sorted(recycled.values(), key=lambda r: (-r.restarts, r.deal))),
        recycled_definition="Each recycled deal: its partner, the handoff that started "
                            "again, how often in the period and when last.",
        attribution_gaps=top(Counter(name for d in won_partner
                                     for name in policy.attribution_fields
                                     if _blank(d.values.get(name)))),
        attribution_gaps_definition="Attribution fields blank on won partner deals, most "
                                    "often missing first (a deal counts once per field).",
        reused_definition="The rejection rate, time to first touch and the cycle-length "
                          "impact are the acceptance, SLA and preservation sections' "
                          "figures, shown here again with their targets.",
        by=by, by_label=DIMENSION_LABELS[by],
        rows=_rows(deals, group, handoffs, asked, recycled, days, won_partner, documented,
                   data),
        columns=_columns(by, data))


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
        if after(decision.at, since):
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
        if row.deal in handoffs and after(row.recorded_at, since) \
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
        if restarted and row.deal in handoffs and after(row.recorded_at, since):
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


def _kickoffs(deals: Sequence[DealFact], calendars: Mapping[str, BusinessCalendar],
              now: datetime, target: float) -> tuple[dict[str, float], int, int, int, int]:
    """Business days to kickoff by deal; then waiting, waiting past the target, won
    without a won time, and all won deals needing a handoff. A kickoff after ``now`` (the
    period's end, when past) was not held yet: the deal was waiting."""
    won = [d for d in deals if d.is_won and d.required]
    days: dict[str, float] = {}
    waiting = late = no_time = 0
    for deal in won:
        won_at, kickoff_at = deal.values.get("won_at"), deal.values.get("kickoff_at")
        calendar = calendars.get(deal.handoff_type or "", WEEKDAYS_UTC)
        if not isinstance(won_at, datetime):
            no_time += 1
        elif isinstance(kickoff_at, datetime) and kickoff_at <= now:
            days[deal.key] = round(business_days(won_at, kickoff_at, calendar), 1)
        else:
            waiting += 1
            late += business_days(won_at, now, calendar) > target
    return days, waiting, late, no_time, len(won)


def _bonus(data: ReportData, won: Sequence[DealFact], least: int) -> Bonus | None:
    bonus = data.policy.on_time_bonus
    if bonus is None:
        return None
    won_at = {d.key: at for d in won if isinstance(at := d.values.get("won_at"), datetime)}
    original = _originals(data.baselines, bonus.handoff_type, won_at)
    counts: Counter[str] = Counter()
    rows: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    owed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    totals: dict[str, list[Decimal]] = defaultdict(list)
    share_of_amount = Decimal(str(bonus.pct)) / 100
    for deal in won:
        currency = deal.values.get("currency")
        row = (deal.partner or "(none)", currency if isinstance(currency, str) else "")
        first = original.get(deal.key)
        if first is None:
            outcome = "no_original"
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
                owed[row] += deal.amount * share_of_amount
                totals[row[1]].append(deal.amount * share_of_amount)
    started = (f"their {bonus.handoff_type} handoff" if bonus.handoff_type
               else "their first recorded handoff")
    grace = f" plus {bonus.grace_days} days" if bonus.grace_days else ""
    judged = counts["on_time"] + counts["late"]
    partners = sorted((BonusPartner(partner, currency, c["on_time"] + c["late"],
                                    c["on_time"], c["late"], c["no_original"],
                                    _cents(owed[(partner, currency)]))
                       for (partner, currency), c in rows.items()),
                      key=lambda p: (-p.amount, -p.on_time, p.partner, p.currency))
    return Bonus(
        pct=bonus.pct, handoff_type=bonus.handoff_type, grace_days=bonus.grace_days,
        on_time=share(
            f"on-time bonus eligibility ({bonus.pct:g}%)", rate(counts["on_time"], judged,
                                                                least),
            f"Won partner deals closed in the period whose close date is on or before the "
            f"close date they had when {started} started{grace} (recorded by handoff-sync "
            "then, before the deal was won; the deal's own close date moves), out of the won "
            f"partner deals with that date on record. Each earns the partner {bonus.pct:g}% "
            "of its amount.", min_sample=least,
            why="no won partner deal with its original close date on record"),
        late=count("bonus: won late", counts["late"], "Won partner deals closed after their "
                   "original close date (plus grace days): no bonus."),
        no_original=count("bonus: no original close date", counts["no_original"],
                          "Won partner deals without an original close date on record (the "
                          "handoff was under way before handoff-sync saw it, the deal was "
                          "first seen won, or it never needed the handoff): not judged."),
        no_close_date=count("bonus: no close date", counts["no_close_date"], "Won partner "
                            "deals with an original date but a blank close date: not "
                            "judged."),
        without_amount=count("bonus: on time, no amount", counts["without_amount"],
                             "On-time deals without an amount: nothing to pay the bonus "
                             "on."),
        totals=tuple(BonusTotal(currency, len(amounts), _cents(sum(amounts, Decimal())))
                     for currency, amounts in sorted(totals.items())),
        totals_definition=f"The bonus owed per currency: {bonus.pct:g}% of the amount of "
                          "each on-time deal with an amount.",
        partners=tuple(partners),
        partner_columns=(
            Column("partner", "partner", "The deal's partner."),
            Column("currency", "currency", "The deals' currency (a partner with deals in "
                   "two currencies has a row for each)."),
            Column("judged", "judged (n)", "Won deals with an original close date and a "
                   "close date."),
            Column("on_time", "on time", "Closed by the original date (plus grace days)."),
            Column("late", "late", "Closed after it."),
            Column("no_original", "no original date", "Won deals without one: not judged."),
            Column("amount", "bonus owed", f"{bonus.pct:g}% of the on-time deals' amounts.")))


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


def _columns(by: str, data: ReportData) -> tuple[Column, ...]:
    least, targets = data.policy.min_sample, data.policy.targets
    judged = f"judged against the target only when n reaches min_sample ({least})"
    return (
        Column("group", DIMENSION_LABELS[by], f"The deal's {DIMENSION_LABELS[by]}."),
        Column("handoffs", "handoffs", "Deals of the group that needed a handoff."),
        Column("asked", "asked for context", "Of them, with at least one ask (rejection or "
               "gate reopened), Wilson 95% interval."),
        Column("recycled", "recycled", "Of them, handoffs that ended and started again, "
               "Wilson 95% interval."),
        Column("kickoff", f"kickoff (<= {targets.kickoff_business_days:g} business days)",
               f"Median business days from won to kickoff (n = kickoffs held), {judged}."),
        Column("attribution", f"attribution (>= {targets.attribution_pct:g}%)",
               f"Won partner deals with contribution and split documented, Wilson 95% "
               f"interval, {judged}."),
    )


def _rows(deals: Sequence[DealFact], group: Callable[[DealFact], str], handoffs: set[str],
          asked: set[str], recycled: Mapping[str, RecycledDeal],
          kickoff_days: Mapping[str, float], won_partner: Sequence[DealFact],
          documented: set[str], data: ReportData) -> tuple[QualityRow, ...]:
    least, targets = data.policy.min_sample, data.policy.targets
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
        n_won = len(keys & won)
        rows.append(QualityRow(
            name, len(handed), rate_cell(rate(len(handed & asked), len(handed), least)),
            rate_cell(rate(len(handed & recycled.keys()), len(handed), least)),
            value_cell(round1(median(kicked)), len(kicked),
                       target=targets.kickoff_business_days, at_most=True, min_sample=least),
            rate_cell(rate(len(keys & won & documented), n_won, least),
                      target=targets.attribution_pct, min_sample=least)))
    return tuple(sorted(rows, key=lambda r: (-r.handoffs, r.group)))


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) \
        or (isinstance(value, (tuple, list)) and not value)


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))

