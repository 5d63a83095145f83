"""Bulk API 2.0 query jobs (/jobs/query/): create, status, abort, delete and the CSV
results, paged by locator."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handoff_sync.sandbox.core.http import Request, Response, Router
from handoff_sync.sandbox.salesforce.bulk import (
    DELIMITERS,
    LINE_ENDINGS,
    OPERATIONS,
    LocatorError,
    QueryJob,
)
from handoff_sync.sandbox.salesforce.query_api import compile_soql
from handoff_sync.sandbox.salesforce.rest import (
    DATA,
    add_routes,
    fail,
    json_object,
    not_found,
)

if TYPE_CHECKING:
    from handoff_sync.sandbox.salesforce.api import SalesforceApi


class BulkEndpoints:
    """Bulk API 2.0 query jobs: create, status, abort, delete, results."""

    def __init__(self, api: SalesforceApi) -> None:
        self.api = api
        self.store = api.store

    def register(self, router: Router) -> None:
        add_routes(router, [
            ("POST", DATA + r"/jobs/query/?", self.create, True),
            ("GET", DATA + r"/jobs/query/(?P<job_id>750\w+)/?", self.status, True),
            ("PATCH", DATA + r"/jobs/query/(?P<job_id>750\w+)/?", self.abort, True),
            ("DELETE", DATA + r"/jobs/query/(?P<job_id>750\w+)/?", self.delete, True),
            ("GET", DATA + r"/jobs/query/(?P<job_id>750\w+)/results/?", self.results, True),
        ])

    def create(self, request: Request) -> Response:
        body = json_object(request, "QueryJobInfo")
        operation = body.get("operation")
        delimiter = body.get("columnDelimiter") or "COMMA"
        line_ending = body.get("lineEnding") or "LF"
        if operation not in OPERATIONS:
            raise fail(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS:
            raise fail(400, "INVALIDJOB", "InvalidJob : Invalid columnDelimiter or lineEnding")
        obj, compiled = compile_soql(self.api, str(body.get("query") or ""))
        if compiled.count_only:
            raise fail(400, "INVALIDJOB", "InvalidJob : Aggregate queries are not supported")
        rows = compiled.run(self.store.rows(obj, include_deleted=operation == "queryAll"))
        job = self.api.bulk.create(
            operation=operation, object_name=obj.name, column_delimiter=delimiter,
            line_ending=line_ending, api_version=request.params["version"],
            created_by=self.store.integration_user_id, created=self.store.stamp(),
            fields=compiled.select_fields, rows=rows,
        )
        return Response.json(200, job.info())

    def status(self, request: Request) -> Response:
        return Response.json(200, self._job(request).status())

    def abort(self, request: Request) -> Response:
        job = self._job(request)
        body = json_object(request, "QueryJobInfo")
        if body.get("state") != "Aborted":
            raise fail(400, "INVALIDJOB", "InvalidJob : a query job can only be Aborted")
        if job.state in ("JobComplete", "Failed"):
            raise fail(400, "INVALIDJOB", f"InvalidJob : job is already {job.state}")
        job.state = "Aborted"
        return Response.json(200, job.info())

    def delete(self, request: Request) -> Response:
        self.api.bulk.delete(self._job(request).id)
        return Response.empty(204)

    def results(self, request: Request) -> Response:
        job = self._job(request)
        if job.state == "Aborted":
            raise fail(400, "INVALIDJOB", "InvalidJob : job was aborted")
        raw_max = request.arg("maxRecords")
        if raw_max is not None and not raw_max.isdigit():
            raise fail(400, "INVALIDREQUEST", f"Invalid maxRecords: {raw_max}")
        try:
            text, count, locator = job.results(request.arg("locator") or None,
                                               int(raw_max) if raw_max else None)
        except LocatorError as exc:
            raise fail(400, "INVALID_QUERY_LOCATOR", "invalid query locator") from exc
        response = Response.text(200, text, "text/csv")
        response.headers.update({"Sforce-NumberOfRecords": str(count), "Sforce-Locator": locator})
        return response

    def _job(self, request: Request) -> QueryJob:
        job = self.api.bulk.get(request.params["job_id"])
        if job is None:
            raise not_found()
        return job
