"""A fake clock for connectors, budget guards and pacers: time moves only when code
sleeps (or a test moves it), and every sleep is recorded, so nothing in a test waits."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FakeTime:
    """A monotonic clock that only moves when someone sleeps; records every sleep.

    Pass ``sleep=fake.sleep, clock=fake.clock``; move time by hand with ``fake.now += s``.
    """

    now: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now
