"""/crm/v3/objects/{objectType}/batch/{read|create|update|upsert|archive}.

Partial failure is a 207 whose ``errors[]`` name the inputs at fault (``context.ids``),
which the client returns as its ``...WithErrors`` model. Batch create is all-or-nothing,
as in HubSpot, unless the inputs carry ``objectWriteTraceId`` (multi-status mode): then
each failed input is reported under its trace id and the others are created.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from handoff_sync.sandbox.core.http import ApiError, Request, Response, Router
from handoff_sync.sandbox.hubspot.associations import SINGULAR
from handoff_sync.sandbox.hubspot.errors import bad_request, not_found, standard_error
from handoff_sync.sandbox.hubspot.objects_api import OBJECTS, written_names
from handoff_sync.sandbox.hubspot.render import batch_json, object_json, property_names
from handoff_sync.sandbox.hubspot.requests import (
    batch_inputs,
    flag,
    input_id,
    name_list,
    object_body,
    path_type,
)
from handoff_sync.sandbox.hubspot.store import HsObject, Write

if TYPE_CHECKING:
    from handoff_sync.sandbox.hubspot.api import HubSpotApi

Claims = dict[tuple[str, str], int]


def error_entry(exc: ApiError, context: dict[str, list[str]]) -> dict[str, Any]:
    """A refused input as one StandardError of the batch response."""
    body = exc.body if isinstance(exc.body, dict) else {}
    entry = standard_error(str(body.get("category", "VALIDATION_ERROR")),
                           str(body.get("message", "")), context)
    entry["errors"] = body.get("errors", [])
    return entry


def not_found_entry(verb: str, object_type: str, ids: list[str]) -> dict[str, Any]:
    return standard_error(
        "OBJECT_NOT_FOUND",
        f"Could not {verb} some {SINGULAR[object_type].upper()} objects, they may be deleted "
        "or not exist. Check that ids are valid.",
        {"ids": ids},
    )


def reject_duplicate_ids(keys: list[str]) -> None:
    duplicates = sorted(key for key, count in Counter(keys).items() if count > 1)
    if duplicates:
        raise bad_request(f"Duplicate IDs found in batch input: {duplicates}. IDs must be "
                          "unique", context={"ids": duplicates})


class BatchEndpoints:
    def __init__(self, api: HubSpotApi) -> None:
        self.api = api
        self.store = api.store

    def register(self, router: Router) -> None:
        for verb, handler in (("read", self.read), ("create", self.create),
                              ("update", self.update), ("upsert", self.upsert),
                              ("archive", self.archive)):
            router.add("hubspot", "POST", f"{OBJECTS}/batch/{verb}", handler,
                       f"POST /crm/v3/objects/{{objectType}}/batch/{verb}")

    def read(self, request: Request) -> Response:
        object_type = path_type(request)
        body = object_body(request)
        started = self.api.now_ms()
        id_property = body.get("idProperty") or None
        if id_property is not None:
            self.store.require_unique_property(object_type, str(id_property))
        names = property_names(self.store.properties, object_type,
                               name_list(body.get("properties")))
        found: dict[int, HsObject] = {}
        missing: list[str] = []
        for entry in batch_inputs(body):
            key = input_id(entry)
            obj = self.store.find(object_type, key, archived=flag(request, "archived"),
                                  id_property=id_property)
            if obj is None:
                missing.append(key)
            else:
                found[obj.id] = obj
        errors = [not_found_entry("get", object_type, missing)] if missing else []
        results = [object_json(obj, names) for obj in found.values()]
        return self._answer(200, results, errors, started)

    def create(self, request: Request) -> Response:
        object_type = path_type(request)
        inputs = batch_inputs(object_body(request))
        started = self.api.now_ms()
        traced = any(isinstance(e, dict) and e.get("objectWriteTraceId") for e in inputs)
        claims: Claims = {}
        writes: list[Write] = []
        errors: list[dict[str, Any]] = []
        for entry in inputs:
            try:
                writes.append(self._prepare_create(object_type, entry, claims))
            except ApiError as exc:
                if not traced:
                    raise  # without trace ids one bad input fails the whole batch
                trace = str(entry.get("objectWriteTraceId", ""))
                errors.append(error_entry(exc, {"objectWriteTraceId": [trace]}))
        results = [self._apply(w) for w in writes]
        return self._answer(201, results, errors, started)

    def _prepare_create(self, object_type: str, entry: Any, claims: Claims) -> Write:
        if not isinstance(entry, dict):
            raise bad_request("inputs[]: expected {properties, associations?}")
        write = self.store.prepare_create(object_type, entry.get("properties"),
                                          entry.get("associations"))
        self.store.check_unique(write, claims)
        return write

    def update(self, request: Request) -> Response:
        object_type = path_type(request)
        inputs = batch_inputs(object_body(request))
        started = self.api.now_ms()
        keys = [input_id(entry) for entry in inputs]
        reject_duplicate_ids(keys)
        claims: Claims = {}
        writes: list[Write] = []
        errors: list[dict[str, Any]] = []
        missing: list[str] = []
        for entry, key in zip(inputs, keys, strict=True):
            target = self.store.find(object_type, key, id_property=entry.get("idProperty"))
            if target is None:
                missing.append(key)
                continue
            try:
                write = self.store.prepare_update(object_type, target, entry.get("properties"))
                self.store.check_unique(write, claims)
                writes.append(write)
            except ApiError as exc:
                errors.append(error_entry(exc, {"ids": [key]}))
        if missing:
            errors.insert(0, not_found_entry("update", object_type, missing))
        results = [self._apply(w) for w in writes]
        return self._answer(200, results, errors, started)

    def upsert(self, request: Request) -> Response:
        """Update the record whose idProperty holds ``id``, or create it with that value."""
        object_type = path_type(request)
        inputs = batch_inputs(object_body(request))
        started = self.api.now_ms()
        keys = [input_id(entry) for entry in inputs]
        for entry in inputs:
            self.store.require_unique_property(object_type, str(entry.get("idProperty") or ""))
        reject_duplicate_ids(keys)
        claims: Claims = {}
        planned: list[Write] = []
        errors: list[dict[str, Any]] = []
        for entry, key in zip(inputs, keys, strict=True):
            try:
                planned.append(self._prepare_upsert(object_type, entry, key, claims))
            except ApiError as exc:
                errors.append(error_entry(exc, {"ids": [key]}))
        results = [{**self._apply(w), "new": w.target is None} for w in planned]
        return self._answer(200, results, errors, started)

    def _prepare_upsert(self, object_type: str, entry: dict[str, Any], key: str,
                        claims: Claims) -> Write:
        id_property = str(entry["idProperty"])
        target = self.store.find(object_type, key, id_property=id_property)
        if target is not None:
            write = self.store.prepare_update(object_type, target, entry.get("properties"))
        elif id_property == "hs_object_id":
            raise not_found("resource not found", context={"ids": [key]})
        else:
            properties = dict(entry.get("properties") or {})
            properties[id_property] = key
            write = self.store.prepare_create(object_type, properties)
        self.store.check_unique(write, claims)
        return write

    def archive(self, request: Request) -> Response:
        """204 always: ids that do not exist (or are archived already) are skipped."""
        object_type = path_type(request)
        now = self.api.now_ms()
        for entry in batch_inputs(object_body(request)):
            obj = self.store.find(object_type, input_id(entry))
            if obj is not None:
                self.store.archive(object_type, obj, now)
        return Response.empty(204)

    def _apply(self, write: Write) -> dict[str, Any]:
        obj = self.store.apply(write, self.api.now_ms())
        return object_json(obj, written_names(self.store.properties, write.object_type, obj))

    def _answer(self, ok_status: int, results: list[Any], errors: list[dict[str, Any]],
                started: int) -> Response:
        status = 207 if errors else ok_status
        return Response.json(status, batch_json(results, errors, started, self.api.now_ms()))
