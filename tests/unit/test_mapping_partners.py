"""The PRM file's partners: section: what each pack reads of its partner accounts, the
mistakes an admin can make in it (each named with file, line and a hint, never a
traceback), and a raw account record as the PartnerAccount the store and the report get.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.base import Owner, TaskTarget
from handoff_sync.mapping.loader import load_mappings, validate_mappings
from handoff_sync.mapping.system.partners import (
    is_partner,
    partner_task_target,
    partner_task_values,
    partner_task_write,
    to_partner,
)
from handoff_sync.model import (
    FieldType,
    OwnerDirectory,
    PartnerAccount,
    TaskPriority,
    TaskSpec,
    is_partner_field,
    partner_key,
)
from handoff_sync.problems.report import Problem

ROOT = Path(__file__).resolve().parents[2]
PACK_A = ROOT / "mappings"  # HubSpot PRM, Salesforce CRM
PACK_B = ROOT / "mappings" / "packs" / "salesforce-prm-hubspot-crm"
DUE = datetime(2026, 12, 9, 17, tzinfo=UTC)


def without_readiness(folder: Path) -> None:
    """Drop handoff.yaml's measures.readiness, which scores partner fields and writes
    training tasks: for tests of a pack whose partners section is gone or cut down."""
    policy = folder / "handoff.yaml"
    text = policy.read_text()
    start = text.index("\n  readiness:\n") + 1
    after = re.search(r"^  [^\s#]", text[start + 1:], flags=re.MULTILINE)
    end = start + 1 + after.start() if after else len(text)
    policy.write_text(text[:start] + text[end:])


def edited(tmp_path: Path, pack: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(pack, folder)
    text = (folder / file).read_text()
    assert old in text, f"{old!r} not in {file}"
    (folder / file).write_text(text.replace(old, new, 1))
    return folder


def line_of(file: Path, marker: str) -> int:
    return next(n for n, line in enumerate(file.read_text().splitlines(), 1) if marker in line)


def only_problem(folder: Path) -> Problem:
    mappings, problems = validate_mappings(folder)
    assert mappings is None
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def test_both_packs_read_partner_capabilities_from_their_prm() -> None:
    expected = {"partner.tier": FieldType.TEXT, "partner.technical_conversations":
                FieldType.TEXT, "partner.approval_navigation": FieldType.TEXT,
                "partner.certified_engineers": FieldType.INTEGER}
    for pack, obj, scope in ((PACK_A, "companies", {"type": "PARTNER"}),
                             (PACK_B, "Account", {"Type": "Partner"})):
        mappings = load_mappings(pack)
        partners = mappings.prm.partners
        assert partners is not None and mappings.crm.partners is None
        assert (partners.object, dict(partners.scope)) == (obj, scope)
        assert {name: rule.type for name, rule in partners.fields.items()} == expected
        assert partners.owner is not None and partners.owner.transform.name == "owner_email"
        # Every partner field name is a partner.<name>; the values are the same ids in
        # both packs, whatever each system calls them.
        assert all(is_partner_field(name) for name in partners.fields)
        assert sorted(partners.fields["partner.approval_navigation"].values.values()) == [
            "assisted", "independent", "vendor_led"]


# Each mistake: the file, what is written, what is written instead, the message and hint.
@pytest.mark.parametrize(("pack", "file", "old", "new", "message", "hint"), [
    (PACK_A, "hubspot.yaml", "    partner.certified_engineers: {field",
     "    certified_engineers: {field", "'certified_engineers' is not a partner field name",
     "partner fields are written 'partner.<name>'"),
    (PACK_A, "hubspot.yaml", "    partner.certified_engineers: {field",
     "    partner.Certified: {field", "'partner.Certified' is not a partner field name",
     "lower-case"),
    (PACK_B, "salesforce.yaml", "{field: Certified_Engineers__c, transform: integer}",
     "{field: Certified_Engineers__c, transform: integer, direction: both}",
     "partner accounts are only read; handoff-sync never writes them", "remove 'direction'"),
    (PACK_B, "salesforce.yaml", "{field: Certified_Engineers__c, transform: integer}",
     "{field: Certified_Engineers__c, transform: integer, policy: prm_wins}",
     "a field that is only read needs no conflict policy", "remove 'policy'"),
    (PACK_B, "salesforce.yaml", "{field: Certified_Engineers__c, transform: integer}",
     "{field: Certified_Engineers__c, transform: integr}", "expected 'text'",
     "did you mean 'integer'?"),
    (PACK_B, "salesforce.yaml", "owner: {field: OwnerId, transform: owner_email}",
     "owner: {field: OwnerId, transform: integer}",
     "transform 'integer' produces integer, but this field holds email", "use 'email' or"),
    (PACK_A, "hubspot.yaml", "      values: {vendor_led: vendor_led,",
     "      values: {vendor_led: 12,", "not a valid text: expected text, got 12; put it "
     "in quotes", ""),
    (PACK_A, "hubspot.yaml", "  task_link: {association_type_id: 192}",
     "  task_link: {association_type_id: 192, field: WhatId}",
     "give exactly one of 'field' or 'association_type_id'", ""),
    (PACK_B, "salesforce.yaml", "  task_link: {field: WhatId}",
     "  task_link: {field: Handoff_Task_Key__c}", "Handoff_Task_Key__c holds the task key",
     "WhatId"),
    (PACK_A, "hubspot.yaml", "  scope:\n    type: PARTNER", "  scop:\n    type: PARTNER",
     "unknown key 'scop'", "did you mean 'scope'?"),
    (PACK_B, "salesforce.yaml", "  modified_field: SystemModstamp\n  scope:\n    Type: Partner",
     "  modified_field: ''\n  scope:\n    Type: Partner", "'modified_field' is empty", ""),
])
def test_each_partners_mistake_names_file_line_and_hint(
        tmp_path: Path, pack: Path, file: str, old: str, new: str, message: str,
        hint: str) -> None:
    folder = edited(tmp_path, pack, file, old, new)
    problem = only_problem(folder)
    assert problem.file == folder / file
    assert problem.line == line_of(folder / file, new.splitlines()[0].strip())
    assert message in problem.message, problem
    assert hint in problem.hint, problem


def test_a_partners_section_in_the_crm_file_is_refused(tmp_path: Path) -> None:
    prm = (PACK_A / "hubspot.yaml").read_text()
    section = prm[prm.index("\npartners:\n"):]
    folder = edited(tmp_path, PACK_A, "hubspot.yaml", section, "\n")
    without_readiness(folder)  # it scores fields of the partners section moved away
    crm = folder / "salesforce.yaml"
    crm.write_text(crm.read_text() + section)
    problem = only_problem(folder)
    assert (problem.file, problem.line) == (crm, line_of(crm, "partners:"))
    assert problem.message == ("partner accounts are read from the PRM; this file is the "
                               "CRM side")
    assert problem.hint == "move the partners section to the prm file"


def test_a_task_link_needs_the_prm_tasks_section(tmp_path: Path) -> None:
    text = (PACK_A / "hubspot.yaml").read_text()
    tasks = text[text.index("\ntasks:\n"):text.index("\n# Partner companies")]
    folder = edited(tmp_path, PACK_A, "hubspot.yaml", tasks, "\n")
    # handoff.yaml's side: prm tasks need that section too; make them CRM tasks.
    policy = folder / "handoff.yaml"
    policy.write_text(policy.read_text().replace("side: prm", "side: crm"))
    problem = only_problem(folder)
    assert problem.line == line_of(folder / "hubspot.yaml", "task_link:")
    assert "tasks for partners are written with this file's tasks: section" in problem.message
    assert "add a tasks: section" in problem.hint


def test_partners_need_deals_that_name_their_partner(tmp_path: Path) -> None:
    folder = edited(tmp_path, PACK_A, "hubspot.yaml", "  partner_account: partner_account_name\n",
                    "")
    assert "partner_account:" not in (folder / "salesforce.yaml").read_text()
    # handoff.yaml's templates that name the partner say so too; this is the partners' one.
    [problem] = [p for p in validate_mappings(folder)[1] if p.file.name == "hubspot.yaml"]
    assert problem.line == line_of(folder / "hubspot.yaml", "name_field: name")
    assert "no system file maps" in problem.message
    assert problem.hint.startswith("map partner_account in")


def hubspot_company(**changes: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "hs_object_id": "9001", "name": "  Brightpath Partners ", "type": "PARTNER",
        "hubspot_owner_id": "77", "partner_tier": "gold",
        "technical_conversations": "proficient", "approval_navigation": "assisted",
        "certified_engineers": "4", "hs_lastmodifieddate": "2026-11-30T10:00:00Z"}
    raw.update(changes)
    return raw


OWNERS = OwnerDirectory([Owner("77", "ines.cm@vendor.example")])


def test_an_account_record_becomes_a_partner_account() -> None:
    rules = load_mappings(PACK_A).prm.partners
    assert rules is not None
    account, issues = to_partner(rules, "9001", hubspot_company(), OWNERS)
    assert issues == ()
    assert account == PartnerAccount("9001", "Brightpath Partners", "ines.cm@vendor.example", {
        "partner.tier": "gold", "partner.technical_conversations": "proficient",
        "partner.approval_navigation": "assisted", "partner.certified_engineers": 4})
    assert is_partner(rules, hubspot_company())
    assert not is_partner(rules, hubspot_company(type="PROSPECT"))
    assert partner_key(account.name) == partner_key("brightpath  PARTNERS")


def test_values_that_cannot_be_read_are_blank_and_said() -> None:
    rules = load_mappings(PACK_A).prm.partners
    assert rules is not None
    account, issues = to_partner(rules, "9001", hubspot_company(
        technical_conversations="guru", certified_engineers="lots", hubspot_owner_id="404",
        approval_navigation=None), OWNERS)
    assert account.owner_email is None
    assert account.values == {"partner.tier": "gold", "partner.technical_conversations": None,
                              "partner.approval_navigation": None,
                              "partner.certified_engineers": None}
    assert [str(issue).split(":")[0] for issue in issues] == [
        "hubspot_owner_id -> owner", "technical_conversations -> partner.technical_conversations",
        "certified_engineers -> partner.certified_engineers"]


def training_task(account_id: str) -> TaskSpec:
    return TaskSpec(key="readiness:9001:technical", kind="partner_training", crm_id=account_id,
                    subject="Train Brightpath on technical conversations", body="Why: ...",
                    assignee_email="ines.cm@vendor.example", due_at=DUE,
                    priority=TaskPriority.NORMAL)


def test_a_task_on_a_hubspot_partner_is_associated_with_the_company() -> None:
    prm = load_mappings(PACK_A).prm
    assert partner_task_target(prm) == TaskTarget("tasks", "handoff_task_key", None, 192,
                                                  "companies")
    write, issues = partner_task_write(prm, training_task("9001"), OWNERS)
    assert issues == () and write.deal_id == "9001"
    assert write.fields["hubspot_owner_id"] == "77"
    assert write.fields["handoff_task_key"] == "readiness:9001:technical"


def test_a_task_on_a_salesforce_partner_names_the_account_in_what_id() -> None:
    prm = load_mappings(PACK_B).prm
    assert partner_task_target(prm) == TaskTarget("Task", "Handoff_Task_Key__c", "WhatId",
                                                  None, "Account")
    owners = OwnerDirectory([Owner("005000000000001AAA", "ines.cm@vendor.example")])
    values = partner_task_values(prm, training_task("001000000000009AAA"), owners)
    assert values.issues == ()
    assert values.values["WhatId"] == "001000000000009AAA"
    assert values.values["OwnerId"] == "005000000000001AAA"


def test_no_target_without_a_partners_section_or_task_link(tmp_path: Path) -> None:
    assert partner_task_target(load_mappings(PACK_A).crm) is None
    folder = edited(tmp_path, PACK_A, "hubspot.yaml",
                    "  task_link: {association_type_id: 192}    # task -> company "
                    "(HubSpot-defined)", "")
    without_readiness(folder)  # its training tasks need the task_link removed here
    assert partner_task_target(load_mappings(folder).prm) is None
