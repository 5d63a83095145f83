"""The Content-Security-Policy in a real browser: htmx loads and works under it (a POST
carrying the CSRF header from base.html), so does static/console.js, and Chromium
reports no violation on any page of the nav."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from handoff_sync.console.app import create_app
from handoff_sync.console.auth import require_admin
from handoff_sync.console.context import ConsoleContext
from handoff_sync.daemon.asgi import AsgiServer
from handoff_sync.sandbox.server import SandboxServer
from tests.console.support import (
    artefacts_folder,
    browser_login,
    chrome,
    console_world,
    screenshot,
)


async def _save(request: Request) -> Response:
    user = require_admin(request, "save this")
    return HTMLResponse(f"<p id='saved'>saved by {user.name}</p>")


@contextmanager
def served(context: ConsoleContext) -> Iterator[str]:
    app = create_app(context, extra_routes=[Route("/test-only/save", _save, methods=["POST"])])
    server = AsgiServer(app, "127.0.0.1", 0)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def violations(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser")
            if "Content Security Policy" in entry["message"] or "Refused" in entry["message"]]


def test_htmx_works_under_the_content_security_policy(
        sandbox: SandboxServer, tmp_path: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = artefacts_folder(tmp_path_factory, "security")
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       deals=8) as world, served(world["context"]) as url, chrome() as driver:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        driver.get(f"{url}/login")
        screenshot(driver, folder, "login")
        browser_login(driver, url)
        WebDriverWait(driver, 10).until(lambda d: "/login" not in d.current_url)
        nav = [a.get_attribute("href") for a in
               driver.find_elements(By.CSS_SELECTOR, "header nav a")]
        assert nav
        for href in nav:
            driver.get(href)
            assert driver.execute_script("return typeof htmx") == "object", href
        # base.html's one htmx-config (a second meta would be ignored) is in force.
        assert driver.execute_script("return htmx.config.includeIndicatorStyles") is False
        assert driver.execute_script("return htmx.config.allowEval") is False
        assert driver.execute_script("return htmx.config.responseHandling.length") == 3
        # static/console.js's Cancel (data-dismiss), which replaces inline onclick=.
        driver.execute_script(
            "document.querySelector('main').insertAdjacentHTML('beforeend', '<section "
            "id=\"probe\"><button type=\"button\" id=\"cancel\" data-dismiss=\"section\">"
            "Cancel</button></section>')")
        driver.find_element(By.ID, "cancel").click()
        assert driver.find_elements(By.ID, "probe") == []
        # A POST through htmx: base.html's hx-headers carries the CSRF token.
        driver.execute_script(
            "htmx.ajax('POST', '/test-only/save', {target: 'main', swap: 'innerHTML'})")
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "saved"))
        assert driver.find_element(By.ID, "saved").text == "saved by ada"
        screenshot(driver, folder, "htmx-post")
        assert violations(driver) == []
