"""A connector's failure in the config's terms (sync.advice): which connection, at which
host:port, what failed and what to check, naming the config key and its line; and the
retry promise only the daemon makes (sync.failures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import (
    AuthError,
    CannotConnect,
    CertificateRejected,
    PermissionDenied,
    QuotaExhausted,
    RetriesExhausted,
)
from handoff_sync.config.load import load_config
from handoff_sync.config.settings import Config
from handoff_sync.sync.advice import explain
from handoff_sync.sync.failures import (
    NEXT_CYCLE,
    classify_message,
    failure_message,
    failure_text,
)
from handoff_sync.testing.builders import DEFAULT_MAPPINGS

CONFIG = f"""\
version: 1
connections:
  crm:
    system: salesforce
    login_url: https://login.acme.example:8443
    client_id: app
    username: sync@acme.example
    private_key: {{file: key.pem}}
    ca_file: ca.pem
  prm:
    system: hubspot
    access_token: ${{HUBSPOT_TOKEN}}
  other:
    system: hubspot
    host: https://hubspot.proxy.example
    access_token: ${{OTHER_TOKEN}}
pipelines:
  - {{name: partners, prm: prm, crm: crm, mappings: {DEFAULT_MAPPINGS}}}
"""
PIPELINE = ("prm", "crm")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    (tmp_path / "ca.pem").write_text("not read here")
    file = tmp_path / "handoff-sync.yaml"
    file.write_text(CONFIG)
    return load_config(file, environ={})


def refused(system: str, endpoint: str) -> CannotConnect:
    return CannotConnect(f"could not connect to X at {endpoint} for login: connection "
                         "refused (nothing listens on that port)", system=system,
                         endpoint=endpoint, cause="refused")


def test_a_refused_connection_names_the_connection_and_the_url_key_at_its_line(
        config: Config) -> None:
    line = explain(refused("salesforce", "login.acme.example:8443"), config, PIPELINE)
    assert line == (
        "salesforce connection 'crm': could not connect to X at login.acme.example:8443 for "
        "login: connection refused (nothing listens on that port); is Salesforce (or the "
        f"sandbox) running on that port? check connections.crm.login_url in {config.path}:5")


def test_a_url_left_at_its_default_is_named_with_the_default(config: Config) -> None:
    error = CannotConnect("could not connect: the host name does not resolve (DNS)",
                          system="hubspot", endpoint="api.hubapi.com:443", cause="dns")
    assert explain(error, config, PIPELINE) == (
        "hubspot connection 'prm' at api.hubapi.com:443: could not connect: the host name "
        "does not resolve (DNS); is the host name right? check connections.prm.host (not "
        f"set: the default is https://api.hubapi.com) in {config.path}:10")


def test_of_two_connections_of_one_system_the_one_whose_url_failed_is_named(
        config: Config) -> None:
    error = refused("hubspot", "hubspot.proxy.example:443")
    line = explain(error, config, ("prm", "other"))
    assert line.startswith("hubspot connection 'other': ")
    assert line.endswith(f"check connections.other.host in {config.path}:15")


def test_an_instance_the_login_named_points_at_the_login_url(config: Config) -> None:
    error = CannotConnect("could not connect to Salesforce at na1.acme.example:443 for "
                          "query Opportunity: the connection timed out (no answer from "
                          "that host and port)", system="salesforce",
                          endpoint="na1.acme.example:443", cause="timeout")
    assert explain(error, config, PIPELINE).endswith(
        "is that host reachable from here (a firewall, a proxy, a VPN)? check "
        f"connections.crm.login_url in {config.path}:5 (na1.acme.example:443 came from "
        "Salesforce, not from the config)")


def test_an_untrusted_certificate_points_at_ca_file(config: Config) -> None:
    error = CertificateRejected("Salesforce's TLS certificate at login.acme.example:8443 "
                                "does not verify", system="salesforce",
                                endpoint="login.acme.example:8443", cause="untrusted")
    assert explain(error, config, PIPELINE).endswith(
        f"; is ca_file the server's CA? check connections.crm.ca_file in {config.path}:9")
    unset = CertificateRejected("HubSpot's TLS certificate does not verify",
                                system="hubspot", cause="untrusted")
    assert explain(unset, config, PIPELINE).endswith(
        "; the server's certificate is not signed by a public CA: set "
        f"connections.prm.ca_file to the CA bundle that signed it (in {config.path}:10)")


def test_a_certificate_for_another_host_points_at_the_url(config: Config) -> None:
    error = CertificateRejected("Salesforce's TLS certificate at login.acme.example:8443 "
                                "is for another host name", system="salesforce",
                                endpoint="login.acme.example:8443", cause="hostname")
    assert explain(error, config, PIPELINE).endswith(
        "; does the URL name the host the certificate is for? check "
        f"connections.crm.login_url in {config.path}:5")


def test_the_config_check_replaces_the_connectors_generic_tls_advice(config: Config) -> None:
    """One piece of advice, the one naming this config's key at its line: not the
    connector's generic "set ca_file ... or remove ca_file" followed by a second one."""
    error = CertificateRejected(
        "Salesforce's TLS certificate at login.acme.example:8443 is for another host name "
        "(hostname mismatch); check that login_url / instance_url name the host the "
        "certificate is for", system="salesforce", endpoint="login.acme.example:8443",
        cause="hostname")
    line = explain(error, config, PIPELINE)
    assert line.count("certificate is for") == 1 and "instance_url" not in line
    untrusted = CertificateRejected(
        "HubSpot's TLS certificate at api.hubapi.com:443 does not verify against the CA this "
        "connection trusts (self-signed); set ca_file in the connection settings to the CA "
        "bundle that signed it, or remove ca_file to trust the public CAs",
        system="hubspot", endpoint="api.hubapi.com:443", cause="untrusted")
    line = explain(untrusted, config, PIPELINE)
    assert "remove ca_file" not in line and line.count("ca_file") == 1


def test_refused_credentials_name_where_the_secret_is_read(config: Config) -> None:
    hubspot = AuthError("HubSpot refused the credentials for search deals", system="hubspot",
                        status=401)
    assert explain(hubspot, config, PIPELINE) == (
        "hubspot connection 'prm' at api.hubapi.com:443: HubSpot refused the credentials "
        "for search deals; is the secret in HUBSPOT_TOKEN current? check "
        f"connections.prm.access_token in {config.path}:12")
    salesforce = AuthError("Salesforce refused the login (invalid_grant)", system="salesforce",
                           endpoint="login.acme.example:8443")
    assert explain(salesforce, config, PIPELINE).endswith(
        f"is the secret in {config.path.parent / 'key.pem'} current? check "
        f"connections.crm.private_key in {config.path}:8")


def test_other_failures_keep_their_own_advice_behind_the_connection(config: Config) -> None:
    permission = PermissionDenied("Salesforce refused query Opportunity; give the "
                                  "integration user access", system="salesforce")
    assert explain(permission, config, PIPELINE) == (
        "salesforce connection 'crm' at login.acme.example:8443: Salesforce refused query "
        "Opportunity; give the integration user access; the user or app connections.crm "
        f"logs in as needs that access ({config.path}:3)")
    quota = QuotaExhausted("the daily API allowance is used up", system="hubspot")
    assert explain(quota, config, PIPELINE) == (
        "hubspot connection 'prm' at api.hubapi.com:443: the daily API allowance is used up")


def test_a_give_up_after_retries_keeps_the_advice_of_what_kept_failing(
        config: Config) -> None:
    exhausted = RetriesExhausted("salesforce login failed 8 times: could not connect ...",
                                 system="salesforce", endpoint="login.acme.example:8443",
                                 cause="refused")
    assert "is Salesforce (or the sandbox) running on that port?" in explain(
        exhausted, config, PIPELINE)


def test_only_the_daemon_says_it_will_try_again() -> None:
    error = refused("salesforce", "h:1")
    one_shot = failure_message(error, "salesforce connection 'crm': refused; check it")
    daemon = failure_message(error, "salesforce connection 'crm': refused; check it",
                             next_cycle=True)
    assert one_shot == "CannotConnect: salesforce connection 'crm': refused; check it"
    assert daemon == one_shot + "; " + NEXT_CYCLE
    assert "again" not in one_shot
    # The metric label stays the one it was; a person reads the text without the name.
    assert classify_message(one_shot) == classify_message(daemon) == "unreachable"
    assert failure_text(one_shot) == "salesforce connection 'crm': refused; check it"
