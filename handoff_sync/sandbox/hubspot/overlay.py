"""Schema drift on demand for the HubSpot portal: properties archived or locked under a client.

A portal drifts under a running integration when an admin deletes (archives) a property or
locks its value. The overlay shows the portal that way without touching the records:
the properties API leaves archived properties out (``?archived=true`` lists them) and
reports locked ones with ``modificationMetadata.readOnlyValue: true``; reads and search
``properties`` silently omit an archived property, filters and sorts on it fail, and
writes are refused per property (PROPERTY_DOESNT_EXIST / READ_ONLY_VALUE) like any other
invalid value. Stored values stay, so a restored property comes back with its data, as
HubSpot restores an archived property from the recycle bin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handoff_sync.sandbox.hubspot import schema
from handoff_sync.sandbox.hubspot.associations import SINGULAR

KINDS = ("hidden", "read_only")
# Every call names records by these; HubSpot lets no one archive them.
_SYSTEM = frozenset({"hs_object_id", "createdate", "hs_lastmodifieddate"})
_TYPE_NAMES: dict[str, str] = {
    **{name: name for name in schema.PROPERTIES},
    **{type_id: name for name, type_id in schema.OBJECT_TYPE_IDS.items()},
    **{singular: name for name, singular in SINGULAR.items()},
}

Spec = dict[str, dict[str, tuple[str, ...]]]
# (object type, property name) -> is it HubSpot-defined? None: no such property.
Lookup = Callable[[str, str], bool | None]


class HubSpotOverlayError(ValueError):
    """An overlay body the sandbox cannot apply; the message names the key at fault."""


class PropertyOverlay:
    """The overlay one portal applies: object type -> kind -> property names."""

    def __init__(self) -> None:
        self._spec: Spec = {}

    def replace(self, spec: Spec) -> None:
        """Apply a spec that ``parse`` produced (validation happens there, so a control
        call can check every system's body before changing any)."""
        self._spec = spec

    def clear(self) -> None:
        self._spec = {}

    def to_json(self) -> dict[str, dict[str, list[str]]]:
        return {object_type: {kind: list(names) for kind, names in kinds.items()}
                for object_type, kinds in self._spec.items()}

    def hidden(self, object_type: str, name: str) -> bool:
        return name in self._spec.get(object_type, {}).get("hidden", ())

    def read_only(self, object_type: str, name: str) -> bool:
        return name in self._spec.get(object_type, {}).get("read_only", ())

    def hidden_names(self, object_type: str) -> tuple[str, ...]:
        return self._spec.get(object_type, {}).get("hidden", ())


def parse(raw: Any, lookup: Lookup) -> Spec:
    """{object type: {hidden: [...], read_only: [...]}} checked against the portal's
    property definitions; raises HubSpotOverlayError naming the key at fault."""
    if not isinstance(raw, dict):
        raise HubSpotOverlayError("hubspot: expected an object of {object type: "
                                  "{hidden: [...], read_only: [...]}}")
    spec: Spec = {}
    for name, kinds in raw.items():
        object_type = _TYPE_NAMES.get(str(name).lower())
        if object_type is None:
            raise HubSpotOverlayError(f"hubspot.{name}: no such object type; known: "
                                      f"{', '.join(schema.PROPERTIES)}")
        spec[object_type] = _parse_kinds(object_type, kinds, lookup)
    return spec


def _parse_kinds(object_type: str, raw: Any, lookup: Lookup) -> dict[str, tuple[str, ...]]:
    where = f"hubspot.{object_type}"
    if not isinstance(raw, dict):
        raise HubSpotOverlayError(f"{where}: expected an object with keys {', '.join(KINDS)}")
    unknown = sorted(set(raw) - set(KINDS))
    if unknown:
        raise HubSpotOverlayError(f"{where}: unknown key(s) {unknown}; known: "
                                  f"{', '.join(KINDS)}")
    parsed = {}
    for kind in KINDS:
        names = raw.get(kind, [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise HubSpotOverlayError(f"{where}.{kind}: expected a list of property names")
        for name in names:
            _check_name(where, kind, object_type, name, lookup)
        parsed[kind] = tuple(dict.fromkeys(names))
    return parsed


def _check_name(where: str, kind: str, object_type: str, name: str, lookup: Lookup) -> None:
    hubspot_defined = lookup(object_type, name)
    if hubspot_defined is None:
        raise HubSpotOverlayError(f"{where}.{kind}: {object_type} has no property {name!r}")
    # Property names are case-sensitive in HubSpot; only custom ones can be archived.
    if kind == "hidden" and (name in _SYSTEM or hubspot_defined):
        raise HubSpotOverlayError(f"{where}.hidden: {name} is HubSpot-defined and cannot be "
                                  "archived")
