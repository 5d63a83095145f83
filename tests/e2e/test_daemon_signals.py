"""Signals, in a real process: the first lets the cycle in hand finish its batch and exits
0 with leases released; a second exits at once with 130.

The process runs ``Daemon.run_forever()`` over the real store (a SQLite file) and the
fake runner of handoff_sync.testing.daemon (the real runner needs live systems; the e2e
suite covers that).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from handoff_sync.store import Store, sqlite_url_for
from handoff_sync.testing.daemon import open_store, wait_for

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from pathlib import Path

from handoff_sync.daemon.scheduler import Daemon
from handoff_sync.daemon.logs import configure_logging
from handoff_sync.store import Store, sqlite_url_for
from handoff_sync.testing.daemon import FakeRunner, make_config

folder, mode = Path(sys.argv[1]), sys.argv[2]
configure_logging("info", "json")


def factory(pipeline):
    # A minute of 50 ms batches: only a stop request ends it early.
    return FakeRunner(pipeline.name, batches=1200, batch_seconds=0.05,
                      ignore_stop=(mode == "stubborn"),
                      on_start=lambda: (folder / "started").touch(),
                      on_end=lambda report: (folder / "finished").write_text(report.outcome))


store = Store.connect(sqlite_url_for(folder / "state.db"))
sys.exit(Daemon(make_config(), store, factory).run_forever())
"""


def start(tmp_path: Path, mode: str) -> subprocess.Popen[str]:
    open_store(tmp_path).close()  # migrated
    script = tmp_path / "daemon_script.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, str(script), str(tmp_path), mode], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    if not wait_for(lambda: (tmp_path / "started").exists() or process.poll() is not None,
                    timeout=30):
        process.kill()
        pytest.fail("the daemon never started its first cycle")
    assert process.poll() is None, process.communicate()[1]
    return process


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_finishes_the_batch_in_hand_and_exits_0(tmp_path: Path,
                                                         sig: signal.Signals) -> None:
    process = start(tmp_path, "normal")
    began = time.monotonic()
    process.send_signal(sig)
    try:
        _, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"still running 10 s after {sig.name}")
    assert process.returncode == 0, stderr
    assert time.monotonic() - began < 10
    assert (tmp_path / "finished").read_text() == "interrupted"  # the runner recorded it
    with Store.connect(sqlite_url_for(tmp_path / "state.db")) as store:
        assert store.lease("pipeline:alpha") is None  # released on the way out
    assert '"event": "cycle_finished"' in stderr and '"outcome": "interrupted"' in stderr
    assert f'"signal": "{sig.name}"' in stderr and '"event": "daemon_stopped"' in stderr


def test_a_second_signal_exits_at_once_with_130(tmp_path: Path) -> None:
    process = start(tmp_path, "stubborn")  # this cycle ignores the stop request
    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert process.poll() is None  # still waiting for the batch in hand
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("a second SIGTERM did not end the process")
    assert process.returncode == 130
    assert time.monotonic() - began < 5
    assert "second signal" in stderr
    assert not (tmp_path / "finished").exists()
    with Store.connect(sqlite_url_for(tmp_path / "state.db")) as store:
        held = store.lease("pipeline:alpha")  # not released: it expires on its own
    assert held is not None and held[0].startswith(socket.gethostname() + ":")
