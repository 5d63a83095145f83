"""When a failed write may be tried again: exponential backoff with a ceiling."""

from __future__ import annotations

from datetime import timedelta

FIRST_DELAY = timedelta(seconds=60)
MAX_DELAY = timedelta(hours=6)
# A failure no retry can fix (a validation error: a person must correct the data) still
# comes back after the longest delay, in case someone fixed it in the meantime.
NOT_RETRIABLE_DELAY = MAX_DELAY


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure in a row: 1 min, 2, 4 ... up to 6 h."""
    if attempts < 1:
        raise ValueError(f"attempts counts failures, from 1 (got {attempts})")
    # 2**9 minutes is already past the ceiling; capping the exponent avoids huge numbers.
    return min(FIRST_DELAY * 2 ** min(attempts - 1, 16), MAX_DELAY)
