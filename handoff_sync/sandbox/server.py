"""The HTTPS server that hosts the sandbox on loopback.

One port, one base URL, both vendors' APIs. TLS handshakes happen in the worker thread of
each connection, so one slow or broken client never blocks the accept loop. HTTP/1.1
keep-alive is supported (every response carries Content-Length), which matters for the
benchmarks: the real clients reuse connections.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import tempfile
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from handoff_sync.sandbox.app import Sandbox
from handoff_sync.sandbox.core import tls
from handoff_sync.sandbox.core.http import Request
from handoff_sync.sandbox.core.loopback import CONTROL_TOKEN_ENV, is_loopback
from handoff_sync.sandbox.core.usage import Quotas

MAX_BODY_BYTES = 64 * 1024 * 1024
__all__ = ["CONTROL_TOKEN_ENV", "ControlTokenRequired", "SandboxServer"]


class ControlTokenRequired(ValueError):
    """Listening beyond loopback without a control-plane token."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Buffered writes: status line, headers and body leave in one TLS record, flushed by
    # handle_one_request; unbuffered writes let Nagle + delayed ACK add ~40 ms per call.
    wbufsize = 64 * 1024
    server: _TlsServer
    server_version = "handoff-sync-sandbox"
    sys_version = ""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.send_error(413, "Request body too large")
            return
        body = self.rfile.read(length) if length else b""
        request = Request.build(self.command, self.path, self.headers, body)  # type: ignore[arg-type]
        response = self.server.sandbox.dispatch(request)
        if response is None:  # injected fault: hang up without a word
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _handle

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header by the sandbox's clock (frozen or shifted as a test set it), as
        the vendors date their answers by the clock that stamps their records: connectors
        read it as the system's time (``connectors.server_time``)."""
        if timestamp is None:
            timestamp = self.server.sandbox.clock.now().timestamp()
        return formatdate(timestamp, usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        """Access logs are noise for a test server; stats are in /__sandbox__/stats."""


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext) -> None:
        super().__init__(address, _Handler)
        self.context = context
        self.sandbox: Sandbox  # set right after binding, once the base URL is known

    def finish_request(self, request: Any, client_address: Any) -> None:
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            wrapped = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client that does not trust us or hung up mid-handshake
        try:
            super().finish_request(wrapped, client_address)
        except (ConnectionError, ssl.SSLError, TimeoutError):
            pass  # the client went away; nothing to answer
        finally:
            with contextlib.suppress(OSError):
                wrapped.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client disconnects are routine; real failures are logged by the dispatcher."""


class SandboxServer:
    """A running sandbox: ``with SandboxServer() as sb: ... sb.base_url, sb.ca_file``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ca_out: Path | None = None,
        quotas: Quotas | None = None,
        control_token: str | None = None,
    ) -> None:
        if not is_loopback(host) and not control_token:
            raise ControlTokenRequired(
                f"the sandbox would listen on {host}, beyond loopback, where anyone who can "
                "reach it could read its credentials and reset it: give a control token "
                f"(--control-token or {CONTROL_TOKEN_ENV}), which every /__sandbox__/ "
                "request must then carry")
        self._tmp = tempfile.TemporaryDirectory(prefix="handoff-sync-sandbox-")
        material = tls.generate(_cert_hosts(host))
        ca_file, cert_file, key_file = material.write(Path(self._tmp.name))
        if ca_out is not None:
            ca_out.parent.mkdir(parents=True, exist_ok=True)
            ca_out.write_text(material.ca_pem)
            ca_file = ca_out
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        self._httpd = _TlsServer((host, port), context)
        bound_host, bound_port = self._httpd.server_address[:2]
        # A host name (localhost, a container's service name) stays the name clients use:
        # the certificate names it, and Salesforce's JWT audience is the URL as written.
        url_host = host if _is_name(host) else str(bound_host)
        self.base_url = f"https://{url_host}:{bound_port}"
        self.ca_file = ca_file
        self.sandbox = Sandbox(self.base_url, material.ca_pem, quotas=quotas,
                               control_token=control_token)
        self._httpd.sandbox = self.sandbox
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> SandboxServer:
        """Serve in a background thread (tests, the demo)."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="handoff-sync-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until ``shutdown()`` is called from another one."""
        self._httpd.serve_forever()

    def shutdown(self) -> None:
        self._httpd.shutdown()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._tmp.cleanup()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _is_name(host: str) -> bool:
    """A DNS name rather than an address literal (127.0.0.1, ::1, 0.0.0.0)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(host)
    return False


def _cert_hosts(host: str) -> tuple[str, ...]:
    hosts = ["127.0.0.1", "localhost"]
    if host not in hosts and host not in ("0.0.0.0", "::"):
        hosts.insert(0, host)
    return tuple(hosts)
