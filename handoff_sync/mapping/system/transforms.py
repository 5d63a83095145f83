"""Transforms: how one system's field value becomes a canonical value, and back.

Each transform has a reader (system value -> canonical value, lenient about the formats
the two APIs actually return) and a writer (canonical value -> the exact format the
system expects: JSON types for Salesforce, strings for HubSpot, which clears a property
with ""; each system's registry row says which, ``connectors.registry``). A file drop is
never written, but its raw values are strings like HubSpot's, so a value "as the file
would hold it" is formatted the same way. Readers raise
``ValueProblem`` for a value they cannot make sense of; the caller turns it into a
per-record issue, never a crash. ``owner_email`` needs an owner directory and is applied
in convert.py; here it only declares its type.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from connectors.reading import Unreadable, read_flag, read_instant
from connectors.registry import spec
from handoff_sync.model import FieldType, SystemName, Value
from handoff_sync.safety.sanitise import QUOTED_LIMIT, quoted

_CENT = Decimal("0.01")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
# Both target systems hold numbers as doubles (HubSpot stores them so, Salesforce speaks
# them over JSON): a value beyond the largest double, or so small a double rounds it to
# zero, cannot be synced as what the partner wrote.
_LARGEST = Decimal(sys.float_info.max)


class ValueProblem(ValueError):
    """A system value that does not fit the transform; the message is for people."""


def shown(raw: Any, limit: int = QUOTED_LIMIT) -> str:
    """A value quoted for people (``sanitise.quoted``: controls escaped, cut to ``limit``
    characters with its length said), written as the system would hold it."""
    if isinstance(raw, str):
        text = raw
    elif isinstance(raw, (int, float, Decimal)):  # bool too: True, not 'True'
        text = str(raw)
    elif isinstance(raw, (date, datetime)):
        text = raw.isoformat()
    elif isinstance(raw, tuple):  # a canonical multi-select
        text = ";".join(map(str, raw))
    else:
        text = repr(raw)
    return quoted(text, limit)


# ---------------------------------------------------------------- readers


def read_text(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (int, float, Decimal)):
        return str(raw)
    raise ValueProblem(f"expected text, got {type(raw).__name__}")


def scope_text(raw: Any) -> str:
    """A raw value as a mapping's ``scope:`` compares it: ``read_text``, with nothing (None,
    a Salesforce null) as "" and any other value as its repr, so a record that lacks the
    field or holds a list there is out of scope, never an error."""
    if raw is None:
        return ""
    try:
        return read_text(raw)
    except ValueProblem:
        return repr(raw)


def read_email(raw: Any) -> str:
    text = read_text(raw).strip().lower()
    if text.count("@") != 1 or text.startswith("@") or text.endswith("@") or " " in text:
        raise ValueProblem(f"{shown(text)} is not an email address")
    return text


def read_domain(raw: Any) -> str:
    """example.com from example.com, https://www.Example.com/path, or ann@example.com."""
    text = read_text(raw).strip().lower()
    if "@" in text and "/" not in text:
        text = text.rsplit("@", 1)[1]
    text = _SCHEME.sub("", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].strip(".")
    text = text.removeprefix("www.")
    if "." not in text or " " in text:
        raise ValueProblem(f"{shown(raw)} does not contain a web domain")
    return text


def read_number(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise ValueProblem(f"expected a number, got {raw}")
    if isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, int):
        number = Decimal(raw)
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise ValueProblem(f"{shown(raw)} is not a finite number")
        number = Decimal(repr(raw))  # repr: the shortest text that round-trips
    elif isinstance(raw, str):
        try:
            number = Decimal(raw.strip())
        except InvalidOperation:
            raise ValueProblem(f"{shown(raw)} is not a number") from None
    else:
        raise ValueProblem(f"expected a number, got {type(raw).__name__}")
    if not number.is_finite():
        raise ValueProblem(f"{shown(raw)} is not a finite number")
    return _in_double_range(number, raw)


def _in_double_range(number: Decimal, raw: Any) -> Decimal:
    """``number`` if a double holds it as a number of the same size, else a problem:
    1e400 would become infinity and 1e-400 zero in either system."""
    magnitude = abs(number)
    if magnitude > _LARGEST:
        raise ValueProblem(f"{shown(raw)} is too large to sync (more than about 1.8e308, "
                           "the largest number the systems hold)")
    if magnitude and float(magnitude) == 0.0:
        raise ValueProblem(f"{shown(raw)} is too small to sync (it would become 0)")
    return number


def read_integer(raw: Any) -> int:
    number = read_number(raw)
    if number != number.to_integral_value():
        raise ValueProblem(f"{shown(raw)} is not a whole number")
    return int(number)


def read_bool(raw: Any) -> bool:
    try:
        return read_flag(raw)
    except Unreadable as exc:
        raise _problem(raw, exc) from None


def read_datetime(raw: Any) -> datetime:
    """An instant in UTC from ISO text (Salesforce's +0000, HubSpot's Z) or epoch ms."""
    try:
        return read_instant(raw)
    except Unreadable as exc:
        raise _problem(raw, exc) from None


def _problem(raw: Any, unreadable: Unreadable) -> ValueProblem:
    """The reader's words with the value named: "'maybe' is not true or false"."""
    if unreadable.about_value:
        return ValueProblem(f"{shown(raw)} is {unreadable}")
    return ValueProblem(str(unreadable))


def read_date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return read_datetime(raw).date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str) and len(raw.strip()) == 10:
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            raise ValueProblem(f"{shown(raw)} is not a date") from None
    try:
        return read_datetime(raw).date()
    except ValueProblem:
        raise ValueProblem(f"{shown(raw)} is not a date") from None


def _read_items(raw: Any, separator: str | None) -> tuple[str, ...]:
    if isinstance(raw, (list, tuple)):
        items = [read_text(item) for item in raw]
    else:
        text = read_text(raw)
        items = text.split(separator) if separator else text.splitlines()
    seen: dict[str, None] = {}
    for item in items:
        if item.strip():
            seen.setdefault(item.strip(), None)
    return tuple(seen)


def read_multi_select(raw: Any) -> tuple[str, ...]:
    return _read_items(raw, ";")


def read_lines(raw: Any) -> tuple[str, ...]:
    return _read_items(raw, None)


# ---------------------------------------------------------------- writers
# Writers get a canonical value that is never None (blanks are handled by the caller).



def text_values(system: SystemName) -> bool:
    """Whether every raw value of ``system`` is text (blank is ""), as its registry row
    says; otherwise values are JSON types (blank is null)."""
    return spec(system).text_values


def _text_out(value: Value, system: SystemName) -> Any:
    return str(value)


def _number_out(value: Value, system: SystemName) -> Any:
    assert isinstance(value, (Decimal, int)) and not isinstance(value, bool)
    number = Decimal(value)
    if text_values(system):
        return format(number, "f")
    return int(number) if number == number.to_integral_value() else float(number)


def _currency_out(value: Value, system: SystemName) -> Any:
    assert isinstance(value, (Decimal, int)) and not isinstance(value, bool)
    number = Decimal(value)
    if number.as_tuple().exponent < -2:  # type: ignore[operator]
        number = number.quantize(_CENT, rounding=ROUND_HALF_EVEN)
    return _number_out(number, system)


def _integer_out(value: Value, system: SystemName) -> Any:
    assert isinstance(value, int)
    return str(value) if text_values(system) else value


def _bool_out(value: Value, system: SystemName) -> Any:
    if text_values(system):
        return "true" if value else "false"
    return bool(value)


def _date_out(value: Value, system: SystemName) -> Any:
    assert isinstance(value, date)
    day = value.date() if isinstance(value, datetime) else value
    return day.isoformat()


def _datetime_out(value: Value, system: SystemName) -> Any:
    assert isinstance(value, datetime)
    moment = value.astimezone(UTC)
    stamp = (moment.isoformat("T", "milliseconds")[:23] if moment.year >= 1000  # faster
             else moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}")
    return stamp + ("Z" if text_values(system) else "+0000")


def _items_out(separator: str) -> Callable[[Value, SystemName], Any]:
    def write(value: Value, system: SystemName) -> Any:
        assert isinstance(value, tuple)
        return separator.join(value)

    return write


@dataclass(frozen=True, slots=True)
class Transform:
    name: str
    produces: FieldType
    read: Callable[[Any], Value]
    write: Callable[[Value, SystemName], Any]
    doc: str


TRANSFORMS: dict[str, Transform] = {t.name: t for t in (
    Transform("text", FieldType.TEXT, read_text, _text_out, "text as is"),
    Transform("email", FieldType.EMAIL, read_email, _text_out,
              "an email address, lower-cased"),
    Transform("domain", FieldType.DOMAIN, read_domain, _text_out,
              "the web domain of a URL, host or email address"),
    Transform("number", FieldType.NUMBER, read_number, _number_out, "a decimal number"),
    Transform("currency", FieldType.NUMBER, read_number, _currency_out,
              "an amount of money; written rounded to cents"),
    Transform("integer", FieldType.INTEGER, read_integer, _integer_out, "a whole number"),
    Transform("bool", FieldType.BOOL, read_bool, _bool_out, "true or false"),
    Transform("date", FieldType.DATE, read_date, _date_out,
              "a calendar date (a date-time is cut to its UTC date)"),
    Transform("datetime", FieldType.DATETIME, read_datetime, _datetime_out,
              "an instant, kept in UTC"),
    Transform("multi_select", FieldType.TEXT_LIST, read_multi_select, _items_out(";"),
              "a multi-select picklist: values separated by ';'"),
    Transform("lines", FieldType.TEXT_LIST, read_lines, _items_out("\n"),
              "a list written one item per line"),
    Transform("owner_email", FieldType.EMAIL, read_text, _text_out,
              "an owner/user id in the system, the owner's email in handoff-sync"),
)}

# The transform used when a mapping names none: the natural one for the canonical type.
DEFAULT_TRANSFORM: dict[FieldType, str] = {
    FieldType.TEXT: "text", FieldType.EMAIL: "email", FieldType.DOMAIN: "domain",
    FieldType.NUMBER: "number", FieldType.INTEGER: "integer", FieldType.BOOL: "bool",
    FieldType.DATE: "date", FieldType.DATETIME: "datetime",
    FieldType.TEXT_LIST: "multi_select",
}

_LITERAL_READERS: dict[FieldType, Callable[[Any], Value]] = {
    FieldType.TEXT: read_text, FieldType.EMAIL: read_email, FieldType.DOMAIN: read_domain,
    FieldType.NUMBER: read_number, FieldType.INTEGER: read_integer,
    FieldType.BOOL: read_bool, FieldType.DATE: read_date,
    FieldType.DATETIME: read_datetime, FieldType.TEXT_LIST: read_multi_select,
}


def canonical_literal(field_type: FieldType, raw: Any) -> Value:
    """A value written in YAML (a default, a value-map target, a condition operand) as the
    canonical type; raises ValueProblem when it cannot be one."""
    if field_type is FieldType.BOOL and not isinstance(raw, bool):
        raise ValueProblem(f"expected true or false, got {raw!r}")
    if field_type is FieldType.TEXT_LIST and isinstance(raw, (list, tuple)):
        return tuple(read_text(item) for item in raw)
    if field_type in (FieldType.DATE, FieldType.DATETIME) and not isinstance(raw, str):
        raise ValueProblem(f"expected a date written like 2026-03-31, got {raw!r}")
    if field_type is FieldType.TEXT and not isinstance(raw, str):
        raise ValueProblem(f"expected text, got {raw!r}; put it in quotes")
    return _LITERAL_READERS[field_type](raw)
