"""`handoff-sync run` as a real process against the sandbox, on SQLite and PostgreSQL.

One story per backend, as an operator and the reps would live it: the daemon starts on a
seeded org pair and syncs it; then, between two of its cycles, a partner and an AE edit
the same deals on both sides, an AE fills a gate, both sides change one close date, and an
opportunity changes hands. The next cycle must carry each edit over, close the filled
gate's task, apply the close-date policy and record the conflict, and reassign the task.
SIGTERM then stops it cleanly.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.mapping.loader import load_mappings
from handoff_sync.model import Role
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from tests.e2e.sync_support import (
    configured_sandbox,
    fillable_blocked_deal,
    handoff_tasks,
    hubspot_task_status,
    other_active_user,
    owner_assigned_tasks,
    running_daemon,
    sample_value,
)

REPO = Path(__file__).resolve().parents[2]
CYCLE_WAIT_SECONDS = 60


@pytest.fixture
def daemon_config(sandbox: SandboxServer, tmp_path: Path, store_url: str) -> Path:
    config = configured_sandbox(sandbox, tmp_path, database_url=store_url, deals=60,
                                interval_seconds=5)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("port: 9464", "port: 0"), encoding="utf-8")
    with Store.connect(store_url) as store:
        store.migrate()
    return config


@pytest.fixture
def daemon(daemon_config: Path, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with running_daemon(daemon_config, tmp_path / "daemon.log") as process:
        yield process


def finished_runs(store: Store) -> list[dict[str, Any]]:
    runs = store.status("partners", now=datetime.now(UTC))["pipelines"].get(
        "partners", {}).get("runs", [])
    return [run for run in runs if run["outcome"] != "running"]


def wait_for_run(store: Store, *, started_after: datetime) -> dict[str, Any]:
    """The first cycle the daemon started after ``started_after`` and finished."""
    deadline = time.monotonic() + CYCLE_WAIT_SECONDS
    while time.monotonic() < deadline:
        for run in finished_runs(store):
            started = datetime.fromisoformat(run["started_at"].replace("Z", "+00:00"))
            if started > started_after:
                return run
        time.sleep(0.5)
    raise AssertionError(f"no cycle finished within {CYCLE_WAIT_SECONDS} s")


def health_url(log_file: Path) -> str:
    for line in log_file.read_text(encoding="utf-8").splitlines():
        if '"health_listening"' in line:
            return str(json.loads(line)["url"])
    raise AssertionError("the daemon logged no health_listening line")


def test_the_daemon_syncs_a_day_of_edits_and_stops_cleanly(
        daemon: subprocess.Popen[bytes], daemon_config: Path, store_url: str, tmp_path: Path,
        sf: Salesforce, hs: HubSpot) -> None:
    mappings = load_mappings(REPO / "mappings")
    with Store.connect(store_url) as store:
        first = wait_for_run(store, started_after=datetime(2000, 1, 1, tzinfo=UTC))
        assert first["kind"] == "full" and first["outcome"] in ("ok", "partial")
        assert first["tasks_created"] > 0
        with urllib.request.urlopen(health_url(tmp_path / "daemon.log") + "/healthz",
                                    timeout=5) as answer:
            assert answer.status == 200

        state = store.load_pipeline("partners").engine
        links = sorted(state.links.values(), key=lambda link: link.prm_id)
        gate = fillable_blocked_deal(state, mappings)
        assert gate is not None
        gate_verdict, gate_fields = gate
        owned = owner_assigned_tasks(state, sf, exclude={gate_verdict.crm_id})
        assert owned is not None
        owner_deal, owner_tasks = owned
        used = {gate_verdict.crm_id, owner_deal}
        crossover, conflict = [link for link in links if link.crm_id not in used][:2]
        # Its open tasks: on the opportunity, and the partner's on the registration.
        records = {(Role.CRM, gate_verdict.crm_id), (Role.PRM, gate_verdict.prm_id)}
        gate_tasks = {t.spec.key: t.spec.side for t in state.tasks.values()
                      if (t.spec.side, t.spec.crm_id) in records
                      and t.spec.status.value == "open"}

        edits_at = datetime.now(UTC)
        hs.crm.deals.basic_api.update(crossover.prm_id, {"properties": {
            "partner_rep_email": "new.rep@partner.example"}})
        sf.Opportunity.update(crossover.crm_id, {"Stakeholder_Map__c": "CFO signs"})
        sf.Opportunity.update(gate_verdict.crm_id, {
            mappings.crm.fields[f].system_field: sample_value(mappings.crm.fields[f])
            for f in gate_fields})
        hs.crm.deals.basic_api.update(conflict.prm_id, {"properties": {
            "closedate": "2027-03-31"}})
        sf.Opportunity.update(conflict.crm_id, {"CloseDate": "2027-02-28"})
        new_owner = other_active_user(sf, sf.Opportunity.get(owner_deal)["OwnerId"])
        sf.Opportunity.update(owner_deal, {"OwnerId": new_owner})

        run = wait_for_run(store, started_after=edits_at)
        assert run["outcome"] in ("ok", "partial"), run["message"]
        assert run["kind"] == "incremental"
        status = store.status("partners", now=datetime.now(UTC))["pipelines"]["partners"]

    # Each side's edit reached the other side.
    assert sf.Opportunity.get(crossover.crm_id)["Partner_Rep_Email__c"] == \
        "new.rep@partner.example"
    assert hs.crm.deals.basic_api.get_by_id(
        crossover.prm_id, properties=["stakeholder_map"]).properties["stakeholder_map"] == \
        "CFO signs"
    # The filled gate: its tasks are completed, and the flag flipped or (auto_advance) the
    # deal moved on to its next stage.
    record = sf.Opportunity.get(gate_verdict.crm_id)
    stages = mappings.crm.fields["handoff_stage"].values or {}
    assert record["Handoff_Gate_Status__c"] == "Passed" or \
        stages.get(record["Handoff_Stage__c"]) != gate_verdict.stage
    crm_tasks = {t["Handoff_Task_Key__c"]: t for t in handoff_tasks(sf)}
    assert gate_tasks and all(
        crm_tasks[key]["Status"] == "Completed" if side is Role.CRM
        else hubspot_task_status(hs, key) == "COMPLETED" for key, side in gate_tasks.items())
    # Both sides moved the close date: crm_wins on both, and the conflict is on record.
    assert hs.crm.deals.basic_api.get_by_id(
        conflict.prm_id, properties=["closedate"]).properties["closedate"].startswith(
        "2027-02-28")
    assert status["conflicts"]["count"] >= 1
    assert any(c["field"] == "close_date" for c in status["conflicts"]["last"])
    # The opportunity changed hands: its owner's tasks follow.
    for task in owner_tasks:
        assert crm_tasks[task.spec.key]["OwnerId"] == new_owner
    keys = [t["Handoff_Task_Key__c"] for t in handoff_tasks(sf)]
    assert len(keys) == len(set(keys))

    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=10) == 0
