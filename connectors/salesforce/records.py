"""Salesforce's JSON and Bulk CSV in the protocol's types, and the protocol's values in
Salesforce's JSON: records to ``RecordChange`` (relationships flattened to ``Owner.Email``),
describe answers to ``ObjectSchema``, sObject Collections results to ``WriteResult``.

Pure: the connector makes the calls and hands the answers here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connectors.base import FieldSchema, ObjectSchema, RecordChange, WriteResult
from connectors.salesforce.errors import record_error

_NUMBER_TYPES = frozenset({"currency", "double", "percent"})
_PICKLIST_TYPES = frozenset({"picklist", "multipicklist", "combobox"})


def timestamp(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def flatten_nested(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{Owner: {attributes, Email}}`` -> ``{"Owner.Email": ...}``; attributes dropped."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, Mapping):
            flat.update(flatten_nested(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def record_change(record: Mapping[str, Any], select: Sequence[str]) -> RecordChange:
    values = flatten_nested(record)
    for name in select:  # a null relationship comes back as one null, not its fields
        values.setdefault(name, None)
    return RecordChange(id=str(values["Id"]), modified_at=timestamp(values.get("SystemModstamp")),
                        fields=values, deleted=values.get("IsDeleted") is True)


def csv_changes(text: str, schema: ObjectSchema,
                 select: Sequence[str]) -> Iterator[RecordChange]:
    """Bulk CSV rows as the REST API would have typed them (numbers, booleans, nulls)."""
    for row in csv.DictReader(io.StringIO(text)):
        typed = {name: _csv_value(value, schema.get(name)) for name, value in row.items()}
        yield record_change(typed, select)


def _csv_value(text: str | None, described: FieldSchema | None) -> Any:
    if text is None or text == "":  # Bulk CSV writes null as an empty field
        return None
    kind = described.type if described is not None else "string"
    if kind == "boolean":
        return text.lower() == "true"
    if kind in _NUMBER_TYPES:
        return float(text)
    if kind == "int":
        return int(float(text))
    return text


def object_schema(raw: Mapping[str, Any]) -> ObjectSchema:
    fields = {}
    for f in raw["fields"]:
        picklist = tuple(v["value"] for v in f.get("picklistValues") or () if v.get("active"))
        fields[f["name"]] = FieldSchema(
            name=f["name"], type=f["type"], createable=bool(f.get("createable")),
            updateable=bool(f.get("updateable")), nillable=bool(f.get("nillable")),
            length=int(f.get("length") or 0),
            precision=int(f.get("precision") or 0), scale=int(f.get("scale") or 0),
            picklist_values=picklist if f["type"] in _PICKLIST_TYPES else None,
            restricted_picklist=bool(f.get("restrictedPicklist")),
            reference_to=tuple(f.get("referenceTo") or ()),
            unique_key=bool(f.get("externalId")) and bool(f.get("unique")),
        )
    return ObjectSchema(raw["name"], fields, case_insensitive=True,
                        key_prefix=raw.get("keyPrefix") or None)


def collection_record(obj: str, values: Mapping[str, Any], *,
                       record_id: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"attributes": {"type": obj}}
    record.update((k, v) for k, v in values.items() if k.lower() != "id")
    if record_id is not None:
        record["id"] = record_id
    return record


def json_value(value: Any) -> Any:
    """JSON for values the mapping layer may hand over unformatted."""
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, tuple | set | frozenset):
        return ";".join(str(v) for v in value)  # multi-select picklists
    raise TypeError(f"cannot send a {type(value).__name__} to Salesforce")


def write_result(ref: str, record_id: str | None, outcome: Mapping[str, Any], *,
                  created: bool | None) -> WriteResult:
    ok = bool(outcome.get("success"))
    new_id = outcome.get("id") or record_id
    if ok:
        was_created = bool(outcome.get("created")) if created is None else created
        return WriteResult(ref=ref, id=new_id, ok=True, created=was_created)
    errors = [e for e in outcome.get("errors") or [] if isinstance(e, Mapping)]
    error = record_error(dict(errors[0]), extra=[dict(e) for e in errors[1:]]) if errors else \
        record_error({"statusCode": "UNKNOWN", "message": "Salesforce gave no reason"})
    return WriteResult(ref=ref, id=new_id, ok=False, error=error)
