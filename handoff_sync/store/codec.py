"""Lossless JSON for the values the store keeps in JSON columns.

Canonical values (``model.Value``) include types JSON has no word for: dates, instants,
decimals and tuples (multi-select lists). They are tagged, so a base snapshot read back
holds exactly what was written (``Decimal("12.50")`` stays a Decimal, a date stays a
date, a tuple stays a tuple), which the three-way merge relies on: a value that changed
type would look changed and be written again every cycle.

    date       {"$date": "2026-11-18"}
    datetime   {"$dt": "2026-11-18T15:30:00+00:00"}
    Decimal    {"$dec": "12.50"}
    tuple      {"$tuple": [...]}
    float      {"$float": "nan"}        only for NaN and infinities
    a mapping whose only key starts with "$"   {"$map": {...}}   (so it is not read as a tag)

Lists and other mappings stay JSON arrays and objects; enums are stored as their value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any

# Values that need no work on the way in or out (the common case, kept cheap: the
# mirror stores every field of every record it has seen).
_PLAIN_IN = frozenset({str, int, bool, type(None)})
_PLAIN_OUT = frozenset({str, int, bool, float, type(None)})


def encode(value: Any) -> Any:
    """``value`` as plain JSON data (dict, list, str, int, float, bool, None)."""
    kind = type(value)
    if kind in _PLAIN_IN:
        return value
    if isinstance(value, Enum):
        return encode(value.value)
    if isinstance(value, (str, int)):  # str/int subclasses that are not enums
        return str(value) if isinstance(value, str) else int(value)
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, tuple):
        return {"$tuple": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, Mapping):
        data = encode_map(value)
        if len(data) == 1 and next(iter(data)).startswith("$"):
            return {"$map": data}
        return data
    raise TypeError(f"cannot store a {kind.__name__} value in a JSON column")


def encode_map(values: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping with text keys (field name -> value) as a JSON object."""
    return {str(key.value if isinstance(key, Enum) else key):
            (value if type(value) in _PLAIN_IN else encode(value))
            for key, value in values.items()}


def decode(data: Any) -> Any:
    """The value ``encode`` was given (tuples, dates, decimals and instants restored)."""
    kind = type(data)
    if kind in _PLAIN_OUT:
        return data
    if kind is list:
        return [decode(item) for item in data]
    if kind is not dict:
        raise TypeError(f"not JSON data: {kind.__name__}")
    if len(data) == 1:
        tag, inner = next(iter(data.items()))
        if tag == "$dt":
            return datetime.fromisoformat(inner)
        if tag == "$date":
            return date.fromisoformat(inner)
        if tag == "$dec":
            return Decimal(inner)
        if tag == "$tuple":
            return tuple(decode(item) for item in inner)
        if tag == "$float":
            return float(inner)
        if tag == "$map":
            return decode_map(inner)
    return decode_map(data)


def decode_map(data: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping ``encode_map`` was given."""
    return {key: (value if type(value) in _PLAIN_OUT else decode(value))
            for key, value in data.items()}


def frozen_map(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """``decode_map`` as a read-only mapping, for the frozen types the store returns."""
    return MappingProxyType(decode_map(data or {}))
