"""Who is asking: users with argon2 password hashes, a reverse proxy's identity header, or
(loopback only, nothing configured) the local operator; roles viewer and admin.

Sessions are signed cookies (Starlette's SessionMiddleware, itsdangerous); the session
holds the user's name and role and the CSRF token (``csrf.py``). Wrong passwords are
slowed down per client address and name, and refused outright after a burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from handoff_sync.config.settings import ConsoleConfig

ADMIN = "admin"
VIEWER = "viewer"
LOCAL_USER = "local operator"
PUBLIC_PREFIXES = ("/login", "/static/", "/healthz", "/readyz", "/metrics")
SESSION_USER = "user"
SESSION_ROLE = "role"
SESSION_SINCE = "since"

_HASHER = PasswordHasher()
# Verified for unknown names too, so a wrong name costs what a wrong password costs.
_DUMMY_HASH = _HASHER.hash("not a password anyone has")


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


def hash_password(password: str) -> str:
    """An argon2id hash for ``console.users[].password_hash``."""
    return _HASHER.hash(password)


def check_password(users: ConsoleConfig, name: str, password: str) -> User | None:
    """The user when ``password`` matches their hash; None otherwise (same cost either
    way)."""
    wanted = name.strip().casefold()
    for user in users.users:
        if user.name.casefold() == wanted:
            try:
                _HASHER.verify(user.password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return None
            return User(user.name, user.role)
    with contextlib.suppress(VerifyMismatchError):
        _HASHER.verify(_DUMMY_HASH, password)
    return None


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the console on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_problem(console: ConsoleConfig, host: str) -> str | None:
    """Why the console must not listen on ``host``: a non-loopback address without any
    authentication would give every reachable machine the admin role."""
    if is_loopback(host) or console.authenticates:
        return None
    return (f"the console would listen on {host} with no login: add console.users (with "
            "`handoff-sync console hash-password`) or console.identity_header, or listen "
            "on 127.0.0.1")


class LoginThrottle:
    """Failed logins per (client, name): each failure doubles the wait before the answer
    (0.5 s, 1 s, 2 s ... up to ``max_delay``), and ``burst`` failures within ``window``
    seconds refuse further tries until the window passes."""

    def __init__(self, *, burst: int = 10, window: float = 900.0, max_delay: float = 8.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._burst, self._window, self._max_delay, self._clock = burst, window, max_delay, clock

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        failures = self._failures[key]
        horizon = self._clock() - self._window
        while failures and failures[0] < horizon:
            failures.popleft()
        return failures

    def locked(self, client: str, name: str) -> bool:
        return len(self._recent((client, name.casefold()))) >= self._burst

    def failed(self, client: str, name: str) -> float:
        """Record a failure; the seconds to wait before answering."""
        failures = self._recent((client, name.casefold()))
        failures.append(self._clock())
        return min(0.5 * 2 ** (len(failures) - 1), self._max_delay)

    def succeeded(self, client: str, name: str) -> None:
        self._failures.pop((client, name.casefold()), None)

    async def slow_down(self, client: str, name: str) -> None:
        await asyncio.sleep(self.failed(client, name))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def proxy_user(console: ConsoleConfig, request: Request) -> User | None:
    """The reverse proxy's user, when the header is configured and the request comes from
    a trusted proxy; None otherwise (the header from anyone else is ignored)."""
    header = console.identity_header
    if header is None or client_address(request) not in console.trusted_proxies:
        return None
    name = request.headers.get(header, "").strip()
    if not name:
        return None
    admins = {admin.casefold() for admin in console.admins}
    return User(name, ADMIN if name.casefold() in admins else VIEWER)


def current_user(request: Request) -> User | None:
    """Who the request is from (set by ``AuthGate``)."""
    user = request.scope.get("console_user")
    return user if isinstance(user, User) else None


def require_admin(request: Request, doing: str = "change this") -> User:
    """The user, when an admin; else 403 saying the viewer role cannot ``doing``."""
    user = current_user(request)
    if user is None or not user.is_admin:
        raise HTTPException(403, f"the viewer role cannot {doing}: ask an admin")
    return user


class AuthGate:
    """ASGI middleware (inside SessionMiddleware): resolves the user of each request into
    ``scope["console_user"]``; a page without a user redirects to /login (htmx requests
    get HX-Redirect, as a swap of a login page into a fragment would be nonsense)."""

    def __init__(self, app: ASGIApp, console: ConsoleConfig, *, local: bool) -> None:
        self.app, self.console, self.local = app, console, local

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        scope["console_user"] = self._user(request)
        path = request.url.path
        if scope["console_user"] is None and not path.startswith(PUBLIC_PREFIXES):
            response = _to_login(request)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _user(self, request: Request) -> User | None:
        if not self.console.authenticates:
            return User(LOCAL_USER, ADMIN) if self.local else None
        by_proxy = proxy_user(self.console, request)
        if by_proxy is not None:
            return by_proxy
        session = request.scope.get("session") or {}
        name, role = session.get(SESSION_USER), session.get(SESSION_ROLE)
        if not isinstance(name, str) or role not in (ADMIN, VIEWER):
            return None
        # A user removed from the config (or whose role changed) loses the session's role.
        for user in self.console.users:
            if user.name == name:
                return User(user.name, user.role)
        return None


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/login?next={_quote(target)}"
    if request.headers.get("HX-Request"):
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/")


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never //host or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


Handler = Callable[[Request], Awaitable[Response]]
