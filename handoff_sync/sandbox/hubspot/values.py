"""Write-side typing of property values: HubSpot accepts strings and normalises them by type.

A value either becomes the string the portal stores (dates as ``YYYY-MM-DD``, date-times as
ISO UTC with ms, booleans as ``true``/``false``) or a :class:`PropertyError` with HubSpot's
error code. ``None`` or an empty string clears the property.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from typing import Any

from handoff_sync.sandbox.hubspot.errors import PropertyError
from handoff_sync.sandbox.hubspot.properties import PropertyDef
from handoff_sync.sandbox.hubspot.time import (
    DAY_MS,
    date_text,
    iso_ms,
    parse_date_ms,
    parse_instant_ms,
    time_of_day,
)

NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# HubSpot caps every property value at 65,536 characters and stores numbers as doubles.
MAX_CHARACTERS = 65_536
Coerced = tuple[str | None, PropertyError | None]


def as_text(raw: Any) -> str | None:
    """The wire value as text: JSON numbers and booleans are accepted as their strings."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float | str):
        return str(raw)
    raise TypeError(type(raw).__name__)


def coerce(prop: PropertyDef, raw: Any, options: Collection[str] | None) -> Coerced:
    """Normalise one written value; ``options`` are the allowed enumeration values."""
    try:
        text = as_text(raw)
    except TypeError:
        return None, PropertyError(prop.name, "INVALID_PROPERTY_VALUE",
                                   f"{raw!r} is not a valid value for {prop.name}")
    if text is None or text == "":
        return None, None
    if len(text) > MAX_CHARACTERS:
        return None, PropertyError(prop.name, "INVALID_PROPERTY_VALUE",
                                   f"{prop.name} is {len(text)} characters long; values may "
                                   f"hold at most {MAX_CHARACTERS}.")
    coercer = _COERCERS.get(prop.type, _string)
    return coercer(prop, text, options)


def _string(prop: PropertyDef, text: str, options: Collection[str] | None) -> Coerced:
    return text, None


def _number(prop: PropertyDef, text: str, options: Collection[str] | None) -> Coerced:
    stripped = text.strip()
    if NUMBER.fullmatch(stripped) and math.isfinite(float(stripped)):
        return stripped, None
    return None, PropertyError(prop.name, "INVALID_DECIMAL",
                               f"{text[:100]} was not a valid decimal.")


def _date(prop: PropertyDef, text: str, options: Collection[str] | None) -> Coerced:
    ms = parse_date_ms(text)
    if ms is None:
        return None, PropertyError(prop.name, "INVALID_DATE", f"{text} was not a valid date.")
    if ms % DAY_MS:
        return None, PropertyError(prop.name, "INVALID_DATE",
                                   f"{text} is at {time_of_day(ms)} UTC, not midnight!")
    return date_text(ms), None


def _datetime(prop: PropertyDef, text: str, options: Collection[str] | None) -> Coerced:
    ms = parse_instant_ms(text)
    if ms is None:
        return None, PropertyError(prop.name, "INVALID_DATE",
                                   f"{text} was not a valid date-time (epoch ms or ISO-8601).")
    return iso_ms(ms), None


def _bool(prop: PropertyDef, text: str, options: Collection[str] | None) -> Coerced:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered, None
    return None, PropertyError(prop.name, "INVALID_OPTION",
                               f"{text} was not one of the allowed options: [true, false]")


def _enumeration(prop: PropertyDef, text: str, options: Collection[str] | None) -> Coerced:
    if options is None:
        return text, None
    parts = [part for part in text.split(";") if part] if prop.multi_valued else [text]
    for part in parts:
        if part not in options:
            allowed = ", ".join(options)
            return None, PropertyError(
                prop.name, "INVALID_OPTION",
                f"{part} was not one of the allowed options: [{allowed}]",
            )
    return ";".join(parts), None


_COERCERS = {
    "string": _string,
    "number": _number,
    "date": _date,
    "datetime": _datetime,
    "bool": _bool,
    "enumeration": _enumeration,
}
