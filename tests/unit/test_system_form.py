"""The system-file form: rows from a file and back, changing only what the admin changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff_sync.console import system_form
from handoff_sync.console.system_form import Row

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
SYSTEM_FILES = sorted(path for path in MAPPINGS.rglob("*.yaml") if path.name != "handoff.yaml")


def rows(text: str) -> dict[str, list[Row]]:
    return {section: system_form.rows_of(text, section) for section in system_form.SECTIONS}


def row(sections: dict[str, list[Row]], section: str, key: str) -> Row:
    return next(r for r in sections[section] if r.key == key)


@pytest.mark.parametrize("path", SYSTEM_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_form_sent_back_untouched_changes_nothing(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    form = {section: system_form.with_new_rows(found, section)
            for section, found in rows(text).items()}
    edit = system_form.edit(text, path.name, form)
    assert (edit.changes, edit.errors, edit.text) == ([], [], text)


def test_a_changed_row_keeps_the_quoted_values_it_did_not_touch() -> None:
    text = (MAPPINGS / "hubspot.yaml").read_text(encoding="utf-8")
    form = rows(text)
    row(form, "fields", "registration_status").values["field"] = "dealstage_v2"
    edit = system_form.edit(text, "hubspot.yaml", form)
    assert edit.changes == ["hubspot.yaml: registration_status field dealstage -> "
                            "dealstage_v2"]
    assert edit.text == text.replace("    field: dealstage\n", "    field: dealstage_v2\n")
    assert '"9004452": submitted' in edit.text


def test_mistakes_in_the_form_are_named_at_their_rows() -> None:
    text = (MAPPINGS / "salesforce.yaml").read_text(encoding="utf-8")
    form = rows(text)
    form["fields"].append(Row("", "", {"field": "Orphan__c"}))
    form["fields"].append(Row("", "amount", {"field": "Amount2"}))
    form["outputs"].append(Row("", "brief2", {"field": "X", "values": "no colon here"}))
    edit = system_form.edit(text, "salesforce.yaml", form)
    said = [(e.section, e.message) for e in edit.errors]
    assert said == [
        ("fields", "name the field this row maps (or tick Remove)"),
        ("fields", "amount has two rows: keep one"),
        ("outputs", "line 1 of the value map ('no colon here') is not "
                    "'system value: canonical value'")]
    assert edit.text == text


def test_a_raw_edit_is_described_entry_by_entry() -> None:
    text = (MAPPINGS / "salesforce.yaml").read_text(encoding="utf-8")
    edited = (text.replace("close_date: {field: CloseDate, policy: crm_wins}",
                           "close_date: {field: CloseDate, policy: newest_wins}")
              .replace("  crm_stage: StageName\n", "")
              .replace("    StageName: Prospecting\n", "    StageName: Qualification\n"))
    assert system_form.described(text, edited, "salesforce.yaml") == [
        "salesforce.yaml: close_date policy crm_wins -> newest_wins",
        "salesforce.yaml: removed crm_stage",
        "salesforce.yaml: create edited as YAML"]
    assert system_form.described(text, text + "# note\n", "salesforce.yaml") == [
        "salesforce.yaml: comments or layout edited as YAML"]
    assert system_form.described(text, "fields: [", "salesforce.yaml") == [
        "salesforce.yaml: edited as YAML"]
