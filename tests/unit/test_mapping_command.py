"""`handoff-sync mappings validate|explain` as an admin runs them."""

import argparse
import json
import shutil
from pathlib import Path

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
