"""Spending API calls politely: a daily budget share and short-window rate pacing.

``BudgetGuard`` keeps the daemon inside a share (default 20%) of the system's daily
allowance. It counts our own calls over a rolling 24 hours and, once they pass
``slow_down_at`` of the share, spaces calls so the rest of the share lasts the rest of
the window; at the share it waits for the window to free calls. It never fails: the
daemon gets slower and says so (a log line and ``ApiUsage.throttled_seconds``), because
an integration that errors out at its limit gets switched off by the admin.

The count lives in a ``BudgetLedger``. ``MemoryLedger`` counts this process's calls;
the daemon injects a ledger kept in its database, one per org or portal, so every
pipeline and replica spending one allowance shares one budget. A shared ledger is
reached in batches: the guard tells it its calls every ``flush_calls`` calls or
``flush_seconds`` seconds while the share is far off, and before every call once past
``slow_down_at`` (calls are seconds apart there). So k guards on one org overspend the
share by at most k * ``flush_calls`` calls, and only when ``slow_down_at`` is so close
to 1 that one batch jumps from below it to past the share.

A wait ends early when the guard's ``stop`` says so (SIGTERM in the daemon): the call
is not made and ``StopRequested`` is raised, so the cycle stops as at a batch boundary.

``RatePacer`` keeps under a burst limit (HubSpot: 190 calls per 10 s, 5 searches per s)
so we wait a little before the server makes us wait a lot with 429s.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from connectors.errors import StopRequested

log = structlog.get_logger("connectors.budget")

DAY = 86_400.0
STOP_POLL_SECONDS = 0.5  # how often a budget wait looks at its stop flag


@dataclass(frozen=True, slots=True)
class BudgetSettings:
    """The share of a system's daily API allowance the daemon may use."""

    share: float = 0.20
    """Fraction of the daily allowance (0-1] handoff-sync may spend."""
    slow_down_at: float = 0.80
    """Fraction of the share after which calls are spaced out."""
    daily_limit: int | None = None
    """The allowance when the server does not report it (it usually does)."""
    flush_calls: int = 1
    """Calls a guard counts before telling its ledger (1: every call; a shared ledger in
    the database takes batches)."""
    flush_seconds: float = 0.0
    """Longest time a guard keeps calls to itself before telling its ledger."""


class BudgetLedger(Protocol):
    """Where one budget's calls are counted over the rolling day."""

    def spend(self, calls: int) -> tuple[int, float | None]:
        """Count ``calls`` made just now (0: only look); return the calls in the rolling
        day, these included, and the age in seconds of the oldest (None: no calls)."""
        ...

    def age_of(self, nth: int) -> float | None:
        """Age in seconds of the ``nth`` oldest call (0-based) in the rolling day."""
        ...


LedgerFactory = Callable[[str], BudgetLedger]
"""The ledger of one org's budget, by its key (``salesforce https://acme.my.salesforce.com``)."""


class MemoryLedger:
    """This process's calls only (tests, tools, a connector without a store)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._calls: deque[tuple[float, int]] = deque()  # (when, calls), oldest first
        self._total = 0

    def spend(self, calls: int) -> tuple[int, float | None]:
        now = self._clock()
        while self._calls and self._calls[0][0] <= now - DAY:
            self._total -= self._calls.popleft()[1]
        if calls > 0:
            self._calls.append((now, calls))
            self._total += calls
        return self._total, (now - self._calls[0][0]) if self._calls else None

    def age_of(self, nth: int) -> float | None:
        now = self._clock()
        seen = 0
        for at, calls in self._calls:
            seen += calls
            if seen > nth:
                return now - at
        return None


class BudgetGuard:
    """Counts our calls in a rolling day and waits, never fails, near the share."""

    def __init__(self, settings: BudgetSettings | None = None, *, system: str = "",
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 ledger: BudgetLedger | None = None,
                 stop: Callable[[], bool] | None = None) -> None:
        self.settings = settings or BudgetSettings()
        self.system = system
        self._sleep = sleep
        self._clock = clock
        self._ledger: BudgetLedger = ledger or MemoryLedger(clock)
        self._stop = stop
        self.daily_limit: int | None = self.settings.daily_limit
        self.waited = 0.0
        self._warned = False
        self._pending = 0  # calls made but not yet told to the ledger
        self._used = 0  # the ledger's count when last asked
        self._oldest_at: float | None = None  # when (our clock) the oldest counted call was
        self._synced_at: float | None = None

    def share(self, ledger: BudgetLedger) -> None:
        """Count from now on in ``ledger`` (the org's shared one, once the connector knows
        which org it talks to); the calls counted so far move along."""
        carried = self.used()
        self._ledger = ledger
        self._pending, self._synced_at = carried, None

    def observe_limit(self, daily_limit: int | None) -> None:
        """The allowance the server reported (Sforce-Limit-Info, X-HubSpot-RateLimit-Daily)."""
        if daily_limit:
            self.daily_limit = daily_limit

    @property
    def allowance(self) -> int | None:
        if not self.daily_limit:
            return None
        return max(1, int(self.daily_limit * self.settings.share))

    def used(self) -> int:
        """Calls in the rolling day, as the ledger counts them (ours told first)."""
        self._sync(self._clock())
        return self._used

    def before_call(self) -> float:
        """Wait as the budget requires, record the call, return the seconds waited.

        Raises ``StopRequested`` when a stop is asked for during the wait."""
        now = self._clock()
        if self._due(now):
            self._sync(now)
        delay = self._delay(now)
        if delay > 0:
            if not self._warned:
                log.warning("api budget nearly spent: slowing down", system=self.system,
                            used=self._used + self._pending, allowance=self.allowance,
                            share=self.settings.share, wait_s=round(delay, 2))
                self._warned = True
            self._wait(delay)
            now = self._clock()
            self._sync(now)  # others may have spent meanwhile; the next call sees it
        else:
            self._warned = False
        self._pending += 1
        if self._pending >= self.settings.flush_calls:
            self._sync(now)
        return delay

    def flush(self) -> None:
        """Tell the ledger the calls not yet told (at the end of a cycle, on close)."""
        if self._pending:
            self._sync(self._clock())

    def close(self) -> None:
        """The last flush, when the connector closes; a ledger failing then is logged, not
        raised, so the close goes on (the connection pools, the other connectors, the
        lease, the cycle's result). What is lost is the calls not yet told: fewer than
        ``flush_calls`` (unless the ledger had already been failing), counted low in the
        shared budget until they would have left its rolling day."""
        try:
            self.flush()
        except Exception as exc:  # the ledger is the caller's (a database): any failure
            log.warning("api budget not flushed on close", system=self.system,
                        calls_lost=self._pending, error=type(exc).__name__,
                        message=str(exc).strip()[:300])

    def _due(self, now: float) -> bool:
        """Ask the ledger before deciding? Always near the share, else per batch."""
        if self._synced_at is None or now - self._synced_at >= self.settings.flush_seconds:
            return True
        allowance = self.allowance
        return allowance is not None and \
            self._used + self._pending >= int(allowance * self.settings.slow_down_at)

    def _sync(self, now: float) -> None:
        self._used, oldest_age = self._ledger.spend(self._pending)
        self._pending = 0
        self._oldest_at = None if oldest_age is None else now - oldest_age
        self._synced_at = now

    def _wait(self, seconds: float) -> None:
        if self._stop is None:
            self._sleep(seconds)
            self.waited += seconds
            return
        left = seconds
        while left > 0:
            if self._stop():
                raise StopRequested(f"{self.system}: stopped while waiting for the API "
                                    "budget; the call was not made")
            step = min(left, STOP_POLL_SECONDS)
            self._sleep(step)
            self.waited += step
            left -= step

    def _delay(self, now: float) -> float:
        allowance = self.allowance
        if allowance is None:
            return 0.0
        used = self._used + self._pending
        if used >= allowance:
            age = self._ledger.age_of(used - allowance)
            return 0.0 if age is None else max(0.0, DAY - age)
        soft = int(allowance * self.settings.slow_down_at)
        if used < soft or self._oldest_at is None:
            return 0.0
        # Spread what is left of the share over what is left of the oldest call's day.
        left = allowance - used
        window_left = self._oldest_at + DAY - now
        return max(0.0, window_left / left)


class RatePacer:
    """At most ``limit`` calls in any ``interval`` seconds (a sliding log)."""

    def __init__(self, limit: int, interval: float, *,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or interval <= 0:
            raise ValueError("a rate needs limit >= 1 and interval > 0")
        self.limit = limit
        self.interval = interval
        self._sleep = sleep
        self._clock = clock
        self._calls: deque[float] = deque()

    def acquire(self) -> float:
        """Wait until one more call fits the window, record it, return seconds waited."""
        waited = 0.0
        now = self._clock()
        while True:
            while self._calls and self._calls[0] <= now - self.interval:
                self._calls.popleft()
            if len(self._calls) < self.limit:
                break
            delay = self._calls[0] + self.interval - now
            self._sleep(delay)
            waited += delay
            now = self._clock()
        self._calls.append(now)
        return waited
