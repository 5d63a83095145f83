"""What handoff-sync knows about HubSpot without calling it: the API's batch and page
maxima, the shape of a raw record and where a record's page is in HubSpot's app. Pure
data: ``connectors.registry`` reads it (so any layer may), and the connector takes its
batch sizes from here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

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


# The app's host for portals hosted in North America; the account details name the
# portal's own (``uiDomain``: app-eu1.hubspot.com for portals hosted in the EU).
UI_DOMAIN = "app.hubspot.com"
# Object type ids of the standard objects with a record page in the app, by the names
# mappings use (custom objects are named by their own id, 2-<n>).
OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "tickets": "0-5"}
_TYPE_ID = re.compile(r"[0-9]+-[0-9]+")
_PORTAL = re.compile(r"[0-9]+")
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")


def account_facts(details: Mapping[str, Any]) -> dict[str, str]:
    """What a record link needs from the account details (GET /account-info/v3/details):
    the portal id and the app's host; a value of another shape is left out."""
    facts: dict[str, str] = {}
    portal, domain = str(details.get("portalId") or ""), details.get("uiDomain")
    if _PORTAL.fullmatch(portal):
        facts["portal_id"] = portal
    if isinstance(domain, str) and _HOST.fullmatch(domain.strip().lower()):
        facts["ui_domain"] = domain.strip().lower()
    return facts


def record_url(urls: Mapping[str, str], object_name: str, record_id: str) -> str | None:
    """Where a person opens a record in HubSpot's app:
    ``https://<ui_domain>/contacts/<portal_id>/record/<objectTypeId>/<id>``, from what the
    connector learned (``account_facts``). None without a portal id, or for an object
    without a record page we know of (tasks; a custom object named by its ``p_`` alias)."""
    portal = urls.get("portal_id") or ""
    if not _PORTAL.fullmatch(portal) or not record_id:
        return None
    type_id = OBJECT_TYPE_IDS.get(object_name.lower(), object_name)
    if not _TYPE_ID.fullmatch(type_id):
        return None
    host = urls.get("ui_domain") or UI_DOMAIN
    if not _HOST.fullmatch(host):
        host = UI_DOMAIN
    return f"https://{host}/contacts/{portal}/record/{type_id}/{quote(record_id, safe='')}"
