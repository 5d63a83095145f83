"""Property definitions per object type: the portal's schema plus those created via the API.

A definition knows how values of its property are typed and whether writes may set it.
Enumerations without fixed options take their options from elsewhere at request time:
``pipeline`` from the pipelines, ``dealstage`` from their stages, owner properties
(``hubspot_owner_id``, ``cs_owner_id``) from the owners.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from handoff_sync.sandbox.hubspot import schema
from handoff_sync.sandbox.hubspot.errors import bad_request, conflict, not_found
from handoff_sync.sandbox.hubspot.overlay import PropertyOverlay
from handoff_sync.sandbox.hubspot.time import iso_ms

ExternalOptions = Literal["pipelines", "stages", "owners"]

# HubSpot's fixed, deterministic creation instant for the portal's own properties.
PORTAL_CREATED_MS = 1_565_058_194_491  # 2019-08-06T02:23:14.491Z

PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_]*")
MAX_NAME_LENGTH = 100
FIELD_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset({"text", "textarea", "html", "phonenumber", "file"}),
    "number": frozenset({"number"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
    "enumeration": frozenset({"select", "radio", "checkbox", "booleancheckbox"}),
    "bool": frozenset({"booleancheckbox"}),
}
BOOL_OPTIONS = (("Yes", "true"), ("No", "false"))


@dataclass(frozen=True)
class PropertyDef:
    name: str
    label: str
    type: str  # string number date datetime enumeration bool
    field_type: str
    group_name: str
    options: tuple[tuple[str, str], ...]  # (label, value)
    has_unique_value: bool
    hubspot_defined: bool
    calculated: bool
    read_only_value: bool
    description: str
    display_order: int
    created_at: int  # epoch ms
    updated_at: int
    hidden: bool = False
    form_field: bool = False
    external: ExternalOptions | None = None

    @property
    def multi_valued(self) -> bool:
        """Multiple checkboxes hold ';'-separated option values."""
        return self.type == "enumeration" and self.field_type == "checkbox"

    def to_json(self, options: list[tuple[str, str]], *, archived: bool = False
                ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "updatedAt": iso_ms(self.updated_at),
            "createdAt": iso_ms(self.created_at),
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": [
                {"label": label, "value": value, "displayOrder": order, "hidden": False}
                for order, (label, value) in enumerate(options)
            ],
            "displayOrder": self.display_order,
            "calculated": self.calculated,
            "externalOptions": self.external is not None,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only_value,
            },
            "formField": self.form_field,
            "archived": archived,
        }
        if self.external == "owners":
            body["referencedObjectType"] = "OWNER"
        return body


def _external(prop: schema.HsProperty) -> ExternalOptions | None:
    if prop.type != "enumeration" or prop.options:
        return None
    return {"pipeline": "pipelines", "dealstage": "stages"}.get(prop.name, "owners")  # type: ignore[return-value]


def _from_schema(prop: schema.HsProperty, order: int) -> PropertyDef:
    return PropertyDef(
        name=prop.name, label=prop.label, type=prop.type, field_type=prop.field_type,
        group_name=prop.group_name, options=prop.options,
        has_unique_value=prop.has_unique_value,
        hubspot_defined=prop.hubspot_defined, calculated=prop.calculated,
        read_only_value=prop.read_only_value or prop.calculated,
        description=prop.description, display_order=order,
        created_at=PORTAL_CREATED_MS, updated_at=PORTAL_CREATED_MS, external=_external(prop),
    )


class PropertyRegistry:
    """The definitions of one portal; ``reset()`` forgets those created through the API.

    ``get`` and ``all`` answer as the API does, through the schema overlay (archived
    properties absent, locked ones read-only); ``defined`` and ``unique_names`` see every
    definition, because the records keep their values and indexes under the overlay."""

    def __init__(self, overlay: PropertyOverlay | None = None) -> None:
        self.overlay = overlay or PropertyOverlay()
        self._portal: dict[str, dict[str, PropertyDef]] = {
            object_type: {p.name: _from_schema(p, i) for i, p in enumerate(props)}
            for object_type, props in schema.PROPERTIES.items()
        }
        self._created: dict[str, dict[str, PropertyDef]] = {t: {} for t in self._portal}

    def reset(self) -> None:
        """Forget created properties; the overlay stays (a reseed keeps the drift)."""
        self._created = {object_type: {} for object_type in self._portal}

    def defined(self, object_type: str, name: str) -> PropertyDef | None:
        """The definition whatever the overlay says."""
        found = self._portal[object_type].get(name)
        return found if found is not None else self._created[object_type].get(name)

    def get(self, object_type: str, name: str) -> PropertyDef | None:
        found = self.defined(object_type, name)
        return None if found is None else self._seen(object_type, found)

    def _seen(self, object_type: str, prop: PropertyDef) -> PropertyDef | None:
        """``prop`` as the API shows it under the overlay (None: archived)."""
        if self.overlay.hidden(object_type, prop.name):
            return None
        if self.overlay.read_only(object_type, prop.name) and not prop.read_only_value:
            return replace(prop, read_only_value=True)
        return prop

    def is_hubspot_defined(self, object_type: str, name: str) -> bool | None:
        """For the overlay's checks: None when the portal has no such property."""
        found = self.defined(object_type, name) if object_type in self._portal else None
        return None if found is None else found.hubspot_defined

    def require(self, object_type: str, name: str) -> PropertyDef:
        found = self.get(object_type, name)
        if found is None:
            raise not_found(f"Unable to find property {name} on object type {object_type}",
                            context={"propertyName": [name]})
        return found

    def every(self, object_type: str) -> list[PropertyDef]:
        """Every definition, archived ones included (seed loading, unique indexes)."""
        return [*self._portal[object_type].values(), *self._created[object_type].values()]

    def all(self, object_type: str) -> list[PropertyDef]:
        return [seen for prop in self.every(object_type)
                if (seen := self._seen(object_type, prop)) is not None]

    def archived(self, object_type: str) -> list[PropertyDef]:
        """The properties the overlay archived (``GET /properties?archived=true``)."""
        return [prop for prop in self.every(object_type)
                if self.overlay.hidden(object_type, prop.name)]

    def unique_names(self, object_type: str) -> list[str]:
        return [p.name for p in self.every(object_type) if p.has_unique_value]

    def create(self, object_type: str, body: Any, now_ms: int) -> PropertyDef:
        """Validate a PropertyCreate body as HubSpot does and add the property."""
        if not isinstance(body, dict):
            raise bad_request("Invalid input JSON: expected a property object")
        name = _required_text(body, "name")
        _check_name(name)
        if self.defined(object_type, name) is not None:  # archived ones too: restorable
            raise conflict(f"A property named '{name}' already exists.",
                           context={"propertyName": [name]})
        prop_type, field_type = _check_types(body)
        group = _required_text(body, "groupName")
        if group not in {p.group_name for p in self.all(object_type)}:
            raise bad_request(f"Property group {group} does not exist for {object_type}.")
        unique = _check_unique(body, prop_type, field_type)
        created = PropertyDef(
            name=name, label=_required_text(body, "label"), type=prop_type,
            field_type=field_type, group_name=group,
            options=_check_options(body.get("options"), prop_type),
            has_unique_value=unique, hubspot_defined=False, calculated=False,
            read_only_value=False, description=str(body.get("description") or ""),
            display_order=_int_or(body.get("displayOrder"), -1), created_at=now_ms,
            updated_at=now_ms, hidden=bool(body.get("hidden", False)),
            form_field=bool(body.get("formField", False)),
        )
        self._created[object_type][name] = created
        return created


def _required_text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"Required field '{key}' is missing or empty.",
                          context={"field": [key]})
    return value


def _check_name(name: str) -> None:
    if not PROPERTY_NAME.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
        raise bad_request(
            f"Property name '{name}' is not valid: names must start with a lower-case letter "
            "and contain only lower-case letters, digits and underscores "
            f"(at most {MAX_NAME_LENGTH} characters).",
            context={"propertyName": [name]},
        )
    if name.startswith("hs_"):
        raise bad_request(f"Property name '{name}' is not valid: the prefix 'hs_' is reserved "
                          "for HubSpot-defined properties.", context={"propertyName": [name]})


def _check_types(body: dict[str, Any]) -> tuple[str, str]:
    prop_type = _required_text(body, "type")
    field_type = _required_text(body, "fieldType")
    allowed = FIELD_TYPES.get(prop_type)
    if allowed is None:
        raise bad_request(f"Invalid property type '{prop_type}'; expected one of "
                          f"{sorted(FIELD_TYPES)}.")
    if field_type not in allowed:
        raise bad_request(f"fieldType '{field_type}' is not valid for type '{prop_type}'; "
                          f"expected one of {sorted(allowed)}.")
    return prop_type, field_type


def _check_unique(body: dict[str, Any], prop_type: str, field_type: str) -> bool:
    unique = bool(body.get("hasUniqueValue", False))
    if unique and not (prop_type == "number" or (prop_type, field_type) == ("string", "text")):
        raise bad_request("Only single-line text and number properties can require unique "
                          "values (hasUniqueValue).")
    return unique


def _check_options(raw: Any, prop_type: str) -> tuple[tuple[str, str], ...]:
    if raw is None or raw == []:
        return BOOL_OPTIONS if prop_type == "bool" else ()
    if prop_type not in ("enumeration", "bool") or not isinstance(raw, list):
        raise bad_request("options are only allowed for enumeration and bool properties, "
                          "as a list of {label, value} objects.")
    options = tuple(_option(i, option) for i, option in enumerate(raw))
    values = [value for _, value in options]
    if len(set(values)) != len(values):
        raise bad_request(f"Option values must be unique; got {values}.")
    if prop_type == "bool" and sorted(values) != ["false", "true"]:
        raise bad_request("A bool property's options must have the values 'true' and 'false'.")
    return options


def _option(index: int, option: Any) -> tuple[str, str]:
    if not isinstance(option, dict):
        raise bad_request(f"options[{index}]: expected an object with label and value.")
    label, value = option.get("label"), option.get("value")
    if not isinstance(label, str) or not label or not isinstance(value, str) or not value:
        raise bad_request(f"options[{index}]: label and value must be non-empty strings.")
    return label, value


def _int_or(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
