"""handoff.yaml's routing: section as `mappings validate` sees it: each mistake an admin
can make names the file, the line and a hint; and `--live` finds emails that are no
active CRM user."""

import shutil
from pathlib import Path

import pytest

from handoff_sync.mapping.loader import validate_mappings
from handoff_sync.mapping.policy.routing_checks import routing_user_problems
from handoff_sync.model import Owner, OwnerDirectory
from handoff_sync.problems.yaml_source import read_yaml_file
from handoff_sync.testing.yaml_text import without_section

ROOT = Path(__file__).resolve().parents[2]
PACKS = {"hubspot-prm": ROOT / "mappings",
         "salesforce-prm": ROOT / "mappings" / "packs" / "salesforce-prm-hubspot-crm"}
ANCHOR = "  fallback_owner_email: revops@example.com\n"

# A routing section as an admin would write it; each test breaks one line of it.
ROUTING = """\
routing:
  fallback_owner: revops@example.com
  teams:
    emea_direct:
      members: [raj.johansson@vendor.example, andre.delgado@vendor.example]
      cap: 15
  rules:
    - name: NA territory
      when: {field: custom.region, op: ==, value: NA}
      owner: felix.patel@vendor.example
    - when: {field: custom.region, op: ==, value: EMEA}
      team: emea_direct
    - partner_ae: custom.channel_manager_email
"""


def pack_with_routing(tmp_path: Path, routing: str = ROUTING, pack: str = "hubspot-prm") -> Path:
    folder = tmp_path / "pack"
    folder.mkdir()
    for name in ("hubspot.yaml", "salesforce.yaml", "handoff.yaml"):
        shutil.copy(PACKS[pack] / name, folder / name)
    text = without_section((folder / "handoff.yaml").read_text(), "routing")
    assert ANCHOR in text
    (folder / "handoff.yaml").write_text(text.replace(ANCHOR, ANCHOR + "\n" + routing, 1))
    return folder


def line_of(file: Path, marker: str) -> int:
    return next(n for n, line in enumerate(file.read_text().splitlines(), 1) if marker in line)


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_a_well_formed_routing_section_validates_in_both_packs(tmp_path, pack):
    routing = ROUTING if pack == "hubspot-prm" else ROUTING.replace(
        "partner_ae: custom.channel_manager_email", "partner_ae: ae_email")
    mappings, problems = validate_mappings(pack_with_routing(tmp_path, routing, pack))
    assert problems == []
    assert mappings is not None and mappings.policy.routing is not None
    routing_model = mappings.policy.routing
    assert [r.owner or r.team or r.partner_ae for r in routing_model.rules] == [
        "felix.patel@vendor.example", "emea_direct",
        "custom.channel_manager_email" if pack == "hubspot-prm" else "ae_email"]
    assert routing_model.teams["emea_direct"].cap == 15


@pytest.mark.parametrize(("old", "new", "message", "hint"), [
    # a rule naming a team that is not defined
    ("      team: emea_direct", "      team: emea_drect",
     "no team 'emea_drect' under routing.teams", "did you mean 'emea_direct'?"),
    # a condition on a field that is not in the canonical catalogue
    ("      when: {field: custom.region, op: ==, value: NA}",
     "      when: {field: regon, op: ==, value: NA}",
     "unknown canonical field 'regon'", "docs/admin-guide.md"),
    # a custom field no mapping provides
    ("      when: {field: custom.region, op: ==, value: NA}",
     "      when: {field: custom.territory, op: ==, value: NA}",
     "no mapping provides 'custom.territory'", "hubspot.yaml or salesforce.yaml"),
    # a partner AE field no mapping provides
    ("    - partner_ae: custom.channel_manager_email", "    - partner_ae: custom.partner_ae",
     "no mapping provides 'custom.partner_ae'", "map it"),
    # a partner AE field that cannot hold an email
    ("    - partner_ae: custom.channel_manager_email", "    - partner_ae: amount",
     "'amount' is number; partner_ae names a field holding the AE's email", ""),
    # a cap of 0
    ("      cap: 15", "      cap: 0",
     "cap 0: every member of team 'emea_direct' would be at the cap", "at least 1"),
    # an empty team
    ("      members: [raj.johansson@vendor.example, andre.delgado@vendor.example]",
     "      members: []", "team 'emea_direct' has no members", "members: [ann@example.com]"),
    # a person listed twice
    ("      members: [raj.johansson@vendor.example, andre.delgado@vendor.example]",
     "      members: [raj.johansson@vendor.example, Raj.Johansson@vendor.example]",
     "raj.johansson@vendor.example is listed twice in team 'emea_direct'", "once"),
    # a rule that names nobody
    ("    - partner_ae: custom.channel_manager_email",
     "    - when: {field: custom.region, op: ==, value: APAC}",
     "routing rule 3 names nobody", "'owner', 'team' or 'partner_ae'"),
    # a rule that names two ways to route
    ("      owner: felix.patel@vendor.example",
     "      owner: felix.patel@vendor.example\n      team: emea_direct",
     "routing rule 1 gives 'owner' or 'team'", "one rule per kind"),
    # an owner that is not an email
    ("      owner: felix.patel@vendor.example", "      owner: felix.patel",
     "'felix.patel' is not an email address", "CRM user's email"),
    # a misspelt key
    ("      cap: 15", "      capp: 15", "unknown key 'capp'", "did you mean 'cap'?"),
])
def test_each_routing_mistake_names_file_line_and_hint(tmp_path, old, new, message, hint):
    folder = pack_with_routing(tmp_path, ROUTING.replace(old, new, 1))
    mappings, problems = validate_mappings(folder)
    assert mappings is None
    assert len(problems) == 1, "\n".join(map(str, problems))
    problem = problems[0]
    assert problem.file == folder / "handoff.yaml"
    assert problem.line == line_of(folder / "handoff.yaml", new.splitlines()[-1].strip())
    assert message in problem.message
    assert hint in problem.hint
    assert str(problem).startswith(f"{folder / 'handoff.yaml'}:{problem.line}:")


def test_a_broken_team_does_not_hide_a_broken_rule_nor_invent_an_unknown_team(tmp_path):
    # The team with a typo in a key is reported once; the rule naming it is not told
    # "no team", and an unrelated bad rule is still reported in the same run.
    routing = ROUTING.replace("      cap: 15", "      capp: 15").replace(
        "      owner: felix.patel@vendor.example", "      owner: felix.patel")
    _, problems = validate_mappings(pack_with_routing(tmp_path, routing))
    messages = sorted(p.message for p in problems)
    assert len(messages) == 2, messages
    assert "'felix.patel' is not an email address" in messages[0]
    assert "unknown key 'capp'" in messages[1]


def test_live_check_names_each_email_that_is_no_active_crm_user(tmp_path):
    folder = pack_with_routing(tmp_path)
    mappings, problems = validate_mappings(folder)
    assert problems == [] and mappings is not None and mappings.policy.routing is not None
    document, _ = read_yaml_file(folder / "handoff.yaml")
    assert document is not None
    owners = OwnerDirectory([
        Owner("005A", "revops@example.com"),
        Owner("005B", "felix.patel@vendor.example", active=False),  # deactivated
        Owner("005C", "raj.johansson@vendor.example"),
        Owner("005D", "andre.delgado@vendor.example"),
        Owner("005E", "andre.delgado@vendor.example"),  # two users, one email
    ])
    found = routing_user_problems(document, mappings.policy.routing, owners, "salesforce")
    handoff = folder / "handoff.yaml"
    assert [(p.line, p.message) for p in found] == [
        (line_of(handoff, "owner: felix.patel@vendor.example"),
         "no active salesforce user has the email felix.patel@vendor.example"),
        (line_of(handoff, "members: [raj.johansson"),
         "2 active salesforce users share the email andre.delgado@vendor.example; "
         "routing would guess"),
    ]
    assert all(p.file == handoff for p in found)
