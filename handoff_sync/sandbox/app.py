"""The sandbox application: shared state, routing, faults, quotas and error shaping.

``Sandbox.dispatch`` is the whole request path, independent of the socket server:
count the call, maybe inject a fault, let the vendor check auth and quota, run the handler
under the state lock, and let the vendor add its headers (Sforce-Limit-Info,
X-HubSpot-RateLimit-*). Handlers raise ``ApiError`` for failures; an unexpected exception
becomes the vendor's 500 and is logged, never a hung connection.
"""

from __future__ import annotations

import hmac
import threading
import time
from typing import Protocol

import structlog

from handoff_sync.sandbox import control
from handoff_sync.sandbox.core.clock import SandboxClock
from handoff_sync.sandbox.core.credentials import Credentials
from handoff_sync.sandbox.core.faults import FaultInjector
from handoff_sync.sandbox.core.http import ApiError, Request, Response, Route, Router, api_for_path
from handoff_sync.sandbox.core.usage import Quotas, UsageMeter
from handoff_sync.sandbox.hubspot.api import HubSpotApi
from handoff_sync.sandbox.salesforce.api import SalesforceApi

log = structlog.get_logger("handoff_sync.sandbox")


class VendorApi(Protocol):
    """What each emulated vendor API (Salesforce, HubSpot) provides to the dispatcher."""

    def register(self, router: Router) -> None:
        """Add this API's routes."""

    def guard(self, request: Request, route: Route) -> None:
        """Authenticate and admit the call against quotas; raise ApiError to refuse it."""

    def decorate(self, response: Response) -> None:
        """Add the headers this vendor puts on every response."""

    def error_response(self, status: int, message: str, retry_after: float | None) -> Response:
        """An error of this status in the vendor's body format (faults, 404, 405, 500)."""

    def reset(self) -> None:
        """Forget all data (records, tokens issued through grants, cursors)."""

    def expire_sessions(self) -> None:
        """Invalidate every session/token that can expire, as if they had timed out."""


class Sandbox:
    def __init__(
        self,
        base_url: str,
        ca_pem: str,
        *,
        quotas: Quotas | None = None,
        control_token: str | None = None,
    ) -> None:
        """``control_token``: when set, every /__sandbox__/ request must carry it as a
        bearer token (required when the server listens beyond loopback)."""
        self.base_url = base_url
        self.ca_pem = ca_pem
        self.control_token = control_token or None
        self.lock = threading.RLock()
        self.clock = SandboxClock()
        self.usage = UsageMeter(quotas)
        self.faults = FaultInjector()
        self.credentials = Credentials(base_url)
        self.router = Router()
        self.salesforce = SalesforceApi(self)
        self.hubspot = HubSpotApi(self)
        self.vendors: dict[str, VendorApi] = {
            "salesforce": self.salesforce,
            "hubspot": self.hubspot,
        }
        for vendor in self.vendors.values():
            vendor.register(self.router)
        control.register(self.router, self)

    # --- control-plane operations (also used directly by tests and the demo) -----------
    def reset(self) -> None:
        with self.lock:
            for vendor in self.vendors.values():
                vendor.reset()
            # Not in vendor.reset(): a reseed keeps the drift.
            self.salesforce.overlay.clear()
            self.hubspot.overlay.clear()
            self.faults.clear()
            self.usage.reset()
            self.clock.reset()

    def seed(self, *, deals: int, partners: int, random_seed: int) -> dict[str, int]:
        """Replace all data with a generated org pair; returns record counts per object."""
        from handoff_sync.sandbox.seed.generator import generate

        data = generate(deals=deals, partners=partners, random_seed=random_seed,
                        now=self.clock.now())
        with self.lock:
            for vendor in self.vendors.values():
                vendor.reset()
            self.salesforce.load_seed(data)
            self.hubspot.load_seed(data)
        return data.counts()

    def expire_sessions(self) -> None:
        with self.lock:
            self.credentials.rotate_salesforce_session()
            for vendor in self.vendors.values():
                vendor.expire_sessions()

    def _control_allowed(self, request: Request) -> bool:
        if self.control_token is None:
            return True
        scheme, _, token = (request.header("Authorization") or "").strip().partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.control_token.encode())

    # --- the request path ---------------------------------------------------------------
    def dispatch(self, request: Request) -> Response | None:
        """Answer one request; ``None`` means: drop the connection without answering."""
        route, params, path_known = self.router.resolve(request.method, request.path)
        api = route.api if route else api_for_path(request.path)
        if api == "control" and not self._control_allowed(request):
            return Response.json(401, {"error": "the sandbox control plane needs its token: "
                                                "send Authorization: Bearer <control token>"})
        vendor = self.vendors.get(api)
        if vendor is not None:
            self.usage.record(api, route.name if route else f"{request.method} (no such path)")
            fault = self.faults.pick(api, request.method, request.path)
            if fault is not None:
                if fault.kind == "drop":
                    return None
                if fault.kind == "delay":
                    time.sleep(fault.delay)
                else:
                    response = vendor.error_response(
                        fault.status, "Fault injected by the sandbox", fault.retry_after
                    )
                    vendor.decorate(response)
                    return response
        try:
            if route is None:
                status = 405 if path_known else 404
                if vendor is None:
                    raise ApiError(status, {"error": f"no such control endpoint: {request.path}"})
                response = vendor.error_response(
                    status,
                    "HTTP Method not allowed" if path_known
                    else "The requested resource does not exist",
                    None,
                )
            else:
                request.params = params
                if vendor is not None:
                    vendor.guard(request, route)
                with self.lock:
                    response = route.handler(request)
        except ApiError as exc:
            response = Response.json(exc.status, exc.body, exc.headers)
        except Exception:  # a sandbox bug must still answer, like a real 500
            log.exception("sandbox_handler_failed", method=request.method, path=request.path)
            if vendor is None:
                response = Response.json(500, {"error": "internal sandbox error"})
            else:
                response = vendor.error_response(500, "An unexpected error occurred", None)
        if vendor is not None:
            vendor.decorate(response)
        return response
