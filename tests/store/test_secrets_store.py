"""Secrets and file modes where the store is involved: the SQLite store and its WAL are
created owner-only, a store others may read or write is warned about, and the daemon's
JSON log redacts a secret in a failed cycle's exception (the rest of the secrets rules,
without a database, are in tests/unit/test_secrets.py)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from handoff_sync.config.secrets import SecretSource, read_secret
from handoff_sync.daemon.logs import configure_logging
from handoff_sync.daemon.scheduler import Daemon
from handoff_sync.safety import redaction
from handoff_sync.store import Store, sqlite_url_for
from handoff_sync.testing.daemon import FakeRunner, make_config, open_store
from tests.unit.test_secrets import TOKEN


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    redaction.forget_all()
    yield


def test_the_daemon_json_log_redacts_a_secret_in_the_exception_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token_file = tmp_path / "hs-token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    read_secret(SecretSource(file=token_file), {})  # as building the connector does

    class Leaky(FakeRunner):
        def run_cycle(self, **kwargs: Any) -> Any:
            # What http.client raised before secrets were checked: an unexpected error.
            raise ValueError(f"Invalid header value b'Bearer {TOKEN}\\nsecond-line'")

    configure_logging("info", "json")
    store = open_store(tmp_path)
    daemon = Daemon(make_config(), store, lambda pipeline: Leaky(pipeline.name),
                    holder="me:1:a")
    try:
        for _ in range(2):  # every cycle
            assert daemon.run_pipeline("alpha") is None
    finally:
        daemon.shutdown()
    err = capsys.readouterr().err
    failed = [json.loads(x) for x in err.splitlines() if '"cycle_failed"' in x]
    assert len(failed) == 2
    for line in failed:
        assert "Traceback" in line["exception"] and "ValueError" in line["exception"]
        assert "Bearer [redacted]" in line["exception"]
        assert "Bearer [redacted]" in line["message"]
    assert TOKEN not in err


def test_the_sqlite_store_and_its_wal_are_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "state" / "handoff-sync.db"
    umask = os.umask(0)  # whatever the umask, the store holds a copy of CRM data
    try:
        with Store.connect(sqlite_url_for(path)) as store:
            store.migrate()
            files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            assert all(f.exists() for f in files)
            assert {oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {"0o600"}
    finally:
        os.umask(umask)


def test_an_existing_world_readable_store_is_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "handoff-sync.db"
    Store.connect(sqlite_url_for(path)).close()
    path.chmod(0o644)
    with capture_logs() as captured, Store.connect(sqlite_url_for(path)):
        pass
    [warning] = [e for e in captured if e["event"] == "database_file_world_readable"]
    assert f"chmod 600 {path}" in warning["hint"] and warning["file"] == str(path)
    path.chmod(0o600)
    with capture_logs() as captured, Store.connect(sqlite_url_for(path)):
        pass
    assert captured == []


def test_a_store_others_may_write_is_warned_about_as_writable(tmp_path: Path) -> None:
    path = tmp_path / "handoff-sync.db"
    Store.connect(sqlite_url_for(path)).close()
    path.chmod(0o602)
    with capture_logs() as captured, Store.connect(sqlite_url_for(path)):
        pass
    [warning] = [e for e in captured if e["event"] == "database_file_world_writable"]
    assert f"chmod o-w {path} {path}-wal {path}-shm" in warning["hint"]

