"""Business-hours arithmetic against the real us_business calendar and a day-by-day reference."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff_sync.engine.calendar import (
    LATEST,
    business_elapsed,
    compile_calendar,
    due_at,
    elapsed_fraction,
    instant_at_fraction,
)
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.policy.file_model import BusinessCalendar, Duration
from tests.property_support import examples

ROOT = Path(__file__).resolve().parents[2]
NEW_YORK = ZoneInfo("America/New_York")
US = load_mappings(ROOT / "mappings").policy.calendars["us_business"]


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A New York wall-clock time as the aware UTC instant the engine works with."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


def duration(**spec: float) -> Duration:
    return Duration.model_validate(spec)


@pytest.mark.parametrize(("start", "spec", "expected"), [
    pytest.param(ny(2026, 1, 9, 16), {"business_hours": 2}, ny(2026, 1, 12, 10),
                 id="friday 16:00 + 2h is monday 10:00"),
    pytest.param(ny(2026, 1, 9, 16), {"business_hours": 1}, ny(2026, 1, 9, 17),
                 id="a deadline on the closing time stays on friday"),
    pytest.param(ny(2026, 11, 25, 16), {"business_hours": 2}, ny(2026, 11, 30, 10),
                 id="thanksgiving thursday and friday do not count"),
    pytest.param(ny(2025, 12, 31, 16), {"business_hours": 2}, ny(2026, 1, 2, 10),
                 id="new year's day does not count"),
    pytest.param(ny(2026, 1, 10, 11), {"business_hours": 3}, ny(2026, 1, 12, 12),
                 id="a saturday start counts from monday's opening"),
    pytest.param(ny(2026, 1, 13, 7, 30), {"business_hours": 1}, ny(2026, 1, 13, 10),
                 id="before opening counts from 09:00"),
    pytest.param(ny(2026, 1, 13, 18), {"business_hours": 1}, ny(2026, 1, 14, 10),
                 id="after closing counts from the next morning"),
    pytest.param(ny(2026, 1, 13, 9), {"business_hours": 0.25}, ny(2026, 1, 13, 9, 15),
                 id="fractions of an hour"),
    pytest.param(ny(2026, 2, 4, 10), {"business_days": 5}, ny(2026, 2, 11, 10),
                 id="5 business days from wednesday 10:00 is next wednesday 10:00"),
    pytest.param(ny(2026, 1, 14, 10), {"business_days": 5}, ny(2026, 1, 22, 10),
                 id="a monday holiday pushes 5 business days to thursday"),
    pytest.param(ny(2026, 2, 2, 9), {"business_days": 5}, ny(2026, 2, 6, 17),
                 id="5 business days from monday opening end friday at closing"),
    pytest.param(ny(2026, 2, 2, 9), {"business_days": 1.5}, ny(2026, 2, 3, 13),
                 id="one and a half business days is 12 working hours"),
    pytest.param(ny(2026, 2, 7, 12), {"business_days": 1}, ny(2026, 2, 9, 17),
                 id="business days from a saturday start on monday"),
    pytest.param(ny(2026, 11, 2, 9), {"business_days": 30}, ny(2026, 12, 15, 17),
                 id="30 business days over thanksgiving"),
    pytest.param(ny(2026, 1, 9, 16), {"hours": 48}, ny(2026, 1, 11, 16),
                 id="48 clock hours ignore the weekend"),
    pytest.param(ny(2026, 11, 25, 16), {"days": 2}, ny(2026, 11, 27, 16),
                 id="calendar days ignore holidays"),
])
def test_due_at(start: datetime, spec: dict[str, float], expected: datetime) -> None:
    assert due_at(start, duration(**spec), US) == expected


@pytest.mark.parametrize(("start", "expected"), [
    # Spring forward on Sunday 2026-03-08: Friday 16:00 EST is 21:00 UTC, Monday 10:00 is
    # EDT (UTC-4), so 14:00 UTC; a fixed-offset calculation would say 15:00.
    pytest.param(datetime(2026, 3, 6, 21, tzinfo=UTC), datetime(2026, 3, 9, 14, tzinfo=UTC),
                 id="spring forward"),
    # Fall back on Sunday 2026-11-01: Friday 16:00 EDT is 20:00 UTC, Monday 10:00 EST 15:00.
    pytest.param(datetime(2026, 10, 30, 20, tzinfo=UTC), datetime(2026, 11, 2, 15, tzinfo=UTC),
                 id="fall back"),
])
def test_working_hours_follow_the_local_clock_across_dst(start: datetime,
                                                          expected: datetime) -> None:
    two_hours = duration(business_hours=2)
    assert due_at(start, two_hours, US) == expected
    assert business_elapsed(start, expected, US) == timedelta(hours=2)


def test_clock_hours_are_elapsed_time_across_dst() -> None:
    # 48 hours from Saturday noon EST end at Monday 13:00 EDT: one hour of wall clock went.
    start = ny(2026, 3, 7, 12)
    assert due_at(start, duration(hours=48), US) == ny(2026, 3, 9, 13)
    assert due_at(start, duration(hours=48), None) == start + timedelta(hours=48)


def test_results_are_utc_whatever_zone_the_start_is_given_in() -> None:
    start = datetime(2026, 1, 9, 16, tzinfo=NEW_YORK)
    for spec in ({"hours": 1}, {"business_hours": 2}):
        result = due_at(start, duration(**spec), US)
        assert result.tzinfo is UTC


@pytest.mark.parametrize(("start", "end", "hours"), [
    (ny(2026, 1, 9, 16), ny(2026, 1, 12, 10), 2),
    (ny(2026, 1, 10, 8), ny(2026, 1, 11, 20), 0),  # a whole weekend
    (ny(2026, 11, 25, 9), ny(2026, 11, 30, 9), 8),  # Wednesday only, then Thanksgiving
    (ny(2026, 1, 13, 12), ny(2026, 1, 13, 11), 0),  # end before start
    (ny(2026, 1, 1), ny(2027, 1, 1), 253 * 8),  # 261 weekdays of 2026 less 8 holidays
])
def test_business_elapsed(start: datetime, end: datetime, hours: int) -> None:
    assert business_elapsed(start, end, US) == timedelta(hours=hours)


@pytest.mark.parametrize(("now", "fraction"), [
    (ny(2026, 2, 2, 8), 0.0),  # before the start
    (ny(2026, 2, 2, 9), 0.0),
    (ny(2026, 2, 5, 14, 59), (30 - 1 / 60) / 40),
    (ny(2026, 2, 5, 15), 0.75),  # 30 of 40 working hours: exactly the at-risk line
    (ny(2026, 2, 6, 16), 39 / 40),
    (ny(2026, 2, 7, 12), 1.0),  # the weekend after the deadline adds nothing
    (ny(2026, 2, 9, 10), 41 / 40),
])
def test_elapsed_fraction_of_five_business_days(now: datetime, fraction: float) -> None:
    five_days = duration(business_days=5)
    assert elapsed_fraction(ny(2026, 2, 2, 9), now, five_days, US) == pytest.approx(fraction)
    if fraction in (0.0, 0.75, 1.0):  # boundaries are exact, not approximately right
        assert elapsed_fraction(ny(2026, 2, 2, 9), now, five_days, US) == fraction


def test_elapsed_fraction_of_clock_time_ignores_the_calendar() -> None:
    start = ny(2026, 1, 9, 16)
    assert elapsed_fraction(start, start + timedelta(hours=36), duration(hours=48), US) == 0.75
    assert elapsed_fraction(start, start + timedelta(days=45), duration(days=30), None) == 1.5


def test_instant_at_fraction_dates_the_at_risk_line() -> None:
    five_days = duration(business_days=5)
    assert instant_at_fraction(ny(2026, 2, 2, 9), five_days, US, 0.75) == ny(2026, 2, 5, 15)
    assert instant_at_fraction(ny(2026, 2, 2, 9), five_days, US, 1.0) == \
        due_at(ny(2026, 2, 2, 9), five_days, US)
    assert instant_at_fraction(ny(2026, 1, 9, 16), duration(hours=48), US, 0.5) == \
        ny(2026, 1, 10, 16)


def test_invalid_inputs_are_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="no working days"):
        due_at(ny(2026, 1, 9), duration(business_hours=1),
               BusinessCalendar(timezone="UTC", working_days=[]))
    with pytest.raises(ValueError, match="must end after it starts"):
        due_at(ny(2026, 1, 9), duration(business_hours=1),
               BusinessCalendar(timezone="UTC", day_starts="17:00", day_ends="09:00"))
    with pytest.raises(ValueError, match="needs a business calendar"):
        due_at(ny(2026, 1, 9), duration(business_days=1), None)
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(datetime(2026, 1, 9, 16), duration(business_hours=1), US)


def test_compiled_calendars_are_cached_by_content() -> None:
    copy = BusinessCalendar.model_validate(US.model_dump())
    assert compile_calendar(copy) is compile_calendar(US)
    assert compile_calendar(US).is_working_day(date(2026, 11, 25))
    assert not compile_calendar(US).is_working_day(date(2026, 11, 26))


# A reference that walks day by day, so the closed-form week arithmetic has something
# independent to agree with, on calendars unlike us_business.
def _windows(calendar: BusinessCalendar, first: date, last: date):
    starts, ends = (time.fromisoformat(calendar.day_starts),
                    time.fromisoformat(calendar.day_ends))
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    day = first
    while day <= last:
        if names[day.weekday()] in calendar.working_days and day not in calendar.holidays:
            yield datetime.combine(day, starts), datetime.combine(day, ends)
        day += timedelta(days=1)


def _reference_elapsed(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    zone = ZoneInfo(calendar.timezone)
    local_start = start.astimezone(zone).replace(tzinfo=None)
    local_end = end.astimezone(zone).replace(tzinfo=None)
    total = timedelta(0)
    for opens, closes in _windows(calendar, local_start.date(), local_end.date()):
        total += max(min(closes, local_end) - max(opens, local_start), timedelta(0))
    return total


def _reference_due(calendar: BusinessCalendar, start: datetime, work: timedelta) -> datetime:
    zone = ZoneInfo(calendar.timezone)
    local_start = start.astimezone(zone).replace(tzinfo=None)
    last = local_start.date() + timedelta(days=3660)
    for opens, closes in _windows(calendar, local_start.date(), last):
        begin = max(opens, local_start)
        available = max(closes - begin, timedelta(0))
        if work <= available:
            return (begin + work).replace(tzinfo=zone).astimezone(UTC)
        work -= available
    raise AssertionError("the reference ran out of days")


ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "UTC"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    # Working days kept between 04:00 and 23:00, clear of the night-time DST changes.
    opens = draw(st.integers(4 * 60, 20 * 60))
    closes = draw(st.integers(opens + 15, 23 * 60))
    holidays = draw(st.lists(st.dates(date(2025, 12, 1), date(2027, 6, 30)), max_size=25))
    return BusinessCalendar(
        timezone=draw(st.sampled_from(ZONES)),
        working_days=draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7,
                                   unique=True)),
        day_starts=f"{opens // 60:02d}:{opens % 60:02d}",
        day_ends=f"{closes // 60:02d}:{closes % 60:02d}",
        holidays=holidays,
    )


INSTANTS = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31),
                        timezones=st.just(UTC))


@settings(max_examples=examples(300), deadline=None)
@given(calendar=calendars(), start=INSTANTS, gap=st.timedeltas(timedelta(0), timedelta(days=400)))
def test_elapsed_agrees_with_a_day_by_day_walk(calendar: BusinessCalendar, start: datetime,
                                               gap: timedelta) -> None:
    end = start + gap
    assert business_elapsed(start, end, calendar) == _reference_elapsed(calendar, start, end)


@settings(max_examples=examples(300), deadline=None)
@given(calendar=calendars(), start=INSTANTS, hours=st.floats(0.01, 40))
def test_due_at_agrees_with_a_day_by_day_walk(calendar: BusinessCalendar, start: datetime,
                                              hours: float) -> None:
    due = due_at(start, duration(business_hours=hours), calendar)
    assert due == _reference_due(calendar, start, timedelta(hours=hours))
    assert business_elapsed(start, due, calendar) == timedelta(hours=hours)


@settings(max_examples=examples(300), deadline=None)
@given(calendar=calendars(), start=INSTANTS, days=st.floats(0.01, 60))
def test_business_days_are_whole_working_days(calendar: BusinessCalendar, start: datetime,
                                              days: float) -> None:
    work = compile_calendar(calendar).day_length * days
    assert due_at(start, duration(business_days=days), calendar) == \
        _reference_due(calendar, start, work)


# Issue 14 (6): `business_days: 100000000` failed every cycle with "year 385333 is out of
# range". Validation refuses it now; the arithmetic still clamps instead of raising, so a
# policy that got past validation cannot stop the cycle of every other deal.
@pytest.mark.parametrize("spec", [
    {"business_days": 100_000_000}, {"business_hours": 1e300}, {"days": 100_000_000},
    {"hours": 1e300}, {"hours": float("inf")}, {"business_days": 3_000_000},
])
def test_a_deadline_past_the_year_9999_is_clamped_not_a_crash(spec: dict[str, float]) -> None:
    start = ny(2026, 2, 4, 10)
    long = Duration.model_construct(**spec)
    assert due_at(start, long, US) == LATEST
    assert instant_at_fraction(start, long, US, 0.75) <= LATEST
    assert elapsed_fraction(start, ny(2026, 3, 4, 10), long, US) < 0.001
    assert LATEST.astimezone(ZoneInfo("Pacific/Kiritimati")).year == 9999  # still in range


def test_a_deadline_just_before_the_clamp_is_exact() -> None:
    start = datetime(9999, 12, 1, tzinfo=UTC)
    assert due_at(start, duration(days=28), US) == datetime(9999, 12, 29, tzinfo=UTC)
    assert due_at(start, duration(days=29), US) == LATEST
