"""What handoff-sync knows about HubSpot without calling it: the API's batch and page
maxima and the shape of a raw record. Pure data: ``connectors.registry`` reads it (so any
layer may), and the connector takes its batch sizes from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_BATCH = 100  # inputs per batch create, update, upsert, read or association call
MAX_PAGE = 200  # results per CRM search page
RECORD_ID = "hs_object_id"  # the property every object holds its record id in


def flatten(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A record as the CRM v3 API returns it -> property name: value. Objects nest values
    under ``properties`` with the record id beside them; a record given already flat is
    taken as it is (less an ``attributes`` block, which no property is)."""
    properties = raw.get("properties")
    if isinstance(properties, Mapping):
        flat = dict(properties)
        if "id" in raw:
            flat.setdefault(RECORD_ID, str(raw["id"]))
        return flat
    return {name: value for name, value in raw.items() if name != "attributes"}


def looks_like(raw: Mapping[str, Any]) -> bool:
    """HubSpot objects nest their values under ``properties``."""
    return isinstance(raw.get("properties"), Mapping)
