"""SIGTERM while the API budget guard waits: the process ends within seconds, cleanly.

Before, the guard slept out its wait (up to a day near the share; 15 minutes were seen),
so `sync --once` and the daemon ignored SIGTERM until it was over. Now the wait polls the
stop flag: the cycle ends "interrupted" with nothing recorded, and the next cycle
redoes the work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from handoff_sync.sandbox.core.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.schema import Checkpoint, SyncRun
from tests.e2e.sync_support import REPO, configured_sandbox
from tests.store_support import fresh_database_url

STOP_WAIT_SECONDS = 10  # the bound: SIGTERM ends a budget wait within 10 s
WAITING = "api budget nearly spent: slowing down"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database_url(request.param, tmp_path) as url:
        yield url


@contextmanager
def started(argv: list[str], output: Path) -> Iterator[subprocess.Popen[bytes]]:
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "handoff_sync.cli", "--log-format", "json", *argv],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=sink,
            stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def wait_for(output: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if text in output.read_text(errors="replace"):
            return
        if process.poll() is not None:
            pytest.fail(f"exited {process.returncode} before {text!r}:\n"
                        f"{output.read_text(errors='replace')}")
        time.sleep(0.2)
    pytest.fail(f"never saw {text!r}:\n{output.read_text(errors='replace')}")


@pytest.mark.parametrize("command", [["sync", "--once"], ["run"]])
def test_sigterm_ends_a_budget_wait_within_seconds_and_records_nothing(
        sandbox: SandboxServer, tmp_path: Path, database_url: str, command: list[str]) -> None:
    config = configured_sandbox(sandbox, tmp_path, database_url=database_url, deals=20)
    text = config.read_text(encoding="utf-8").replace("  port: 9464", "  port: 0")
    config.write_text(text, encoding="utf-8")
    with Store.connect(database_url) as store:
        store.migrate()
    # The org's allowance is 20 calls a day: the 20% share (4) is spent within the cycle.
    sandbox.sandbox.usage.quotas.salesforce_daily = 20
    output = tmp_path / "output.log"

    with started([*command, "--config", str(config)], output) as process:
        wait_for(output, WAITING, process)
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"SIGTERM did not end the budget wait:\n{output.read_text()}")

    log = output.read_text(errors="replace")
    assert code == 0, log
    assert "Traceback" not in log
    with Store.connect(database_url) as store, store.engine.connect() as connection:
        runs = connection.execute(select(SyncRun.outcome, SyncRun.message)).all()
        checkpoints = connection.execute(select(Checkpoint.system)).all()
    assert [run.outcome for run in runs] == ["interrupted"]
    assert "waiting for the API budget" in runs[0].message
    assert checkpoints == []  # nothing recorded: the next cycle pulls and writes again
