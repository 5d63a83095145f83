"""What every report section counts from: the period, the groups a deal falls in, the
state of an SLA clock at the report's ``now``, and counting helpers.

Kept apart from ``figures`` so that section modules (``sla_figures``, ``scorecard``,
``breakdown``, and the ones other features add) share one definition of each, and
``figures`` can import them all without a cycle.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time

from handoff_sync.report.facts import DIRECT, ClockFact, DealFact, DecisionFact, ReportData

# The dimensions every breakdown and `report --by` accept, and how a reader calls them.
DIMENSIONS = ("partner", "segment", "region", "owner", "handoff_type", "stage")
DIMENSION_LABELS = {"partner": "partner", "segment": "segment", "region": "region",
                    "owner": "AE", "handoff_type": "handoff type", "stage": "handoff stage"}
NO_PARTNER = "(direct)"
NONE = "(none)"

# A clock's state at the report's ``now``.
MET = "met"  # stopped by its stop event in time
BREACHED = "breached"  # stopped after its due time
PAST_DUE = "past_due"  # still running, its due time passed (breached, not yet stopped)
AT_RISK = "at_risk"  # still running, past the at-risk share of its time
ON_TRACK = "on_track"  # still running, in time
CANCELLED = "cancelled"  # stopped because the deal stopped needing the handoff
DECIDED = frozenset({MET, BREACHED, PAST_DUE})  # the outcome is known: counted in rates
RUNNING = frozenset({ON_TRACK, AT_RISK, PAST_DUE})


def after(at: datetime, since: datetime | None) -> bool:
    """At or after the period's start (rows after its end are gone: ``period.as_of``)."""
    return since is None or at >= since


def in_period(deals: Iterable[DealFact], since: datetime | None,
              until: datetime | None = None) -> tuple[DealFact, ...]:
    """Deals open at the period's end (now without ``until``), or closed in the period:
    on/after ``since``'s day, on a day starting before ``until`` (all deals without
    either). A closed deal with no close date cannot be placed in a period: it is left out
    of one (counting it would put it in every period; ``undated_closed`` says how many).
    ``period.as_of`` has already reopened the deals closed after ``until``."""
    if since is None and until is None:
        return tuple(deals)
    return tuple(d for d in deals if not d.is_closed or (
        d.close_date is not None
        and (since is None or d.close_date >= since.date())
        and (until is None or datetime.combine(d.close_date, time(), UTC) < until)))


def undated_closed(deals: Iterable[DealFact], since: datetime | None,
                   until: datetime | None = None) -> int:
    """How many closed deals ``in_period`` left out for want of a close date."""
    if since is None and until is None:
        return 0
    return sum(d.is_closed and d.close_date is None for d in deals)


def group_of(deal: DealFact, by: str) -> str:
    if by == "partner":
        value = deal.partner if deal.kind != DIRECT else NO_PARTNER
    else:  # called per deal and dimension: read the one attribute, build nothing
        value = getattr(deal, _GROUP_FIELDS[by])
    return value or NONE


_GROUP_FIELDS = {"segment": "segment", "handoff_type": "handoff_type", "stage": "stage",
                 "owner": "owner", "region": "region"}


def clock_state(clock: ClockFact, now: datetime) -> str:
    """MET, BREACHED, PAST_DUE, AT_RISK, ON_TRACK or CANCELLED (see the constants).

    A running clock whose due time has passed at ``now`` is PAST_DUE even when no sync
    cycle has marked it breached yet: its outcome is already known."""
    if clock.status == "met":
        return MET
    if clock.stopped_at is not None:
        return BREACHED if clock.status == "breached" else CANCELLED
    if clock.status == "breached" or clock.due_at <= now:
        return PAST_DUE
    return AT_RISK if clock.status == "at_risk" else ON_TRACK


def is_breached(state: str) -> bool:
    return state in (BREACHED, PAST_DUE)


def cycle_days(deal: DealFact) -> int | None:
    """Days from the CRM record's creation to its close date (None without both)."""
    if deal.created_at is None or deal.close_date is None:
        return None
    return (deal.close_date - deal.created_at.date()).days


@dataclass(frozen=True, slots=True)
class Count:
    label: str
    count: int


def top(counts: Counter[str], limit: int | None = None) -> tuple[Count, ...]:
    """The largest counts first, ties alphabetically; at most ``limit``."""
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(Count(label, n) for label, n in ordered[:limit])


@dataclass(frozen=True, slots=True)
class Decisions:
    """The accept/reject decisions of the period, per handoff (deal)."""

    latest: dict[str, DecisionFact]  # deal -> its last accept or reject
    rejected: frozenset[str]  # deals rejected at least once
    resubmitted: int  # re-submissions after a rejection
    reasons: Counter[str]  # rejection reasons


def decisions(data: ReportData, since: datetime | None) -> Decisions:
    """Decisions recorded at/after ``since``; a withdrawal is no decision."""
    latest: dict[str, DecisionFact] = {}
    rejected: set[str] = set()
    reasons: Counter[str] = Counter()
    resubmitted = 0
    for decision in data.decisions:
        if not after(decision.at, since):
            continue
        if decision.decision == "resubmitted":
            resubmitted += 1
        if decision.decision not in ("accepted", "rejected"):
            continue
        latest[decision.deal] = decision
        if decision.decision == "rejected":
            rejected.add(decision.deal)
            reasons[(decision.reason or "").strip() or "(no reason given)"] += 1
    return Decisions(latest, frozenset(rejected), resubmitted, reasons)
