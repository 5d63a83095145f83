"""CSRF protection for every state-changing request, in one place rather than per form.

The token lives in the session (one per session, from ``token``); a POST/PUT/PATCH/DELETE
must carry it in the ``X-CSRF-Token`` header (htmx sends it from base.html) or the
``csrf_token`` field of a urlencoded form. The body is read here and replayed to the app
unchanged. A request whose Origin names another site (or that the browser marks
Sec-Fetch-Site: cross-site) is refused even with a token; behind a trusted proxy the
site is the one it forwarded (X-Forwarded-Host), as proxies often rewrite Host.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handoff_sync.config.settings import ConsoleConfig
from handoff_sync.console.proxy import public_host

SESSION_KEY = "csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_FORM_BYTES = 2_000_000
REFUSED = ("refused: this form has expired or was sent from another site. Reload the page "
           "and try again.")


def token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    session: dict[str, Any] = request.session
    value = session.get(SESSION_KEY)
    if not isinstance(value, str):
        value = session[SESSION_KEY] = secrets.token_urlsafe(32)
    return value


class CsrfGuard:
    """ASGI middleware, inside the session middleware."""

    def __init__(self, app: ASGIApp, console: ConsoleConfig) -> None:
        self.app, self.console = app, console

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        expected = (scope.get("session") or {}).get(SESSION_KEY)
        body, too_big = await _read_body(receive)
        sent = request.headers.get(HEADER) or _form_token(request, body)
        host = public_host(self.console, request)
        if (too_big or not isinstance(expected, str) or not sent
                or not _same_token(sent, expected) or _cross_site(request, host)):
            await PlainTextResponse(REFUSED, status_code=403)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), False


def _same_token(sent: str, expected: str) -> bool:
    """Constant-time comparison of the bytes (compare_digest refuses non-ASCII text with
    a TypeError, which anyone could send in the header to get a 500 and a traceback)."""
    return secrets.compare_digest(sent.encode("utf-8", "replace"),
                                  expected.encode("utf-8", "replace"))


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read here, once; then the client's own messages (a disconnect only when
    the client really leaves, for handlers that watch for it)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _form_token(request: Request, body: bytes) -> str | None:
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        return None
    values = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).get(FIELD)
    return values[0] if values else None


def _cross_site(request: Request, host: str) -> bool:
    if request.headers.get("sec-fetch-site", "").casefold() == "cross-site":
        return True
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc.casefold() != host.casefold()
