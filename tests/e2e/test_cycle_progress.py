"""A real cycle's progress (sync.progress): the steps it reports against the sandbox, and
the daemon's cycle_progress lines and step gauges for it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handoff_sync.config.load import load_config
from handoff_sync.daemon.scheduler import Daemon
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store, sqlite_url_for
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync.cycle import PipelineRunner
from handoff_sync.sync.progress import STEPS, ProgressEvent
from tests.e2e.sync_support import configured_sandbox, sync_world

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # a Wednesday afternoon: business hours


def ends(events: list[ProgressEvent]) -> dict[str, ProgressEvent]:
    return {event.step: event for event in events if event.ended}


def test_a_full_cycle_reports_every_step_in_order_with_its_counts(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    with sync_world(sandbox, tmp_path, database_url=sqlite_url_for(tmp_path / "s.db"),
                    now=NOW) as world:
        events: list[ProgressEvent] = []
        report = world["runner"].run_cycle(progress=events.append)
        assert report.outcome in (RunOutcome.OK, RunOutcome.PARTIAL), report.message
        order = list(dict.fromkeys(event.step for event in events))
        assert order == list(STEPS)
        done = ends(events)
        assert set(done) == set(STEPS)  # every step that started ended
        counts = report.counts
        assert done["pull_prm"].done == counts["records_read_prm"] > 0
        assert done["pull_crm"].done == counts["records_read_crm"] > 0
        # The systems said how many records their queries match: the pulls had a total
        # (and so an ETA) before they ended, and ended on what they read.
        for side in ("pull_prm", "pull_crm"):
            assert any(e.total is not None and not e.ended and e.done > 0
                       for e in events if e.step == side), side
            assert done[side].total == done[side].done
        assert done["plan"].done == counts["deals"] > 0
        write = done["write"]
        # Every planned creation, write and task was dealt with; the first cycle writes.
        assert write.total is not None and write.done == write.total
        assert write.done >= counts["records_written"] + counts["tasks_created"] > 0
        # The count only grows within a step, and never passes its total.
        for step in STEPS:
            seen = [e.done for e in events if e.step == step]
            assert seen == sorted(seen), step
            assert all(e.total is None or e.done <= e.total for e in events if e.step == step)

        # A quiet second cycle: no describe, nothing to write, and says so.
        again: list[ProgressEvent] = []
        world["runner"].run_cycle(progress=again.append)
        quiet = ends(again)
        assert "describe" not in quiet
        assert quiet["write"].total == quiet["write"].done



def test_the_daemon_logs_each_step_and_keeps_the_step_gauges(
        sandbox: SandboxServer, tmp_path: Path, logs: list[dict[str, Any]]) -> None:
    config = load_config(configured_sandbox(
        sandbox, tmp_path, database_url=sqlite_url_for(tmp_path / "s.db")))
    store = Store.connect(config.database.url)
    store.migrate()
    daemon = Daemon(config, store, lambda pipeline: PipelineRunner(
        config, pipeline, store, holder="e2e"), holder="e2e")
    try:
        report = daemon.run_pipeline("partners", full=True)
    finally:
        daemon.shutdown()
    assert report is not None and report.outcome in (RunOutcome.OK, RunOutcome.PARTIAL)
    lines = [entry for entry in logs if entry["event"] == "cycle_progress"]
    finished = {(line["phase"], line.get("side")): line for line in lines if line["ended"]}
    assert set(finished) == {("describe", None), ("pull", "prm"), ("pull", "crm"),
                             ("plan", None), ("write", None), ("record", None)}
    assert all(line["pipeline"] == "partners" and line["run_id"] == report.run_id
               for line in lines)
    assert finished[("pull", "crm")]["done"] == report.counts["records_read_crm"]
    assert finished[("plan", None)]["done"] == report.counts["deals"]
    write = finished[("write", None)]
    assert write["done"] == write["total"] > 0
    value = daemon.metrics.value
    assert value("handoff_sync_cycle_step_done", pipeline="partners",
                 phase="pull_prm") == report.counts["records_read_prm"]
    assert value("handoff_sync_cycle_step_total", pipeline="partners",
                 phase="write") == write["total"]
    assert value("handoff_sync_cycle_step_total", pipeline="partners",
                 phase="pull_crm") == report.counts["records_read_crm"]
    assert finished[("pull", "prm")]["total"] == report.counts["records_read_prm"]
    assert all(value("handoff_sync_cycle_step_running", pipeline="partners", phase=step) == 0
               for step in STEPS)  # the cycle is over
