"""The probe and scrape endpoints, over real HTTP on 127.0.0.1 with a port the OS picks."""

from __future__ import annotations

import secrets
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from psycopg import sql
from sqlalchemy import text
from structlog.testing import capture_logs

from handoff_sync.daemon.health import HealthServer, store_readiness
from handoff_sync.daemon.metrics import Metrics
from handoff_sync.store import Store
from handoff_sync.store.types import RunKind, RunOutcome
from handoff_sync.testing.daemon import T0, ObservedStore, make_report, open_store
from tests.store_support import PG_ADMIN_URL, fresh_database_url


def open_store_at(url: str) -> ObservedStore:
    store = ObservedStore.connect(url)
    assert isinstance(store, ObservedStore)
    store.migrate()
    return store


class Probe:
    """A health server over a real store (SQLite file), with liveness the test switches."""

    def __init__(self, store: ObservedStore, pipelines: tuple[str, ...] = ()) -> None:
        self.store = store
        self.alive = True
        self.metrics = Metrics()
        self.server = HealthServer("127.0.0.1", 0, metrics=self.metrics,
                                   liveness=lambda: self.alive,
                                   readiness=store_readiness(self.store, pipelines))

    def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        try:
            with urllib.request.urlopen(self.server.url + path, timeout=5) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), dict(exc.headers)


def serve(store: ObservedStore, pipelines: tuple[str, ...] = ()) -> Iterator[Probe]:
    p = Probe(store, pipelines)
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
        # What failed and the driver's error class; never the file, URL, user or host.
        assert body == "not ready: database unreachable (sqlite3.OperationalError)\n"


def test_readyz_on_postgresql_names_neither_user_nor_host() -> None:
    with fresh_database_url("postgresql") as url:
        store = open_store_at(url)
        assert store_readiness(store)() is None
        store.close()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:  # the database goes
            name = url.rsplit("/", 1)[1]
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        for probe in serve(store):
            status, body, _ = probe.get("/readyz")
            assert (status, body) == (503, "not ready: database unreachable "
                                           "(psycopg.OperationalError)\n")
            user_host = url.split("://", 1)[1].split("/", 1)[0]  # user@host:port
            for secret in (*user_host.replace("@", ":").split(":"), name):
                assert secret not in body


def test_readyz_names_no_database_url_when_the_schema_is_outdated(tmp_path: Path) -> None:
    store = open_store(tmp_path, migrate=False)
    try:
        reason = store_readiness(store)()
    finally:
        store.close()
    assert reason is not None and str(tmp_path) not in reason and "sqlite" not in reason


def test_readyz_does_not_offer_migrate_for_a_database_newer_than_this_version(
        tmp_path: Path) -> None:
    for probe in serve(open_store(tmp_path)):
        with probe.store.engine.begin() as connection:  # as a newer version leaves it
            connection.execute(text("UPDATE alembic_version SET version_num = '0042'"))
        status, body, _ = probe.get("/readyz")
        assert status == 503
        # The same words as `run` and `migrate` print, without the database's URL.
        assert body == ("not ready: schema not current: the database is at revision 0042, "
                        "which this version of handoff-sync does not know (it needs "
                        f"{Store.head_revision()}): a newer version migrated it; run that "
                        "version\n")
        assert "migrate`" not in body and str(tmp_path) not in body


def record_runs(store: Store, pipeline: str, outcomes: list[RunOutcome],
                message: str = "AuthError: hubspot: the private app token was refused"
                ) -> None:
    """Run rows as sync.py leaves them, one minute apart after any already there."""
    start = T0 + timedelta(minutes=len(store.status(pipeline, now=T0)["pipelines"]
                                       [pipeline]["runs"]))
    for index, outcome in enumerate(outcomes):
        run_id = f"{pipeline}-{secrets.token_hex(3)}"
        started = start + timedelta(minutes=index)
        store.start_run(pipeline, run_id, RunKind.INCREMENTAL, started, "me")
        store.finish_run(run_id, started + timedelta(seconds=2), outcome,
                         message if outcome == RunOutcome.FAILED else None, {}, {})


def test_readyz_turns_503_after_3_failed_cycles_in_a_row_and_back_after_a_success(
        tmp_path: Path) -> None:
    store = open_store(tmp_path)
    ready = store_readiness(store, ["alpha", "beta"])
    record_runs(store, "alpha", [RunOutcome.OK, RunOutcome.FAILED, RunOutcome.FAILED])
    record_runs(store, "beta", [RunOutcome.FAILED] * 5)
    assert ready() == ("pipeline beta: 5 failed cycles in a row (auth; last at "
                       "2026-03-02T09:04:02+00:00): AuthError: hubspot: the private app "
                       "token was refused")
    # Interrupted and still-running runs neither count nor end the streak.
    record_runs(store, "alpha", [RunOutcome.INTERRUPTED, RunOutcome.FAILED])
    store.start_run("alpha", "alpha-running", RunKind.INCREMENTAL, T0 + timedelta(hours=1),
                    "me")
    reason = ready()
    assert reason is not None and reason.startswith("pipeline alpha: 3 failed cycles")
    assert "; pipeline beta: 5 failed cycles" in reason
    for probe in serve(store, ("alpha", "beta")):
        status, body, _ = probe.get("/readyz")
        assert status == 503 and body == f"not ready: {reason}\n"
        record_runs(store, "alpha", [RunOutcome.PARTIAL])
        record_runs(store, "beta", [RunOutcome.OK])
        assert probe.get("/readyz")[:2] == (200, "ready\n")
    # The count is the store's: another process (a restarted daemon) sees the same.
    again = open_store(tmp_path)
    record_runs(again, "beta", [RunOutcome.FAILED] * 2)
    assert store_readiness(again, ["beta"], failed_cycles=2)() is not None
    assert store_readiness(again, ["beta"], failed_cycles=3)() is None
    again.close()


def test_readyz_keeps_the_advice_at_the_end_of_a_connection_failure(tmp_path: Path) -> None:
    """A connection failure's line ends with what to check (the config key at its line):
    a probe answer must not cut it off."""
    store = open_store(tmp_path)
    advice = "check connections.crm.login_url in /etc/handoff-sync/handoff-sync.yaml:24"
    message = ("CannotConnect: salesforce connection 'crm': could not connect to "
               "Salesforce at crm.example.com:443 for login at https://crm.example.com: "
               "the host name does not resolve (DNS); is the host name right? " + advice)
    message = message.replace("crm.example.com", "crm-eu-west-1.internal.example.com")
    assert len(message) > 300
    record_runs(store, "alpha", [RunOutcome.FAILED] * 3, message=message)
    reason = store_readiness(store, ["alpha"])()
    assert reason is not None and reason.endswith(advice)


def test_readyz_strips_control_sequences_from_a_failure_message(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    record_runs(store, "alpha", [RunOutcome.FAILED] * 3,
                message="ValueError: year 385333 is out of range\x1b[2J\nsecond line")
    reason = store_readiness(store, ["alpha"])()
    store.close()
    assert reason is not None and "(internal;" in reason
    assert "\x1b" not in reason and "\n" not in reason


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
