"""HubSpot's calculated stage history through the real client: ``hs_date_entered_{stage}``
and ``hs_date_exited_{stage}`` are stamped by stage changes (create, update, batch),
read back by every read path, filterable in search, listed read-only and refused on write.

The sandbox clock is frozen, so each stamp is the instant of the write that made it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm import deals
from hubspot.crm.deals import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

from handoff_sync.sandbox.core.seed_data import HubSpotSeedObject, SeedData
from handoff_sync.sandbox.hubspot.schema import PIPELINES
from handoff_sync.sandbox.server import SandboxServer

T0 = datetime(2026, 3, 2, 9, 30, 0, 123_000, tzinfo=UTC)
STAMP_0, STAMP_1, STAMP_2 = (
    "2026-03-02T09:30:00.123Z", "2026-03-02T09:31:00.123Z", "2026-03-02T09:32:00.123Z")
APPROVED, READY = "9004453", "9004454"  # partner pipeline (9004451)
HISTORY = ["hs_date_entered_appointmentscheduled", "hs_date_exited_appointmentscheduled",
           "hs_date_entered_qualifiedtobuy", "hs_date_exited_qualifiedtobuy"]


@pytest.fixture
def clock(sandbox: SandboxServer) -> Any:
    clock = sandbox.sandbox.clock
    clock.freeze(T0)
    return clock


def create(hs: HubSpot, stage: str | None = "appointmentscheduled", **extra: str) -> Any:
    props = {"dealname": "Stage test", **extra}
    if stage is not None:
        props["dealstage"] = stage
    return hs.crm.deals.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(properties=props))


def update(hs: HubSpot, deal_id: str, **props: str) -> Any:
    return hs.crm.deals.basic_api.update(
        deal_id, simple_public_object_input=SimplePublicObjectInput(properties=props))


def read(hs: HubSpot, deal_id: str, names: list[str] = HISTORY) -> dict[str, Any]:
    props = hs.crm.deals.basic_api.get_by_id(deal_id, properties=names).properties
    return {name: props[name] for name in names}


def batch_update(hs: HubSpot, *changes: tuple[str, dict[str, str]]) -> Any:
    return hs.crm.deals.batch_api.update(
        batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
            inputs=[SimplePublicObjectBatchInput(id=i, properties=p) for i, p in changes]))


def search(hs: HubSpot, *filters: Filter) -> list[str]:
    found = hs.crm.deals.search_api.do_search(public_object_search_request=(
        PublicObjectSearchRequest(filter_groups=[FilterGroup(filters=list(filters))],
                                  properties=["hs_date_entered_closedwon"], limit=200)))
    assert found.total == len(found.results)
    return sorted(r.id for r in found.results)


def test_every_stage_of_every_pipeline_has_read_only_entered_and_exited_dates(
        hs: HubSpot) -> None:
    listed = {p.name: p for p in hs.crm.properties.core_api.get_all("deals").results}
    stage_ids = [s.id for p in PIPELINES["deals"] for s in p.stages]
    assert {"closedwon", APPROVED, "9004456"} <= set(stage_ids)
    for stage_id in stage_ids:
        for name in (f"hs_date_entered_{stage_id}", f"hs_date_exited_{stage_id}"):
            prop = listed[name]
            assert (prop.type, prop.calculated, prop.hubspot_defined) == (
                "datetime", True, True), name
            assert prop.modification_metadata.read_only_value is True, name
    approved = hs.crm.properties.core_api.get_by_name("deals", f"hs_date_entered_{APPROVED}")
    assert approved.label == "Date entered 'Registration Approved (Partner Deal Registrations)'"


def test_creating_in_a_stage_stamps_only_its_entered_date(clock: Any, hs: HubSpot) -> None:
    deal = create(hs)
    assert deal.properties["hs_date_entered_appointmentscheduled"] == STAMP_0
    assert read(hs, deal.id) == {
        "hs_date_entered_appointmentscheduled": STAMP_0,
        "hs_date_exited_appointmentscheduled": None,
        "hs_date_entered_qualifiedtobuy": None, "hs_date_exited_qualifiedtobuy": None}


def test_a_stage_change_stamps_the_new_stage_entered_and_the_old_one_exited(
        clock: Any, hs: HubSpot) -> None:
    deal = create(hs)
    clock.shift(60)
    changed = update(hs, deal.id, dealstage="qualifiedtobuy")
    assert changed.properties["hs_lastmodifieddate"] == STAMP_1
    assert read(hs, deal.id) == {
        "hs_date_entered_appointmentscheduled": STAMP_0,
        "hs_date_exited_appointmentscheduled": STAMP_1,
        "hs_date_entered_qualifiedtobuy": STAMP_1, "hs_date_exited_qualifiedtobuy": None}


def test_other_writes_and_rewriting_the_same_stage_leave_the_history_alone(
        clock: Any, hs: HubSpot) -> None:
    deal = create(hs)
    clock.shift(60)
    touched = update(hs, deal.id, amount="10", dealstage="appointmentscheduled")
    assert touched.properties["hs_lastmodifieddate"] == STAMP_1
    assert read(hs, deal.id)["hs_date_entered_appointmentscheduled"] == STAMP_0
    assert read(hs, deal.id)["hs_date_exited_appointmentscheduled"] is None


def test_re_entering_a_stage_keeps_only_the_latest_entry(clock: Any, hs: HubSpot) -> None:
    deal = create(hs)
    clock.shift(60)
    update(hs, deal.id, dealstage="qualifiedtobuy")
    clock.shift(60)
    update(hs, deal.id, dealstage="appointmentscheduled")
    assert read(hs, deal.id) == {
        "hs_date_entered_appointmentscheduled": STAMP_2,
        "hs_date_exited_appointmentscheduled": STAMP_1,
        "hs_date_entered_qualifiedtobuy": STAMP_1, "hs_date_exited_qualifiedtobuy": STAMP_2}


def test_batch_update_stamps_each_changed_deal(clock: Any, hs: HubSpot) -> None:
    moved = create(hs, APPROVED, pipeline="9004451")
    kept = create(hs)
    clock.shift(60)
    result = batch_update(hs, (moved.id, {"dealstage": READY}), (kept.id, {"amount": "5"}))
    assert {r.id: r.properties["hs_lastmodifieddate"] for r in result.results} == {
        moved.id: STAMP_1, kept.id: STAMP_1}
    names = [f"hs_date_entered_{APPROVED}", f"hs_date_exited_{APPROVED}",
             f"hs_date_entered_{READY}", "hs_date_exited_appointmentscheduled"]
    batch = hs.crm.deals.batch_api.read(
        batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(
            properties=names, inputs=[SimplePublicObjectId(id=moved.id),
                                      SimplePublicObjectId(id=kept.id)]))
    got = {r.id: {n: r.properties[n] for n in names} for r in batch.results}
    assert got[moved.id] == {names[0]: STAMP_0, names[1]: STAMP_1, names[2]: STAMP_1,
                             names[3]: None}
    assert set(got[kept.id].values()) == {None}


def test_batch_create_and_upsert_stamp_stage_changes_too(clock: Any, hs: HubSpot) -> None:
    created = hs.crm.deals.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create=(
            BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
                SimplePublicObjectBatchInputForCreate(properties={
                    "dealname": "Batch", "dealstage": "qualifiedtobuy",
                    "partner_registration_id": "REG-1"})])))
    assert created.results[0].properties["hs_date_entered_qualifiedtobuy"] == STAMP_0
    clock.shift(60)
    hs.crm.deals.batch_api.upsert(
        batch_input_simple_public_object_batch_input_upsert=(
            BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
                SimplePublicObjectBatchInputUpsert(
                    id="REG-1", id_property="partner_registration_id",
                    properties={"dealstage": "closedwon"})])))
    deal_id = created.results[0].id
    assert read(hs, deal_id, ["hs_date_exited_qualifiedtobuy", "hs_date_entered_closedwon"]) == {
        "hs_date_exited_qualifiedtobuy": STAMP_1, "hs_date_entered_closedwon": STAMP_1}


def test_search_filters_and_returns_the_entered_dates(clock: Any, hs: HubSpot) -> None:
    early = create(hs, stage="closedwon")
    clock.shift(60)
    late = create(hs, stage="closedwon")
    create(hs)  # never won: no hs_date_entered_closedwon
    won_after = search(hs, Filter(property_name="hs_date_entered_closedwon", operator="GTE",
                                  value=str(int((T0 + timedelta(seconds=30)).timestamp() * 1000))))
    assert won_after == [late.id]
    assert search(hs, Filter(property_name="hs_date_entered_closedwon", operator="LT",
                             value=STAMP_1)) == [early.id]
    assert search(hs, Filter(property_name="hs_date_entered_closedwon",
                             operator="HAS_PROPERTY")) == sorted([early.id, late.id])
    found = hs.crm.deals.search_api.do_search(public_object_search_request=(
        PublicObjectSearchRequest(filter_groups=[FilterGroup(filters=[Filter(
            property_name="hs_object_id", operator="EQ", value=early.id)])],
            properties=["hs_date_entered_closedwon"])))
    assert found.results[0].properties["hs_date_entered_closedwon"] == STAMP_0


@pytest.mark.parametrize("name", ["hs_date_entered_closedwon", f"hs_date_exited_{APPROVED}"])
def test_writing_a_stage_date_is_refused_as_read_only(clock: Any, hs: HubSpot,
                                                      name: str) -> None:
    deal = create(hs)
    with pytest.raises(deals.ApiException) as info:
        update(hs, deal.id, **{name: "2026-01-01T00:00:00.000Z"})
    body = json.loads(info.value.body)
    assert info.value.status == 400
    assert [(e["code"], e["context"]["propertyName"]) for e in body["errors"]] == [
        ("READ_ONLY_VALUE", [name])]
    with pytest.raises(deals.ApiException) as created:
        create(hs, **{name: "2026-01-01T00:00:00.000Z"})
    assert created.value.status == 400
    failed = batch_update(hs, (deal.id, {name: "2026-01-01T00:00:00.000Z"}))
    assert failed.num_errors == 1 and failed.results == []
    assert read(hs, deal.id, [name]) == {name: None}


def test_a_seeded_portal_answers_with_the_seed_history(clock: Any, sandbox: SandboxServer,
                                                      hs: HubSpot) -> None:
    sandbox.sandbox.seed(deals=40, partners=3, random_seed=5)
    entered = f"hs_date_entered_{APPROVED}"
    approved = search(hs, Filter(property_name=entered, operator="LTE", value=STAMP_0))
    assert approved == search(hs, Filter(property_name=entered, operator="HAS_PROPERTY"))
    assert len(approved) > 10  # every approval lies before the seed's now
    found = hs.crm.deals.basic_api.get_by_id(approved[0], properties=[entered, "createdate"])
    assert found.properties["createdate"] < found.properties[entered] < STAMP_0


def test_a_loaded_deal_without_history_entered_its_stage_when_created(
        sandbox: SandboxServer, hs: HubSpot) -> None:
    created = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
    with sandbox.sandbox.lock:
        sandbox.sandbox.hubspot.load_seed(SeedData(hubspot={"deals": [HubSpotSeedObject(
            "77", {"dealname": "Old", "dealstage": "contractsent"}, created,
            created + timedelta(days=3))]}))
    assert read(hs, "77", ["hs_date_entered_contractsent", "hs_date_exited_contractsent"]) == {
        "hs_date_entered_contractsent": "2025-05-01T08:00:00.000Z",
        "hs_date_exited_contractsent": None}
