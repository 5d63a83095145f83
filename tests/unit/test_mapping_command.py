"""`handoff-sync mappings validate|explain` as an admin runs them."""

import argparse
import json
import shutil
from pathlib import Path

import pytest

from handoff_sync.cli.mappings import add_mappings_command

ROOT = Path(__file__).resolve().parents[2]


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_mappings_command(parser.add_subparsers())
    args = parser.parse_args(["mappings", *argv])
    return args.func(args)


def test_validate_ok_prints_one_line_with_counts(capsys):
    assert run("validate", "--mappings", str(ROOT / "mappings")) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith("mappings OK: ") and "prm: hubspot deals" in out
    assert "2 handoff types" in out


def test_validate_lists_problems_and_exits_1(tmp_path, capsys):
    folder = tmp_path / "m"
    shutil.copytree(ROOT / "mappings", folder, ignore=shutil.ignore_patterns("packs"))
    path = folder / "salesforce.yaml"
    path.write_text(path.read_text().replace("crm_stage: StageName", "crm_stge: StageName"))
    assert run("validate", "--mappings", str(folder)) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{path}:") and "did you mean 'crm_stage'?" in lines[0]
    assert lines[-1] == "1 problem in 1 file; nothing was synced."


def test_explain_a_hubspot_registration(tmp_path, capsys):
    deal = tmp_path / "deal.json"
    deal.write_text(json.dumps({"id": "901", "properties": {
        "dealname": "Acme", "pipeline": "9004451", "dealstage": "9004453",
        "amount": "150000", "budget": "150000", "economic_buyer": "Dana",
        "hubspot_owner_id": "71"}}))
    owners = tmp_path / "owners.json"
    owners.write_text(json.dumps({"results": [{"id": "71", "email": "cm@example.com"}]}))
    assert run("explain", str(deal), "--mappings", str(ROOT / "mappings"),
               "--owners", str(owners)) == 0
    out = capsys.readouterr().out
    assert "Record: hubspot deals 901 (prm side" in out
    assert "registration_status" in out and "approved" in out
    assert "cm@example.com" in out
    assert "gate:       BLOCKED" in out
    assert "- Need documented (BANT) [need]" in out
    assert "Only salesforce.yaml provides:" in out


def test_explain_says_why_a_record_is_outside_the_scope(tmp_path, capsys):
    deal = tmp_path / "deal.json"
    deal.write_text(json.dumps({"id": "903", "properties": {"dealname": "Acme",
                                                            "dealstage": "9004453"}}))
    assert run("explain", str(deal), "--mappings", str(ROOT / "mappings")) == 0
    out = capsys.readouterr().out
    assert (f"  note: outside the mapping's scope: pipeline is missing; the mapping's scope "
            f"wants pipeline = 9004451 ({ROOT / 'mappings' / 'hubspot.yaml'}:17); the daemon "
            "skips it\n") in out


def test_explain_without_owners_says_how_to_resolve_them(tmp_path, capsys):
    deal = tmp_path / "deal.json"
    deal.write_text(json.dumps({"Id": "006X", "Name": "Acme", "OwnerId": "005A"}))
    assert run("explain", str(deal), "--mappings", str(ROOT / "mappings")) == 0
    out = capsys.readouterr().out
    assert "OwnerId -> ae_email: owner id '005A' is not in the owner directory" in out
    assert "pass --owners FILE" in out


def test_explain_refuses_bad_input_with_a_message(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"Id": "006X",\n "Name": }')
    assert run("explain", str(bad), "--mappings", str(ROOT / "mappings")) == 1
    assert f"{bad}:2:10: not valid JSON" in capsys.readouterr().out
    odd = tmp_path / "odd.json"
    odd.write_text('{"name": "x"}')
    assert run("explain", str(odd), "--mappings", str(ROOT / "mappings")) == 1
    assert "pass --system salesforce|hubspot" in capsys.readouterr().out
    assert run("explain", str(tmp_path / "none.json"), "--mappings",
               str(ROOT / "mappings")) == 1
    assert "cannot read it" in capsys.readouterr().out


# --- --json (issue 21): one document on stdout, problems included ---------------------------

def test_validate_json_ok(capsys):
    assert run("validate", "--mappings", str(ROOT / "mappings"), "--json") == 0
    found = json.loads(capsys.readouterr().out)
    assert found["ok"] is True and found["live"] is False and found["problems"] == []
    assert found["warnings"] == []  # every shipped stage has a gate
    assert found["prm"] == {"system": "hubspot", "object": "deals",
                            "file": str(ROOT / "mappings" / "hubspot.yaml")}
    assert found["crm"]["system"] == "salesforce" and found["crm"]["object"] == "Opportunity"
    assert found["counts"]["handoff_types"] == 2 and found["counts"]["fields"] > 10
    assert found["summary"].startswith("mappings OK: ")


def test_validate_json_lists_each_problem_with_its_place(tmp_path, capsys):
    folder = tmp_path / "m"
    shutil.copytree(ROOT / "mappings", folder, ignore=shutil.ignore_patterns("packs"))
    path = folder / "salesforce.yaml"
    text = path.read_text()
    path.write_text(text.replace("crm_stage: StageName", "crm_stge: StageName"))
    line = next(n for n, row in enumerate(path.read_text().splitlines(), 1)
                if "crm_stge" in row)
    assert run("validate", "--mappings", str(folder), "--json") == 1
    out, err = capsys.readouterr()
    found = json.loads(out)
    assert err == ""
    assert found["ok"] is False and found["prm"] is None and found["counts"] is None
    [problem] = found["problems"]
    assert (problem["file"], problem["line"], problem["column"]) == (str(path), line, 3)
    assert problem["path"] == "fields.crm_stge" and "did you mean 'crm_stage'?" in problem["hint"]
    assert problem["message"]
    assert found["summary"] == "1 problem in 1 file; nothing was synced."


def test_validate_json_keeps_stdout_for_the_document(capsys):
    assert run("validate", "--pipeline", "partners", "--json") == 2
    out, err = capsys.readouterr()
    assert out == "" and "add --live" in err


def test_explain_json(tmp_path, capsys):
    deal = tmp_path / "deal.json"
    deal.write_text(json.dumps({"id": "901", "properties": {
        "dealname": "Acme", "pipeline": "9004451", "dealstage": "9004453",
        "amount": "150000", "budget": "150000", "economic_buyer": "Dana",
        "hubspot_owner_id": "71"}}))
    assert run("explain", str(deal), "--mappings", str(ROOT / "mappings"), "--json") == 0
    found = json.loads(capsys.readouterr().out)
    assert found["ok"] is True and found["problems"] == []
    assert found["record"] == {"system": "hubspot", "object": "deals", "id": "901",
                               "side": "prm", "file": str(ROOT / "mappings" / "hubspot.yaml"),
                               "in_scope": True, "outside_scope": None,
                               "scope": {"pipeline": "9004451"}}
    assert found["deal"]["deal_name"] == "Acme" and found["deal"]["amount"] == "150000"
    assert found["deal"]["registration_status"] == "approved"
    assert found["sources"]["deal_name"] == "dealname"
    assert found["verdict"]["status"] == "blocked"
    assert 0 <= found["verdict"]["completeness_pct"] < 100
    assert {"label": "Need documented (BANT)", "field": "need",
            "provided_by": None} in found["missing"]
    assert [i["system_field"] for i in found["issues"]] == ["hubspot_owner_id"]
    assert "ae_email" in found["only_other_side"]


def test_explain_json_with_invalid_mappings_or_input(tmp_path, capsys):
    folder = tmp_path / "m"
    shutil.copytree(ROOT / "mappings", folder, ignore=shutil.ignore_patterns("packs"))
    (folder / "handoff.yaml").write_text("version: 1\nnonsense: [\n")
    deal = tmp_path / "deal.json"
    deal.write_text('{"Id": "006X", "Name": "Acme", "Amount": NaN}')
    assert run("explain", str(deal), "--mappings", str(folder), "--json") == 1
    found = json.loads(capsys.readouterr().out)
    assert found["ok"] is False and found["record"] is None
    assert found["problems"][0]["file"] == str(folder / "handoff.yaml")

    # Python reads NaN; the JSON printed must still parse anywhere (strict parser).
    assert run("explain", str(deal), "--mappings", str(ROOT / "mappings"), "--json") == 0
    out = capsys.readouterr().out
    found = json.loads(out, parse_constant=lambda word: pytest.fail(f"{word} in the JSON"))
    assert found["record"]["system"] == "salesforce"
    assert [(i["field"], i["value"]) for i in found["issues"]] == [("amount", "nan")]

    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert run("explain", str(bad), "--mappings", str(ROOT / "mappings"), "--json") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (f"handoff-sync mappings explain: {bad}: expected one JSON object "
                   "(a record), got list\n")


def test_explain_json_says_why_a_record_is_out_of_scope(tmp_path, capsys):
    deal = tmp_path / "deal.json"
    deal.write_text(json.dumps({"id": "902", "properties": {"dealname": "Initech"}}))
    assert run("explain", str(deal), "--mappings", str(ROOT / "mappings"), "--json") == 0
    record = json.loads(capsys.readouterr().out)["record"]
    assert record["in_scope"] is False
    assert record["outside_scope"].startswith("pipeline is missing")


def test_validate_warns_of_a_stage_with_no_gate_and_still_exits_0(tmp_path, capsys):
    folder = tmp_path / "m"
    shutil.copytree(ROOT / "mappings", folder, ignore=shutil.ignore_patterns("packs"))
    path = folder / "handoff.yaml"
    text = path.read_text()
    gated = ("        gate:\n          - label: Two or more co-led meetings held\n"
             "            check: {field: co_led_meetings, op: \">=\", value: 2}\n")
    assert gated in text
    path.write_text(text.replace(gated, "        gate: []   # a stage to wait in, on purpose\n"))
    assert run("validate", "--mappings", str(folder)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("mappings OK: ")
    assert lines[0].startswith(f"warning: {path}:") and lines[0].endswith(
        "handoff_types.partner_to_direct.stages[3].gate: stage 'responsibility_transition' "
        "(Gradual responsibility transition) has no gate: deals pass it at once (add a gate "
        "requirement, or leave it so on purpose: the report's maturity meter counts ungated "
        "stages)")
    assert run("validate", "--mappings", str(folder), "--json") == 0
    found = json.loads(capsys.readouterr().out)
    assert found["ok"] is True and found["problems"] == []
    [warning] = found["warnings"]
    assert warning["path"] == "handoff_types.partner_to_direct.stages[3].gate"
    assert warning["message"].endswith("has no gate: deals pass it at once")
