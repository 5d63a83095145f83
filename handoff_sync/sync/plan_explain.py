"""A dry run's explanations: the plan's context, and the records the scope leaves out.

Where the scope filters: Salesforce and HubSpot are asked for in-scope records only (the
scope is part of the SOQL query and the search filters), so a record outside it is never
read and never planned; a file drop's rows all reach the mirror and the engine plans no
registration outside the scope. Either way nothing said why a deal was missing from the
plan. A dry run finds these records without changing what syncs:

- mirrored records outside the scope that no link holds (file drops);
- records an in-scope record of the other side names by id (an opportunity's
  registration id, a registration's opportunity id) that the pull did not return: read by
  id (one batch read per 100 HubSpot records, a query per few hundred Salesforce ids), at
  most ``MAX_CHECKED`` per side, and listed when they are outside the scope.

A record of another pipeline that nothing links to is not looked for: listing every deal of
the org's other pipelines would cost a full read of the object and say nothing useful.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connectors.base import Connector, DropSource
from connectors.errors import ConnectorError
from handoff_sync.engine.types import EngineState, Link, Plan
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.system.convert import MappedRecord, in_scope
from handoff_sync.mapping.system.scope import RecordRef, SkippedRecord, skipped_record
from handoff_sync.mapping.system.transforms import scope_text
from handoff_sync.model import OwnerDirectory, Role
from handoff_sync.store.types import MirrorRecord
from handoff_sync.sync.cycle_parts import links_after
from handoff_sync.sync.drift import drifted_fields
from handoff_sync.sync.failures import failure_message
from handoff_sync.sync.plan_context import PlanContext, plan_context

MAX_CHECKED = 500  # records read by id per side to find the linked ones outside the scope
_OTHER = {Role.PRM: Role.CRM, Role.CRM: Role.PRM}


def dry_run_context(plan: Plan, mappings: MappingSet,
                    mirror: Mapping[Role, Mapping[str, MirrorRecord]],
                    records: Mapping[Role, Sequence[MappedRecord]],
                    owners: Mapping[Role, OwnerDirectory], state: EngineState,
                    connectors: Mapping[Role, Connector], drift: Mapping[str, str]
                    ) -> PlanContext:
    skipped, notes = out_of_scope(mappings, mirror, connectors,
                                  links_after(state.links, plan), drift)
    return plan_context(plan, mappings, records, owners, state, skipped=skipped, notes=notes)


def out_of_scope(mappings: MappingSet, mirror: Mapping[Role, Mapping[str, MirrorRecord]],
                 connectors: Mapping[Role, Connector], links: Mapping[str, Link],
                 drift: Mapping[str, str]) -> tuple[list[SkippedRecord], list[str]]:
    """The records the scope leaves out of this plan, and what could not be checked."""
    linked = {Role.PRM: set(links), Role.CRM: {link.crm_id for link in links.values()}}
    skipped: list[SkippedRecord] = []
    notes: list[str] = []
    for role in Role:
        mapping = mappings.side(role)
        for record_id, record in sorted(mirror[role].items()):
            if not record.deleted and record_id not in linked[role]:
                found = skipped_record(mapping, record.fields, record_id)
                if found is not None:
                    skipped.append(found)
    for role in Role:
        skipped.extend(_named_outside(role, mappings, mirror, connectors[role], drift, notes))
    return skipped, notes


def _named_outside(role: Role, mappings: MappingSet,
                   mirror: Mapping[Role, Mapping[str, MirrorRecord]], connector: Connector,
                   drift: Mapping[str, str], notes: list[str]) -> list[SkippedRecord]:
    """Records of ``role`` that the other side's in-scope records name and the pull did
    not return, read by id, when they are outside the scope."""
    mapping, other = mappings.side(role), mappings.side(_OTHER[role])
    rule = other.fields.get(mapping.id_field)  # the other side's field naming ours
    if not mapping.scope or isinstance(connector, DropSource) or rule is None \
            or rule.system_field is None:
        return []
    named: dict[str, RecordRef] = {}
    for other_id, record in sorted(mirror[_OTHER[role]].items()):
        if record.deleted or not in_scope(other, record.fields):
            continue
        wanted = scope_text(record.fields.get(rule.system_field)).strip()
        if wanted and wanted not in mirror[role] \
                and connector.id_problem(mapping.object, wanted) is None:
            named.setdefault(wanted, RecordRef(other.system.value, other.object, other_id))
    if not named:
        return []
    ids = sorted(named)[:MAX_CHECKED]
    if len(named) > len(ids):
        notes.append(f"{len(named) - len(ids)} more {mapping.system.value} records named by "
                     f"{other.system.value} records were not checked against the scope")
    fields = sorted(mapping.system_fields()
                    - drifted_fields(dict(drift), mapping.system.value, mapping.object))
    try:
        found = connector.fetch(mapping.object, ids, fields)
    except ConnectorError as exc:
        notes.append(f"could not read {len(ids)} {mapping.system.value} records named by "
                     f"{other.system.value} records to check their scope: "
                     f"{failure_message(exc)}")
        return []
    out = []
    for change in found:
        if change.deleted:
            continue
        skipped = skipped_record(mapping, change.fields, change.id,
                                 named_by=named.get(change.id))
        if skipped is not None:
            out.append(skipped)
    return out
