"""A connection that trusts the wrong CA: one clear, fatal error, never a retried "the
connection broke". Both connectors, through the sandbox and the real clients, with a
freshly generated CA that did not sign the sandbox's certificate."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from connectors.errors import CertificateRejected
from connectors.hubspot.auth import CredentialSources
from connectors.hubspot.connector import HubSpotConnector, HubSpotSettings
from connectors.salesforce.auth import SalesforceAuth, SecretRef
from connectors.salesforce.connector import SalesforceConnector, SalesforceSettings
from handoff_sync.sandbox.core import tls
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.testing.clock import FakeClock


@pytest.fixture
def other_ca(tmp_path: Path) -> Path:
    path = tmp_path / "other-ca.pem"
    path.write_text(tls.generate().ca_pem)
    return path


def test_salesforce_with_the_wrong_ca_fails_at_once_naming_host_and_setting(
        sandbox: SandboxServer, other_ca: Path) -> None:
    creds = sandbox.sandbox.credentials
    auth = SalesforceAuth(kind="password", login_url=sandbox.base_url,
                          client_id=creds.sf_client_id, username=creds.sf_username,
                          client_secret=SecretRef(env="SF_SECRET"),
                          password=SecretRef(env="SF_PASSWORD"))
    time = FakeClock()
    connector = SalesforceConnector(
        SalesforceSettings(auth=auth, ca_file=other_ca), sleep=time.sleep, clock=time.clock,
        environ={"SF_SECRET": creds.sf_client_secret,
                 "SF_PASSWORD": creds.sf_password + creds.sf_security_token})

    with pytest.raises(CertificateRejected) as refused:
        connector.owners()
    connector.close()

    message = str(refused.value)
    assert message.startswith("salesforce: Salesforce's TLS certificate at "
                              f"{urlsplit(sandbox.base_url).netloc} does not verify")
    assert "set ca_file" in message
    assert time.sleeps == []  # not retried: a wrong CA never starts working


def test_hubspot_with_the_wrong_ca_fails_at_once_naming_host_and_setting(
        sandbox: SandboxServer, other_ca: Path) -> None:
    time = FakeClock()
    connector = HubSpotConnector(
        HubSpotSettings(host=sandbox.base_url, ca_file=str(other_ca),
                        credentials=CredentialSources(access_token_env="HS_TOKEN")),
        sleep=time.sleep, clock=time.clock,
        environ={"HS_TOKEN": sandbox.sandbox.credentials.hs_access_token})

    with pytest.raises(CertificateRejected) as refused:
        connector.owners()
    connector.close()

    message = str(refused.value)
    assert message.startswith("hubspot: HubSpot's TLS certificate at "
                              f"{urlsplit(sandbox.base_url).netloc} does not verify")
    assert "set ca_file" in message
    assert time.sleeps == []
