"""One run of the loader lists the structural problems of one file together with the
problems between the others, each at its file and line; a part that did not load never
causes a second, false problem elsewhere (issue 21, point 3).

Every test edits a copy of the shipped mappings/ folder in tmp_path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handoff_sync.mapping.loader import validate_mappings
from handoff_sync.problems.report import Problem

PACK = Path(__file__).resolve().parents[2] / "mappings"

# A gate naming a canonical field neither system file maps: a problem between files.
UNMAPPED_GATE = ("handoff.yaml", "- {field: commitments, label:",
                 "- {field: custom.kickoff_at, label:")
# A value map naming a stage handoff.yaml does not define: a problem between files.
UNKNOWN_STAGE = ("salesforce.yaml", "2 Joint Discovery: joint_discovery",
                 "2 Joint Discovery: joint_discovry")

Edit = tuple[str, str, str]


def pack_copy(tmp_path: Path, *edits: Edit) -> Path:
    folder = tmp_path / "mappings"
    shutil.copytree(PACK, folder, ignore=shutil.ignore_patterns("packs"))
    for file, old, new in edits:
        text = (folder / file).read_text()
        assert old in text, f"{old!r} not in {file}"
        (folder / file).write_text(text.replace(old, new, 1))
    return folder


def line_of(file: Path, marker: str) -> int:
    return next(n for n, line in enumerate(file.read_text().splitlines(), 1) if marker in line)


def problems_of(folder: Path) -> list[Problem]:
    mappings, problems = validate_mappings(folder)
    assert mappings is None and problems
    return problems


def where(folder: Path, problems: list[Problem]) -> list[tuple[str, int, str]]:
    return [(p.file.relative_to(folder).as_posix(), p.line, p.message) for p in problems]


@pytest.mark.parametrize(("structural", "at"), [
    # a top-level key of the wrong type: the file used to drop out of every check
    (("hubspot.yaml", "modified_field: hs_lastmodifieddate",
      "modified_field: [hs_lastmodifieddate]"), "modified_field:"),
    # a nested model's own rule (one of field / association_type_id)
    (("salesforce.yaml", "deal_link: {field: WhatId}",
      "deal_link: {field: WhatId, association_type_id: 216}"), "deal_link:"),
    # a required top-level key missing (reported where the file's keys start)
    (("salesforce.yaml", "object: Opportunity\n", ""), "version: 1"),
    # handoff.yaml's own top-level section out of range
    (("handoff.yaml", "fuzzy_min_score: 85", "fuzzy_min_score: 850"), "fuzzy_min_score:"),
])
def test_a_structural_problem_and_problems_between_files_in_one_run(tmp_path, structural, at):
    folder = pack_copy(tmp_path, structural, UNMAPPED_GATE, UNKNOWN_STAGE)
    problems = problems_of(folder)
    file = structural[0]
    expected = line_of(folder / file, at)
    found = where(folder, problems)
    assert len(found) == 3, "\n".join(map(str, problems))
    assert any(f == file and line == expected for f, line, _ in found)
    assert ("handoff.yaml", line_of(folder / "handoff.yaml", "custom.kickoff_at"),
            "no mapping provides 'custom.kickoff_at'") in found
    assert ("salesforce.yaml", line_of(folder / "salesforce.yaml", "joint_discovry"),
            "'joint_discovry' is not a stage id in handoff.yaml") in found
    assert problems == sorted(problems, key=lambda p: p.sort_key)
    assert all(str(p).startswith(f"{p.file}:{p.line}:{p.column}: ") for p in problems)


@pytest.mark.parametrize(("edit", "message"), [
    # the only entry mapping cs_owner_email has a misspelt key: the gates on it and the
    # cs_owner role (stage owner, task assignee) say nothing
    (("salesforce.yaml", "cs_owner_email: {field: CS_Owner__c, transform: owner_email}",
      "cs_owner_email: {field: CS_Owner__c, transfrom: owner_email}"), "unknown key 'transfrom'"),
    # the same entry, wrong in meaning rather than structure
    (("salesforce.yaml", "cs_owner_email: {field: CS_Owner__c, transform: owner_email}",
      "cs_owner_email: {field: CS_Owner__c, transform: number}"), "transform 'number' produces"),
    # the file mapping registration_status (used by a gate check) cannot be read at all
    (("hubspot.yaml", "role: prm", "role: prm\n  object: [deals\n"), "YAML syntax error"),
    # a stage with a misspelt owner: the value maps naming its type and id stay quiet
    (("handoff.yaml", "owner: cs_owner\n", "owner: cs_ownr\n"), "expected 'prm_owner'"),
    # a stage whose id is unreadable: tasks and clocks naming it stay quiet
    (("handoff.yaml", "- id: joint_discovery", "- id: [joint_discovery]"), "expected text"),
    # the record's own id and a task attribute with a misspelt key: not "missing"
    (("salesforce.yaml", "crm_id: Id", "crm_id: {field: Id, polcy: crm_wins}"),
     "unknown key 'polcy'"),
    (("salesforce.yaml", "subject: Subject", "subject: {field: Subject, transfrom: text}"),
     "unknown key 'transfrom'"),
])
def test_a_typo_where_something_is_defined_causes_no_problem_where_it_is_used(
        tmp_path, edit, message):
    folder = pack_copy(tmp_path, edit)
    problems = problems_of(folder)
    assert len(problems) == 1, "\n".join(map(str, problems))
    assert problems[0].file == folder / edit[0] and message in problems[0].message


def test_a_misspelt_role_still_checks_the_file_against_handoff_yaml(tmp_path):
    folder = pack_copy(tmp_path, ("salesforce.yaml", "role: crm", "role: crn"), UNMAPPED_GATE)
    found = where(folder, problems_of(folder))
    assert [(f, m.split(",")[0]) for f, _, m in found] == [
        ("handoff.yaml", "no mapping provides 'custom.kickoff_at'"),
        ("salesforce.yaml", "expected 'prm' or 'crm'")]


def test_an_unreadable_system_file_is_not_reported_as_a_missing_side(tmp_path):
    folder = pack_copy(tmp_path, ("salesforce.yaml", "role: crm", "role: crm\n  x: [\n"),
                       ("handoff.yaml", "- {field: commitments, label:",
                        "- {field: commitmints, label:"))
    found = where(folder, problems_of(folder))
    assert [(f, m.split(":")[0]) for f, _, m in found] == [
        ("handoff.yaml", "unknown canonical field 'commitmints'"),
        ("salesforce.yaml", "YAML syntax error")]


def test_a_stage_with_a_broken_key_keeps_its_gate_checked(tmp_path):
    folder = pack_copy(tmp_path, ("handoff.yaml", "owner: cs_owner\n", "owner: cs_ownr\n"),
                       ("handoff.yaml", "- {field: commitments, label:",
                        "- {field: commitmints, label:"),
                       ("handoff.yaml", "Complete the CS handoff for {deal_name}",
                        "Complete the CS handoff for {deal_nme}"))
    handoff = folder / "handoff.yaml"
    assert [(line, message.split(" (")[0]) for _, line, message in
            where(folder, problems_of(folder))] == [
        (line_of(handoff, "cs_ownr"), "expected 'prm_owner', 'crm_owner', 'cs_owner' or "
                                      "'manager', got the text 'cs_ownr'"),
        (line_of(handoff, "commitmints"), "unknown canonical field 'commitmints'"),
        (line_of(handoff, "{deal_nme}"), "unknown placeholder {deal_nme}")]


def test_problems_after_items_that_did_not_load_point_at_their_own_lines(tmp_path):
    """The second stage cannot load (its id); a gate of the third, and the second and
    fourth requirements of one gate whose first and third are broken, are reported at the
    lines they are on, not at the lines of the items that dropped out before them."""
    folder = pack_copy(
        tmp_path, ("handoff.yaml", "- id: joint_discovery", "- id: [joint_discovery]"),
        ("handoff.yaml", "          - field: stakeholder_map\n            label: \"Stakeholder",
         "          - field: stakeholdr_map\n            label: \"Stakeholder"),
        ("handoff.yaml", "- {field: budget, label: \"Budget confirmed (BANT)\", weight: 2}",
         "- {field: budget, label: \"Budget confirmed (BANT)\", weight: -2}"),
        ("handoff.yaml", "- {field: need, label:", "- {field: ned, label:"),
        ("handoff.yaml", "- {field: decision_date, label:",
         "- {field: decision_date, weight: lots, label:"),
        ("handoff.yaml", "- {field: decision_process, label:",
         "- {field: decision_proces, label:"))
    handoff = folder / "handoff.yaml"
    found = [(line, message.split(" (")[0]) for _, line, message in
             where(folder, problems_of(folder))]
    assert found == sorted([
        (line_of(handoff, "[joint_discovery]"), "expected text, got a list"),
        (line_of(handoff, "stakeholdr_map"), "unknown canonical field 'stakeholdr_map'"),
        (line_of(handoff, "weight: -2"), "must be greater than 0, got the number -2"),
        (line_of(handoff, "field: ned"), "unknown canonical field 'ned'"),
        (line_of(handoff, "weight: lots"), "expected a number, got the text 'lots'"),
        (line_of(handoff, "decision_proces,"), "unknown canonical field 'decision_proces'"),
    ])


def test_a_folder_with_no_system_file_says_both_sides_are_missing(tmp_path):
    folder = tmp_path / "mappings"
    folder.mkdir()
    shutil.copy(PACK / "handoff.yaml", folder / "handoff.yaml")
    messages = [p.message for p in problems_of(folder)]
    assert "no system file has role 'prm'" in messages
    assert "no system file has role 'crm'" in messages


@pytest.mark.parametrize("pack", [PACK, PACK / "packs" / "salesforce-prm-hubspot-crm"])
def test_the_shipped_packs_validate(pack):
    mappings, problems = validate_mappings(pack)
    assert problems == [] and mappings is not None
