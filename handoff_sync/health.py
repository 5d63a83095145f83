"""The daemon's probe and scrape endpoints on a loopback port.

``/healthz``  200 ``ok`` while the scheduler runs, 503 once the daemon is stopping.
``/readyz``   200 when the database answers and its schema is current, else 503 with
              a one-line reason.
``/metrics``  the Prometheus exposition of the daemon's own registry.
Anything else is 404. Probes come every few seconds, so access lines are not logged.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST

from handoff_sync.metrics import Metrics
from handoff_sync.store.types import SchemaOutdated

log = structlog.get_logger(__name__)

Readiness = Callable[[], str | None]  # None when ready, else why not (one line)
Liveness = Callable[[], bool]


def store_readiness(store: Any) -> Readiness:
    """Ready when the store answers (it reads its schema revision) and the schema is current."""

    def check() -> str | None:
        try:
            store.require_current_schema()
        except SchemaOutdated as exc:
            return f"schema not current: {one_line(exc)}"
        except Exception as exc:
            return f"database not answering: {one_line(exc)}"
        return None

    return check


class HealthServer:
    """A ThreadingHTTPServer in a daemon thread; ``port=0`` picks a free port."""

    def __init__(self, host: str, port: int, *, metrics: Metrics, liveness: Liveness,
                 readiness: Readiness) -> None:
        handler = _handler(metrics, liveness, readiness)
        server_class = _IPv6Server if ":" in host else _IPv4Server
        self._server = server_class((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # AF_INET/AF_INET6 sockets name their host as text
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.2},
                                        name="handoff-sync-health", daemon=True)
        self._thread.start()
        log.info("health_listening", url=self.url)

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()


class _IPv4Server(ThreadingHTTPServer):
    daemon_threads = True  # a stuck scraper never holds up shutdown


class _IPv6Server(_IPv4Server):
    address_family = socket.AF_INET6


def _handler(metrics: Metrics, liveness: Liveness,
             readiness: Readiness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "handoff-sync"
        sys_version = ""

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                alive = liveness()
                self._send(HTTPStatus.OK if alive else HTTPStatus.SERVICE_UNAVAILABLE,
                           b"ok\n" if alive else b"stopping\n")
            elif path == "/readyz":
                reason = readiness()
                if reason is None:
                    self._send(HTTPStatus.OK, b"ready\n")
                else:
                    self._send(HTTPStatus.SERVICE_UNAVAILABLE,
                               f"not ready: {reason}\n".encode())
            elif path == "/metrics":
                self._send(HTTPStatus.OK, metrics.exposition(), CONTENT_TYPE_LATEST)
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found: try /healthz, /readyz, /metrics\n")

        def _send(self, status: HTTPStatus, body: bytes,
                  content_type: str = "text/plain; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # probes every few seconds would drown the cycle lines

    return Handler


def one_line(exc: BaseException) -> str:
    """An exception as one short line for a log field or a probe answer."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:300]
