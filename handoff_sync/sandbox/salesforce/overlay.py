"""Schema drift on demand: fields hidden from, or made read-only for, the integration user.

A real org drifts under a running integration when an admin deletes a field or tightens
its field-level security. The overlay shows the org that way without touching the
records: describe leaves hidden fields out and reports read-only ones as not createable or
updateable; SOQL and writes naming a hidden field fail as for a field that does not
exist. Stored values stay, so a field shown again comes back with its data, like an
undeleted field.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from handoff_sync.sandbox.salesforce.schema import OBJECTS, SfObject, find_object

KINDS = ("hidden", "read_only")
_UNHIDEABLE = frozenset({"Id"})  # every call names records by Id; no profile hides it


class OverlayError(ValueError):
    """An overlay body the sandbox cannot apply; the message names the key at fault."""


def overlay_object(obj: SfObject, hidden: frozenset[str], read_only: frozenset[str]) -> SfObject:
    """``obj`` without the ``hidden`` fields and with the ``read_only`` ones locked."""
    fields = tuple(
        replace(fld, createable=False, updateable=False) if fld.name in read_only else fld
        for fld in obj.fields if fld.name not in hidden
    )
    # A fresh lookup table: replace() would otherwise share (and refill) the original's.
    return replace(obj, fields=fields, _by_lower={})


class SchemaOverlay:
    """The overlay one sandbox applies: object name -> kind -> canonical field names."""

    def __init__(self) -> None:
        self._spec: dict[str, dict[str, tuple[str, ...]]] = {}
        self._objects: dict[str, SfObject] = {}

    def set(self, raw: Any) -> None:
        """Replace the overlay with ``raw`` ({object: {hidden: [...], read_only: [...]}})."""
        if not isinstance(raw, dict):
            raise OverlayError("salesforce: expected an object of {object name: "
                               "{hidden: [...], read_only: [...]}}")
        spec = {}
        for name, kinds in raw.items():
            obj = find_object(str(name))
            if obj is None:
                raise OverlayError(f"salesforce.{name}: no such object; known: "
                                   f"{', '.join(OBJECTS)}")
            spec[obj.name] = _parse_kinds(obj, kinds)
        self._spec = spec
        self._objects = {
            name: overlay_object(OBJECTS[name], frozenset(kinds["hidden"]),
                                 frozenset(kinds["read_only"]))
            for name, kinds in spec.items()
        }

    def clear(self) -> None:
        self._spec, self._objects = {}, {}

    def to_json(self) -> dict[str, dict[str, list[str]]]:
        return {name: {kind: list(names) for kind, names in kinds.items()}
                for name, kinds in self._spec.items()}

    def apply(self, obj: SfObject) -> SfObject:
        """The object as the integration user sees it now (``obj`` itself when untouched)."""
        return self._objects.get(obj.name, obj)


def _parse_kinds(obj: SfObject, raw: Any) -> dict[str, tuple[str, ...]]:
    where = f"salesforce.{obj.name}"
    if not isinstance(raw, dict):
        raise OverlayError(f"{where}: expected an object with keys {', '.join(KINDS)}")
    unknown = sorted(set(raw) - set(KINDS))
    if unknown:
        raise OverlayError(f"{where}: unknown key(s) {unknown}; known: {', '.join(KINDS)}")
    parsed = {}
    for kind in KINDS:
        names = raw.get(kind, [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise OverlayError(f"{where}.{kind}: expected a list of field names")
        canonical = []
        for name in names:
            fld = obj.field(name)
            if fld is None:
                raise OverlayError(f"{where}.{kind}: {obj.name} has no field {name!r}")
            if kind == "hidden" and fld.name in _UNHIDEABLE:
                raise OverlayError(f"{where}.hidden: {fld.name} cannot be hidden")
            canonical.append(fld.name)
        parsed[kind] = tuple(dict.fromkeys(canonical))
    return parsed
