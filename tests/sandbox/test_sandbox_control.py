"""The /__sandbox__/ control plane: the stable contract tools outside the tests rely on."""

from __future__ import annotations

import argparse
import dataclasses
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from hubspot.crm.deals import ApiException as DealsApiException
from hubspot.crm.deals import SimplePublicObjectInputForCreate
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceGeneralError

from handoff_sync.cli.sandbox import add_sandbox_command
from handoff_sync.sandbox.core.control_client import ControlClient, ControlError
from handoff_sync.sandbox.server import ControlTokenRequired, SandboxServer
from handoff_sync.testing.sandbox_clients import (
    hubspot_client,
    salesforce_client,
    salesforce_session,
)


def control(server: SandboxServer, method: str, path: str, **kwargs: object) -> requests.Response:
    session = salesforce_session(server)  # CA-verified, no proxy/env surprises
    return session.request(method, f"{server.base_url}/__sandbox__/{path}", timeout=30,
                           **kwargs)  # type: ignore[arg-type]


def test_credentials_document_has_the_documented_keys(sandbox: SandboxServer) -> None:
    doc = control(sandbox, "GET", "credentials").json()
    assert doc["base_url"] == sandbox.base_url
    assert doc["ca_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert {"username", "password", "security_token", "client_id", "client_secret",
            "session_id", "instance_url", "api_version"} <= set(doc["salesforce"])
    assert doc["salesforce"]["instance_url"] == sandbox.base_url
    assert doc["hubspot"]["access_token"].startswith("pat-")


def test_seed_is_deterministic_and_reset_empties(sandbox: SandboxServer, sf: Salesforce) -> None:
    soql = "SELECT Id, Name, Amount FROM Opportunity ORDER BY Id LIMIT 20"
    body = {"deals": 60, "partners": 4, "random_seed": 7}
    counts = control(sandbox, "POST", "seed", json=body).json()["counts"]
    assert counts["salesforce.Deal_Registration__c"] == 60
    first = sf.query(soql)["records"]
    control(sandbox, "POST", "seed", json=body)
    assert sf.query(soql)["records"] == first
    control(sandbox, "POST", "seed", json={**body, "random_seed": 8})
    assert sf.query(soql)["records"] != first
    control(sandbox, "POST", "reset")
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"deals": -1}, "deals: expected a whole number"),
        ({"partners": 0}, "partners: expected a whole number"),
        ({"dealz": 5}, "unknown key(s) ['dealz']"),
    ],
)
def test_seed_rejects_bad_input_naming_the_key(
    sandbox: SandboxServer, body: dict[str, int], message: str
) -> None:
    answer = control(sandbox, "POST", "seed", json=body)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_stats_count_calls_per_api_and_endpoint_since_reset(sandbox: SandboxServer,
                                                            sf: Salesforce) -> None:
    sf.query("SELECT Id FROM Opportunity")
    sf.query("SELECT Id FROM Account")
    hubspot_client(sandbox).crm.deals.basic_api.get_page(limit=5)
    stats = control(sandbox, "GET", "stats").json()
    assert stats["salesforce"]["calls"] == 2
    assert sum(stats["salesforce"]["by_endpoint"].values()) == 2
    assert stats["hubspot"]["calls"] == 1
    control(sandbox, "POST", "reset")
    assert control(sandbox, "GET", "stats").json()["salesforce"]["calls"] == 0


def test_scripted_faults_hit_then_clear(sandbox: SandboxServer, sf: Salesforce) -> None:
    armed = control(sandbox, "POST", "faults", json={"rules": [
        {"api": "salesforce", "path": "/query", "count": 1, "effect": 500}]})
    assert armed.status_code == 200 and len(armed.json()["rules"]) == 1
    with pytest.raises(SalesforceGeneralError) as excinfo:
        sf.query("SELECT Id FROM Opportunity")
    assert excinfo.value.status == 500
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 0
    control(sandbox, "POST", "faults", json={"rules": [
        {"api": "hubspot", "probability": 1, "effect": 503}]})
    control(sandbox, "DELETE", "faults")
    assert control(sandbox, "GET", "faults").json()["rules"] == []
    hubspot_client(sandbox).crm.deals.basic_api.get_page(limit=1)


def test_dropped_connection_and_slow_response(sandbox: SandboxServer, sf: Salesforce) -> None:
    control(sandbox, "POST", "faults", json={"rules": [
        {"api": "salesforce", "path": "/query", "count": 1, "effect": "drop"},
        {"api": "salesforce", "path": "/query", "count": 1, "effect": {"delay": 0.6}},
    ]})
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.query("SELECT Id FROM Opportunity")
    started = time.monotonic()
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 0
    assert time.monotonic() - started >= 0.6


def test_malformed_fault_rules_are_refused_with_the_key(sandbox: SandboxServer) -> None:
    answer = control(sandbox, "POST", "faults", json={"rules": [{"count": 1, "effect": 99}]})
    assert answer.status_code == 400
    assert "rules[0].effect.status" in answer.json()["error"]


def test_quota_exhaustion_through_the_control_plane(sandbox: SandboxServer) -> None:
    control(sandbox, "POST", "faults", json={"quotas": {"hubspot_per_10s": 2}})
    deals = hubspot_client(sandbox).crm.deals.basic_api
    deals.get_page(limit=1)
    deals.get_page(limit=1)
    with pytest.raises(DealsApiException) as excinfo:
        deals.get_page(limit=1)
    assert excinfo.value.status == 429


def test_frozen_and_shifted_clock_stamp_writes(sandbox: SandboxServer, sf: Salesforce) -> None:
    control(sandbox, "POST", "clock", json={"freeze_at": "2026-03-02T09:30:00Z"})
    created = sf.Account.create({"Name": "Clockwork Ltd"})
    row = sf.query(format_soql("SELECT SystemModstamp FROM Account WHERE Id = {}", created["id"]))
    assert row["records"][0]["SystemModstamp"] == "2026-03-02T09:30:00.000+0000"
    state = control(sandbox, "POST", "clock", json={"shift_seconds": 3600}).json()
    assert state["frozen"] and state["now"].startswith("2026-03-02T10:30:00")
    deal = hubspot_client(sandbox).crm.deals.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"dealname": "Clock deal"}))
    assert deal.updated_at == datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    bad = control(sandbox, "POST", "clock", json={"freeze_at": "2026-03-02T09:30:00"})
    assert bad.status_code == 400 and "timezone" in bad.json()["error"]


def test_expired_sessions_refuse_the_old_token(sandbox: SandboxServer, sf: Salesforce) -> None:
    control(sandbox, "POST", "expire-sessions")
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account")
    fresh = salesforce_client(sandbox)  # the credentials now carry the new session id
    assert fresh.query("SELECT COUNT() FROM Account")["totalSize"] == 0


def test_reset_and_clearing_faults_restore_the_quotas_the_server_started_with(
        sandbox: SandboxServer) -> None:
    started = control(sandbox, "GET", "faults").json()["quotas"]
    assert started["salesforce_daily"] == 1_000_000  # the session's generous quotas

    control(sandbox, "POST", "faults", json={"quotas": {"salesforce_daily": 3,
                                                        "hubspot_per_10s": 2}})
    assert control(sandbox, "DELETE", "faults").json()["quotas"] == started

    control(sandbox, "POST", "faults", json={"quotas": {"hubspot_daily": 0}})
    control(sandbox, "POST", "reset")
    assert control(sandbox, "GET", "faults").json()["quotas"] == started
    hubspot_client(sandbox).crm.deals.basic_api.get_page(limit=1)  # not refused


def test_an_empty_portal_lists_the_owner_who_made_the_app(sandbox: SandboxServer) -> None:
    owners = hubspot_client(sandbox).crm.owners.owners_api.get_page().results
    assert [(o.email, o.archived) for o in owners] == [("admin@handoff-sync.sandbox", False)]


def test_beyond_loopback_the_sandbox_refuses_to_start_without_a_control_token() -> None:
    with pytest.raises(ControlTokenRequired, match="--control-token or "
                                                   "HANDOFF_SYNC_SANDBOX_CONTROL_TOKEN"):
        SandboxServer("0.0.0.0", 0)


def test_the_sandbox_command_refuses_a_public_bind_without_a_token(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HANDOFF_SYNC_SANDBOX_CONTROL_TOKEN", raising=False)
    parser = argparse.ArgumentParser()
    add_sandbox_command(parser.add_subparsers())
    args = parser.parse_args(["sandbox", "--host", "0.0.0.0", "--port", "0"])

    assert args.func(args) == 2
    error = capsys.readouterr().err
    assert error.startswith("handoff-sync sandbox: refusing to start: the sandbox would "
                            "listen on 0.0.0.0, beyond loopback")
    assert "Traceback" not in error


def test_with_a_control_token_every_control_request_must_carry_it() -> None:
    with SandboxServer(control_token="s3cret-control") as server:
        refused = control(server, "GET", "credentials")
        assert refused.status_code == 401
        assert "control token" in refused.json()["error"]
        assert control(server, "POST", "reset",
                       headers={"Authorization": "Bearer wrong"}).status_code == 401
        allowed = control(server, "GET", "credentials",
                          headers={"Authorization": "Bearer s3cret-control"})
        assert allowed.status_code == 200
        # The vendor APIs keep their own credentials; the token guards the control plane.
        assert salesforce_client(server).query("SELECT Id FROM User LIMIT 1")["totalSize"] >= 0


# --- the typed client (what the demo and scripts drive a sandbox with) -------------------
def client_for(server: SandboxServer, token: str | None = None) -> ControlClient:
    return ControlClient(server.base_url, server.ca_file, token=token)


def test_the_client_reads_the_credentials_document_field_by_field(
        sandbox: SandboxServer) -> None:
    doc = control(sandbox, "GET", "credentials").json()
    with client_for(sandbox) as client:
        creds = client.credentials()
    assert (creds.base_url, creds.ca_pem) == (doc["base_url"], doc["ca_pem"])
    assert dataclasses.asdict(creds.salesforce) == doc["salesforce"]
    assert dataclasses.asdict(creds.hubspot) == doc["hubspot"]
    # ... and they log in: the session id and the private-app token the sandbox accepts.
    sf = Salesforce(instance_url=creds.salesforce.instance_url,
                    session_id=creds.salesforce.session_id,
                    session=salesforce_session(sandbox), version=creds.salesforce.api_version)
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 0
    hs = hubspot_client(sandbox, access_token=creds.hubspot.access_token)
    assert hs.crm.deals.basic_api.get_page(limit=1).results == []


def test_the_client_seeds_and_its_counts_are_what_the_apis_serve(
        sandbox: SandboxServer, sf: Salesforce) -> None:
    with client_for(sandbox) as client:
        counts = client.seed(deals=60, partners=4, random_seed=7)
        assert counts["salesforce.Deal_Registration__c"] == 60
        assert counts == client.seed(deals=60, partners=4, random_seed=7)  # same seed, same org
    opportunities = sf.query("SELECT COUNT() FROM Opportunity")["totalSize"]
    assert opportunities == counts["salesforce.Opportunity"] > 0
    deals = hubspot_client(sandbox).crm.deals.basic_api.get_page(limit=100)
    assert len(deals.results) == min(100, counts["hubspot.deals"])


def test_the_client_reads_and_shifts_the_sandbox_clock(sandbox: SandboxServer) -> None:
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    with client_for(sandbox) as client:
        assert client.freeze_clock(at).frozen
        assert client.now() == at == sandbox.sandbox.clock.now()
        state = client.shift_clock(3 * 86_400)
        assert state.now == client.now() == at + timedelta(days=3)
        deal = hubspot_client(sandbox).crm.deals.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"dealname": "Three days on"}))
        assert deal.updated_at == at + timedelta(days=3)  # writes are stamped with it

        running = client.reset_clock()
        assert not running.frozen and running.shift_seconds == 0
        ahead = client.shift_clock(86_400)
        assert ahead.shift_seconds == 86_400 and not ahead.frozen
        drift = client.now() - datetime.now(UTC) - timedelta(days=1)
        assert abs(drift.total_seconds()) < 5  # real time keeps running, a day ahead
        assert client.now().utcoffset() == timedelta(0)


def test_the_client_sees_the_session_rotate_when_sessions_expire(
        sandbox: SandboxServer) -> None:
    with client_for(sandbox) as client:
        before = client.credentials().salesforce.session_id
        client.expire_sessions()
        after = client.credentials().salesforce.session_id
    assert after != before and after == sandbox.sandbox.credentials.sf_session_id


def test_the_client_counts_no_vendor_calls_and_reset_empties(sandbox: SandboxServer,
                                                             sf: Salesforce) -> None:
    with client_for(sandbox) as client:
        client.seed(deals=10, partners=2, random_seed=1)
        client.now()
        client.credentials()
        sf.query("SELECT Id FROM Account LIMIT 1")
        assert client.stats()["salesforce"]["calls"] == 1  # only the vendor call counts
        client.reset()
        assert client.stats()["salesforce"]["calls"] == 0
    assert sf.query("SELECT COUNT() FROM Opportunity")["totalSize"] == 0


def test_the_client_raises_the_control_planes_error_naming_the_key(
        sandbox: SandboxServer) -> None:
    with client_for(sandbox) as client, pytest.raises(ControlError) as excinfo:
        client.seed(deals=-1, partners=4, random_seed=7)
    assert excinfo.value.status == 400
    assert excinfo.value.message.startswith("deals: expected a whole number")
    with client_for(sandbox) as client, pytest.raises(ControlError, match="timezone"):
        client.freeze_clock(datetime(2026, 3, 2, 9, 30))


def test_the_client_carries_the_control_token() -> None:
    with SandboxServer(control_token="s3cret-control") as server:
        with client_for(server, token="s3cret-control") as client:
            assert client.credentials().base_url == server.base_url
        with client_for(server) as client, pytest.raises(ControlError) as excinfo:
            client.credentials()
        assert excinfo.value.status == 401 and "control token" in excinfo.value.message


def test_an_unreachable_sandbox_is_a_control_error_naming_the_url(tmp_path: Path) -> None:
    ca_copy = tmp_path / "ca.pem"
    with SandboxServer(ca_out=ca_copy) as server:
        base_url = server.base_url
    # Stopped: the port is closed again.
    with ControlClient(base_url, ca_copy, timeout=5) as client, \
            pytest.raises(ControlError) as excinfo:
        client.now()
    assert excinfo.value.status is None
    assert f"{base_url}/__sandbox__/clock" in excinfo.value.message
