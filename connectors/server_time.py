"""The system's own clock, as its answers show it, and how far it settles a pull's cursor.

An incremental pull re-reads an overlap window behind its cursor because a change may
become readable late: Salesforce stamps SystemModstamp when a transaction starts and shows
the row once it commits; HubSpot's search index trails its writes. The overlap is the
bound both connectors rely on: a change stamped ``m`` is readable by ``m + overlap``.

So a pull whose first query ran at system time ``T0`` has read every change stamped up to
``T0 - overlap``, not only those up to the newest stamp it saw. Storing
``max(newest seen, T0)`` as the cursor lets the next pull start at ``T0 - overlap``: once
the overlap has passed by the system's clock, the daemon's own last write burst is no
longer re-read by every cycle (a quiet cycle then costs one call per object).

``T0`` must come from the system's clock, never ours (an org's clock is not the daemon's):
the HTTP ``Date`` header of the first query's answer. That header is written after the
query ran and is cut to whole seconds, so the lower bound is the header less one second
(its resolution, and any rounding a server may do) less the whole round trip, measured by
us: however long the query took, it cannot have started before that. A further
``CLOCK_MARGIN`` allows for the header coming from another server than the one that stamps
records (a vendor's edge proxy, whose clock may differ a little from its database's); it
costs nothing but that many seconds of the overlap's re-read. Without a usable header
nothing is settled and the cursor moves as before (the newest stamp seen).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from connectors.base import Cursor

DATE_RESOLUTION = timedelta(seconds=1)
CLOCK_MARGIN = timedelta(seconds=5)  # the Date header's server against the record stamps'


def query_started_by(date_header: str | None, round_trip_seconds: float) -> datetime | None:
    """The latest system time the query answered with ``date_header`` surely started by
    (UTC, whole milliseconds, rounded down); None when the header is missing or unreadable.
    """
    if not date_header:
        return None
    try:
        stamped = parsedate_to_datetime(date_header)
    except (TypeError, ValueError, IndexError):
        return None
    if stamped.tzinfo is None:  # RFC 5322 "-0000": a time whose zone is not known
        return None
    start = (stamped.astimezone(UTC) - DATE_RESOLUTION - CLOCK_MARGIN
             - timedelta(seconds=max(round_trip_seconds, 0.0)))
    return start.replace(microsecond=start.microsecond // 1000 * 1000)


def settled(cursor: Cursor | None, started: datetime | None, overlap: timedelta) -> Cursor | None:
    """The cursor a completed pull may store: ``cursor`` (the newest change handed over,
    or the cursor the pull started from), moved up to ``started`` (when its first query
    ran, by the system's clock) when that is later.

    Only with an overlap window: the next pull re-reads ``overlap`` behind the result, which
    covers every change stamped after ``started - overlap``; without one a cursor claims its
    exact (time, id) and must never run ahead of a change that was not read."""
    if started is None or overlap <= timedelta(0):
        return cursor
    floor = Cursor(started)
    if cursor is None:
        return floor
    moment = cursor.modified_at
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return cursor if Cursor(moment, cursor.last_id) >= floor else floor
