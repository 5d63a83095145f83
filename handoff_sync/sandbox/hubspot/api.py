"""The HubSpot CRM v3/v4 emulation as the sandbox dispatcher sees it (app.VendorApi).

This class owns the portal state (:class:`HubSpotStore`), authenticates and rate-limits
each call the way a private app or OAuth app is treated, issues OAuth access tokens,
and shapes faults and unknown paths as HubSpot error bodies. The endpoint groups live in
their own modules: objects and search, batch, associations v4, and metadata (properties,
owners, pipelines).
"""

from __future__ import annotations

import math

from handoff_sync.sandbox.core.host import SandboxHost
from handoff_sync.sandbox.core.http import Request, Response, Route, Router
from handoff_sync.sandbox.core.seed_data import SeedData
from handoff_sync.sandbox.hubspot.associations_api import AssociationEndpoints
from handoff_sync.sandbox.hubspot.batch_api import BatchEndpoints
from handoff_sync.sandbox.hubspot.errors import (
    CATEGORY_BY_STATUS,
    error_body,
    expired_token,
    missing_credentials,
    oauth_error,
    rate_limit_body,
    rate_limited,
)
from handoff_sync.sandbox.hubspot.metadata_api import MetadataEndpoints
from handoff_sync.sandbox.hubspot.objects_api import ObjectEndpoints
from handoff_sync.sandbox.hubspot.overlay import PropertyOverlay
from handoff_sync.sandbox.hubspot.store import HubSpotStore
from handoff_sync.sandbox.hubspot.time import iso_ms, to_ms
from handoff_sync.sandbox.hubspot.tokens import ACCESS_TOKEN_SECONDS


class HubSpotApi:
    def __init__(self, sandbox: SandboxHost) -> None:
        self.sandbox = sandbox
        self.store = HubSpotStore()

    @property
    def overlay(self) -> PropertyOverlay:
        """Properties archived or locked on demand (simulated schema drift)."""
        return self.store.properties.overlay

    @property
    def base_url(self) -> str:
        return self.sandbox.base_url

    def now_ms(self) -> int:
        return to_ms(self.sandbox.clock.now())

    def search_visible_until_ms(self) -> int | None:
        """Records written after this instant are not in the search index yet."""
        lag = self.sandbox.usage.quotas.hubspot_search_lag_ms
        return self.now_ms() - lag if lag else None

    # --- VendorApi ----------------------------------------------------------------------
    def register(self, router: Router) -> None:
        router.add("hubspot", "POST", "/oauth/v1/token", self.oauth_token,
                   "POST /oauth/v1/token", auth=False)
        for endpoints in (ObjectEndpoints(self), BatchEndpoints(self),
                          AssociationEndpoints(self), MetadataEndpoints(self)):
            endpoints.register(router)

    def guard(self, request: Request, route: Route) -> None:
        """Bearer token first (a refused call costs no quota), then the rate limits."""
        if not route.auth:
            return
        self._authenticate(request)
        verdict = self.sandbox.usage.hubspot_admit(search=route.name.endswith("/search"))
        if verdict != "ok":
            raise rate_limited(verdict)

    def decorate(self, response: Response) -> None:
        response.headers.update(self.sandbox.usage.hubspot_headers())

    def error_response(self, status: int, message: str, retry_after: float | None) -> Response:
        headers = {} if retry_after is None else {"Retry-After": str(math.ceil(retry_after))}
        if status == 429:
            return Response.json(429, rate_limit_body("ten_secondly"), headers)
        return Response.json(status, error_body(message, CATEGORY_BY_STATUS.get(status)),
                             headers)

    def reset(self) -> None:
        self.store.reset()

    def expire_sessions(self) -> None:
        """OAuth access tokens lapse; the private-app token never expires."""
        self.store.tokens.expire_all(self.now_ms())

    def load_seed(self, data: SeedData) -> None:
        self.store.load(data)

    # --- authentication -----------------------------------------------------------------
    def _authenticate(self, request: Request) -> None:
        header = request.header("Authorization") or ""
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise missing_credentials()
        token = token.strip()
        if token == self.sandbox.credentials.hs_access_token:
            return
        now = self.now_ms()
        check = self.store.tokens.check(token, now)
        if check.state == "expired":
            raise expired_token((now - check.expires_at_ms) / 1000,
                                iso_ms(check.expires_at_ms))
        if check.state != "valid":
            raise missing_credentials()

    def oauth_token(self, request: Request) -> Response:
        """POST /oauth/v1/token with grant_type=refresh_token (form-encoded, no bearer)."""
        form = request.form()
        creds = self.sandbox.credentials
        grant = form.get("grant_type")
        if grant == "authorization_code":
            raise oauth_error("BAD_AUTH_CODE", "missing or unknown auth code")
        if grant != "refresh_token":
            raise oauth_error("BAD_GRANT_TYPE", "grant_type must be refresh_token")
        if form.get("client_id") != creds.hs_client_id:
            raise oauth_error("BAD_CLIENT_ID", "missing or invalid client_id")
        if form.get("client_secret") != creds.hs_client_secret:
            raise oauth_error("BAD_CLIENT_ID", "missing or invalid client_secret")
        if form.get("refresh_token") != creds.hs_refresh_token:
            raise oauth_error("BAD_REFRESH_TOKEN", "missing or invalid refresh token")
        return Response.json(200, {
            "token_type": "bearer",
            "refresh_token": creds.hs_refresh_token,
            "access_token": self.store.tokens.issue(self.now_ms()),
            "expires_in": ACCESS_TOKEN_SECONDS,
        })
