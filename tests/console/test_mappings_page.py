"""/mappings over HTTP: the system files in forms, checked as `mappings validate` checks
them, previewed, saved with comments kept and an audit row, and applied by the next
cycle; viewers only look."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot

from handoff_sync.mapping.loader import validate_mappings
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store.types import RunKind
from handoff_sync.sync.cycle import mappings_hash
from tests.console.support import ADMIN, VIEWER, client_for, console_world, csrf_of

SALESFORCE = "/mappings/partners/salesforce.yaml"
HUBSPOT = "/mappings/partners/hubspot.yaml"


class _Form(HTMLParser):
    """The fields of one form of a page, as a browser would send them (first button
    aside: the caller picks the action)."""

    def __init__(self, form_id: str | None, action: str | None = None) -> None:
        super().__init__()
        self.form_id, self.action = form_id, action
        self.inside = False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = (values.get("id") == self.form_id if self.form_id
                           else values.get("action", "").endswith(self.action or ""))
        if not self.inside or "name" not in values:
            if tag == "option" and self._select is not None and "selected" in values:
                self.fields[self._select] = values.get("value", "")
            return
        name = values["name"]
        if tag == "input" and values.get("type") == "checkbox":
            if "checked" in values:
                self.fields[name] = "on"
        elif tag == "input" and values.get("type") != "submit":
            self.fields[name] = values.get("value", "")
        elif tag == "select":
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data


def form_of(html: str, form_id: str | None = "mapping-form",
            action: str | None = None) -> dict[str, str]:
    parser = _Form(form_id, action)
    parser.feed(html)
    fields = parser.fields
    for name, text in fields.items():  # a textarea drops one leading newline
        fields[name] = text[1:] if text.startswith("\n") else text
    return fields


def row_of(form: dict[str, str], section: str, key: str) -> str:
    """The form prefix of the row whose canonical field is ``key``."""
    for name, value in form.items():
        if name.startswith(f"{section}-") and name.endswith("-key") and value == key:
            return name[:-len("key")]
    raise AssertionError(f"no row {key} in {section}")


def new_row(form: dict[str, str], section: str) -> str:
    """The prefix of the first empty row (for adding an entry)."""
    for name, value in form.items():
        if name.startswith(f"{section}-") and name.endswith("-key") and not value \
                and not form[name[:-len("key")] + "original"]:
            return name[:-len("key")]
    raise AssertionError(f"no empty row in {section}")


def row_html(html: str, row_id: str) -> str:
    start = html.index(f'<tr id="{row_id}"')
    return html[start:html.index("</tr>", start)]


def text_of(html: str) -> str:
    """The HTML's text with entities of apostrophes and quotes undone (for comparing
    messages as `mappings validate` prints them)."""
    return html.replace("&#39;", "'").replace("&#34;", '"').replace("&quot;", '"')


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path) -> Any:
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       deals=12) as world:
        yield world


def test_the_files_are_listed_and_each_field_is_a_row(world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    index = client.get("/mappings")
    assert index.status_code == 200
    assert SALESFORCE in index.text and HUBSPOT in index.text
    assert 'href="/mappings" class="current"' in index.text  # the nav names the page
    page = client.get(SALESFORCE)
    assert page.status_code == 200
    form = form_of(page.text)
    prefix = row_of(form, "fields", "competitors")
    assert form[prefix + "field"] == "Competitors__c"
    assert form[prefix + "transform"] == "multi_select"
    assert form[prefix + "policy"] == "prm_unless_blank"
    assert form[prefix + "direction"] == "both"
    stage = row_of(form, "fields", "handoff_stage")
    assert "6 Customer Success Kickoff: kickoff" in form[stage + "values"]
    assert form[row_of(form, "outputs", "gate_status") + "field"] == "Handoff_Gate_Status__c"
    raw = form_of(page.text, None, "/yaml")["text"]
    assert raw == (world["mappings"] / "salesforce.yaml").read_text(encoding="utf-8")
    assert client.get("/mappings/partners/handoff.yaml").status_code == 404
    assert client.get("/mappings/partners/..%2Fhandoff-sync.yaml").status_code == 404


def test_an_unknown_field_is_refused_at_its_row_with_the_validate_message(
        world: dict[str, Any], tmp_path: Path) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "salesforce.yaml"
    before = file.read_bytes()
    form = form_of(client.get(SALESFORCE).text)
    prefix = new_row(form, "fields")
    form.update({prefix + "key": "competitorz", prefix + "field": "Competitor_List__c"})
    # What `mappings validate` says about the same entry written by hand.
    by_hand = tmp_path / "by-hand"
    shutil.copytree(world["mappings"], by_hand)
    text = (by_hand / "salesforce.yaml").read_text(encoding="utf-8")
    (by_hand / "salesforce.yaml").write_text(text.replace(
        "\n\n# What handoff-sync writes back",
        "\n  competitorz: Competitor_List__c\n\n# What handoff-sync writes back"),
        encoding="utf-8")
    _none, expected = validate_mappings(by_hand)
    assert [p.path for p in expected] == [("fields", "competitorz")]
    message = f"{expected[0].message} ({expected[0].hint})"
    assert "unknown canonical field 'competitorz'" in message

    for action in ("preview", "save"):
        response = client.post(f"{SALESFORCE}/form", data={**form, "action": action})
        assert response.status_code == 400
        page = text_of(response.text)
        assert message in text_of(row_html(response.text, "fields-competitorz"))
        assert "1 problem: nothing was saved" in page
        assert "Save to salesforce.yaml" not in page
        assert file.read_bytes() == before
    assert world["store"].mapping_edits() == []


def test_a_value_the_model_refuses_is_shown_at_its_cell(world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    form = form_of(client.get(SALESFORCE).text)
    prefix = row_of(form, "fields", "budget")
    form[prefix + "transform"] = "bool"
    response = client.post(f"{SALESFORCE}/form", data={**form, "action": "preview"})
    assert response.status_code == 400
    row = text_of(row_html(response.text, "fields-budget"))
    assert ("transform 'bool' produces bool, but this field holds number (use 'number' or "
            "'currency')") in row
    assert 'class="has-problem' in row


def test_a_valid_change_is_previewed_then_saved_keeping_comments_and_audited(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "salesforce.yaml"
    before = file.read_text(encoding="utf-8")
    form = form_of(client.get(SALESFORCE).text)
    form[row_of(form, "fields", "competitors") + "policy"] = "crm_wins"
    preview = client.post(f"{SALESFORCE}/form", data={**form, "action": "preview"})
    assert preview.status_code == 200, preview.text
    assert "policy: crm_wins}" in preview.text and "Save to salesforce.yaml" in preview.text
    summary = "salesforce.yaml: competitors policy prm_unless_blank -&gt; crm_wins"
    assert summary in preview.text
    assert file.read_text(encoding="utf-8") == before  # a preview writes nothing

    saved = client.post(f"{SALESFORCE}/form", data={**form_of(preview.text),
                                                     "action": "save"},
                        follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=1")
    after = file.read_text(encoding="utf-8")
    removed = [line for line in before.splitlines() if line not in after.splitlines()]
    added = [line for line in after.splitlines() if line not in before.splitlines()]
    assert removed == ["    {field: Competitors__c, transform: multi_select, direction: both, "
                       "policy: prm_unless_blank}"]
    assert added == ["    {field: Competitors__c, transform: multi_select, direction: both, "
                     "policy: crm_wins}"]
    assert after.count("#") == before.count("#")  # every comment kept
    _mappings, problems = validate_mappings(world["mappings"])
    assert problems == []

    entries = world["store"].mapping_edits()
    assert [(e["by"], e["summary"]) for e in entries] == [
        (ADMIN, "salesforce.yaml: competitors policy prm_unless_blank -> crm_wins")]
    assert "policy: crm_wins" in entries[0]["diff"]["salesforce.yaml"]
    assert summary in client.get(saved.headers["location"]).text
    assert summary in client.get("/audit").text


def test_adding_removing_and_editing_rows_changes_only_those_lines(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "hubspot.yaml"
    before = file.read_text(encoding="utf-8")
    form = form_of(client.get(HUBSPOT).text)
    form[row_of(form, "fields", "custom.region") + "remove"] = "on"
    segment = row_of(form, "fields", "custom.segment")
    form[segment + "values"] = form[segment + "values"].replace("smb: SMB", "smb: Small")
    added = new_row(form, "outputs")
    form.update({added + "key": "handoff_required", added + "field": "handoff_required"})
    preview = client.post(f"{HUBSPOT}/form", data={**form, "action": "preview"})
    assert preview.status_code == 200, preview.text
    saved = client.post(f"{HUBSPOT}/form", data={**form_of(preview.text), "action": "save"},
                        follow_redirects=False)
    assert saved.status_code == 303
    after = file.read_text(encoding="utf-8")
    gone = [line for line in before.splitlines() if line not in after.splitlines()]
    new = [line for line in after.splitlines() if line not in before.splitlines()]
    assert gone == ["  custom.region: region                              # read on both "
                    "sides, never synced",
                    "    values: {enterprise: Enterprise, mid_market: Mid-Market, smb: SMB}"]
    assert new == ["    values: {enterprise: Enterprise, mid_market: Mid-Market, smb: Small}",
                   "  handoff_required: handoff_required"]
    lines = after.splitlines()
    assert lines[lines.index("  handoff_required: handoff_required") - 1].startswith(
        "  missing_fields:")
    summary = world["store"].mapping_edits()[0]["summary"]
    assert summary.startswith("hubspot.yaml: removed custom.region; hubspot.yaml: "
                              "custom.segment values +'smb: Small', -'smb: SMB'")


def test_a_save_after_the_file_changed_on_disk_says_so_and_keeps_the_disk(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "salesforce.yaml"
    form = form_of(client.get(SALESFORCE).text)
    form[row_of(form, "fields", "competitors") + "policy"] = "crm_wins"
    preview = client.post(f"{SALESFORCE}/form", data={**form, "action": "preview"})
    by_hand = file.read_text(encoding="utf-8").replace("# Salesforce as the CRM",
                                                       "# Salesforce (our CRM)")
    file.write_text(by_hand, encoding="utf-8")
    saved = client.post(f"{SALESFORCE}/form", data={**form_of(preview.text),
                                                     "action": "save"})
    assert saved.status_code == 409
    assert "salesforce.yaml changed on disk since you opened this page" in saved.text
    assert file.read_text(encoding="utf-8") == by_hand
    assert world["store"].mapping_edits() == []


def test_a_save_of_something_else_than_the_preview_shows_the_new_preview(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "salesforce.yaml"
    before = file.read_bytes()
    form = form_of(client.get(SALESFORCE).text)
    form[row_of(form, "fields", "competitors") + "policy"] = "crm_wins"
    response = client.post(f"{SALESFORCE}/form", data={**form, "action": "save"})
    assert response.status_code == 200
    assert "not the one previewed" in response.text
    assert file.read_bytes() == before


def test_the_yaml_editor_previews_saves_and_refuses_broken_yaml(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    file = world["mappings"] / "salesforce.yaml"
    before = file.read_text(encoding="utf-8")
    raw = form_of(client.get(SALESFORCE).text, None, "/yaml")
    broken = client.post(f"{SALESFORCE}/yaml", data={
        **raw, "text": before.replace("close_date: {field: CloseDate, policy: crm_wins}",
                                      "close_date: {field: CloseDate, policy: crm_wns}"),
        "action": "save"})
    assert broken.status_code == 400
    assert re.search(r"salesforce\.yaml:\d+: fields\.close_date\.policy</code>: expected "
                     r"'prm_wins'", text_of(broken.text))
    assert file.read_text(encoding="utf-8") == before

    edited = before.replace("close_date: {field: CloseDate, policy: crm_wins}",
                            "close_date: {field: CloseDate, policy: newest_wins}")
    preview = client.post(f"{SALESFORCE}/yaml", data={**raw, "text": edited,
                                                       "action": "preview"})
    assert preview.status_code == 200 and "Save to salesforce.yaml" in preview.text
    saved = client.post(f"{SALESFORCE}/yaml", data={**form_of(preview.text, None, "/yaml"),
                                                     "action": "save"},
                        follow_redirects=False)
    assert saved.status_code == 303
    assert file.read_text(encoding="utf-8") == edited
    assert world["store"].mapping_edits()[0]["summary"] == (
        "salesforce.yaml: close_date policy crm_wins -> newest_wins")


def test_a_viewer_sees_read_only_forms_and_cannot_post(world: dict[str, Any]) -> None:
    client = client_for(world["context"], user=VIEWER)
    file = world["mappings"] / "salesforce.yaml"
    before = file.read_bytes()
    page = client.get(SALESFORCE)
    assert page.status_code == 200
    assert "<fieldset disabled>" in page.text and "Preview changes" not in page.text
    assert "readonly" in page.text  # the YAML editor too
    form = form_of(page.text)
    form[row_of(form, "fields", "competitors") + "policy"] = "crm_wins"
    for url in (f"{SALESFORCE}/form", f"{SALESFORCE}/yaml"):
        response = client.post(url, data={**form, "text": "version: 1\n",
                                           "csrf_token": csrf_of(client, SALESFORCE),
                                           "action": "save"})
        assert response.status_code == 403
        assert "the viewer role cannot change mappings" in response.text
    assert file.read_bytes() == before


def test_the_next_cycle_applies_a_change_saved_in_the_console(
        sandbox: SandboxServer, hs: HubSpot, tmp_path: Path) -> None:
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/s.db",
                       deals=12) as world:
        def registrations() -> dict[str, Any]:
            deals = hs.crm.deals.get_all(properties=["handoff_required", "pipeline"])
            return {deal.id: deal.properties.get("handoff_required") for deal in deals
                    if deal.properties.get("pipeline") == "9004451"}

        assert set(registrations().values()) == {None}  # hubspot.yaml does not write it
        quiet = world["runner"].run_cycle()
        assert quiet.kind is RunKind.INCREMENTAL

        client = client_for(world["context"])
        form = form_of(client.get(HUBSPOT).text)
        added = new_row(form, "outputs")
        form.update({added + "key": "handoff_required", added + "field": "handoff_required"})
        preview = client.post(f"{HUBSPOT}/form", data={**form, "action": "preview"})
        saved = client.post(f"{HUBSPOT}/form", data={**form_of(preview.text),
                                                      "action": "save"},
                            follow_redirects=False)
        assert saved.status_code == 303

        report = world["runner"].run_cycle()
        assert report.kind is RunKind.FULL  # the folder's hash changed: a full reconcile
        written = registrations()
        assert written and set(written.values()) <= {"true", "false"}
        assert "true" in written.values()
        state = world["store"].load_pipeline("partners")
        assert state.mappings_hash == mappings_hash(world["mappings"])


def test_a_file_broken_by_hand_shows_its_problems_and_the_yaml_editor(
        world: dict[str, Any]) -> None:
    file = world["mappings"] / "salesforce.yaml"
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace("policy: crm_wins}   # the AE's forecast",
                                 "policy: crm_wns}   # the AE's forecast"), encoding="utf-8")
    client = client_for(world["context"])
    page = client.get(SALESFORCE)
    assert page.status_code == 200
    assert "got the text 'crm_wns' (did you mean 'crm_wins'?)" in text_of(
        row_html(page.text, "fields-close_date"))
    index = client.get("/mappings")
    assert index.status_code == 200 and ">CRM<" in index.text

    file.write_text("fields: [\n", encoding="utf-8")
    broken = client.get(SALESFORCE)
    assert broken.status_code == 200
    assert "is not valid YAML, so the form cannot show it" in broken.text
    assert 'id="mapping-form"' not in broken.text
    assert "<code>salesforce.yaml:2: (top level)</code>: YAML syntax error: did not find " \
        "expected node content" in broken.text
    fixed = client.post(f"{SALESFORCE}/yaml", data={
        **form_of(broken.text, None, "/yaml"), "text": text, "action": "preview"})
    assert fixed.status_code == 200 and "Save to salesforce.yaml" in fixed.text
    assert "not valid YAML: open it" in client.get("/mappings").text
