"""Serving an ASGI app with uvicorn: in the foreground (`handoff-sync console`) or in a
background thread (the daemon with its console, the tests), on a socket bound up front so
``port=0`` gives a free port we can name and a taken port fails (OSError) before anything
starts. Generic: the app is whatever the caller built (the CLI builds the console)."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import uvicorn


class AsgiServer:
    """One uvicorn server on ``host:port``; ``start`` runs it in a daemon thread. Raises
    OSError when ``host:port`` cannot be bound."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host.strip("[]"), port))
        except OSError:
            self._socket.close()
            raise
        self._socket.listen(128)
        # proxy_headers off: uvicorn would otherwise take the client address and scheme
        # from X-Forwarded-* of any 127.0.0.1 peer; console.proxy decides, from
        # console.trusted_proxies.
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=5, server_header=False,
                                proxy_headers=False)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        host = str(self._socket.getsockname()[0])
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    def serve_forever(self) -> None:
        """In the foreground until SIGINT/SIGTERM (uvicorn's own handlers)."""
        self._server.run(sockets=[self._socket])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run_in_thread, name="handoff-sync-http",
                                        daemon=True)
        self._thread.start()

    def _run_in_thread(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._socket]))

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._socket.close()
