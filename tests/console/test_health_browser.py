"""In Chromium: log in, see a failing pipeline and its reason, press "sync now" and watch
the request go pending -> done, on a console the daemon itself serves beside /healthz."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff_sync.config.load import load_config
from handoff_sync.console.app import create_app
from handoff_sync.console.context import ConsoleContext
from handoff_sync.daemon.scheduler import Daemon
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.sync.cycle import PipelineRunner
from handoff_sync.testing.daemon import wait_for
from tests.console.support import (
    artefacts_folder,
    browser_login,
    chrome,
    console_world,
    screenshot,
)
from tests.e2e.sync_support import http_get

BAD_TOKEN = "pat-na1-00000000-0000-0000-0000-000000000000"


def test_a_failing_pipeline_its_reason_and_sync_now_in_a_browser(
        sandbox: SandboxServer, tmp_path: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    from selenium.webdriver.common.by import By

    folder = artefacts_folder(tmp_path_factory, "health")
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       deals=12) as world:
        path = world["config_file"]
        path.write_text(path.read_text(encoding="utf-8").replace("port: 9464", "port: 0"),
                        encoding="utf-8")
        (tmp_path / "secrets" / "hubspot-access-token").write_text(BAD_TOKEN)
        config = load_config(path)
        store = Store.connect(config.database.url)

        def app(routes: Any) -> Any:
            return create_app(ConsoleContext(config, store), extra_routes=list(routes))

        daemon = Daemon(config, store, lambda p: PipelineRunner(config, p, store, holder="b"),
                        holder="browser:1:a", app_factory=app)
        daemon.start()  # its first cycle fails at once: the token is refused
        try:
            url = daemon.health_url
            assert url is not None
            assert wait_for(lambda: store.cycle_health("partners").consecutive_failures >= 1,
                            timeout=60)
            assert http_get(url + "/healthz") == (200, "ok\n")
            with chrome() as driver:
                browser_login(driver, url)
                assert wait_for(lambda: driver.current_url.endswith("/health"), timeout=10)
                alert = driver.find_element(By.CSS_SELECTOR, ".failure")
                assert "reason: auth" in alert.text
                assert "check connections.prm.access_token" in alert.text
                assert "What to do: credentials refused" in alert.text
                screenshot(driver, folder, "health-failing")

                driver.find_element(By.CSS_SELECTOR, ".sync-now button").click()
                assert wait_for(lambda: driver.find_elements(
                    By.CSS_SELECTOR, "[data-status]"), timeout=10)
                screenshot(driver, folder, "health-sync-requested")
                # htmx polls the fragment until the daemon's requests job has run it.
                assert wait_for(lambda: driver.find_elements(
                    By.CSS_SELECTOR, "[data-status=done]"), timeout=60)
                # Then the page reloads itself: the requested cycle is in the table and
                # the failing streak has grown.
                assert wait_for(lambda: len(driver.find_elements(
                    By.CSS_SELECTOR, "tr.run.outcome-failed")) >= 2, timeout=20)
                assert "2 failed cycles in a row" in driver.find_element(
                    By.CSS_SELECTOR, ".failure").text
                done = driver.find_element(By.CSS_SELECTOR, "[data-status=done]").text
                assert "failed" in done and "auth: hubspot connection 'prm'" in done
                screenshot(driver, folder, "health-sync-done")
                # (The console has no favicon yet: the browser's ask for one is no error
                # of this page.)
                errors = [entry for entry in driver.get_log("browser")
                          if entry["level"] == "SEVERE" and "favicon" not in entry["message"]]
                assert errors == []
        finally:
            daemon.shutdown()
