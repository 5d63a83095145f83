"""The sandbox's vendor-neutral parts: faults, quotas, clock, TLS material, ids, logging."""

from __future__ import annotations

import random
import socket
import ssl
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog

from handoff_sync.daemon.logs import REDACTED, redact_secrets
from handoff_sync.sandbox.core import tls
from handoff_sync.sandbox.core.clock import SandboxClock
from handoff_sync.sandbox.core.faults import FaultInjector, FaultRuleError
from handoff_sync.sandbox.core.usage import Quotas, UsageMeter
from handoff_sync.sandbox.salesforce.ids import case_suffix, is_valid_id, salesforce_id


# --- faults ---------------------------------------------------------------------------
def test_scripted_sequence_fires_in_order_then_stops() -> None:
    faults = FaultInjector()
    faults.set_rules([
        {"api": "hubspot", "path": "/search", "count": 2, "effect": 429},
        {"api": "hubspot", "path": "/search", "count": 1, "effect": 500},
    ])
    seen = [faults.pick("hubspot", "POST", "/crm/v3/objects/deals/search") for _ in range(4)]
    assert [f.status if f else None for f in seen] == [429, 429, 500, None]
    assert faults.rules() == []  # spent rules are gone


def test_rule_matches_only_its_api_method_and_path() -> None:
    faults = FaultInjector()
    faults.set_rules([{"api": "salesforce", "method": "get", "path": "/query", "count": 5,
                       "status": 503, "retry_after": 2}])
    assert faults.pick("hubspot", "GET", "/services/data/v59.0/query/") is None
    assert faults.pick("salesforce", "POST", "/services/data/v59.0/query/") is None
    assert faults.pick("salesforce", "GET", "/services/data/v59.0/sobjects") is None
    fault = faults.pick("salesforce", "GET", "/services/data/v59.0/query/")
    assert fault is not None and (fault.status, fault.retry_after) == (503, 2)


def test_probability_rules_fire_by_chance() -> None:
    faults = FaultInjector(rng=random.Random(7))
    faults.set_rules([{"probability": 0.3, "effect": "drop"}])
    fired = sum(faults.pick("any", "GET", "/x") is not None for _ in range(2000))
    assert 450 < fired < 750
    faults.set_rules([{"probability": 1, "effect": {"delay": 0.5}}])
    fault = faults.pick("hubspot", "GET", "/crm/v3/owners/")
    assert fault is not None and (fault.kind, fault.delay) == ("delay", 0.5)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"count": 1}, "give an effect"),
        ({"effect": 503}, "exactly one of 'probability' or 'count'"),
        ({"count": 1, "probability": 0.5, "effect": 503}, "exactly one of"),
        ({"count": 0, "effect": 503}, "count: expected a whole number >= 1"),
        ({"probability": 2, "effect": 503}, "probability: expected a number from 0 to 1"),
        ({"count": 1, "effect": 200}, "expected an HTTP error status 400-599"),
        ({"count": 1, "effect": "explode"}, "expected a status code, 'drop'"),
        ({"count": 1, "effect": 503, "api": "sap"}, "api: expected salesforce, hubspot or any"),
        ({"count": 1, "effect": 503, "path": "("}, "path: not a valid regex"),
        ({"count": 1, "effect": 503, "colour": "red"}, "unknown key(s) ['colour']"),
    ],
)
def test_malformed_rules_name_the_rule_and_key(rule: dict[str, object], message: str) -> None:
    with pytest.raises(FaultRuleError) as excinfo:
        FaultInjector().set_rules([{"count": 1, "effect": 500}, rule])
    assert str(excinfo.value).startswith("rules[1]")
    assert message in str(excinfo.value)


# --- quotas ---------------------------------------------------------------------------
def test_salesforce_daily_allowance_refuses_once_used_up() -> None:
    meter = UsageMeter(Quotas(salesforce_daily=3))
    assert [meter.salesforce_admit() for _ in range(4)] == [True, True, True, False]
    assert meter.salesforce_limit_info() == "api-usage=3/3"
    assert meter.salesforce_daily() == (3, 0)


def test_hubspot_burst_daily_and_search_limits_name_their_policy() -> None:
    meter = UsageMeter(Quotas(hubspot_per_10s=3, hubspot_daily=None,
                              hubspot_search_per_second=1))
    assert meter.hubspot_admit(search=True) == "ok"
    assert meter.hubspot_admit(search=True) == "secondly"
    assert meter.hubspot_admit(search=False) == "ok"
    assert meter.hubspot_admit(search=False) == "ok"
    assert meter.hubspot_admit(search=False) == "ten_secondly"
    headers = meter.hubspot_headers()
    assert headers["X-HubSpot-RateLimit-Max"] == "3"
    assert headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    daily = UsageMeter(Quotas(hubspot_daily=1, hubspot_per_10s=None))
    assert [daily.hubspot_admit(search=False) for _ in range(2)] == ["ok", "daily"]


def test_quota_updates_are_validated() -> None:
    quotas = Quotas()
    quotas.update({"hubspot_per_10s": None, "salesforce_daily": 10})
    assert (quotas.hubspot_per_10s, quotas.salesforce_daily) == (None, 10)
    with pytest.raises(ValueError, match="unknown quota"):
        quotas.update({"hubspot_per_minute": 5})
    with pytest.raises(ValueError, match="whole number"):
        quotas.update({"salesforce_daily": -1})


def test_stats_count_calls_by_endpoint() -> None:
    meter = UsageMeter()
    meter.record("salesforce", "GET /query")
    meter.record("salesforce", "GET /query")
    meter.record("hubspot", "POST /search")
    assert meter.stats() == {
        "salesforce": {"calls": 2, "by_endpoint": {"GET /query": 2}},
        "hubspot": {"calls": 1, "by_endpoint": {"POST /search": 1}},
    }


# --- clock ----------------------------------------------------------------------------
def test_clock_freezes_shifts_and_resets() -> None:
    clock = SandboxClock()
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    clock.freeze(at)
    assert clock.now() == at
    clock.shift(3600)
    assert clock.now() == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    clock.reset()
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5
    clock.shift(86400)
    assert 86390 < (clock.now() - datetime.now(UTC)).total_seconds() < 86410
    with pytest.raises(ValueError, match="timezone"):
        clock.freeze(datetime(2026, 1, 5))


# --- TLS ------------------------------------------------------------------------------
def _handshake(server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext, host: str) -> bytes:
    """Serve one TLS connection on loopback and read what it says through ``host``."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls_conn:
                tls_conn.sendall(b"hello")
        except (ssl.SSLError, OSError):
            conn.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with socket.create_connection(listener.getsockname()) as raw, client_ctx.wrap_socket(
            raw, server_hostname=host
        ) as conn:
            return conn.recv(5)
    finally:
        thread.join()
        listener.close()


def test_server_certificate_verifies_against_the_generated_ca(tmp_path: Path) -> None:
    material = tls.generate()
    _ca, cert, key = material.write(tmp_path)
    assert key.stat().st_mode & 0o777 == 0o600
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cadata=material.ca_pem)
    assert _handshake(server_ctx, trusting, "127.0.0.1") == b"hello"
    assert _handshake(server_ctx, trusting, "localhost") == b"hello"
    with pytest.raises(ssl.SSLCertVerificationError):  # the system store does not know our CA
        _handshake(server_ctx, ssl.create_default_context(), "127.0.0.1")


def test_an_older_looser_server_key_is_rewritten_owner_only(tmp_path: Path) -> None:
    (tmp_path / "server.key").write_text("old key")
    (tmp_path / "server.key").chmod(0o644)
    _ca, _cert, key = tls.generate().write(tmp_path)
    assert key.stat().st_mode & 0o777 == 0o600 and "old key" not in key.read_text()


# --- ids ------------------------------------------------------------------------------
def test_salesforce_ids_have_prefix_length_and_case_checksum() -> None:
    assert case_suffix("001A0000006Vm9r") == "IAC"  # Salesforce's documented example
    ids = [salesforce_id("006", n) for n in (0, 1, 61, 62, 10**9)]
    assert all(i.startswith("006") and len(i) == 18 and is_valid_id(i) for i in ids)
    assert len(set(ids)) == len(ids)
    assert not is_valid_id(ids[1][:15] + "AAB")
    assert not is_valid_id("006-not-an-id")


# --- logging --------------------------------------------------------------------------
def test_secrets_are_redacted_from_log_events() -> None:
    event = redact_secrets(None, "info", {
        "event": "auth",
        "access_token": "pat-na1-abc",
        "client_secret": "s3cr3t",
        "header": "Authorization: Bearer 00Dxyz!abc",
        "count": 3,
    })
    assert event["access_token"] == REDACTED
    assert event["client_secret"] == REDACTED
    assert event["header"] == f"Authorization: Bearer {REDACTED}"
    assert event["count"] == 3


def test_structlog_pipeline_redacts_when_configured() -> None:
    from handoff_sync.daemon.logs import configure_logging

    configure_logging("info", "json")
    with structlog.testing.capture_logs(processors=[redact_secrets]) as logs:
        structlog.get_logger().info("token_refreshed", refresh_token="na1-abc")
    assert logs[0]["refresh_token"] == REDACTED


def test_a_sandbox_named_by_host_name_is_reached_by_that_name() -> None:
    """`sandbox --host NAME` (a compose service) hands out https://NAME:PORT, the name its
    certificate carries and the JWT audience clients send; an address stays an address."""
    from handoff_sync.sandbox.server import SandboxServer, _is_name

    assert _is_name("sandbox") and _is_name("localhost")
    assert not _is_name("127.0.0.1") and not _is_name("::1") and not _is_name("0.0.0.0")
    with SandboxServer("localhost") as named:
        assert named.base_url == f"https://localhost:{named.port}"
        assert named.sandbox.base_url == named.base_url
    with SandboxServer("127.0.0.1") as address:
        assert address.base_url == f"https://127.0.0.1:{address.port}"
