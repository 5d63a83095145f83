"""SLA compliance and time to first touch, counting only clocks whose outcome is known.

"Within SLA" used to count running clocks as within: a clock started an hour ago is not
a success yet, and a report with a hundred of them read far better than the team did.
Now a clock counts once its outcome is known (met, or breached: stopped late or still
running past its due time); clocks still running in time are shown apart, on track or at
risk. First touch shows the median and the mean with n, and the share of first touches
made in time, because one alone misleads (a 0 h median next to a 47 h mean).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from handoff_sync.report.basis import (
    AT_RISK,
    BREACHED,
    CANCELLED,
    DECIDED,
    MET,
    ON_TRACK,
    PAST_DUE,
    after,
    clock_state,
    is_breached,
)
from handoff_sync.report.facts import ClockFact, ReportData
from handoff_sync.report.figure import (
    Cell,
    Column,
    Figure,
    count,
    measure,
    rate_cell,
    share,
)
from handoff_sync.report.stats import mean, median, rate, round1

WITHIN_SLA = ("SLA clocks that finished in time (met) out of the clocks whose outcome is "
              "known: met, or breached (stopped late, or still running past their due "
              "time). Clocks still running in time are not counted until they finish; "
              "cancelled ones never.")


@dataclass(frozen=True, slots=True)
class ClockRow:
    label: str
    clock: str
    decided: int
    met: int
    breached: int
    within: Cell
    on_track: int
    at_risk: int
    past_due: int
    cancelled: int


def clock_columns(target: float) -> tuple[Column, ...]:
    return (
        Column("label", "clock", "The SLA clock as handoff.yaml labels it."),
        Column("decided", "n", "Clocks whose outcome is known: met + breached."),
        Column("met", "met", "Stopped by their stop event by the due time."),
        Column("breached", "breached", "Stopped after the due time, or still running past "
               "it."),
        Column("within", f"within SLA (>= {target:g}%)", "met / n, with the Wilson 95% "
               "interval; judged against the target only when n reaches min_sample."),
        Column("on_track", "running: on track", "Still running, within the at-risk share "
               "of their time; not counted in n."),
        Column("at_risk", "running: at risk", "Still running, past the at-risk share of "
               "their time; not counted in n."),
        Column("past_due", "running: past due", "Still running after their due time "
               "(counted as breached)."),
        Column("cancelled", "cancelled", "Stopped because the deal stopped needing the "
               "handoff; never counted."),
    )


@dataclass(frozen=True, slots=True)
class FirstTouch:
    """Time to first touch of one first-touch clock."""

    clock: str
    label: str
    median: Figure
    mean: Figure
    in_time: Figure
    at_start: Figure
    waiting: Figure
    overdue: Figure


@dataclass(frozen=True, slots=True)
class Sla:
    within_sla: Figure
    met: Figure
    breached: Figure
    on_track: Figure
    at_risk: Figure
    past_due: Figure
    cancelled: Figure
    breach_events: Figure
    escalations: Figure
    escalation_tasks: Figure
    escalation_tasks_open: Figure
    first_touch: tuple[FirstTouch, ...]  # one per first-touch clock
    by_clock: tuple[ClockRow, ...]
    by_clock_columns: tuple[Column, ...]
    first_touch_clocks: tuple[str, ...]


def sla(data: ReportData, clocks: Sequence[ClockFact], keys: set[str],
        since: datetime | None, now: datetime) -> Sla:
    """The SLA section over ``clocks`` (started in the period, of the period's deals)."""
    policy = data.policy
    target, least = policy.targets.within_sla_pct, policy.min_sample
    states = Counter(clock_state(c, now) for c in clocks)
    decided = sum(states[s] for s in DECIDED)
    breached = states[BREACHED] + states[PAST_DUE]
    events = [e for e in data.events if e.deal in keys and after(e.at, since)]
    breach_events = [e for e in events if e.kind == "breached"]
    escalation_tasks = [t for t in data.tasks if t.kind in policy.escalation_task_kinds
                        and (t.deal is None or t.deal in keys)]
    return Sla(
        within_sla=share("within SLA (finished clocks)", rate(states[MET], decided, least),
                         WITHIN_SLA, target=target, min_sample=least,
                         why="no clock has finished yet"),
        met=count("met", states[MET], "Clocks stopped by their stop event by the due time."),
        breached=count("breached", breached, "Clocks past their due time: stopped late, "
                       "or still running past it."),
        on_track=count("running: on track", states[ON_TRACK], "Clocks still running, "
                       "within the at-risk share of their time (not counted above)."),
        at_risk=count("running: at risk", states[AT_RISK], "Clocks still running past the "
                      "at-risk share of their time (not counted above until they finish)."),
        past_due=count("running: already past due", states[PAST_DUE], "Clocks still "
                       "running after their due time (counted as breached above)."),
        cancelled=count("cancelled (not counted)", states[CANCELLED], "Clocks stopped "
                        "because the deal stopped needing the handoff; never counted."),
        breach_events=count("breach events", len(breach_events), "Clocks that crossed "
                            "their due time in the period, as recorded by the sync cycles."),
        escalations=count("escalations", sum(1 for e in breach_events if e.escalate_to),
                          "Breach events that named someone to escalate to (the clock's "
                          "escalate_to role)."),
        escalation_tasks=count("escalation tasks", len(escalation_tasks), "Tasks a breach "
                               "opened (task templates open while the SLA is breached)."),
        escalation_tasks_open=count("escalation tasks still open", sum(
            1 for t in escalation_tasks if t.status == "open"), "Of those, still open."),
        first_touch=first_touch(data, clocks, now),
        by_clock=by_clock(data, clocks, now), by_clock_columns=clock_columns(target),
        first_touch_clocks=tuple(sorted(policy.first_touch_clocks)))


def first_touch(data: ReportData, clocks: Sequence[ClockFact],
                now: datetime) -> tuple[FirstTouch, ...]:
    """Time to first touch per first-touch clock (one that stops at the receiver's first
    recorded touch): median and mean over touched handoffs (n), the share touched in
    time, the touches recorded before the clock started, and who still waits. Per clock,
    because a direct rep's intro call and a CS kickoff are different promises."""
    least = data.policy.min_sample
    result = []
    for name in sorted(data.policy.first_touch_clocks & {c.clock for c in clocks}):
        label = data.policy.clock_labels.get(name, name)
        states = [(c, clock_state(c, now)) for c in clocks if c.clock == name]
        hours = [(c.stopped_at - c.started_at).total_seconds() / 3600 for c, s in states
                 if s in (MET, BREACHED) and c.stopped_at is not None]
        decided = sum(1 for _, s in states if s in DECIDED)
        span = (f"from the clock's start (when the handoff was triggered, as the systems "
                f"record it) to the receiver's first recorded touch ({label}), over the "
                "handoffs touched so far")
        result.append(FirstTouch(
            name, label,
            median=measure("time to first touch, median", round1(median(hours)),
                           f"Median elapsed hours {span}.", unit=" h", n=len(hours),
                           min_sample=least, why="no first touch recorded yet"),
            mean=measure("time to first touch, mean", round1(mean(hours)),
                         f"Mean elapsed hours {span}; a few slow touches pull it above the "
                         "median.", unit=" h", n=len(hours), min_sample=least,
                         why="no first touch recorded yet"),
            in_time=share("first touches within SLA",
                          rate(sum(1 for _, s in states if s == MET), decided, least),
                          "Clocks met out of those whose outcome is known (met, touched "
                          "late, or still waiting past the due time).",
                          target=data.policy.targets.within_sla_pct, min_sample=least,
                          why="no clock has finished yet"),
            at_start=count("touched before the clock started (0 h)",
                           sum(1 for h in hours if h == 0), "Touches recorded at or before "
                           "the clock's start (held before the handoff was triggered); they "
                           "count as 0 h in the median and the mean."),
            waiting=count("still waiting for a first touch",
                          sum(1 for _, s in states if s in (ON_TRACK, AT_RISK, PAST_DUE)),
                          "Clocks still running: no touch recorded yet (past due ones "
                          "included)."),
            overdue=count("still waiting, already past due",
                          sum(1 for _, s in states if s == PAST_DUE), "Of those, the ones "
                          "past their due time (counted as breached in the share above).")))
    return tuple(result)


def by_clock(data: ReportData, clocks: Sequence[ClockFact], now: datetime,
             ) -> tuple[ClockRow, ...]:
    policy = data.policy
    rows = []
    for name in sorted({c.clock for c in clocks}):
        states = Counter(clock_state(c, now) for c in clocks if c.clock == name)
        decided = sum(states[s] for s in DECIDED)
        breached = sum(n for s, n in states.items() if is_breached(s))
        rows.append(ClockRow(
            policy.clock_labels.get(name, name), name, decided, states[MET], breached,
            rate_cell(rate(states[MET], decided, policy.min_sample),
                      target=policy.targets.within_sla_pct, min_sample=policy.min_sample),
            states[ON_TRACK], states[AT_RISK], states[PAST_DUE], states[CANCELLED]))
    return tuple(rows)
