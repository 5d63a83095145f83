"""`handoff-sync migrate` as an operator runs it: what it prints, and its exit codes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from handoff_sync.cli.migrate import add_migrate_command
from handoff_sync.store import Store, sqlite_url_for
from handoff_sync.testing.builders import minimal_config


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_migrate_command(parser.add_subparsers())
    args = parser.parse_args(["migrate", *argv])
    code: int = args.func(args)
    return code


def test_migrate_then_migrate_again(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--database", store_url) == 0
    assert capsys.readouterr().out == (
        f"database {store_url}: migrated (empty) -> 0013_state_serial (applied: "
        "0001_initial, 0002_budget, 0003_crm_claims, 0004_field_holds, "
        "0005_stage_autopilot, 0006_handoff_decisions, 0007_partner_accounts, "
        "0008_handoff_baselines, 0009_mapping_audit, 0010_sync_requests, "
        "0011_review_names, 0012_store_footprint, 0013_state_serial)\n")
    assert run("--database", store_url) == 0
    assert capsys.readouterr().out == f"database {store_url}: already at 0013_state_serial\n"
    with Store.connect(store_url) as store:
        store.require_current_schema()


def test_the_database_comes_from_the_config_file(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "conf" / "handoff-sync.yaml"
    config.parent.mkdir()
    config.write_text(minimal_config("sqlite:///state/handoff-sync.db"))
    assert run("--config", str(config)) == 0
    # A relative SQLite path is relative to the config file's folder.
    database = tmp_path / "conf" / "state" / "handoff-sync.db"
    assert capsys.readouterr().out.startswith(
        f"database {sqlite_url_for(database)}: migrated (empty) -> 0013_state_serial")
    assert database.is_file()


def test_without_options_it_migrates_the_default_file_in_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert run() == 0
    assert capsys.readouterr().out.startswith("database sqlite:///handoff-sync.db: migrated")
    assert (tmp_path / "handoff-sync.db").is_file()


@pytest.mark.parametrize(("argv", "message"), [
    (("--database", "postgresql://sync:s3cret@127.0.0.1:1/hs"),
     "handoff-sync migrate: cannot open the database "
     "postgresql+psycopg://sync:***@127.0.0.1:1/hs: connection failed"),
    (("--database", "state.db"), "handoff-sync migrate: not a database URL: 'state.db'"),
    (("--config", "missing.yaml"), "handoff-sync migrate: config file missing.yaml not found"),
])
def test_problems_are_one_line_and_exit_1(argv: tuple[str, ...], message: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*argv) == 1
    out = capsys.readouterr().out
    assert out.startswith(message) and out.count("\n") == 1 and "s3cret" not in out


def test_json_says_from_to_and_what_was_applied(store_url: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--database", store_url, "--json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "database": store_url, "from": None, "to": "0013_state_serial", "changed": True,
        "applied": ["0001_initial", "0002_budget", "0003_crm_claims", "0004_field_holds",
                    "0005_stage_autopilot", "0006_handoff_decisions",
                    "0007_partner_accounts", "0008_handoff_baselines",
                    "0009_mapping_audit", "0010_sync_requests", "0011_review_names",
                    "0012_store_footprint", "0013_state_serial"]}
    assert run("--database", store_url, "--json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "database": store_url, "from": "0013_state_serial", "to": "0013_state_serial",
        "changed": False, "applied": []}


def test_json_errors_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--database", "state.db", "--json") == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("handoff-sync migrate: not a database URL: 'state.db'")
