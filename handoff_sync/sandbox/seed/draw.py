"""Deterministic draws from the generator's one random stream, and the small
conversions every part shares (days, instants for both systems, HubSpot numbers)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")

DAY_MS = 86_400_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
ONE_MS = timedelta(milliseconds=1)


def weighted(pairs: Sequence[tuple[T, float]]) -> tuple[tuple[float, T], ...]:
    """A cumulative table for :func:`pick` from (value, weight) pairs."""
    total = sum(weight for _, weight in pairs)
    running = 0.0
    table = []
    for value, weight in pairs:
        running += weight / total
        table.append((running, value))
    return tuple(table)


def pick(table: tuple[tuple[float, T], ...], x: float) -> T:
    for cumulative, value in table:
        if x < cumulative:
            return value
    return table[-1][1]


def one_of(r: Callable[[], float], values: Sequence[T]) -> T:
    # Faster than Random.choice and equally deterministic.
    return values[int(r() * len(values))]


def between(r: Callable[[], float], low: float, high: float) -> float:
    return low + (high - low) * r()


def utc_day(ms: int) -> date:
    """The UTC calendar day of an instant."""
    return _EPOCH_DAY + timedelta(days=ms // DAY_MS)


def day_iso(day: date) -> str:
    return day.isoformat() + "T00:00:00.000Z"


def hubspot_number(value: float) -> str:
    """How HubSpot stores a number: "120000", "120000.5"."""
    return str(int(value)) if value == int(value) else repr(value)


def modified_between(r: Callable[[], float], created_ms: int, since_ms: int, now_ms: int) -> int:
    """A last-modified instant between the later of created/since and now."""
    start = max(created_ms, min(since_ms, now_ms))
    return start + int((now_ms - start) * r())


def email_part(name: str) -> str:
    """Lower-case letters and digits only: "O'Neill" -> "oneill"."""
    return name.lower().translate(_NOT_IN_ADDRESSES)


_NOT_IN_ADDRESSES = str.maketrans("", "", " '-.&,")

Moment = tuple[datetime, str]  # one instant for Salesforce (datetime) and HubSpot (ISO)


def moment(ms: int) -> Moment:
    # fromtimestamp rounds to the microsecond, so a whole-ms float lands exactly on the ms.
    return datetime.fromtimestamp(ms / 1000, UTC), hubspot_instant(ms)


def hubspot_instant(ms: int) -> str:
    """An instant as HubSpot writes it: ISO-8601 UTC with milliseconds and Z."""
    # Assembled from tables because isoformat() dominated large seeds.
    day, rest = divmod(ms, DAY_MS)
    minute, rest = divmod(rest, 60_000)
    second, milli = divmod(rest, 1000)
    return _day_prefix(day) + _HH_MM[minute] + _SS[second] + _MILLIS_Z[milli]


@lru_cache(maxsize=8192)
def _day_prefix(day: int) -> str:
    return (_EPOCH_DAY + timedelta(days=day)).isoformat() + "T"


_HH_MM = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_SS = tuple(f"{s:02d}" for s in range(60))
_MILLIS_Z = tuple(f".{ms:03d}Z" for ms in range(1000))
