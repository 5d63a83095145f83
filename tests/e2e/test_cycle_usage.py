"""Each cycle reports its own API calls and throttling, not the process's running total.

Two cycles of one ``PipelineRunner`` (the daemon keeps its runner, and so its connectors,
for the life of the process) against the sandbox: the first is made to wait out a 429,
the second is quiet. The second's figures in its report, its run row (what `status` and
the console show) and the Prometheus counters must be its own; the sandbox's own count
of the requests it answered during each cycle is the referee.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from handoff_sync.daemon.metrics import Metrics
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync.cycle import CycleReport
from tests.e2e.sync_support import sync_world

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
SYSTEMS = ("salesforce", "hubspot")


def answered(sandbox: SandboxServer) -> dict[str, int]:
    """Vendor requests the sandbox has answered since its reset, per system."""
    stats = sandbox.sandbox.usage.stats()
    return {system: int(stats[system]["calls"]) for system in SYSTEMS}


def counted(sandbox: SandboxServer, run: Any) -> tuple[CycleReport, dict[str, int]]:
    before = answered(sandbox)
    report: CycleReport = run()
    assert report.outcome in (RunOutcome.OK, RunOutcome.PARTIAL), report.message
    after = answered(sandbox)
    return report, {system: after[system] - before[system] for system in SYSTEMS}


def test_a_quiet_second_cycle_reports_only_its_own_calls_and_no_throttling(
        sandbox: SandboxServer, tmp_path: Path, store_url: str) -> None:
    with sync_world(sandbox, tmp_path, database_url=store_url, now=NOW) as world:
        runner, store = world["runner"], world["store"]
        # The first search is refused with a 429 the connector must wait out (1 s).
        requests.post(f"{sandbox.base_url}/__sandbox__/faults", json={"rules": [
            {"api": "hubspot", "path": "/search", "count": 1,
             "effect": {"status": 429, "retry_after": 1}}]},
            verify=str(sandbox.ca_file), timeout=10).raise_for_status()
        metrics = Metrics()
        first, first_answered = counted(sandbox, runner.run_cycle)
        metrics.observe(first)
        second, second_answered = counted(sandbox, runner.run_cycle)
        metrics.observe(second)
        # The run rows: what `status` and the console show of each cycle.
        runs = {run["run_id"]: run["api_calls"]
                for run in store.status(runner.name, now=NOW)["pipelines"][runner.name]["runs"]}

    assert first.api_calls["hubspot"]["throttled_seconds"] >= 1.0
    for system in SYSTEMS:
        mine = second.api_calls[system]
        assert mine["throttled_seconds"] == 0, (system, mine)
        # Exactly the requests the server answered during each cycle, no more.
        assert first.api_calls[system]["total"] == first_answered[system], system
        assert mine["total"] == second_answered[system], (system, mine)
        assert 0 < mine["total"] < first.api_calls[system]["total"], system
        assert sum(mine["calls"].values()) == mine["total"]
        # Prometheus counters add the cycles up: that is what a counter is for.
        assert metrics.value("handoff_sync_api_calls_total", pipeline=runner.name,
                             system=system) == first_answered[system] + second_answered[system]
        for report in (first, second):
            kept = runs[report.run_id][system]
            assert kept["total"] == report.api_calls[system]["total"], system
            assert kept["throttled_seconds"] == report.api_calls[system]["throttled_seconds"]
