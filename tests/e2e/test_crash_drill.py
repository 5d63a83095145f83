"""Crash drill: `handoff-sync sync --once` killed with SIGKILL mid-cycle, again and again.

A reference run syncs a freshly seeded org pair until a cycle writes nothing. The crash run
reseeds the same org pair (same random seed), starts from an empty database, and kills ten
or more `sync --once` processes at random moments (a real crash of the process doing the
cycle), optionally with 20% of the vendor calls failing; then it lets cycles run to the
end until one writes nothing. The final CRM/PRM state must equal the reference, with no
duplicate task in Salesforce and the store's ledger agreeing with the CRM's open tasks.

Only fields that do not depend on the wall clock are compared (the two runs happen a
minute apart; SLA clocks are not): the gate fields on each opportunity, the handoff tasks
(key, status, owner, opportunity) and each HubSpot deal's link to its opportunity.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce
from sqlalchemy import func, select

from handoff_sync.config.load import load_config
from handoff_sync.model import TaskStatus
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.schema import SyncRun
from tests.e2e.sync_support import configured_sandbox, handoff_tasks, hubspot_handoff_tasks
from tests.store_support import fresh_database_url

REPO = Path(__file__).resolve().parents[2]
DEALS, PARTNERS, SEED = 300, 12, 20261202
KILLS = 10
MAX_CONVERGENCE_CYCLES = 5
CYCLE_TIMEOUT_SECONDS = 180
START_TIMEOUT_SECONDS = 30
OPPORTUNITY_FIELDS = ("Handoff_Gate_Status__c", "Handoff_Completeness__c",
                      "Handoff_Missing_Fields__c", "Handoff_Required__c",
                      "Partner_Registration_Id__c")
WRITE_COUNTS = ("records_written", "tasks_created", "tasks_updated", "tasks_closed")

pytestmark = pytest.mark.heavy


def sync_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "handoff_sync.cli", "sync", "--once", "--json",
            "--config", str(config)]


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def prepare(server: SandboxServer, folder: Path, database_url: str) -> Path:
    """Seed the org pair (always the same one) and migrate a fresh database for it."""
    folder.mkdir()
    config = configured_sandbox(server, folder, database_url=database_url, deals=DEALS,
                                partners=PARTNERS, random_seed=SEED)
    with Store.connect(database_url) as store:
        store.migrate()
    return config


def converge(config: Path) -> float:
    """Run `sync --once` until a cycle writes nothing; the first cycle's duration (s)."""
    first = 0.0
    for cycle in range(1, MAX_CONVERGENCE_CYCLES + 1):
        done = subprocess.run(sync_command(config), cwd=REPO, env=child_env(),
                              capture_output=True, text=True, timeout=CYCLE_TIMEOUT_SECONDS)
        assert done.returncode == 0, f"cycle {cycle}: {done.stderr[-3000:]}"
        summaries = json.loads(done.stdout)
        first = first or sum(s["duration_seconds"] for s in summaries)
        if all(sum(s["counts"].get(k, 0) for k in WRITE_COUNTS) == 0 for s in summaries):
            return first
    pytest.fail(f"no cycle of {MAX_CONVERGENCE_CYCLES} came out without writes")


def run_count(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(SyncRun)).scalar_one())


def crash_repeatedly(config: Path, rng: random.Random, cycle_seconds: float) -> None:
    """Start `sync --once` and SIGKILL it at a random moment of its cycle, KILLS times.

    The process needs a second or two to start, so the delay counts from the moment its
    cycle records its start (a sync_runs row); a kill that comes after the process ended
    does not count, and the drill asserts it got KILLS kills of a live cycle.
    """
    store = Store.connect(load_config(config).database.url)
    live_kills = 0
    try:
        for _ in range(3 * KILLS):
            if live_kills == KILLS:
                break
            runs_before = run_count(store)
            process = subprocess.Popen(sync_command(config), cwd=REPO, env=child_env(),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                deadline = time.monotonic() + START_TIMEOUT_SECONDS
                while (run_count(store) == runs_before and process.poll() is None
                       and time.monotonic() < deadline):
                    time.sleep(0.01)
                time.sleep(rng.uniform(0.0, 0.9 * cycle_seconds))
            finally:
                live_kills += process.poll() is None
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
            # A dead process's lease lapses after lease_seconds; release it as an operator
            # would rather than wait (the holder id is the one `sync --once` uses).
            store.release_lease("pipeline:partners",
                                f"{socket.gethostname()}:{process.pid}:cli")
    finally:
        store.close()
    assert live_kills == KILLS, f"only {live_kills} kills hit a running cycle"


def final_state(sf: Salesforce, hs: HubSpot) -> dict[str, Any]:
    """What the reps see, minus anything that depends on the wall clock."""
    opportunities = {
        record["Id"]: tuple(record[f] for f in OPPORTUNITY_FIELDS)
        for record in sf.query_all(f"SELECT Id, {', '.join(OPPORTUNITY_FIELDS)} "
                                   "FROM Opportunity")["records"]}
    tasks = sorted((t["Handoff_Task_Key__c"], t["Status"], t["OwnerId"], t["WhatId"])
                   for t in handoff_tasks(sf))
    deals = {deal.id: deal.properties.get("crm_opportunity_id")
             for deal in hs.crm.deals.get_all(properties=["crm_opportunity_id"])}
    partner_tasks = sorted((t["key"], t["status"], t["owner"]) for t in hubspot_handoff_tasks(hs))
    return {"opportunities": opportunities, "tasks": tasks, "deals": deals,
            "partner_tasks": partner_tasks}


def assert_consistent(sf: Salesforce, hs: HubSpot, database_url: str) -> None:
    """One task per key in each system, and the ledger's open tasks are exactly theirs:
    the CRM's in Salesforce, the partner's on the HubSpot registrations."""
    tasks = handoff_tasks(sf)
    keys = [t["Handoff_Task_Key__c"] for t in tasks]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    assert not duplicates, f"duplicate task keys in Salesforce: {duplicates[:10]}"
    partner = hubspot_handoff_tasks(hs)
    partner_keys = [t["key"] for t in partner]
    assert len(partner_keys) == len(set(partner_keys)), "duplicate task keys in HubSpot"
    open_in_crm = {t["Handoff_Task_Key__c"] for t in tasks if t["Status"] != "Completed"}
    open_in_crm |= {t["key"] for t in partner if t["status"] != "COMPLETED"}
    with Store.connect(database_url) as store:
        state = store.load_pipeline("partners").engine
    open_in_ledger = {key for key, task in state.tasks.items()
                      if task.spec.status is TaskStatus.OPEN}
    assert open_in_ledger == open_in_crm


def drill(sandbox: SandboxServer, sf: Salesforce, hs: HubSpot, tmp_path: Path, *,
          faults: list[dict[str, Any]] | None, rng_seed: int) -> None:
    with fresh_database_url("sqlite", tmp_path) as reference_db:
        cycle_seconds = converge(prepare(sandbox, tmp_path / "reference", reference_db))
        assert_consistent(sf, hs, reference_db)
        reference = final_state(sf, hs)
    assert reference["tasks"], "the seed opens handoff tasks"
    with fresh_database_url("sqlite", tmp_path) as crash_db:
        config = prepare(sandbox, tmp_path / "crash", crash_db)
        if faults:
            sandbox.sandbox.faults.set_rules(faults)
        try:
            crash_repeatedly(config, random.Random(rng_seed), cycle_seconds)
        finally:
            sandbox.sandbox.faults.clear()
        converge(config)
        assert_consistent(sf, hs, crash_db)
        crashed = final_state(sf, hs)
    for part in ("opportunities", "deals", "tasks"):
        assert crashed[part] == reference[part], part


def test_killed_cycles_converge_to_the_reference_state(
        sandbox: SandboxServer, sf: Salesforce, hs: HubSpot, tmp_path: Path) -> None:
    drill(sandbox, sf, hs, tmp_path, faults=None, rng_seed=7)


def test_killed_cycles_converge_with_flaky_vendors(
        sandbox: SandboxServer, sf: Salesforce, hs: HubSpot, tmp_path: Path) -> None:
    # 20% of vendor calls fail transiently while processes are being killed.
    drill(sandbox, sf, hs, tmp_path, rng_seed=8, faults=[
        {"api": "any", "probability": 0.1, "effect": 503},
        {"api": "any", "probability": 0.1 / 0.9, "effect": 500}])
