"""The probe and scrape endpoints, over real HTTP on 127.0.0.1 with a port the OS picks."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from structlog.testing import capture_logs

from handoff_sync.health import HealthServer, store_readiness
from handoff_sync.metrics import Metrics
from tests.unit.test_daemon_support import ObservedStore, make_report, open_store


class Probe:
    """A health server over a real store (SQLite file), with liveness the test switches."""

    def __init__(self, store: ObservedStore) -> None:
        self.store = store
        self.alive = True
        self.metrics = Metrics()
        self.server = HealthServer("127.0.0.1", 0, metrics=self.metrics,
                                   liveness=lambda: self.alive,
                                   readiness=store_readiness(self.store))

    def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        try:
            with urllib.request.urlopen(self.server.url + path, timeout=5) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), dict(exc.headers)


def serve(store: ObservedStore) -> Iterator[Probe]:
    p = Probe(store)
    p.server.start()
    try:
        yield p
    finally:
        p.server.stop()
        store.close()


@pytest.fixture
def probe(tmp_path: Path) -> Iterator[Probe]:
    yield from serve(open_store(tmp_path))


def test_healthz_is_ok_while_running_and_503_when_stopping(probe: Probe) -> None:
    assert probe.get("/healthz")[:2] == (200, "ok\n")
    probe.alive = False
    assert probe.get("/healthz")[:2] == (503, "stopping\n")


def test_readyz_when_the_database_answers_and_the_schema_is_current(probe: Probe) -> None:
    assert probe.get("/readyz")[:2] == (200, "ready\n")


def test_readyz_names_an_outdated_schema(tmp_path: Path) -> None:
    for probe in serve(open_store(tmp_path, migrate=False)):
        status, body, _ = probe.get("/readyz")
        assert status == 503
        assert body.startswith("not ready: schema not current: ")
        assert "handoff-sync migrate" in body and body.count("\n") == 1


def test_readyz_names_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    store = open_store(tmp_path / "db")
    assert store_readiness(store)() is None
    store.close()  # drop pooled connections: the next query must open the file again
    shutil.rmtree(tmp_path / "db")
    for probe in serve(store):
        status, body, _ = probe.get("/readyz")
        assert status == 503 and body.count("\n") == 1
        assert body.startswith("not ready: database not answering: ")
        assert "unable to open database file" in body


def test_metrics_serves_the_registry_with_the_exposition_content_type(probe: Probe) -> None:
    probe.metrics.observe(make_report("alpha", counts={"records_read": 12}))
    status, body, headers = probe.get("/metrics")
    assert status == 200 and headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert 'handoff_sync_records_read_total{pipeline="alpha"} 12.0' in body


@pytest.mark.parametrize("path", ["/", "/health", "/metrics/x", "/readyz/../admin"])
def test_anything_else_is_404(probe: Probe, path: str) -> None:
    assert probe.get(path)[0] == 404


def test_a_query_string_does_not_change_the_answer(probe: Probe) -> None:
    assert probe.get("/healthz?verbose=1")[:2] == (200, "ok\n")


def test_port_0_picks_a_port_and_the_url_is_logged() -> None:
    metrics = Metrics()
    server = HealthServer("127.0.0.1", 0, metrics=metrics, liveness=lambda: True,
                          readiness=lambda: None)
    with capture_logs() as logs:
        server.start()
    try:
        assert server.port > 0
        [line] = [entry for entry in logs if entry["event"] == "health_listening"]
        assert line["url"] == f"http://127.0.0.1:{server.port}" == server.url
    finally:
        server.stop()


def test_ipv6_loopback_url_has_brackets() -> None:
    try:
        server = HealthServer("::1", 0, metrics=Metrics(), liveness=lambda: True,
                              readiness=lambda: None)
    except OSError:
        pytest.skip("no IPv6 loopback on this host")
    try:
        server.start()
        assert server.url == f"http://[::1]:{server.port}"
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
            assert response.status == 200
    finally:
        server.stop()


def test_requests_are_not_logged(probe: Probe, capfd: pytest.CaptureFixture[str]) -> None:
    probe.get("/healthz")
    probe.get("/nothing")
    captured: Any = capfd.readouterr()
    assert "GET /healthz" not in captured.err and "GET /nothing" not in captured.err


def test_stop_frees_the_port() -> None:
    server = HealthServer("127.0.0.1", 0, metrics=Metrics(), liveness=lambda: True,
                          readiness=lambda: None)
    server.start()
    port = server.port
    server.stop()
    again = HealthServer("127.0.0.1", port, metrics=Metrics(), liveness=lambda: True,
                         readiness=lambda: None)
    again.stop()
