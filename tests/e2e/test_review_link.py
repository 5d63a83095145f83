"""`review link` checks what a person types, shows what it changes, and guesses nothing;
an email two active CRM users share is one review item, not a silent pick.

Runs `handoff-sync` in-process against the sandbox (real simple-salesforce and
hubspot-api-client on the wire) with the config `init --sandbox` writes.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.cli.main import main
from handoff_sync.model import Role
from handoff_sync.safety.sanitise import quoted
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.types import PipelineState
from tests.e2e.sync_support import configured_sandbox, run_cli

REGISTRATION_ID = "Partner_Registration_Id__c"
PARTNER = "partner_account_name"
FALLBACK = "revops@example.com"  # mappings/handoff.yaml ownership


@pytest.fixture
def config(sandbox: SandboxServer, tmp_path: Path) -> Path:
    # This seed has channel conflicts: two partners registered one customer.
    file = configured_sandbox(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/hs.db",
                              deals=100, partners=12, random_seed=42)
    assert main(["migrate", "--config", str(file)]) == 0
    return file


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, *argv)


def sync(capsys: pytest.CaptureFixture[str], config: Path) -> dict[str, Any]:
    code, out, _ = run(capsys, "sync", "--once", "--config", str(config), "--json")
    [summary] = json.loads(out)
    assert code == 0 and summary["outcome"] == "ok", summary
    return summary


def state(config: Path) -> PipelineState:
    with Store.connect(f"sqlite:///{config.parent}/hs.db") as store:
        return store.load_pipeline("partners")


def reviews(config: Path, status: str | None = "open") -> dict[str, dict[str, Any]]:
    with Store.connect(f"sqlite:///{config.parent}/hs.db") as store:
        return {item["key"]: item for item in store.reviews("partners", status=status)}


def conflict_item(config: Path) -> dict[str, Any]:
    return next(i for i in reviews(config).values() if i["kind"] == "channel_conflict")


def partner(now: PipelineState, prm_id: str) -> str:
    return str(now.mirror[Role.PRM][prm_id].fields[PARTNER])


def test_malformed_missing_and_foreign_ids_are_refused_before_anything_is_stored(
        config: Path, sf: Salesforce, capsys: pytest.CaptureFixture[str]) -> None:
    sync(capsys, config)
    item = conflict_item(config)
    prm_id = item["details"]["registrations"][0]
    before = state(config).engine.links
    linked = {link.crm_id for link in before.values()}
    direct = sorted(set(state(config).mirror[Role.CRM]) - linked)
    sf.Opportunity.delete(direct[0])
    account = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]

    def link(crm_id: str) -> tuple[int, str]:
        code, _, err = run(capsys, "review", "link", item["key"], crm_id, "--registration",
                           prm_id, "--config", str(config))
        return code, err

    code, err = link("0065g00000ABCDE' OR Name != '")
    assert code == 2 and "is not a Salesforce id" in err and "this has 29" in err
    code, err = link(direct[1][:15].lower())  # a letter's case lost: no such record
    assert code == 1 and "exists (deleted, or never there)" in err
    code, err = link(direct[1][:15] + "AAA" if not direct[1].endswith("AAA")
                     else direct[1][:15] + "AAB")
    assert code == 2 and "not the checksum of the first 15" in err
    code, err = link(account)
    assert code == 2 and "Opportunity ids start with 006, this one with 001" in err
    code, err = link(direct[0])
    assert code == 1 and f"no salesforce Opportunity {direct[0]} exists" in err
    assert "nothing was linked" in err

    assert state(config).engine.links == before
    assert reviews(config)[item["key"]]["status"] == "open"


def test_a_crm_it_cannot_connect_to_is_one_line_naming_the_setting_and_links_nothing(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sync(capsys, config)
    item = conflict_item(config)
    now = state(config)
    target = min(set(now.mirror[Role.CRM]) - {link.crm_id for link in now.engine.links.values()})
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lines = config.read_text().splitlines()
    line_no = next(n for n, line in enumerate(lines, 1) if "login_url:" in line)
    lines[line_no - 1] = f'    login_url: "https://127.0.0.1:{port}"'
    config.write_text("\n".join(lines) + "\n")

    code, out, err = run(capsys, "review", "link", item["key"], target, "--registration",
                         item["details"]["registrations"][0], "--config", str(config))

    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert f"salesforce connection 'crm': could not connect to Salesforce at 127.0.0.1:{port}" \
        in line and "connection refused (nothing listens on that port)" in line
    assert f"check connections.crm.login_url in {config}:{line_no}; nothing was linked" in line
    assert "again" not in line.replace("against", "")
    assert reviews(config)[item["key"]]["status"] == "open"


def test_an_item_naming_several_registrations_lists_them_and_picks_none(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sync(capsys, config)
    item = conflict_item(config)
    now = state(config)
    target = min(set(now.mirror[Role.CRM]) - {link.crm_id for link in now.engine.links.values()})

    code, out, err = run(capsys, "review", "link", item["key"], target, "--config",
                         str(config))

    assert code == 2 and out == ""
    assert "--registration ID" in err
    for prm_id in item["details"]["registrations"]:
        assert f"registration {prm_id} " in err and quoted(partner(now, prm_id)) in err
        assert quoted(now.mirror[Role.PRM][prm_id].fields["dealname"]) in err
    code, _, err = run(capsys, "review", "link", item["key"], target, "--registration",
                       "123", "--config", str(config))
    assert code == 2 and "registration '123' is not one of" in err
    assert state(config).engine.links == now.engine.links


def test_taking_an_opportunity_from_another_partner_shows_the_move_and_needs_force(
        config: Path, sf: Salesforce, hs: HubSpot, capsys: pytest.CaptureFixture[str]) -> None:
    sync(capsys, config)
    item = conflict_item(config)
    now = state(config)
    chosen = item["details"]["registrations"][0]
    mine = partner(now, chosen)
    # An opportunity another partner's registration (not one of this item's) holds.
    holder, target = next(
        (prm_id, link.crm_id) for prm_id, link in sorted(now.engine.links.items())
        if prm_id not in item["details"]["registrations"] and partner(now, prm_id) != mine)
    theirs = partner(now, holder)
    opportunity = sf.Opportunity.get(target)
    assert opportunity[REGISTRATION_ID] == holder

    # The 15-character form of the id is accepted; the 18-character one is stored.
    code, out, err = run(capsys, "review", "link", item["key"], target[:15], "--registration",
                         chosen, "--config", str(config))
    assert code == 1 and out == ""
    assert (f"partner of record of opportunity {target}: {quoted(theirs)} -> {quoted(mine)}"
            in err)
    assert f"opportunity {target} loses registration {holder}" in err
    assert quoted(opportunity["Name"]) in err
    assert "--force" in err
    assert state(config).engine.links == now.engine.links

    code, out, _ = run(capsys, "review", "link", item["key"], target[:15], "--registration",
                       chosen, "--force", "--json", "--config", str(config))
    assert code == 0
    shown = json.loads(out)
    assert shown["status"] == "resolved" and shown["resolution"] == f"linked to {target}"
    assert shown["link"]["moves_attribution"] is True
    assert (shown["link"]["partner_before"], shown["link"]["partner_after"]) == (theirs, mine)
    assert [r["id"] for r in shown["link"]["opportunity_leaves"]] == [holder]
    code, _, err = run(capsys, "review", "link", item["key"], target, "--registration",
                       chosen, "--force", "--config", str(config))
    assert code == 1 and f"is already resolved (linked to {target})" in err

    summary = sync(capsys, config)
    assert summary["errors"] == []
    links = state(config).engine.links
    assert links[chosen].crm_id == target
    assert links.get(holder) is None or links[holder].crm_id != target
    assert sf.Opportunity.get(target)[REGISTRATION_ID] == chosen
    deal = hs.crm.deals.basic_api.get_by_id(holder, properties=["crm_opportunity_id"])
    assert deal.properties["crm_opportunity_id"] != target


def test_two_active_users_with_one_email_give_the_work_to_nobody_silently(
        config: Path, sf: Salesforce, capsys: pytest.CaptureFixture[str]) -> None:
    sync(capsys, config)
    tasks = state(config).engine.tasks
    users = {u["Email"].lower(): u for u in sf.query_all(
        "SELECT Id, Name, Email, IsActive FROM User")["records"]}
    key, task = next((k, t) for k, t in sorted(tasks.items())
                     if t.spec.side is Role.CRM and t.spec.assignee_email in users
                     and t.spec.assignee_email != FALLBACK)
    email = task.spec.assignee_email
    ae = users[email]
    twin = sf.User.create({"Username": "twin@acme.example", "Email": email.upper(),
                           "FirstName": "Twin", "LastName": "Account"})["id"]

    sync(capsys, config)
    items = [i for i in reviews(config).values() if i["kind"] == "duplicate_owner_email"]
    assert [i["key"] for i in items] == [f"duplicate_owner_email:crm:{email}"]
    [item] = items
    assert {(u["id"], u["name"]) for u in item["details"]["users"]} == {
        (ae["Id"], ae["Name"]), (twin, "Twin Account")}
    assert ae["Id"] in item["summary"] and twin in item["summary"]
    fallback = item["details"]["fallback"]
    moved = state(config).engine.tasks[key]
    assert moved.spec.assignee_email == fallback
    assert not [i for i in reviews(config).values() if i["kind"] == "unresolved_owner"
                and i["details"]["email"] == email]
    owner = sf.query(f"SELECT OwnerId FROM Task WHERE Id = '{moved.system_task_id}'")
    assert owner["records"][0]["OwnerId"] == users[fallback]["Id"]

    sync(capsys, config)  # a quiet cycle states it again: still one open item
    assert [i for i in reviews(config).values() if i["kind"] == "duplicate_owner_email"] \
        == [{**item, "last_seen": reviews(config)[item["key"]]["last_seen"]}]

    sf.User.update(twin, {"IsActive": False})
    sync(capsys, config)
    assert item["key"] not in reviews(config)
    assert reviews(config, "resolved")[item["key"]]["resolution"] == "auto: no longer applies"
    assert state(config).engine.tasks[key].spec.assignee_email == email
