"""Contract tests for the Salesforce emulation: sObject CRUD, upsert, validation, system fields."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)
from simple_salesforce.format import format_external_id

from handoff_sync.sandbox.core.seed_data import SeedData
from handoff_sync.sandbox.salesforce.ids import salesforce_id
from handoff_sync.sandbox.server import SandboxServer
from tests.sandbox.test_salesforce_sandbox import error_code, opportunity


def test_crud_round_trip_with_soft_delete(sf: Salesforce) -> None:
    opp = sf.Opportunity
    record_id = opp.create(opportunity(Amount=500))["id"]

    assert opp.get(record_id, params={"fields": "Id,Name,Amount"}) == {
        "attributes": {"type": "Opportunity",
                       "url": f"/services/data/v59.0/sobjects/Opportunity/{record_id}"},
        "Id": record_id, "Name": "Acme renewal", "Amount": 500.0,
    }
    assert opp.update(record_id, {"Amount": 750}) == 204
    assert opp.get(record_id)["Amount"] == 750.0
    assert opp.delete(record_id) == 204
    for call in (lambda: opp.get(record_id), lambda: opp.update(record_id, {"Amount": 1}),
                 lambda: opp.delete(record_id)):
        with pytest.raises(SalesforceResourceNotFound) as exc:
            call()
        assert error_code(exc) == "ENTITY_IS_DELETED"


def test_upsert_reports_created_then_updated(sf: Salesforce) -> None:
    opp = sf.Opportunity
    path = format_external_id("Partner_Registration_Id__c", "PRM/2024 #7")

    first = opp.upsert(path, opportunity(Name="From partner"), raw_response=True)
    second = opp.upsert(path, {"Amount": 99}, raw_response=True)

    assert first.status_code == 201
    assert first.json() == {"id": first.json()["id"], "success": True, "errors": [],
                            "created": True}
    assert second.status_code == 200
    assert second.json()["created"] is False
    assert second.json()["id"] == first.json()["id"]
    found = opp.get_by_custom_id("Partner_Registration_Id__c", "PRM/2024 #7")
    assert (found["Name"], found["Amount"]) == ("From partner", 99.0)


def test_upsert_matching_several_records_is_300(sandbox: SandboxServer, sf: Salesforce) -> None:
    # Task's key is external but not unique, so only seeded data can hold it twice.
    rows = [{"Id": salesforce_id("00T", n), "Subject": "Call", "Status": "Not Started",
             "Priority": "Normal", "Handoff_Task_Key__c": "dup"} for n in (1, 2)]
    sandbox.sandbox.salesforce.load_seed(SeedData(salesforce={"Task": rows}))
    rows[0]["Handoff_Task_Key__c"] = "unique-per-task"

    with pytest.raises(SalesforceMoreThanOneRecord) as exc:
        sf.Task.upsert("Handoff_Task_Key__c/dup", {"Subject": "Email"})

    assert exc.value.status == 300
    assert len(exc.value.content) == 2


def test_upsert_needs_an_external_id_field(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as not_external:
        sf.Opportunity.upsert("Name/Acme", opportunity())
    with pytest.raises(SalesforceResourceNotFound) as unknown:
        sf.Opportunity.upsert("No_Such_Field__c/1", opportunity())

    assert not_external.value.content[0]["message"] == (
        "Field name provided, Name is not an External ID or indexed field for Opportunity")
    assert error_code(unknown) == "NOT_FOUND"


def test_unknown_and_malformed_ids(sf: Salesforce) -> None:
    account_id = sf.Account.create({"Name": "Globex"})["id"]

    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.Opportunity.get(salesforce_id("006", 9_999))
    with pytest.raises(SalesforceResourceNotFound) as not_an_id:
        sf.Opportunity.get("bogus")
    with pytest.raises(SalesforceMalformedRequest) as wrong_type:
        sf.Opportunity.update(account_id, {"Name": "x"})

    assert missing.value.content[0] == {"message": "The requested resource does not exist",
                                        "errorCode": "NOT_FOUND"}
    assert error_code(not_an_id) == "NOT_FOUND"
    assert error_code(wrong_type) == "MALFORMED_ID"


TOO_LONG = "x" * 121


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        (opportunity(Bogus__c=1), "INVALID_FIELD", []),
        (opportunity(IsClosed=True), "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsClosed"]),
        ({"StageName": "Prospecting"}, "REQUIRED_FIELD_MISSING", ["Name", "CloseDate"]),
        (opportunity(Name=TOO_LONG), "STRING_TOO_LONG", ["Name"]),
        (opportunity(StageName="Won-ish"), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
         ["StageName"]),
        (opportunity(AccountId="not-an-id"), "MALFORMED_ID", ["AccountId"]),
        (opportunity(AccountId=salesforce_id("001", 4_242)), "INVALID_CROSS_REFERENCE_KEY",
         ["AccountId"]),
        (opportunity(Partner_Rep_Email__c="nobody"), "INVALID_EMAIL_ADDRESS",
         ["Partner_Rep_Email__c"]),
    ],
)
def test_create_validation_errors(
    sf: Salesforce, body: dict[str, Any], code: str, fields: list[str]
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Opportunity.create(body)

    assert exc.value.content[0]["errorCode"] == code
    assert exc.value.content[0]["fields"] == fields
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 0


def test_error_messages_use_salesforce_wording(sf: Salesforce) -> None:
    messages = {}
    for body in (opportunity(Name=TOO_LONG), opportunity(StageName="Won-ish"),
                 {"StageName": "Prospecting"}, opportunity(Bogus__c=1)):
        with pytest.raises(SalesforceMalformedRequest) as exc:
            sf.Opportunity.create(body)
        messages[exc.value.content[0]["errorCode"]] = exc.value.content[0]["message"]

    assert messages == {
        "STRING_TOO_LONG": f"Name: data value too large: {TOO_LONG} (max length=120)",
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST":
            "Stage: bad value for restricted picklist field: Won-ish",
        "REQUIRED_FIELD_MISSING": "Required fields are missing: [Name, CloseDate]",
        "INVALID_FIELD": "No such column 'Bogus__c' on sobject of type Opportunity",
    }


@pytest.mark.parametrize(
    "fields",
    [{"Amount": "lots"}, {"CloseDate": "2025-13-45"}, {"Handoff_SLA_Due__c": "tomorrow"},
     {"Partner_Prepared_Prospect__c": "yes"}, {"Competitors__c": ["Acme"]}],
)
def test_wrong_json_types_are_parser_errors(sf: Salesforce, fields: dict[str, Any]) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Opportunity.create(opportunity(**fields))

    assert error_code(exc) == "JSON_PARSER_ERROR"
    assert exc.value.content[0]["message"].startswith("Cannot deserialize instance of")


def test_update_checks_restricted_picklists_but_not_open_ones(sf: Salesforce) -> None:
    record_id = sf.Opportunity.create(opportunity(Competitors__c="Acme;Hooli"))["id"]
    sf.Opportunity.update(record_id, {"LeadSource": "Trade show"})  # unrestricted

    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Opportunity.update(record_id, {"Handoff_Stage__c": "Nope"})

    assert error_code(exc) == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert sf.Opportunity.get(record_id)["LeadSource"] == "Trade show"


def test_update_rules_required_and_unique(sf: Salesforce) -> None:
    first = sf.Opportunity.create(opportunity(Partner_Registration_Id__c="REG-1"))["id"]
    second = sf.Opportunity.create(opportunity())["id"]

    with pytest.raises(SalesforceMalformedRequest) as nulled:
        sf.Opportunity.update(first, {"Name": None})
    with pytest.raises(SalesforceMalformedRequest) as clash:
        sf.Opportunity.update(second, {"Partner_Registration_Id__c": "reg-1"})

    assert nulled.value.content[0]["fields"] == ["Name"]
    assert error_code(nulled) == "REQUIRED_FIELD_MISSING"
    assert clash.value.content[0] == {
        "message": "duplicate value found: Partner_Registration_Id__c duplicates value on "
                   f"record with id: {first}",
        "errorCode": "DUPLICATE_VALUE", "fields": ["Partner_Registration_Id__c"]}


def test_datetime_and_date_inputs_in_iso_forms(sf: Salesforce) -> None:
    forms = ["2025-01-02T03:04:05Z", "2025-01-02T03:04:05.000+00:00",
             "2025-01-02T04:04:05.000+0100", "2025-01-02T03:04:05+0000"]
    ids = [sf.Opportunity.create(opportunity(Handoff_SLA_Due__c=f))["id"] for f in forms]

    stored = {sf.Opportunity.get(i)["Handoff_SLA_Due__c"] for i in ids}

    assert stored == {"2025-01-02T03:04:05.000+0000"}


def test_system_fields_follow_the_sandbox_clock(sandbox: SandboxServer, sf: Salesforce) -> None:
    clock = sandbox.sandbox.clock
    clock.freeze(datetime(2025, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC))
    record_id = sf.Opportunity.create(opportunity())["id"]
    created = sf.Opportunity.get(record_id)
    clock.shift(90)
    sf.Opportunity.update(record_id, {"Amount": 1})
    updated = sf.Opportunity.get(record_id)
    me = sf.query(f"SELECT Id FROM User WHERE Username = "
                  f"'{sandbox.sandbox.credentials.sf_username}'")["records"][0]["Id"]

    assert created["CreatedDate"] == created["SystemModstamp"] == "2025-01-02T03:04:05.678+0000"
    assert updated["CreatedDate"] == "2025-01-02T03:04:05.678+0000"
    assert updated["LastModifiedDate"] == updated["SystemModstamp"] == (
        "2025-01-02T03:05:35.678+0000")
    assert created["CreatedById"] == created["OwnerId"] == updated["LastModifiedById"] == me


def test_values_salesforce_derives_on_save(sf: Salesforce) -> None:
    won = sf.Opportunity.create(opportunity(StageName="Closed Won"))["id"]
    custom = sf.Opportunity.create(opportunity(StageName="Negotiation/Review", Probability=42))
    task = sf.Task.create({"Subject": "Kickoff"})["id"]
    sf.Task.update(task, {"Status": "Completed"})
    registrations = [sf.Deal_Registration__c.create({"Deal_Name__c": n})["id"] for n in "AB"]
    user = sf.User.create({"Username": "ae@x.example", "Email": "ae@x.example",
                           "FirstName": "Ada", "LastName": "Lovelace"})["id"]

    assert sf.Opportunity.get(won)["IsWon"] is True
    assert sf.Opportunity.get(won)["Probability"] == 100.0
    assert sf.Opportunity.get(custom["id"])["Probability"] == 42.0
    assert sf.Opportunity.get(custom["id"])["IsClosed"] is False
    assert sf.Task.get(task)["IsClosed"] is True
    assert sf.Task.get(task)["Priority"] == "Normal"
    assert [sf.Deal_Registration__c.get(i)["Name"] for i in registrations] == [
        "DR-000001", "DR-000002"]
    assert sf.User.get(user)["Name"] == "Ada Lovelace"
    assert sf.User.get(user)["IsActive"] is True


def test_seed_load_keeps_values_and_new_ids_continue(
    sandbox: SandboxServer, sf: Salesforce
) -> None:
    stamp = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    seeded_user = {"Id": salesforce_id("005", 7), "Username": sandbox.sandbox.credentials.
                   sf_username, "Email": "int@x.example", "LastName": "Seeded", "IsActive": True,
                   "Name": "Seeded"}
    opps = [{"Id": salesforce_id("006", n), "Name": f"Seeded {n}", "StageName": "Prospecting",
             "CloseDate": date(2024, 6, 30), "Amount": 10.0, "IsClosed": False, "IsWon": False,
             "SystemModstamp": stamp, "CreatedDate": stamp, "LastModifiedDate": stamp}
            for n in (40, 41)]
    sandbox.sandbox.reset()
    sandbox.sandbox.salesforce.load_seed(SeedData(salesforce={"User": [seeded_user],
                                                              "Opportunity": opps}))

    new_id = sf.Opportunity.create(opportunity())["id"]
    seeded = sf.Opportunity.get(salesforce_id("006", 41))
    users = sf.query("SELECT Id FROM User")["records"]

    assert new_id == salesforce_id("006", 42)
    assert seeded["Name"] == "Seeded 41"
    assert seeded["SystemModstamp"] == "2024-05-01T12:00:00.000+0000"
    assert seeded["CreatedById"] == seeded_user["Id"]
    assert [u["Id"] for u in users] == [seeded_user["Id"]]
    assert sf.Opportunity.get(new_id)["OwnerId"] == seeded_user["Id"]
