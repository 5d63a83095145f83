"""CRM search: find, order and page the matches of a query ``search_query`` parsed,
with HubSpot's order (hs_object_id by default, one sort property, unset values last).

Speed comes from two ordered sources. Filters on hs_lastmodifieddate (and, at one pinned
timestamp, on hs_object_id) become a key range over the table's (hs_lastmodifieddate, id)
index; filters on hs_object_id become a range over its sorted ids. Whatever a range
cannot express stays a per-record predicate. When no predicate is left, ``total`` is
arithmetic on index positions and a page touches only its own records, which keeps the
connector's cursor query (``hs_lastmodifieddate GTE x``, ascending) fast at any size.

Leftover predicates every group shares (the connector's scope, ``pipeline EQ x``) are
answered by a filtered view of the (hs_lastmodifieddate, id) index that the table keeps
current on every write (``handoff_sync.sandbox.hubspot.views``), so the scoped cursor query
is positions too and a full pull costs the sandbox O(N), not O(N^2). Anything else is
tested record by record once per query and kept ranked until a record changes.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from handoff_sync.sandbox.hubspot.index import SortedKeys
from handoff_sync.sandbox.hubspot.properties import PropertyDef
from handoff_sync.sandbox.hubspot.search_query import (
    MAX_RESULTS,
    RANGE_OPERATORS,
    Filter,
    Predicate,
    SearchQuery,
    comparable,
    compile_filter,
    record_value,
    text_predicate,
)
from handoff_sync.sandbox.hubspot.store import HsObject, ObjectTable

LOWEST, HIGHEST = -(2**63), 2**63
# Prefer the ordered source unless the other one has this many times fewer candidates.
ORDERED_SOURCE_SLACK = 4


@dataclass
class SearchPage:
    total: int
    objects: list[HsObject]
    next_offset: int | None


# --- planning --------------------------------------------------------------------------
Spec = Hashable  # what a predicate tests, comparable between requests (a Filter, a text)


@dataclass
class GroupPlan:
    """One filter group as ranges over the two indexes plus leftover predicates (each
    with the spec it was compiled from, so a filtered view can be found for them)."""

    ts_low: int = LOWEST
    ts_high: int = HIGHEST
    id_low: int = LOWEST
    id_high: int = HIGHEST
    ts_filters: list[Predicate] = field(default_factory=list)
    id_filters: list[Predicate] = field(default_factory=list)
    others: list[Predicate] = field(default_factory=list)
    id_specs: list[Spec] = field(default_factory=list)
    other_specs: list[Spec] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.ts_low > self.ts_high or self.id_low > self.id_high

    @property
    def one_instant(self) -> bool:
        return self.ts_low == self.ts_high

    def key_range(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """Range over (hs_lastmodifieddate, id) keys; ids narrow it only at one instant."""
        if self.one_instant:
            return (self.ts_low, self.id_low), (self.ts_high, self.id_high)
        return (self.ts_low, LOWEST), (self.ts_high, HIGHEST)

    def leftovers(self, source: str) -> list[Predicate]:
        """Predicates the chosen index range does not already enforce."""
        if source == "ids":
            return [*self.ts_filters, *self.others]
        if self.one_instant:
            return self.others
        return [*self.id_filters, *self.others]

    def residual(self) -> frozenset[Spec]:
        """What ``leftovers("modified")`` tests, as specs."""
        if self.one_instant:
            return frozenset(self.other_specs)
        return frozenset([*self.id_specs, *self.other_specs])


def plan_group(filters: tuple[Filter, ...], extra: list[tuple[Spec, Predicate]]) -> GroupPlan:
    plan = GroupPlan(others=[p for _, p in extra], other_specs=[spec for spec, _ in extra])
    for f in filters:
        predicate = compile_filter(f)
        name = f.property.name
        if f.operator in RANGE_OPERATORS and name == "hs_lastmodifieddate":
            low, high = _bounds(f)
            plan.ts_low, plan.ts_high = max(plan.ts_low, low), min(plan.ts_high, high)
            plan.ts_filters.append(predicate)
        elif f.operator in RANGE_OPERATORS and name == "hs_object_id":
            low, high = _bounds(f)
            plan.id_low, plan.id_high = max(plan.id_low, low), min(plan.id_high, high)
            plan.id_filters.append(predicate)
            plan.id_specs.append(f)
        else:
            plan.others.append(predicate)
            plan.other_specs.append(f)
    return plan


def _bounds(f: Filter) -> tuple[int, int]:
    """The closed integer interval a range operator admits."""
    value = comparable(f.property, f.value or "0")
    high = comparable(f.property, f.high_value) if f.high_value is not None else value
    low_ceiling, high_floor = math.ceil(value), math.floor(high)
    return {
        "EQ": (low_ceiling, math.floor(value)),
        "BETWEEN": (low_ceiling, high_floor),
        "GT": (math.floor(value) + 1, HIGHEST),
        "GTE": (low_ceiling, HIGHEST),
        "LT": (LOWEST, math.ceil(value) - 1),
        "LTE": (LOWEST, math.floor(value)),
    }[f.operator]


# --- execution -------------------------------------------------------------------------
@dataclass
class Source:
    """Candidate records in index order: merged position intervals over one index.

    ``keys`` is the (hs_lastmodifieddate, id) index a "modified" source reads: the
    table's, or a filtered view that already holds only records passing every group's
    leftovers (``filtered``)."""

    name: str  # "modified" or "ids"
    intervals: list[tuple[int, int]]
    plans: list[GroupPlan]
    keys: SortedKeys | None = None
    filtered: bool = False

    @property
    def size(self) -> int:
        return sum(stop - start for start, stop in self.intervals)

    @property
    def exact(self) -> bool:
        """Every candidate matches: no group leaves a predicate to check."""
        return self.filtered or all(not plan.leftovers(self.name) for plan in self.plans)


def run(query: SearchQuery, table: ObjectTable, object_type: str,
        visible_until_ms: int | None) -> SearchPage:
    extra: list[tuple[Spec, Predicate]] = []
    if query.text:
        extra.append((("query", object_type, query.text),
                      text_predicate(object_type, query.text)))
    plans = [p for p in (plan_group(g, extra) for g in query.groups) if not p.empty]
    if visible_until_ms is not None:  # index lag: fresh writes are not searchable yet
        def visible(obj: HsObject) -> bool:
            return obj.updated_at <= visible_until_ms

        for plan in plans:
            plan.ts_high = min(plan.ts_high, visible_until_ms)
            plan.ts_filters.append(visible)
    plans = [plan for plan in plans if not plan.empty]
    by_modified, by_id = _modified_source(table, plans), _id_source(table, plans)
    sort = query.sort.name if query.sort else None
    in_order = []  # the sources whose index order is the requested order
    if sort == "hs_lastmodifieddate" or (sort in (None, "hs_object_id") and _one_instant(plans)):
        in_order.append(by_modified)  # at one instant, (instant, id) order is id order
    if sort in (None, "hs_object_id"):
        in_order.append(by_id)
    smaller = min(by_modified, by_id, key=lambda s: (s.size, not s.exact))
    ordered = min(in_order, key=lambda s: (s.size, not s.exact), default=None)
    if ordered is not None and ordered.size <= ORDERED_SOURCE_SLACK * smaller.size + 1_000:
        if ordered.exact:
            return _page_in_order(ordered, table, query)
        return _ranked_page(ordered, table, query, visible_until_ms, in_order=True)
    return _ranked_page(smaller, table, query, visible_until_ms, in_order=False)


def _one_instant(plans: list[GroupPlan]) -> bool:
    """Every group sits at the same single instant (an empty search has no order)."""
    return bool(plans) and plans[0].one_instant and \
        len({(plan.ts_low, plan.ts_high) for plan in plans}) == 1


def _modified_source(table: ObjectTable, plans: list[GroupPlan]) -> Source:
    """Over the table's index, or over the filtered view of the leftovers when every
    group leaves the same ones (the connector's scoped cursor query does)."""
    index, filtered = table.by_modified, False
    residuals = {plan.residual() for plan in plans}
    if len(residuals) == 1 and (residual := residuals.pop()):
        view = table.views.get(residual, _all_of(plans[0].leftovers("modified")),
                               table.live_items)
        if view is not None:
            index, filtered = view, True
    spans = []
    for plan in plans:
        low, high = plan.key_range()
        spans.append((index.bisect_left(low), index.bisect_right(high)))
    return Source("modified", _merge(spans), plans, index, filtered)


def _id_source(table: ObjectTable, plans: list[GroupPlan]) -> Source:
    spans = [(bisect_left(table.ids, p.id_low), bisect_right(table.ids, p.id_high))
             for p in plans]
    return Source("ids", _merge(spans), plans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def _candidates(source: Source, table: ObjectTable, *, reverse: bool,
                skip: int = 0) -> Iterator[HsObject]:
    """The source's live records in index order (or reversed); ``skip`` passes over that
    many first ones by position arithmetic when the source is exact (cheaply: a page deep
    into a query does not walk the pages before it), else by reading them."""
    objects = table.objects
    if source.name == "modified":
        assert source.keys is not None
        keys = source.keys
        for start, stop in _after_skip(source.intervals, skip, reverse=reverse):
            for _, object_id in keys.iter_range(start, stop, reverse=reverse):
                yield objects[object_id]
        return
    ids = table.ids
    for start, stop in _after_skip(source.intervals, skip, reverse=reverse,
                                   dead=_archived_counter(table)):
        for position in range(stop - 1, start - 1, -1) if reverse else range(start, stop):
            obj = objects[ids[position]]
            if not obj.archived:
                yield obj


def _archived_counter(table: ObjectTable) -> Callable[[int, int], int]:
    """Archived records among ``table.ids[start:stop]`` (the id list holds them too)."""
    ids, archived = table.ids, table.archived_ids

    def count(start: int, stop: int) -> int:
        if start >= stop:
            return 0
        return bisect_right(archived, ids[stop - 1]) - bisect_left(archived, ids[start])

    return count


def _after_skip(intervals: list[tuple[int, int]], skip: int, *, reverse: bool,
                dead: Callable[[int, int], int] | None = None) -> Iterator[tuple[int, int]]:
    """The intervals (in reading order) less the first ``skip`` live positions; ``dead``
    counts the positions of a span that hold no live record."""
    def live(start: int, stop: int) -> int:
        return stop - start - (dead(start, stop) if dead is not None else 0)

    for start, stop in reversed(intervals) if reverse else intervals:
        if skip:
            here = live(start, stop)
            if skip >= here:
                skip -= here
                continue
            low, high = start, stop
            if reverse:  # the highest cut leaving ``skip`` live positions above it
                while low < high:
                    middle = (low + high + 1) // 2
                    if live(middle, stop) >= skip:
                        low = middle
                    else:
                        high = middle - 1
                stop = low
            else:  # the lowest cut leaving ``skip`` live positions below it
                while low < high:
                    middle = (low + high) // 2
                    if live(start, middle) >= skip:
                        high = middle
                    else:
                        low = middle + 1
                start = low
            skip = 0
        yield start, stop


def _matcher(source: Source) -> Predicate:
    """A record matches when some group's range holds it and its leftovers pass."""
    if source.filtered:
        return lambda obj: True
    if len(source.plans) == 1:  # every candidate comes from this group's own range
        return _all_of(source.plans[0].leftovers(source.name))
    checks = [(_in_range(source.name, plan), plan.leftovers(source.name))
              for plan in source.plans]

    def matches(obj: HsObject) -> bool:
        return any(in_range(obj) and all(p(obj) for p in rest) for in_range, rest in checks)

    return matches


def _all_of(predicates: list[Predicate]) -> Predicate:
    if not predicates:
        return lambda obj: True
    if len(predicates) == 1:
        return predicates[0]
    return lambda obj: all(p(obj) for p in predicates)


def _in_range(source: str, plan: GroupPlan) -> Predicate:
    if source == "ids":
        return lambda obj: plan.id_low <= obj.id <= plan.id_high
    low, high = plan.key_range()
    return lambda obj: low <= (obj.updated_at, obj.id) <= high


def _page_in_order(source: Source, table: ObjectTable, query: SearchQuery) -> SearchPage:
    """An exact source: the page and the total are positions."""
    end = query.offset + query.limit
    total = _exact_total(source, table)
    candidates = _candidates(source, table, reverse=query.descending, skip=query.offset)
    objects = list(islice(candidates, query.limit))
    return SearchPage(total, objects, end if end < total else None)


@dataclass(frozen=True)
class Ranking:
    """A query's matches: how many, and the ids of the first ``MAX_RESULTS`` in order."""

    total: int
    ids: list[int]


def _ranked_page(source: Source, table: ObjectTable, query: SearchQuery,
                 visible_until_ms: int | None, *, in_order: bool) -> SearchPage:
    """A page of a query whose matches must be tested one by one: ranked once, then kept
    until a record changes, so the query's later pages cost only their own records."""
    key = (query.groups, query.sort, query.descending, query.text, visible_until_ms)
    ranking = table.views.ranked(key)
    if not isinstance(ranking, Ranking):
        ranking = _rank_in_order(source, table, query) if in_order else \
            _rank_sorted(source, table, query)
        table.views.keep_ranked(key, ranking)
    end = query.offset + query.limit
    objects = [table.objects[object_id] for object_id in ranking.ids[query.offset:end]]
    return SearchPage(ranking.total, objects, end if end < ranking.total else None)


def _rank_in_order(source: Source, table: ObjectTable, query: SearchQuery) -> Ranking:
    matches = _matcher(source)
    total, ids = 0, []
    for obj in _candidates(source, table, reverse=query.descending):
        if matches(obj):
            if total < MAX_RESULTS:
                ids.append(obj.id)
            total += 1
    return Ranking(total, ids)


def _rank_sorted(source: Source, table: ObjectTable, query: SearchQuery) -> Ranking:
    matches = _matcher(source)
    found = [obj for obj in _candidates(source, table, reverse=False) if matches(obj)]
    ordered = _first_sorted(found, query.sort, MAX_RESULTS, descending=query.descending)
    return Ranking(len(found), [obj.id for obj in ordered])


def _exact_total(source: Source, table: ObjectTable) -> int:
    """Candidates counted from positions; the id list also holds archived records."""
    if source.name == "modified":
        return source.size
    dead = _archived_counter(table)
    return sum(stop - start - dead(start, stop) for start, stop in source.intervals)


def _first_sorted(objects: list[HsObject], prop: PropertyDef | None, count: int, *,
                  descending: bool) -> list[HsObject]:
    """The first ``count`` records ordered by the property, ties by id in the same
    direction, unset values always last. Only a page window is ever needed (at most
    10,000), so a bounded heap selection beats sorting every match."""
    pick = heapq.nlargest if descending else heapq.nsmallest
    if prop is None:
        return pick(count, objects, key=lambda obj: obj.id)
    read = record_value(prop)
    present: list[tuple[Any, int, HsObject]] = []
    missing: list[HsObject] = []
    for obj in objects:
        value = read(obj)
        if value is None:
            missing.append(obj)
        else:
            present.append((value, obj.id, obj))
    first = [obj for _, _, obj in pick(count, present, key=lambda item: item[:2])]
    if len(first) < count:
        first += pick(count - len(first), missing, key=lambda obj: obj.id)
    return first
