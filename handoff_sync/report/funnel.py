"""The leakage funnel: where in a chain of steps deals stop, and what they were worth.

A funnel (handoff.yaml ``measures.funnels``) is a chain of steps, each reached when its
condition holds on the deal's canonical values. A deal's furthest step is the last one
whose condition holds, and it has reached every step up to that one: a won deal whose
intro call nobody recorded still passed the intro. A deal for which ``lost_when`` holds
died at its furthest step; one that is neither lost nor at the last step is in flight
(it may still move on) and is never counted as lost.

Pure: a function of the report's deal facts, the funnels and the smallest sample worth
judging. Everything shown has its definition in ``DEFINITIONS`` (and each step says its
own condition), so every format prints the definition next to the figure.
"""

from __future__ import annotations

import statistics
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from handoff_sync.mapping.policy.conditions import describe_condition, evaluate
from handoff_sync.mapping.policy.funnels import Funnel
from handoff_sync.model import Value
from handoff_sync.report.basis import DIMENSION_LABELS, group_of
from handoff_sync.report.basis import DIMENSIONS as BY
from handoff_sync.report.facts import DealFact
from handoff_sync.report.stats import pct, wilson

# The report's dimensions but the handoff stage: a funnel step already is a stage.
DIMENSIONS = tuple(d for d in BY if d != "stage")
NO_DATE = "(no date)"

DEFINITIONS = {
    "entered": "deals in the report's period (open at its end, or closed in it) for "
               "which the funnel's applies_when holds",
    "reached": "deals whose furthest step is this one or a later one: a deal that reached "
               "a later step counts at every earlier one",
    "from_previous_pct": "reached this step / reached the previous step (in-flight deals "
                         "count in both, so young cohorts convert less so far)",
    "from_start_pct": "reached this step / reached the first step",
    "median_days": "median days from the previous step to this one (their 'at' fields), "
                   "over the deals for which both steps' own conditions hold and whose "
                   "times are in order; n = how many deals that is",
    "lost": "deals for which lost_when holds, counted at their furthest step: they died "
            "there",
    "lost_amount": "the amounts of the deals lost at the step, summed as recorded (no "
                   "currency conversion; a deal without an amount adds nothing)",
    "in_flight": "deals not lost whose furthest step is this one, before the last: still "
                 "moving, never counted as lost",
    "to_last_pct": "reached the last step / reached the first step, with its Wilson 95% "
                   "interval",
    "survived_pct": "of the deals that left this step, moved on or died there, the share "
                    "that moved on: in-flight deals are left out, so this is where deals "
                    "die; n = deals that left the step",
    "weakest_step": "the step with the lowest survival (moved on / left the step), among "
                    "steps where deals died and at least min_sample deals left",
    "biggest_loss": "the step where the most dollars were lost (ties: more deals, then "
                    "the earlier step)",
    "small": "fewer than min_sample deals reached the first step: shown with its n, its "
             "weakest step is not named",
    "weekly": "cohorts by the week (Monday, UTC) in which deals reached the first step "
              "(its 'at' field); deals with no such date form the cohort '(no date)'",
}


@dataclass(frozen=True, slots=True)
class StepFigures:
    step: str  # the step's id
    label: str
    definition: str  # its condition and time field, in words
    reached: int
    from_previous_pct: float | None
    from_start_pct: float | None
    median_days: float | None  # from the previous step
    timed: int  # deals behind the median
    lost: int
    lost_amount: float
    in_flight: int
    in_flight_amount: float
    survived_pct: float | None  # moved on / (moved on + lost here); None at the last step
    settled: int  # moved on + lost here


@dataclass(frozen=True, slots=True)
class GroupFunnel:
    """The funnel of one group of deals (a partner, a region...), or of one weekly cohort."""

    group: str
    entered: int
    reached: tuple[int, ...]  # per step, in chain order
    to_last_pct: float | None
    to_last_low_pct: float | None  # Wilson 95% interval
    to_last_high_pct: float | None
    lost: int
    lost_amount: float
    in_flight: int
    weakest_step: str | None  # a step id
    small: bool  # under min_sample


@dataclass(frozen=True, slots=True)
class Breakdown:
    dimension: str
    label: str
    groups: tuple[GroupFunnel, ...]  # most deals first


@dataclass(frozen=True, slots=True)
class FunnelFigures:
    funnel: str  # the funnel's id
    label: str
    definition: str  # which deals enter, when one is lost
    currency: str | None  # the amounts' one currency; "mixed", or None when none is known
    entered: int
    completed: int  # reached the last step
    lost: int
    lost_amount: float
    in_flight: int
    in_flight_amount: float
    biggest_loss: str | None  # a step id
    weakest_step: str | None  # a step id
    steps: tuple[StepFigures, ...]
    by: tuple[Breakdown, ...]
    weekly: tuple[GroupFunnel, ...]  # oldest week first; '(no date)' last
    weekly_note: str | None  # why there are no cohorts, when there are none


@dataclass(frozen=True, slots=True)
class FunnelSection:
    declared: bool  # handoff.yaml declares at least one funnel
    min_sample: int
    definitions: dict[str, str]
    funnels: tuple[FunnelFigures, ...]


@dataclass(frozen=True, slots=True)
class _Path:
    """How far one deal got: its furthest step (-1: none), its step times, its fate."""

    deal: DealFact
    furthest: int
    own: tuple[bool, ...]  # each step's own condition
    times: tuple[datetime | None, ...]
    lost: bool
    amount: float
    # (step, days from the previous step) for the steps timed in order (``_days``): worked
    # out once per deal, not once per deal and group.
    gaps: tuple[tuple[int, float], ...]


class FunnelMemo:
    """Funnel sections and deal paths already worked out from one set of report rows.

    The funnels depend on the deals (and the period's end) alone, not on ``now`` or the
    grouping: a report of the same rows a minute later (the console's minute tick) or
    grouped otherwise has the same funnel section, and another filter the same paths for
    the deals it keeps. Deals are known by identity (the memo holds them, so an id is
    never another deal's), so the deals taken back to a period's end (period.as_of) are
    kept here per end too (``rewound``): otherwise each report with an end would make new
    copies, never find its section and add paths for them. Make one per rows read.
    Thread-safe; each value is computed as without a memo, so the figures are the
    same."""

    SECTIONS_KEPT = 16
    ENDS_KEPT = 8  # period ends whose rewound deals are kept
    PATHS_KEPT = 1_000_000  # then forgotten: deals of ends no longer kept add up

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sections: OrderedDict[tuple[object, ...],
                                    tuple[Sequence[DealFact], FunnelSection]] = OrderedDict()
        # (funnel, until, id(deal)) -> the deal and its path (None: not applying)
        self._paths: dict[tuple[str, datetime | None, int],
                          tuple[DealFact, _Path | None]] = {}
        # until -> (the deals given, the deals as they stood then)
        self._rewound: OrderedDict[datetime, tuple[Sequence[DealFact],
                                                   tuple[DealFact, ...]]] = OrderedDict()

    def kept(self) -> tuple[int, int]:
        """How many funnel sections and deal paths the memo holds (its memory)."""
        with self._lock:
            return len(self._sections), len(self._paths)

    def rewound(self, deals: Sequence[DealFact], until: datetime,
                rewind: Callable[[], tuple[DealFact, ...]]) -> tuple[DealFact, ...]:
        """``rewind()`` (``deals`` as they stood at ``until``), the same tuple each time
        for the same deals and end, so its sections and paths are found again."""
        with self._lock:
            found = self._rewound.get(until)
            if found is not None and found[0] is deals:
                self._rewound.move_to_end(until)
                return found[1]
        rows = rewind()  # outside the lock: the rest of the memo stays usable meanwhile
        with self._lock:
            found = self._rewound.get(until)
            if found is not None and found[0] is deals:
                return found[1]  # another thread's, so every report shares one copy
            self._rewound[until] = (deals, rows)
            while len(self._rewound) > self.ENDS_KEPT:
                self._rewound.popitem(last=False)
        return rows

    def section(self, deals: Sequence[DealFact], funnels: Sequence[Funnel],
                min_sample: int, until: datetime | None) -> FunnelSection:
        key = (min_sample, tuple(f.id for f in funnels), until, tuple(map(id, deals)))
        with self._lock:
            found = self._sections.get(key)
        if found is None:
            found = (tuple(deals), _section(deals, funnels, min_sample, until, self))
            with self._lock:
                self._sections[key] = found
                while len(self._sections) > self.SECTIONS_KEPT:
                    self._sections.popitem(last=False)
        return found[1]

    def path(self, deal: DealFact, funnel: Funnel, until: datetime | None) -> _Path | None:
        key = (funnel.id, until, id(deal))
        found = self._paths.get(key)  # dict reads and writes are atomic: no lock needed
        if found is None:
            if len(self._paths) >= self.PATHS_KEPT:
                self._paths.clear()
            found = self._paths[key] = (deal, _applying_path(deal, funnel, until))
        return found[1]


def compute_funnels(deals: Sequence[DealFact], funnels: Sequence[Funnel],
                    min_sample: int, until: datetime | None = None,
                    memo: FunnelMemo | None = None) -> FunnelSection:
    """The funnel section for the deals of the report's period (a funnel without steps,
    which `mappings validate` refuses, is left out). With the period's end ``until``, a
    step whose own time (its ``at`` field) is at or after it was not reached yet. With
    ``memo``, from it when the same deals were asked before."""
    if memo is not None:
        return memo.section(deals, funnels, min_sample, until)
    return _section(deals, funnels, min_sample, until, None)


def _section(deals: Sequence[DealFact], funnels: Sequence[Funnel], min_sample: int,
             until: datetime | None, memo: FunnelMemo | None) -> FunnelSection:
    return FunnelSection(declared=bool(funnels), min_sample=min_sample,
                         definitions=dict(DEFINITIONS),
                         funnels=tuple(compute_funnel(deals, f, min_sample, until, memo)
                                       for f in funnels if f.steps))


def compute_funnel(deals: Sequence[DealFact], funnel: Funnel, min_sample: int,
                   until: datetime | None = None, memo: FunnelMemo | None = None,
                   ) -> FunnelFigures:
    found = (_applying_path(deal, funnel, until) if memo is None
             else memo.path(deal, funnel, until) for deal in deals)
    paths = [path for path in found if path is not None]
    tally = _Tally.of(paths, len(funnel.steps))
    steps = _steps(tally, funnel)
    return FunnelFigures(
        funnel=funnel.id, label=funnel.label, definition=_funnel_definition(funnel),
        currency=_currency(paths), entered=tally.entered, completed=tally.reached[-1],
        lost=len(tally.lost), lost_amount=_money(tally.lost),
        in_flight=len(tally.flying), in_flight_amount=_money(tally.flying),
        biggest_loss=_biggest_loss(steps), weakest_step=_weakest(funnel, steps, min_sample),
        steps=steps,
        by=tuple(Breakdown(dimension, DIMENSION_LABELS[dimension],
                           _groups(paths, funnel, min_sample, _along(dimension)))
                 for dimension in DIMENSIONS),
        weekly=_weekly(paths, funnel, min_sample), weekly_note=_weekly_note(funnel, paths))


def _along(dimension: str) -> Callable[[_Path], str]:
    return lambda path: group_of(path.deal, dimension)


def _lookup(deal: DealFact) -> Callable[[str], Value]:
    return lambda name: deal.values.get(name)


def _applying_path(deal: DealFact, funnel: Funnel, until: datetime | None,
                   ) -> _Path | None:
    """The deal's path, or None when the funnel's applies_when does not hold for it."""
    if funnel.applies_when is None or evaluate(funnel.applies_when, _lookup(deal)):
        return _path(deal, funnel, until)
    return None


def _path(deal: DealFact, funnel: Funnel, until: datetime | None = None) -> _Path:
    lookup = _lookup(deal)
    own = tuple(evaluate(step.reached_when, lookup) and not _later(lookup, step.at, until)
                for step in funnel.steps)
    furthest = max((i for i, holds in enumerate(own) if holds), default=-1)
    times = tuple(_instant(lookup(step.at)) if held and step.at else None
                  for step, held in zip(funnel.steps, own, strict=True))
    lost = funnel.lost_when is not None and evaluate(funnel.lost_when, lookup)
    amount = float(deal.amount) if deal.amount is not None else 0.0
    gaps = tuple((i, gap) for i in range(1, len(times))
                 if (gap := _days(times[i - 1], times[i])) is not None)
    return _Path(deal, furthest, own, times, lost, amount, gaps)


def _later(lookup: Callable[[str], Value], at: str | None, until: datetime | None) -> bool:
    """The step's own time is at or after the period's end: not reached by then."""
    if until is None or at is None:
        return False
    when = _instant(lookup(at))
    return when is not None and when >= until


def _in_flight(path: _Path, last: int) -> bool:
    return not path.lost and 0 <= path.furthest < last


@dataclass(frozen=True, slots=True)
class _Tally:
    """What the figures of a set of deals count, gathered in one pass over their paths.
    Amounts are kept as lists in the paths' order, so each sum adds the same floats in
    the same order as summing over the paths would."""

    entered: int
    reached: tuple[int, ...]  # per step: deals whose furthest step is it or a later one
    lost: list[float]  # amounts of the lost deals that reached a step
    flying: list[float]  # amounts of the deals in flight
    lost_at: list[list[float]]  # per step: amounts of the deals lost there
    flying_at: list[list[float]]  # per step: amounts of the deals in flight there
    days: list[list[float]]  # per step: days from the previous step (``_days``)

    @classmethod
    def of(cls, paths: Iterable[_Path], steps: int) -> _Tally:
        last = steps - 1
        furthest = [0] * steps
        lost: list[float] = []
        flying: list[float] = []
        lost_at: list[list[float]] = [[] for _ in range(steps)]
        flying_at: list[list[float]] = [[] for _ in range(steps)]
        days: list[list[float]] = [[] for _ in range(steps)]
        entered = 0
        for path in paths:
            entered += 1
            step = path.furthest
            if step >= 0:
                furthest[step] += 1
                if path.lost:
                    lost.append(path.amount)
                    lost_at[step].append(path.amount)
                elif step < last:
                    flying.append(path.amount)
                    flying_at[step].append(path.amount)
            for index, gap in path.gaps:
                days[index].append(gap)
        reached = list(furthest)
        for index in range(steps - 2, -1, -1):
            reached[index] += reached[index + 1]
        return cls(entered, tuple(reached), lost, flying, lost_at, flying_at, days)


def _steps(tally: _Tally, funnel: Funnel) -> tuple[StepFigures, ...]:
    last = len(funnel.steps) - 1
    reached = tally.reached
    figures: list[StepFigures] = []
    for i, step in enumerate(funnel.steps):
        days, lost, flying = tally.days[i], tally.lost_at[i], tally.flying_at[i]
        moved_on = reached[i + 1] if i < last else 0
        settled = moved_on + len(lost) if i < last else 0
        figures.append(StepFigures(
            step=step.id, label=step.label, definition=_step_definition(funnel, i),
            reached=reached[i], from_previous_pct=pct(reached[i], reached[i - 1]) if i
            else None, from_start_pct=pct(reached[i], reached[0]),
            median_days=_round(statistics.median(days)) if days else None, timed=len(days),
            lost=len(lost), lost_amount=_money(lost),
            in_flight=len(flying), in_flight_amount=_money(flying),
            survived_pct=pct(moved_on, settled), settled=settled))
    return tuple(figures)


def _days(start: datetime | None, end: datetime | None) -> float | None:
    """Days from the previous step's time to a step's, when both are timed and in order
    (a step recorded before the previous one says the chain is not this deal's order,
    not that it took negative time)."""
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds() / 86_400


def _groups(paths: Sequence[_Path], funnel: Funnel, min_sample: int,
            key: Callable[[_Path], str]) -> tuple[GroupFunnel, ...]:
    grouped: dict[str, list[_Path]] = defaultdict(list)
    for path in paths:
        grouped[key(path)].append(path)
    rows = [_group(name, mine, funnel, min_sample) for name, mine in grouped.items()]
    return tuple(sorted(rows, key=lambda r: (-r.entered, r.group)))


def _group(name: str, paths: Sequence[_Path], funnel: Funnel, min_sample: int,
           ) -> GroupFunnel:
    last = len(funnel.steps) - 1
    tally = _Tally.of(paths, len(funnel.steps))
    reached = tally.reached
    first, final = reached[0], reached[last]
    interval = wilson(final, first)
    small = first < min_sample
    return GroupFunnel(
        group=name, entered=tally.entered, reached=reached, to_last_pct=pct(final, first),
        to_last_low_pct=interval[0] if interval else None,
        to_last_high_pct=interval[1] if interval else None, lost=len(tally.lost),
        lost_amount=_money(tally.lost), in_flight=len(tally.flying),
        weakest_step=None if small else _weakest(funnel, _steps(tally, funnel), min_sample),
        small=small)


def _currency(paths: Sequence[_Path]) -> str | None:
    codes = {code for p in paths if isinstance(code := p.deal.values.get("currency"), str)}
    return None if not codes else codes.pop() if len(codes) == 1 else "mixed"


def _weekly(paths: Sequence[_Path], funnel: Funnel, min_sample: int,
            ) -> tuple[GroupFunnel, ...]:
    if funnel.steps[0].at is None:
        return ()
    rows = _groups(paths, funnel, min_sample, lambda p: _week(p.times[0]))
    return tuple(sorted(rows, key=lambda r: (r.group == NO_DATE, r.group)))


def _week(at: datetime | None) -> str:
    if at is None:
        return NO_DATE
    day = at.astimezone(UTC).date()
    return (day - timedelta(days=day.weekday())).isoformat()


def _weekly_note(funnel: Funnel, paths: Sequence[_Path]) -> str | None:
    if funnel.steps[0].at is None:
        return (f"The first step ({funnel.steps[0].id}) names no 'at' field, so deals "
                "cannot be put in weekly cohorts.")
    if paths and all(p.times[0] is None for p in paths):
        return (f"No deal has a date in {funnel.steps[0].at} (the first step's 'at'): map it "
                "to see weekly cohorts.")
    return None


def _weakest(funnel: Funnel, steps: Sequence[StepFigures], min_sample: int) -> str | None:
    """The step deals leave dead most often (ties: more deaths, then the earlier step)."""
    rates = [(s.survived_pct, -s.lost, i) for i, s in enumerate(steps)
             if s.survived_pct is not None and s.lost and s.settled >= min_sample]
    return funnel.steps[min(rates)[2]].id if rates else None


def _biggest_loss(steps: Sequence[StepFigures]) -> str | None:
    lossy = [(-s.lost_amount, -s.lost, i) for i, s in enumerate(steps) if s.lost]
    return steps[min(lossy)[2]].step if lossy else None


def _step_definition(funnel: Funnel, index: int) -> str:
    step = funnel.steps[index]
    text = f"reached when {describe_condition(step.reached_when)}"
    if index + 1 < len(funnel.steps):
        text += " (or a later step is reached)"
    return text + (f"; time: {step.at}" if step.at else "; no time field")


def _funnel_definition(funnel: Funnel) -> str:
    enters = ("every deal" if funnel.applies_when is None
              else f"deals where {describe_condition(funnel.applies_when)}")
    lost = ("no deal is counted as lost" if funnel.lost_when is None
            else f"a deal is lost when {describe_condition(funnel.lost_when)}")
    return f"{enters}; {lost}"


def _instant(value: Value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    return None


def _round(value: float) -> float:
    return round(value, 1)


def _money(amounts: Iterable[float]) -> float:
    return round(sum(amounts), 2)
