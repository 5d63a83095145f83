"""Who is asking: users with argon2 password hashes, a reverse proxy's identity header, or
(loopback only, nothing configured) the local operator; roles viewer and admin.

Sessions are signed cookies (``sessions.py``); the session holds the user's name and
role, when they logged in, a session id (for logouts) and the CSRF token (``csrf.py``).
Wrong passwords are slowed down (``throttle.py``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from handoff_sync.config.settings import ConsoleConfig
from handoff_sync.console.proxy import from_trusted_proxy, host_is_loopback, public_host

ADMIN = "admin"
VIEWER = "viewer"
LOCAL_USER = "local operator"
PUBLIC_PREFIXES = ("/login", "/static/", "/healthz", "/readyz", "/metrics")
SESSION_USER = "user"
SESSION_ROLE = "role"
SESSION_SINCE = "since"
SESSION_ID = "sid"
MAX_NAME = 200
FOREIGN_HOST = ("refused: this console has no login, so it answers only at localhost or "
                "127.0.0.1. Open it there, or add console.users to the config.")

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


def proxy_user(console: ConsoleConfig, request: Request) -> User | None:
    """The reverse proxy's user, when the header is configured and the request comes from
    a trusted proxy; None otherwise (the header from anyone else is ignored)."""
    header = console.identity_header
    if header is None or not from_trusted_proxy(console, request):
        return None
    name = request.headers.get(header, "").strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
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
    """ASGI middleware (inside the session middleware): resolves the user of each request
    into ``scope["console_user"]``; a page without a user redirects to /login (htmx
    requests get HX-Redirect, as a swap of a login page into a fragment would be nonsense).

    A session stands for ``session_minutes`` from its login (``clock``), not from its last
    use; a logged-out session (``revoked``) is dead even if its cookie is replayed; a user
    removed from the config, or whose role changed, loses the session's role. Without any
    authentication, the local operator is served only when the Host header names this
    machine, so a web page cannot reach the console by rebinding its DNS name to 127.0.0.1.
    """

    def __init__(self, app: ASGIApp, console: ConsoleConfig, *, local: bool,
                 clock: Callable[[], datetime], revoked: RevokedSessions) -> None:
        self.app, self.console, self.local = app, console, local
        self.clock, self.revoked = clock, revoked

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = request.url.path
        public = path.startswith(PUBLIC_PREFIXES)  # the probes answer whatever the Host
        if (self.local and not self.console.authenticates and not public
                and not host_is_loopback(public_host(self.console, request))):
            await PlainTextResponse(FOREIGN_HOST, status_code=403)(scope, receive, send)
            return
        scope["console_user"] = self._user(request)
        if scope["console_user"] is None and not public:
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
        since = _instant(session.get(SESSION_SINCE))
        if since is None or self.clock() - since >= self.lifetime or since > self.clock():
            return None
        if self.revoked.holds(session.get(SESSION_ID), self.clock()):
            return None
        for user in self.console.users:
            if user.name == name:
                return User(user.name, user.role)
        return None

    @property
    def lifetime(self) -> timedelta:
        return timedelta(minutes=self.console.session_minutes)


class RevokedSessions:
    """Ids of logged-out sessions, until their login would have expired anyway. A signed
    cookie cannot be taken back from whoever copied it; this makes it worthless. Kept in
    this process: a restart forgets them (with a configured session_secret, a cookie
    copied before a logout then lives until its ``session_minutes`` are up)."""

    def __init__(self) -> None:
        self._until: dict[str, datetime] = {}

    def add(self, session_id: object, until: datetime, now: datetime) -> None:
        if isinstance(session_id, str):
            self._until = {sid: end for sid, end in self._until.items() if end > now}
            self._until[session_id] = until

    def holds(self, session_id: object, now: datetime) -> bool:
        if not isinstance(session_id, str):
            return True  # a session from before ids (or forged without one): not valid
        end = self._until.get(session_id)
        return end is not None and end > now


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


def _instant(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else None


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
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or not target.isprintable()):  # browsers drop tabs and newlines: "/\t/host"
        return "/"
    return target


Handler = Callable[[Request], Awaitable[Response]]
