"""Console test kit: a synced sandbox world with console users, an in-process client
logged in as a role, a live console on a loopback port, and headless Chromium.

Users (passwords are test-only): ``ada`` admin, ``vic`` viewer, both ``PASSWORD``.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import BaseRoute
from starlette.testclient import TestClient

from handoff_sync.config.load import load_config
from handoff_sync.config.settings import Config
from handoff_sync.console.app import create_app
from handoff_sync.console.auth import hash_password
from handoff_sync.console.context import ConsoleContext
from handoff_sync.console.jobs import Jobs, Pending
from handoff_sync.daemon.asgi import AsgiServer
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.sync.cycle import PipelineRunner
from tests.e2e.sync_support import configured_sandbox

PASSWORD = "correct horse battery"
ADMIN, VIEWER = "ada", "vic"
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday afternoon, as the e2e tests use
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per test run


def console_section(*, users: bool = True, extra: str = "") -> str:
    """A ``console:`` config section with ada (admin) and vic (viewer)."""
    lines = ["console:"]
    if users:
        lines += ["  users:",
                  f"    - {{name: {ADMIN}, role: admin, password_hash: '{_HASH}'}}",
                  f"    - {{name: {VIEWER}, role: viewer, password_hash: '{_HASH}'}}"]
    if extra:
        lines += ["  " + line for line in extra.strip("\n").splitlines()]
    if len(lines) == 1:
        lines[0] = "console: {}"
    return "\n".join(lines) + "\n"


def add_console(config_file: Path, section: str) -> Config:
    """Append ``section`` to the config file; the config loaded again."""
    with config_file.open("a", encoding="utf-8") as out:
        out.write(section)
    return load_config(config_file)


@contextmanager
def console_world(server: SandboxServer, folder: Path, *, database_url: str,
                  deals: int = 40, cycles: int = 1, section: str | None = None,
                  pack: str | None = None, partners: int = 4,
                  random_seed: int = 3) -> Iterator[dict[str, Any]]:
    """A seeded sandbox synced ``cycles`` times into a migrated store, with a config
    carrying ``section`` (default: ada and vic). Yields config, store, runner and a
    ConsoleContext whose clock stands at NOW. The mappings folder is a copy in
    ``folder`` (tests may edit it)."""
    mappings = folder / "mappings"
    source = Path(__file__).resolve().parents[2] / "mappings"
    if pack is not None:
        source = source / "packs" / pack
    shutil.copytree(source, mappings, ignore=shutil.ignore_patterns("packs"))
    config_file = configured_sandbox(server, folder, database_url=database_url, deals=deals,
                                     partners=partners, random_seed=random_seed,
                                     mappings=mappings)
    config = add_console(config_file, section if section is not None else console_section())
    store = Store.connect(config.database.url)
    store.migrate()
    runner = PipelineRunner(config, config.pipelines[0], store, holder="test",
                            clock=lambda: NOW)
    try:
        for _ in range(cycles):
            runner.run_cycle()
        context = ConsoleContext(config, store, clock=lambda: NOW)
        yield {"config": config, "store": store, "runner": runner, "context": context,
               "mappings": mappings, "config_file": config_file}
    finally:
        runner.close()
        store.close()


def client_for(context: ConsoleContext, user: str | None = ADMIN, *,
               local: bool = True) -> TestClient:
    """An in-process client of a new console app, logged in as ``user`` (None: not)."""
    client = TestClient(create_app(context, local=local), base_url="http://127.0.0.1")
    if user is not None:
        login(client, user)
    return client


def csrf_of(client: TestClient, page: str = "/login") -> str:
    """The session's CSRF token, as a page's form carries it."""
    html = client.get(page).text
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def login(client: TestClient, user: str, password: str = PASSWORD) -> Any:
    token = csrf_of(client)
    response = client.post("/login", data={"name": user, "password": password,
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return response


def post(client: TestClient, url: str, data: dict[str, Any] | None = None, *,
         page: str = "/audit", **kwargs: Any) -> Any:
    """POST a form with the session's CSRF token (read from ``page``)."""
    form = {"csrf_token": csrf_of(client, page), **(data or {})}
    return client.post(url, data=form, **kwargs)


@contextmanager
def live_console(context: ConsoleContext, *, local: bool = True,
                 extra_routes: list[BaseRoute] | None = None) -> Iterator[str]:
    """The console served on a free loopback port (with ``extra_routes`` first, as the
    daemon adds /healthz, /readyz and /metrics); its base URL."""
    server = AsgiServer(create_app(context, local=local, extra_routes=extra_routes),
                        "127.0.0.1", 0)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def browser_paths() -> tuple[str, str]:
    found = (CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
             CHROMEDRIVER if os.path.exists(CHROMEDRIVER) else shutil.which("chromedriver"))
    if None in found:
        message = (f"{CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install -y "
                   "--no-install-recommends chromium chromium-driver")
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs them (.ci/run): missing there is a failure
        pytest.skip(message)
    return found[0] or CHROMIUM, found[1] or CHROMEDRIVER


@contextmanager
def chrome(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """Headless Debian Chromium driven by Selenium."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is a test extra")
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     "--force-device-scale-factor=1", f"--window-size={width},{height}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def browser_login(driver: Any, base_url: str, user: str = ADMIN) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base_url}/login")
    driver.find_element(By.NAME, "name").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # The login answers with a redirect; the next driver.get must not race it.
    WebDriverWait(driver, 10).until(lambda d: "/login" not in d.current_url)


def swap_wait(driver: Any, seconds: float = 20) -> Any:
    """A WebDriverWait that tries again when htmx swapped the element it was reading.

    An element found a moment before an htmx swap (an out-of-band error message, a
    polling panel) raises StaleElementReferenceException when read: the page is fine,
    the reference is old. So read elements inside the waited-for function, not after it.
    """
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, ignored_exceptions=[StaleElementReferenceException])


def text_at(scope: Any, css: str) -> str | None:
    """The text of the first element under SCOPE matching CSS, None while there is none
    or it is empty (a function for swap_wait)."""
    from selenium.webdriver.common.by import By

    found = scope.find_elements(By.CSS_SELECTOR, css)
    return (found[0].text or None) if found else None


def artefacts_folder(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """Where a browser test keeps its screenshots: $HANDOFF_SYNC_ARTEFACTS/console/NAME
    (default: a pytest temporary folder)."""
    root = os.environ.get("HANDOFF_SYNC_ARTEFACTS")
    folder = (Path(root) if root else tmp_path_factory.mktemp("artefacts")) / "console" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(driver: Any, folder: Path, name: str) -> Path:
    """A full-page PNG of what the browser shows (the window grown to the page height)."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, max(900, min(int(height) + 120, 6000)))
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


@contextmanager
def job_threads_busy(jobs: Jobs, threads: int = 1, lane: str = "") -> Iterator[None]:
    """``threads`` job threads of the console (all it has: a Jobs(workers=threads); a
    named ``lane`` has one) taken by other work until the block ends: the jobs asked
    meanwhile wait."""
    gate, started = threading.Event(), threading.Semaphore(0)

    def other_work() -> None:
        started.release()
        assert gate.wait(30), "the test never released the job threads"

    held = [jobs.get("other", ("other", time.monotonic_ns()), other_work, lane=lane).id
            for _ in range(threads)]
    for _ in range(threads):
        assert started.acquire(timeout=10)
    try:
        yield
    finally:
        gate.set()
        for job in held:  # the threads free again when the block ends
            for _ in range(1000):
                if not isinstance(jobs.status(job), Pending):
                    break
                time.sleep(0.01)
