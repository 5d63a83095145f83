"""Business-hours arithmetic: when an SLA is due, and how much of it has been used.

SLA durations in handoff.yaml are either plain time (``hours``, ``days``: elapsed time,
the calendar is ignored) or working time (``business_hours``, ``business_days``) of the
handoff type's business calendar. Working time runs only on working days that are not
holidays, between ``day_starts`` and ``day_ends`` on the calendar's local wall clock.

How working time is measured, and why:
- Instants come in and go out as aware UTC; everything in between happens on the local
  wall clock of the calendar's zone, so "Monday 09:00" is 13:00 UTC in summer and 14:00
  UTC in winter in New York (DST-correct by construction).
- Every working day contributes exactly ``day_ends - day_starts``. This is what people
  mean by a working day, and it keeps the arithmetic closed-form: the working time before
  any instant is (working days before its date) x (day length) + (its part of today), with
  working days counted per whole week and holidays found by bisection. Nothing loops per
  hour or per day, so a one-year gap costs the same as a one-hour one. (A working day
  that contains a DST change - only possible for calendars working at 02:00-03:00 local
  time - keeps its nominal length, although one real hour more or less passes.)
- ``business_days: N`` is N x (day length) of working time, so 5 business days from
  Wednesday 10:00 ends next Wednesday 10:00, and 1.5 business days is 12 working hours on
  a 09:00-17:00 calendar. A start outside working time counts from the next working
  period; a deadline that falls exactly on the end of a working day is that end (Friday
  16:00 + 1 business hour is Friday 17:00, not Monday 09:00).
- A deadline past ``LATEST`` (datetime stops at the year 9999) is ``LATEST``: such a
  duration means "never", and a clamp keeps the cycle and every other deal going where an
  exception would fail every cycle. `mappings validate` refuses durations over 10 years,
  so only a policy that bypassed it (or one a later version loads) ever gets here.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from handoff_sync.mapping.policy.file_model import BusinessCalendar, Duration

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# date(1, 1, 1) is a Monday (ordinal 1), so ordinal - 1 counts days from a week start.
_MONDAY_ORDINAL = 1
_ZERO = timedelta(0)
_HOUR = timedelta(hours=1)
# The latest instant handed out: a day short of datetime's end, so converting it to any
# time zone stays in range.
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
_LONGEST = LATEST - datetime(1, 1, 1, tzinfo=UTC)


_LONGEST_HOURS = _LONGEST / _HOUR


def _scaled(span: timedelta, factor: float) -> timedelta:
    """``span * factor``, at most _LONGEST (timedelta overflows long before a float does;
    `not <=` also catches infinity and NaN)."""
    return span * factor if span / _HOUR * factor <= _LONGEST_HOURS else _LONGEST


def _after(start: datetime, span: timedelta) -> datetime:
    """``start + span`` in UTC, or LATEST when that is past it."""
    start = start.astimezone(UTC)
    return LATEST if span >= LATEST - start else start + span


def _clock(text: str) -> timedelta:
    hours, minutes = text.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


def _require_aware(moment: datetime, name: str) -> None:
    # A naive datetime would be read in the host's zone: the answer would depend on the host.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")


@dataclass(frozen=True)
class WorkCalendar:
    """A BusinessCalendar compiled for arithmetic (build it with ``compile_calendar``)."""

    zone: ZoneInfo
    weekdays: frozenset[int]  # 0 = Monday
    day_starts: timedelta  # since local midnight
    day_ends: timedelta
    holidays: tuple[int, ...]  # sorted date ordinals, only those on working weekdays
    # Derived once (a cycle asks a calendar thousands of times): the day's length, the
    # working weekdays before each weekday of a week, and the working time before LATEST.
    day_length: timedelta = field(init=False, repr=False, compare=False)
    _partial_week: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _work_before_latest: timedelta = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "day_length", self.day_ends - self.day_starts)
        object.__setattr__(self, "_partial_week", tuple(
            sum(1 for weekday in self.weekdays if weekday < rest) for rest in range(7)))
        object.__setattr__(self, "_work_before_latest",
                           self._work_before(self._to_local(LATEST)))

    def is_working_day(self, day: date) -> bool:
        ordinal = day.toordinal()
        index = bisect_left(self.holidays, ordinal)
        is_holiday = index < len(self.holidays) and self.holidays[index] == ordinal
        return day.weekday() in self.weekdays and not is_holiday

    def _working_days_before(self, ordinal: int) -> int:
        """Working days from the start of the calendar era up to (not including) a date."""
        weeks, rest = divmod(ordinal - _MONDAY_ORDINAL, 7)
        return (weeks * len(self.weekdays) + self._partial_week[rest]
                - bisect_left(self.holidays, ordinal))

    def _working_day(self, index: int) -> date:
        """The working day with this index (0-based, as counted by _working_days_before)."""
        per_week = len(self.weekdays)
        # Without holidays the day lies in week index // per_week; each holiday before it
        # pushes it one working day later, so a week per per_week holidays is enough slack.
        low = _MONDAY_ORDINAL + (index // per_week) * 7
        high = low + 7 * (2 + len(self.holidays) // per_week)
        # Smallest ordinal with more than `index` working days up to and including it.
        while low < high:
            middle = (low + high) // 2
            if self._working_days_before(middle + 1) > index:
                high = middle
            else:
                low = middle + 1
        return date.fromordinal(low)

    def _to_local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def _to_utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def _work_before(self, local: datetime) -> timedelta:
        """Working time from the start of the era up to a local wall-clock time."""
        day = local.date()
        done = self.day_length * self._working_days_before(day.toordinal())
        if self.is_working_day(day):
            since_midnight = local - datetime.combine(day, datetime.min.time())
            done += min(max(since_midnight - self.day_starts, _ZERO), self.day_length)
        return done

    def _local_at(self, work: timedelta) -> datetime:
        """The earliest local time by which `work` working time (since the era) has passed."""
        days, rest = divmod(work, self.day_length)
        if rest == _ZERO and days > 0:
            # Exactly a whole number of days: the end of the last one, not the next start.
            return datetime.combine(self._working_day(days - 1), datetime.min.time()) \
                + self.day_ends
        return datetime.combine(self._working_day(days), datetime.min.time()) \
            + self.day_starts + rest

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between two aware instants (zero when end is not after start)."""
        _require_aware(start, "start")
        _require_aware(end, "end")
        if end <= start:
            return _ZERO
        # max(): inside a repeated (fall-back) hour the wall clock runs backwards.
        return max(self._work_before(self._to_local(end))
                   - self._work_before(self._to_local(start)), _ZERO)

    def add(self, start: datetime, work: timedelta) -> datetime:
        """The earliest aware UTC instant by which `work` working time has passed."""
        _require_aware(start, "start")
        target = self._work_before(self._to_local(start)) + work
        if target >= self._work_before_latest:
            return LATEST
        return self._to_utc(self._local_at(target))


def compile_calendar(calendar: BusinessCalendar) -> WorkCalendar:
    """The compiled form of a calendar, cached (policies are reloaded, calendars rarely change)."""
    held = _COMPILED.get(id(calendar))  # a cycle asks for the same few thousands of times
    if held is not None and held[0] is calendar:
        return held[1]
    compiled = _compile(calendar.timezone, tuple(calendar.working_days), calendar.day_starts,
                        calendar.day_ends, tuple(calendar.holidays))
    if len(_COMPILED) >= 64:
        _COMPILED.clear()
    _COMPILED[id(calendar)] = (calendar, compiled)
    return compiled


# id(calendar) -> it and its compiled form. An entry keeps the (frozen) calendar alive, so
# its id is not reused while the entry is held.
_COMPILED: dict[int, tuple[BusinessCalendar, WorkCalendar]] = {}


@lru_cache(maxsize=64)
def _compile(timezone: str, working_days: tuple[str, ...], day_starts: str, day_ends: str,
             holidays: tuple[date, ...]) -> WorkCalendar:
    weekdays = frozenset(_WEEKDAYS.index(day) for day in working_days)
    # The loader rejects both; checked again because either would make the arithmetic
    # divide by zero or search forever for a working day that never comes.
    if not weekdays:
        raise ValueError(f"business calendar in {timezone} has no working days; "
                         "working time would never pass")
    starts, ends = _clock(day_starts), _clock(day_ends)
    if ends <= starts:
        raise ValueError(f"business calendar in {timezone}: the working day must end after "
                         f"it starts (day_starts {day_starts}, day_ends {day_ends})")
    kept = sorted({day.toordinal() for day in holidays if day.weekday() in weekdays})
    return WorkCalendar(ZoneInfo(timezone), weekdays, starts, ends, tuple(kept))


def _work_span(duration: Duration, calendar: WorkCalendar) -> timedelta:
    if duration.unit == "business_hours":
        return _scaled(_HOUR, duration.amount)
    return _scaled(calendar.day_length, duration.amount)


def _compiled_for(duration: Duration, calendar: BusinessCalendar | None) -> WorkCalendar:
    if calendar is None:
        raise ValueError(f"a {duration.unit} duration needs a business calendar")
    return compile_calendar(calendar)


def _plain_span(duration: Duration) -> timedelta:
    return _scaled(_HOUR if duration.unit == "hours" else timedelta(days=1), duration.amount)


def due_at(start: datetime, duration: Duration, calendar: BusinessCalendar | None) -> datetime:
    """When `duration` measured from `start` runs out (aware UTC in, aware UTC out)."""
    _require_aware(start, "start")
    if not duration.uses_calendar:
        return _after(start, _plain_span(duration))
    compiled = _compiled_for(duration, calendar)
    return compiled.add(start, _work_span(duration, compiled))


def business_elapsed(start: datetime, end: datetime,
                     calendar: BusinessCalendar) -> timedelta:
    """Working time between two aware instants; zero when end is not after start."""
    return compile_calendar(calendar).elapsed(start, end)


def elapsed_fraction(start: datetime, now: datetime, duration: Duration,
                     calendar: BusinessCalendar | None) -> float:
    """How much of `duration` has passed at `now`: 0.0 at start, 1.0 at due, more after.

    Business durations count working time only, plain ones elapsed time; before `start`
    the answer is 0.0.
    """
    _require_aware(start, "start")
    _require_aware(now, "now")
    if not duration.uses_calendar:
        return max(now - start, _ZERO) / _plain_span(duration)
    compiled = _compiled_for(duration, calendar)
    return compiled.elapsed(start, now) / _work_span(duration, compiled)


def instant_at_fraction(start: datetime, duration: Duration,
                        calendar: BusinessCalendar | None, fraction: float) -> datetime:
    """The earliest aware UTC instant at which `fraction` of `duration` has passed.

    ``instant_at_fraction(start, d, c, 1.0) == due_at(start, d, c)``; used to date an
    at-risk transition (the moment 75% was used, not the moment someone looked).
    """
    _require_aware(start, "start")
    if not duration.uses_calendar:
        return _after(start, _scaled(_plain_span(duration), fraction))
    compiled = _compiled_for(duration, calendar)
    return compiled.add(start, _scaled(_work_span(duration, compiled), fraction))


__all__ = [
    "LATEST", "WorkCalendar", "business_elapsed", "compile_calendar", "due_at", "elapsed_fraction",
    "instant_at_fraction",
]
