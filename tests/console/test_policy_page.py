"""/policy over HTTP: the forms, the checks `mappings validate` makes at their fields, the
what-if before saving, and the save with its audit entry (admins only)."""

from __future__ import annotations

import html
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from handoff_sync.console.drafts import digest
from handoff_sync.console.jobs import Jobs
from handoff_sync.sandbox.server import SandboxServer
from tests.console.support import ADMIN, VIEWER, client_for, console_world, csrf_of

GATE = "handoff_types/partner_to_direct/stages/0/gate"
SLA = "handoff_types/partner_to_direct/slas/0/duration"


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path) -> Any:
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       deals=24) as world:
        yield world


def _form(world: dict[str, Any], client: Any, **fields: str) -> dict[str, str]:
    text = (world["mappings"] / "handoff.yaml").read_text(encoding="utf-8")
    return {"csrf_token": csrf_of(client, "/policy"), "base": digest(text),
            "pipeline": world["config"].pipelines[0].name, **fields}


def test_the_page_shows_gates_slas_tasks_calendars_and_routing(world: dict[str, Any]) -> None:
    page = client_for(world["context"]).get("/policy")
    assert page.status_code == 200
    html = page.text
    for text in ("Pre-handoff assessment", "Budget confirmed (BANT)", f"f:num:{GATE}/0/weight",
                 f"f:amount:{SLA}", "f:dates:calendars/us_business/holidays",
                 "f:text:routing/rules/0/owner", "complete_partner_facts",
                 f"add:field:{GATE}", "Preview the change"):
        assert text in html, text
    raw = client_for(world["context"]).get("/policy/raw")
    assert 'name="raw"' in raw.text and "fallback_owner_email" in raw.text


def test_bad_input_gets_validates_message_at_its_field_and_nothing_is_written(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    before = file.read_text(encoding="utf-8")
    for fields, where, message in (
            ({f"add:field:{GATE}": "budgett"}, f"{GATE}/10/field",
             "unknown canonical field &#39;budgett&#39; (did you mean &#39;budget&#39;?)"),
            ({f"f:amount:{SLA}": "-2", f"f:unit:{SLA}": "business_days"}, SLA,
             "must be greater than 0, got the number -2")):
        for url in ("/policy/preview", "/policy/save"):
            response = client.post(url, data=_form(world, client, **fields))
            assert response.status_code == 422, response.text
            eid = "p-" + where.replace("/", "-")
            assert f'id="err-{eid}" role="alert" hx-swap-oob="true">{message}' in response.text
            assert "nothing was saved" in response.text
    assert file.read_text(encoding="utf-8") == before
    assert world["store"].mapping_edits() == []


def test_a_new_required_field_shows_the_what_if_then_saves_with_an_audit_entry(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    before = file.read_text(encoding="utf-8")
    form = _form(world, client, **{f"add:field:{GATE}": "success_criteria",
                                   f"add:label:{GATE}": "Success criteria",
                                   f"add:weight:{GATE}": "3"})
    preview = _previewed(client, form)
    assert preview.status_code == 200, preview.text
    assert "What if:" in preview.text and "changes the completeness of" in preview.text
    assert "Save the change" in preview.text
    assert file.read_text(encoding="utf-8") == before  # a preview writes nothing
    form["whatif"] = _shown_job(preview.text)  # the Save button posts it with the form
    saved = client.post("/policy/save", data=form)
    assert saved.status_code == 200 and "Saved (audit entry" in saved.text, saved.text
    after = file.read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert added == ["          - {field: success_criteria, label: Success criteria, weight: 3}"]
    (entry,) = world["store"].mapping_edits()
    assert entry["by"] == ADMIN and "added {field: success_criteria" in entry["summary"]
    again = client.post("/policy/save", data=form)  # drawn from the file before the save
    assert again.status_code == 409 and "changed on disk" in again.text


def test_a_viewer_may_look_and_preview_but_not_save(world: dict[str, Any]) -> None:
    client = client_for(world["context"], VIEWER)
    page = client.get("/policy").text
    assert "Preview the change" not in page and "Read only" in page and " disabled" in page
    form = _form(world, client, **{f"f:num:{GATE}/0/weight": "5"})
    assert "Save the change" not in client.post("/policy/preview", data=form).text
    assert client.post("/policy/save", data=form).status_code == 403
    assert world["store"].mapping_edits() == []


class _Forms(HTMLParser):
    """Each form's inputs as a browser would submit them untouched."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("action") == "/policy/preview":
            self.forms.append({})
        elif not self.forms or "disabled" in a:
            return
        elif tag == "input" and a.get("name"):
            self.forms[-1][a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
            self.forms[-1].setdefault(self._select or "", "")
        elif tag == "option" and self._select and "selected" in a:
            self.forms[-1][self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.forms[-1][self._textarea or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1][self._textarea] += data


def test_every_form_sent_untouched_changes_nothing(world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    parser = _Forms()
    parser.feed(client.get("/policy").text)
    assert len(parser.forms) > 10
    for form in parser.forms:
        response = client.post("/policy/preview", data=form)
        assert "nothing changed in this form" in response.text, (form, response.text)


def _shown_job(page: str) -> str:
    """The what-if job the Save button of a preview's answer carries."""
    found = re.search(r'name="whatif" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def _previewed(client: Any, form: dict[str, str]) -> Any:
    """A preview's answer once its what-if is done (on a busy machine even a small store's
    may take longer than the preview waits: the panel's polls are then followed)."""
    answer = client.post("/policy/preview", data=form)
    return _until_done(client, _poll_url(answer.text)) if answer.status_code == 202 \
        else answer


def _poll_url(page: str) -> str:
    found = re.search(r'hx-get="(/policy/whatif/[^"]+)" hx-trigger="every 2s"', page)
    assert found is not None, page
    return html.unescape(found.group(1))


@contextmanager
def _busy_jobs(world: dict[str, Any]) -> Iterator[threading.Event]:
    """The console's one job thread held by another job until the event is set: what-ifs
    asked meanwhile wait their turn (as behind a what-if over 100,000 deals)."""
    world["context"].jobs = jobs = Jobs(workers=1)
    release = threading.Event()
    jobs.get("other", "other", lambda: release.wait(30))
    try:
        yield release
    finally:
        release.set()


def _until_done(client: Any, url: str) -> Any:
    """Poll as the panel does until the answer is no longer "computing"."""
    for _ in range(600):
        answer = client.get(url, headers={"HX-Request": "true"})
        if answer.status_code != 202:
            return answer
        time.sleep(0.05)
    raise AssertionError(f"{url} still computing")


def test_a_slow_what_if_says_computing_then_the_poll_shows_it_with_the_save_button(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    form = _form(world, client, **{f"f:num:{GATE}/0/weight": "5"})
    with _busy_jobs(world) as release:
        pending = client.post("/policy/preview", data=form)
        assert pending.status_code == 202, pending.text
        assert "Computing the what-if" in pending.text and "started" in pending.text
        assert "-      - {field: budget" in pending.text or "+" in pending.text  # the diff
        assert "Save the change" not in pending.text and 'name="whatif"' not in pending.text
        url = _poll_url(pending.text)
        assert 'class="refresh"' in pending.text  # a plain link without JavaScript
        still = client.get(url, headers={"HX-Request": "true"})
        assert still.status_code == 202 and "Computing the what-if" in still.text
        no_script = client.get(url)  # the Refresh link followed without htmx: a page
        assert no_script.status_code == 202 and "<html" in no_script.text
        assert "Computing the what-if" in no_script.text
        release.set()
        done = _until_done(client, url)
    assert done.status_code == 200, done.text
    assert "What if:" in done.text and "Save the change" in done.text
    assert "hx-trigger" not in done.text  # the panel stops polling
    as_page = client.get(url)
    assert "What if:" in as_page.text and "Back to the policy" in as_page.text
    again = client.post("/policy/preview", data=form)  # the same draft: computed once
    assert again.status_code == 200 and _shown_job(again.text) == _shown_job(done.text)
    form["whatif"] = _shown_job(done.text)
    saved = client.post("/policy/save", data=form)
    assert saved.status_code == 200 and "Saved (audit entry" in saved.text, saved.text


def test_a_save_without_the_matching_preview_is_refused(world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    before = file.read_text(encoding="utf-8")
    previewed = _form(world, client, **{f"f:num:{GATE}/0/weight": "5"})
    shown = _shown_job(_previewed(client, previewed).text)
    edited_after = {**previewed, f"f:num:{GATE}/0/weight": "7", "whatif": shown}
    for form in (previewed, {**previewed, "whatif": "made-up"}, edited_after):
        refused = client.post("/policy/save", data=form)
        assert refused.status_code == 409, refused.text
        assert "was not previewed as it stands" in refused.text
        assert "nothing was saved" in refused.text
    with _busy_jobs(world):  # previewed, but its what-if not shown yet
        pending = client.post("/policy/preview", data=edited_after)
        assert pending.status_code == 202
        job = _poll_url(pending.text).split("/")[-1].split("?")[0]
        refused = client.post("/policy/save", data={**edited_after, "whatif": job})
        assert refused.status_code == 409, refused.text
    assert file.read_text(encoding="utf-8") == before
    assert world["store"].mapping_edits() == []


def test_a_viewer_cannot_poll_a_what_if(world: dict[str, Any]) -> None:
    admin, viewer = client_for(world["context"]), client_for(world["context"], VIEWER)
    with _busy_jobs(world):
        pending = admin.post("/policy/preview",
                             data=_form(world, admin, **{f"f:num:{GATE}/0/weight": "5"}))
        url = _poll_url(pending.text)
        for headers in ({"HX-Request": "true"}, {}):
            refused = viewer.get(url, headers=headers)
            assert refused.status_code == 403, refused.text
            assert "viewer role cannot follow a what-if" in refused.text
        # A viewer's own slow preview says so, without a poll it may not follow.
        theirs = viewer.post("/policy/preview",
                             data=_form(world, viewer, **{f"f:num:{GATE}/0/weight": "6"}))
        assert theirs.status_code == 202 and "Press Preview again" in theirs.text
        assert "hx-trigger" not in theirs.text


def test_a_failing_what_if_shows_its_message(world: dict[str, Any], tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "state.db") as db:  # the mirror lost: reads fail
        db.execute("ALTER TABLE mirror RENAME TO mirror_lost")
    client = client_for(world["context"])
    form = _form(world, client, **{f"f:num:{GATE}/0/weight": "5"})
    failed = _previewed(client, form)
    assert failed.status_code == 400, failed.text
    assert "The what-if could not be computed" in failed.text
    assert "mirror" in failed.text and "Save the change" not in failed.text


def test_a_preview_past_the_queue_of_what_ifs_says_busy(world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    form = _form(world, client, **{f"f:num:{GATE}/0/weight": "5"})
    world["context"].jobs = jobs = Jobs(workers=1, queue=0)
    release = threading.Event()
    jobs.get("other", "other", lambda: release.wait(30))
    try:
        busy = client.post("/policy/preview", data=form)
        assert busy.status_code == 429 and busy.headers["Retry-After"] == "5"
        assert "try again in a few seconds" in busy.text
    finally:
        release.set()
