"""A sorted collection of unique keys with positional access, for the search index.

Search pages over up to hundreds of thousands of records ordered by
(hs_lastmodifieddate, id); every write moves one key. A single sorted list would shift
megabytes per write, so keys live in blocks of about ``LOAD`` (the layout of
sortedcontainers' SortedList, kept small here because only these operations are needed):
insert/remove touch one block, positions come from per-block offsets rebuilt lazily.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from itertools import accumulate, islice
from typing import Any

LOAD = 1_000


class SortedKeys:
    """Unique, mutually comparable keys (here ``(ms, id)`` tuples) in ascending order."""

    def __init__(self, keys: Iterable[Any] = ()) -> None:
        self._blocks: list[list[Any]] = []
        self._maxes: list[Any] = []
        self._offsets: list[int] | None = None
        self._len = 0
        self.rebuild(keys)

    def rebuild(self, keys: Iterable[Any]) -> None:
        """Replace the contents (bulk loads: one sort instead of many inserts)."""
        self.load_sorted(sorted(set(keys)))

    def load_sorted(self, ordered: list[Any]) -> None:
        """Replace the contents with keys already ascending and unique (not checked)."""
        self._blocks = [ordered[i:i + LOAD] for i in range(0, len(ordered), LOAD)]
        self._maxes = [block[-1] for block in self._blocks]
        self._len = len(ordered)
        self._offsets = None

    def __len__(self) -> int:
        return self._len

    def add(self, key: Any) -> None:
        if not self._blocks:
            self._blocks, self._maxes = [[key]], [key]
        else:
            i = min(bisect_left(self._maxes, key), len(self._blocks) - 1)
            block = self._blocks[i]
            insort(block, key)
            self._maxes[i] = block[-1]
            if len(block) > 2 * LOAD:
                self._blocks[i:i + 1] = [block[:LOAD], block[LOAD:]]
                self._maxes[i:i + 1] = [block[LOAD - 1], block[-1]]
        self._len += 1
        self._offsets = None

    def discard(self, key: Any) -> bool:
        i = bisect_left(self._maxes, key)
        if i == len(self._blocks):
            return False
        block = self._blocks[i]
        j = bisect_left(block, key)
        if j == len(block) or block[j] != key:
            return False
        del block[j]
        if block:
            self._maxes[i] = block[-1]
        else:
            del self._blocks[i], self._maxes[i]
        self._len -= 1
        self._offsets = None
        return True

    def bisect_left(self, key: Any) -> int:
        """Position of the first key >= ``key``."""
        i = bisect_left(self._maxes, key)
        if i == len(self._blocks):
            return self._len
        return self._block_offsets()[i] + bisect_left(self._blocks[i], key)

    def bisect_right(self, key: Any) -> int:
        """Position just past the last key <= ``key``."""
        i = bisect_right(self._maxes, key)
        if i == len(self._blocks):
            return self._len
        return self._block_offsets()[i] + bisect_right(self._blocks[i], key)

    def iter_range(self, start: int, stop: int, *, reverse: bool = False) -> Iterator[Any]:
        """Keys at positions [start, stop), ascending or descending."""
        start, stop = max(start, 0), min(stop, self._len)
        if start >= stop:
            return iter(())
        if reverse:
            return islice(self._iter_down(stop - 1), stop - start)
        return islice(self._iter_up(start), stop - start)

    def _iter_up(self, position: int) -> Iterator[Any]:
        i, j = self._locate(position)
        yield from islice(self._blocks[i], j, None)
        for block in self._blocks[i + 1:]:
            yield from block

    def _iter_down(self, position: int) -> Iterator[Any]:
        i, j = self._locate(position)
        yield from reversed(self._blocks[i][:j + 1])
        for block in reversed(self._blocks[:i]):
            yield from reversed(block)

    def _locate(self, position: int) -> tuple[int, int]:
        offsets = self._block_offsets()
        i = bisect_right(offsets, position) - 1
        return i, position - offsets[i]

    def _block_offsets(self) -> list[int]:
        if self._offsets is None:
            self._offsets = [0, *accumulate(len(block) for block in self._blocks)][:-1]
        return self._offsets
