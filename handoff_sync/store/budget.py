"""The API budget shared by every pipeline and replica that spends one org's allowance.

One row per (org key, minute) holds the calls spent in that minute; a spend adds to it
with INSERT ... ON CONFLICT DO UPDATE SET calls = calls + n, which PostgreSQL and SQLite
both apply atomically, so concurrent spenders never lose a call. The rolling day is the
sum of the minutes that end within the last 24 hours. A call is dated to the end of its
minute, so it leaves the window up to a minute late: the budget errs on the side of
waiting, never of overspending. Rows older than two days are deleted as spends go by.

``StoreLedger`` is the connectors' ``BudgetLedger`` over these functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from handoff_sync.store.bulk import dialect_insert
from handoff_sync.store.database import read_transaction, reason, write_transaction
from handoff_sync.store.schema import ApiBudget, table
from handoff_sync.store.types import StoreError

_TABLE = table(ApiBudget)
MINUTE = 60
DAY_MINUTES = 1440
KEEP_MINUTES = 2 * DAY_MINUTES


def spend(engine: Engine, key: str, calls: int, now: float) -> tuple[int, float | None]:
    """Add ``calls`` to the minute of ``now`` (epoch seconds); return the calls of the
    rolling day and the age in seconds of the oldest (None: none)."""
    minute = int(now // MINUTE)
    # Only looking takes no write lock (SQLite's BEGIN IMMEDIATE would queue behind a
    # cycle recording its results).
    begin = write_transaction if calls > 0 else read_transaction
    with begin(engine) as connection:
        if calls > 0:
            insert = dialect_insert(connection, _TABLE).values(key=key, minute=minute,
                                                               calls=calls)
            connection.execute(insert.on_conflict_do_update(
                index_elements=["key", "minute"],
                set_={"calls": _TABLE.c.calls + insert.excluded.calls}))
            connection.execute(delete(_TABLE).where(_TABLE.c.key == key,
                                                    _TABLE.c.minute < minute - KEEP_MINUTES))
        row = connection.execute(
            select(func.coalesce(func.sum(_TABLE.c.calls), 0), func.min(_TABLE.c.minute))
            .where(_TABLE.c.key == key, _TABLE.c.minute > minute - DAY_MINUTES)).one()
    used, oldest = int(row[0]), row[1]
    return used, None if oldest is None else _age(int(oldest), now)


def age_of(engine: Engine, key: str, nth: int, now: float) -> float | None:
    """Age in seconds of the ``nth`` oldest call (0-based) of the rolling day."""
    minute = int(now // MINUTE)
    with read_transaction(engine) as connection:
        rows = connection.execute(
            select(_TABLE.c.minute, _TABLE.c.calls)
            .where(_TABLE.c.key == key, _TABLE.c.minute > minute - DAY_MINUTES)
            .order_by(_TABLE.c.minute)).all()
    seen = 0
    for row in rows:
        seen += int(row.calls)
        if seen > nth:
            return _age(int(row.minute), now)
    return None


def _age(minute: int, now: float) -> float:
    return max(0.0, now - (minute + 1) * MINUTE)  # dated to the minute's end


class StoreLedger:
    """One org's budget in the store (``connectors.budget.BudgetLedger``)."""

    def __init__(self, engine: Engine, key: str, *, url: object = "the database",
                 clock: Callable[[], float] = time.time) -> None:
        self.key = key
        self._engine = engine
        self._url = url  # password-free, for messages
        self._clock = clock

    def spend(self, calls: int) -> tuple[int, float | None]:
        try:
            return spend(self._engine, self.key, calls, self._clock())
        except SQLAlchemyError as exc:
            raise StoreError(f"counting API calls in the shared budget failed on "
                             f"{self._url}: {reason(exc)}") from exc

    def age_of(self, nth: int) -> float | None:
        try:
            return age_of(self._engine, self.key, nth, self._clock())
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the shared API budget failed on {self._url}: "
                             f"{reason(exc)}") from exc
