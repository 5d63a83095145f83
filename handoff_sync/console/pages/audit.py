"""/audit: every saved edit of the mappings folders, newest first: who, when, what."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from handoff_sync.console.context import ConsoleContext
from handoff_sync.console.offload import off_loop
from handoff_sync.console.pages import Page
from handoff_sync.console.templating import render


def routes(context: ConsoleContext) -> list[BaseRoute]:
    def audit(request: Request) -> Response:
        folders = {str(p.mappings): p.name for p in context.pipelines}
        entries = context.store.mapping_edits(limit=200)
        return render(request, "audit.html", entries=entries, folders=folders)

    return [Route("/audit", off_loop(audit))]  # a store query: off the event loop


PAGE = Page("/audit", "Audit", routes)
