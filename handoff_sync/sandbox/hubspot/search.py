"""CRM search: parse a PublicObjectSearchRequest, then find, order and page the matches.

Semantics follow HubSpot: filter groups are OR'ed, filters inside a group AND'ed; values
compare by the property's type (numbers numerically, dates and date-times as epoch ms
whether given as digits or ISO text, strings and enumerations case-insensitively); the
default order is by hs_object_id; at most 10,000 results per query.

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
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from handoff_sync.sandbox.hubspot.errors import bad_request
from handoff_sync.sandbox.hubspot.index import SortedKeys
from handoff_sync.sandbox.hubspot.properties import PropertyDef, PropertyRegistry
from handoff_sync.sandbox.hubspot.requests import name_list
from handoff_sync.sandbox.hubspot.schema import DEFAULT_PROPERTIES
from handoff_sync.sandbox.hubspot.store import HsObject, ObjectTable
from handoff_sync.sandbox.hubspot.time import parse_date_ms, parse_instant_ms
from handoff_sync.sandbox.hubspot.values import NUMBER, as_text

MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 10, 25
DEFAULT_LIMIT, MAX_LIMIT, MAX_RESULTS = 10, 200, 10_000
RANGE_OPERATORS = frozenset({"EQ", "GT", "GTE", "LT", "LTE", "BETWEEN"})
OPERATORS = RANGE_OPERATORS | {"NEQ", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY",
                               "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
LOWEST, HIGHEST = -(2**63), 2**63
WORD = re.compile(r"[^\W_]+")
# Prefer the ordered source unless the other one has this many times fewer candidates.
ORDERED_SOURCE_SLACK = 4

Predicate = Callable[[HsObject], bool]


@dataclass(frozen=True)
class Filter:
    property: PropertyDef
    operator: str
    value: str | None
    values: tuple[str, ...]
    high_value: str | None


@dataclass(frozen=True)
class SearchQuery:
    groups: tuple[tuple[Filter, ...], ...]
    sort: PropertyDef | None
    descending: bool
    properties: list[str] | None
    text: str | None
    limit: int
    offset: int


@dataclass
class SearchPage:
    total: int
    objects: list[HsObject]
    next_offset: int | None


# --- parsing ---------------------------------------------------------------------------
def parse_query(body: Any, object_type: str, registry: PropertyRegistry) -> SearchQuery:
    """Validate a search body the way HubSpot does (400 for anything it refuses)."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("Invalid input JSON: expected a search request object")
    groups = _parse_groups(body.get("filterGroups"), object_type, registry)
    sort, descending = _parse_sorts(body.get("sorts"), object_type, registry)
    limit = _parse_limit(body.get("limit"))
    offset = _parse_after(body.get("after"))
    if offset + limit > MAX_RESULTS:
        raise bad_request(
            f"The search endpoints return at most {MAX_RESULTS} results for a query; "
            f"after={offset} with limit={limit} asks beyond that. Narrow the filters (e.g. "
            "re-anchor on hs_lastmodifieddate) instead of paging further.",
            context={"after": [str(offset)], "limit": [str(limit)]},
        )
    return SearchQuery(groups, sort, descending, name_list(body.get("properties")),
                       _parse_text(body.get("query")), limit, offset)


def _parse_groups(raw: Any, object_type: str, registry: PropertyRegistry
                  ) -> tuple[tuple[Filter, ...], ...]:
    if raw is None:
        return ((),)
    if not isinstance(raw, list) or not all(isinstance(g, dict) for g in raw):
        raise bad_request("filterGroups: expected a list of {filters: [...]} objects")
    if len(raw) > MAX_GROUPS:
        raise bad_request(f"Too many filter groups: {len(raw)}. A search may have at most "
                          f"{MAX_GROUPS} filter groups.")
    groups = [group.get("filters") or [] for group in raw]
    for index, filters in enumerate(groups):
        if not isinstance(filters, list):
            raise bad_request(f"filterGroups[{index}].filters: expected a list")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise bad_request(f"Too many filters in filterGroups[{index}]: {len(filters)}. A "
                              f"filter group may have at most {MAX_FILTERS_PER_GROUP} filters.")
    total = sum(len(filters) for filters in groups)
    if total > MAX_FILTERS:
        raise bad_request(f"Too many filters: {total}. A search may have at most "
                          f"{MAX_FILTERS} filters across all filter groups.")
    parsed = tuple(tuple(_parse_filter(f, object_type, registry) for f in fs) for fs in groups)
    return parsed or ((),)


def _parse_filter(raw: Any, object_type: str, registry: PropertyRegistry) -> Filter:
    if not isinstance(raw, dict):
        raise bad_request("filters[]: expected {propertyName, operator, value?}")
    operator = str(raw.get("operator", "EQ")).upper()
    if operator not in OPERATORS:
        raise bad_request(f"Unknown filter operator {raw.get('operator')!r}; expected one of "
                          f"{sorted(OPERATORS)}.")
    prop = _property(raw.get("propertyName"), object_type, registry)
    values = raw.get("values") or []
    if not isinstance(values, list):
        raise bad_request(f"filter on {prop.name}: values must be a list")
    found = Filter(prop, operator, _text(raw.get("value")),
                   tuple(v for v in (_text(x) for x in values) if v is not None),
                   _text(raw.get("highValue")))
    _check_operands(found)
    return found


def _text(raw: Any) -> str | None:
    try:
        return as_text(raw)
    except TypeError:
        raise bad_request(f"Filter value {raw!r} must be a string") from None


def _check_operands(f: Filter) -> None:
    name, op = f.property.name, f.operator
    if op in ("IN", "NOT_IN") and not f.values:
        raise bad_request(f"Operator {op} on {name} needs a non-empty 'values' list.")
    if op == "BETWEEN" and (f.value is None or f.high_value is None):
        raise bad_request(f"Operator BETWEEN on {name} needs 'value' and 'highValue'.")
    needs_value = op not in ("IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY")
    if needs_value and f.value is None:
        raise bad_request(f"Operator {op} on {name} needs a 'value'.")
    for text in (f.value, f.high_value, *f.values):
        if text is not None and op not in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            comparable(f.property, text)  # raises for a malformed number or date


def _property(name: Any, object_type: str, registry: PropertyRegistry) -> PropertyDef:
    prop = registry.get(object_type, name) if isinstance(name, str) else None
    if prop is None:
        raise bad_request(f"Property {name!r} does not exist on {object_type}; it cannot be "
                          "used to filter or sort.", context={"propertyName": [str(name)]})
    return prop


def _parse_sorts(raw: Any, object_type: str, registry: PropertyRegistry
                 ) -> tuple[PropertyDef | None, bool]:
    if not raw:
        return None, False
    if not isinstance(raw, list):
        raise bad_request("sorts: expected a list with one sort")
    if len(raw) > 1:
        raise bad_request("Search results can be sorted by one property only.")
    sort = raw[0]
    if isinstance(sort, str):
        descending = sort.startswith("-")
        return _property(sort.lstrip("-"), object_type, registry), descending
    if not isinstance(sort, dict):
        raise bad_request("sorts[0]: expected {propertyName, direction} or a property name")
    direction = str(sort.get("direction", "ASCENDING")).upper()
    if direction not in ("ASCENDING", "DESCENDING"):
        raise bad_request(f"sorts[0].direction: expected ASCENDING or DESCENDING, got "
                          f"{sort.get('direction')!r}")
    return _property(sort.get("propertyName"), object_type, registry), direction == "DESCENDING"


def _parse_limit(raw: Any) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_LIMIT:
        raise bad_request(f"limit must be a whole number from 1 to {MAX_LIMIT}; got {raw!r}.",
                          context={"limit": [str(raw)]})
    return raw


def _parse_after(raw: Any) -> int:
    if raw is None or raw == "":
        return 0
    text = str(raw)
    if isinstance(raw, bool) or not text.isdigit():
        raise bad_request(f"after must be the paging token of a previous page; got {raw!r}.",
                          context={"after": [text]})
    return int(text)




def _parse_text(raw: Any) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return str(raw)


# --- typed comparison ------------------------------------------------------------------
def comparable(prop: PropertyDef, text: str) -> Any:
    """A filter or record value as something that orders the property's way."""
    if prop.type == "number":
        if not NUMBER.fullmatch(text.strip()):
            raise bad_request(f"{text} is not a valid number for {prop.name}.")
        return float(text)
    if prop.type in ("date", "datetime"):
        ms = parse_date_ms(text) if prop.type == "date" else parse_instant_ms(text)
        if ms is None:
            raise bad_request(f"{text} is not a valid {prop.type} for {prop.name}: use epoch "
                              "milliseconds or ISO-8601.")
        return ms
    return text.casefold()


def record_value(prop: PropertyDef) -> Callable[[HsObject], Any]:
    """Read a record's value of ``prop`` in comparable form (None when unset or unreadable).

    One closure per type, because search and sort call this once per candidate record."""
    name = prop.name
    system: dict[str, Callable[[HsObject], Any]] = {
        "hs_object_id": lambda obj: float(obj.id),
        "createdate": lambda obj: obj.created_at,
        "hs_lastmodifieddate": lambda obj: obj.updated_at,
    }
    if name in system:
        return system[name]
    if prop.type == "number":
        return lambda obj: _float(obj.properties.get(name))
    if prop.type in ("date", "datetime"):
        parse = parse_date_ms if prop.type == "date" else parse_instant_ms
        return lambda obj: None if (raw := obj.properties.get(name)) is None else parse(raw)
    return lambda obj: None if (raw := obj.properties.get(name)) is None else raw.casefold()


def _float(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


# --- predicates ------------------------------------------------------------------------
def compile_filter(f: Filter) -> Predicate:
    read = record_value(f.property)
    op = f.operator
    if op in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        name, want = f.property.name, op == "HAS_PROPERTY"
        return lambda obj: (obj.value(name) not in (None, "")) == want
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        contains = _token_matcher(f.property.name, f.value or "")
        return contains if op == "CONTAINS_TOKEN" else (lambda obj: not contains(obj))
    if op in ("EQ", "NEQ", "IN", "NOT_IN"):
        return _membership(f, read)
    return _range_predicate(f, read)


def _membership(f: Filter, read: Callable[[HsObject], Any]) -> Predicate:
    """EQ/IN (and their negations, which also match unset values); a multiple-checkbox
    value matches when the whole value or any one of its options is wanted."""
    wanted = frozenset(comparable(f.property, v) for v in (f.values or (f.value or "",)))
    negate = f.operator in ("NEQ", "NOT_IN")
    if f.property.multi_valued:
        def any_option(obj: HsObject) -> bool:
            value = read(obj)
            hit = value is not None and (value in wanted
                                         or not wanted.isdisjoint(value.split(";")))
            return hit != negate

        return any_option
    if negate:
        return lambda obj: read(obj) not in wanted
    return lambda obj: read(obj) in wanted


def _range_predicate(f: Filter, read: Callable[[HsObject], Any]) -> Predicate:
    low = comparable(f.property, f.value or "")
    if f.operator == "BETWEEN":
        high = comparable(f.property, f.high_value or "")
        return lambda obj: (v := read(obj)) is not None and low <= v <= high
    compare: Callable[[Any, Any], bool] = {
        "GT": lambda v, x: v > x, "GTE": lambda v, x: v >= x,
        "LT": lambda v, x: v < x, "LTE": lambda v, x: v <= x,
    }[f.operator]
    return lambda obj: (v := read(obj)) is not None and compare(v, low)


def _token_matcher(name: str, needle: str) -> Predicate:
    """CONTAINS_TOKEN: whole words, or a '*' wildcard pattern over a word or the value."""
    if "*" in needle:
        pattern = re.compile(".*".join(re.escape(p) for p in needle.split("*")), re.IGNORECASE)

        def wildcard(obj: HsObject) -> bool:
            raw = obj.value(name)
            return raw is not None and (pattern.fullmatch(raw) is not None
                                        or any(pattern.fullmatch(w) for w in raw.split()))

        return wildcard
    wanted = {word.casefold() for word in WORD.findall(needle)}

    def words(obj: HsObject) -> bool:
        raw = obj.value(name)
        return raw is not None and wanted <= {w.casefold() for w in WORD.findall(raw)}

    return words


def text_predicate(object_type: str, text: str) -> Predicate:
    """``query``: every word is the start of a word in one of the default properties."""
    names = [n for n in DEFAULT_PROPERTIES[object_type] if n not in ("hs_object_id",)]
    wanted = [word.casefold() for word in WORD.findall(text)]

    def matches(obj: HsObject) -> bool:
        haystack = [w.casefold() for n in names for w in WORD.findall(obj.value(n) or "")]
        return all(any(h.startswith(w) for h in haystack) for w in wanted)

    return matches


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
