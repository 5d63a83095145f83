"""The `handoff-sync` command as a user runs it: version, help, and the sandbox server."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from simple_salesforce import Salesforce

from handoff_sync import __version__
from handoff_sync.report.figures import SECTION_TITLES, SECTIONS

EXE = str(Path(sys.executable).with_name("handoff-sync"))


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=timeout)


def test_version_and_help() -> None:
    version = run("--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"handoff-sync {__version__}"
    help_ = run("--help")
    assert help_.returncode == 0
    assert "sandbox" in help_.stdout
    sandbox_help = run("sandbox", "--help")
    for option in ("--host", "--port", "--seed", "--deals", "--partners", "--random-seed",
                   "--ca-out"):
        assert option in sandbox_help.stdout


def test_sync_needs_no_once() -> None:
    """Issue 21: `sync` is one cycle; --once, once required, is optional and says so."""
    help_ = run("sync", "--help")
    assert help_.returncode == 0
    usage = " ".join(help_.stdout.split())
    assert usage.startswith("usage: handoff-sync sync [-h] [--config FILE] [--once] ")
    assert "print what it did and exit" in usage
    assert "--once the same as without it" in usage and "required" in usage


def test_report_help_lists_every_section_of_the_report_in_its_order() -> None:
    """What `report --help` says the report shows is what it shows (figures.SECTIONS)."""
    help_ = run("report", "--help")
    assert help_.returncode == 0
    text = " ".join(help_.stdout.split()).lower()
    at = [text.find(SECTION_TITLES[section].lower()) for section in SECTIONS]
    assert -1 not in at, [SECTION_TITLES[s] for s, i in zip(SECTIONS, at, strict=True)
                          if i < 0]
    assert at == sorted(at)
    # The one-line help `handoff-sync --help` lists names the sections too.
    listing = " ".join(run("--help").stdout.split()).lower()
    assert "maturity" in listing and "funnel" in listing and "readiness" in listing


def test_no_command_prints_help_and_fails() -> None:
    result = run()
    assert result.returncode == 2
    assert "usage: handoff-sync" in result.stdout


@pytest.fixture
def sandbox_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    ca = tmp_path / "ca.pem"
    proc = subprocess.Popen(
        [EXE, "sandbox", "--port", "0", "--deals", "40", "--partners", "3", "--ca-out", str(ca)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    base_url = ""
    for line in proc.stdout:
        match = re.search(r"listening on (https://127\.0\.0\.1:\d+)", line)
        if match:
            base_url = match.group(1)
            break
    assert base_url, proc.stderr.read() if proc.stderr else "no output"
    yield proc, base_url, ca
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _session(ca: Path) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca)
    return session


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sandbox_serves_seeded_data_and_stops_cleanly_on_signal(
    sandbox_process: tuple[subprocess.Popen[str], str, Path], sig: signal.Signals
) -> None:
    proc, base_url, ca = sandbox_process
    session = _session(ca)
    creds = session.get(f"{base_url}/__sandbox__/credentials", timeout=10).json()
    assert creds["base_url"] == base_url
    assert creds["ca_pem"] == ca.read_text()
    sf = Salesforce(instance_url=base_url, session_id=creds["salesforce"]["session_id"],
                    session=_session(ca), version=creds["salesforce"]["api_version"])
    assert sf.query("SELECT COUNT() FROM Deal_Registration__c")["totalSize"] == 40
    proc.send_signal(sig)
    assert proc.wait(timeout=10) == 0
    assert proc.stdout is not None and "stopped" in proc.stdout.read()


def test_sandbox_refuses_a_busy_port_with_a_clear_message() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("sandbox", "--port", str(port), "--seed", "empty")
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_sandbox_rejects_bad_options_without_a_traceback() -> None:
    result = run("sandbox", "--deals", "-5")
    assert result.returncode == 2
    assert "--deals" in result.stderr and "Traceback" not in result.stderr
