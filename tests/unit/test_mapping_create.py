"""Mistakes in how opportunities are created (handoff.yaml creation:, a CRM file's create:):
each is one problem naming the file and line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff_sync.mapping.loader import validate_mappings
from tests.unit.test_mapping_errors import edited_pack, line_of, only_problem

CREATE_SECTION = """create:
  external_id_field: Handoff_Create_Key__c
  defaults:                                          # written on every created Opportunity
    StageName: Prospecting
    LeadSource: Partner Referral
  account:
    object: Account
    name_field: Name
    domain_field: Website
    link_field: AccountId                            # the Opportunity's Account lookup
"""


def test_the_shipped_packs_create_and_validate() -> None:
    root = Path(__file__).resolve().parents[2] / "mappings"
    for folder in (root, root / "packs" / "salesforce-prm-hubspot-crm"):
        mappings, problems = validate_mappings(folder)
        assert problems == [] and mappings is not None
        assert mappings.policy.creation is not None and mappings.crm.create is not None


def test_creation_without_a_create_section_in_the_crm_file(tmp_path: Path) -> None:
    folder = edited_pack(tmp_path, "salesforce.yaml", CREATE_SECTION, "")
    problem = only_problem(folder)
    assert problem.file.name == "handoff.yaml"
    assert problem.line == line_of(folder / "handoff.yaml", "creation:")
    assert "salesforce.yaml (the CRM side) has no create: section" in problem.message


@pytest.mark.parametrize(("file", "old", "new", "marker", "message"), [
    ("salesforce.yaml", "external_id_field: Handoff_Create_Key__c",
     "external_id_field: Partner_Registration_Id__c", "external_id_field:",
     "'Partner_Registration_Id__c' is mapped to 'prm_id'"),
    ("salesforce.yaml", "  account:\n    object: Account",
     "  account:\n    association_type_id: 5\n    object: Account", "account:",
     "exactly one of 'link_field' or 'association_type_id'"),
    ("salesforce.yaml", "  external_id_field: Handoff_Create_Key__c\n",
     "  external_id_fields: Handoff_Create_Key__c\n", "external_id_fields:",
     "unknown key 'external_id_fields'"),
    ("handoff.yaml", "  when: {field: registration_status, op: in,",
     "  when: {field: registration_stat, op: in,", "registration_stat",
     "unknown canonical field 'registration_stat'"),
])
def test_a_mistake_in_creation_names_file_and_line(tmp_path: Path, file: str, old: str,
                                                   new: str, marker: str, message: str) -> None:
    folder = edited_pack(tmp_path, file, old, new)
    mappings, problems = validate_mappings(folder)
    assert mappings is None
    [problem] = [p for p in problems if message in p.message] or [problems]
    assert problem.file.name == file
    assert abs(problem.line - line_of(folder / file, marker)) <= 1, str(problem)
    # A section that did not load is not also reported missing.
    assert not any("no create: section" in p.message for p in problems)


def test_a_create_section_on_the_prm_side(tmp_path: Path) -> None:
    folder = edited_pack(tmp_path, "hubspot.yaml", "# The partner sees the gate verdict",
                         "create:\n  external_id_field: handoff_create_key\n\n"
                         "# The partner sees the gate verdict")
    problem = only_problem(folder)
    assert problem.file.name == "hubspot.yaml"
    assert problem.line == line_of(folder / "hubspot.yaml", "create:")
    assert "created in the CRM; this file is the PRM side" in problem.message


def test_a_default_outside_the_scope_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "pack"
    root = Path(__file__).resolve().parents[2] / "mappings" / "packs" / \
        "salesforce-prm-hubspot-crm"
    folder.mkdir()
    for name in ("hubspot.yaml", "salesforce.yaml", "handoff.yaml"):
        text = (root / name).read_text()
        if name == "hubspot.yaml":
            text = text.replace("    dealstage: appointmentscheduled\n",
                                "    dealstage: appointmentscheduled\n    pipeline: '9004451'\n")
        (folder / name).write_text(text)
    problem = only_problem(folder)
    assert problem.file.name == "hubspot.yaml"
    assert "outside this mapping's scope (pipeline: default)" in problem.message
