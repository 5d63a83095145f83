"""`handoff-sync plan` as an admin runs it on exported records: summary, JSON, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXE = str(Path(sys.executable).with_name("handoff-sync"))
DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]
ARGS = ["plan", "--prm", str(DATA / "plan_prm.jsonl"), "--crm", str(DATA / "plan_crm.json"),
        "--crm-owners", str(DATA / "plan_crm_users.json"), "--now", "2026-11-18T15:30Z",
        "--mappings", str(REPO / "mappings")]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=60)


def test_summary_first_then_each_deal_with_names_changes_and_tasks() -> None:
    result = run(*ARGS)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("offline plan of plan_prm.jsonl and plan_crm.json at 2026-11-18 "
                          "15:30:00 UTC: a first cycle, no store (nothing written)\n\nSummary\n")
    assert "  deals planned:     2 (2 with something to do)\n" in out
    # "Globex Corp - CRM rollout" is matched to the opportunity "Globex CRM Rollout".
    assert "  links:             2 new (1 id_field, 1 matched), 0 removed\n" in out
    assert "  tasks:             2 to create\n" in out
    assert "Tasks by person\n  revops@example.com  2 to create\n" in out
    acme = out[out.index("Acme data platform  ["):out.index("Globex CRM Rollout  [")]
    assert acme.startswith("Acme data platform  [HubSpot deal 501, Salesforce Opportunity "
                           "006000000000001AAA]\n")
    assert "  owner Ava Stone <ava.ae@vendor.example> [005000000000001AAA]\n" in acme
    assert "  gate: blocked, 8% complete" in acme and "Budget confirmed (BANT)" in acme
    assert "  HubSpot deal 501:\n    closedate: (empty) -> 2027-01-15\n" in acme
    assert "    Handoff_Gate_Status__c: (empty) -> Blocked\n" in acme
    assert "    create   Complete the handoff facts for Acme data platform\n" in acme
    globex = out[out.index("Globex CRM Rollout  ["):]
    assert "  registered as 'Globex Corp - CRM rollout'; partner Redwing\n" in globex
    assert "    amount: 220000 -> 215000\n" in globex  # the registration takes the AE's amount
    # The partner tasks are on the registrations; nobody partner-side is a user here, so
    # RevOps gets one item per person (not per deal), after the deals.
    assert "high, on the registration\n" in acme
    people = out[out.index("Review items about no one deal"):]
    assert "  unresolved_prm_owner: No partner rep is named" in people
    assert "  unresolved_prm_owner: Partner rep pat@bluebird.example has no active HubSpot " \
        "user" in people


def outside_scope(tmp_path: Path) -> Path:
    """The export plus a registration whose pipeline property is missing."""
    prm = tmp_path / "prm.jsonl"
    stray = {"id": "503", "properties": {"hs_object_id": "503", "dealname": "Initech upgrade",
                                         "dealstage": "9004453", "amount": "90000",
                                         "partner_account_name": "Bluebird",
                                         "hs_lastmodifieddate": "2026-11-18T10:00:00Z"}}
    prm.write_text((DATA / "plan_prm.jsonl").read_text() + json.dumps(stray) + "\n")
    return prm


def test_records_outside_the_scope_are_listed_with_the_reason(tmp_path: Path) -> None:
    prm = outside_scope(tmp_path)
    args = [*ARGS]
    args[args.index("--prm") + 1] = str(prm)
    result = run(*args)
    assert result.returncode == 0, result.stderr
    assert "  skipped by scope:  1 record (listed below)\n" in result.stdout
    assert ("  HubSpot deal 503 'Initech upgrade' skipped: pipeline is missing; the mapping's "
            f"scope wants pipeline = 9004451 ({REPO / 'mappings' / 'hubspot.yaml'}:17)\n"
            ) in result.stdout
    assert "deals planned:     2 " in result.stdout  # it is not planned, as a pull skips it
    [skipped] = json.loads(run(*args, "--json").stdout)["skipped_by_scope"]
    assert (skipped["system"], skipped["record_id"], skipped["name"]) == (
        "hubspot", "503", "Initech upgrade")
    assert skipped["reason"].startswith("pipeline is missing; ")
    # --deal finds it, and says why it is not planned.
    found = run(*args, "--deal", "initech upgrade")
    assert found.returncode == 0 and "HubSpot deal 503 'Initech upgrade' skipped" in found.stdout


@pytest.mark.parametrize("deal", ["502", "006000000000002AAA", "GLOBEX crm rollout",
                                  "globex corp - crm rollout"])
def test_deal_shows_one_deal_by_record_id_or_name(deal: str) -> None:
    result = run(*ARGS, "--deal", deal)
    assert result.returncode == 0, result.stderr
    assert result.stdout.index("Summary") < result.stdout.index(f"Deals matching {deal!r}")
    assert "Globex CRM Rollout  [HubSpot deal 502, " in result.stdout
    assert "Acme data platform  [" not in result.stdout


def test_a_deal_that_matches_nothing_is_an_error_naming_close_ones() -> None:
    result = run(*ARGS, "--deal", "globx")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("handoff-sync plan: no deal has the id or name 'globx'; close "
                             "names: Globex CRM Rollout; Globex Corp - CRM rollout\n")


def test_limit_says_how_many_more_deals_there_are() -> None:
    out = run(*ARGS, "--limit", "1").stdout
    assert "Deals (the first 1 of 2, by name)" in out
    assert "Acme data platform  [" in out and "Globex CRM Rollout  [" not in out
    assert "... and 1 more deals (--limit 0 for all, --json for everything)" in out
    assert "Globex CRM Rollout  [" in run(*ARGS, "--limit", "0").stdout
    bad = run(*ARGS, "--limit", "-1")
    assert bad.returncode == 2 and "'-1' is not a number of deals (0: all)" in bad.stderr


def test_json_plan_is_stable_and_names_the_tasks() -> None:
    first, second = run(*ARGS, "--json"), run(*ARGS, "--json")
    assert first.returncode == 0 and first.stdout == second.stdout
    plan = json.loads(first.stdout)
    # The engine's plan as before, and the records the scope left out (none here).
    assert sorted(plan) == ["baselines", "bases", "clocks", "conflicts", "counts", "deals",
                            "decisions", "links", "now", "pipeline", "reviews",
                            "skipped_by_scope", "sla_events", "stage_moves", "tasks",
                            "verdicts", "writes"]
    # The close date each handoff starts with, kept for the on-time bonus.
    assert {b["handoff_type"] for b in plan["baselines"]} <= {"partner_to_direct",
                                                             "closed_won_to_cs"}
    assert plan["counts"]["baselines"] == len(plan["baselines"]) > 0
    assert plan["skipped_by_scope"] == [] and plan["now"] == "2026-11-18T15:30:00Z"
    kinds = {action["task"]["kind"] for action in plan["tasks"]}
    assert kinds == {"complete_partner_facts"}
    # Written on the registrations (side: prm), each keyed apart from any CRM task.
    assert {(a["task"]["side"], a["task"]["crm_id"]) for a in plan["tasks"]} == {
        ("prm", "501"), ("prm", "502")}
    written = {(w["role"], w["record_id"]) for w in plan["writes"]}
    assert ("prm", "502") in written  # the matched registration learns its opportunity id
    prm_502 = next(w for w in plan["writes"] if w["record_id"] == "502")
    assert prm_502["values"]["crm_id"] == "006000000000002AAA"


def test_bad_input_is_named_with_file_and_line_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "prm.jsonl"
    bad.write_text('{"id": "1", "properties": {}}\n{"id": 2,\n')
    result = run("plan", "--prm", str(bad), "--crm", str(DATA / "plan_crm.json"),
                 "--mappings", str(REPO / "mappings"))
    assert result.returncode == 1
    assert f"{bad}:2:" in result.stdout and "not valid JSON" in result.stdout
    assert "Traceback" not in result.stderr
    missing = run("plan", "--prm", str(tmp_path / "nope.json"), "--crm",
                  str(DATA / "plan_crm.json"), "--mappings", str(REPO / "mappings"))
    assert missing.returncode == 1 and "cannot read it" in missing.stdout


def test_invalid_mappings_are_listed_and_nothing_is_planned(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    for name in ("hubspot.yaml", "salesforce.yaml", "handoff.yaml"):
        (folder / name).write_text((REPO / "mappings" / name).read_text())
    crm_file = folder / "salesforce.yaml"
    crm_file.write_text(crm_file.read_text().replace(
        "deal_name: Name", "deal_name: {field: Name, transform: sparkle}"))
    result = run("plan", "--prm", str(DATA / "plan_prm.jsonl"), "--crm",
                 str(DATA / "plan_crm.json"), "--mappings", str(folder))
    assert result.returncode == 1
    assert "salesforce.yaml:" in result.stdout and "sparkle" in result.stdout
    assert "are invalid; fix them first" in result.stdout
