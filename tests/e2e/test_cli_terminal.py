"""What a person at a terminal sees from a one-shot command: the summary, not a log line
per review item; piped (cron, a log shipper), the same command keeps its info lines."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from handoff_sync.cli.main import default_log_level
from handoff_sync.sandbox.server import SandboxServer


def test_one_shot_commands_log_warnings_only_on_a_terminal() -> None:
    assert default_log_level("sync", terminal=True) == "warning"
    assert default_log_level("plan", terminal=True) == "warning"
    assert default_log_level("sync", terminal=False) == "info"
    assert default_log_level("run", terminal=True) == "info"  # the daemon's lines are its output
    assert default_log_level("sandbox", terminal=True) == "info"


def sync(config: Path, *, terminal: bool) -> tuple[str, str]:
    """`handoff-sync sync` with stderr on a pseudo-terminal (as in a shell) or a pipe."""
    command = [sys.executable, "-m", "handoff_sync.cli", "sync", "--config", str(config)]
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout, done.stderr
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower,
                                   text=True)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        stdout = process.communicate(timeout=120)[0]
        assert process.returncode == 0, b"".join(chunks).decode()
        return stdout, b"".join(chunks).decode("utf-8", "replace")
    finally:
        os.close(leader)


def test_sync_on_a_terminal_prints_its_summary_without_info_lines(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    from handoff_sync.cli.main import main

    sandbox.sandbox.seed(deals=40, partners=4, random_seed=7)
    config = tmp_path / "handoff-sync.yaml"
    assert main(["init", "--sandbox", sandbox.base_url, "--out", str(config)]) == 0
    assert main(["migrate", "--config", str(config)]) == 0
    out, err = sync(config, terminal=True)
    assert "pipeline partners: full cycle" in out and "wrote" in out
    assert "review_opened" not in err and "cycle_recorded" not in err, err[:2000]
    out, err = sync(config, terminal=False)
    assert "pipeline partners:" in out
    assert '"event": "cycle_recorded"' in err  # JSON lines for whoever collects them
