"""`handoff-sync run` as real processes: one daemon's life, and two replicas on one pipeline.

One daemon on SQLite syncs a seeded org pair, answers /healthz and stops cleanly on
SIGTERM. Two replicas on one PostgreSQL database take turns through the pipeline's lease:
their recorded runs never overlap in time, and when the replica holding the pipeline is
killed (SIGKILL, no chance to release its lease) the other one takes over once the lease
lapses, within lease_seconds + interval_seconds + jitter and some slack.
"""

from __future__ import annotations

import itertools
import json
import signal
import time
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce import Salesforce
from sqlalchemy import select

from handoff_sync.sandbox.core.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.schema import SyncRun
from tests.e2e.sync_support import configured_sandbox, handoff_tasks, running_daemon
from tests.store_support import fresh_database_url, require_postgres

REPO = Path(__file__).resolve().parents[2]
INTERVAL_SECONDS = 5
JITTER_SECONDS = 5  # what `init --sandbox` writes
LEASE_SECONDS = 15
FIRST_RUN_WAIT_SECONDS = 60
STOP_WAIT_SECONDS = 10
TAKEOVER_WAIT_SECONDS = LEASE_SECONDS + INTERVAL_SECONDS + JITTER_SECONDS + 20


def daemon_config(server: SandboxServer, folder: Path, database_url: str) -> Path:
    """The sandbox config, with a free health port and a short lease; database migrated."""
    config = configured_sandbox(server, folder, database_url=database_url, deals=40,
                                interval_seconds=INTERVAL_SECONDS)
    lines = config.read_text(encoding="utf-8").splitlines()
    section = ""
    for index, line in enumerate(lines):
        if line and not line[0].isspace():
            section = line.split(":")[0]
        key = line.strip().split(":")[0]
        if section == "server" and key == "port":
            lines[index] = "  port: 0"  # several daemons must not fight over one port
        elif section == "schedule" and key == "lease_seconds":
            lines[index] = f"  lease_seconds: {LEASE_SECONDS}"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    text = config.read_text(encoding="utf-8")
    assert "  port: 0\n" in text and f"  lease_seconds: {LEASE_SECONDS}\n" in text
    with Store.connect(database_url) as store:
        store.migrate()
    return config


def log_events(log_file: Path) -> list[dict[str, Any]]:
    events = []
    for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def wait_until(what: str, check: Any, timeout: float, log_file: Path | None = None) -> Any:
    """Poll ``check()`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    tail = log_file.read_text(encoding="utf-8", errors="replace")[-3000:] if log_file else ""
    pytest.fail(f"{what} within {timeout:g} s\n{tail}")


def all_runs(store: Store) -> list[Any]:
    runs = SyncRun.__table__
    with store.engine.connect() as connection:
        return list(connection.execute(
            select(runs).where(runs.c.pipeline == "partners").order_by(runs.c.started_at)))


def holder_pid(holder: str | None) -> int:
    # daemon.default_holder(): "<host>:<pid>:<random hex>"
    assert holder is not None
    return int(holder.split(":")[1])


def test_daemon_syncs_and_stops_cleanly(sandbox: SandboxServer, sf: Salesforce,
                                        tmp_path: Path) -> None:
    with fresh_database_url("sqlite", tmp_path) as url:
        config = daemon_config(sandbox, tmp_path, url)
        log_file = tmp_path / "daemon.log"
        with running_daemon(config, log_file) as process, Store.connect(url) as store:

            def finished_run() -> dict[str, Any] | None:
                runs = store.status("partners", now=datetime.now(UTC))["pipelines"].get(
                    "partners", {}).get("runs", [])
                return next((r for r in runs if r["outcome"] in ("ok", "partial")), None)

            wait_until("a finished run", finished_run, FIRST_RUN_WAIT_SECONDS, log_file)
            assert handoff_tasks(sf), "the cycle opened handoff tasks in Salesforce"
            listening = next(e for e in log_events(log_file)
                             if e.get("event") == "health_listening")
            with urllib.request.urlopen(f"{listening['url']}/healthz", timeout=5) as answer:
                assert answer.status == 200
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=STOP_WAIT_SECONDS) == 0
        stopping = [e for e in log_events(log_file) if e.get("event") == "daemon_stopping"]
        assert stopping and stopping[0].get("signal") == "SIGTERM"


def test_two_replicas_share_one_pipeline(sandbox: SandboxServer, tmp_path: Path) -> None:
    require_postgres()
    with fresh_database_url("postgresql") as url, ExitStack() as stack:
        config = daemon_config(sandbox, tmp_path, url)
        logs = [tmp_path / f"replica-{n}.log" for n in (1, 2)]
        replicas = [stack.enter_context(running_daemon(config, log)) for log in logs]
        store = stack.enter_context(Store.connect(url))
        time.sleep(5 * INTERVAL_SECONDS)  # about five cycles' worth
        for replica, log in zip(replicas, logs, strict=True):
            assert replica.poll() is None, log.read_text(encoding="utf-8")[-3000:]

        runs = all_runs(store)
        finished = [r for r in runs if r.ended_at is not None]
        assert len(finished) >= 2, [tuple(r) for r in runs]
        for before, after in itertools.pairwise(runs):
            # One replica at a time: each run ends before the next one starts.
            assert before.ended_at is not None and before.ended_at <= after.started_at, (
                before.run_id, before.holder, after.run_id, after.holder)

        by_pid = {replica.pid: replica for replica in replicas}
        latest = runs[-1]
        victim = by_pid[holder_pid(latest.holder)]
        survivor = next(r for r in replicas if r is not victim)
        killed_at = datetime.now(UTC)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)

        def takeover() -> Any:
            return next((r for r in all_runs(store) if r.started_at > killed_at
                         and r.ended_at is not None and r.outcome in ("ok", "partial")), None)

        run = wait_until("the surviving replica records a new run", takeover,
                         TAKEOVER_WAIT_SECONDS, logs[replicas.index(survivor)])
        assert holder_pid(run.holder) == survivor.pid
        assert survivor.poll() is None
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=STOP_WAIT_SECONDS) == 0
