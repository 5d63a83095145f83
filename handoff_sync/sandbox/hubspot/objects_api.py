"""/crm/v3/objects/{objectType}: list, read, create, update, archive and search records."""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING, Any

from handoff_sync.sandbox.core.http import Request, Response, Router
from handoff_sync.sandbox.hubspot.errors import bad_request
from handoff_sync.sandbox.hubspot.properties import PropertyRegistry
from handoff_sync.sandbox.hubspot.render import (
    associations_json,
    next_page,
    object_json,
    property_names,
)
from handoff_sync.sandbox.hubspot.requests import (
    flag,
    int_arg,
    json_body,
    object_body,
    path_type,
)
from handoff_sync.sandbox.hubspot.schema import DEFAULT_PROPERTIES
from handoff_sync.sandbox.hubspot.search import run
from handoff_sync.sandbox.hubspot.search_query import parse_query
from handoff_sync.sandbox.hubspot.store import SYSTEM_PROPERTIES, HsObject, resolve_type

if TYPE_CHECKING:
    from handoff_sync.sandbox.hubspot.api import HubSpotApi

OBJECTS = "/crm/v3/objects/(?P<object_type>[^/]+)"
ONE_OBJECT = OBJECTS + "/(?P<object_id>[^/]+)"
LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT = 10, 100


class ObjectEndpoints:
    def __init__(self, api: HubSpotApi) -> None:
        self.api = api
        self.store = api.store

    def register(self, router: Router) -> None:
        name = "/crm/v3/objects/{objectType}"
        router.add("hubspot", "GET", OBJECTS, self.get_page, f"GET {name}")
        router.add("hubspot", "POST", OBJECTS, self.create, f"POST {name}")
        router.add("hubspot", "POST", OBJECTS + "/search", self.search, f"POST {name}/search")
        router.add("hubspot", "GET", ONE_OBJECT, self.get_by_id, f"GET {name}/{{id}}")
        router.add("hubspot", "PATCH", ONE_OBJECT, self.update, f"PATCH {name}/{{id}}")
        router.add("hubspot", "DELETE", ONE_OBJECT, self.archive, f"DELETE {name}/{{id}}")

    # --- reads --------------------------------------------------------------------------
    def get_page(self, request: Request) -> Response:
        """Records in id order; ``after`` is the id the next page starts at."""
        object_type = path_type(request)
        limit = int_arg(request, "limit", LIST_DEFAULT_LIMIT, 1, LIST_MAX_LIMIT)
        archived = flag(request, "archived")
        page, next_id = self._page(object_type, request.arg("after"), limit, archived)
        names, to_types = self._read_options(request, object_type)
        body: dict[str, Any] = {"results": [self._render(object_type, obj, names, to_types)
                                            for obj in page]}
        if next_id is not None:
            link = f"{self.api.base_url}/crm/v3/objects/{object_type}?limit={limit}&after={next_id}"
            body["paging"] = next_page(str(next_id), link)
        return Response.json(200, body)

    def _page(self, object_type: str, after: str | None, limit: int, archived: bool
              ) -> tuple[list[HsObject], int | None]:
        if after and not after.isdigit():
            raise bad_request(f"after must be the paging token of a previous page; got {after!r}.")
        table = self.store.table(object_type)
        ids = table.archived_ids if archived else table.ids
        page: list[HsObject] = []
        for position in range(bisect_left(ids, int(after)) if after else 0, len(ids)):
            object_id = ids[position]
            obj = table.objects[object_id]
            if obj.archived != archived:
                continue
            if len(page) == limit:
                return page, object_id
            page.append(obj)
        return page, None

    def get_by_id(self, request: Request) -> Response:
        object_type = path_type(request)
        obj = self.store.require(object_type, request.params["object_id"],
                                 archived=flag(request, "archived"),
                                 id_property=request.arg("idProperty"))
        names, to_types = self._read_options(request, object_type)
        return Response.json(200, self._render(object_type, obj, names, to_types))

    def _read_options(self, request: Request, object_type: str) -> tuple[list[str], list[str]]:
        names = property_names(self.store.properties, object_type, request.args("properties"))
        to_types = [resolve_type(name) for name in request.args("associations")]
        return names, to_types

    def _render(self, object_type: str, obj: HsObject, names: list[str],
                to_types: list[str]) -> dict[str, Any]:
        body = object_json(obj, names)
        if to_types:
            found = associations_json(self.store.associations, object_type, obj.id, to_types)
            if found:
                body["associations"] = found
        return body

    # --- writes -------------------------------------------------------------------------
    def create(self, request: Request) -> Response:
        object_type = path_type(request)
        body = object_body(request)
        write = self.store.prepare_create(object_type, body.get("properties"),
                                          body.get("associations"))
        self.store.check_unique(write)
        obj = self.store.apply(write, self.api.now_ms())
        return Response.json(201, object_json(obj, written_names(self.store.properties,
                                                                 object_type, obj)))

    def update(self, request: Request) -> Response:
        object_type = path_type(request)
        target = self.store.require(object_type, request.params["object_id"],
                                    id_property=request.arg("idProperty"))
        write = self.store.prepare_update(object_type, target,
                                          object_body(request).get("properties"))
        self.store.check_unique(write)
        obj = self.store.apply(write, self.api.now_ms())
        return Response.json(200, object_json(obj, written_names(self.store.properties,
                                                                 object_type, obj)))

    def archive(self, request: Request) -> Response:
        """204 whether or not the record existed: archiving is idempotent."""
        object_type = path_type(request)
        obj = self.store.find(object_type, request.params["object_id"])
        if obj is not None:
            self.store.archive(object_type, obj, self.api.now_ms())
        return Response.empty(204)

    # --- search -------------------------------------------------------------------------
    def search(self, request: Request) -> Response:
        object_type = path_type(request)
        query = parse_query(json_body(request), object_type, self.store.properties)
        page = run(query, self.store.table(object_type), object_type,
                   self.api.search_visible_until_ms())
        names = property_names(self.store.properties, object_type, query.properties)
        body: dict[str, Any] = {"total": page.total,
                                "results": [object_json(obj, names) for obj in page.objects]}
        if page.next_offset is not None:
            body["paging"] = next_page(str(page.next_offset))
        return Response.json(200, body)


def written_names(registry: PropertyRegistry, object_type: str, obj: HsObject) -> list[str]:
    """A write answers with the defaults plus every property the record now holds (but
    those the schema overlay archived: their values are kept, not shown)."""
    held = [name for name in sorted(obj.properties)
            if registry.get(object_type, name) is not None]
    return list(dict.fromkeys([*DEFAULT_PROPERTIES[object_type], *held, *SYSTEM_PROPERTIES]))
