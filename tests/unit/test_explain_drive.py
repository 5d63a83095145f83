"""`mappings explain` says what the daemon would do with the record (issue 16, point 6):
the stage autopilot, the open tasks and their side, creation and routing, acceptance."""

import argparse
import json
from pathlib import Path

from handoff_sync.cli.mappings import add_mappings_command

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-20T09:00:00Z"

# An approved HubSpot registration (the default pack's PRM side) that names no opportunity.
REGISTRATION = {
    "hs_object_id": "501", "pipeline": "9004451", "dealname": "Acme data platform",
    "dealstage": "9004453", "amount": "150000", "closedate": "2027-01-15",
    "customer_account_name": "Acme Corp", "customer_domain": "acme.example",
    "region": "EMEA", "partner_account_name": "Bluebird",
    "partner_rep_email": "pat@bluebird.example",
    "hs_date_entered_9004453": "2026-11-16T09:00:00Z",
    "hs_lastmodifieddate": "2026-11-18T10:00:00Z"}

# A Salesforce opportunity (the CRM side) the AE rejected.
REJECTED = {
    "attributes": {"type": "Opportunity"}, "Id": "006A1", "Name": "Acme data platform",
    "Partner_Registration_Id__c": "501", "Amount": 150000, "CloseDate": "2027-01-15",
    "StageName": "Prospecting", "IsClosed": False, "IsWon": False, "OwnerId": "u1",
    "Partner_Rep_Email__c": "pat@bluebird.example", "Handoff_Type__c": "Partner to Direct",
    "Handoff_Stage__c": "2 Joint Discovery",
    "Handoff_Stage_Entered__c": "2026-11-18T09:00:00Z", "Handoff_Acceptance__c": "Rejected",
    "Handoff_Rejection_Reason__c": "No economic buyer named", "Region__c": "EMEA",
    "SystemModstamp": "2026-11-19T10:00:00Z"}

OWNERS = [{"id": "u1", "email": "raj.johansson@vendor.example"},
          {"id": "u2", "email": "andre.delgado@vendor.example"},
          {"id": "u3", "email": "revops@example.com"},
          {"id": "p1", "email": "pat@bluebird.example"}]


def explain(tmp_path: Path, record: dict, *extra: str, owners: bool = True) -> None:
    deal = tmp_path / "deal.json"
    deal.write_text(json.dumps(record))
    argv = ["mappings", "explain", str(deal), "--mappings", str(ROOT / "mappings"),
            "--now", NOW, *extra]
    if owners:
        (tmp_path / "owners.json").write_text(json.dumps(OWNERS))
        argv += ["--owners", str(tmp_path / "owners.json")]
    parser = argparse.ArgumentParser()
    add_mappings_command(parser.add_subparsers())
    args = parser.parse_args(argv)
    assert args.func(args) == 0


def test_a_registration_gets_an_opportunity_routed_by_region(tmp_path, capsys):
    explain(tmp_path, REGISTRATION, "--system", "hubspot")
    out = capsys.readouterr().out
    assert "Opportunity:\n  created, owner raj.johansson@vendor.example by rule 2 " \
           "(EMEA territory)\n" in out
    assert "  why:        custom.region is EMEA -> raj.johansson@vendor.example, round " \
           "robin in team emea_direct: fewest open handoffs (0)" in out
    # The partner's to-do goes on the registration, to the partner rep's PRM user.
    assert "Open tasks:\n  - complete_partner_facts: partner, on the registration, for " \
           "prm_owner (pat@bluebird.example)\n" in out


def test_the_stage_window_is_timed_from_the_history_field(tmp_path, capsys):
    explain(tmp_path, REGISTRATION, "--system", "hubspot")
    out = capsys.readouterr().out
    assert "Stage autopilot:\n  advance:    by itself once its gate and every earlier " \
           "gate pass (auto_advance)\n" in out
    assert "  entered:    2026-11-16 09:00 UTC (approved_at)\n" in out
    assert "  window:     days 1-2, ends 2026-11-18 09:00 UTC: overdue\n" in out
    assert "the daemon sets and moves stages on the CRM opportunity only" in out


def test_without_owners_routing_says_it_cannot_check_emails(tmp_path, capsys):
    explain(tmp_path, REGISTRATION, "--system", "hubspot", owners=False)
    out = capsys.readouterr().out
    assert "  created (creation.when holds: registration_status is one of approved, " \
           "handoff_ready, accepted)\n" in out
    assert "  owner:      unknown without --owners USERS.json" in out
    assert "raj.johansson" not in out
    assert "for prm_owner (owners unknown)" in out


def test_a_registration_not_yet_approved_gets_no_opportunity(tmp_path, capsys):
    pending = {**REGISTRATION, "dealstage": "9004452"}
    explain(tmp_path, pending, "--system", "hubspot")
    out = capsys.readouterr().out
    assert "Opportunity:\n  not created: creation.when does not hold (registration_status " \
           "is one of approved, handoff_ready, accepted)\n" in out
    assert "created, owner" not in out


def test_a_rejection_reopens_the_first_stage_and_goes_back_to_the_partner(tmp_path, capsys):
    explain(tmp_path, REJECTED)
    out = capsys.readouterr().out
    assert "Acceptance:\n  rejected: No economic buyer named\n  reopens stage " \
           "pre_handoff_assessment; back to prm_owner as a task (handoff_rejected task)\n" \
           in out
    # The autopilot moves it back to the stage the rejection reopens, timed afresh.
    assert "  would move: reopened joint_discovery -> pre_handoff_assessment (handoff " \
           "rejected)\n" in out
    assert "  window:     days 1-2, ends 2026-11-21 10:00 UTC: on track\n" in out
    assert "(partner tasks go on the registration: explain it too)" in out
    assert "Opportunity:" not in out  # an opportunity is not created, it is one


def test_an_opportunity_with_no_stage_gets_one_set(tmp_path, capsys):
    blank = {k: v for k, v in REJECTED.items()
             if k not in ("Handoff_Stage__c", "Handoff_Stage_Entered__c",
                          "Handoff_Acceptance__c", "Handoff_Rejection_Reason__c")}
    explain(tmp_path, blank)
    out = capsys.readouterr().out
    assert "  would move: stage set to pre_handoff_assessment\n" in out
    assert "Acceptance:\n  pending: crm_owner accepts or rejects it on the CRM record\n" in out


def test_explain_json_carries_the_drive(tmp_path, capsys):
    explain(tmp_path, REGISTRATION, "--system", "hubspot", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["stage"]["stage"] == "pre_handoff_assessment"
    assert data["stage"]["auto_advance"] is True
    assert data["stage"]["window"] == "overdue"
    assert data["stage"]["entered_from"] == "approved_at"
    assert data["tasks"] == [{
        "kind": "complete_partner_facts", "side": "prm", "role": "prm_owner",
        "where": "partner, on the registration", "assignee": "pat@bluebird.example",
        "subject": "Complete the handoff facts for Acme data platform"}]
    assert data["creation"]["created"] is True
    assert data["creation"]["owner"] == "raj.johansson@vendor.example"
    assert data["creation"]["rule"] == "rule 2 (EMEA territory)"
    assert data["acceptance"] is None


def test_an_opportunity_in_joint_discovery_shows_the_aes_tasks(tmp_path, capsys):
    undecided = {k: v for k, v in REJECTED.items()
                 if k not in ("Handoff_Acceptance__c", "Handoff_Rejection_Reason__c")}
    explain(tmp_path, undecided)
    out = capsys.readouterr().out
    assert "  entered:    2026-11-18 09:00 UTC (the record's stage_entered_at)\n" in out
    assert "  window:     days 3-5, ends 2026-11-21 09:00 UTC: on track\n" in out
    assert "  earlier stage incomplete: pre_handoff_assessment\n" in out
    assert "  - schedule_intro_call: CRM, on the opportunity, for crm_owner " \
           "(raj.johansson@vendor.example)\n" in out
    assert "  - complete_stage_gate: CRM, on the opportunity, for crm_owner " \
           "(raj.johansson@vendor.example)\n" in out
