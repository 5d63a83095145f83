"""Associations v4: /crm/v4/objects/{from}/{id}/associations/... and the batch endpoints."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from handoff_sync.sandbox.core.http import ApiError, Request, Response, Router
from handoff_sync.sandbox.hubspot.associations import (
    HUBSPOT_DEFINED,
    SINGULAR,
    object_type_id,
)
from handoff_sync.sandbox.hubspot.batch_api import error_entry
from handoff_sync.sandbox.hubspot.errors import bad_request, not_found, standard_error
from handoff_sync.sandbox.hubspot.render import batch_json, next_page
from handoff_sync.sandbox.hubspot.requests import (
    batch_inputs,
    input_id,
    int_arg,
    json_body,
    object_body,
    path_type,
)
from handoff_sync.sandbox.hubspot.schema import ASSOCIATION_TYPES
from handoff_sync.sandbox.hubspot.store import HsObject

if TYPE_CHECKING:
    from handoff_sync.sandbox.hubspot.api import HubSpotApi

RECORD = "/crm/v4/objects/(?P<from_type>[^/]+)/(?P<from_id>[^/]+)/associations"
BATCH = "/crm/v4/associations/(?P<from_type>[^/]+)/(?P<to_type>[^/]+)/batch"
PAGE_DEFAULT_LIMIT, PAGE_MAX_LIMIT = 500, 500


def types_json(type_ids: list[int]) -> list[dict[str, Any]]:
    return [{"category": HUBSPOT_DEFINED, "typeId": t, "label": None} for t in type_ids]


def spec_json(type_id: int) -> dict[str, Any]:
    return {"associationCategory": HUBSPOT_DEFINED, "associationTypeId": type_id}


class AssociationEndpoints:
    def __init__(self, api: HubSpotApi) -> None:
        self.api = api
        self.store = api.store

    def register(self, router: Router) -> None:
        one = RECORD + "/(?P<to_type>[^/]+)/(?P<to_id>[^/]+)"
        name = "/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations"
        add = router.add
        add("hubspot", "PUT", RECORD + "/default/(?P<to_type>[^/]+)/(?P<to_id>[^/]+)",
            self.create_default, f"PUT {name}/default/{{toObjectType}}/{{toObjectId}}")
        add("hubspot", "PUT", one, self.create, f"PUT {name}/{{toObjectType}}/{{toObjectId}}")
        add("hubspot", "DELETE", one, self.archive,
            f"DELETE {name}/{{toObjectType}}/{{toObjectId}}")
        add("hubspot", "GET", RECORD + "/(?P<to_type>[^/]+)", self.get_page,
            f"GET {name}/{{toObjectType}}")
        batch = "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch"
        for verb, handler in (("read", self.batch_read), ("create", self.batch_create),
                              ("archive", self.batch_archive),
                              ("associate/default", self.batch_default)):
            add("hubspot", "POST", f"{BATCH}/{verb}", handler, f"POST {batch}/{verb}")

    # --- helpers ------------------------------------------------------------------------
    def _pair(self, request: Request) -> tuple[str, str]:
        from_type, to_type = path_type(request, "from_type"), path_type(request, "to_type")
        if (from_type, to_type) not in ASSOCIATION_TYPES:
            raise bad_request(f"{from_type} cannot be associated with {to_type} in this portal.",
                              context={"toObjectType": [to_type]})
        return from_type, to_type

    def _record(self, object_type: str, key: str) -> HsObject:
        obj = self.store.find(object_type, key)
        if obj is None:
            raise not_found(f"No {SINGULAR[object_type]} with ID {key} exists.",
                            context={"id": [key]})
        return obj

    def _link_default(self, from_type: str, from_id: str, to_type: str, to_id: str
                      ) -> list[dict[str, Any]]:
        """Create the default association; both directions, as HubSpot lists them."""
        source, target = self._record(from_type, from_id), self._record(to_type, to_id)
        type_id = ASSOCIATION_TYPES[(from_type, to_type)]
        self.store.associations.add(from_type, source.id, to_type, target.id, type_id)
        reverse = ASSOCIATION_TYPES[(to_type, from_type)]
        return [
            {"from": {"id": str(source.id)}, "to": {"id": str(target.id)},
             "associationSpec": spec_json(type_id)},
            {"from": {"id": str(target.id)}, "to": {"id": str(source.id)},
             "associationSpec": spec_json(reverse)},
        ]

    def _link_labelled(self, from_type: str, from_id: str, to_type: str, to_id: str,
                       specs: Any) -> dict[str, Any]:
        if not isinstance(specs, list) or not specs:
            raise bad_request("Expected a non-empty list of {associationCategory, "
                              "associationTypeId}.")
        type_ids = [self.store.association_type(from_type, s, to_type)[1] for s in specs]
        source, target = self._record(from_type, from_id), self._record(to_type, to_id)
        for type_id in type_ids:
            self.store.associations.add(from_type, source.id, to_type, target.id, type_id)
        return {"fromObjectTypeId": object_type_id(from_type), "fromObjectId": source.id,
                "toObjectTypeId": object_type_id(to_type), "toObjectId": target.id,
                "labels": []}

    # --- one record ---------------------------------------------------------------------
    def create_default(self, request: Request) -> Response:
        from_type, to_type = self._pair(request)
        started = self.api.now_ms()
        results = self._link_default(from_type, request.params["from_id"], to_type,
                                     request.params["to_id"])
        return Response.json(200, batch_json(results, [], started, self.api.now_ms()))

    def create(self, request: Request) -> Response:
        from_type, to_type = self._pair(request)
        body = self._link_labelled(from_type, request.params["from_id"], to_type,
                                   request.params["to_id"], json_body(request))
        return Response.json(201, body)

    def archive(self, request: Request) -> Response:
        from_type, to_type = self._pair(request)
        source = self._record(from_type, request.params["from_id"])
        to_id = request.params["to_id"]
        if to_id.isdigit():
            self.store.associations.remove(from_type, source.id, to_type, int(to_id))
        return Response.empty(204)

    def get_page(self, request: Request) -> Response:
        from_type, to_type = self._pair(request)
        source = self._record(from_type, request.params["from_id"])
        limit = int_arg(request, "limit", PAGE_DEFAULT_LIMIT, 1, PAGE_MAX_LIMIT)
        offset = int_arg(request, "after", 0, 0, 2**31)
        targets = self.store.associations.targets(from_type, source.id, to_type)
        window = targets[offset:offset + limit]
        body: dict[str, Any] = {"results": [{"toObjectId": to_id, "associationTypes":
                                             types_json(type_ids)} for to_id, type_ids in window]}
        if offset + limit < len(targets):
            after = str(offset + limit)
            link = (f"{self.api.base_url}/crm/v4/objects/{from_type}/{source.id}/associations/"
                    f"{to_type}?limit={limit}&after={after}")
            body["paging"] = next_page(after, link)
        return Response.json(200, body)

    # --- batch --------------------------------------------------------------------------
    def batch_read(self, request: Request) -> Response:
        from_type, to_type = self._pair(request)
        started = self.api.now_ms()
        results, errors = [], []
        for entry in batch_inputs(object_body(request)):
            key = input_id(entry)
            source = self.store.find(from_type, key)
            targets = self.store.associations.targets(from_type, source.id, to_type) \
                if source is not None else []
            if targets:
                results.append({"from": {"id": key}, "to": [
                    {"toObjectId": to_id, "associationTypes": types_json(type_ids)}
                    for to_id, type_ids in targets]})
            else:
                errors.append(standard_error(
                    "OBJECT_NOT_FOUND",
                    f"No {SINGULAR[to_type]} is associated with {SINGULAR[from_type]} {key}.",
                    {"fromObjectId": [key]}, sub_category="crm.associations.NO_ASSOCIATIONS_FOUND"))
        status = 207 if errors else 200
        return Response.json(status, batch_json(results, errors, started, self.api.now_ms()))

    def batch_create(self, request: Request) -> Response:
        def link(from_type: str, from_id: str, to_type: str, to_id: str,
                 entry: dict[str, Any]) -> list[dict[str, Any]]:
            return [self._link_labelled(from_type, from_id, to_type, to_id, entry.get("types"))]

        failed, body = self._batch_links(request, link)
        return Response.json(207 if failed else 201, body)

    def batch_default(self, request: Request) -> Response:
        def link(from_type: str, from_id: str, to_type: str, to_id: str,
                 _entry: dict[str, Any]) -> list[dict[str, Any]]:
            return self._link_default(from_type, from_id, to_type, to_id)

        # The client has no multi-status model for this call: errors travel in a 200.
        _failed, body = self._batch_links(request, link)
        return Response.json(200, body)

    def _batch_links(
        self, request: Request, link: Callable[..., list[dict[str, Any]]]
    ) -> tuple[bool, dict[str, Any]]:
        """Apply ``link`` to every input: (any input failed, the batch response body)."""
        from_type, to_type = self._pair(request)
        started = self.api.now_ms()
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for entry in batch_inputs(object_body(request)):
            from_id, to_id = self._ends(entry)
            try:
                results += link(from_type, from_id, to_type, to_id, entry)
            except ApiError as exc:
                errors.append(error_entry(exc, {"fromObjectId": [from_id], "toObjectId": [to_id]}))
        return bool(errors), batch_json(results, errors, started, self.api.now_ms())

    def batch_archive(self, request: Request) -> Response:
        from_type, to_type = self._pair(request)
        for entry in batch_inputs(object_body(request)):
            source = self.store.find(from_type, input_id(entry.get("from")))
            targets = entry.get("to") if isinstance(entry.get("to"), list) else []
            for target in targets:
                to_id = input_id(target)
                if source is not None and to_id.isdigit():
                    self.store.associations.remove(from_type, source.id, to_type, int(to_id))
        return Response.empty(204)

    @staticmethod
    def _ends(entry: Any) -> tuple[str, str]:
        if not isinstance(entry, dict):
            raise bad_request("inputs[]: expected {from: {id}, to: {id}}")
        return input_id(entry.get("from")), input_id(entry.get("to"))
