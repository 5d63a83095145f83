"""Issue 14 (2, 6): mappings that validated and then broke data or every cycle.

A system field mapped twice, an output aimed at a mapped field, a percentage of 150 or -5
and a duration of 100 million business days are each refused by `mappings validate`,
with file:line:column and a hint, all in one run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handoff_sync.mapping.loader import validate_mappings
from handoff_sync.problems.report import Problem

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "mappings"


def edited(tmp_path: Path, edits: dict[str, list[tuple[str, str]]]) -> Path:
    folder = tmp_path / "pack"
    folder.mkdir(exist_ok=True)
    for name in ("hubspot.yaml", "salesforce.yaml", "handoff.yaml"):
        shutil.copy(PACK / name, folder / name)
    for file, changes in edits.items():
        text = (folder / file).read_text()
        for old, new in changes:
            assert old in text, f"{old!r} not in {file}"
            text = text.replace(old, new, 1)
        (folder / file).write_text(text)
    return folder


def problems_of(folder: Path) -> list[Problem]:
    mappings, problems = validate_mappings(folder)
    assert mappings is None, "the folder validated"
    return problems


def line_of(file: Path, marker: str) -> int:
    return next(n for n, line in enumerate(file.read_text().splitlines(), 1) if marker in line)


def test_a_field_mapped_twice_is_refused_where_the_second_entry_is(tmp_path: Path) -> None:
    # The repro: economic_buyer written into HubSpot's "need" property.
    folder = edited(tmp_path, {"hubspot.yaml": [
        ("economic_buyer: {field: economic_buyer, direction: both}",
         "economic_buyer: {field: need, direction: both}")]})
    [problem] = problems_of(folder)
    assert problem.file.name == "hubspot.yaml"
    assert problem.line == line_of(folder / "hubspot.yaml", "need: {field: need")
    assert problem.column > 1
    text = str(problem)
    assert "deals.need is already used by canonical field 'economic_buyer'" in text
    assert f"(line {line_of(folder / 'hubspot.yaml', 'economic_buyer: {field: need')})" in text
    assert "give each its own system field" in text


def test_a_read_only_field_sharing_a_written_field_is_refused(tmp_path: Path) -> None:
    folder = edited(tmp_path, {"salesforce.yaml": [
        ("  custom.region: Region__c", "  custom.region: Need__c")]})
    [problem] = problems_of(folder)
    assert problem.path == ("fields", "need", "field")
    assert "Opportunity.Need__c is already used by canonical field 'custom.region'" \
        in str(problem)
    assert "canonical field 'need' writes it, so canonical field 'custom.region' would " \
        "read that value back as its own" in str(problem)


def test_two_read_only_entries_may_share_a_field(tmp_path: Path) -> None:
    # Reading one field into two canonical fields writes nothing: harmless, and useful.
    folder = edited(tmp_path, {"salesforce.yaml": [
        ("  custom.region: Region__c", "  custom.region: Region__c\n  custom.area: region__C")]})
    mappings, problems = validate_mappings(folder)
    assert problems == [] and mappings is not None


def test_outputs_and_task_attributes_cannot_share_fields(tmp_path: Path) -> None:
    folder = edited(tmp_path, {"salesforce.yaml": [
        ("  brief: Handoff_Brief__c", "  brief: Need__c"),
        ("  last_synced: Handoff_Last_Synced__c", "  last_synced: Handoff_SLA_Due__c"),
        ("    body: Description", "    body: ActivityDate"),
        ("    subject: Subject", "    subject: Handoff_Task_Key__c"),
    ]})
    found = sorted(str(p) for p in problems_of(folder))
    assert len(found) == 4, "\n".join(found)
    assert any("outputs.brief.field: Opportunity.Need__c is already used by canonical "
               "field 'need'" in p for p in found)
    assert any("outputs.last_synced.field: Opportunity.Handoff_SLA_Due__c is already used "
               "by output 'sla_due'" in p for p in found)
    assert any("tasks.fields.subject.field: Task.Handoff_Task_Key__c is already used by "
               "the task key field" in p for p in found)
    assert any("tasks.fields.due.field: Task.ActivityDate is already used by task "
               "attribute 'body'" in p for p in found)


@pytest.mark.parametrize(("old", "new", "key"), [
    ("partner_split_pct: {field: Partner_Split_Pct__c, direction: both, policy: crm_wins}",
     "partner_split_pct: {field: Partner_Split_Pct__c, direction: both, policy: crm_wins, "
     "default: 150}", "default"),
    ("partner_split_pct: {field: Partner_Split_Pct__c, direction: both, policy: crm_wins}",
     "partner_split_pct: {constant: -5}", "constant"),
    ("  completeness: Handoff_Completeness__c",
     "  completeness: {field: Handoff_Completeness__c, default: 101}", "default"),
])
def test_a_percentage_outside_0_to_100_is_refused(tmp_path: Path, old: str, new: str,
                                                  key: str) -> None:
    folder = edited(tmp_path, {"salesforce.yaml": [(old, new)]})
    [problem] = problems_of(folder)
    assert problem.path[-1] == key
    assert "is not a percentage: expected 0 to 100" in str(problem)
    assert "e.g. 15 for 15%" in str(problem)


def test_a_condition_on_a_percentage_must_be_a_percentage(tmp_path: Path) -> None:
    folder = edited(tmp_path, {"handoff.yaml": [
        ("- {field: partner_split_pct, label:",
         "- {field: partner_split_pct, check: {field: partner_split_pct, op: '<=', "
         "value: 150}, label:")]})
    [problem] = problems_of(folder)
    assert problem.path[-2:] == ("check", "value")
    assert "150 is not a percentage" in str(problem)


@pytest.mark.parametrize("duration", [
    "{business_days: 100000000}", "{business_days: 2700}", "{days: 3700}",
    "{hours: 1e300}", "{business_hours: 25000}", "{hours: .inf}",
])
def test_a_duration_over_ten_years_is_refused(tmp_path: Path, duration: str) -> None:
    folder = edited(tmp_path, {"handoff.yaml": [
        ("due: {business_days: 1}", f"due: {duration}")]})
    [problem] = problems_of(folder)
    assert problem.file.name == "handoff.yaml"
    assert problem.line == line_of(folder / "handoff.yaml", f"due: {duration}")
    assert "10 years" in str(problem)


def test_a_long_but_possible_duration_is_accepted(tmp_path: Path) -> None:
    # 2,500 working days of a Mon-Fri calendar is under 10 years (about 9.6).
    folder = edited(tmp_path, {"handoff.yaml": [
        ("due: {business_days: 1}", "due: {business_days: 2500}")]})
    mappings, problems = validate_mappings(folder)
    assert problems == [] and mappings is not None


def test_every_dangerous_entry_is_reported_in_one_run(tmp_path: Path) -> None:
    folder = edited(tmp_path, {
        "hubspot.yaml": [("economic_buyer: {field: economic_buyer, direction: both}",
                          "economic_buyer: {field: need, direction: both}")],
        "salesforce.yaml": [("  brief: Handoff_Brief__c", "  brief: Need__c"),
                            ("partner_split_pct: {field: Partner_Split_Pct__c, direction: "
                             "both, policy: crm_wins}",
                             "partner_split_pct: {field: Partner_Split_Pct__c, direction: "
                             "both, policy: crm_wins, default: -5}")],
        "handoff.yaml": [("due: {business_days: 1}", "due: {business_days: 100000000}")],
    })
    found = problems_of(folder)
    assert len(found) == 4, "\n".join(map(str, found))
    assert {p.file.name for p in found} == {"hubspot.yaml", "salesforce.yaml", "handoff.yaml"}
