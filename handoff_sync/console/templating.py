"""Jinja2 with autoescaping on for every template: every CRM-supplied string (deal,
account and people names, error messages) is text on the page, never markup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from handoff_sync.console import csrf
from handoff_sync.console.auth import current_user

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")

environment = Environment(loader=FileSystemLoader(TEMPLATES),
                          autoescape=select_autoescape(default=True, default_for_string=True),
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render(request: Request, template: str, status_code: int = 200,
           headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:
    """``template`` with the page's common values: the user, the CSRF token, the nav (the
    console's pages, from ``request.app.state``) and the banner."""
    state = request.app.state
    common = {"request": request, "user": current_user(request),
              "csrf_token": csrf.token(request), "nav": state.nav,
              "banner": state.banner, "path": request.url.path}
    html = environment.get_template(template).render(**common, **values)
    return HTMLResponse(html, status_code=status_code, headers=headers)
