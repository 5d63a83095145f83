"""One field value as the org reads and writes it: a JSON value coerced to the field's
Python type (or refused as the deserializer refuses it), checked against the field
(length, restricted picklist, email, numeric range), and written back as REST JSON."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from handoff_sync.sandbox.salesforce.errors import RecordError
from handoff_sync.sandbox.salesforce.schema import SfField, SfObject

_NUMBER_TYPES = frozenset({"currency", "double", "percent", "int"})
_LENGTH_TYPES = frozenset(
    {"string", "textarea", "picklist", "multipicklist", "combobox", "email", "url", "phone"}
)
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DATETIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?"
)
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class JsonTypeError(Exception):
    """A JSON value the field's type cannot be read from; Salesforce fails the whole request."""

    def __init__(self, field_name: str, field_type: str, token: str, text: str) -> None:
        super().__init__(f"{field_name}: cannot read {field_type} from {token} {text}")
        self.field_name = field_name
        self.field_type = field_type
        self.token = token
        self.text = text


@dataclass
class Changes:
    """A parsed request body: canonical field -> typed value, plus names no field has."""

    values: dict[str, Any] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)


def json_token(value: Any) -> tuple[str, str]:
    """Jackson's token name and text for a JSON value, as Salesforce's messages quote them."""
    if isinstance(value, bool):
        return ("VALUE_TRUE" if value else "VALUE_FALSE"), str(value).lower()
    if isinstance(value, int):
        return "VALUE_NUMBER_INT", str(value)
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT", repr(value)
    if isinstance(value, dict):
        return "START_OBJECT", ""
    if isinstance(value, list):
        return "START_ARRAY", ""
    return "VALUE_STRING", str(value)


def _reject(fld: SfField, value: Any) -> JsonTypeError:
    token, text = json_token(value)
    return JsonTypeError(fld.name, fld.type, token, text)


def coerce(fld: SfField, value: Any) -> Any:
    """Read one JSON value into the field's Python type; JsonTypeError when it cannot."""
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise _reject(fld, value)
    kind = fld.type
    if kind in _NUMBER_TYPES:
        return _number(fld, value)
    if kind == "boolean":
        return _boolean(fld, value)
    if kind == "date":
        return _date(fld, value)
    if kind == "datetime":
        return _datetime(fld, value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _number(fld: SfField, value: Any) -> float:
    """A number as a double; one beyond the double range reads as infinity, which the
    range check then refuses for that record (NUMBER_OUTSIDE_VALID_RANGE)."""
    if isinstance(value, bool):
        raise _reject(fld, value)
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _reject(fld, value)  # Python's json reads NaN/Infinity; Salesforce does not
        return _double(value)
    if _NUMBER_RE.fullmatch(value.strip()):
        return _double(value)
    raise _reject(fld, value)


def _double(value: float | str) -> float:
    try:
        return float(value)
    except OverflowError:  # an int of hundreds of digits
        return -math.inf if str(value).startswith("-") else math.inf


def _boolean(fld: SfField, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _reject(fld, value)


def _date(fld: SfField, value: Any) -> date:
    if not isinstance(value, str):
        raise _reject(fld, value)
    match = _DATE_RE.match(value)
    if match is None or (len(value) > 10 and value[10] not in "T "):
        raise _reject(fld, value)
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise _reject(fld, value) from None


def _datetime(fld: SfField, value: Any) -> datetime:
    if not isinstance(value, str):
        raise _reject(fld, value)
    match = _DATETIME_RE.fullmatch(value.strip())
    if match is None:
        raise _reject(fld, value)
    year, month, day, hh, mm, ss, frac, zone = match.groups()
    try:
        parsed = datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0),
                          int(ss or 0), int((frac or "").ljust(3, "0")[:3]) * 1000,
                          tzinfo=_zone(zone))
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: past 9999-12-31 once in UTC
        raise _reject(fld, value) from None


def _zone(text: str | None) -> timezone:
    """Salesforce reads a datetime without a zone as UTC."""
    if text is None or text == "Z":
        return UTC
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(offset if text[0] == "+" else -offset)


def parse_changes(obj: SfObject, raw: Mapping[str, Any]) -> Changes:
    """Resolve field names case-insensitively and coerce values; ``attributes`` is skipped."""
    changes = Changes()
    for name, value in raw.items():
        if name == "attributes":
            continue
        fld = obj.field(name)
        if fld is None:
            changes.unknown.append(name)
        else:
            changes.values[fld.name] = coerce(fld, value)
    return changes


def format_datetime(value: datetime) -> str:
    """Salesforce's wire form: ``2024-05-01T12:00:00.000+0000`` (UTC, milliseconds)."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}+0000"


def to_json(value: Any) -> Any:
    """A stored value as REST JSON (and Bulk CSV) writes it."""
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def check_value(fld: SfField, value: Any) -> None:
    if value is None:
        return
    if fld.type in _LENGTH_TYPES and fld.length and len(value) > fld.length:
        raise RecordError(
            "STRING_TOO_LONG",
            f"{fld.label}: data value too large: {value} (max length={fld.length})",
            [fld.name],
        )
    if fld.restricted:
        _check_picklist(fld, value)
    if fld.type == "email" and not _EMAIL_RE.fullmatch(value):
        raise RecordError("INVALID_EMAIL_ADDRESS", f"{fld.label}: invalid email address: {value}",
                          [fld.name])
    if fld.type in _NUMBER_TYPES and (fld.precision or not math.isfinite(value)):
        _check_range(fld, value)


def _check_picklist(fld: SfField, value: str) -> None:
    chosen = value.split(";") if fld.type == "multipicklist" else [value]
    for item in chosen:
        if item not in fld.picklist:
            raise RecordError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{fld.label}: bad value for restricted picklist field: {item}",
                [fld.name],
            )


def _check_range(fld: SfField, value: float) -> None:
    if not math.isfinite(value) or abs(value) >= 10 ** (fld.precision - fld.scale):
        raise RecordError(
            "NUMBER_OUTSIDE_VALID_RANGE",
            f"{fld.label}: value outside of valid range on numeric field: {value}",
            [fld.name],
        )
