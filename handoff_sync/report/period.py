"""A report's period end: reading it, and the rows as they stood at it (pure).

The period is ``[since, until)``: ``since`` its first instant, ``until`` the first instant
after it. A day given as the end (``--until 2026-09-30`` or ``20260930``, the console's field) ends
the period at the end of that day, so "1 Jul - 30 Sep" is the third quarter, 30 Sep
included. Close dates are days: a deal closed on a day that starts before ``until`` closed
in the period, as a close on ``since``'s day counts from its start.

"The Q3 report", read in December, is the quarter as it stood when it ended, so
``as_of`` takes the rows back to ``until`` before any figure is computed:

- deals created after the end (the CRM record's or the registration's creation, the
  earlier) are left out; a deal closed after the end was open at the end: it counts as
  open (neither won nor lost, in its funnel values too), so it is in the period's open
  pipeline and not in its wins, losses or cycle lengths;
- SLA clocks started after the end are left out; a clock stopped after the end was
  running at the end: past due if its due time had passed by then, at risk if an at-risk
  event was recorded for it by then, else on track;
- SLA events, gate history, accept/reject decisions, conflicts and close-date baselines
  recorded after the end are left out (so is every figure built on them: acceptance, asks
  for context, recycled deals, the scorecard's completeness trend, partner readiness);
- the figures' "now" (running clocks past due, kickoffs waiting past their target, the
  completeness "now" of the scorecard trend) is the end when the end is in the past; a
  kickoff recorded after it was not held yet; a funnel step whose own time is after it
  was not reached yet.

What the store keeps only as it is now stays as it is now: a deal's values (partner,
stage, completeness, the fields funnel conditions read), tasks, and review items (open
now, whatever the period). A deal with no creation date known is kept. An end in the
future changes nothing but the period's close dates: the report is then "so far".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from handoff_sync.report.facts import ClockFact, DealFact, ReportData

REGISTERED_AT = "custom.registered_at"  # the registration's creation (both packs map it)


def parse_start(text: str) -> datetime:
    """A period start: an ISO date (its midnight UTC) or an ISO instant (UTC when it has no
    offset); ValueError otherwise."""
    moment = datetime.fromisoformat(text.strip())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_end(text: str) -> datetime:
    """A period end: an ISO date (the day is in the period: the next midnight UTC) or an
    ISO instant (the first instant after the period); ValueError otherwise."""
    text = text.strip()
    try:  # a date in any ISO form (2026-09-30, 20260930, 2026-W40-3): the whole day
        day = date.fromisoformat(text)
    except ValueError:
        return parse_start(text)
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def last_day(until: datetime) -> date:
    """The last day of a period ending at ``until`` (the day before, at midnight)."""
    return (until - timedelta(microseconds=1)).date()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def closed_after(deal: DealFact, until: datetime) -> bool:
    """The deal closed after the period's end (its close day starts at or after it)."""
    return (deal.is_closed and deal.close_date is not None
            and day_start(deal.close_date) >= until)


def as_of(data: ReportData, until: datetime, now: datetime,
          deals: tuple[DealFact, ...] | None = None) -> ReportData:
    """``data`` as it stood at ``until`` (see the module's rules); ``now`` the real now;
    ``deals`` the deals at ``until`` when already worked out (``deals_at``)."""
    at = min(until, now)
    if deals is None:
        deals = deals_at(data.deals, until)
    risky: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for event in data.events:
        if event.kind == "at_risk" and event.at < until:
            risky[(event.deal, event.clock)].append(event.at)
    clocks = tuple(_clock(c, until, at, now, risky) for c in data.clocks
                   if c.started_at < until)
    return replace(
        data, deals=deals, clocks=clocks,
        events=tuple(e for e in data.events if e.at < until),
        history=tuple(h for h in data.history if h.recorded_at < until),
        decisions=tuple(d for d in data.decisions if d.at < until),
        conflicts=tuple(c for c in data.conflicts if c.recorded_at < until),
        baselines=tuple(b for b in data.baselines if b.recorded_at < until))


def deals_at(deals: Iterable[DealFact], until: datetime) -> tuple[DealFact, ...]:
    """The deals as they stood at ``until``: not yet created ones left out, ones closed
    after it open. Independent of now, so a memo can keep it per end."""
    return tuple(_deal(d, until) for d in deals
                 if (first := born(d)) is None or first < until)


def born(deal: DealFact) -> datetime | None:
    """When the deal came to be: the earlier of its CRM record's creation and its
    registration's (``custom.registered_at``); None when neither is known."""
    registered = deal.values.get(REGISTERED_AT)
    known = [t for t in (deal.created_at, registered) if isinstance(t, datetime)]
    return min(known, default=None)


def _deal(deal: DealFact, until: datetime) -> DealFact:
    if not closed_after(deal, until):
        return deal
    # Open at the end, in the values funnel conditions read too (won, lost_when).
    return replace(deal, is_closed=False, is_won=False,
                   values={**deal.values, "is_closed": False, "is_won": False})


def _clock(clock: ClockFact, until: datetime, at: datetime, now: datetime,
           risky: Mapping[tuple[str, str], list[datetime]]) -> ClockFact:
    if clock.stopped_at is not None and clock.stopped_at < until:
        return clock  # finished in the period: as recorded
    if clock.stopped_at is None and until >= now:
        return clock  # still running, and the end is not past: as the store has it
    # Running at the end: its state then, from its due time and its own events.
    if clock.due_at <= at:
        status = "breached"
    elif any(clock.started_at <= when for when in risky.get((clock.deal, clock.clock), ())):
        status = "at_risk"
    else:
        status = "on_track"
    return replace(clock, status=status, stopped_at=None)
