"""``create_app``: the console as one Starlette application.

Middleware, outermost first: sessions (signed cookie: HttpOnly, SameSite=Strict, Secure
when reached over TLS) -> AuthGate (who is asking; no one -> /login) -> CsrfGuard (every
unsafe method carries the session's token). Then the routes: /login, /logout, /static,
and each page of ``pages.pages()``; / goes to the first page.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from handoff_sync.config.secrets import read_secret
from handoff_sync.config.settings import Config
from handoff_sync.console import csrf
from handoff_sync.console.auth import (
    SESSION_ROLE,
    SESSION_SINCE,
    SESSION_USER,
    AuthGate,
    LoginThrottle,
    check_password,
    client_address,
    current_user,
    is_loopback,
    safe_next,
)
from handoff_sync.console.context import ConsoleContext, utc_now
from handoff_sync.console.pages import pages
from handoff_sync.console.templating import STATIC, render
from handoff_sync.errors import UserError
from handoff_sync.store import Store

SESSION_COOKIE = "handoff_console"
NO_LOGIN_BANNER = ("No login configured: anyone on this host is an admin here. Add "
                   "console.users to the config to require one.")


def create_app(context: ConsoleContext, *, local: bool = True,
               extra_routes: list[BaseRoute] | None = None) -> Starlette:
    """The console for ``context``. ``local``: it listens on loopback only (without any
    authentication configured, the local operator is then the admin; elsewhere nobody
    is). ``extra_routes`` come first (the daemon's /healthz, /readyz, /metrics)."""
    console = context.config.console
    throttle = LoginThrottle()
    all_pages = pages()
    routes: list[BaseRoute] = list(extra_routes or [])
    routes += [
        Route("/", _home(all_pages[0].path if all_pages else "/audit")),
        Route("/login", _login_page(context, throttle), methods=["GET", "POST"]),
        Route("/logout", _logout, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    for page in all_pages:
        routes += page.routes(context)
    middleware = [
        Middleware(SessionMiddleware, secret_key=_session_key(context),
                   session_cookie=SESSION_COOKIE, max_age=console.session_minutes * 60,
                   same_site="strict", https_only=context.secure_cookies),
        Middleware(AuthGate, console=console, local=local),
        Middleware(csrf.CsrfGuard),
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
    return read_secret(source) if source is not None else secrets.token_urlsafe(32)


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
        client = client_address(request)
        if throttle.locked(client, name):
            return render(request, "login.html", status_code=429, target=target, name=name,
                          error="Too many failed logins: wait 15 minutes and try again.")
        user = check_password(console, name, password)
        if user is None:
            await throttle.slow_down(client, name)
            return render(request, "login.html", status_code=401, target=target, name=name,
                          error="Wrong name or password.")
        throttle.succeeded(client, name)
        request.session.clear()  # a new session id for the new login (no fixation)
        request.session.update({SESSION_USER: user.name, SESSION_ROLE: user.role,
                                SESSION_SINCE: context.clock().isoformat()})
        return RedirectResponse(target, status_code=303)

    return login


async def _logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (301, 302, 303, 307, 308):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return render(request, "error.html", status_code=exc.status_code,
                  message=str(exc.detail))


async def _user_error(request: Request, exc: Exception) -> Response:
    return render(request, "error.html", status_code=400, message=str(exc))
