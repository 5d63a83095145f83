"""``create_app``: the console as one Starlette application.

Middleware, outermost first: SecurityHeaders (CSP, no framing, no-store) -> CrashPage (a
bug shows a plain page and logs a redacted traceback) -> sessions (signed cookie:
HttpOnly, SameSite=Strict, Secure when reached over TLS) -> AuthGate (who is asking; no
one -> /login) -> CsrfGuard (every unsafe method carries the session's token). Then the
routes: /login, /logout, /static, and each page of ``pages.pages()``; / goes to the
first page.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from handoff_sync.config.secrets import read_secret
from handoff_sync.config.settings import Config
from handoff_sync.console import csrf
from handoff_sync.console.auth import (
    SESSION_ID,
    SESSION_ROLE,
    SESSION_SINCE,
    SESSION_USER,
    AuthGate,
    RevokedSessions,
    check_password,
    current_user,
    is_loopback,
    new_session_id,
    safe_next,
)
from handoff_sync.console.context import ConsoleContext, utc_now
from handoff_sync.console.crash import CrashPage
from handoff_sync.console.headers import SecurityHeaders
from handoff_sync.console.offload import run
from handoff_sync.console.pages import pages
from handoff_sync.console.proxy import client_address
from handoff_sync.console.sessions import ConsoleSessions
from handoff_sync.console.templating import STATIC, render
from handoff_sync.console.throttle import LoginThrottle
from handoff_sync.errors import UserError
from handoff_sync.safety import redaction
from handoff_sync.store import Store

SESSION_COOKIE = "handoff_console"
NO_LOGIN_BANNER = ("No login configured: anyone on this host is an admin here. Add "
                   "console.users to the config to require one.")


def create_app(context: ConsoleContext, *, local: bool = True,
               extra_routes: list[BaseRoute] | None = None,
               throttle: LoginThrottle | None = None) -> Starlette:
    """The console for ``context``. ``local``: it listens on loopback only (without any
    authentication configured, the local operator is then the admin; elsewhere nobody
    is). ``extra_routes`` come first (the daemon's /healthz, /readyz, /metrics).
    ``throttle``: how wrong passwords are slowed down (tests give one with a clock)."""
    console = context.config.console
    throttle = throttle or LoginThrottle()
    revoked = RevokedSessions()
    all_pages = pages()
    routes: list[BaseRoute] = list(extra_routes or [])
    routes += [
        Route("/", _home(all_pages[0].path if all_pages else "/audit")),
        Route("/login", _login_page(context, throttle), methods=["GET", "POST"]),
        Route("/logout", _logout(context, revoked), methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    for page in all_pages:
        routes += page.routes(context)
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(CrashPage),
        Middleware(ConsoleSessions, console=console, secret_key=_session_key(context),
                   cookie=SESSION_COOKIE, always_secure=context.secure_cookies),
        Middleware(AuthGate, console=console, local=local, clock=context.clock,
                   revoked=revoked),
        Middleware(csrf.CsrfGuard, console=console),
    ]
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={HTTPException: _http_error, UserError: _user_error})
    app.state.context = context
    app.state.nav = [(page.path, page.label) for page in all_pages]
    app.state.banner = NO_LOGIN_BANNER if not console.authenticates else None
    return app


def daemon_app_factory(config: Config, store: Store, *,
                       clock: Callable[[], datetime] = utc_now) -> Callable[[Sequence[Any]], Any]:
    """The console around the daemon's own routes (/healthz, /readyz, /metrics), for
    ``Daemon(app_factory=...)``: the daemon serves it on server.host:server.port and never
    imports the console."""

    def build(routes: Sequence[Any]) -> Starlette:
        return create_app(ConsoleContext(config, store, clock=clock),
                          local=is_loopback(config.server.host), extra_routes=list(routes))

    return build


def context_of(request: Request) -> ConsoleContext:
    context: ConsoleContext = request.app.state.context
    return context


def _session_key(context: ConsoleContext) -> str:
    source = context.config.console.session_secret
    if source is not None:
        return read_secret(source)  # registered for redaction as it is read
    key = secrets.token_urlsafe(32)
    redaction.remember(key)
    return key


def _home(first: str) -> Any:
    async def home(request: Request) -> Response:
        return RedirectResponse(first, status_code=303)

    return home


def _login_page(context: ConsoleContext, throttle: LoginThrottle) -> Any:
    console = context.config.console

    async def login(request: Request) -> Response:
        target = safe_next(request.query_params.get("next"))
        if request.method == "GET":
            if current_user(request) is not None:
                return RedirectResponse(target, status_code=303)
            return render(request, "login.html", target=target, error=None, name="")
        form = await request.form()
        name, password = str(form.get("name", "")), str(form.get("password", ""))
        client = client_address(console, request)
        if throttle.locked(client, name):
            seconds = throttle.retry_after(client, name)
            wait = -(-seconds // 60)
            return render(request, "login.html", status_code=429, target=target, name=name,
                          headers={"Retry-After": str(seconds)},
                          error=f"Too many failed logins: wait {wait} minute"
                                f"{'s' if wait != 1 else ''} and try again.")
        # argon2 takes tens of milliseconds on purpose: not on the event loop.
        user = await run(check_password, console, name, password)
        if user is None:
            await throttle.slow_down(client, name)
            return render(request, "login.html", status_code=401, target=target, name=name,
                          error="Wrong name or password.")
        throttle.succeeded(client, name)
        request.session.clear()  # a new session id for the new login (no fixation)
        request.session.update({SESSION_USER: user.name, SESSION_ROLE: user.role,
                                SESSION_SINCE: context.clock().isoformat(),
                                SESSION_ID: new_session_id()})
        return RedirectResponse(target, status_code=303)

    return login


def _logout(context: ConsoleContext, revoked: RevokedSessions) -> Any:
    lifetime = timedelta(minutes=context.config.console.session_minutes)

    async def logout(request: Request) -> Response:
        now = context.clock()
        revoked.add(request.session.get(SESSION_ID), now + lifetime, now)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    return logout


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (301, 302, 303, 307, 308):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return render(request, "error.html", status_code=exc.status_code,
                  headers=dict(exc.headers) if exc.headers else None,
                  message=redaction.redact(str(exc.detail)))


async def _user_error(request: Request, exc: Exception) -> Response:
    return render(request, "error.html", status_code=400, message=redaction.redact(str(exc)))
