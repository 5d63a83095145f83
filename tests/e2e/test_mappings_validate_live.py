"""`handoff-sync mappings validate --live` as an admin runs it, against the sandbox.

The command reads the daemon config, describes each mapped object through the real
connectors (Salesforce describe, HubSpot properties and pipelines) and reports every field
the org lacks, every read-only field written and every picklist value a value map lacks,
with file:line:column, in one run; an unreachable system is one clear line, no traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handoff_sync.cli.main import main
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.testing.yaml_text import without_section
from tests.e2e.sync_support import REPO, configured_sandbox


@pytest.fixture
def config(sandbox: SandboxServer, tmp_path: Path) -> Path:
    return configured_sandbox(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/v.db",
                              deals=10, partners=2)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--log-level", "error", "mappings", "validate", *argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out + err


def edited_pack(tmp_path: Path, edits: dict[str, list[tuple[str, str]]]) -> Path:
    folder = tmp_path / "edited"
    shutil.copytree(REPO / "mappings", folder, ignore=shutil.ignore_patterns("packs"))
    # The pack's routing names the demo org's people, whom the small org of these tests
    # lacks (see test_the_default_mappings_pass_...); tests bring their own, if any.
    policy = folder / "handoff.yaml"
    policy.write_text(without_section(policy.read_text(), "routing"))
    for file, changes in edits.items():
        text = (folder / file).read_text()
        for old, new in changes:
            assert old in text, f"{old!r} not in {file}"
            text = text.replace(old, new, 1)
        (folder / file).write_text(text)
    return folder


def line_of(file: Path, marker: str) -> int:
    return next(n for n, line in enumerate(file.read_text().splitlines(), 1) if marker in line)


def test_the_default_mappings_pass_against_the_live_systems(
        sandbox: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The org `handoff-sync sandbox` and the demo seed by default: the shipped routing
    # names its people, so every email in it must be an active user there.
    config = configured_sandbox(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/v.db",
                                deals=500, partners=12, random_seed=42)
    code, out = run(capsys, "--live", "--config", str(config))
    assert code == 0, out
    assert "mappings OK" in out and "live: pipeline partners" in out


def test_every_disagreement_with_the_live_describe_is_reported_at_once(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = edited_pack(tmp_path, {
        "salesforce.yaml": [
            ("need: {field: Need__c,", "need: {field: Needs__c,"),  # the org has no such field
            ("  last_synced: Handoff_Last_Synced__c", "  last_synced: SystemModstamp"),
            ("      5 Partnership Preservation: partnership_preservation\n", ""),
        ],
        "hubspot.yaml": [('      "9004457": closed_lost\n', "")],  # a stage the map misses
    })
    code, out = run(capsys, "--live", "--config", str(config), "--mappings", str(folder))
    assert code == 1
    sf, hs = folder / "salesforce.yaml", folder / "hubspot.yaml"
    expected = [
        f"{sf}:{line_of(sf, 'need: {field: Needs__c')}:",
        "Opportunity has no field 'Needs__c' (did you mean 'Need__c'?)",
        f"{sf}:{line_of(sf, 'last_synced: SystemModstamp')}:",
        "Opportunity.SystemModstamp is read-only in Opportunity; handoff-sync would write it",
        f"{sf}:{line_of(sf, '1 Pre-Handoff Assessment')}:",
        "fields.handoff_stage.values: Opportunity.Handoff_Stage__c has the value "
        "'5 Partnership Preservation', which the value map lacks",
        f"{hs}:{line_of(hs, '9004452')}:",
        "fields.registration_status.values: deals.dealstage has the value '9004457'",
        "5 problems in 2 files",  # SystemModstamp also cannot be blank
    ]
    for text in expected:
        assert text in out, f"{text!r} not in:\n{out}"


def test_a_system_it_cannot_reach_is_one_clear_line(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = config.parent / "secrets" / "hubspot-access-token"
    token.write_text("pat-na1-00000000-0000-0000-0000-000000000000\n")
    code, out = run(capsys, "--live", "--config", str(config))
    assert code == 1
    assert "cannot describe hubspot.yaml's objects through hubspot connection 'prm' at " in out
    assert "HubSpot refused the credentials" in out
    token_line = next(n for n, line in enumerate(config.read_text().splitlines(), 1)
                      if "access_token:" in line)
    assert (f"is the secret in {token} current? check connections.prm.access_token in "
            f"{config}:{token_line}") in out
    assert "pat-na1-0000" not in out
    assert "mappings OK" not in out


def test_a_host_name_that_does_not_resolve_is_one_line_naming_the_setting(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = config.read_text().splitlines()
    line_no = next(n for n, line in enumerate(lines, 1)
                   if line.strip().startswith('host: "https'))  # the PRM's, not server's
    lines[line_no - 1] = '    host: "https://prm.example.invalid"'
    config.write_text("\n".join(lines) + "\n")
    code, out = run(capsys, "--live", "--config", str(config))
    assert code == 1 and "mappings OK" not in out
    [line] = [text for text in out.splitlines() if "cannot describe" in text]
    assert line == (
        "pipeline partners: cannot describe hubspot.yaml's objects through hubspot "
        "connection 'prm': could not connect to HubSpot at prm.example.invalid:443 for "
        "properties of deals: the host name does not resolve (DNS); is the host name right? "
        f"check connections.prm.host in {config}:{line_no}")


def test_live_without_a_config_says_what_it_needs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--live", "--config", str(tmp_path / "none.yaml"))
    assert code == 1
    assert "none.yaml not found" in out and "--live needs the daemon config" in out


def test_routing_emails_that_are_no_active_crm_user_are_named_at_their_line(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The sandbox's Salesforce (the CRM of the default pack) has the RevOps user; nobody
    # there is called dana.typo, and the routing names her twice.
    anchor = "  fallback_owner_email: revops@example.com\n"
    folder = edited_pack(tmp_path, {"handoff.yaml": [(anchor, anchor + (
        "routing:\n"
        "  fallback_owner: revops@example.com\n"
        "  teams:\n"
        "    emea_direct: {members: [revops@example.com, dana.typo@vendor.example], cap: 5}\n"
        "  rules:\n"
        "    - when: {field: custom.region, op: ==, value: EMEA}\n"
        "      owner: dana.typo@vendor.example\n"
        "    - team: emea_direct\n"))]})
    code, out = run(capsys, "--live", "--config", str(config), "--mappings", str(folder))
    assert code == 1
    handoff = folder / "handoff.yaml"
    for marker in ("owner: dana.typo", "emea_direct: {members:"):
        assert (f"{handoff}:{line_of(handoff, marker)}:" in out
                and "no active salesforce user has the email dana.typo@vendor.example"
                in out), out
    assert "2 problems in 1 file" in out
    assert "revops@example.com" not in out.replace(str(handoff), "")


def test_a_create_section_the_crm_cannot_take_is_named_at_its_lines(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 16 (1): the key field, a default and the account lookup of create: are
    checked against the Opportunity's describe."""
    folder = edited_pack(tmp_path, {"salesforce.yaml": [
        ("external_id_field: Handoff_Create_Key__c", "external_id_field: Handoff_Key__c"),
        ("    StageName: Prospecting", "    StageName: Prospect"),
        ("    link_field: AccountId", "    link_field: IsWon")]})
    code, out = run(capsys, "--live", "--config", str(config), "--mappings", str(folder))
    assert code == 1
    sf = folder / "salesforce.yaml"
    for text in (f"{sf}:{line_of(sf, 'external_id_field: Handoff_Key__c')}:",
                 "Opportunity has no field 'Handoff_Key__c'",
                 f"{sf}:{line_of(sf, 'StageName: Prospect')}:",
                 "Opportunity.StageName has no value 'Prospect' (did you mean 'Prospecting'?)",
                 f"{sf}:{line_of(sf, 'link_field: IsWon')}:",
                 "Opportunity.IsWon cannot be set when a record is created",
                 "3 problems in 1 file"):
        assert text in out, f"{text!r} not in:\n{out}"


def test_a_create_key_field_that_is_not_unique_is_named_at_its_line(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Creating twice finds the first record only because the key field is unique (a
    Salesforce External ID marked Unique): a field that is not would let two racing
    creations (two replicas, a retried lost reply) make two opportunities."""
    folder = edited_pack(tmp_path, {"salesforce.yaml": [
        ("external_id_field: Handoff_Create_Key__c", "external_id_field: Partner_Feedback__c"),
        ("  partner_feedback: {field: Partner_Feedback__c, direction: both, "
         "policy: prm_wins}\n", "")]})
    code, out = run(capsys, "--live", "--config", str(config), "--mappings", str(folder))
    assert code == 1
    sf = folder / "salesforce.yaml"
    for text in (f"{sf}:{line_of(sf, 'external_id_field: Partner_Feedback__c')}:",
                 "Opportunity.Partner_Feedback__c is not a unique key"):
        assert text in out, f"{text!r} not in:\n{out}"


def test_the_partners_section_is_checked_against_the_partner_account_object(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = edited_pack(tmp_path, {"hubspot.yaml": [
        # a property the portal's companies lack, a scope value the type property lacks,
        # and an option of technical_conversations the value map forgets
        ("partner.certified_engineers: {field: certified_engineers,",
         "partner.certified_engineers: {field: certified_engineer,"),
        ("    type: PARTNER ", "    type: PARTNERS "),
        ("proficient: proficient,\n               expert: expert}", "proficient: proficient}"),
    ], "handoff.yaml": [
        # (the readiness scale follows the value map, so only the live check objects)
        ("proficient: 75, expert: 100}", "proficient: 75}"),
    ]})
    code, out = run(capsys, "--live", "--config", str(config), "--mappings", str(folder))
    assert code == 1
    hs = folder / "hubspot.yaml"
    for marker, message in [
        ("    type: PARTNERS", "partners.scope.type: companies.type has no value 'PARTNERS', "
         "so no account would be a partner (did you mean 'PARTNER'?)"),
        ("{field: certified_engineer,", "partners.fields.'partner.certified_engineers'.field: "
         "companies has no field 'certified_engineer' (did you mean 'certified_engineers'?)"),
        ("      values: {needs_support: needs_support", "partners.fields.'partner.technical_"
         "conversations'.values: companies.technical_conversations has the value 'expert', "
         "which the value map lacks; records holding it could not be read"),
    ]:
        assert f"{hs}:{line_of(hs, marker)}:" in out and message in out, (message, out)
    assert "3 problems in 1 file" in out
