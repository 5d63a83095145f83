"""The sandbox's notion of now: real time, frozen, or shifted (for SLA tests)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SandboxClock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen_at: datetime | None = None
        self._offset = timedelta()

    def now(self) -> datetime:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return datetime.now(UTC) + self._offset

    def freeze(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("freeze_at needs a timezone, e.g. 2026-01-05T09:00:00Z")
        with self._lock:
            self._frozen_at = at.astimezone(UTC)

    def shift(self, seconds: float) -> None:
        """Move time forward (or back); a frozen clock stays frozen at the new instant."""
        with self._lock:
            delta = timedelta(seconds=seconds)
            if self._frozen_at is not None:
                self._frozen_at += delta
            else:
                self._offset += delta

    def reset(self) -> None:
        with self._lock:
            self._frozen_at = None
            self._offset = timedelta()

    def describe(self) -> dict[str, object]:
        with self._lock:
            frozen = self._frozen_at
            offset = self._offset.total_seconds()
        return {
            "now": self.now().isoformat(),
            "frozen": frozen is not None,
            "shift_seconds": offset,
        }
