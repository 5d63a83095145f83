"""The operator's and the admin's commands, as they type them: sync, status, plan, review.

Runs `handoff-sync` in-process against the sandbox with a config `init --sandbox` wrote,
and reads what it prints, the store and the CRM.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce import Salesforce
from sqlalchemy import text
from structlog.testing import capture_logs

from handoff_sync.cli.main import main
from handoff_sync.cli.sync import one_cycle
from handoff_sync.config.load import load_config
from handoff_sync.engine.types import LinkMethod
from handoff_sync.model import Role
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.types import CycleOutcome, PipelineState, ReviewChanges, RunOutcome
from tests.e2e.sync_support import configured_sandbox, run_cli


@pytest.fixture
def config(sandbox: SandboxServer, tmp_path: Path) -> Path:
    # This seed has a channel conflict: two partners registered one customer.
    file = configured_sandbox(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/hs.db",
                              deals=100, partners=12, random_seed=42)
    assert main(["migrate", "--config", str(file)]) == 0
    return file


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, *argv)


def test_sync_status_and_plan_tell_the_same_story(config: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sync", "--once", "--config", str(config), "--json")
    assert code == 0
    [summary] = json.loads(out)
    assert summary["outcome"] == "ok", summary["errors"]
    assert summary["kind"] == "full" and summary["counts"]["tasks_created"] > 0

    code, out, _ = run(capsys, "status", "--config", str(config), "--json")
    assert code == 0
    status = json.loads(out)["pipelines"]["partners"]
    assert status["runs"][0]["run_id"] == summary["run_id"]
    assert status["tasks"]["open"] == summary["counts"]["tasks_created"]

    code, out, _ = run(capsys, "status", "--config", str(config))
    assert code == 0 and summary["run_id"][:8] in out and "review queue" in out  # short ids

    # Right after a cycle the next one has nothing to write: the plan says so, field by
    # field, and a dry run writes nothing either.
    code, out, _ = run(capsys, "plan", "--config", str(config))
    assert code == 0
    assert "  records to update: none (no field writes)\n" in out
    assert "  tasks:             none\n" in out and "Deals: nothing to do for any deal" in out
    code, out, _ = run(capsys, "sync", "--once", "--dry-run", "--config", str(config))
    assert code == 0 and "would write 0 records" in out


def test_plan_shows_the_old_and_new_value_of_an_edit(config: Path, sf: Salesforce,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync", "--once", "--config", str(config))[0] == 0
    with Store.connect(f"sqlite:///{config.parent}/hs.db") as store:
        link = sorted(store.load_pipeline("partners").engine.links.values(),
                      key=lambda x: x.prm_id)[0]
    sf.Opportunity.update(link.crm_id, {"Stakeholder_Map__c": "CFO signs"})
    code, out, _ = run(capsys, "plan", "--config", str(config), "--json")
    assert code == 0
    [planned] = json.loads(out)
    change = next(c for c in planned["changes"] if c["field"] == "stakeholder_map")
    assert change["system"] == "hubspot" and change["record"] == link.prm_id
    assert change["new"] == "CFO signs"
    assert planned["write_calls"]["hubspot"] >= 1


def test_review_dismiss_and_link(config: Path, sf: Salesforce,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "sync", "--once", "--config", str(config))[0] == 0
    code, out, _ = run(capsys, "review", "--config", str(config), "--json")
    assert code == 0
    items: list[dict[str, Any]] = json.loads(out)
    conflict = next(i for i in items if i["kind"] == "channel_conflict")
    owner = next(i for i in items if i["kind"] == "unresolved_owner")

    code, _, err = run(capsys, "review", "link", owner["key"], "006X", "--config",
                       str(config))
    assert code == 1 and "cannot be linked" in err

    code, out, _ = run(capsys, "review", "dismiss", owner["key"], "--config", str(config))
    assert code == 0 and "dismissed" in out

    with Store.connect(f"sqlite:///{config.parent}/hs.db") as store:
        state = store.load_pipeline("partners")
    linked = {link.crm_id for link in state.engine.links.values()}
    target = min(set(state.mirror[Role.CRM]) - linked)  # a direct deal, no partner yet
    prm_id = conflict["deal"].removeprefix("prm:")
    # The item names two registrations: nothing is picked for the person.
    code, _, err = run(capsys, "review", "link", conflict["key"], target, "--config",
                       str(config))
    assert code == 2 and "--registration ID" in err
    # The registration id is unique on opportunities; the cycle frees the old one first.
    code, out, _ = run(capsys, "review", "link", conflict["key"], target, "--registration",
                       prm_id, "--config", str(config))
    assert code == 0 and f"linked to {target}" in out

    assert run(capsys, "sync", "--once", "--config", str(config))[0] == 0
    with Store.connect(f"sqlite:///{config.parent}/hs.db") as store:
        state = store.load_pipeline("partners")
        open_items = store.reviews("partners")
    assert state.engine.links[prm_id].crm_id == target
    assert state.engine.links[prm_id].method is LinkMethod.MANUAL
    assert sf.Opportunity.get(target)["Partner_Registration_Id__c"] == prm_id
    assert owner["key"] not in {i["key"] for i in open_items}  # dismissed stays dismissed


def test_review_lists_owner_items_once_per_person_and_dismisses_them_together(
        config: Path, sf: Salesforce, capsys: pytest.CaptureFixture[str]) -> None:
    # The AE owning the most open opportunities leaves: their deals' work falls back.
    open_owners = [o["OwnerId"] for o in sf.query_all(
        "SELECT OwnerId FROM Opportunity WHERE IsClosed = false")["records"]]
    leaver = max(sorted(set(open_owners)), key=open_owners.count)
    sf.User.update(leaver, {"IsActive": False})
    assert run(capsys, "sync", "--once", "--config", str(config))[0] == 0
    code, out, _ = run(capsys, "review", "--config", str(config), "--json")
    items: list[dict[str, Any]] = json.loads(out)
    owners = [i for i in items if i["kind"] == "unresolved_owner" and i["details"]["email"]]
    emails = [i["details"]["email"] for i in owners]
    busiest = max(set(emails), key=lambda email: (emails.count(email), email))
    assert emails.count(busiest) >= 2  # one item per deal of the person who left

    code, out, _ = run(capsys, "review", "--config", str(config))
    assert code == 0
    assert out.splitlines()[0].startswith(f"{len(items)} review items: ")
    assert f"{busiest}: {emails.count(busiest)} deals" in out
    assert out.count(f"dismiss --owner {busiest}\n") == 1  # one entry, not one per deal

    code, out, _ = run(capsys, "review", "dismiss", "--owner", busiest.upper(), "--config",
                       str(config))
    assert code == 0 and f"{emails.count(busiest)} unresolved_owner items dismissed" in out
    assert run(capsys, "sync", "--once", "--config", str(config))[0] == 0
    code, out, _ = run(capsys, "review", "--config", str(config), "--json")
    reopened = json.loads(out)
    still_open = {i["key"] for i in reopened}
    # The dismissed person's items stay dismissed; the other people's stay open. (Items
    # about a breach's escalation come and go with the breach: a clock that started at
    # the won time breaches on first sight and looks for a manager in that cycle only.)
    dismissed = {i["key"] for i in owners if i["details"]["email"] == busiest}
    assert still_open >= {i["key"] for i in owners} - dismissed
    assert not still_open & dismissed
    assert busiest not in {i["details"].get("email") for i in reopened
                           if i["kind"] == "unresolved_owner"}
    code, _, err = run(capsys, "review", "dismiss", "--owner", busiest, "--config",
                       str(config))
    assert code == 1 and "no open unresolved_owner item names" in err


def test_sync_once_waits_for_a_lease_another_run_holds_and_says_how_long(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Store.connect(f"sqlite:///{config.parent}/hs.db") as store:
        # A run killed mid-cycle leaves its lease behind until it expires.
        assert store.try_lease("pipeline:partners", "killed-run", timedelta(seconds=60),
                               datetime.now(UTC))
    code, _, err = run(capsys, "sync", "--once", "--config", str(config))
    assert code == 1
    assert "pipeline partners is running elsewhere" in err
    assert "once its lease expires (schedule.lease_seconds: 60)" in err
    with Store.connect(f"sqlite:///{config.parent}/hs.db") as store:
        # ... until it expires: as if it had been taken two minutes ago.
        assert store.try_lease("pipeline:partners", "killed-run", timedelta(seconds=60),
                               datetime.now(UTC) - timedelta(minutes=2))
    assert run(capsys, "sync", "--once", "--config", str(config))[0] == 0


class BudgetGoneAfterRecording(Store):
    """The real store, whose shared API budget table fails once the cycle is recorded:
    the connectors' last budget flush, on close, meets a database error."""

    def record_and_keep(self, outcome: CycleOutcome, before: PipelineState, *,
                        lease: tuple[str, str] | None = None
                        ) -> tuple[ReviewChanges, PipelineState | None]:
        recorded = super().record_and_keep(outcome, before, lease=lease)
        with self.engine.begin() as connection:
            connection.execute(text("DROP TABLE api_budget"))
        return recorded


def test_a_budget_flush_failing_on_close_loses_neither_the_result_nor_the_lease(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    file = configured_sandbox(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/s.db",
                              deals=20)
    yaml = file.read_text(encoding="utf-8")
    # Every call of the cycle stays with its connector until close: both flush then.
    assert yaml.count("    ca_file: ca.pem\n") == 2
    file.write_text(yaml.replace("    ca_file: ca.pem\n", "    ca_file: ca.pem\n    budget: "
                                 "{flush_calls: 1000, flush_seconds: 300}\n"),
                    encoding="utf-8")
    assert main(["migrate", "--config", str(file)]) == 0
    config = load_config(file)
    store = BudgetGoneAfterRecording.connect(config.database.url)
    try:
        with capture_logs() as logs:
            report = one_cycle(config, store, config.pipelines[0], full=False, dry_run=False)
        assert report.outcome == RunOutcome.OK
        assert store.lease("pipeline:partners") is None  # released
    finally:
        store.close()
    lost = [entry for entry in logs if entry["event"] == "api budget not flushed on close"]
    assert sorted(entry["system"] for entry in lost) == ["hubspot", "salesforce"]
    assert all(entry["calls_lost"] > 0 and entry["error"] == "StoreError" for entry in lost)
