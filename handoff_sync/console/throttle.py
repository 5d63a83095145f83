"""Wrong passwords are slowed down: per (client address, name), each failure doubles the
wait before the answer, and a burst of failures refuses further tries for a while.

The clock and the sleep are given, so tests run the whole policy through the HTTP login
without waiting. The counts live in this process only: a restart forgets them, which
costs an attacker a restart they cannot cause.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

MAX_KEYS = 10_000
"""Clients x names remembered; past it the quiet ones are forgotten first, so a flood of
made-up names cannot grow the process without bound."""


class LoginThrottle:
    """Each failure of (client, name) waits 0.5 s, 1 s, 2 s ... up to ``max_delay``
    before answering; ``burst`` failures within ``window`` seconds refuse further tries
    (even the right password) until the oldest of them is ``window`` seconds old."""

    def __init__(self, *, burst: int = 10, window: float = 900.0, max_delay: float = 8.0,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._burst, self._window, self._max_delay = burst, window, max_delay
        self._clock, self._sleep = clock, sleep

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures.get(key, deque())
        horizon = self._clock() - self._window
        while failures and failures[0] < horizon:
            failures.popleft()
        return failures

    def locked(self, client: str, name: str) -> bool:
        return len(self._recent((client, name.casefold()))) >= self._burst

    def retry_after(self, client: str, name: str) -> int:
        """Seconds until a locked (client, name) may try again."""
        failures = self._recent((client, name.casefold()))
        if len(failures) < self._burst:
            return 0
        return max(1, int(failures[-self._burst] + self._window - self._clock()) + 1)

    def failed(self, client: str, name: str) -> float:
        """Record a failure; the seconds to wait before answering."""
        key = (client, name.casefold())
        failures = self._recent(key)
        failures.append(self._clock())
        self._failures[key] = failures
        if len(self._failures) > MAX_KEYS:
            self._forget_quiet()
        return float(min(0.5 * 2 ** (len(failures) - 1), self._max_delay))

    def succeeded(self, client: str, name: str) -> None:
        self._failures.pop((client, name.casefold()), None)

    async def slow_down(self, client: str, name: str) -> float:
        """Record a failure and wait its delay; the delay."""
        delay = self.failed(client, name)
        await self._sleep(delay)
        return delay

    def _forget_quiet(self) -> None:
        for key in list(self._failures):
            if not self._recent(key):
                del self._failures[key]
        while len(self._failures) > MAX_KEYS:  # all recent: drop the oldest inserted
            del self._failures[next(iter(self._failures))]
