"""Contract tests for the Salesforce emulation: sObject Collections (crm-api-reference.md 2.4)."""

from __future__ import annotations

from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from handoff_sync.sandbox.salesforce.ids import salesforce_id
from tests.sandbox.test_salesforce_sandbox import create_many, error_code, opportunity

ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was "
               "using AllOrNone header",
    "fields": [],
}


def typed(object_name: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": object_name}, **fields}


def collection(sf: Salesforce, method: str, records: list[dict[str, Any]], *,
               all_or_none: bool, path: str = "composite/sobjects") -> Any:
    return sf.restful(path, method=method, json={"allOrNone": all_or_none, "records": records})


def statuses(results: list[dict[str, Any]]) -> list[str]:
    return ["ok" if r["success"] else r["errors"][0]["statusCode"] for r in results]


def test_create_reports_each_record_in_order(sf: Salesforce) -> None:
    results = collection(sf, "POST", [
        typed("Opportunity", **opportunity(Name="One")),
        typed("Opportunity", **opportunity(StageName="Nope")),
        typed("Task", Subject="Follow up"),
        {"Name": "no type"},
    ], all_or_none=False)

    assert statuses(results) == ["ok", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "ok",
                                 "INVALID_TYPE"]
    assert results[1] == {"success": False, "errors": [{
        "statusCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "message": "Stage: bad value for restricted picklist field: Nope",
        "fields": ["StageName"]}]}
    assert sf.Opportunity.get(results[0]["id"])["Name"] == "One"
    assert sf.Task.get(results[2]["id"])["Subject"] == "Follow up"


def test_all_or_none_writes_nothing_when_one_record_fails(sf: Salesforce) -> None:
    results = collection(sf, "POST", [
        typed("Opportunity", **opportunity(Name="Good")),
        typed("Opportunity", Name="No stage or date"),
    ], all_or_none=True)

    assert results[0] == {"success": False, "errors": [ROLLED_BACK]}
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 0


def test_update_partial_and_rolled_back(sf: Salesforce) -> None:
    first, second = create_many(sf, "Opportunity", [opportunity(Name="A"), opportunity(Name="B")])
    missing = salesforce_id("006", 9_000)

    partial = collection(sf, "PATCH", [
        typed("Opportunity", id=first, Amount=10),
        typed("Opportunity", id=second, Name="x" * 121),
        typed("Opportunity", id=missing, Amount=1),
        typed("Opportunity", Amount=1),
    ], all_or_none=False)
    rolled = collection(sf, "PATCH", [
        typed("Opportunity", id=first, Amount=20),
        typed("Opportunity", id=second, StageName="Bogus"),
    ], all_or_none=True)

    assert statuses(partial) == ["ok", "STRING_TOO_LONG", "INVALID_CROSS_REFERENCE_KEY",
                                 "MISSING_ARGUMENT"]
    assert partial[1]["id"] == second
    assert rolled[0] == {"id": first, "success": False, "errors": [ROLLED_BACK]}
    assert sf.Opportunity.get(first)["Amount"] == 10.0
    assert sf.Opportunity.get(second)["Name"] == "B"


def test_upsert_creates_and_updates_by_external_id(sf: Salesforce) -> None:
    path = "composite/sobjects/Opportunity/Partner_Registration_Id__c"
    first = collection(sf, "PATCH", [
        typed("Opportunity", Partner_Registration_Id__c="R-1", **opportunity()),
    ], all_or_none=False, path=path)

    second = collection(sf, "PATCH", [
        typed("Opportunity", Partner_Registration_Id__c="R-1", Amount=5),
        typed("Opportunity", Partner_Registration_Id__c="R-2", **opportunity(Name="New")),
        typed("Opportunity", Partner_Registration_Id__c="R-3", StageName="Nope"),
        typed("Opportunity", Partner_Registration_Id__c="R-4", **opportunity()),
        typed("Opportunity", Partner_Registration_Id__c="r-4", **opportunity()),
    ], all_or_none=False, path=path)

    assert first[0]["created"] is True
    assert [r.get("created") for r in second] == [False, True, False, False, False]
    assert statuses(second) == ["ok", "ok", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                "DUPLICATE_EXTERNAL_ID", "DUPLICATE_EXTERNAL_ID"]
    assert second[0]["id"] == first[0]["id"]
    assert sf.Opportunity.get(first[0]["id"])["Amount"] == 5.0


def test_upsert_rejects_a_field_that_is_not_an_external_id(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        collection(sf, "PATCH", [typed("Opportunity", **opportunity())], all_or_none=False,
                   path="composite/sobjects/Opportunity/Name")

    assert error_code(exc) == "INVALID_FIELD"


def test_retrieve_and_delete(sf: Salesforce) -> None:
    first, second = create_many(sf, "Opportunity", [opportunity(Name="A"), opportunity(Name="B")])
    missing = salesforce_id("006", 9_000)

    fetched = sf.restful("composite/sobjects/Opportunity",
                         params={"ids": f"{first},{missing},{second}", "fields": "Id,Name"})
    deleted = sf.restful("composite/sobjects", method="DELETE",
                         params={"ids": f"{first},{missing}", "allOrNone": "false"})
    again = sf.restful("composite/sobjects", method="DELETE",
                       params={"ids": f"{first},{second}", "allOrNone": "true"})

    assert [r and r["Name"] for r in fetched] == ["A", None, "B"]
    assert list(fetched[0]) == ["attributes", "Id", "Name"]
    assert statuses(deleted) == ["ok", "INVALID_CROSS_REFERENCE_KEY"]
    assert statuses(again) == ["ENTITY_IS_DELETED", "ALL_OR_NONE_OPERATION_ROLLED_BACK"]
    assert sf.query("SELECT Id FROM Opportunity")["records"][0]["Id"] == second


def test_more_than_200_records_are_refused(sf: Salesforce) -> None:
    records = [typed("Opportunity", **opportunity()) for _ in range(201)]

    with pytest.raises(SalesforceMalformedRequest) as exc:
        collection(sf, "POST", records, all_or_none=False)

    assert exc.value.content[0] == {
        "message": "record limit reached. cannot submit more than 200 records into this call",
        "errorCode": "EXCEEDED_ID_LIMIT"}
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 0


def test_wrong_json_type_fails_the_whole_request(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        collection(sf, "POST", [typed("Opportunity", **opportunity()),
                                typed("Opportunity", **opportunity(Amount="lots"))],
                   all_or_none=False)

    assert error_code(exc) == "JSON_PARSER_ERROR"
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 0


def test_one_collection_call_is_one_api_request(sf: Salesforce) -> None:
    sf.query("SELECT Id FROM User")
    before = sf.api_usage["api-usage"].used

    collection(sf, "POST", [typed("Task", Subject=f"T{i}") for i in range(200)],
               all_or_none=True)

    assert sf.api_usage["api-usage"].used == before + 1


def test_numbers_out_of_range_fail_their_record_never_the_request(sf: Salesforce) -> None:
    # A 401-digit JSON number was a 500 (OverflowError) that sank the whole batch.
    ids = create_many(sf, "Opportunity", [opportunity(Name=n) for n in "ABCDE"])
    before = [sf.Opportunity.get(i)["Amount"] for i in ids]
    results = collection(sf, "PATCH", [
        typed("Opportunity", id=ids[0], Amount=10 ** 400),
        typed("Opportunity", id=ids[1], Amount="1e400"),
        typed("Opportunity", id=ids[2], Amount=-(10 ** 400)),
        typed("Opportunity", id=ids[3], Budget__c=10 ** 16, Economic_Buyer__c="x" * 121),
        typed("Opportunity", id=ids[4], Amount=12.5),
    ], all_or_none=False)
    assert statuses(results) == ["NUMBER_OUTSIDE_VALID_RANGE"] * 4 + ["ok"]
    assert results[0]["errors"][0]["fields"] == ["Amount"]
    assert [sf.Opportunity.get(i)["Amount"] for i in ids] == [*before[:4], 12.5]


def test_a_huge_number_in_a_single_record_update_is_a_400(sf: Salesforce) -> None:
    [record_id] = create_many(sf, "Opportunity", [opportunity()])
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Opportunity.update(record_id, {"Amount": 10 ** 400})
    assert error_code(info) == "NUMBER_OUTSIDE_VALID_RANGE"
