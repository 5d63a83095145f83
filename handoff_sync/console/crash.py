"""An unexpected exception (a bug) in a request: a plain error page for the browser, and
one log line with the traceback for the operator, every known secret redacted from it.

Starlette's own last resort would print the traceback through uvicorn's logger as it is;
this middleware sits outside every other console layer, so nothing escapes to it. A
response already under way cannot be replaced: then the connection is only closed.
"""

from __future__ import annotations

import traceback

import structlog
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handoff_sync.safety.redaction import redact

log = structlog.get_logger("handoff_sync.console")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error · handoff-sync console</title>
<link rel="stylesheet" href="/static/console.css"></head>
<body><main><section class="card"><h1>Something went wrong</h1>
<p class="error" role="alert">The console could not answer this request. It has been
logged for the operator; try again, or go back to <a href="/">the console</a>.</p>
</section></main></body></html>
"""


class CrashPage:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log.error("console_request_failed", method=scope.get("method"),
                      path=scope.get("path"), error=type(exc).__name__,
                      message=redact(" ".join(str(exc).split())),
                      traceback=redact("".join(traceback.format_exception(exc))))
            if not started:
                await HTMLResponse(PAGE, status_code=500)(scope, receive, send)
