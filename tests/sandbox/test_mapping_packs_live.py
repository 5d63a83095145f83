"""Both default mapping packs against the describe() the sandbox serves to the real clients.

The unit tests check the packs against the sandbox's schema definitions; this checks them
against what goes over the wire (Salesforce describe, HubSpot properties and pipelines),
so a drift between the definitions and the emulated API cannot hide. The conversion from
vendor describe JSON to ObjectSchema here is the one `mappings validate --live` will get
from the connectors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce

from connectors.base import FieldSchema, ObjectSchema
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.system.convert import SystemMapping
from handoff_sync.mapping.system.describe import check_against_describe
from handoff_sync.model import SystemName

ROOT = Path(__file__).resolve().parents[2]
PACKS = [ROOT / "mappings", ROOT / "mappings" / "packs" / "salesforce-prm-hubspot-crm"]


def salesforce_described(sf: Salesforce, name: str) -> ObjectSchema:
    describe: dict[str, Any] = getattr(sf, name).describe()
    fields = {}
    for f in describe["fields"]:
        picklist = tuple(v["value"] for v in f["picklistValues"] if v["active"])
        fields[f["name"]] = FieldSchema(
            name=f["name"], type=f["type"], createable=f["createable"],
            updateable=f["updateable"], nillable=f["nillable"], length=f["length"],
            picklist_values=picklist if f["type"] in ("picklist", "multipicklist",
                                                      "combobox") else None,
            restricted_picklist=f["restrictedPicklist"],
            reference_to=tuple(f["referenceTo"]),
        )
    return ObjectSchema(describe["name"], fields, case_insensitive=True)


def hubspot_described(hs: HubSpot, object_type: str) -> ObjectSchema:
    fields = {}
    for prop in hs.crm.properties.core_api.get_all(object_type).results:
        read_only = prop.modification_metadata.read_only_value or prop.calculated
        options = tuple(option.value for option in prop.options or [])
        picklist = options if prop.type == "enumeration" and options else None
        multi = prop.type == "enumeration" and prop.field_type == "checkbox"
        fields[prop.name] = FieldSchema(
            name=prop.name, type="multi_enumeration" if multi else prop.type,
            createable=not read_only, updateable=not read_only,
            picklist_values=picklist, restricted_picklist=picklist is not None,
        )
    pipelines: dict[str, tuple[str, ...]] = {}
    if object_type == "deals":
        for pipeline in hs.crm.pipelines.pipelines_api.get_all(object_type).results:
            pipelines[pipeline.id] = tuple(stage.id for stage in pipeline.stages)
    return ObjectSchema(object_type, fields,
                        pipeline_field="pipeline" if pipelines else None,
                        stage_field="dealstage" if pipelines else None, pipelines=pipelines)


def described(mapping: SystemMapping, sf: Salesforce,
              hs: HubSpot) -> tuple[ObjectSchema, ObjectSchema]:
    if mapping.system is SystemName.SALESFORCE:
        return salesforce_described(sf, mapping.object), salesforce_described(sf, "Task")
    return hubspot_described(hs, mapping.object), hubspot_described(hs, "tasks")


@pytest.mark.parametrize("folder", PACKS, ids=["pack-a", "pack-b"])
def test_default_packs_validate_against_the_live_sandbox_describe(
    folder: Path, sf: Salesforce, hs: HubSpot
) -> None:
    mappings = load_mappings(folder)
    for mapping in (mappings.prm, mappings.crm):
        deal_object, task_object = described(mapping, sf, hs)
        assert check_against_describe(mapping, deal_object, task_object) == []


def test_a_field_the_org_lacks_is_reported_with_file_and_line(
    sf: Salesforce, hs: HubSpot
) -> None:
    mapping = load_mappings(PACKS[0]).crm
    deal_object, task_object = described(mapping, sf, hs)
    fields = {k: v for k, v in deal_object.fields.items() if k != "Economic_Buyer__c"}
    lacking = ObjectSchema(deal_object.name, fields, case_insensitive=True)
    problems = check_against_describe(mapping, lacking, task_object)
    assert len(problems) == 1
    assert problems[0].file.name == "salesforce.yaml" and problems[0].line > 0
    assert "Economic_Buyer__c" in str(problems[0])
