"""Open query locators: the rows a query matched when it was opened, paged by offset,
a few hundred at most and gone after 15 idle minutes, as in Salesforce."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from handoff_sync.sandbox.salesforce.ids import salesforce_id
from handoff_sync.sandbox.salesforce.store import Record


@dataclass
class Cursor:
    """One open query result: the rows matched when it was opened, paged by offset."""

    object_name: str
    fields: tuple[str, ...]
    rows: list[Record]
    batch_size: int
    last_used: float = field(default_factory=time.monotonic)


class CursorRegistry:
    """Open query locators, like Salesforce's: a few hundred at most, 15 minutes idle."""

    MAX_OPEN = 200
    IDLE_SECONDS = 15 * 60

    def __init__(self) -> None:
        self._cursors: dict[str, Cursor] = {}
        self._counter = 0

    def open(self, cursor: Cursor) -> str:
        self._expire()
        self._counter += 1
        locator = salesforce_id("01g", self._counter)
        self._cursors[locator] = cursor
        while len(self._cursors) > self.MAX_OPEN:
            del self._cursors[next(iter(self._cursors))]
        return locator

    def get(self, locator: str) -> Cursor | None:
        self._expire()
        cursor = self._cursors.get(locator)
        if cursor is not None:
            cursor.last_used = time.monotonic()
        return cursor

    def clear(self) -> None:
        self._cursors.clear()

    def _expire(self) -> None:
        cutoff = time.monotonic() - self.IDLE_SECONDS
        for locator in [k for k, c in self._cursors.items() if c.last_used < cutoff]:
            del self._cursors[locator]
