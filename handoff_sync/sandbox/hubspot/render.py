"""Records and envelopes in the JSON shapes hubspot-api-client's models deserialize."""

from __future__ import annotations

from typing import Any

from handoff_sync.sandbox.hubspot.associations import AssociationStore, type_label
from handoff_sync.sandbox.hubspot.properties import PropertyRegistry
from handoff_sync.sandbox.hubspot.schema import DEFAULT_PROPERTIES
from handoff_sync.sandbox.hubspot.store import SYSTEM_PROPERTIES, HsObject
from handoff_sync.sandbox.hubspot.time import iso_ms


def property_names(registry: PropertyRegistry, object_type: str,
                   requested: list[str] | None) -> list[str]:
    """What a read returns: the defaults, or the requested names that exist, plus the
    three system properties HubSpot always includes."""
    if not requested:
        return list(DEFAULT_PROPERTIES[object_type])
    known = [name for name in requested if registry.get(object_type, name) is not None]
    return list(dict.fromkeys([*known, *SYSTEM_PROPERTIES]))


def object_json(obj: HsObject, names: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(obj.id),
        "properties": {name: obj.value(name) for name in names},
        "createdAt": iso_ms(obj.created_at),
        "updatedAt": iso_ms(obj.updated_at),
        "archived": obj.archived,
    }
    if obj.archived_at is not None:
        body["archivedAt"] = iso_ms(obj.archived_at)
    return body


def associations_json(store: AssociationStore, object_type: str, object_id: int,
                      to_types: list[str]) -> dict[str, Any]:
    """``associations`` of a v3 read; types without any are left out, as HubSpot does."""
    out: dict[str, Any] = {}
    for to_type in to_types:
        targets = store.targets(object_type, object_id, to_type)
        if targets:
            label = type_label(object_type, to_type)
            out[to_type] = {"results": [{"id": str(to_id), "type": label}
                                        for to_id, _ in targets]}
    return out


def next_page(after: str, link: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"after": after}
    if link is not None:
        page["link"] = link
    return {"next": page}


def batch_json(results: list[Any], errors: list[dict[str, Any]], started_ms: int,
               completed_ms: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso_ms(started_ms),
        "completedAt": iso_ms(completed_ms),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return body
