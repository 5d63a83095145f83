"""What a HubSpot account says about its objects: the property definitions, read once per
object and cycle, and what the connector checks against them.

The definitions answer ``describe()`` (fields with their types, writability and picklist
options, plus the stage ids of each deal pipeline), and they are checked before anything
is read or written: a mapping that names a property the account lacks, or writes a
read-only one, is one ``SchemaError`` for an admin, not thousands of record errors. A
record that comes back without a requested property makes the definitions be read again,
to tell a property archived since (``SchemaError``) from one the app may not see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog

from connectors.base import FieldSchema, ObjectSchema
from connectors.errors import SchemaError
from connectors.hubspot.errors import SYSTEM
from connectors.hubspot.records import is_read_only, results_of
from connectors.hubspot.transport import HubSpotTransport

log = structlog.get_logger("connectors.hubspot")

PIPELINE_OBJECTS = frozenset({"deals", "deal", "0-3"})
# HubSpot caps every string property value at 65,536 characters (its describe does not
# say so): a longer value fails the whole batch input with a VALIDATION_ERROR.
STRING_LIMIT = 65_536


class PropertySchema:
    """The property definitions of one account's objects, cached until ``clear``."""

    def __init__(self, transport: HubSpotTransport, properties_api: Any,
                 pipelines_api: Any) -> None:
        self._transport = transport
        self._properties = properties_api
        self._pipelines = pipelines_api
        self._definitions: dict[str, dict[str, dict[str, Any]]] = {}
        self._described: dict[str, ObjectSchema] = {}
        # Per object: properties confirmed defined although a record came back without
        # them (e.g. a field the app's scopes may not see), so check_returned re-reads
        # the definitions once per cycle for them, not once per page.
        self._omitted_ok: dict[str, set[str]] = {}

    def clear(self) -> None:
        """Forget every definition and describe: the next cycle reads them again."""
        self._definitions.clear()
        self._described.clear()
        self._omitted_ok.clear()

    def describe(self, object_name: str) -> ObjectSchema:
        """Properties as fields (+ the stage ids of each pipeline for deals); cached until
        ``clear`` (the connector's ``start_cycle``)."""
        cached = self._described.get(object_name)
        if cached is not None:
            return cached
        fields: dict[str, FieldSchema] = {}
        for prop in self.definitions(object_name).values():
            read_only = is_read_only(prop)
            options = tuple(str(o.get("value")) for o in prop.get("options") or [])
            enumeration = prop.get("type") == "enumeration"
            picklist = options if enumeration and options else None
            multi = enumeration and prop.get("fieldType") == "checkbox"
            kind = "multi_enumeration" if multi else str(prop.get("type"))
            fields[prop["name"]] = FieldSchema(
                name=prop["name"], type=kind, createable=not read_only,
                updateable=not read_only, picklist_values=picklist,
                restricted_picklist=picklist is not None,
                length=STRING_LIMIT if kind == "string" else 0,
                unique_key=bool(prop.get("hasUniqueValue")))
        pipelines: dict[str, tuple[str, ...]] = {}
        if object_name in PIPELINE_OBJECTS:
            reply = self._transport.call(
                f"pipelines of {object_name}", "metadata",
                lambda kw: self._pipelines.get_all_with_http_info(object_name, **kw))
            for pipeline in results_of(reply):
                pipelines[str(pipeline["id"])] = tuple(
                    str(stage["id"]) for stage in pipeline.get("stages") or [])
        described = ObjectSchema(object_name, fields,
                                 pipeline_field="pipeline" if pipelines else None,
                                 stage_field="dealstage" if pipelines else None,
                                 pipelines=pipelines)
        self._described[object_name] = described
        return described

    def definitions(self, object_name: str) -> dict[str, dict[str, Any]]:
        """Property name -> its definition (one call per object and cycle)."""
        cached = self._definitions.get(object_name)
        if cached is None:
            reply = self._transport.call(
                f"properties of {object_name}", "metadata",
                lambda kw: self._properties.get_all_with_http_info(object_name, archived=False,
                                                                   **kw))
            cached = {str(p["name"]): p for p in results_of(reply)}
            self._definitions[object_name] = cached
        return cached

    def require(self, object_name: str, names: Sequence[str], *,
                writing: bool = False) -> None:
        """SchemaError naming every unknown (or, for writes, read-only) property, before any
        record is read or written: a mapping that names a property the account lacks is an
        admin's problem, not thousands of record errors."""
        defs = self.definitions(object_name)
        unknown = sorted({n for n in names if n not in defs})
        if unknown:
            raise SchemaError(
                f"HubSpot {object_name} has no propert{'y' if len(unknown) == 1 else 'ies'} "
                f"{', '.join(unknown)}; fix the mapping or create the property in HubSpot, "
                "then run 'handoff-sync mappings validate --live'", system=SYSTEM)
        if writing:
            read_only = sorted({n for n in names if is_read_only(defs[n])})
            if read_only:
                raise SchemaError(
                    f"HubSpot {object_name}: {', '.join(read_only)} cannot be written "
                    "(read-only or calculated); change the mapping's direction to read",
                    system=SYSTEM)

    def check_returned(self, object_name: str, requested: Sequence[str],
                       records: Sequence[Mapping[str, Any]]) -> None:
        """SchemaError when records come back without a requested property that HubSpot
        no longer defines.

        HubSpot answers every requested property that exists (null when unset) and
        silently leaves out one that does not: a property archived since the definitions
        were cached is not an error, just missing. Without this check the sync would keep
        reading around it unaware, until a write to it failed record by record. The
        definitions are read again first (one call, only when something is missing), so
        a record that merely lacks a value never stops a pull."""
        known_ok = self._omitted_ok.get(object_name, set())
        missing = {name for record in records for name in requested
                   if name not in (record.get("properties") or {})} - known_ok
        if not missing:
            return
        self._definitions.pop(object_name, None)
        self._described.pop(object_name, None)
        gone = sorted(missing - set(self.definitions(object_name)))
        if gone:
            raise SchemaError(
                f"HubSpot {object_name} no longer returns the propert"
                f"{'y' if len(gone) == 1 else 'ies'} {', '.join(gone)} (archived or deleted "
                "since the mapping was checked); restore it in HubSpot or fix the mapping, "
                "then run 'handoff-sync mappings validate --live'", system=SYSTEM)
        self._omitted_ok.setdefault(object_name, set()).update(missing)
        log.warning("hubspot records without requested properties", object=object_name,
                    properties=sorted(missing))
