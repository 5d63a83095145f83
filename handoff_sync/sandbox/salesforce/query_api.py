"""SOQL over REST: query and queryAll, evaluated once into a cursor whose later pages
(nextRecordsUrl) read that snapshot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handoff_sync.sandbox.core.http import Request, Response, Router
from handoff_sync.sandbox.salesforce import soql
from handoff_sync.sandbox.salesforce.cursors import Cursor
from handoff_sync.sandbox.salesforce.rest import (
    DATA,
    add_routes,
    fail,
    field_types,
    record_json,
)
from handoff_sync.sandbox.salesforce.schema import SfObject, find_object

if TYPE_CHECKING:
    from handoff_sync.sandbox.salesforce.api import SalesforceApi


PAGE_SIZE = 2000
MIN_PAGE_SIZE = 200


class QueryEndpoints:
    """SOQL over REST: query, queryAll and the next page of an open cursor."""

    def __init__(self, api: SalesforceApi) -> None:
        self.api = api
        self.store = api.store

    def register(self, router: Router) -> None:
        add_routes(router, [
            ("GET", DATA + r"/(?P<scope>query|queryAll)/?", self.query, True),
            ("GET", DATA + r"/(?P<scope>query|queryAll)/(?P<locator>01g\w{15})-(?P<offset>\d+)",
             self.query_more, True),
        ])

    def query(self, request: Request) -> Response:
        text = request.arg("q")
        if not text:
            raise fail(400, "MALFORMED_QUERY", "A query string has to be specified")
        scope = request.params["scope"]
        obj, compiled = compile_soql(self.api, text)
        # Evaluated once, here; later pages read this snapshot.
        rows = compiled.run(self.store.rows(obj, include_deleted=scope == "queryAll"))
        if compiled.count_only:
            return Response.json(200, {"totalSize": len(rows), "done": True, "records": []})
        cursor = Cursor(obj.name, compiled.select_fields, rows, _batch_size(request))
        return self._page(request, cursor, None, 0)

    def query_more(self, request: Request) -> Response:
        locator = request.params["locator"]
        offset = int(request.params["offset"])
        cursor = self.api.cursors.get(locator)
        if cursor is None or offset > len(cursor.rows):
            raise fail(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(request, cursor, locator, offset)

    def _page(
        self, request: Request, cursor: Cursor, locator: str | None, offset: int
    ) -> Response:
        version, scope = request.params["version"], request.params["scope"]
        end = offset + cursor.batch_size
        done = end >= len(cursor.rows)
        body: dict[str, Any] = {"totalSize": len(cursor.rows), "done": done}
        if not done:
            locator = locator or self.api.cursors.open(cursor)
            body["nextRecordsUrl"] = f"/services/data/v{version}/{scope}/{locator}-{end}"
        body["records"] = [record_json(version, cursor.object_name, row, cursor.fields)
                           for row in cursor.rows[offset:end]]
        return Response.json(200, body)


def _batch_size(request: Request) -> int:
    """``Sforce-Query-Options: batchSize=N`` is a hint from 200 to 2,000."""
    options = request.header("Sforce-Query-Options") or ""
    for part in options.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            return min(max(int(value), MIN_PAGE_SIZE), PAGE_SIZE)
    return PAGE_SIZE


def compile_soql(api: SalesforceApi, text: str) -> tuple[SfObject, soql.CompiledQuery]:
    """A SOQL text parsed and compiled against its object as the schema overlay shows it."""
    try:
        query = soql.parse(text)
        obj = api.effective(find_object(query.object_name))
        if obj is None:
            raise soql.invalid_type_error(query)
        compiled = soql.compile_query(query, object_name_canonical=obj.name,
                                      field_types=field_types(obj),
                                      now=api.sandbox.clock.now())
    except soql.SoqlError as exc:
        raise fail(400, exc.error_code, exc.message) from exc
    return obj, compiled
