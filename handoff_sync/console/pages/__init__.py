"""The console's pages, in nav order: one module per page, each giving its routes.

A page module exposes ``PAGE = Page(path, label, routes)``; ``routes(context)`` returns
the Starlette routes under ``path`` (the page itself and its htmx fragments and forms).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.routing import BaseRoute

from handoff_sync.console.context import ConsoleContext


@dataclass(frozen=True)
class Page:
    path: str
    label: str
    routes: Callable[[ConsoleContext], list[BaseRoute]]


def pages() -> list[Page]:
    """Every page, in nav order (imported here, so a page module stays self-contained)."""
    from handoff_sync.console.pages import audit, health, mappings, policy, reports, review

    return [health.PAGE, review.PAGE, mappings.PAGE, policy.PAGE, reports.PAGE, audit.PAGE]
