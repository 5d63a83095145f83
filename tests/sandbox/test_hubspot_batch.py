"""Batch read/create/update/upsert/archive through the real client, including partial
failures (207 -> the client's ...WithErrors models) and the 100-input limit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm import deals
from hubspot.crm.deals import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    BatchResponseSimplePublicObject,
    BatchResponseSimplePublicObjectWithErrors,
    BatchResponseSimplePublicUpsertObject,
    BatchResponseSimplePublicUpsertObjectWithErrors,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
)


def create_many(hs: HubSpot, *properties: dict[str, str],
                trace: bool = False) -> Any:
    inputs = [SimplePublicObjectBatchInputForCreate(
        properties=props, object_write_trace_id=f"t{i}" if trace else None)
        for i, props in enumerate(properties)]
    return hs.crm.deals.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create=(
            BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)))


def read_many(hs: HubSpot, *ids: str, id_property: str | None = None) -> Any:
    return hs.crm.deals.batch_api.read(
        batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(
            properties=["dealname", "amount"], id_property=id_property,
            inputs=[SimplePublicObjectId(id=i) for i in ids]))


def update_many(hs: HubSpot, *changes: tuple[str, dict[str, str]]) -> Any:
    return hs.crm.deals.batch_api.update(
        batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
            inputs=[SimplePublicObjectBatchInput(id=i, properties=p) for i, p in changes]))


def upsert_many(hs: HubSpot, id_property: str, *rows: tuple[str, dict[str, str]]) -> Any:
    return hs.crm.deals.batch_api.upsert(
        batch_input_simple_public_object_batch_input_upsert=(
            BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
                SimplePublicObjectBatchInputUpsert(id=key, id_property=id_property,
                                                   properties=props)
                for key, props in rows])))


def body_of(info: pytest.ExceptionInfo[Any]) -> dict[str, Any]:
    return json.loads(info.value.body)


def test_create_then_read_with_a_missing_id_is_207(hs: HubSpot) -> None:
    created = create_many(hs, {"dealname": "A", "amount": "1"}, {"dealname": "B"})
    assert isinstance(created, BatchResponseSimplePublicObject)
    assert created.status == "COMPLETE" and created.started_at and created.completed_at
    ids = [r.id for r in created.results]
    assert [r.properties["dealname"] for r in created.results] == ["A", "B"]

    read = read_many(hs, *ids, "424242")
    assert isinstance(read, BatchResponseSimplePublicObjectWithErrors)
    assert sorted(r.id for r in read.results) == sorted(ids)
    assert read.num_errors == 1
    error = read.errors[0]
    assert (error.status, error.category, error.context) == (
        "error", "OBJECT_NOT_FOUND", {"ids": ["424242"]})
    assert isinstance(read_many(hs, *ids), BatchResponseSimplePublicObject)


def test_read_by_unique_property(hs: HubSpot) -> None:
    create_many(hs, {"dealname": "A", "partner_registration_id": "REG-7"})
    read = read_many(hs, "REG-7", id_property="partner_registration_id")
    assert [r.properties["dealname"] for r in read.results] == ["A"]


def test_create_is_all_or_nothing_without_trace_ids(hs: HubSpot) -> None:
    with pytest.raises(deals.ApiException) as info:
        create_many(hs, {"dealname": "ok"}, {"dealname": "bad", "amount": "many"})
    assert info.value.status == 400
    assert body_of(info)["errors"][0]["code"] == "INVALID_DECIMAL"
    with pytest.raises(deals.ApiException) as info:
        create_many(hs, {"partner_registration_id": "R1"}, {"partner_registration_id": "R1"})
    assert (info.value.status, body_of(info)["category"]) == (409, "CONFLICT")
    assert hs.crm.deals.basic_api.get_page().results == []


def test_create_with_trace_ids_reports_each_failed_input(hs: HubSpot) -> None:
    created = create_many(hs, {"dealname": "ok"}, {"amount": "many"}, trace=True)
    assert isinstance(created, BatchResponseSimplePublicObjectWithErrors)
    assert [r.properties["dealname"] for r in created.results] == ["ok"]
    assert created.errors[0].context == {"objectWriteTraceId": ["t1"]}
    assert created.errors[0].category == "VALIDATION_ERROR"


def test_update_applies_what_it_can_and_reports_the_rest(hs: HubSpot) -> None:
    a, b = (r.id for r in create_many(hs, {"dealname": "A"}, {"dealname": "B"}).results)
    updated = update_many(hs, (a, {"amount": "10"}), (b, {"dealstage": "nope"}),
                          ("999", {"amount": "1"}))
    assert isinstance(updated, BatchResponseSimplePublicObjectWithErrors)
    assert [(r.id, r.properties["amount"]) for r in updated.results] == [(a, "10")]
    by_category = {e.category: e.context for e in updated.errors}
    assert by_category == {"OBJECT_NOT_FOUND": {"ids": ["999"]},
                           "VALIDATION_ERROR": {"ids": [b]}}
    assert updated.num_errors == 2
    clean = update_many(hs, (b, {"amount": "2"}))
    assert isinstance(clean, BatchResponseSimplePublicObject)
    with pytest.raises(deals.ApiException) as info:
        update_many(hs, (a, {}), (a, {}))
    assert "Duplicate IDs" in body_of(info)["message"]


def test_upsert_creates_or_updates_by_unique_property(hs: HubSpot) -> None:
    create_many(hs, {"dealname": "Existing", "partner_registration_id": "REG-1"})
    result = upsert_many(hs, "partner_registration_id",
                         ("REG-1", {"amount": "5"}), ("REG-2", {"dealname": "New"}))
    assert isinstance(result, BatchResponseSimplePublicUpsertObject)
    by_reg = {r.properties["partner_registration_id"]: r for r in result.results}
    assert (by_reg["REG-1"].new, by_reg["REG-1"].properties["amount"]) == (False, "5")
    assert (by_reg["REG-2"].new, by_reg["REG-2"].properties["dealname"]) == (True, "New")

    partial = upsert_many(hs, "partner_registration_id", ("REG-3", {"amount": "x"}),
                          ("REG-4", {}))
    assert isinstance(partial, BatchResponseSimplePublicUpsertObjectWithErrors)
    assert partial.errors[0].context == {"ids": ["REG-3"]}
    with pytest.raises(deals.ApiException) as info:
        upsert_many(hs, "dealname", ("Existing", {"amount": "1"}))
    assert info.value.status == 400


def test_archive_is_204_and_skips_unknown_ids(hs: HubSpot) -> None:
    ids = [r.id for r in create_many(hs, {"dealname": "A"}, {"dealname": "B"}).results]
    assert hs.crm.deals.batch_api.archive(
        batch_input_simple_public_object_id=BatchInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i) for i in [*ids, "999"]])) is None
    assert hs.crm.deals.basic_api.get_page().results == []
    assert len(hs.crm.deals.basic_api.get_page(archived=True).results) == 2


def test_more_than_100_inputs_is_a_400(hs: HubSpot) -> None:
    with pytest.raises(deals.ApiException) as info:
        create_many(hs, *[{"dealname": str(i)} for i in range(101)])
    assert (info.value.status, body_of(info)["category"]) == (400, "VALIDATION_ERROR")
    assert "100" in body_of(info)["message"]
    assert len(create_many(hs, *[{"dealname": str(i)} for i in range(100)]).results) == 100


def test_values_a_portal_cannot_hold_are_validation_errors_never_a_500(hs: HubSpot) -> None:
    a, b, c, d = (r.id for r in create_many(hs, *({"dealname": n} for n in "ABCD")).results)
    updated = update_many(hs, (a, {"amount": "1e400"}), (b, {"amount": "-1e999"}),
                          (c, {"economic_buyer": "x" * 65_537}), (d, {"amount": "12.5"}))
    assert isinstance(updated, BatchResponseSimplePublicObjectWithErrors)
    assert [(r.id, r.properties["amount"]) for r in updated.results] == [(d, "12.5")]
    assert {e.category for e in updated.errors} == {"VALIDATION_ERROR"}
    assert sorted(i for e in updated.errors for i in e.context["ids"]) == sorted([a, b, c])
    with pytest.raises(deals.ApiException) as info:
        hs.crm.deals.basic_api.update(a, {"properties": {"amount": "Infinity"}})
    assert info.value.status == 400 and body_of(info)["category"] == "VALIDATION_ERROR"
    with pytest.raises(deals.ApiException) as info:
        hs.crm.deals.basic_api.update(a, {"properties": {"economic_buyer": "x" * 65_537}})
    assert info.value.status == 400 and "65536" in body_of(info)["message"]


def test_an_instant_beyond_the_calendar_is_invalid_date_never_a_500(hs: HubSpot) -> None:
    # iso_ms(999999999999999) raised OverflowError: a 500 for the whole batch.
    [deal_id] = (r.id for r in create_many(hs, {"dealname": "A"}).results)
    for value in ("999999999999999", "9999-12-31T23:00:00-05:00"):
        with pytest.raises(deals.ApiException) as info:
            hs.crm.deals.basic_api.update(deal_id, {"properties": {
                "handoff_stage_entered_at": value}})
        assert info.value.status == 400, value
        assert body_of(info)["errors"][0]["code"] == "INVALID_DATE"
