"""`handoff-sync plan --config` as an admin reads it: deal by deal with names, old -> new,
tasks by person, records the scope leaves out, --deal, --limit and --now.

Runs `handoff-sync` in-process against the sandbox (real simple-salesforce and
hubspot-api-client on the wire) with the config `init --sandbox` writes.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hubspot import HubSpot
from hubspot.crm.deals import SimplePublicObjectInput
from simple_salesforce import Salesforce

from handoff_sync.cli.main import main
from handoff_sync.config.load import load_config
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.testing.file_drop import FILES_YAML, file_drop_mappings
from tests.e2e.sync_support import configured_sandbox, run_cli

SCOPE_LINE = 17  # mappings/hubspot.yaml: `pipeline: "9004451"` under `scope:`


@pytest.fixture
def config(sandbox: SandboxServer, tmp_path: Path) -> Path:
    file = configured_sandbox(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/hs.db")
    assert main(["migrate", "--config", str(file)]) == 0
    return file


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, *argv)


def plan(capsys: pytest.CaptureFixture[str], config: Path, *argv: str) -> str:
    code, out, err = run(capsys, "plan", "--config", str(config), *argv)
    assert code == 0, err
    return out


def linked_opportunity(sf: Salesforce) -> dict[str, Any]:
    """An opportunity that names its registration, with its owner's name and email."""
    record: dict[str, Any] = sf.query(
        "SELECT Id, Name, Partner_Registration_Id__c, OwnerId FROM Opportunity "
        "WHERE Partner_Registration_Id__c != null ORDER BY Id LIMIT 1")["records"][0]
    owner = sf.User.get(record["OwnerId"])
    return {**record, "Owner": {"Name": owner["Name"], "Email": owner["Email"]}}


def test_the_plan_reads_deal_by_deal_with_names_and_old_and_new_values(
        config: Path, sf: Salesforce, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync", "--once", "--config", str(config))[0] == 0
    opp = linked_opportunity(sf)
    sf.Opportunity.update(opp["Id"], {"Stakeholder_Map__c": "CFO signs\nCTO approves"})

    out = plan(capsys, config)
    assert out.startswith("pipeline partners: the next incremental cycle, planned at ")
    assert out.index("Summary\n") < out.index("\nDeals\n")
    assert "  deals planned:     " in out and "  records to update: hubspot 1\n" in out
    assert re.search(r"  API calls: +writing would cost hubspot 1, salesforce 0; planning "
                     r"read hubspot \d+, salesforce \d+\n", out)
    block = out[out.index(f"{opp['Name']}  ["):]
    assert block.startswith(f"{opp['Name']}  [HubSpot deal {opp['Partner_Registration_Id__c']}"
                            f", Salesforce Opportunity {opp['Id']}]\n")
    assert (f"  owner {opp['Owner']['Name']} <{opp['Owner']['Email']}> [{opp['OwnerId']}]\n"
            in block)
    assert "  gate: " in block
    assert f"  HubSpot deal {opp['Partner_Registration_Id__c']}:\n" in block
    assert re.search(r"\n    stakeholder_map: .+ -> CFO signs\\nCTO approves\n", block)

    code, text, _ = run(capsys, "plan", "--config", str(config), "--json")
    [planned] = json.loads(text)
    assert code == 0 and sorted(planned) == [
        "changes", "kind", "message", "outcome", "pipeline", "plan", "read_calls",
        "skipped_by_scope", "write_calls"]
    assert [c["new"] for c in planned["changes"]] == ["CFO signs\nCTO approves"]


def test_tasks_by_person_deal_and_limit(config: Path, sf: Salesforce,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = plan(capsys, config, "--limit", "2")  # a first cycle: every deal has work
    people = out[out.index("Tasks by person\n"):out.index("\nDeals")].splitlines()[1:]
    assert people and all(re.fullmatch(r"  .+@.+  \d+ to create", line) for line in people)
    tasks = re.search(r"  tasks: +(\d+) to create\n", out)
    assert tasks is not None
    assert sum(int(line.rsplit("  ", 1)[1].split()[0]) for line in people) == int(tasks.group(1))
    shown = re.search(r"Deals \(the first 2 of (\d+), by name\)", out)
    assert shown is not None
    assert (f"... and {int(shown.group(1)) - 2} more deals (--limit 0 for all, --json for "
            "everything)") in out

    opp = linked_opportunity(sf)
    for query in (opp["Id"], opp["Partner_Registration_Id__c"], opp["Name"].upper()):
        found = plan(capsys, config, "--deal", query)
        assert f"Deals matching {query!r}\n\n{opp['Name']}  [HubSpot deal " in found
        assert found.count("  [HubSpot deal ") + found.count("  [Salesforce ") == 1

    code, out, err = run(capsys, "plan", "--config", str(config), "--deal",
                         opp["Name"][:-2] + "zz")
    assert (code, out) == (2, "")
    assert err.startswith(f"handoff-sync plan: no deal has the id or name "
                          f"{opp['Name'][:-2] + 'zz'!r}; close names: ")
    assert opp["Name"] in err


def test_a_registration_outside_the_scope_is_listed_with_the_reason(
        config: Path, sf: Salesforce, hs: HubSpot, capsys: pytest.CaptureFixture[str]) -> None:
    opp = linked_opportunity(sf)
    registration = opp["Partner_Registration_Id__c"]
    # A channel manager moved the registration to the sales pipeline: the pull's search
    # asks for the partner pipeline only, so the plan never sees it.
    hs.crm.deals.basic_api.update(registration, SimplePublicObjectInput(
        properties={"pipeline": "default", "dealstage": "appointmentscheduled"}))
    name = hs.crm.deals.basic_api.get_by_id(registration).properties["dealname"]

    out = plan(capsys, config)
    assert "  skipped by scope:  1 record (listed below)\n" in out
    mappings = Path(load_config(config).pipelines[0].mappings) / "hubspot.yaml"
    assert (f"Skipped by scope (1): not planned, the pipeline does not sync them\n"
            f"  HubSpot deal {registration} '{name}' skipped: pipeline is 'default'; "
            f"the mapping's scope wants pipeline = 9004451 ({mappings}:{SCOPE_LINE})\n"
            f"    (its id is on Salesforce Opportunity {opp['Id']})\n") in out
    found = plan(capsys, config, "--deal", registration)
    assert f"HubSpot deal {registration} '{name}' skipped: " in found

    [planned] = json.loads(plan(capsys, config, "--json"))
    assert planned["skipped_by_scope"] == [{
        "system": "hubspot", "object": "deals", "record_id": registration,
        "name": name, "reason": f"pipeline is 'default'; the mapping's scope wants "
        f"pipeline = 9004451 ({mappings}:{SCOPE_LINE})",
        "named_by": {"system": "salesforce", "object": "Opportunity", "record_id": opp["Id"]}}]
    assert registration not in {w["record_id"] for w in planned["plan"]["writes"]}


def test_now_moves_the_sla_verdicts_and_the_task_due_dates(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync", "--once", "--config", str(config))[0] == 0
    [today] = json.loads(plan(capsys, config, "--json"))
    assert not [e for e in today["plan"]["sla_events"] if e["kind"] == "breached"]

    later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=200)
    stamp = later.isoformat().replace("+00:00", "Z")
    [then] = json.loads(plan(capsys, config, "--now", stamp, "--json"))
    assert then["plan"]["now"] == stamp
    breached = [e for e in then["plan"]["sla_events"] if e["kind"] == "breached"]
    assert breached and all(e["at"] <= stamp for e in breached)
    due = [a["task"]["due_at"] for a in then["plan"]["tasks"] if a["kind"] == "open"]
    assert due and min(due) > stamp  # due dates count from --now, not from today

    out = plan(capsys, config, "--now", stamp)
    title = later.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert out.startswith(f"pipeline partners: the next incremental cycle, planned at {title}")
    assert f"  SLA events:        {len(then['plan']['sla_events'])} (" in out
    assert f"{len(breached)} breached" in out
    assert "(breached)\n" in out  # a deal's clock line
    first = datetime.fromisoformat(min(due).replace("Z", "+00:00"))
    assert f", due {first.strftime('%Y-%m-%d %H:%M UTC')}, " in out


def test_a_file_drop_row_outside_the_scope_is_listed_with_the_reason(
        sandbox: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A drop folder's rows all reach the mirror; the plan says which the scope leaves out."""
    config = configured_sandbox(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/hs.db",
                                deals=4, partners=2)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    [pipeline] = data["pipelines"]
    data["connections"][pipeline["prm"]] = {
        "system": "files", "folder": str(tmp_path / "exports"), "id_field": "Registration ID",
        "modified_field": "Last Modified", "settle_seconds": 0}
    scoped = FILES_YAML.replace("fields:\n", "scope: {Program: Partner}\nfields:\n", 1)
    folder = file_drop_mappings(tmp_path / "file-mappings", scoped)
    pipeline["mappings"] = str(folder)
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    exports = tmp_path / "exports"
    exports.mkdir()
    export = exports / "registrations.csv"
    export.write_text(
        "Registration ID,Deal Name,Customer,Amount,Status,Partner,Program,Last Modified\n"
        "R-1,Acme rollout,Acme Corp,125000,Approved,Channel Co,Partner,2026-03-01T10:00:00Z\n"
        "R-2,Beta resale,Beta Inc,9000,Approved,Channel Co,Resale,2026-03-01T10:00:00Z\n",
        encoding="utf-8")
    os.utime(export, (time.time() - 60, time.time() - 60))
    assert main(["migrate", "--config", str(config)]) == 0

    out = plan(capsys, config)
    assert ("  file drop registration R-2 'Beta resale' skipped: Program is 'Resale'; the "
            f"mapping's scope wants Program = Partner ({folder / 'files.yaml'}:5)\n") in out
    assert "Acme rollout  [file drop registration R-1" in out
