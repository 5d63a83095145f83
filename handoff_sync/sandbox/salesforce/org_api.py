"""The org's own resources: the API versions it serves, the resources of one version,
and its limits (daily API requests, Bulk query jobs, data storage)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from handoff_sync.sandbox.core.http import Request, Response, Router
from handoff_sync.sandbox.salesforce.rest import (
    DATA,
    MAX_VERSION,
    MIN_VERSION,
    BareResponse,
    add_routes,
)
from handoff_sync.sandbox.salesforce.schema import OBJECTS

if TYPE_CHECKING:
    from handoff_sync.sandbox.salesforce.api import SalesforceApi


_SEASONS = ("Summer", "Winter", "Spring")  # v31.0 was Summer '14; three releases a year


class OrgEndpoints:
    """The versions root, the resources of a version, and the org's limits."""

    def __init__(self, api: SalesforceApi) -> None:
        self.api = api
        self.store = api.store

    def register(self, router: Router) -> None:
        add_routes(router, [
            ("GET", r"/services/data/?", self.versions, False),
            ("GET", DATA + r"/?", self.resources, True),
            ("GET", DATA + r"/limits/?", self.limits, True),
        ])

    def versions(self, _: Request) -> Response:
        versions = [
            {"label": _version_label(major), "url": f"/services/data/v{major}.0",
             "version": f"{major}.0"}
            for major in range(MIN_VERSION, MAX_VERSION + 1)
        ]
        return BareResponse.json(200, versions)

    def resources(self, request: Request) -> Response:
        base = f"/services/data/v{request.params['version']}"
        names = ("sobjects", "query", "queryAll", "limits", "composite", "jobs")
        return Response.json(200, {name: f"{base}/{name}" for name in names})

    def limits(self, _: Request) -> Response:
        maximum, remaining = self.api.sandbox.usage.salesforce_daily()
        used_mb = sum(self.store.count(obj) for obj in OBJECTS.values()) * 2 // 1024
        jobs_left = max(10_000 - self.api.bulk.created_total, 0)
        return Response.json(200, {
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
            "DailyApiRequests": {"Max": maximum, "Remaining": remaining},
            "DailyAsyncApexExecutions": {"Max": 250_000, "Remaining": 250_000},
            "DailyBulkApiBatches": {"Max": 15_000, "Remaining": 15_000},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976_562, "Remaining": 976_562},
            "DailyBulkV2QueryJobs": {"Max": 10_000, "Remaining": jobs_left},
            "DataStorageMB": {"Max": 10_240, "Remaining": max(10_240 - used_mb, 0)},
            "FileStorageMB": {"Max": 20_480, "Remaining": 20_480},
        })


def _version_label(major: int) -> str:
    index = major - MIN_VERSION
    return f"{_SEASONS[index % 3]} '{14 + (index + 2) // 3}"
