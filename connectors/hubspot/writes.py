"""Writing to HubSpot: records through the batch create and update endpoints, follow-up
tasks through batch upsert by their key property, each task then attached to its deal.

Every call carries at most ``MAX_BATCH`` inputs (``chunks``) and a failed record never
fails its batch: ``connectors.hubspot.batch.isolate`` splits a batch refused as a whole
until the record at fault fails alone. Properties are checked against the account's
definitions (``PropertySchema.require``) before any call, so a mapping naming a
read-only or unknown property is one ``SchemaError``, not a hundred record errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicDefaultAssociationMultiPost,
    PublicAssociationMultiPost,
    PublicDefaultAssociationMultiPost,
)
from hubspot.crm.associations.v4 import PublicObjectId as AssociationEnd
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
)

from connectors.base import RecordError, RecordWrite, TaskTarget, TaskWrite, WriteResult
from connectors.errors import SchemaError
from connectors.hubspot.batch import Input, Outcome, chunks, isolate
from connectors.hubspot.errors import SYSTEM
from connectors.hubspot.records import body_of, context_ids, dicts
from connectors.hubspot.schema import PropertySchema
from connectors.hubspot.transport import HubSpotTransport

log = structlog.get_logger("connectors.hubspot")

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
DEALS = "deals"  # what a task is attached to unless its target names another object


class BatchWriter:
    """Record writes and task upserts for one account, through its transport."""

    def __init__(self, transport: HubSpotTransport, batch_api: Any, associations_api: Any,
                 schema: PropertySchema) -> None:
        self._transport = transport
        self._batch = batch_api
        self._associations = associations_api
        self._schema = schema

    def write(self, object_name: str, writes: Sequence[RecordWrite]) -> list[WriteResult]:
        """Batch update (ids) and batch create (no id), 100 per call; one result per write,
        in input order. See ``connectors.hubspot.batch`` for how failures are pinned on
        single records."""
        if not writes:
            return []
        self._schema.require(object_name, sorted({n for w in writes for n in w.fields}),
                                 writing=True)
        updates = [Input(i, str(w.id), w.fields) for i, w in enumerate(writes) if w.id]
        creates = [Input(i, "", w.fields) for i, w in enumerate(writes) if not w.id]
        done: dict[int, Outcome] = {}
        for batch in chunks(updates):
            done.update(isolate(batch, lambda b: self._send_update(object_name, b),
                                match="id"))
        for batch in chunks(creates):
            done.update(isolate(batch, lambda b: self._send_create(object_name, b),
                                match="order"))
        results = []
        for index, write in enumerate(writes):
            outcome = done[index]
            record_id = write.id or (str(outcome.record["id"]) if outcome.record else None)
            results.append(WriteResult(write.ref, record_id, outcome.error is None,
                                       created=not write.id and outcome.error is None,
                                       error=outcome.error,
                                       stored=_stored(write.fields, outcome.record)))
        failed = sum(1 for r in results if not r.ok)
        log.info("hubspot write", object=object_name, records=len(writes),
                 updated=len(updates), created=len(creates), failed=failed)
        return results

    def _send_update(self, object_name: str, batch: Sequence[Input]) -> Mapping[str, Any]:
        body = BatchInputSimplePublicObjectBatchInput(inputs=[
            SimplePublicObjectBatchInput(id=item.key, properties=dict(item.properties),
                                         object_write_trace_id=item.trace_id)
            for item in batch])
        reply = self._transport.call(
            f"batch update {object_name}", "write",
            lambda kw: self._batch.update_with_http_info(object_name, body, **kw), writing=True)
        return body_of(reply)

    def _send_create(self, object_name: str, batch: Sequence[Input]) -> Mapping[str, Any]:
        # Trace ids switch batch create to multi-status: one bad record no longer fails
        # the other 99, and its error names it.
        body = BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
            SimplePublicObjectBatchInputForCreate(properties=dict(item.properties),
                                                  object_write_trace_id=item.trace_id)
            for item in batch])
        reply = self._transport.call(
            f"batch create {object_name}", "write",
            lambda kw: self._batch.create_with_http_info(object_name, body, **kw), writing=True,
            repeatable=False)
        return body_of(reply)

    def upsert_tasks(self, target: TaskTarget, tasks: Sequence[TaskWrite]) -> list[WriteResult]:
        """Batch upsert by the task key property (100 per call), then attach every task of
        the batch to its deal in one v4 association call.

        Upsert cannot carry associations, so they follow in their own call. It is made for
        every task, not only new ones: creating an existing association changes nothing,
        and a run that died between the two calls is repaired by the next one."""
        if not tasks:
            return []
        names = sorted({n for t in tasks for n in t.fields} | {target.key_field})
        self._schema.require(target.object, names, writing=True)
        key = self._schema.definitions(target.object)[target.key_field]
        if not key.get("hasUniqueValue"):
            raise SchemaError(f"HubSpot {target.object}.{target.key_field} is not a unique "
                              "property; tasks are keyed by it, so create it with "
                              "'unique values' on", system=SYSTEM)
        inputs = [Input(i, t.key, t.fields) for i, t in enumerate(tasks)]
        done: dict[int, Outcome] = {}
        for batch in chunks(inputs):
            outcomes = isolate(batch, lambda b: send_upsert(
                self._transport, self._batch, target.object, target.key_field, b),
                match="key", key_property=target.key_field)
            self._attach(target, tasks, outcomes)
            done.update(outcomes)
        results = []
        for index, task in enumerate(tasks):
            outcome = done[index]
            record = outcome.record or {}
            results.append(WriteResult(task.key, str(record["id"]) if record else None,
                                       outcome.error is None,
                                       created=bool(record.get("new")) and outcome.error is None,
                                       error=outcome.error))
        log.info("hubspot upsert tasks", object=target.object, tasks=len(tasks),
                 created=sum(r.created for r in results), failed=sum(not r.ok for r in results))
        return results

    def _attach(self, target: TaskTarget, tasks: Sequence[TaskWrite],
                outcomes: dict[int, Outcome]) -> None:
        """Associate each written task with its deal; a failure marks that task's result
        (the task exists; the next upsert attaches it). A batch refused as a whole is split
        like a write, so one deleted deal does not leave the other 99 tasks unattached."""
        links = [Input(index, str(outcome.record["id"]), {"deal": tasks[index].deal_id})
                 for index, outcome in outcomes.items()
                 if outcome.record is not None and tasks[index].deal_id]
        if not links:
            return
        attached = isolate(links, lambda batch: self._send_links(target, batch), match="id")
        for index, result in attached.items():
            if result.error is not None:
                outcomes[index] = Outcome(outcomes[index].record, RecordError(
                    "ASSOCIATION_FAILED", f"the task was written but not attached to "
                    f"{_singular(target.deal_object or DEALS)} {tasks[index].deal_id}: "
                    f"{result.error.message}", retriable=True))

    def _send_links(self, target: TaskTarget, batch: Sequence[Input]) -> Mapping[str, Any]:
        """One v4 batch association call, its answer keyed by task id like a batch write's
        (v4 errors name ``fromObjectId``)."""
        type_id = target.deal_association_type_id
        if type_id is None:
            body: Any = BatchInputPublicDefaultAssociationMultiPost(inputs=[
                PublicDefaultAssociationMultiPost(_from=AssociationEnd(id=item.key),
                                                  to=AssociationEnd(id=item.properties["deal"]))
                for item in batch])
            api_call = self._associations.create_default_with_http_info
        else:
            spec = [AssociationSpec(association_category=HUBSPOT_DEFINED,
                                    association_type_id=type_id)]
            body = BatchInputPublicAssociationMultiPost(inputs=[
                PublicAssociationMultiPost(_from=AssociationEnd(id=item.key),
                                           to=AssociationEnd(id=item.properties["deal"]),
                                           types=spec)
                for item in batch])
            api_call = self._associations.create_with_http_info
        other = target.deal_object or DEALS
        reply = self._transport.call(
            f"associate {target.object} with {other}", "associate",
            lambda kw: api_call(target.object, other, body, **kw), writing=True)
        errors = [{**entry, "context": {"ids": context_ids(entry, "fromObjectId")}}
                  for entry in dicts(body_of(reply).get("errors"))]
        failed = {task_id for entry in errors for task_id in entry["context"]["ids"]}
        return {"results": [{"id": item.key} for item in batch if item.key not in failed],
                "errors": errors}


def _singular(object_type: str) -> str:
    """How a message names one record of a HubSpot object type (companies -> company)."""
    return {"companies": "company"}.get(object_type, object_type.removesuffix("s"))


def send_upsert(transport: HubSpotTransport, batch_api: Any, object_name: str,
                key_field: str, batch: Sequence[Input]) -> Mapping[str, Any]:
    """One batch upsert by ``key_field`` (a property with unique values): how tasks and
    created deals are written, so a repeat finds the record the first one made."""
    body = BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
        SimplePublicObjectBatchInputUpsert(id_property=key_field, id=item.key,
                                           properties=dict(item.properties),
                                           object_write_trace_id=item.trace_id)
        for item in batch])
    reply = transport.call(
        f"batch upsert {object_name}", "write",
        lambda kw: batch_api.upsert_with_http_info(object_name, body, **kw), writing=True)
    return body_of(reply)


def _stored(fields: Mapping[str, Any], record: Mapping[str, Any] | None
            ) -> dict[str, Any] | None:
    """The written properties as the answer's record holds them (those it names)."""
    properties = record.get("properties") if record else None
    if not isinstance(properties, Mapping):
        return None
    return {name: properties[name] for name in fields if name in properties}
