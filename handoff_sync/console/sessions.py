"""Session cookies: signed (itsdangerous, Starlette's SessionMiddleware), HttpOnly,
SameSite=Strict, and Secure whenever the browser reached us over TLS.

Starlette fixes Secure when the middleware is built; behind a TLS-terminating proxy the
same process may also be reached over plain HTTP (a health check, an SSH tunnel). So
there are two middlewares over the same app, one of them Secure, and each request goes
through the one that fits it (``proxy.is_https``).
"""

from __future__ import annotations

from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from handoff_sync.config.settings import ConsoleConfig
from handoff_sync.console.proxy import is_https


class ConsoleSessions:
    """``always_secure``: mark every cookie Secure (the console is only reached over
    TLS); otherwise only the cookies of requests that came over TLS."""

    def __init__(self, app: ASGIApp, console: ConsoleConfig, *, secret_key: str,
                 cookie: str, always_secure: bool = False) -> None:
        def sessions(secure: bool) -> SessionMiddleware:
            return SessionMiddleware(app, secret_key=secret_key, session_cookie=cookie,
                                     max_age=console.session_minutes * 60,
                                     same_site="strict", https_only=secure)

        self.console = console
        self._plain, self._secure = sessions(always_secure), sessions(True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        secure = scope["type"] in ("http", "websocket") and is_https(
            self.console, HTTPConnection(scope))
        await (self._secure if secure else self._plain)(scope, receive, send)
