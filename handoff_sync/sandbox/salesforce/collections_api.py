"""sObject Collections (/composite/sobjects/): create, update, upsert, delete and
retrieve up to 200 records per call, per record or allOrNone."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handoff_sync.sandbox.core.http import Request, Response, Router
from handoff_sync.sandbox.salesforce.errors import MultipleMatches, RecordError, rolled_back_error
from handoff_sync.sandbox.salesforce.rest import (
    DATA,
    add_routes,
    fail,
    json_object,
    json_type_failure,
    record_json,
    resolve_fields,
)
from handoff_sync.sandbox.salesforce.schema import SfField, SfObject, find_object
from handoff_sync.sandbox.salesforce.sobjects_api import external_field
from handoff_sync.sandbox.salesforce.store import Record, normalize_id
from handoff_sync.sandbox.salesforce.values import Changes, JsonTypeError, parse_changes

if TYPE_CHECKING:
    from handoff_sync.sandbox.salesforce.api import SalesforceApi


MAX_COLLECTION = 200
MAX_RETRIEVE = 2000
_TOO_MANY = "record limit reached. cannot submit more than 200 records into this call"


@dataclass
class _Item:
    """One record of a collection call: a write to run, or the error found while reading it."""

    record_id: str | None = None
    run: Callable[[], tuple[str, bool | None]] | None = None
    error: RecordError | None = None


class CollectionEndpoints:
    """sObject Collections: up to 200 records per call, allOrNone or per record."""

    def __init__(self, api: SalesforceApi) -> None:
        self.api = api
        self.store = api.store

    def register(self, router: Router) -> None:
        add_routes(router, [
            ("POST", DATA + r"/composite/sobjects/?", self.create, True),
            ("PATCH", DATA + r"/composite/sobjects/?", self.update, True),
            ("DELETE", DATA + r"/composite/sobjects/?", self.delete, True),
            ("GET", DATA + r"/composite/sobjects/(?P<object>\w+)/?", self.retrieve, True),
            ("POST", DATA + r"/composite/sobjects/(?P<object>\w+)/?", self.retrieve, True),
            ("PATCH", DATA + r"/composite/sobjects/(?P<object>\w+)/(?P<field>\w+)/?",
             self.upsert, True),
        ])

    def create(self, request: Request) -> Response:
        records, all_or_none = self._collection_records(request)
        items = [self._plan_create(request, raw) for raw in records]
        return Response.json(200, self._run_batch(items, all_or_none, upsert=False))

    def update(self, request: Request) -> Response:
        records, all_or_none = self._collection_records(request)
        items = [self._plan_update(request, raw) for raw in records]
        return Response.json(200, self._run_batch(items, all_or_none, upsert=False))

    def delete(self, request: Request) -> Response:
        ids = request.args("ids")
        if len(ids) > MAX_COLLECTION:
            raise fail(400, "EXCEEDED_ID_LIMIT", _TOO_MANY)
        items = [self._plan_delete(raw) for raw in ids]
        all_or_none = _flag(request.arg("allOrNone", "false"))
        return Response.json(200, self._run_batch(items, all_or_none, upsert=False))

    def retrieve(self, request: Request) -> Response:
        obj = self.api.requested_object(request)
        if request.method == "POST":
            body = json_object(request, "SObjectCollectionRetrieve")
            ids = [str(i) for i in body.get("ids") or []]
            wanted = [str(f) for f in body.get("fields") or []]
        else:
            ids, wanted = request.args("ids"), request.args("fields")
        if len(ids) > MAX_RETRIEVE:
            raise fail(400, "EXCEEDED_ID_LIMIT", "Maximum number of ids is 2000")
        if not wanted:
            raise fail(400, "MISSING_ARGUMENT", "The fields parameter is required")
        fields = resolve_fields(obj, wanted)
        version = request.params["version"]
        out: list[dict[str, Any] | None] = []
        for raw in ids:
            record_id = normalize_id(raw)
            record = self._live(obj, record_id) if record_id else None
            out.append(record_json(version, obj.name, record, fields) if record else None)
        return Response.json(200, out)

    def upsert(self, request: Request) -> Response:
        obj = self.api.requested_object(request)
        fld = external_field(obj, request.params["field"])
        records, all_or_none = self._collection_records(request)
        keys = [_key_of(raw, fld) for raw in records]
        counts: dict[str, int] = {}
        for key in keys:
            if key is not None:
                counts[key.lower()] = counts.get(key.lower(), 0) + 1
        items = [self._plan_upsert(request, obj, fld, raw, key, counts)
                 for raw, key in zip(records, keys, strict=True)]
        return Response.json(200, self._run_batch(items, all_or_none, upsert=True))

    def _collection_records(self, request: Request) -> tuple[list[Any], bool]:
        body = json_object(request, "SObjectCollection")
        records = body.get("records")
        if not isinstance(records, list):
            raise fail(400, "INVALID_FIELD", "The records field is required and must be a list")
        if len(records) > MAX_COLLECTION:
            raise fail(400, "EXCEEDED_ID_LIMIT", _TOO_MANY)
        return records, _flag(body.get("allOrNone"))

    def _item_changes(self, request: Request, obj: SfObject, raw: Any) -> Changes:
        if not isinstance(raw, dict):
            raise fail(400, "JSON_PARSER_ERROR",
                       "Cannot deserialize instance of SObject from VALUE_STRING value "
                       "[line:1, column:1]")
        try:
            return parse_changes(obj, raw)
        except JsonTypeError as exc:
            raise json_type_failure(request, exc) from exc

    def _plan_create(self, request: Request, raw: Any) -> _Item:
        kind = _declared_type(raw)
        obj = self.api.effective(find_object(kind)) if kind else None
        if obj is None:
            message = (f"sObject type '{kind}' is not supported." if kind
                       else "Must send a concrete entity type.")
            return _Item(error=RecordError("INVALID_TYPE", message))
        changes = self._item_changes(request, obj, raw)
        return _Item(run=lambda: (self.store.create(obj, changes)["Id"], None))

    def _plan_update(self, request: Request, raw: Any) -> _Item:
        given = (raw.get("id") or raw.get("Id")) if isinstance(raw, dict) else None
        if not given:
            return _Item(error=RecordError("MISSING_ARGUMENT",
                                           "Id not specified in an update call"))
        record_id = normalize_id(given)
        obj = self.api.effective(self.store.object_for_id(record_id)) if record_id else None
        kind = _declared_type(raw)
        if record_id is None or obj is None or (kind and kind.lower() != obj.name.lower()):
            return _Item(record_id=str(given),
                         error=RecordError("MALFORMED_ID", f"malformed id {given}", ["Id"]))
        body = {k: v for k, v in raw.items() if k.lower() != "id"}
        changes = self._item_changes(request, obj, body)
        return _Item(record_id=record_id,
                     run=lambda: (self.store.update(obj, record_id, changes)["Id"], None))

    def _plan_upsert(
        self, request: Request, obj: SfObject, fld: SfField, raw: Any, key: str | None,
        counts: Mapping[str, int],
    ) -> _Item:
        if key is None:
            return _Item(error=RecordError("MISSING_ARGUMENT", f"{fld.name} not specified",
                                           [fld.name]))
        if counts[key.lower()] > 1:
            return _Item(error=RecordError("DUPLICATE_EXTERNAL_ID",
                                           f"Duplicate external id specified: {key}", [fld.name]))
        changes = self._item_changes(request, obj, raw)

        def run() -> tuple[str, bool | None]:
            try:
                record, created = self.store.upsert(obj, fld, key, changes)
            except MultipleMatches as exc:
                raise RecordError(
                    "DUPLICATE_EXTERNAL_ID",
                    f"{fld.name}: more than one record found for external id field: {exc.ids}",
                    [fld.name],
                ) from exc
            return record["Id"], created

        return _Item(run=run)

    def _plan_delete(self, raw: str) -> _Item:
        record_id = normalize_id(raw)
        obj = self.store.object_for_id(record_id) if record_id else None
        if record_id is None:
            return _Item(record_id=raw, error=RecordError("MALFORMED_ID", f"malformed id {raw}"))
        if obj is None:
            return _Item(record_id=record_id, error=RecordError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"))
        if not obj.deletable:
            return _Item(record_id=record_id, error=RecordError(
                "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id"))

        def run() -> tuple[str, bool | None]:
            self.store.delete(obj, record_id)
            return record_id, None

        return _Item(record_id=record_id, run=run)

    def _run_batch(self, items: list[_Item], all_or_none: bool, *, upsert: bool) -> list[Any]:
        """Run each write in input order; allOrNone undoes them all when any one failed."""
        self.store.begin()
        try:
            outcomes = [self._run_item(item) for item in items]
        except Exception:
            self.store.rollback()  # a sandbox bug answers 500 but never leaves half a batch
            raise
        if all_or_none and any(error for _, error, _ in outcomes):
            self.store.rollback()
            outcomes = [(item.record_id, error or rolled_back_error(), None)
                        for item, (_, error, _) in zip(items, outcomes, strict=True)]
        else:
            self.store.commit()
        return [_result(record_id, error, created, upsert)
                for record_id, error, created in outcomes]

    @staticmethod
    def _run_item(item: _Item) -> tuple[str | None, RecordError | None, bool | None]:
        if item.error is not None or item.run is None:
            return item.record_id, item.error, None
        try:
            record_id, created = item.run()
        except RecordError as exc:
            if exc.code == "NOT_FOUND":  # collections name a missing row differently
                exc = RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            return item.record_id, exc, None
        return record_id, None, created

    def _live(self, obj: SfObject, record_id: str) -> Record | None:
        try:
            return self.store.fetch(obj, record_id)
        except RecordError:
            return None


def _declared_type(raw: Any) -> str | None:
    """``attributes.type`` of a collection record, when it names one."""
    attributes = raw.get("attributes") if isinstance(raw, dict) else None
    kind = attributes.get("type") if isinstance(attributes, dict) else None
    return kind if isinstance(kind, str) and kind else None


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _key_of(raw: Any, fld: SfField) -> str | None:
    """An upsert record's external id value, whatever case its key is written in."""
    if not isinstance(raw, dict):
        return None
    for name, value in raw.items():
        if name.lower() == fld.name.lower() and value is not None and value != "":
            return value if isinstance(value, str) else str(value)
    return None


def _result(
    record_id: str | None, error: RecordError | None, created: bool | None, upsert: bool
) -> dict[str, Any]:
    result: dict[str, Any] = {} if record_id is None else {"id": record_id}
    result["success"] = error is None
    result["errors"] = [] if error is None else [error.collection_error()]
    if upsert:
        result["created"] = bool(created)
    return result
