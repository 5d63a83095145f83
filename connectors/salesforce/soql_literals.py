"""SOQL literals and names, escaped per the SOQL rules, so no CRM value can change a query.

Values that reach SOQL come from CRM records and admin-edited mappings (an account called
``O'Brien``, a scope value typed by hand). Formatting them with an f-string breaks the
query on the first quote and lets ``' OR Name != '`` widen it. Every value goes through
``literal``; every field and object name through ``name``, because names cannot be quoted
and so must be checked instead.

Rules (crm-api-reference.md 2.2): inside quotes ``\\`` escapes ``' " \\ n r t b f`` and
``\\uXXXX``, any other backslash is an error, so other control characters are written as
``\\uXXXX``. Datetimes are unquoted, in UTC with ``Z``; dates are ``YYYY-MM-DD``.
``simple_salesforce.format_soql`` is not used: it reads naive datetimes as local time and
drops milliseconds even when a cursor needs them for an exact tie-break.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_LIKE_ESCAPES = {"%": "\\%", "_": "\\_"}
# Control characters without a short escape; a raw one would reach Salesforce as is.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# API names: Name, Partner_Account__c, ns__Field__c, Owner.Email (relationship paths).
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*")
_MAX_NAME = 255


def escape(text: str, *, like: bool = False) -> str:
    """The body of a quoted SOQL string (no quotes); ``like`` also escapes ``%`` and ``_``."""
    table = {**_ESCAPES, **_LIKE_ESCAPES} if like else _ESCAPES
    out = "".join(table.get(ch, ch) for ch in text)
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", out)


def quote(text: str) -> str:
    """A quoted SOQL string literal."""
    return "'" + escape(text) + "'"


def like_pattern(text: str, *, prefix: bool = False, suffix: bool = False) -> str:
    """A quoted LIKE pattern matching ``text`` literally, with ``%`` added where asked."""
    return "'" + ("%" if prefix else "") + escape(text, like=True) + ("%" if suffix else "") + "'"


def datetime_literal(value: datetime) -> str:
    """``2024-05-01T12:00:00Z``; milliseconds only when the value has them.

    Salesforce returns SystemModstamp to the millisecond (``.000`` in practice); keeping
    non-zero milliseconds makes ``SystemModstamp = <cursor>`` match the cursor's own rows.
    A naive datetime is refused: guessing its zone is how cursors skip hours.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"datetime {value.isoformat()} has no time zone; SOQL needs one")
    moment = value.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    millis = moment.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else text + "Z"


def literal(value: Any) -> str:
    """Any supported Python value as a SOQL literal.

    str -> quoted and escaped; bool -> true/false; None -> null; int/float/Decimal -> a
    plain number; aware datetime -> UTC ``Z`` form; date -> ``YYYY-MM-DD``; a list, tuple,
    set or frozenset -> ``('a','b')`` for IN (never empty: ``IN ()`` is a syntax error).
    """
    if isinstance(value, str):
        return quote(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return _number(value)
    if isinstance(value, datetime):
        return datetime_literal(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return in_list(value)
    raise TypeError(f"cannot write a {type(value).__name__} as a SOQL literal")


def in_list(values: Iterable[Any]) -> str:
    """``('a','b')`` for ``IN``; sets are sorted so the same values give the same query."""
    items = sorted(values, key=repr) if isinstance(values, set | frozenset) else list(values)
    if not items:
        raise ValueError("IN needs at least one value")
    return "(" + ",".join(literal(v) for v in items) + ")"


def _number(value: float | Decimal) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} is not a number SOQL can compare with")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{value} is not a number SOQL can compare with")
    # Plain notation: 1e-07 is not SOQL.
    text = format(Decimal(str(value)) if isinstance(value, float) else value, "f")
    return text


def name(identifier: str) -> str:
    """A field, object or relationship-path name, checked because names cannot be quoted."""
    if (not isinstance(identifier, str) or len(identifier) > _MAX_NAME
            or _NAME.fullmatch(identifier) is None or "___" in identifier
            or identifier.endswith("_")):
        raise ValueError(f"{identifier!r} is not a Salesforce API name")
    return identifier
