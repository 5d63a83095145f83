"""Instants as HubSpot shows them: epoch milliseconds inside, ISO-8601 UTC with ms outside.

The store keeps integer epoch milliseconds (cheap to compare and index); responses carry
``2024-05-01T12:00:00.123Z``. Inputs may be either epoch-ms strings or ISO text.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
DAY_MS = 86_400_000
_EPOCH_MS = re.compile(r"-?\d{1,15}")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def to_ms(at: datetime) -> int:
    """Exact integer milliseconds (float timestamps can land one ms short)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at - EPOCH) // ONE_MS


# The instants a datetime holds (years 1 to 9999 in UTC); HubSpot refuses others.
_FIRST_MS = to_ms(datetime(1, 1, 1, tzinfo=UTC))
_LAST_MS = to_ms(datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC))


@lru_cache(maxsize=65_536)
def iso_ms(ms: int) -> str:
    at = EPOCH + timedelta(milliseconds=ms)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


@lru_cache(maxsize=65_536)
def parse_instant_ms(text: str) -> int | None:
    """Epoch ms digits, an ISO date-time (naive means UTC) or a bare date; None if neither."""
    text = text.strip()
    if _EPOCH_MS.fullmatch(text):
        ms = int(text)
        return ms if _FIRST_MS <= ms <= _LAST_MS else None  # HubSpot: INVALID_DATE
    try:
        parsed = datetime.fromisoformat(text)
        ms = to_ms(parsed)
    except (ValueError, OverflowError):
        return None
    return ms if _FIRST_MS <= ms <= _LAST_MS else None


def date_text(ms: int) -> str:
    return (EPOCH + timedelta(milliseconds=ms)).date().isoformat()


@lru_cache(maxsize=65_536)
def parse_date_ms(text: str) -> int | None:
    """A date property's value ('YYYY-MM-DD' or epoch ms) as the ms of its UTC midnight."""
    text = text.strip()
    if _DATE_ONLY.fullmatch(text):
        try:
            return to_ms(datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC))
        except ValueError:
            return None
    return parse_instant_ms(text)


def time_of_day(ms: int) -> str:
    """'12:0:0.123' - how HubSpot names the time of a date value that is not midnight."""
    at = EPOCH + timedelta(milliseconds=ms)
    return f"{at.hour}:{at.minute}:{at.second}.{at.microsecond // 1000}"
