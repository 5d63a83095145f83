"""The /sobjects/ endpoints: describes, and single records by Id or by an
external-id field (get, create, update, upsert, delete)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

from handoff_sync.sandbox.core.http import Request, Response, Router
from handoff_sync.sandbox.salesforce.describe import (
    describe_global,
    describe_object,
    object_summary,
)
from handoff_sync.sandbox.salesforce.errors import MultipleMatches, RecordError
from handoff_sync.sandbox.salesforce.rest import (
    DATA,
    add_routes,
    fail,
    json_object,
    json_type_failure,
    multiple_choices,
    not_found,
    record_failure,
    record_json,
    resolve_fields,
)
from handoff_sync.sandbox.salesforce.schema import SfField, SfObject
from handoff_sync.sandbox.salesforce.store import Record, normalize_id
from handoff_sync.sandbox.salesforce.values import Changes, JsonTypeError, parse_changes

if TYPE_CHECKING:
    from handoff_sync.sandbox.salesforce.api import SalesforceApi


class SObjectEndpoints:
    """Describes and single records, by Id or by an external-id field."""

    def __init__(self, api: SalesforceApi) -> None:
        self.api = api
        self.store = api.store

    def register(self, router: Router) -> None:
        add_routes(router, [
            ("GET", DATA + r"/sobjects/?", self.describe_global, True),
            ("GET", DATA + r"/sobjects/(?P<object>\w+)/?", self.sobject_info, True),
            ("POST", DATA + r"/sobjects/(?P<object>\w+)/?", self.create, True),
            ("GET", DATA + r"/sobjects/(?P<object>\w+)/describe/?", self.describe, True),
            ("GET", DATA + r"/sobjects/(?P<object>\w+)/(?P<record_id>[^/]+)/?", self.get, True),
            ("PATCH", DATA + r"/sobjects/(?P<object>\w+)/(?P<record_id>[^/]+)/?",
             self.update, True),
            ("DELETE", DATA + r"/sobjects/(?P<object>\w+)/(?P<record_id>[^/]+)/?",
             self.delete, True),
            ("GET", DATA + r"/sobjects/(?P<object>\w+)/(?P<field>\w+)/(?P<value>[^/]+)",
             self.get_by_external_id, True),
            ("PATCH", DATA + r"/sobjects/(?P<object>\w+)/(?P<field>\w+)/(?P<value>[^/]+)",
             self.upsert, True),
            ("DELETE", DATA + r"/sobjects/(?P<object>\w+)/(?P<field>\w+)/(?P<value>[^/]+)",
             self.delete_by_external_id, True),
        ])

    def describe_global(self, request: Request) -> Response:
        return Response.json(200, describe_global(request.params["version"]))

    def sobject_info(self, request: Request) -> Response:
        obj, version = self.api.requested_object(request), request.params["version"]
        name_field = ("Name",) if obj.field("Name") is not None else ()
        recent = [record_json(version, obj.name, r, ("Id", *name_field))
                  for r in self.store.recent(obj, 5)]
        return Response.json(200, {"objectDescribe": object_summary(obj, version),
                                   "recentItems": recent})

    def create(self, request: Request) -> Response:
        obj = self.api.requested_object(request)
        changes = self._changes(request, obj)
        try:
            record = self.store.create(obj, changes)
        except RecordError as exc:
            raise record_failure(exc) from exc
        return Response.json(201, {"id": record["Id"], "success": True, "errors": []})

    def describe(self, request: Request) -> Response:
        return Response.json(200, describe_object(self.api.requested_object(request),
                                                  request.params["version"]))

    def get(self, request: Request) -> Response:
        obj = self.api.requested_object(request)
        record = self._fetch(obj, self._path_id(request, obj))
        fields = self._selected_fields(request, obj)
        return Response.json(200, record_json(request.params["version"], obj.name, record,
                                              fields))

    def update(self, request: Request) -> Response:
        obj = self.api.requested_object(request)
        record_id = self._path_id(request, obj)
        changes = self._changes(request, obj)
        try:
            self.store.update(obj, record_id, changes)
        except RecordError as exc:
            raise record_failure(exc) from exc
        return Response.empty(204)

    def delete(self, request: Request) -> Response:
        obj = self.api.requested_object(request)
        record_id = self._path_id(request, obj)
        self._require_deletable(obj)
        try:
            self.store.delete(obj, record_id)
        except RecordError as exc:
            raise record_failure(exc) from exc
        return Response.empty(204)

    def get_by_external_id(self, request: Request) -> Response:
        obj = self.api.requested_object(request)
        fld = external_field(obj, request.params["field"])
        version = request.params["version"]
        matches = self.store.lookup(obj, fld, unquote_plus(request.params["value"]))
        if not matches:
            raise not_found()
        if len(matches) > 1:
            raise multiple_choices(version, obj, [r["Id"] for r in matches])
        fields = self._selected_fields(request, obj)
        return Response.json(200, record_json(version, obj.name, matches[0], fields))

    def upsert(self, request: Request) -> Response:
        obj = self.api.requested_object(request)
        fld = external_field(obj, request.params["field"])
        version = request.params["version"]
        changes = self._changes(request, obj)
        try:
            record, created = self.store.upsert(obj, fld, unquote_plus(request.params["value"]),
                                                changes)
        except MultipleMatches as exc:
            raise multiple_choices(version, obj, exc.ids) from exc
        except RecordError as exc:
            raise record_failure(exc) from exc
        if not created and float(version) < 46:
            return Response.empty(204)  # before API 46 an upsert that updated said nothing
        body = {"id": record["Id"], "success": True, "errors": [], "created": created}
        return Response.json(201 if created else 200, body)

    def delete_by_external_id(self, request: Request) -> Response:
        obj = self.api.requested_object(request)
        fld = external_field(obj, request.params["field"])
        self._require_deletable(obj)
        matches = self.store.lookup(obj, fld, unquote_plus(request.params["value"]))
        if not matches:
            raise not_found()
        if len(matches) > 1:
            raise multiple_choices(request.params["version"], obj, [r["Id"] for r in matches])
        self.store.delete(obj, matches[0]["Id"])
        return Response.empty(204)

    def _path_id(self, request: Request, obj: SfObject) -> str:
        """The record id in the path, as Salesforce reads it: else an external-id field name."""
        raw = request.params["record_id"]
        if len(raw) not in (15, 18) or not raw.isalnum():
            raise fail(404, "NOT_FOUND",
                       f"Provided external ID field does not exist or is not accessible: {raw}")
        record_id = normalize_id(raw)
        if record_id is None or record_id[:3] != obj.key_prefix:
            raise fail(400, "MALFORMED_ID", f"{obj.name} ID: id value of incorrect type: {raw}")
        return record_id

    def _fetch(self, obj: SfObject, record_id: str) -> Record:
        try:
            return self.store.fetch(obj, record_id)
        except RecordError as exc:
            raise record_failure(exc) from exc

    def _selected_fields(self, request: Request, obj: SfObject) -> tuple[str, ...]:
        """``?fields=`` as canonical names; every field when absent."""
        wanted = request.args("fields")
        return resolve_fields(obj, wanted) if wanted else tuple(f.name for f in obj.fields)

    def _changes(self, request: Request, obj: SfObject) -> Changes:
        try:
            return parse_changes(obj, json_object(request, obj.name))
        except JsonTypeError as exc:
            raise json_type_failure(request, exc) from exc

    @staticmethod
    def _require_deletable(obj: SfObject) -> None:
        if not obj.deletable:
            raise fail(405, "METHOD_NOT_ALLOWED",
                       "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH")


def external_field(obj: SfObject, name: str) -> SfField:
    """The field an external-id path names: 404 when unknown, 400 when not an external id."""
    fld = obj.field(name)
    if fld is None:
        raise fail(404, "NOT_FOUND",
                   f"Provided external ID field does not exist or is not accessible: {name}")
    if not (fld.external_id or fld.name == "Id"):
        raise fail(400, "INVALID_FIELD", f"Field name provided, {fld.name} is not an "
                                         f"External ID or indexed field for {obj.name}")
    return fld
