"""What a CRM search asks: a PublicObjectSearchRequest parsed and validated the way
HubSpot does (400 for anything it refuses), its values made comparable by property type,
and each filter compiled to a per-record predicate. ``search`` finds, orders and pages.

Semantics follow HubSpot: filter groups are OR'ed, filters inside a group AND'ed; values
compare by the property's type (numbers numerically, dates and date-times as epoch ms
whether given as digits or ISO text, strings and enumerations case-insensitively); the
default order is by hs_object_id; at most 10,000 results per query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handoff_sync.sandbox.hubspot.errors import bad_request
from handoff_sync.sandbox.hubspot.properties import PropertyDef, PropertyRegistry
from handoff_sync.sandbox.hubspot.requests import name_list
from handoff_sync.sandbox.hubspot.schema import DEFAULT_PROPERTIES
from handoff_sync.sandbox.hubspot.store import HsObject
from handoff_sync.sandbox.hubspot.time import parse_date_ms, parse_instant_ms
from handoff_sync.sandbox.hubspot.values import NUMBER, as_text

MAX_GROUPS, MAX_FILTERS_PER_GROUP, MAX_FILTERS = 5, 10, 25
DEFAULT_LIMIT, MAX_LIMIT, MAX_RESULTS = 10, 200, 10_000
RANGE_OPERATORS = frozenset({"EQ", "GT", "GTE", "LT", "LTE", "BETWEEN"})
OPERATORS = RANGE_OPERATORS | {"NEQ", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY",
                               "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
WORD = re.compile(r"[^\W_]+")

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
