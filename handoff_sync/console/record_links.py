"""Links from console pages to records in their systems' own apps.

A record's address is a vendor fact (``SystemSpec.record_url`` in the registry); what it is
built from is the pipeline's connection to the system: its URL settings, and what the
connector learned about the org while it synced (Salesforce's instance URL, HubSpot's
portal id: ``ApiUsage.org``, kept in the run rows). Settings win over what was learned;
what was learned fills what no setting holds. Pages ask ``linker`` once per pipeline and
never name a system.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.registry import SYSTEMS
from handoff_sync.config.settings import PipelineConfig
from handoff_sync.console.context import ConsoleContext
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.model import Role

Linker = Callable[[str, str, str], "str | None"]
"""(system, object, record id) -> the record's page in its system, or None."""
SideLinker = Callable[[Role, str], "str | None"]
"""(role, record id of the pipeline's deal object on that side) -> its page, or None."""


def linker(context: ConsoleContext, pipeline: PipelineConfig) -> Linker:
    """The pipeline's record links: one read of its run rows, then pure."""
    learned = context.store.learned_orgs(pipeline.name)
    by_system: dict[str, dict[str, str]] = {}
    for key in (pipeline.prm, pipeline.crm):
        connection = context.config.connections.get(key)
        if connection is None or connection.system in by_system:
            continue
        settings = {name: str(getattr(connection, name, "") or "")
                    for name in type(connection).URL_KEYS}
        by_system[connection.system] = {**learned.get(connection.system, {}),
                                        **{name: url for name, url in settings.items() if url}}

    def link(system: str, object_name: str, record_id: str) -> str | None:
        spec = SYSTEMS.get(system)
        if spec is None or spec.record_url is None or system not in by_system:
            return None
        return spec.record_url(by_system[system], object_name, record_id)

    return link


def side_linker(link: Linker, mappings: MappingSet | None) -> SideLinker:
    """Links to the pipeline's deal records (registrations, opportunities) by side: the
    object is the one its mappings read (no links without valid mappings)."""
    def by_side(role: Role, record_id: str) -> str | None:
        if mappings is None:
            return None
        mapping = mappings.side(role)
        return link(mapping.system.value, mapping.object, record_id)

    return by_side
