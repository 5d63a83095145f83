"""/healthz, /readyz and /metrics as Starlette routes, for a daemon that serves its
console on the same port (``console.enabled``): the same answers, byte for byte, as the
stdlib ``HealthServer`` gives when the console is off (see ``health.py``)."""

from __future__ import annotations

from http import HTTPStatus

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from handoff_sync.daemon.health import Liveness, Readiness
from handoff_sync.daemon.metrics import Metrics

TEXT = "text/plain; charset=utf-8"


def health_routes(metrics: Metrics, liveness: Liveness,
                  readiness: Readiness) -> list[BaseRoute]:
    async def healthz(request: Request) -> Response:
        alive = liveness()
        return _answer(HTTPStatus.OK if alive else HTTPStatus.SERVICE_UNAVAILABLE,
                       b"ok\n" if alive else b"stopping\n")

    async def readyz(request: Request) -> Response:
        reason = await run_in_threadpool(readiness)  # database queries: off the event loop
        if reason is None:
            return _answer(HTTPStatus.OK, b"ready\n")
        return _answer(HTTPStatus.SERVICE_UNAVAILABLE, f"not ready: {reason}\n".encode())

    async def scrape(request: Request) -> Response:
        return _answer(HTTPStatus.OK, metrics.exposition(), CONTENT_TYPE_LATEST)

    return [Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", scrape)]


def _answer(status: HTTPStatus, body: bytes, content_type: str = TEXT) -> Response:
    # media_type=None: Starlette would add "; charset=utf-8" to a text type a second time.
    return Response(body, status_code=int(status), media_type=None,
                    headers={"Content-Type": content_type, "Cache-Control": "no-store"})
