"""What handoff-sync knows about Salesforce without calling it: the API's batch maxima and
the shape of a raw record. Pure data: ``connectors.registry`` reads it (so any layer may),
and the connector takes its batch sizes from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

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


# Hosts that log people in but are no org: a record link goes through the login page.
LOGIN_HOSTS = frozenset({"login.salesforce.com", "test.salesforce.com"})


def record_url(urls: Mapping[str, str], object_name: str, record_id: str) -> str | None:
    """Where a person opens a record in a browser, from the connection's URLs
    (``instance_url``, else ``login_url``): Lightning's record page on the org's own
    host; through the login page (``startURL``) when only a login host is known."""
    base = (urls.get("instance_url") or urls.get("login_url") or "").rstrip("/")
    if not base:
        return None
    if (urlsplit(base).hostname or "").lower() in LOGIN_HOSTS:
        return f"{base}/?startURL={quote('/' + record_id, safe='')}"
    return f"{base}/lightning/r/{quote(object_name, safe='')}/{quote(record_id, safe='')}/view"
