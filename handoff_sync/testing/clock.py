"""One fake clock for everything that waits or reads the time: connectors, retries, budget
guards and ledgers, the file drop's settle check, the daemon and its leases.

Time moves only when code sleeps (or a test moves it), and every sleep is recorded, so
nothing in a test waits. One instant is read in the three forms the code takes a clock in:

    connector = SalesforceConnector(..., sleep=fake.sleep, clock=fake.clock)  # monotonic
    FileDropConnector(settings, clock=fake.time)                              # epoch seconds
    Daemon(config, store, runner, clock=fake)                                 # aware datetime

and all three move together: ``fake.sleep(s)``, ``fake.advance(s)`` or ``fake.now += s``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""Where a FakeClock's calendar starts unless told: a Monday, 09:00 UTC."""


class FakeClock:
    """A clock that only moves when someone sleeps or a test moves it; records every sleep.

    ``now`` is the monotonic reading (``clock()``); ``start`` is the calendar moment it
    corresponds to when the clock is made, so ``fake()`` is ``start`` plus the time moved.
    """

    def __init__(self, start: datetime = START, *, now: float = 1_000.0) -> None:
        if start.tzinfo is None:
            raise ValueError("a FakeClock starts at an aware datetime (e.g. tzinfo=UTC)")
        self.start = start
        self.now = now
        self.sleeps: list[float] = []
        self._origin = now

    @property
    def elapsed(self) -> float:
        """Seconds moved since the clock was made."""
        return self.now - self._origin

    def clock(self) -> float:
        """Monotonic seconds, as ``time.monotonic``."""
        return self.now

    def time(self) -> float:
        """Seconds since the epoch, as ``time.time``."""
        return self.start.timestamp() + self.elapsed

    def __call__(self) -> datetime:
        """The moment as an aware datetime, as ``datetime.now(UTC)``."""
        return self.start + timedelta(seconds=self.elapsed)

    def sleep(self, seconds: float) -> None:
        """Record the sleep and move time on by it, at once."""
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        """Move time on without anyone sleeping (what happened meanwhile elsewhere)."""
        self.now += seconds

    def __repr__(self) -> str:
        return f"FakeClock({self().isoformat()}, now={self.now}, sleeps={len(self.sleeps)})"
