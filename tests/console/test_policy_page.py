"""/policy over HTTP: the forms, the checks `mappings validate` makes at their fields, the
what-if before saving, and the save with its audit entry (admins only)."""

from __future__ import annotations

import difflib
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

from handoff_sync.console import policy_whatif
from handoff_sync.console.drafts import digest
from handoff_sync.console.jobs import Done, Jobs, Pending
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
                 f"f:text:{GATE}/10/field", f"f:cop:{GATE}/9/check", "Preview the change"):
        assert text in html, text
    raw = client_for(world["context"]).get("/policy/raw")
    assert 'name="raw"' in raw.text and "fallback_owner_email" in raw.text


def test_bad_input_gets_validates_message_at_its_field_and_nothing_is_written(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    before = file.read_text(encoding="utf-8")
    for fields, where, message in (
            ({f"f:text:{GATE}/10/field": "budgett"}, f"{GATE}/10/field",
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
    form = _form(world, client, **{f"f:text:{GATE}/10/field": "success_criteria",
                                   f"f:text:{GATE}/10/label": "Success criteria",
                                   f"f:num:{GATE}/10/weight": "3"})
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


def test_a_viewer_may_look_but_not_preview_or_save(world: dict[str, Any]) -> None:
    client = client_for(world["context"], VIEWER)
    page = client.get("/policy").text
    assert "Preview the change" not in page and "Read only" in page and " disabled" in page
    form = _form(world, client, **{f"f:num:{GATE}/0/weight": "5"})
    refused = client.post("/policy/preview", data=form)  # minutes of CPU at 100k deals
    assert refused.status_code == 403 and "cannot preview a policy change" in refused.text
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


def _changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(lines taken out, lines put in) by the diff from before to after."""
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="",
                                     n=0))[2:]
    return ([line[1:] for line in diff if line.startswith("-")],
            [line[1:] for line in diff if line.startswith("+")])


def _save(world: dict[str, Any], client: Any, **fields: str) -> tuple[Any, Any]:
    """Preview then save one form; (preview, save) responses."""
    form = _form(world, client, **fields)
    preview = _previewed(client, form)
    assert preview.status_code == 200, preview.text
    assert "What if:" in preview.text and "Save the change" in preview.text
    form["whatif"] = _shown_job(preview.text)  # the Save button posts it with the form
    return preview, client.post("/policy/save", data=form)


RULES = "routing/rules"


def test_a_routing_rule_is_added_where_the_admin_puts_it(world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    before = file.read_text(encoding="utf-8")
    page = client.get("/policy").text
    assert 'name="at:routing/rules"' in page and "the first rule that routes the deal wins" in page
    _preview, saved = _save(world, client, **{
        f"f:text:{RULES}/3/name": "LATAM territory", f"f:cfield:{RULES}/3/when": "custom.region",
        f"f:cop:{RULES}/3/when": "in", f"f:cvalue:{RULES}/3/when": "LATAM, BR",
        f"f:text:{RULES}/3/owner": "felix.patel@vendor.example", "at:routing/rules": "1"})
    assert saved.status_code == 200 and "Saved (audit entry" in saved.text, saved.text
    after = file.read_text(encoding="utf-8")
    removed, added = _changed_lines(before, after)
    new_rule = ["    - name: LATAM territory",
                "      when: {field: custom.region, op: in, value: [LATAM, BR]}",
                "      owner: felix.patel@vendor.example"]
    assert removed == [] and sorted(added) == sorted(new_rule)
    lines = after.splitlines()
    at = lines.index(new_rule[0])
    assert lines[at:at + 3] == new_rule
    assert lines[at - 3] == "    - name: NA territory" and \
        lines[at + 3] == "    - name: EMEA territory"  # second of four: NA's still first
    assert "# Round robin: the member with the fewest open handoffs" in after  # comments kept
    (entry,) = world["store"].mapping_edits()
    assert "added {name: LATAM territory" in entry["summary"] and "as number 2 of 4" in \
        entry["summary"]


def test_a_routing_rule_is_removed_and_an_edited_when_changes_one_line(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    before = file.read_text(encoding="utf-8")
    _preview, saved = _save(world, client, **{"remove": f"{RULES}/2"})
    assert "Saved (audit entry" in saved.text, saved.text
    middle = file.read_text(encoding="utf-8")
    removed, added = _changed_lines(before, middle)
    assert added == [] and removed == [
        "    - name: APAC territory", "      when: {field: custom.region, op: ==, value: APAC}",
        "      owner: diego.carter@vendor.example"]
    _preview, saved = _save(world, client, **{
        f"f:cfield:{RULES}/0/when": "custom.region", f"f:cop:{RULES}/0/when": "==",
        f"f:cvalue:{RULES}/0/when": "AMER"})
    assert "Saved (audit entry" in saved.text, saved.text
    removed, added = _changed_lines(middle, file.read_text(encoding="utf-8"))
    assert removed == ["      when: {field: custom.region, op: ==, value: NA}"]
    assert added == ["      when: {field: custom.region, op: ==, value: AMER}"]


def test_a_bad_routing_rule_gets_validates_message_at_its_field(world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    before = file.read_text(encoding="utf-8")
    for fields, where, message in (
            ({f"f:text:{RULES}/3/name": "Both", f"f:text:{RULES}/3/owner": "a@vendor.example",
              f"f:text:{RULES}/3/team": "emea_direct", "at:routing/rules": "0",
              f"anchor:{RULES}/3": ""},
             f"{RULES}/3/team", "routing rule 1 gives"),
            ({f"f:text:{RULES}/3/name": "Nobody", f"anchor:{RULES}/3": ""}, f"{RULES}/3",
             "routing rule 4 names nobody"),
            ({f"f:cfield:{RULES}/1/when": "custom.regoin", f"f:cop:{RULES}/1/when": "==",
              f"f:cvalue:{RULES}/1/when": "EMEA"}, f"{RULES}/1/when", "custom.regoin"),
            ({f"f:cond:{RULES}/1/when": "any: [{field: custom.region"}, f"{RULES}/1/when",
             "not a condition in YAML")):
        for url in ("/policy/preview", "/policy/save"):
            response = client.post(url, data=_form(world, client, **fields))
            assert response.status_code == 422, response.text
            eid = "p-" + where.replace("/", "-")
            placed = response.text.split(f'id="err-{eid}" role="alert" hx-swap-oob="true">')[1]
            assert message in placed.split("</p>")[0], (message, response.text)
            assert "nothing was saved" in response.text
    assert file.read_text(encoding="utf-8") == before
    assert world["store"].mapping_edits() == []


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
    """The console's what-if thread held by another job until the event is set: what-ifs
    asked meanwhile wait their turn (as behind a what-if over 100,000 deals)."""
    world["context"].jobs = jobs = Jobs(workers=1)
    release = threading.Event()
    jobs.get("other", "other", lambda: release.wait(30), lane=policy_whatif.LANE)
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
        diff = html.unescape(pending.text)  # the change's diff, in the panel
        assert '-          - {field: budget, label: "Budget confirmed (BANT)", weight: 2}\n' \
            '+          - {field: budget, label: "Budget confirmed (BANT)", weight: 5}' in diff
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
    with _busy_jobs(world) as release:  # previewed, but its what-if not shown yet
        pending = client.post("/policy/preview", data=edited_after)
        assert pending.status_code == 202
        job = _poll_url(pending.text).split("/")[-1].split("?")[0]
        refused = client.post("/policy/save", data={**edited_after, "whatif": job})
        assert refused.status_code == 409, refused.text
        release.set()
        for _ in range(600):  # done now, but nobody has seen it: still no proof
            if not isinstance(world["context"].jobs.status(job), Pending):
                break
            time.sleep(0.05)
        assert isinstance(world["context"].jobs.status(job), Done)
        refused = client.post("/policy/save", data={**edited_after, "whatif": job})
        assert refused.status_code == 409, refused.text
    assert file.read_text(encoding="utf-8") == before
    assert world["store"].mapping_edits() == []


def test_a_what_if_shown_stays_the_saves_proof_while_reports_fill_the_jobs(
        world: dict[str, Any]) -> None:
    world["context"].jobs = jobs = Jobs(kept=2)
    client = client_for(world["context"])
    form = _form(world, client, **{f"f:num:{GATE}/0/weight": "5"})
    form["whatif"] = _shown_job(_previewed(client, form).text)
    for n in range(5):  # a report per query per minute, say
        jobs.get("report", ("report", n), lambda n=n: n, wait=5)
    assert jobs.status(form["whatif"]) is None  # the jobs forgot it...
    saved = client.post("/policy/save", data=form)  # ...the save's proof did not
    assert saved.status_code == 200 and "Saved (audit entry" in saved.text, saved.text


def test_a_what_if_shown_before_another_mapping_file_changed_is_no_proof(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    form = _form(world, client, **{f"f:num:{GATE}/0/weight": "5"})
    form["whatif"] = _shown_job(_previewed(client, form).text)
    system = world["mappings"] / "salesforce.yaml"
    system.write_text(system.read_text(encoding="utf-8") + "# edited by hand\n",
                      encoding="utf-8")
    refused = client.post("/policy/save", data=form)
    assert refused.status_code == 409 and "was not previewed as it stands" in refused.text
    assert world["store"].mapping_edits() == []


def test_a_newer_draft_replaces_the_admins_what_if_still_waiting(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    with _busy_jobs(world) as release:
        polls = []
        for weight in ("5", "6", "7"):  # each edit previewed while the thread is busy
            form = _form(world, client, **{f"f:num:{GATE}/0/weight": weight})
            pending = client.post("/policy/preview", data=form)
            assert pending.status_code == 202, pending.text
            polls.append(_poll_url(pending.text))
        for url in polls[:2]:  # dropped: their polls say to preview again
            gone = client.get(url, headers={"HX-Request": "true"})
            assert gone.status_code == 404 and "preview the change again" in gone.text
        release.set()
        done = _until_done(client, polls[2])
    assert done.status_code == 200 and "What if:" in done.text, done.text


TASKS = "handoff_types/partner_to_direct/tasks"


def test_a_task_template_is_added_and_one_removed_with_the_comments_kept(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    before = file.read_text(encoding="utf-8")
    page = client.get("/policy").text
    assert f'name="f:text:{TASKS}/6/kind"' in page and "Add a task template" in page
    preview, saved = _save(world, client, **{
        f"f:text:{TASKS}/6/kind": "send_welcome_pack",
        f"f:text:{TASKS}/6/open_while": "stage_active",
        f"f:list:{TASKS}/6/stages": "pre_handoff_assessment, responsibility_transition",
        f"f:cfield:{TASKS}/6/when": "deal_name", f"f:cop:{TASKS}/6/when": "is_filled",
        f"f:cvalue:{TASKS}/6/when": "",
        f"f:text:{TASKS}/6/subject": "Send the welcome pack for {deal_name}",
        f"f:text:{TASKS}/6/assignee": "crm_owner", f"f:amount:{TASKS}/6/due": "3",
        f"f:unit:{TASKS}/6/due": "business_days", f"f:text:{TASKS}/6/priority": "",
        f"f:text:{TASKS}/6/side": ""})
    assert "creates" in preview.text, preview.text  # the what-if counts its tasks
    assert "Saved (audit entry" in saved.text, saved.text
    middle = file.read_text(encoding="utf-8")
    removed, added = _changed_lines(before, middle)
    assert removed == []
    assert added == ["      - kind: send_welcome_pack", "        open_while: stage_active",
                     "        stages: [pre_handoff_assessment, responsibility_transition]",
                     "        when: {field: deal_name, op: is_filled}",
                     "        subject: Send the welcome pack for {deal_name}",
                     "        assignee: crm_owner", "        due: {business_days: 3}"]
    assert "kind: send_welcome_pack" in world["store"].mapping_edits()[0]["summary"]

    # schedule_intro_call: the comment below it introduces stage_overdue and stays.
    _preview, saved = _save(world, client, **{"remove": f"{TASKS}/3"})
    assert "Saved (audit entry" in saved.text, saved.text
    after = file.read_text(encoding="utf-8")
    removed, added = _changed_lines(middle, after)
    assert added == [] and removed[0] == "      - kind: schedule_intro_call" and len(removed) == 9
    assert "      # An escalation, like the SLA ones: the AE already has the stage's own " \
        "task.\n      - kind: stage_overdue" in after


def test_a_bad_task_template_gets_validates_message_at_its_field(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    before = file.read_text(encoding="utf-8")
    new = {f"f:text:{TASKS}/6/kind": "x", f"f:text:{TASKS}/6/open_while": "stage_active",
           f"f:text:{TASKS}/6/subject": "S", f"f:text:{TASKS}/6/assignee": "crm_owner",
           f"f:amount:{TASKS}/6/due": "1", f"f:unit:{TASKS}/6/due": "days",
           f"anchor:{TASKS}/6": ""}
    for fields, where, message in (
            ({**new, f"f:amount:{TASKS}/6/due": "-1"}, f"{TASKS}/6/due",
             "must be greater than 0"),
            ({**new, f"f:text:{TASKS}/6/open_while": ""}, f"{TASKS}/6/open_while",
             "missing required key &#39;open_while&#39;"),
            ({**new, f"f:list:{TASKS}/6/stages": "joint_discovry"}, f"{TASKS}/6/stages",
             "joint_discovry"),
            ({f"f:text:{TASKS}/0/subject": "Complete {dael_name}"}, f"{TASKS}/0/subject",
             "dael_name")):
        for url in ("/policy/preview", "/policy/save"):
            response = client.post(url, data=_form(world, client, **fields))
            assert response.status_code == 422, response.text
            eid = "p-" + where.replace("/", "-")
            placed = response.text.split(f'id="err-{eid}" role="alert" hx-swap-oob="true">')[1]
            assert message in placed.split("</p>")[0], (message, response.text)
    assert file.read_text(encoding="utf-8") == before
    assert world["store"].mapping_edits() == []


def test_a_gate_check_and_when_are_edited_in_boxes_or_as_yaml_one_line_each(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    before = file.read_text(encoding="utf-8")
    page = client.get("/policy").text
    assert f'name="f:cfield:{GATE}/9/check" id="p-{GATE.replace("/", "-")}-9-check"' in page
    assert 'value="approved, handoff_ready, accepted, converted"' in page

    # The check of "Registration approved", wrapped over two lines: those lines only
    # (ruamel writes a changed flow mapping on one line).
    _preview, saved = _save(world, client, **{
        f"f:cfield:{GATE}/9/check": "registration_status", f"f:cop:{GATE}/9/check": "in",
        f"f:cvalue:{GATE}/9/check": "approved, handoff_ready, accepted"})
    assert "Saved (audit entry" in saved.text, saved.text
    first = file.read_text(encoding="utf-8")
    assert _changed_lines(before, first) == (
        ["            check: {field: registration_status, op: in,",
         "                    value: [approved, handoff_ready, accepted, converted]}"],
        ["            check: {field: registration_status, op: in, value: [approved, "
         "handoff_ready, accepted]}"])

    # A when: added to a one-line requirement: that line, the rest as written.
    _preview, saved = _save(world, client, **{
        f"f:cfield:{GATE}/0/when": "amount", f"f:cop:{GATE}/0/when": ">=",
        f"f:cvalue:{GATE}/0/when": "50000"})
    assert "Saved (audit entry" in saved.text, saved.text
    second = file.read_text(encoding="utf-8")
    assert _changed_lines(first, second) == (
        ['          - {field: budget, label: "Budget confirmed (BANT)", weight: 2}'],
        ['          - {field: budget, label: "Budget confirmed (BANT)", weight: 2, when: '
         "{field: amount, op: '>=', value: 50000}}"])

    # Nested any: in the YAML box; a requirement with a check alone, added.
    nested = ("any:\n  - {field: amount, op: '>=', value: 100000}\n"
              "  - {field: technical_requirements, op: contains, value: integration}\n")
    _preview, saved = _save(world, client, **{f"f:cond:{GATE}/1/when": nested})
    assert "Saved (audit entry" in saved.text, saved.text
    third = file.read_text(encoding="utf-8")
    removed, added = _changed_lines(second, third)
    assert removed == ["          - {field: economic_buyer, label: Economic buyer identified "
                       "and engaged, weight: 2}"]
    assert added == ["          - field: economic_buyer",  # nested: the item in block style
                     "            label: Economic buyer identified and engaged",
                     "            weight: 2", "            when:", "              any:",
                     "                - {field: amount, op: '>=', value: 100000}",
                     "                - {field: technical_requirements, op: contains, "
                     "value: integration}"]
    page = client.get("/policy").text  # now nested: the YAML box alone shows it
    assert f'name="f:cfield:{GATE}/1/when"' not in page and f'name="f:cond:{GATE}/1/when"' in page
    _preview, saved = _save(world, client, **{
        f"f:text:{GATE}/10/label": "Two co-led meetings",
        f"f:cfield:{GATE}/10/check": "co_led_meetings", f"f:cop:{GATE}/10/check": ">=",
        f"f:cvalue:{GATE}/10/check": "2"})
    assert "Saved (audit entry" in saved.text, saved.text
    removed, added = _changed_lines(third, file.read_text(encoding="utf-8"))
    assert removed == [] and added == [
        "          - label: Two co-led meetings",
        "            check: {field: co_led_meetings, op: '>=', value: 2}"]
    assert "# the handoff-required thresholds" in file.read_text(encoding="utf-8")


def test_a_bad_gate_condition_gets_validates_message_at_the_condition(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    before = file.read_text(encoding="utf-8")
    check = f"{GATE}/8/check"
    for fields, message in (
            ({f"f:cfield:{check}": "partner_prepared_prospect", f"f:cop:{check}": "contains",
              f"f:cvalue:{check}": "yes"}, "contains"),
            ({f"f:cfield:{check}": "partner_prepard_prospect", f"f:cop:{check}": "is_true"},
             "did you mean &#39;partner_prepared_prospect&#39;?"),
            ({f"f:cfield:{check}": "partner_prepared_prospect", f"f:cop:{check}": "=="},
             "operator &#39;==&#39; needs a &#39;value&#39;"),
            ({f"f:cond:{check}": "all: []"}, "&#39;all&#39; needs at least one condition"),
            ({f"f:cond:{check}": "any: [{field: x"}, "not a condition in YAML"),
            ({f"f:cfield:{check}": "budget", f"f:cop:{check}": "is_filled",
              f"f:cond:{check}": "{field: need, op: is_filled}"},
             "changed both in the boxes and as YAML")):
        for url in ("/policy/preview", "/policy/save"):
            response = client.post(url, data=_form(world, client, **fields))
            assert response.status_code == 422, response.text
            placed = response.text.split(
                f'id="err-p-{check.replace("/", "-")}" role="alert" hx-swap-oob="true">')[1]
            assert message in placed.split("</p>")[0], (message, response.text)
            assert "nothing was saved" in response.text
    assert file.read_text(encoding="utf-8") == before
    assert world["store"].mapping_edits() == []


def test_a_stage_left_with_no_gate_is_validates_warning_at_the_gate_and_needs_save_anyway(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    before = file.read_text(encoding="utf-8")
    gate = "handoff_types/partner_to_direct/stages/3/gate"
    words = ("stage &#39;responsibility_transition&#39; (Gradual responsibility transition) "
             "has no gate: deals pass it at once (add a gate requirement, or leave it so on "
             "purpose: the report&#39;s maturity meter counts ungated stages)")
    form = _form(world, client, **{"remove": f"{gate}/0", f"anchor:{gate}": ""})
    preview = _previewed(client, form)
    assert preview.status_code == 200 and "What if:" in preview.text, preview.text
    form["whatif"] = _shown_job(preview.text)
    at_gate = preview.text.split(f'id="err-p-{gate.replace("/", "-")}" role="alert" '
                                 'hx-swap-oob="true">')[1].split("</p>")[0]
    assert f"Warning: {words}" in at_gate
    assert 'name="confirm" value="save-anyway"' in preview.text

    refused = client.post("/policy/save", data=form)
    assert refused.status_code == 409 and "Save anyway" in refused.text
    assert "nothing was saved" in refused.text and f"Warning: {words}" in refused.text
    # The what-if again under the words, with the box to tick and the Save button.
    after_error = refused.text.split("Tick &#39;Save anyway&#39; under the preview")[1]
    assert "What if:" in after_error and 'name="confirm" value="save-anyway"' in after_error
    assert "Save the change" in after_error and _shown_job(after_error) == form["whatif"]
    assert file.read_text(encoding="utf-8") == before and world["store"].mapping_edits() == []

    saved = client.post("/policy/save", data={**form, "confirm": "save-anyway"})
    assert "Saved (audit entry" in saved.text, saved.text
    (entry,) = world["store"].mapping_edits()
    assert "saved anyway: stage 'responsibility_transition'" in entry["summary"]
    page = client.get("/policy").text  # the page says it too, in the same words
    assert f"Warning: {words}" in page

    # Now that it is saved so, other edits need no confirmation.
    form = _form(world, client, **{f"f:num:{GATE}/0/weight": "3"})
    preview = _previewed(client, form)
    assert "save-anyway" not in preview.text
    form["whatif"] = _shown_job(preview.text)
    assert "Saved (audit entry" in client.post("/policy/save", data=form).text


def test_raw_yaml_that_ungates_a_stage_says_so_at_the_top_and_needs_save_anyway(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    before = file.read_text(encoding="utf-8")
    gated = ("        gate:\n          - label: Two or more co-led meetings held\n"
             "            check: {field: co_led_meetings, op: \">=\", value: 2}\n")
    form = _form(world, client, raw=before.replace(gated, ""))
    preview = _previewed(client, form)
    assert preview.status_code == 200, preview.text
    form["whatif"] = _shown_job(preview.text)
    assert ('<p class="warn">handoff_types.partner_to_direct.stages[3].gate: stage '
            "&#39;responsibility_transition&#39;") in preview.text
    assert client.post("/policy/save", data=form).status_code == 409
    assert file.read_text(encoding="utf-8") == before
    saved = client.post("/policy/save", data={**form, "confirm": "save-anyway"})
    assert "Saved (audit entry" in saved.text and gated not in file.read_text(encoding="utf-8")
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
    jobs.get("other", "other", lambda: release.wait(30), lane=policy_whatif.LANE)
    try:
        busy = client.post("/policy/preview", data=form)
        assert busy.status_code == 429 and busy.headers["Retry-After"] == "5"
        assert "try again in a few seconds" in busy.text
    finally:
        release.set()


def test_a_stage_id_ungated_in_a_second_type_needs_save_anyway(
        world: dict[str, Any]) -> None:
    """closed_won_to_cs's kickoff saved without a gate; partner_to_direct's own, gated,
    kickoff then ungated: the same words, another type, a new warning."""
    client = client_for(world["context"])
    file = world["mappings"] / "handoff.yaml"
    text = file.read_text(encoding="utf-8")
    cs_gate = text[text.index("        gate:\n          - {field: cs_owner_email, label: CS "
                              "owner assigned"):text.index("    tasks:\n      - kind: "
                                                           "complete_cs_handoff")]
    gated = ("        gate:\n          - {field: kickoff_at, label: Kickoff held}\n")
    kickoff = ("      - id: kickoff\n        label: Customer success kickoff\n"
               "        days: [31, 40]\n        owner: crm_owner\n" + gated)
    acceptance = "    # The AE accepts or rejects the handoff on the opportunity"
    file.write_text(text.replace(cs_gate, "").replace(acceptance, kickoff + acceptance),
                    encoding="utf-8")
    before = file.read_text(encoding="utf-8")
    form = _form(world, client, raw=before.replace(kickoff, kickoff.replace(gated, "")))
    preview = _previewed(client, form)
    assert preview.status_code == 200, preview.text
    assert 'name="confirm" value="save-anyway"' in preview.text
    assert "handoff_types.partner_to_direct.stages[5].gate: stage &#39;kickoff&#39;" in \
        preview.text
    form["whatif"] = _shown_job(preview.text)
    refused = client.post("/policy/save", data=form)
    assert refused.status_code == 409 and "Save anyway" in refused.text, refused.text
    assert file.read_text(encoding="utf-8") == before
    saved = client.post("/policy/save", data={**form, "confirm": "save-anyway"})
    assert "Saved (audit entry" in saved.text, saved.text
