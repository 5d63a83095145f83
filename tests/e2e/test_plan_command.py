"""`handoff-sync plan` as an admin runs it on exported records: summary, JSON, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXE = str(Path(sys.executable).with_name("handoff-sync"))
DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]
ARGS = ["plan", "--prm", str(DATA / "plan_prm.jsonl"), "--crm", str(DATA / "plan_crm.json"),
        "--crm-owners", str(DATA / "plan_crm_users.json"), "--now", "2026-11-18T15:30Z",
        "--mappings", str(REPO / "mappings")]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=60)


def test_summary_shows_links_tasks_and_each_deal_verdict() -> None:
    result = run(*ARGS)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "for 2 deals (nothing written)" in out
    # "Globex Corp - CRM rollout" is matched to the opportunity "Globex CRM Rollout".
    assert "2 new (1 id_field, 1 matched)" in out
    assert "prm:501" in out and "blocked" in out and "Budget confirmed (BANT)" in out
    assert "review unresolved_owner: prm:502: No partner rep" in out


def test_json_plan_is_stable_and_names_the_tasks() -> None:
    first, second = run(*ARGS, "--json"), run(*ARGS, "--json")
    assert first.returncode == 0 and first.stdout == second.stdout
    plan = json.loads(first.stdout)
    kinds = {action["task"]["kind"] for action in plan["tasks"]}
    assert kinds == {"complete_partner_facts"}
    assert {a["task"]["crm_id"] for a in plan["tasks"]} == {"006000000000001AAA",
                                                           "006000000000002AAA"}
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
