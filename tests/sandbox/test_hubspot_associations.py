"""Associations v4 through the real client: default and typed creation, listing with
paging, removal, the batch endpoints, and HubSpot's errors for bad pairs and ids."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.associations import v4
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicDefaultAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
    BatchResponsePublicAssociationMultiWithLabel,
    BatchResponsePublicAssociationMultiWithLabelWithErrors,
    PublicAssociationMultiArchive,
    PublicAssociationMultiPost,
    PublicDefaultAssociationMultiPost,
    PublicFetchAssociationsBatchRequest,
    PublicObjectId,
)
from hubspot.crm.deals import SimplePublicObjectInputForCreate
from hubspot.crm.objects import tasks

TASK_TO_DEAL = AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=216)


def new_deal(hs: HubSpot, name: str = "Deal") -> str:
    return hs.crm.deals.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"dealname": name})).id


def new_task(hs: HubSpot, subject: str = "Task") -> str:
    return hs.crm.objects.tasks.basic_api.create(
        simple_public_object_input_for_create=tasks.SimplePublicObjectInputForCreate(
            properties={"hs_timestamp": "2026-03-02T09:30:00Z", "hs_task_subject": subject})).id


def linked_tasks(hs: HubSpot, deal_id: str) -> list[str]:
    page = hs.crm.associations.v4.basic_api.get_page("deals", deal_id, "tasks")
    return [str(result.to_object_id) for result in page.results]


def test_create_default_links_both_directions(hs: HubSpot) -> None:
    deal, task = new_deal(hs), new_task(hs)
    created = hs.crm.associations.v4.basic_api.create_default("tasks", task, "deals", deal)
    assert created.status == "COMPLETE"
    specs = {(r._from.id, r.to.id, r.association_spec.association_type_id)
             for r in created.results}
    assert specs == {(task, deal, 216), (deal, task, 215)}
    assert linked_tasks(hs, deal) == [task]


def test_create_with_specs_answers_201_with_the_pair(hs: HubSpot) -> None:
    deal, task = new_deal(hs), new_task(hs)
    pair = hs.crm.associations.v4.basic_api.create("tasks", task, "deals", deal,
                                                   association_spec=[TASK_TO_DEAL])
    assert (pair.from_object_type_id, pair.to_object_type_id) == ("0-27", "0-3")
    assert (str(pair.from_object_id), str(pair.to_object_id), pair.labels) == (task, deal, [])
    read = hs.crm.deals.basic_api.get_by_id(deal, associations=["tasks"])
    assert [(a.id, a.type) for a in read.associations["tasks"].results] == [
        (task, "deal_to_task")]


def test_get_page_pages_and_archive_removes(hs: HubSpot) -> None:
    deal = new_deal(hs)
    task_ids = [new_task(hs, f"T{i}") for i in range(3)]
    for task in task_ids:
        hs.crm.associations.v4.basic_api.create_default("deals", deal, "tasks", task)
    api = hs.crm.associations.v4.basic_api
    first = api.get_page("deals", deal, "tasks", limit=2)
    assert [str(r.to_object_id) for r in first.results] == task_ids[:2]
    second = api.get_page("deals", deal, "tasks", limit=2, after=first.paging.next.after)
    assert [str(r.to_object_id) for r in second.results] == task_ids[2:]
    assert second.paging is None
    assert api.archive("deals", deal, "tasks", task_ids[0]) is None
    assert linked_tasks(hs, deal) == task_ids[1:]
    hs.crm.objects.tasks.basic_api.archive(task_ids[1])
    assert linked_tasks(hs, deal) == task_ids[2:]  # archived records drop out


def test_batch_endpoints(hs: HubSpot) -> None:
    deals = [new_deal(hs, f"D{i}") for i in range(3)]
    task_ids = [new_task(hs, f"T{i}") for i in range(2)]
    batch = hs.crm.associations.v4.batch_api
    created = batch.create("tasks", "deals", batch_input_public_association_multi_post=(
        BatchInputPublicAssociationMultiPost(inputs=[
            PublicAssociationMultiPost(_from=PublicObjectId(id=task_ids[0]),
                                       to=PublicObjectId(id=deals[0]), types=[TASK_TO_DEAL])])))
    assert [str(r.to_object_id) for r in created.results] == [deals[0]]
    default = batch.create_default("tasks", "deals",
                                   batch_input_public_default_association_multi_post=(
        BatchInputPublicDefaultAssociationMultiPost(inputs=[
            PublicDefaultAssociationMultiPost(_from=PublicObjectId(id=task_ids[1]),
                                              to=PublicObjectId(id=deals[1]))])))
    assert len(default.results) == 2

    def read(*ids: str) -> Any:
        return batch.get_page("deals", "tasks",
                              batch_input_public_fetch_associations_batch_request=(
            BatchInputPublicFetchAssociationsBatchRequest(
                inputs=[PublicFetchAssociationsBatchRequest(id=i) for i in ids])))

    found = read(deals[0], deals[1])
    assert isinstance(found, BatchResponsePublicAssociationMultiWithLabel)
    assert {(r._from.id, str(r.to[0].to_object_id)) for r in found.results} == {
        (deals[0], task_ids[0]), (deals[1], task_ids[1])}
    partial = read(deals[0], deals[2])
    assert isinstance(partial, BatchResponsePublicAssociationMultiWithLabelWithErrors)
    assert partial.errors[0].sub_category == "crm.associations.NO_ASSOCIATIONS_FOUND"

    assert batch.archive("deals", "tasks", batch_input_public_association_multi_archive=(
        BatchInputPublicAssociationMultiArchive(inputs=[
            PublicAssociationMultiArchive(_from=PublicObjectId(id=deals[0]),
                                          to=[PublicObjectId(id=task_ids[0])])]))) is None
    assert linked_tasks(hs, deals[0]) == []


def test_bad_pairs_and_ids_are_refused(hs: HubSpot) -> None:
    deal, task = new_deal(hs), new_task(hs)
    api = hs.crm.associations.v4.basic_api
    with pytest.raises(v4.ApiException) as info:
        api.create_default("deals", deal, "deals", deal)
    assert info.value.status == 400
    with pytest.raises(v4.ApiException) as info:
        api.create("tasks", task, "deals", deal, association_spec=[AssociationSpec(
            association_category="HUBSPOT_DEFINED", association_type_id=204)])
    assert json.loads(info.value.body)["category"] == "VALIDATION_ERROR"
    with pytest.raises(v4.exceptions.NotFoundException) as info:
        api.create_default("tasks", task, "deals", "999")
    assert json.loads(info.value.body)["category"] == "OBJECT_NOT_FOUND"
