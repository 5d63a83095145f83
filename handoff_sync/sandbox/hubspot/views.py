"""Filtered views: the (hs_lastmodifieddate, id) keys of the live records one residual
filter accepts, kept up to date by every write, so paging a filtered search is O(page).

The connector's incremental pull is a time range plus a scope (``pipeline EQ x``). The
range is a slice of the table's (hs_lastmodifieddate, id) index, but the scope is not, so
without a view every page would test every record of the range just to count ``total``:
a full pull would cost the sandbox O(N^2). A view holds exactly the keys whose records
pass the residual filter, so a page and its total are positions again.

Queries no view or index answers in order (a sort on another property, OR'ed groups with
different filters) keep their ranked matches here until any record changes, so their
later pages are O(page) too while nothing is written.

Views are made for residual filters asked for more than once (a paged or re-anchored
query; a one-off lookup never pays for one), at most ``MAX_VIEWS`` per table, least
recently used first out. The table tells its views about every insert, modification and
archive; a bulk load drops them. A filter's verdict depends only on the record, so a view
is as fresh as the index it mirrors.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

from handoff_sync.sandbox.hubspot.index import SortedKeys

MAX_VIEWS = 8
MAX_REMEMBERED = 64  # residual filters seen once, waiting for a second request

Key = tuple[int, int]  # (updated_at ms, id)


@dataclass(slots=True)
class FilteredView:
    accepts: Callable[[Any], bool]
    keys: SortedKeys


class FilteredViews:
    """A table's views, by a hashable description of their residual filter."""

    def __init__(self) -> None:
        self._views: OrderedDict[Hashable, FilteredView] = OrderedDict()
        self._asked: OrderedDict[Hashable, None] = OrderedDict()
        self._ranked: OrderedDict[Hashable, Any] = OrderedDict()
        self.built = 0  # views made since the last clear (tests and benchmarks read it)

    def __len__(self) -> int:
        return len(self._views)

    def clear(self) -> None:
        self._views.clear()
        self._asked.clear()
        self._ranked.clear()
        self.built = 0

    def get(self, signature: Hashable, accepts: Callable[[Any], bool],
            live: Callable[[], Iterable[tuple[Key, Any]]]) -> SortedKeys | None:
        """The view of ``signature``; made (one pass over ``live``, which yields the live
        records in key order) the second time it is asked for; None before that."""
        view = self._views.get(signature)
        if view is not None:
            self._views.move_to_end(signature)
            return view.keys
        if signature not in self._asked:
            self._asked[signature] = None
            while len(self._asked) > MAX_REMEMBERED:
                self._asked.popitem(last=False)
            return None
        del self._asked[signature]
        keys = SortedKeys()
        keys.load_sorted([key for key, obj in live() if accepts(obj)])
        self._views[signature] = FilteredView(accepts, keys)
        self.built += 1
        while len(self._views) > MAX_VIEWS:
            self._views.popitem(last=False)
        return keys

    def ranked(self, query: Hashable) -> Any | None:
        """The ranking kept for ``query`` since the last change, if any."""
        found = self._ranked.get(query)
        if found is not None:
            self._ranked.move_to_end(query)
        return found

    def keep_ranked(self, query: Hashable, ranking: Any) -> None:
        """Keep a query's ranked matches until any record changes."""
        self._ranked[query] = ranking
        while len(self._ranked) > MAX_VIEWS:
            self._ranked.popitem(last=False)

    def added(self, key: Key, obj: Any) -> None:
        """A live record now has ``key`` (created, or modified after ``removed``)."""
        self._ranked.clear()
        for view in self._views.values():
            if view.accepts(obj):
                view.keys.add(key)

    def removed(self, key: Key) -> None:
        """The record that had ``key`` left it (modified or archived)."""
        self._ranked.clear()
        for view in self._views.values():
            view.keys.discard(key)
