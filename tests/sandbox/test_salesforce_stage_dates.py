"""Trigger timestamps in the Salesforce emulation, through simple-salesforce:
Opportunity.LastStageChangeDate (read-only, set on insert and on a StageName change) and
Deal_Registration__c.Approved_At__c (a writable custom datetime).

The sandbox clock is frozen, so each stamp is the instant of the write that made it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from handoff_sync.sandbox.core.seed_data import SeedData
from handoff_sync.sandbox.salesforce.ids import salesforce_id
from handoff_sync.sandbox.server import SandboxServer
from tests.sandbox.test_salesforce_sandbox import error_code, opportunity

T0 = datetime(2026, 3, 2, 9, 30, 0, 123_000, tzinfo=UTC)
STAMP_0, STAMP_1, STAMP_2 = (
    "2026-03-02T09:30:00.123+0000", "2026-03-02T09:31:00.123+0000",
    "2026-03-02T09:32:00.123+0000")


@pytest.fixture
def clock(sandbox: SandboxServer) -> Any:
    clock = sandbox.sandbox.clock
    clock.freeze(T0)
    return clock


def stage_change(sf: Salesforce, record_id: str) -> str:
    return str(sf.Opportunity.get(record_id)["LastStageChangeDate"])


def fields_of(sf: Salesforce, object_name: str) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in getattr(sf, object_name).describe()["fields"]}


def test_last_stage_change_date_is_set_on_insert_and_on_stage_changes_only(
        clock: Any, sf: Salesforce) -> None:
    record_id = sf.Opportunity.create(opportunity())["id"]
    assert stage_change(sf, record_id) == STAMP_0
    clock.shift(60)
    sf.Opportunity.update(record_id, {"Amount": 10, "StageName": "Prospecting"})
    assert stage_change(sf, record_id) == STAMP_0  # same stage: not a change
    assert sf.Opportunity.get(record_id)["LastModifiedDate"] == STAMP_1
    clock.shift(60)
    sf.Opportunity.update(record_id, {"StageName": "Closed Won"})
    won = sf.Opportunity.get(record_id)
    assert (won["LastStageChangeDate"], won["IsWon"]) == (STAMP_2, True)


def test_stage_changes_by_upsert_and_collections_stamp_it_too(clock: Any,
                                                              sf: Salesforce) -> None:
    record_id = sf.Opportunity.create(opportunity(Partner_Registration_Id__c="REG-1"))["id"]
    clock.shift(60)
    sf.Opportunity.upsert("Partner_Registration_Id__c/REG-1", {"StageName": "Qualification"})
    assert stage_change(sf, record_id) == STAMP_1
    clock.shift(60)
    results = sf.restful("composite/sobjects", method="PATCH", json={
        "allOrNone": True, "records": [{"attributes": {"type": "Opportunity"},
                                        "id": record_id, "StageName": "Closed Lost"}]})
    assert results[0]["success"] is True
    assert stage_change(sf, record_id) == STAMP_2


def test_describe_shows_last_stage_change_date_as_a_read_only_datetime(sf: Salesforce) -> None:
    field = fields_of(sf, "Opportunity")["LastStageChangeDate"]
    assert (field["type"], field["createable"], field["updateable"], field["nillable"],
            field["custom"], field["filterable"]) == (
        "datetime", False, False, True, False, True)


def test_writing_last_stage_change_date_is_refused(clock: Any, sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as created:
        sf.Opportunity.create(opportunity(LastStageChangeDate="2026-01-01T00:00:00Z"))
    assert error_code(created) == "INVALID_FIELD_FOR_INSERT_UPDATE"
    record_id = sf.Opportunity.create(opportunity())["id"]
    with pytest.raises(SalesforceMalformedRequest) as updated:
        sf.Opportunity.update(record_id, {"LastStageChangeDate": "2026-01-01T00:00:00Z"})
    assert error_code(updated) == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert updated.value.content[0]["fields"] == ["LastStageChangeDate"]
    assert stage_change(sf, record_id) == STAMP_0


def test_soql_selects_and_filters_on_last_stage_change_date(clock: Any, sf: Salesforce) -> None:
    early = sf.Opportunity.create(opportunity(Name="Early"))["id"]
    clock.shift(60)
    sf.Opportunity.create(opportunity(Name="Late"))
    clock.shift(60)
    sf.Opportunity.update(early, {"StageName": "Closed Won"})
    rows = sf.query("SELECT Id, LastStageChangeDate FROM Opportunity "
                    "WHERE LastStageChangeDate > 2026-03-02T09:31:30Z")["records"]
    assert [(r["Id"], r["LastStageChangeDate"]) for r in rows] == [(early, STAMP_2)]
    rows = sf.query("SELECT Name FROM Opportunity WHERE IsWon = false "
                    "AND LastStageChangeDate <= 2026-03-02T09:31:00.123Z "
                    "ORDER BY LastStageChangeDate DESC")["records"]
    assert [r["Name"] for r in rows] == ["Late"]


def test_approved_at_round_trips_on_deal_registrations(clock: Any, sf: Salesforce) -> None:
    field = fields_of(sf, "Deal_Registration__c")["Approved_At__c"]
    assert (field["type"], field["label"], field["createable"], field["updateable"],
            field["custom"]) == ("datetime", "Approved At", True, True, True)
    registrations = sf.Deal_Registration__c
    record_id = registrations.create({"Deal_Name__c": "Acme rollout",
                                      "Approved_At__c": "2026-02-20T14:05:06.789Z"})["id"]
    assert registrations.get(record_id)["Approved_At__c"] == "2026-02-20T14:05:06.789+0000"
    registrations.update(record_id, {"Registration_Status__c": "Approved",
                                     "Approved_At__c": "2026-02-21T08:00:00+01:00"})
    rows = sf.query("SELECT Id, Approved_At__c FROM Deal_Registration__c "
                    "WHERE Approved_At__c >= 2026-02-21T00:00:00Z")["records"]
    assert [(r["Id"], r["Approved_At__c"]) for r in rows] == [
        (record_id, "2026-02-21T07:00:00.000+0000")]
    registrations.update(record_id, {"Approved_At__c": None})
    assert registrations.get(record_id)["Approved_At__c"] is None


def test_a_loaded_opportunity_without_a_stage_change_keeps_its_creation(
        sandbox: SandboxServer, sf: Salesforce) -> None:
    created = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
    rows = [{"Id": salesforce_id("006", n), "Name": f"Seeded {n}", "StageName": "Closed Won",
             "CloseDate": date(2025, 6, 30), "IsClosed": True, "IsWon": True,
             "CreatedDate": created, **extra}
            for n, extra in ((1, {}), (2, {"LastStageChangeDate": created + timedelta(days=9)}))]
    with sandbox.sandbox.lock:
        sandbox.sandbox.salesforce.load_seed(SeedData(salesforce={"Opportunity": rows}))
    assert [stage_change(sf, salesforce_id("006", n)) for n in (1, 2)] == [
        "2025-05-01T08:00:00.000+0000", "2025-05-10T08:00:00.000+0000"]
