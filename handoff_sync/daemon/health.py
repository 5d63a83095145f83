"""The daemon's probe and scrape endpoints on a loopback port.

``/healthz``  200 ``ok`` while the scheduler runs, 503 once the daemon is stopping.
``/readyz``   200 when the database answers, its schema is current and no pipeline has
              failed ``server.unready_after_failed_cycles`` cycles in a row (counted
              from the store's run rows, so a restart does not reset it); else 503
              with a one-line reason. The reason never names the database's URL, user
              or host: a probe's answer travels further than the config.
``/metrics``  the Prometheus exposition of the daemon's own registry.
Anything else is 404. Probes come every few seconds, so access lines are not logged.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST

from handoff_sync.daemon.metrics import Metrics
from handoff_sync.safety.sanitise import for_terminal
from handoff_sync.sync.failures import classify_message

log = structlog.get_logger(__name__)

Readiness = Callable[[], str | None]  # None when ready, else why not (one line)
Liveness = Callable[[], bool]


UNREADY_AFTER_FAILED_CYCLES = 3
LAST_FAILURE_CHARS = 800  # of a pipeline's last failure message, in a /readyz answer


def store_readiness(store: Any, pipelines: Sequence[str] = (), *,
                    failed_cycles: int = UNREADY_AFTER_FAILED_CYCLES) -> Readiness:
    """Ready when the store answers (it reads its schema revision), the schema is current
    and none of ``pipelines`` has ``failed_cycles`` failed cycles in a row."""

    def check() -> str | None:
        try:
            problem = store.schema_problem()
            if problem is not None:
                return f"schema not current: {problem}"
            failing = [_failing(store.cycle_health(name), failed_cycles)
                       for name in pipelines]
        except Exception as exc:
            return f"database unreachable ({driver_error(exc)})"
        reasons = [reason for reason in failing if reason]
        return "; ".join(reasons)[:4 * LAST_FAILURE_CHARS] if reasons else None

    return check


def _failing(health: Any, failed_cycles: int) -> str | None:
    count = health.consecutive_failures
    if count < failed_cycles:
        return None
    reason = classify_message(health.last_failure)
    at = health.last_failure_at.isoformat(timespec="seconds") if health.last_failure_at \
        else "unknown"
    # Long enough for a connection failure's whole line: its advice (the config key to
    # check, at its line) comes last.
    last = for_terminal(health.last_failure or "no message")[:LAST_FAILURE_CHARS]
    return (f"pipeline {health.pipeline}: {count} failed cycles in a row ({reason}; last "
            f"at {at}): {last}")


def driver_error(exc: BaseException) -> str:
    """The class of the error underneath (the DB-API driver's when there is one), e.g.
    ``sqlite3.OperationalError``: says what failed without the message, which may carry
    the URL, the user or the host."""
    cause: BaseException = exc
    while cause.__cause__ is not None:
        cause = cause.__cause__
    inner = getattr(cause, "orig", None)
    if isinstance(inner, BaseException):
        cause = inner
    kind = type(cause)
    module = kind.__module__.split(".")[0]
    return kind.__name__ if module == "builtins" else f"{module}.{kind.__name__}"


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
