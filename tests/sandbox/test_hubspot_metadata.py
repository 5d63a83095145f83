"""Properties, owners and pipelines through the real client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm import properties as props_api
from hubspot.crm.deals import (
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.properties import Option, PropertyCreate

from handoff_sync.sandbox.core.seed_data import SeedData
from handoff_sync.sandbox.server import SandboxServer


def owner(i: int, *, active: bool = True) -> dict[str, Any]:
    return {"id": str(41_000_000 + i), "email": f"rep{i}@vendor.example", "type": "PERSON",
            "firstName": f"Rep{i}", "lastName": "Example",
            "userId": 8_100_000 + i if active else None,
            "userIdIncludingInactive": 8_100_000 + i,
            "createdAt": "2025-09-20T02:42:26.707Z", "updatedAt": "2026-01-07T14:50:12.590Z",
            "archived": not active, "teams": []}


def completeness_flag(name: str = "handoff_ready") -> PropertyCreate:
    return PropertyCreate(name=name, label="Handoff ready", type="bool",
                          field_type="booleancheckbox", group_name="dealinformation",
                          options=[Option(label="Yes", value="true", hidden=False,
                                          display_order=0),
                                   Option(label="No", value="false", hidden=False,
                                          display_order=1)])


def test_property_definitions_describe_types_options_and_metadata(hs: HubSpot) -> None:
    every = {p.name: p for p in hs.crm.properties.core_api.get_all("deals").results}
    stage = every["dealstage"]
    assert stage.type == "enumeration"
    assert {"appointmentscheduled", "closedwon", "9004456"} <= {o.value for o in stage.options}
    assert every["partner_registration_id"].has_unique_value is True
    modified = every["hs_lastmodifieddate"].modification_metadata
    assert (modified.read_only_value, modified.read_only_definition) == (True, True)
    assert every["region"].modification_metadata.archivable is True
    assert every["hs_lastmodifieddate"].created_at is not None
    one = hs.crm.properties.core_api.get_by_name("tasks", "hs_task_status")
    assert [o.value for o in one.options][:2] == ["NOT_STARTED", "IN_PROGRESS"]
    with pytest.raises(props_api.exceptions.NotFoundException):
        hs.crm.properties.core_api.get_by_name("deals", "nope")


def test_created_properties_are_writable_and_searchable_at_once(hs: HubSpot) -> None:
    created = hs.crm.properties.core_api.create("deals", property_create=completeness_flag())
    assert (created.name, created.type, created.hubspot_defined) == (
        "handoff_ready", "bool", False)
    deal = hs.crm.deals.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"dealname": "A", "handoff_ready": "True"}))
    assert deal.properties["handoff_ready"] == "true"
    found = hs.crm.deals.search_api.do_search(public_object_search_request=(
        PublicObjectSearchRequest(filter_groups=[FilterGroup(filters=[Filter(
            property_name="handoff_ready", operator="EQ", value="true")])],
            properties=["handoff_ready"])))
    assert [r.id for r in found.results] == [deal.id]

    with pytest.raises(props_api.ApiException) as info:
        hs.crm.properties.core_api.create("deals", property_create=completeness_flag())
    assert (info.value.status, json.loads(info.value.body)["category"]) == (409, "CONFLICT")


@pytest.mark.parametrize("change", [
    {"name": "Handoff-Ready"}, {"field_type": "text"}, {"type": "rich"},
    {"group_name": "nosuchgroup"},
])
def test_property_create_is_validated(hs: HubSpot, change: dict[str, str]) -> None:
    body = completeness_flag()
    for key, value in change.items():
        setattr(body, key, value)
    with pytest.raises(props_api.ApiException) as info:
        hs.crm.properties.core_api.create("deals", property_create=body)
    assert (info.value.status, json.loads(info.value.body)["category"]) == (
        400, "VALIDATION_ERROR")


def test_owners_by_email_with_paging_and_by_user_id(sandbox: SandboxServer,
                                                    hs: HubSpot) -> None:
    with sandbox.sandbox.lock:
        sandbox.sandbox.hubspot.load_seed(SeedData(hubspot_owners=[
            owner(1), owner(2), owner(3), owner(4, active=False)]))
    owners = hs.crm.owners.owners_api
    by_email = owners.get_page(email="REP2@vendor.example")
    assert [o.id for o in by_email.results] == ["41000002"]
    first = owners.get_page(limit=2)
    assert [o.id for o in first.results] == ["41000001", "41000002"]
    rest = owners.get_page(limit=2, after=first.paging.next.after)
    assert [o.id for o in rest.results] == ["41000003"] and rest.paging is None
    assert [o.id for o in owners.get_page(archived=True).results] == ["41000004"]
    assert owners.get_by_id("8100003", id_property="userId").email == "rep3@vendor.example"
    assert owners.get_by_id("41000001").user_id == 8_100_001
    deal = hs.crm.deals.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"dealname": "Owned", "hubspot_owner_id": "41000003"}))
    assert deal.properties["hubspot_owner_id"] == "41000003"


def test_pipelines_and_stages(hs: HubSpot) -> None:
    pipelines = hs.crm.pipelines.pipelines_api
    every = pipelines.get_all("deals").results
    assert [p.id for p in every] == ["default", "9004451"]
    default = pipelines.get_by_id("deals", "default")
    won = next(s for s in default.stages if s.id == "closedwon")
    assert won.metadata == {"isClosed": "true", "probability": "1.0"}
    stages = hs.crm.pipelines.pipeline_stages_api.get_all("deals", "9004451").results
    assert [s.display_order for s in stages] == list(range(6))
    with pytest.raises(Exception) as info:
        pipelines.get_by_id("deals", "nope")
    assert info.value.status == 404
