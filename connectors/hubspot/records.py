"""HubSpot's CRM v3 JSON in the protocol's types: records to ``RecordChange``, instants to
and from epoch milliseconds, search requests, and the lists and paging of answers.

Pure: the connector and its writer make the calls and hand the answers here. An answer
that is not the JSON expected reads as empty (no results, no next page), never as a
crash: the checks that matter (a record without its modification time) raise
``SchemaError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hubspot.crm.objects import Filter, FilterGroup, PublicObjectSearchRequest

from connectors.base import Cursor, RecordChange
from connectors.errors import SchemaError
from connectors.hubspot.errors import SYSTEM
from connectors.hubspot.search import MODIFIED, Position, SearchRequest
from connectors.hubspot.transport import Reply

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def search_body(request: SearchRequest, properties: list[str]) -> PublicObjectSearchRequest:
    groups = [FilterGroup(filters=[Filter(property_name=c.property, operator=c.operator,
                                          value=c.value) for c in group])
              for group in request.groups]
    return PublicObjectSearchRequest(
        filter_groups=groups or None, properties=properties, limit=request.limit,
        after=request.after,
        # The client types sorts as strings; HubSpot wants objects, which pass through.
        sorts=[{"propertyName": request.sort, "direction": "ASCENDING"}])


def body_of(reply: Reply) -> Mapping[str, Any]:
    return reply.body if isinstance(reply.body, dict) else {}


def results_of(reply: Reply) -> list[dict[str, Any]]:
    return dicts(body_of(reply).get("results"))


def dicts(raw: Any) -> list[dict[str, Any]]:
    return [item for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []


def has_more(body: Mapping[str, Any]) -> bool:
    return next_after(body) is not None


def search_total(body: Mapping[str, Any]) -> int | None:
    """The records a search matches in all, as its answer says (None if it does not)."""
    total = body.get("total")
    return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 \
        else None


def next_after(body: Any) -> str | None:
    paging = body.get("paging") if isinstance(body, dict) else None
    following = paging.get("next") if isinstance(paging, dict) else None
    after = following.get("after") if isinstance(following, dict) else None
    return str(after) if after not in (None, "") else None


def context_ids(entry: Mapping[str, Any], key: str) -> list[str]:
    context = entry.get("context")
    values = context.get(key) if isinstance(context, dict) else None
    return [str(v) for v in values] if isinstance(values, list) else []


def is_read_only(prop: Mapping[str, Any]) -> bool:
    """A property no API call may write (read-only or calculated)."""
    meta = prop.get("modificationMetadata") or {}
    return bool(meta.get("readOnlyValue")) or bool(prop.get("calculated"))


def record_change(record: Mapping[str, Any]) -> RecordChange:
    values = dict(record.get("properties") or {})
    ms = modified_ms(record)
    return RecordChange(str(record["id"]), from_ms(ms), values)


def modified_ms(record: Mapping[str, Any]) -> int:
    values = record.get("properties") or {}
    ms = instant_ms(values.get(MODIFIED) or record.get("updatedAt"))
    if ms is None:
        raise SchemaError(f"HubSpot returned record {record.get('id')} without a usable "
                          f"{MODIFIED}", system=SYSTEM)
    return ms


def instant_ms(raw: Any) -> int | None:
    """Epoch ms from HubSpot's ISO-8601 text (or epoch-ms digits)."""
    if raw is None:
        return None
    text = str(raw).strip()
    if text.isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return to_ms(parsed)


def to_ms(at: datetime) -> int:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def cursor_at(position: Position) -> Cursor:
    return Cursor(from_ms(position.modified_ms), str(position.last_id))


def order(at: Position | Cursor) -> tuple[int, int]:
    """(ms, numeric id): ids compare as numbers ('999' < '1000'), unlike Cursor's strings."""
    if isinstance(at, Position):
        return at.modified_ms, at.last_id
    return to_ms(at.modified_at), int(at.last_id) if at.last_id.isdigit() else -1


