"""`handoff-sync run` with console.enabled: the console and the probes on one port, and
no console without a login on an address other machines reach."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from handoff_sync.cli.main import main
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import sqlite_url_for
from handoff_sync.testing.daemon import wait_for
from tests.console.support import console_section
from tests.e2e.sync_support import configured_sandbox, http_get, running_daemon


def console_config(sandbox: SandboxServer, folder: Path, *, host: str = "127.0.0.1") -> Path:
    path = configured_sandbox(sandbox, folder, deals=6,
                              database_url=sqlite_url_for(folder / "state.db"))
    text = path.read_text(encoding="utf-8").replace("port: 9464", "port: 0")
    text = text.replace("host: 127.0.0.1", f"host: {host}", 1)
    path.write_text(text + console_section(users=False, extra="enabled: true"),
                    encoding="utf-8")
    assert main(["--log-level", "error", "migrate", "--config", str(path)]) == 0
    return path


def listening_url(log_file: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
            if '"console_listening"' in line:
                return str(json.loads(line)["url"])
        time.sleep(0.1)
    raise AssertionError(f"no console_listening line in {log_file}:\n{log_file.read_text()}")


def test_run_serves_the_console_beside_the_probes_on_one_port(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    config = console_config(sandbox, tmp_path)
    with running_daemon(config, tmp_path / "daemon.log") as process:
        url = listening_url(tmp_path / "daemon.log")
        assert http_get(url + "/healthz") == (200, "ok\n")
        assert wait_for(lambda: http_get(url + "/readyz") == (200, "ready\n"), timeout=60)
        status, body = http_get(url + "/metrics")
        assert status == 200 and "handoff_sync_" in body
        # Loopback without users: the local operator sees the page without a login.
        status, page = http_get(url + "/health")
        assert status == 200 and "Sync health" in page and "partners" in page
        assert process.poll() is None


def test_run_refuses_a_console_without_login_on_a_public_address(
        sandbox: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = console_config(sandbox, tmp_path, host="0.0.0.0")
    capsys.readouterr()
    code = main(["--log-level", "error", "run", "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("handoff-sync run: console.enabled serves the console on "
                          "server.host, and the console would listen on 0.0.0.0 with no "
                          "login: add console.users")
    assert "Traceback" not in err
