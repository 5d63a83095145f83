"""From config to working connectors, with real calls to the sandbox (the settings wiring
without calls is in tests/unit/test_config_connect.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from connectors.errors import AuthError
from connectors.hubspot.connector import HubSpotConnector
from connectors.salesforce.connector import SalesforceConnector
from handoff_sync.config.load import load_config
from handoff_sync.demo.sandbox_config import write_sandbox_config
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.sync.connect import build_connector
from tests.unit.test_config_connect import config_file


def test_sandbox_config_from_init_gives_working_connectors(sandbox: SandboxServer,
                                                           tmp_path: Path) -> None:
    sandbox.sandbox.seed(deals=4, partners=1, random_seed=7)
    out = tmp_path / "cfg.yaml"
    write_sandbox_config(sandbox.base_url, out)
    config = load_config(out, environ={})  # everything it needs is in files beside it
    crm = build_connector(config.connections["crm"], environ={})
    prm = build_connector(config.connections["prm"], environ={})
    try:
        assert isinstance(crm, SalesforceConnector) and isinstance(prm, HubSpotConnector)
        opportunity = crm.describe("Opportunity")
        assert "StageName" in opportunity.fields
        owners = prm.owners()
        assert owners and all("@" in owner.email for owner in owners)
        assert crm.usage.total >= 1 and prm.usage.total >= 1
    finally:
        crm.close()
        prm.close()


def test_secrets_from_environment_variables(sandbox: SandboxServer, tmp_path: Path) -> None:
    creds = sandbox.sandbox.credentials
    (tmp_path / "ca.pem").write_text(Path(sandbox.ca_file).read_text())
    file = config_file(tmp_path, f"""\
        crm:
          system: salesforce
          login_url: {sandbox.base_url}
          client_id: {creds.sf_client_id}
          username: {creds.sf_username}
          private_key: ${{SF_KEY}}
          ca_file: ca.pem
        prm:
          system: hubspot
          host: {sandbox.base_url}
          access_token: ${{HS_TOKEN}}
          ca_file: ca.pem
        """)
    config = load_config(file, environ={})
    environ = {"SF_KEY": creds.jwt_private_key_pem, "HS_TOKEN": creds.hs_access_token}
    crm = build_connector(config.connections["crm"], environ=environ)
    prm = build_connector(config.connections["prm"], environ=environ)
    assert "Amount" in crm.describe("Opportunity").fields
    assert isinstance(prm.owners(), list)

    # Both are checked when built, before any call: a missing secret names its variable.
    with pytest.raises(AuthError, match="HS_TOKEN"):
        build_connector(config.connections["prm"], environ={})
    with pytest.raises(AuthError, match="SF_KEY"):
        build_connector(config.connections["crm"], environ={})


def test_connection_settings_hold_no_secret_values(sandbox: SandboxServer,
                                                  tmp_path: Path) -> None:
    out = tmp_path / "cfg.yaml"
    write_sandbox_config(sandbox.base_url, out)
    config = load_config(out, environ={})
    creds = sandbox.sandbox.credentials
    shown = repr(config) + repr(config.connections["crm"].connector_settings()) + repr(
        config.connections["prm"].connector_settings())
    assert creds.hs_access_token not in shown
    assert "PRIVATE KEY" not in shown
    assert dataclasses.asdict(config.connections["prm"].connector_settings())[
        "credentials"]["access_token_file"] == str(tmp_path / "secrets" / "hubspot-access-token")
