"""Every system handoff-sync talks to, one row each: the only list of them.

A row's ``name`` is the system's name everywhere a person writes one: the ``system:`` key
of a connection in the config file and the mappings file ``<name>.yaml``. The rest of the
row is what the product needs to know about the system without switching on its name:

- which class connects to it, and the settings dataclass that class is built from;
- the API's batch sizes (records per write call, tasks per upsert call, records per read
  page), which the sync uses to say what a plan would cost;
- how its raw values are written (all text, or JSON types), how a raw record as its API
  returns it is flattened into field -> value, and how to recognise one;
- whether it can be written at all, and whether its describe() types its fields.

The rows are plain data, so every layer may read them: the mapping file format asks which
system files exist, the mapping layer how a system writes values. The connector classes do
IO, so a row names its class and settings by import path and they are loaded only when a
connection is built (``connector_class``, ``settings_class``); the registry imports no
connector, so importing it costs no HTTP client. Vendor facts themselves live in each
system's folder (``connectors/<name>/facts.py``); a row points at them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, cast

from connectors.base import ConnectorFactory
from connectors.files import facts as files
from connectors.hubspot import facts as hubspot
from connectors.salesforce import facts as salesforce

Flatten = Callable[[Mapping[str, Any]], dict[str, Any]]
RecordUrl = Callable[[Mapping[str, str], str, str], "str | None"]


@dataclass(frozen=True, slots=True)
class SystemSpec:
    """One system handoff-sync can sync with."""

    name: str
    """The ``system:`` of a connection and the mappings file's stem (``<name>.yaml``)."""
    title: str
    """How messages name the system: "a {title} record"."""
    connector: str
    """The connector class, as ``module:Class`` (see ``connector_class``)."""
    settings: str
    """The connector's settings dataclass, as ``module:Class`` (see ``settings_class``)."""
    write_batch: int
    """Records per write call, at the API's maximum."""
    task_batch: int
    """Tasks per upsert call, at the API's maximum."""
    read_page: int
    """Records per read page at most (a query page, a search page, a page of a file)."""
    text_values: bool
    """Every raw value is text: numbers and yes/no are written as strings, a blank as "",
    an instant with a Z (HubSpot, file drops); otherwise values are JSON types, a blank is
    null and an instant ends in +0000 (Salesforce)."""
    flatten: Flatten
    """A record as the system's API returns it -> field name: value."""
    looks_like: Callable[[Mapping[str, Any]], bool] | None
    """Whether a raw record has this system's API shape; None: records have no shape to
    tell them by (a file-drop row is any flat object)."""
    read_only: str | None = None
    """None: handoff-sync writes to the system. Otherwise why it cannot, for people; such a
    system can only be a pipeline's PRM side, and its mapping writes nothing."""
    untyped: str | None = None
    """None: describe() gives every field's type, writability and limits, so mappings are
    checked against it (schema drift, ``mappings validate --live``, value limits).
    Otherwise why it does not, for people."""
    record_url: RecordUrl | None = None
    """The browser address of a record, from the connection's URL settings (key ->
    value), its object and its id; None (here or from the function): no link can be made
    (HubSpot's needs the portal id, which no setting holds; a file has no page)."""

    def connector_class(self) -> ConnectorFactory:
        """The class that connects to this system (imported now, with its HTTP client)."""
        return cast(ConnectorFactory, _load(self.connector))

    def settings_class(self) -> type:
        """The dataclass ``connector_class`` is built from."""
        return cast(type, _load(self.settings))


def _load(path: str) -> object:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


SYSTEMS: Mapping[str, SystemSpec] = MappingProxyType({spec.name: spec for spec in (
    SystemSpec(
        "salesforce", "Salesforce",
        connector="connectors.salesforce.connector:SalesforceConnector",
        settings="connectors.salesforce.connector:SalesforceSettings",
        write_batch=salesforce.COLLECTION_SIZE, task_batch=salesforce.COLLECTION_SIZE,
        read_page=salesforce.MAX_PAGE_SIZE, text_values=False,
        flatten=salesforce.flatten, looks_like=salesforce.looks_like,
        record_url=salesforce.record_url),
    SystemSpec(
        "hubspot", "HubSpot",
        connector="connectors.hubspot.connector:HubSpotConnector",
        settings="connectors.hubspot.connector:HubSpotSettings",
        write_batch=hubspot.MAX_BATCH, task_batch=hubspot.MAX_BATCH,
        read_page=hubspot.MAX_PAGE, text_values=True,
        flatten=hubspot.flatten, looks_like=hubspot.looks_like),
    SystemSpec(
        "files", "file drop",
        connector="connectors.files.connector:FileDropConnector",
        settings="connectors.files.connector:FileDropSettings",
        write_batch=1, task_batch=1,  # every write is refused, one by one
        read_page=files.PAGE_SIZE, text_values=True,
        flatten=files.flatten, looks_like=None,
        read_only=files.READ_ONLY, untyped=files.UNTYPED),
)})
"""System name -> its row, in the order people see them listed."""


def spec(name: str) -> SystemSpec:
    """The row of system ``name``; KeyError naming the known systems otherwise."""
    try:
        return SYSTEMS[name]
    except KeyError:
        raise KeyError(f"no system named {name!r}; known: {', '.join(SYSTEMS)}") from None
