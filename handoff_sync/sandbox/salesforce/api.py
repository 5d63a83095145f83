"""The Salesforce REST API emulation as the sandbox dispatcher sees it (app.VendorApi).

Fidelity reference: crm-api-reference.md sections 1, 2 and 4, and simple-salesforce 1.12
as the judge of what a client sends and expects. This class owns the org's state (the
records in :mod:`.store`, open query cursors, Bulk query jobs, the schema overlay, the
sessions issued through OAuth), authenticates each call and admits it against the daily
allowance, and shapes faults and unknown paths as Salesforce error bodies. The endpoint
groups live in their own modules: OAuth, org (versions, limits), query, sobjects,
collections and Bulk API 2.0; the wire format they share is :mod:`.rest`.
"""

from __future__ import annotations

import math

from handoff_sync.sandbox.core.host import SandboxHost
from handoff_sync.sandbox.core.http import Request, Response, Route, Router
from handoff_sync.sandbox.core.seed_data import SeedData
from handoff_sync.sandbox.salesforce.bulk import BulkQueryJobs
from handoff_sync.sandbox.salesforce.bulk_api import BulkEndpoints
from handoff_sync.sandbox.salesforce.collections_api import CollectionEndpoints
from handoff_sync.sandbox.salesforce.cursors import CursorRegistry
from handoff_sync.sandbox.salesforce.oauth_api import OAuthEndpoints
from handoff_sync.sandbox.salesforce.org_api import OrgEndpoints
from handoff_sync.sandbox.salesforce.overlay import SchemaOverlay
from handoff_sync.sandbox.salesforce.query_api import QueryEndpoints
from handoff_sync.sandbox.salesforce.rest import (
    MAX_VERSION,
    MIN_VERSION,
    STATUS_CODES,
    BareResponse,
    fail,
    not_found,
)
from handoff_sync.sandbox.salesforce.schema import SfObject, find_object
from handoff_sync.sandbox.salesforce.sobjects_api import SObjectEndpoints
from handoff_sync.sandbox.salesforce.store import SalesforceStore


class SalesforceApi:
    def __init__(self, sandbox: SandboxHost) -> None:
        self.sandbox = sandbox
        self.store = SalesforceStore(sandbox.clock.now, sandbox.credentials.sf_username)
        self.cursors = CursorRegistry()
        self.bulk = BulkQueryJobs()
        self.overlay = SchemaOverlay()
        self.tokens: set[str] = set()  # access tokens issued through the OAuth grants

    # --- VendorApi -----------------------------------------------------------------------
    def register(self, router: Router) -> None:
        # In this order: a path two routes match goes to the first (describe before a
        # record id, for one).
        for endpoints in (OAuthEndpoints(self), OrgEndpoints(self), QueryEndpoints(self),
                          SObjectEndpoints(self), CollectionEndpoints(self),
                          BulkEndpoints(self)):
            endpoints.register(router)

    def guard(self, request: Request, route: Route) -> None:
        if not route.auth:
            return  # the token endpoint and the versions root answer anyone, uncounted
        self._authenticate(request)
        if not self.sandbox.usage.salesforce_admit():
            raise fail(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        version = request.params.get("version")
        if version is not None and not MIN_VERSION <= float(version) <= MAX_VERSION:
            raise not_found()

    def decorate(self, response: Response) -> None:
        if not isinstance(response, BareResponse):
            response.headers["Sforce-Limit-Info"] = self.sandbox.usage.salesforce_limit_info()

    def error_response(self, status: int, message: str, retry_after: float | None) -> Response:
        default = "UNKNOWN_EXCEPTION" if status >= 500 else "BAD_REQUEST"
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = str(max(0, math.ceil(retry_after)))
        body = [{"message": message, "errorCode": STATUS_CODES.get(status, default)}]
        return Response.json(status, body, headers)

    def reset(self) -> None:
        self.store.reset()
        self.cursors.clear()
        self.bulk.clear()
        self.tokens.clear()

    def expire_sessions(self) -> None:
        self.tokens.clear()  # the sandbox has already rotated the static session id

    def load_seed(self, data: SeedData) -> None:
        """Bulk-load ``data.salesforce`` (object name -> typed records with Ids)."""
        self.store.load(data.salesforce)
        self.cursors.clear()

    # --- what every endpoint group asks ----------------------------------------------------
    def effective(self, obj: SfObject | None) -> SfObject | None:
        """``obj`` as the integration user sees it under the schema overlay."""
        return None if obj is None else self.overlay.apply(obj)

    def requested_object(self, request: Request) -> SfObject:
        """The object the path names, as the overlay shows it; 404 when there is none."""
        obj = self.effective(find_object(request.params["object"]))
        if obj is None:
            raise not_found()
        return obj

    # --- auth ----------------------------------------------------------------------------
    def _authenticate(self, request: Request) -> None:
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        token = token.strip()
        known = token == self.sandbox.credentials.sf_session_id or token in self.tokens
        if scheme.lower() not in ("bearer", "oauth") or not token or not known:
            raise fail(401, "INVALID_SESSION_ID", "Session expired or invalid")
