"""/reports while its report is computed in the background (console/jobs.py): a report
that takes longer than the page waits says so and shows on a later request, a new cycle
shows the previous figures labelled as older meanwhile, a failing read says why, and a
download waits for the fresh figures or answers "try again".

The job threads are held by a job of the test's own (one thread: the report's jobs queue
behind it), so "takes longer than the page waits" does not depend on the machine."""

from __future__ import annotations

import html
import re
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from starlette.testclient import TestClient

from handoff_sync.console import report_cache
from handoff_sync.console.jobs import Done, Jobs
from handoff_sync.console.pages import reports
from handoff_sync.sandbox.server import SandboxServer
from tests.console.support import client_for, console_world, job_threads_busy

COMPUTING = "Computing the report… started"


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path) -> Any:
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       deals=30) as world:
        world["context"].jobs = Jobs(workers=1, queue=4)
        yield world


def poll_link(page: str) -> str:
    found = re.search(r'hx-get="(/reports\?[^"]*job=[^"]+)"', page)
    assert found, "no poll on a pending page"
    return html.unescape(found.group(1))


def polled_until_done(client: TestClient, link: str) -> str:
    """What the poll shows once the job is no longer pending (htmx asks every 2 s)."""
    for _ in range(300):
        page = client.get(link, headers={"HX-Request": "true"})
        assert page.status_code == 200
        if "report-pending" not in page.text:
            return page.text
        time.sleep(0.05)
    raise AssertionError("the report never finished")


def shown(client: TestClient, url: str) -> str:
    """The page at ``url`` once its report is there (or failed), however long it took."""
    page = client.get(url)
    return polled_until_done(client, poll_link(page.text)) if "report-pending" in \
        page.text else page.text


def test_a_slow_report_says_it_is_computing_then_shows_on_a_later_request(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    with job_threads_busy(world["context"].jobs):
        page = client.get("/reports", params={"by": "region"})
        assert page.status_code == 200
        assert COMPUTING in page.text and '<section id="volume"' not in page.text
        assert "waiting for a free job slot" in page.text
        link = poll_link(page.text)
        assert 'hx-trigger="load delay:2s"' in page.text
        assert "by=region" in link  # the poll asks for the same report
        # Without script: a Refresh link and a meta refresh to the page's own address
        # (no job: a reload asks again).
        again = html.escape("/reports?by=region")
        assert f'<a href="{again}">Refresh</a>' in page.text
        assert (f'<noscript><meta http-equiv="refresh" content="5;url={again}">'
                in page.text)
    done = polled_until_done(client, link)
    assert done.lstrip().startswith('<div id="reports-view">')
    assert '<section id="volume"' in done and "groups by region" in done
    assert COMPUTING not in done and "hx-trigger=\"load" not in done
    again = client.get("/reports", params={"by": "region"})  # a new visit: at once
    assert '<section id="volume"' in again.text and "report-pending" not in again.text


def test_after_a_cycle_the_previous_figures_show_labelled_while_the_new_ones_compute(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    assert '<section id="volume"' in shown(client, "/reports")
    world["runner"].run_cycle()  # the store's version moves
    with job_threads_busy(world["context"].jobs):
        page = client.get("/reports")
        assert page.status_code == 200
        text = " ".join(page.text.split())
        assert ("Figures as of 15:00 UTC, before the store last changed (a cycle, a review "
                "decision or a mapping save) — refreshing…") in text
        assert "They were computed 2026-03-02 15:00:00 UTC" in text
        assert '<section id="volume"' in page.text  # the older figures, meanwhile
        assert "a download waits for them" in page.text
        # Another query of the pipeline has no figures of its own yet: it waits for the
        # same rows (one read per version, whichever query asked first).
        other = client.get("/reports", params={"by": "segment"})
        assert COMPUTING in other.text
        link = poll_link(page.text)
    done = polled_until_done(client, link)
    assert '<section id="volume"' in done and "Figures as of" not in done
    assert '<section id="volume"' in polled_until_done(
        client, poll_link(other.text))


def test_a_failing_read_shows_its_message_on_the_poll_and_on_a_new_visit(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    world["handoff_yaml"] = (world["mappings"] / "handoff.yaml").read_text(encoding="utf-8")
    with job_threads_busy(world["context"].jobs):
        link = poll_link(client.get("/reports").text)
        # Broken while the read waits for a thread: the read fails when it runs.
        (world["mappings"] / "handoff.yaml").write_text("version: [\n", encoding="utf-8")
    done = polled_until_done(client, link)
    problem = re.search(r'<p class="flash bad" role="alert">([^<]*)</p>', done)
    assert problem and "handoff.yaml" in problem.group(1), done[-2000:]
    assert '<section id="volume"' not in done and "Traceback" not in done
    again = shown(client, "/reports")  # a new visit: the read is tried again, and fails
    assert html.unescape(problem.group(1)) in html.unescape(again)
    # Fixed: reloading the poll's address without script (the job in the address bar)
    # asks again instead of showing the kept failure.
    (world["mappings"] / "handoff.yaml").write_text(world["handoff_yaml"], encoding="utf-8")
    reloaded = shown(client, link)
    assert '<section id="volume"' in reloaded and 'class="flash bad"' not in reloaded


def test_a_download_waits_for_the_fresh_report_then_says_try_again(
        world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "DOWNLOAD_WAIT", 0.5)  # 45 s in the console
    client = client_for(world["context"])
    with job_threads_busy(world["context"].jobs):
        busy = client.get("/reports/report.csv")
        assert busy.status_code == 429 and busy.headers["retry-after"] == "15"
        assert busy.text.startswith("The report is still being computed (started ")
        assert "try again in 15 s" in busy.text
    monkeypatch.setattr(reports, "DOWNLOAD_WAIT", 45.0)
    csv = client.get("/reports/report.csv")  # the job may still run: the download waits
    assert csv.status_code == 200 and csv.headers["content-disposition"].endswith('.csv"')
    assert "report,,pipeline," in csv.text


def test_rows_of_older_versions_read_last_are_never_shown_as_the_fresh_report(
        world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two slow reads of older versions finish after the current version's read and push
    it out of the cache (it keeps two versions): the page reads the current version
    again rather than show the older rows' figures as fresh."""
    jobs = world["context"].jobs = Jobs(workers=3, queue=4)
    gates = [threading.Event(), threading.Event()]
    real, calls = report_cache.read_report_data, iter(range(100))

    def read_slowly(*args: Any, **kwargs: Any) -> Any:
        data = real(*args, **kwargs)  # read now, at the mappings as they are now
        call = next(calls)
        if call < len(gates):  # the first two reads finish when the test says
            assert gates[call].wait(30), "the test never released the read"
        return data

    monkeypatch.setattr(report_cache, "read_report_data", read_slowly)
    handoff = world["mappings"] / "handoff.yaml"
    original = handoff.read_text(encoding="utf-8")
    client = client_for(world["context"])
    held = []
    try:
        for cases in (11, 12, 13):  # each mapping save is a version
            handoff.write_text(original.replace("min_sample: 5", f"min_sample: {cases}"),
                               encoding="utf-8")
            if cases < 13:  # its read is held
                page = client.get("/reports").text
                assert COMPUTING in page
                held.append(parse_qs(urlparse(poll_link(page)).query)["job"][0])
        assert "fewer than 13 cases" in shown(client, "/reports")
    finally:
        for gate, job in zip(gates, held, strict=False):  # the 11's read ends, then the 12's
            gate.set()
            for _ in range(1000):
                if isinstance(jobs.status(job), Done):
                    break
                time.sleep(0.01)
        for gate in gates:
            gate.set()
    page = shown(client, "/reports")
    assert "fewer than 13 cases" in page and "fewer than 12 cases" not in page
