"""The sandbox's schema overlay: Salesforce fields hidden or made read-only under a client.

Checked through simple-salesforce, as the connector sees the org: describe, SOQL, single
record writes and sObject Collections answer as a real org does after an admin removed a
field from the integration user's profile or locked it.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.testing.sandbox_clients import salesforce_session
from tests.sandbox.test_salesforce_sandbox import create_many, error_code, opportunity

DRIFT = {"salesforce": {"Opportunity": {"hidden": ["Budget__c"],
                                        "read_only": ["Handoff_Brief__c"]}}}
# The overlay of an undrifted sandbox.
NONE: dict[str, dict[str, Any]] = {"salesforce": {}, "hubspot": {}}


def schema(server: SandboxServer, method: str, body: Any = None) -> requests.Response:
    return salesforce_session(server).request(
        method, f"{server.base_url}/__sandbox__/schema", json=body, timeout=30)


@pytest.fixture
def deal(sf: Salesforce) -> str:
    [record_id] = create_many(sf, "Opportunity", [opportunity(Budget__c=1200,
                                                              Handoff_Brief__c="Brief")])
    return record_id


def fields_of(sf: Salesforce) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in sf.Opportunity.describe()["fields"]}


def collection_statuses(sf: Salesforce, method: str, records: list[dict[str, Any]]) -> list[str]:
    results = sf.restful("composite/sobjects", method=method,
                         json={"allOrNone": False, "records": records})
    return ["ok" if r["success"] else r["errors"][0]["statusCode"] for r in results]


def test_the_overlay_is_set_read_replaced_and_restored(sandbox: SandboxServer) -> None:
    assert schema(sandbox, "GET").json() == NONE
    answer = schema(sandbox, "POST", {"salesforce": {"opportunity": {"hidden": ["budget__c"]}}})
    assert answer.status_code == 200
    # Names come back canonical; a POST replaces the whole overlay.
    assert answer.json() == {**NONE, "salesforce": {"Opportunity": {"hidden": ["Budget__c"],
                                                                    "read_only": []}}}
    replaced = schema(sandbox, "POST", {"salesforce": {"Account": {"read_only": ["Website"]}}})
    assert replaced.json() == {**NONE, "salesforce": {"Account": {"hidden": [],
                                                                  "read_only": ["Website"]}}}
    assert schema(sandbox, "DELETE").json() == NONE
    schema(sandbox, "POST", DRIFT)
    sandbox.sandbox.reset()
    assert schema(sandbox, "GET").json() == NONE


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"zendesk": {}}, "unknown key(s) ['zendesk']; known: salesforce, hubspot"),
        ({"salesforce": {"Nope__c": {}}}, "salesforce.Nope__c: no such object"),
        ({"salesforce": {"Opportunity": {"hiden": []}}},
         "salesforce.Opportunity: unknown key(s) ['hiden']; known: hidden, read_only"),
        ({"salesforce": {"Opportunity": {"hidden": ["Nope__c"]}}},
         "salesforce.Opportunity.hidden: Opportunity has no field 'Nope__c'"),
        ({"salesforce": {"Opportunity": {"read_only": "Name"}}},
         "salesforce.Opportunity.read_only: expected a list of field names"),
        ({"salesforce": {"Opportunity": {"hidden": ["Id"]}}}, "Id cannot be hidden"),
    ],
)
def test_bad_overlays_are_refused_naming_the_key(sandbox: SandboxServer, body: Any,
                                                 message: str) -> None:
    schema(sandbox, "POST", DRIFT)
    answer = schema(sandbox, "POST", body)
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert schema(sandbox, "GET").json() == {**NONE, **DRIFT}  # a refused body changes nothing


def test_describe_omits_hidden_fields_and_locks_read_only_ones(sandbox: SandboxServer,
                                                               sf: Salesforce) -> None:
    before = fields_of(sf)
    schema(sandbox, "POST", DRIFT)
    after = fields_of(sf)
    assert "Budget__c" in before and "Budget__c" not in after
    brief = after["Handoff_Brief__c"]
    assert (brief["createable"], brief["updateable"]) == (False, False)
    assert before["Handoff_Brief__c"]["updateable"] is True
    assert set(before) - set(after) == {"Budget__c"}
    schema(sandbox, "DELETE")
    assert fields_of(sf) == before


@pytest.mark.parametrize("soql", [
    "SELECT Id, Budget__c FROM Opportunity",
    "SELECT Id FROM Opportunity WHERE Budget__c > 10",
    "SELECT Id FROM Opportunity ORDER BY budget__c",
])
def test_soql_naming_a_hidden_field_fails_as_for_an_unknown_column(
        sandbox: SandboxServer, sf: Salesforce, deal: str, soql: str) -> None:
    schema(sandbox, "POST", DRIFT)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.query(soql)
    assert error_code(exc) == "INVALID_FIELD"
    assert "No such column" in exc.value.content[0]["message"]
    assert "on entity 'Opportunity'" in exc.value.content[0]["message"]
    # Read-only fields are still readable.
    rows = sf.query("SELECT Id, Handoff_Brief__c FROM Opportunity")["records"]
    assert [r["Handoff_Brief__c"] for r in rows] == ["Brief"]


def test_single_record_writes_fail_on_hidden_and_read_only_fields(
        sandbox: SandboxServer, sf: Salesforce, deal: str) -> None:
    schema(sandbox, "POST", DRIFT)
    with pytest.raises(SalesforceMalformedRequest) as hidden:
        sf.Opportunity.update(deal, {"Budget__c": 5})
    assert error_code(hidden) == "INVALID_FIELD"
    assert "No such column 'Budget__c'" in hidden.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest) as locked:
        sf.Opportunity.update(deal, {"Handoff_Brief__c": "New"})
    assert error_code(locked) == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert locked.value.content[0]["fields"] == ["Handoff_Brief__c"]
    with pytest.raises(SalesforceMalformedRequest) as created:
        sf.Opportunity.create(opportunity(Handoff_Brief__c="New"))
    assert error_code(created) == "INVALID_FIELD_FOR_INSERT_UPDATE"
    # Other fields still write, and a record read omits the hidden field.
    sf.Opportunity.update(deal, {"Name": "Renamed"})
    record = sf.Opportunity.get(deal)
    assert record["Name"] == "Renamed" and "Budget__c" not in record
    assert record["Handoff_Brief__c"] == "Brief"


def test_collections_fail_per_record(sandbox: SandboxServer, sf: Salesforce, deal: str) -> None:
    schema(sandbox, "POST", DRIFT)
    typed = {"attributes": {"type": "Opportunity"}}
    updated = collection_statuses(sf, "PATCH", [
        {**typed, "id": deal, "Budget__c": 5},
        {**typed, "id": deal, "Handoff_Brief__c": "New"},
        {**typed, "id": deal, "Description": "fine"},
    ])
    assert updated == ["INVALID_FIELD", "INVALID_FIELD_FOR_INSERT_UPDATE", "ok"]
    created = collection_statuses(sf, "POST", [
        {**typed, **opportunity(Budget__c=5)},
        {**typed, **opportunity()},
    ])
    assert created == ["INVALID_FIELD", "ok"]
    upserted = sf.restful("composite/sobjects/Opportunity/Partner_Registration_Id__c",
                          method="PATCH", json={"allOrNone": False, "records": [
                              {**typed, "Partner_Registration_Id__c": "R-1", "Budget__c": 5,
                               **opportunity()}]})
    assert upserted[0]["errors"][0]["statusCode"] == "INVALID_FIELD"


def test_a_restored_field_comes_back_with_its_value(sandbox: SandboxServer, sf: Salesforce,
                                                    deal: str) -> None:
    schema(sandbox, "POST", DRIFT)
    sf.Opportunity.update(deal, {"Name": "Touched while hidden"})
    [created] = create_many(sf, "Opportunity", [opportunity(Name="Born while hidden")])
    schema(sandbox, "DELETE")
    assert sf.Opportunity.get(deal)["Budget__c"] == 1200.0
    assert sf.Opportunity.get(created)["Budget__c"] is None
    sf.Opportunity.update(deal, {"Budget__c": 7, "Handoff_Brief__c": "Writable again"})
    row = sf.query(f"SELECT Budget__c, Handoff_Brief__c FROM Opportunity WHERE Id = '{deal}'")
    assert row["records"][0]["Budget__c"] == 7.0
    assert row["records"][0]["Handoff_Brief__c"] == "Writable again"
