"""Spending API calls politely: a daily budget share and short-window rate pacing.

``BudgetGuard`` keeps the daemon inside a share (default 20%) of the system's daily
allowance. It counts our own calls over a rolling 24 hours and, once they pass
``slow_down_at`` of the share, spaces calls so the rest of the share lasts the rest of
the window; at the share it waits for the window to free calls. It never fails: the
daemon gets slower and says so (a log line and ``ApiUsage.throttled_seconds``), because
an integration that errors out at its limit gets switched off by the admin.

``RatePacer`` keeps under a burst limit (HubSpot: 190 calls per 10 s, 5 searches per s)
so we wait a little before the server makes us wait a lot with 429s.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import structlog

log = structlog.get_logger("connectors.budget")

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class BudgetSettings:
    """The share of a system's daily API allowance the daemon may use."""

    share: float = 0.20
    """Fraction of the daily allowance (0-1] handoff-sync may spend."""
    slow_down_at: float = 0.80
    """Fraction of the share after which calls are spaced out."""
    daily_limit: int | None = None
    """The allowance when the server does not report it (it usually does)."""


class BudgetGuard:
    """Counts our calls in a rolling day and waits, never fails, near the share."""

    def __init__(self, settings: BudgetSettings | None = None, *, system: str = "",
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings or BudgetSettings()
        self.system = system
        self._sleep = sleep
        self._clock = clock
        self._calls: deque[float] = deque()
        self.daily_limit: int | None = self.settings.daily_limit
        self.waited = 0.0
        self._warned = False

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
        self._expire(self._clock())
        return len(self._calls)

    def before_call(self) -> float:
        """Wait as the budget requires, record the call, return the seconds waited."""
        now = self._clock()
        self._expire(now)
        delay = self._delay(now)
        if delay > 0:
            if not self._warned:
                log.warning("api budget nearly spent: slowing down", system=self.system,
                            used=len(self._calls), allowance=self.allowance,
                            share=self.settings.share, wait_s=round(delay, 2))
                self._warned = True
            self._sleep(delay)
            self.waited += delay
            now = self._clock()
            self._expire(now)
        else:
            self._warned = False
        self._calls.append(now)
        return delay

    def _delay(self, now: float) -> float:
        allowance = self.allowance
        if allowance is None:
            return 0.0
        used = len(self._calls)
        if used >= allowance:
            return max(0.0, self._calls[used - allowance] + DAY - now)
        soft = int(allowance * self.settings.slow_down_at)
        if used < soft or not self._calls:
            return 0.0
        # Spread what is left of the share over what is left of the oldest call's day.
        left = allowance - used
        window_left = self._calls[0] + DAY - now
        return max(0.0, window_left / left)

    def _expire(self, now: float) -> None:
        while self._calls and self._calls[0] <= now - DAY:
            self._calls.popleft()


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
