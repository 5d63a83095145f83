"""What a person at a terminal sees from a one-shot command: the summary, not a log line
per review item; piped (cron, a log shipper), the same command keeps its info lines."""

from __future__ import annotations

import json
import os
import pty
import re
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


def sync(config: Path, *extra: str, terminal: bool,
         env: dict[str, str] | None = None) -> tuple[str, str]:
    """`handoff-sync sync` with stderr on a pseudo-terminal (as in a shell) or a pipe."""
    command = [sys.executable, "-m", "handoff_sync.cli", "sync", "--config", str(config),
               *extra]
    environ = {**os.environ, **(env or {})}
    if not terminal:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              env=environ)
        assert done.returncode == 0, done.stderr
        return done.stdout, done.stderr
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower,
                                   text=True, env=environ)
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


STEPS = ("describe", "pull prm", "pull crm", "plan", "write", "record")


def test_sync_on_a_terminal_prints_its_summary_without_info_lines(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    """...and draws each step of the cycle with its count while it runs (stderr, gone at
    the end); piped, under --json or TERM=dumb, not one byte of that."""
    from handoff_sync.cli.main import main

    sandbox.sandbox.seed(deals=40, partners=4, random_seed=7)
    config = tmp_path / "handoff-sync.yaml"
    assert main(["init", "--sandbox", sandbox.base_url, "--out", str(config)]) == 0
    assert main(["migrate", "--config", str(config)]) == 0
    out, err = sync(config, terminal=True, env={"TERM": "xterm-256color", "COLUMNS": "150"})
    assert "pipeline partners: full cycle" in out and "wrote" in out
    assert "review_opened" not in err and "cycle_recorded" not in err, err[:2000]
    for step in STEPS:
        assert f"partners {step}" in err, err[-3000:]
    read = re.search(r"read +\d+ records \(prm (\d+), crm (\d+)\), (\d+) deals planned",
                     out)
    assert read is not None, out
    prm, crm, deals = (int(figure) for figure in read.groups())
    assert f"{prm:,}/{prm:,} records" in err and f"{crm:,}/{crm:,} records" in err
    assert f"{deals:,}/{deals:,} deals" in err
    assert re.search(r"\d+/\d+ writes", err)

    out, err = sync(config, terminal=False)
    assert "pipeline partners:" in out
    assert '"event": "cycle_recorded"' in err  # JSON lines for whoever collects them
    assert "partners pull" not in err and "\x1b[" not in err
    assert all(json.loads(line)["event"] for line in err.splitlines())  # each line whole

    for env in ({"TERM": "dumb"}, {"TERM": "xterm"}):  # can't redraw; --json is for programs
        extra = ("--json",) if env["TERM"] == "xterm" else ()
        out, err = sync(config, *extra, terminal=True, env=env)
        assert "partners pull" not in err and "━" not in err, (env, err[-2000:])
        assert out.startswith("[") if extra else out.startswith("pipeline partners:")
