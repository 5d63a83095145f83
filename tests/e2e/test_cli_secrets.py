"""A bad secret or a full disk, as an operator meets them: `sync --once` and `run --once`
against the sandbox exit non-zero with one clear line, no traceback, and the secret in no
output (stdout, stderr, JSON log lines); what was already synced is kept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event

from handoff_sync import redaction
from handoff_sync.cli import main
from handoff_sync.sandbox.core.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.types import RunKind, RunOutcome
from tests.e2e.sync_support import configured_sandbox


@pytest.fixture
def config(sandbox: SandboxServer, tmp_path: Path) -> Iterator[Path]:
    file = configured_sandbox(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/hs.db",
                              deals=20, partners=3)
    assert main(["--log-level", "error", "migrate", "--config", str(file)]) == 0
    yield file
    redaction.forget_all()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--log-format", "json", "--log-level", "info", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_token_file_with_a_second_line_stops_sync_with_one_clear_line(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token_file = config.parent / "secrets" / "hubspot-access-token"
    token = token_file.read_text(encoding="utf-8").strip()
    token_file.write_text(f"{token}\nsecond-line\n", encoding="utf-8")

    code, out, err = run(capsys, "sync", "--once", "--config", str(config))
    assert code == 1
    assert f"file {token_file} holds a second line" in err
    assert "Traceback" not in out + err
    assert token not in out + err

    # The daemon, logging JSON lines: each failed cycle says why, without the token.
    code, out, err = run(capsys, "run", "--once", "--config", str(config))
    assert code == 1
    [failed] = [e for e in json_lines(err) if e["event"] == "cycle_failed"]
    assert f"file {token_file} holds a second line" in failed["message"]
    assert "exception" not in failed  # a configuration problem, not a bug
    assert "Traceback" not in out + err and token not in out + err


def test_a_missing_secret_file_is_one_line_without_a_traceback(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_file = config.parent / "secrets" / "salesforce-jwt-key.pem"
    key_file.unlink()
    code, out, err = run(capsys, "sync", "--once", "--config", str(config))
    assert code == 1 and "Traceback" not in out + err
    assert err.strip().splitlines()[-1] == (
        f"handoff-sync sync: pipeline partners: salesforce: private_key: file {key_file} not "
        "found: create it holding the secret, or fix the path in the config")


@contextmanager
def full_disk() -> Iterator[None]:
    """Every new SQLite connection may not grow its database: SQLite's own "database or
    disk is full", as on a full disk."""

    def no_growth(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA max_page_count = 1")  # clamped to the current size
        cursor.close()

    event.listen(Engine, "connect", no_growth)
    try:
        yield
    finally:
        event.remove(Engine, "connect", no_growth)


def test_a_full_disk_fails_the_sync_with_what_to_do_and_loses_nothing(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = f"sqlite:///{config.parent}/hs.db"
    with full_disk():
        code, out, err = run(capsys, "sync", "--once", "--config", str(config))
    assert code == 1 and "Traceback" not in out + err
    last = err.strip().splitlines()[-1]
    assert last.startswith("handoff-sync sync: ") and "database or disk is full: free space " \
        "on the disk holding the database, then run again" in last
    with Store.connect(database) as store:
        state = store.load_pipeline("partners")
    assert not state.engine.links and not state.checkpoints  # all or nothing

    # Space freed: the redo completes as a clean first run would.
    code, out, _ = run(capsys, "sync", "--once", "--json", "--config", str(config))
    [summary] = json.loads(out)
    assert code == 0 and summary["outcome"] == "ok" and summary["kind"] == "full"
    with Store.connect(database) as store:
        assert store.load_pipeline("partners").engine.links


def test_status_never_shows_a_secret_a_recorded_message_carries(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = (config.parent / "secrets" / "hubspot-access-token").read_text().strip()
    now = datetime.now(UTC)
    with Store.connect(f"sqlite:///{config.parent}/hs.db") as store:
        # As a vendor library's error text (or an older version) would have recorded it.
        store.start_run("partners", "r-leak", RunKind.INCREMENTAL, now, "h")
        store.finish_run("r-leak", now, RunOutcome.FAILED,
                         f"ValueError: Invalid header value b'Bearer {token}'", {}, {})
    code, out, err = run(capsys, "status", "--config", str(config), "--json")
    assert code == 0 and "Invalid header value b'Bearer [redacted]'" in out
    assert token not in out + err
    code, out, err = run(capsys, "status", "--config", str(config))
    assert code == 0 and token not in out + err
