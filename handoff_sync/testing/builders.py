"""Engine state builders: realistic inputs from the sandbox seed, and applying a plan.

``apply_plan`` does to the inputs what the sync cycle does to the systems and the store
when every write succeeds: records take the written values (in the form each system
stores them), the ledger, clocks, bases, verdicts and links take the plan's new rows, and
each opportunity the plan creates joins the CRM records, linked to its registration.
Planning again from its result must find nothing to do - except for a created
opportunity, whose pair is planned (ids written back, verdict, tasks) the cycle after.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from connectors.base import Owner
from handoff_sync.engine.plan import EngineInput
from handoff_sync.engine.stored import StoredForms
from handoff_sync.engine.types import (
    EngineState,
    Link,
    LinkChangeKind,
    LinkMethod,
    Plan,
    TaskState,
)
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.system.convert import MappedRecord, flatten_record, to_canonical
from handoff_sync.model import OwnerDirectory, Role, SystemName
from handoff_sync.sandbox.seed.generator import generate_with_truth
from handoff_sync.sandbox.seed.truth import SeedTruth

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MAPPINGS = REPO / "mappings"


def minimal_config(database_url: str, mappings: Path = DEFAULT_MAPPINGS) -> str:
    """The text of a valid daemon config: one pipeline, Salesforce (CRM) and HubSpot (PRM)
    with their secrets as references (nothing is read until a connector is built), the
    store at ``database_url``. For commands that fail or finish before any call."""
    return (f'version: 1\n'
            f'database: {{url: "{database_url}"}}\n'
            'connections:\n'
            '  crm: {system: salesforce, client_id: app, username: sync@example.com,\n'
            '        private_key: "${SF_JWT_KEY}"}\n'
            '  prm: {system: hubspot, access_token: {file: token}}\n'
            'pipelines:\n'
            f'  - {{name: partners, prm: prm, crm: crm, mappings: {mappings}}}\n')


def default_mappings() -> MappingSet:
    return load_mappings(DEFAULT_MAPPINGS)


def salesforce_owners(users: Iterable[Mapping[str, Any]]) -> OwnerDirectory:
    return OwnerDirectory(Owner(u["Id"], str(u["Email"]).lower(), bool(u.get("IsActive", True)),
                                u.get("ManagerId")) for u in users)


def hubspot_owners(owners: Iterable[Mapping[str, Any]]) -> OwnerDirectory:
    return OwnerDirectory(Owner(str(o["id"]), str(o["email"]).lower(),
                                not o.get("archived", False)) for o in owners)


@dataclasses.dataclass(frozen=True)
class SeededInputs:
    mappings: MappingSet
    prm: tuple[MappedRecord, ...]
    crm: tuple[MappedRecord, ...]
    prm_owners: OwnerDirectory
    crm_owners: OwnerDirectory
    truth: SeedTruth

    def engine_input(self, now: datetime, state: EngineState | None = None,
                     pipeline: str = "partners") -> EngineInput:
        return EngineInput(pipeline, self.mappings, self.prm, self.crm,
                           state or EngineState(), now, self.crm_owners, self.prm_owners)


def seeded_inputs(*, deals: int, now: datetime, random_seed: int = 7,
                  partners: int = 12) -> SeededInputs:
    """Pack (a) over a seeded org pair: HubSpot partner registrations, Salesforce CRM."""
    data, truth = generate_with_truth(deals=deals, partners=partners, random_seed=random_seed,
                                      now=now)
    mappings = default_mappings()
    prm_owners = hubspot_owners(data.hubspot_owners)
    crm_owners = salesforce_owners(data.salesforce.get("User", []))
    prm = []
    for obj in data.hubspot.get("deals", []):
        raw = flatten_record(SystemName("hubspot"), {"id": obj.id, "properties": obj.properties})
        raw.setdefault("hs_lastmodifieddate", obj.updated_at.isoformat())
        record = to_canonical(mappings.prm, raw, prm_owners)
        if record.in_scope:
            prm.append(record)
    crm = [to_canonical(mappings.crm, raw, crm_owners)
           for raw in data.salesforce.get("Opportunity", [])]
    return SeededInputs(mappings, tuple(prm), tuple(crm), prm_owners, crm_owners, truth)


def apply_plan(inputs: EngineInput, plan: Plan) -> EngineInput:
    """The inputs as they stand after the plan was carried out in full."""
    stored = StoredForms({Role.PRM: inputs.mappings.prm, Role.CRM: inputs.mappings.crm},
                         {Role.PRM: inputs.prm_owners, Role.CRM: inputs.crm_owners})
    records = {Role.PRM: {r.record_id: r for r in inputs.prm},
               Role.CRM: {r.record_id: r for r in inputs.crm}}
    for write in plan.writes:
        record = records[write.role][write.record_id]
        side = inputs.mappings.side(write.role)
        values = dict(record.values)
        for name, value in write.values.items():
            if name in side.fields and side.fields[name].reads:
                values[name] = stored(write.role, name, value)
        outputs = dict(record.outputs)
        for output, value in write.outputs.items():
            outputs[output] = stored(write.role, output, value)
        records[write.role][write.record_id] = dataclasses.replace(
            record, values=MappingProxyType(values), outputs=MappingProxyType(outputs))
    state = inputs.state
    links = dict(state.links)
    crm = inputs.mappings.crm
    created: list[MappedRecord] = []
    for creation in plan.creations:  # as the sync layer does: create, then link
        crm_id = f"created-{creation.prm_id}"
        held: dict[str, Any] = {
            name: stored(Role.CRM, name, value) for name, value in creation.values.items()
            if name in crm.fields and crm.fields[name].reads}
        held["crm_id"] = crm_id
        record = MappedRecord(crm.system, Role.CRM, crm_id, inputs.now, True,
                              MappingProxyType(held))
        records[Role.CRM][crm_id] = record
        created.append(record)
        links[creation.prm_id] = Link(creation.prm_id, crm_id, LinkMethod.CREATED, 1.0)
    for change in plan.links:
        if change.kind is LinkChangeKind.CREATE:
            links[change.link.prm_id] = change.link
        else:
            links.pop(change.link.prm_id, None)
    tasks = dict(state.tasks)
    for action in plan.tasks:
        previous = tasks.get(action.task.key)
        tasks[action.task.key] = TaskState(action.task, previous.system_task_id
                                           if previous else f"task-{len(tasks)}")
    clocks = dict(state.clocks)
    for clock in plan.clocks:
        clocks[(clock.deal, clock.handoff_type, clock.clock)] = clock
    bases = dict(state.bases)
    for base in plan.bases:
        bases[base.deal] = base
    verdicts = dict(state.verdicts)
    for verdict in plan.verdicts:
        verdicts[verdict.deal] = verdict
    decisions = dict(state.decisions)
    for decision in plan.decisions:  # in plan order: the last one of a deal stands
        decisions[decision.deal] = decision
    baselines = dict(state.baselines)
    for baseline in plan.baselines:
        baselines[(baseline.deal, baseline.handoff_type)] = baseline
    return dataclasses.replace(
        inputs, prm=_ordered(records[Role.PRM], inputs.prm),
        crm=_ordered(records[Role.CRM], inputs.crm) + tuple(created),
        state=EngineState(links, bases, tasks, clocks, verdicts, decisions, baselines))


def _ordered(updated: Mapping[str | None, MappedRecord],
             original: Sequence[MappedRecord]) -> tuple[MappedRecord, ...]:
    return tuple(updated[record.record_id] for record in original)
