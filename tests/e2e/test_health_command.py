"""`handoff-sync health`: the probe a container's HEALTHCHECK runs, against a real health
server on the port the config names; and where the Docker image's SQLite store lands."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from handoff_sync.cli.main import main
from handoff_sync.config.load import load_config
from handoff_sync.daemon.health import HealthServer
from handoff_sync.daemon.metrics import Metrics
from handoff_sync.errors import ConfigError
from handoff_sync.testing.builders import minimal_config


def config_with_server(tmp_path: Path, port: int, host: str = "127.0.0.1") -> Path:
    path = tmp_path / "handoff-sync.yaml"
    path.write_text(minimal_config("sqlite:///state.db")
                    + f"server: {{host: '{host}', port: {port}}}\n")
    return path


def serving(readiness: str | None) -> HealthServer:
    server = HealthServer("127.0.0.1", 0, metrics=Metrics(), liveness=lambda: True,
                          readiness=lambda: readiness)
    server.start()
    return server


def test_ready_daemon_exits_0_on_the_configured_port(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    server = serving(None)
    try:
        # 0.0.0.0 in the config (a container) is probed on loopback.
        config = config_with_server(tmp_path, server.port, host="0.0.0.0")
        assert main(["health", "--config", str(config)]) == 0
    finally:
        server.stop()
    # (the server's own log line may come first: it runs in this process)
    assert capsys.readouterr().out.strip().splitlines()[-1] == \
        f"http://127.0.0.1:{server.port}/readyz: ready"


def test_unready_daemon_exits_1_with_its_reason(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    server = serving("pipeline partners failed 3 cycles in a row (auth)")
    try:
        config = config_with_server(tmp_path, server.port)
        assert main(["health", "--config", str(config), "--json"]) == 1
        answer = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert answer["ok"] is False and answer["status"] == 503
        assert answer["answer"] == "not ready: pipeline partners failed 3 cycles in a row (auth)"
        # --live asks /healthz, which only says the process serves.
        assert main(["health", "--config", str(config), "--live"]) == 0
    finally:
        server.stop()


def test_nothing_listening_says_what_to_check(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = config_with_server(tmp_path, port)
    assert main(["health", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert f"127.0.0.1:{port}/readyz: no answer: connection refused" in out
    assert "is `handoff-sync run` running with this config" in out


def test_config_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    server = serving(None)
    try:
        monkeypatch.setenv("HANDOFF_SYNC_CONFIG", str(config_with_server(tmp_path, server.port)))
        monkeypatch.chdir(tmp_path.parent)  # no ./handoff-sync.yaml here
        assert main(["health"]) == 0
    finally:
        server.stop()
    assert "ready" in capsys.readouterr().out


def test_data_dir_holds_a_relative_sqlite_store(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config").mkdir()
    config = config_with_server(tmp_path / "config", 9464)
    assert load_config(config).database.url == f"sqlite:///{tmp_path / 'config' / 'state.db'}"
    monkeypatch.setenv("HANDOFF_SYNC_DATA_DIR", str(tmp_path / "data"))
    assert load_config(config).database.url == f"sqlite:///{tmp_path / 'data' / 'state.db'}"


def test_an_existing_store_beside_the_config_is_kept_after_an_upgrade(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An install from before $HANDOFF_SYNC_DATA_DIR keeps its store beside the config:
    the new image must use it, not start an empty one in /data."""
    (tmp_path / "config").mkdir()
    (tmp_path / "data").mkdir()
    config = config_with_server(tmp_path / "config", 9464)
    (tmp_path / "config" / "state.db").write_bytes(b"")  # the old store
    monkeypatch.setenv("HANDOFF_SYNC_DATA_DIR", str(tmp_path / "data"))
    assert load_config(config).database.url == f"sqlite:///{tmp_path / 'config' / 'state.db'}"
    (tmp_path / "data" / "state.db").write_bytes(b"")  # once moved, the data folder's wins
    assert load_config(config).database.url == f"sqlite:///{tmp_path / 'data' / 'state.db'}"


def test_a_relative_data_dir_is_refused_with_the_fix(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    config = config_with_server(tmp_path, 9464)
    monkeypatch.setenv("HANDOFF_SYNC_DATA_DIR", "data")
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    assert "$HANDOFF_SYNC_DATA_DIR is 'data': it must be an absolute folder" in str(refused.value)

