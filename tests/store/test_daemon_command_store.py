"""`handoff-sync run` against a real database, before a cycle ever runs: an unmigrated
schema and another replica's lease (the config checks are in tests/unit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handoff_sync.store import Store, sqlite_url_for
from tests.unit.test_daemon_command import run, write_config


def test_an_unmigrated_database_is_exit_2_saying_migrate(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, sqlite_url_for(tmp_path / "state.db"))
    assert run("--config", str(path)) == 2
    assert "handoff-sync migrate" in capsys.readouterr().err


def test_once_respects_another_replicas_lease(tmp_path: Path) -> None:
    url = sqlite_url_for(tmp_path / "state.db")
    with Store.connect(url) as store:
        store.migrate()
        assert store.try_lease("pipeline:partners", "other:9:b", timedelta(minutes=10),
                               datetime.now(UTC))
    # The cycle is skipped before a runner (and its connectors) is built: a clean exit.
    assert run("--config", str(write_config(tmp_path, url)), "--once") == 0
    with Store.connect(url) as store:
        lease = store.lease("pipeline:partners")
    assert lease is not None and lease[0] == "other:9:b"


def test_a_port_in_use_is_exit_2_saying_which_key_to_change(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Through the real entry point: the daemon refuses, the command line says why once."""
    import socket

    from handoff_sync.cli.main import main

    url = sqlite_url_for(tmp_path / "state.db")
    with Store.connect(url) as store:
        store.migrate()
    path = write_config(tmp_path, url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path.write_text(path.read_text().replace("port: 0", f"port: {port}"))
        assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    last = err.splitlines()[-1]  # after the daemon's own shutdown log lines
    assert last.startswith(f"handoff-sync run: cannot listen on 127.0.0.1:{port}")
    assert "set server.port" in last and "Traceback" not in err
