"""The console's work stays off the event loop that answers the daemon's probes: /healthz
and /readyz answer at once while pages load; what-ifs and reports run a few at a time
and say "busy" past their wait; YAML over the size limits is refused before it is
loaded; a save whose audit row fails says the change was saved."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import text

from handoff_sync.console import policy_whatif
from handoff_sync.console.jobs import Jobs
from handoff_sync.console.pages import reports
from handoff_sync.daemon.health import store_readiness
from handoff_sync.daemon.health_routes import health_routes
from handoff_sync.daemon.metrics import Metrics
from handoff_sync.problems.yaml_source import MAX_VALUES
from handoff_sync.sandbox.server import SandboxServer
from tests.console.support import (
    ADMIN,
    PASSWORD,
    client_for,
    console_world,
    job_threads_busy,
    live_console,
)
from tests.console.test_mappings_page import form_of

SALESFORCE = "/mappings/partners/salesforce.yaml"
# Nine levels of ten aliases each: 10**9 values once expanded, in a few hundred bytes.
BOMB = 'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]\n' + "".join(
    f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]\n" for level in range(1, 9))


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       deals=24) as world:
        yield world


def test_probes_answer_at_once_while_many_mapping_pages_load(
        world: dict[str, Any]) -> None:
    # Before the pages left the loop, 4 threads loading this page held a probe 2-3 s.
    routes = health_routes(Metrics(), lambda: True, store_readiness(world["store"]))
    with live_console(world["context"], extra_routes=routes) as url:
        stop = threading.Event()
        loads: list[int] = []

        def load_pages() -> None:
            with _logged_in(url) as client:
                while not stop.is_set():
                    loads.append(client.get(f"{url}{SALESFORCE}", timeout=60).status_code)
                    loads.append(client.get(f"{url}/mappings", timeout=60).status_code)

        crowd = [threading.Thread(target=load_pages) for _ in range(8)]
        for thread in crowd:
            thread.start()
        latencies: dict[str, list[float]] = {"/healthz": [], "/readyz": []}
        try:
            with requests.Session() as probe:
                while len(loads) < 8:  # every thread is in
                    time.sleep(0.05)
                deadline = time.monotonic() + 4
                while time.monotonic() < deadline:
                    for path, seen in latencies.items():
                        began = time.monotonic()
                        assert probe.get(f"{url}{path}", timeout=30).status_code == 200
                        seen.append(time.monotonic() - began)
                    time.sleep(0.05)
        finally:
            stop.set()
            for thread in crowd:
                thread.join(60)
    assert loads and set(loads) == {200}
    for path, seen in latencies.items():
        # Generous: a probe's own work is microseconds; Kubernetes gives it 1 s.
        assert max(seen) < 1.0, (path, statistics.median(seen), max(seen))


def test_reports_and_what_ifs_say_busy_past_the_jobs_queue(
        world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "WAIT", 60.0)  # the first report shown at once
    monkeypatch.setattr(reports, "WAIT_WITH_OLDER", 60.0)
    # Reports and what-ifs are background jobs: one job thread, no room for one to wait.
    jobs = world["context"].jobs = Jobs(workers=1, queue=0)
    client = client_for(world["context"])
    assert client.get("/reports").status_code == 200
    form = {"csrf_token": _csrf(client), "pipeline": world["config"].pipelines[0].name,
            "raw": (world["mappings"] / "handoff.yaml").read_text(encoding="utf-8")
            + "# a comment\n"}
    with job_threads_busy(jobs):
        busy = client.get("/reports", params={"by": "segment"})
        assert busy.status_code == 429 and busy.headers["Retry-After"] == "5"
        assert "busy" in busy.text and "try again" in busy.text
        assert client.get("/reports/report.csv", params={"by": "region"}).status_code == 429
        # The report already computed still shows.
        assert '<section id="volume"' in client.get("/reports").text
    # What-ifs run one at a time on a thread of their own: busy there, a preview is
    # refused, and the reports still have their thread.
    with job_threads_busy(jobs, lane=policy_whatif.LANE):
        whatif = client.post("/policy/preview", data=form)
        assert whatif.status_code == 429 and "try again" in whatif.text
        assert client.get("/reports", params={"by": "segment"}).status_code == 200
    assert client.post("/policy/preview", data=form).status_code in (200, 202)


def test_an_alias_bomb_or_an_oversized_text_is_refused_before_it_is_loaded(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "salesforce.yaml"
    before = file.read_text(encoding="utf-8")
    page = client.get(SALESFORCE).text
    marker = 'name="digest" value="'
    shown = page[page.index(marker) + len(marker):].split('"', 1)[0]
    csrf = _csrf(client)
    for posted, said in ((BOMB, f"more than {MAX_VALUES} values"),
                         ("a: b\n# " + "a" * 1_020_000, "larger than 1000 KB")):
        began = time.monotonic()
        answer = client.post(f"{SALESFORCE}/yaml", data={
            "csrf_token": csrf, "digest": shown, "text": posted, "action": "save"})
        assert answer.status_code == 400, answer.status_code
        assert "The YAML of salesforce.yaml is refused" in answer.text and said in answer.text
        policy_answer = client.post("/policy/save", data={
            "csrf_token": csrf, "pipeline": world["config"].pipelines[0].name,
            "raw": posted})
        assert policy_answer.status_code == 400
        assert "The YAML of handoff.yaml is refused" in policy_answer.text
        assert said in policy_answer.text
        assert time.monotonic() - began < 5
    huge = client.post(f"{SALESFORCE}/yaml", data={  # over Starlette's own field limit
        "csrf_token": csrf, "digest": shown, "text": "a" * 1_100_000, "action": "save"})
    assert huge.status_code == 400 and "The form was refused" in huge.text
    assert file.read_text(encoding="utf-8") == before
    assert world["store"].mapping_edits() == []
    # A bomb written by hand: the pages open (the form says the file is not readable).
    (world["mappings"] / "hubspot.yaml").write_text(BOMB, encoding="utf-8")
    assert client.get("/mappings").status_code == 200
    hubspot = client.get("/mappings/partners/hubspot.yaml")
    assert hubspot.status_code == 200 and f"more than {MAX_VALUES} values" in hubspot.text


def test_a_save_whose_audit_row_fails_says_the_change_was_saved(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "salesforce.yaml"
    before = file.read_text(encoding="utf-8")
    edited = before.replace("close_date: {field: CloseDate, policy: crm_wins}",
                            "close_date: {field: CloseDate, policy: newest_wins}")
    assert edited != before
    raw = form_of(client.get(SALESFORCE).text, None, "/yaml")
    preview = client.post(f"{SALESFORCE}/yaml", data={**raw, "text": edited,
                                                       "action": "preview"})
    assert preview.status_code == 200, preview.text
    with world["store"].engine.begin() as connection:
        connection.execute(text("DROP TABLE mapping_audit"))
    saved = client.post(f"{SALESFORCE}/yaml", data={**form_of(preview.text, None, "/yaml"),
                                                     "action": "save"})
    assert saved.status_code < 500
    assert "the change was saved (salesforce.yaml), but its audit entry could not be " \
        "written" in saved.text
    assert file.read_text(encoding="utf-8") == edited


def _logged_in(url: str) -> requests.Session:
    session = requests.Session()
    token = _csrf_in(session.get(f"{url}/login", timeout=30).text)
    answer = session.post(f"{url}/login", data={"name": ADMIN, "password": PASSWORD,
                                                "csrf_token": token},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 303, answer.text
    return session


def _csrf_in(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


def _csrf(client: Any) -> str:
    html = client.get("/audit").text
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]
