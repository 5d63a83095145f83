"""The sandbox's schema overlay on the HubSpot side: deal properties archived or locked.

Checked through hubspot-api-client, as the connector sees the portal after an admin
archived a custom property or locked its value: the properties API, reads, search, and
single and batch writes answer as HubSpot does (an archived property is simply left out
of reads; writes are refused per property with HubSpot's validation body).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.deals import ApiException, PublicObjectSearchRequest
from hubspot.crm.deals import BatchResponseSimplePublicObjectWithErrors as WithErrors
from hubspot.crm.properties import ApiException as PropertiesApiException

from handoff_sync.sandbox.server import SandboxServer
from tests.sandbox.test_hubspot_batch import create_many, update_many, upsert_many

DRIFT = {"hubspot": {"deals": {"hidden": ["budget"], "read_only": ["handoff_brief"]}}}
NONE: dict[str, dict[str, Any]] = {"salesforce": {}, "hubspot": {}}


def schema(server: SandboxServer, method: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{server.base_url}/__sandbox__/schema", json=body,
                            verify=str(server.ca_file), timeout=30)


@pytest.fixture
def deal(hs: HubSpot) -> str:
    created = hs.crm.deals.basic_api.create({"properties": {
        "dealname": "Drifting", "budget": "1200", "handoff_brief": "Brief"}})
    return str(created.id)


def properties_of(hs: HubSpot, archived: bool = False) -> dict[str, Any]:
    found = hs.crm.properties.core_api.get_all("deals", archived=archived).results
    return {p.name: p for p in found}


def codes(exc: pytest.ExceptionInfo[Any]) -> list[str]:
    body = json.loads(exc.value.body)
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: ")
    return [e["code"] for e in body["errors"]]


def test_the_overlay_is_set_with_salesforce_read_and_restored(sandbox: SandboxServer) -> None:
    both = {"salesforce": {"Opportunity": {"hidden": ["Budget__c"]}},
            "hubspot": {"deal": {"read_only": ["amount"]}}}
    answer = schema(sandbox, "POST", both)
    assert answer.status_code == 200
    # Object types come back as their plural name; kinds not given are empty.
    assert answer.json()["hubspot"] == {"deals": {"hidden": [], "read_only": ["amount"]}}
    assert schema(sandbox, "GET").json()["salesforce"] == {
        "Opportunity": {"hidden": ["Budget__c"], "read_only": []}}
    assert schema(sandbox, "DELETE").json() == NONE
    schema(sandbox, "POST", DRIFT)
    sandbox.sandbox.seed(deals=5, partners=1, random_seed=1)  # a reseed keeps the drift
    assert schema(sandbox, "GET").json() == {**NONE, **DRIFT}
    sandbox.sandbox.reset()
    assert schema(sandbox, "GET").json() == NONE


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"hubspot": {"tickets": {}}}, "hubspot.tickets: no such object type"),
        ({"hubspot": {"deals": {"hiden": []}}},
         "hubspot.deals: unknown key(s) ['hiden']; known: hidden, read_only"),
        ({"hubspot": {"deals": {"hidden": ["nope"]}}},
         "hubspot.deals.hidden: deals has no property 'nope'"),
        ({"hubspot": {"deals": {"read_only": "amount"}}},
         "hubspot.deals.read_only: expected a list of property names"),
        ({"hubspot": {"deals": {"hidden": ["dealname"]}}},
         "dealname is HubSpot-defined and cannot be archived"),
        ({"hubspot": {"deals": {"hidden": ["hs_object_id"]}}}, "cannot be archived"),
        ({"hubspot": [], "salesforce": {}}, "hubspot: expected an object"),
    ],
)
def test_bad_overlays_are_refused_and_change_neither_system(
        sandbox: SandboxServer, body: Any, message: str) -> None:
    drift = {"salesforce": {"Opportunity": {"hidden": ["Budget__c"], "read_only": []}},
             "hubspot": {"deals": {"hidden": ["budget"], "read_only": []}}}
    schema(sandbox, "POST", drift)
    answer = schema(sandbox, "POST", {"salesforce": {}, **body})
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert schema(sandbox, "GET").json() == drift


def test_the_properties_api_archives_hidden_and_locks_read_only(sandbox: SandboxServer,
                                                                hs: HubSpot) -> None:
    before = properties_of(hs)
    assert properties_of(hs, archived=True) == {}
    schema(sandbox, "POST", DRIFT)
    after = properties_of(hs)
    assert set(before) - set(after) == {"budget"}
    assert after["handoff_brief"].modification_metadata.read_only_value is True
    assert before["handoff_brief"].modification_metadata.read_only_value is False
    archived = properties_of(hs, archived=True)
    assert list(archived) == ["budget"] and archived["budget"].archived is True
    with pytest.raises(PropertiesApiException) as exc:
        hs.crm.properties.core_api.get_by_name("deals", "budget")
    assert exc.value.status == 404
    schema(sandbox, "DELETE")
    assert {n: p.to_dict() for n, p in properties_of(hs).items()} == {
        n: p.to_dict() for n, p in before.items()}


def test_reads_leave_an_archived_property_out(sandbox: SandboxServer, hs: HubSpot,
                                              deal: str) -> None:
    schema(sandbox, "POST", DRIFT)
    wanted = ["budget", "handoff_brief", "description"]
    record = hs.crm.deals.basic_api.get_by_id(deal, properties=wanted)
    # Unset properties come back as null; the archived one does not come back at all.
    assert "budget" not in record.properties and record.properties["description"] is None
    assert record.properties["handoff_brief"] == "Brief"  # locked values stay readable
    page = hs.crm.deals.basic_api.get_page(properties=wanted)
    assert all("budget" not in r.properties for r in page.results)
    found = hs.crm.deals.search_api.do_search(PublicObjectSearchRequest(
        properties=wanted, filter_groups=[{"filters": [
            {"propertyName": "handoff_brief", "operator": "EQ", "value": "Brief"}]}]))
    assert [r.id for r in found.results] == [deal] and "budget" not in found.results[0].properties


@pytest.mark.parametrize("request_body", [
    {"filter_groups": [{"filters": [{"propertyName": "budget", "operator": "GT",
                                     "value": "10"}]}]},
    {"sorts": [{"propertyName": "budget", "direction": "ASCENDING"}]},
])
def test_search_filters_and_sorts_on_an_archived_property_are_a_400(
        sandbox: SandboxServer, hs: HubSpot, deal: str, request_body: dict[str, Any]) -> None:
    schema(sandbox, "POST", DRIFT)
    with pytest.raises(ApiException) as exc:
        hs.crm.deals.search_api.do_search(PublicObjectSearchRequest(**request_body))
    body = json.loads(exc.value.body)
    assert exc.value.status == 400 and body["category"] == "VALIDATION_ERROR"
    assert body["context"] == {"propertyName": ["budget"]}


def test_single_writes_are_refused_per_property(sandbox: SandboxServer, hs: HubSpot,
                                                deal: str) -> None:
    schema(sandbox, "POST", DRIFT)
    with pytest.raises(ApiException) as hidden:
        hs.crm.deals.basic_api.update(deal, {"properties": {"budget": "5"}})
    assert codes(hidden) == ["PROPERTY_DOESNT_EXIST"]
    with pytest.raises(ApiException) as locked:
        hs.crm.deals.basic_api.update(deal, {"properties": {"handoff_brief": "New"}})
    assert codes(locked) == ["READ_ONLY_VALUE"]
    with pytest.raises(ApiException) as both:
        hs.crm.deals.basic_api.create({"properties": {
            "dealname": "New", "budget": "1", "handoff_brief": "x"}})
    assert sorted(codes(both)) == ["PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE"]
    # Other properties still write, and the answer does not show the archived value.
    updated = hs.crm.deals.basic_api.update(deal, {"properties": {"dealname": "Renamed"}})
    assert updated.properties["dealname"] == "Renamed" and "budget" not in updated.properties


def test_batch_writes_fail_the_records_at_fault(sandbox: SandboxServer, hs: HubSpot,
                                                deal: str) -> None:
    other = str(create_many(hs, {"dealname": "Other"}).results[0].id)
    schema(sandbox, "POST", DRIFT)
    updated = update_many(hs, (deal, {"budget": "5"}), (other, {"dealname": "Fine"}))
    assert isinstance(updated, WithErrors) and updated.num_errors == 1
    error = updated.errors[0]
    assert (error.category, error.context) == ("VALIDATION_ERROR", {"ids": [deal]})
    assert [e.code for e in error.errors] == ["PROPERTY_DOESNT_EXIST"]
    assert [r.id for r in updated.results] == [other]
    # Batch create is all-or-nothing unless the inputs carry trace ids.
    with pytest.raises(ApiException) as whole:
        create_many(hs, {"dealname": "A"}, {"dealname": "B", "handoff_brief": "x"})
    assert codes(whole) == ["READ_ONLY_VALUE"]
    traced = create_many(hs, {"dealname": "A"}, {"dealname": "B", "budget": "1"}, trace=True)
    assert traced.errors[0].context == {"objectWriteTraceId": ["t1"]}
    assert [r.properties["dealname"] for r in traced.results] == ["A"]
    upserted = upsert_many(hs, "partner_registration_id", ("R-1", {"dealname": "U",
                                                                   "budget": "3"}))
    assert upserted.errors[0].context == {"ids": ["R-1"]}


def test_a_restored_property_comes_back_with_its_value(sandbox: SandboxServer, hs: HubSpot,
                                                       deal: str) -> None:
    schema(sandbox, "POST", DRIFT)
    hs.crm.deals.basic_api.update(deal, {"properties": {"dealname": "Touched while archived"}})
    schema(sandbox, "DELETE")
    wanted = ["budget", "handoff_brief"]
    assert hs.crm.deals.basic_api.get_by_id(deal, properties=wanted).properties["budget"] \
        == "1200"
    hs.crm.deals.basic_api.update(deal, {"properties": {"budget": "7",
                                                        "handoff_brief": "Writable again"}})
    record = hs.crm.deals.basic_api.get_by_id(deal, properties=wanted)
    assert (record.properties["budget"], record.properties["handoff_brief"]) == (
        "7", "Writable again")
