"""What handoff-sync knows about Salesforce without calling it: the API's batch maxima and
the shape of a raw record. Pure data: ``connectors.registry`` reads it (so any layer may),
and the connector takes its batch sizes from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

COLLECTION_SIZE = 200  # sObject Collections: records per create, update or upsert call
MAX_PAGE_SIZE = 2000  # rows per REST query page (Sforce-Query-Options batchSize maximum)
MIN_PAGE_SIZE = 200  # Sforce-Query-Options batchSize floor


def flatten(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A record as the REST API returns it -> field name: value. Its ``attributes`` block
    (type and URL) is not a field."""
    return {name: value for name, value in raw.items() if name != "attributes"}


def looks_like(raw: Mapping[str, Any]) -> bool:
    """A Salesforce record carries ``attributes`` or API names such as Id and *__c, and
    never nests its values under ``properties`` (HubSpot's shape)."""
    if isinstance(raw.get("properties"), Mapping):
        return False
    return "attributes" in raw or "Id" in raw or any(str(k).endswith("__c") for k in raw)
