"""`handoff-sync run`: what it says and returns before a cycle ever runs (config, store,
schema, leases; the checks on a real database are in tests/store). A real cycle needs live
systems: the e2e suite runs those."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from handoff_sync.cli.run import add_run_command
from handoff_sync.store import sqlite_url_for

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
version: 1
database: {{url: "{url}"}}
server: {{host: 127.0.0.1, port: 0}}
schedule: {{interval_seconds: 60, jitter_seconds: 0, lease_seconds: 60}}
connections:
  crm: {{system: salesforce, auth: jwt_bearer, client_id: abc, username: u@example.com,
        private_key: "${{SF_JWT_KEY}}"}}
  prm: {{system: hubspot, access_token: "${{HS_TOKEN}}"}}
pipelines:
  - {{name: partners, prm: prm, crm: crm, mappings: "{mappings}"}}
"""


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="handoff-sync")
    add_run_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["run", *argv])
    code: int = args.func(args)
    return code


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "handoff-sync.yaml"
    path.write_text(CONFIG.format(url=url, mappings=ROOT / "mappings"))
    return path


def test_a_missing_config_is_exit_2_with_the_fix(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--config", str(tmp_path / "nope.yaml")) == 2
    err = capsys.readouterr().err
    assert err.startswith("handoff-sync run: config file") and "handoff-sync init" in err


def test_an_invalid_config_names_file_line_and_key(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, sqlite_url_for(tmp_path / "state.db"))
    path.write_text(path.read_text().replace("interval_seconds: 60", "interval_seconds: 1"))
    assert run("--config", str(path), "--once") == 2
    err = capsys.readouterr().err
    assert f"{path}:4:" in err and "interval_seconds" in err
    assert "Traceback" not in err


def test_an_unreachable_database_is_exit_1(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    path = write_config(tmp_path, sqlite_url_for(blocker / "state.db"))
    assert run("--config", str(path), "--once") == 1
    assert "handoff-sync run: cannot" in capsys.readouterr().err


