"""Real vendor clients pointed at a sandbox, configured as production configures them."""

from __future__ import annotations

import requests
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.sandbox.core.usage import Quotas
from handoff_sync.sandbox.server import SandboxServer


def generous_quotas() -> Quotas:
    """Generous limits so ordinary tests never trip them; quota tests set their own."""
    return Quotas(
        salesforce_daily=1_000_000,
        hubspot_daily=10_000_000,
        hubspot_per_10s=None,
        hubspot_search_per_second=None,
    )


def salesforce_session(server: SandboxServer) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE would silently override verify
    session.verify = str(server.ca_file)
    return session


def salesforce_client(server: SandboxServer) -> Salesforce:
    creds = server.sandbox.credentials
    return Salesforce(
        instance_url=server.base_url,
        session_id=creds.sf_session_id,
        session=salesforce_session(server),
        version="59.0",
    )


def hubspot_client(server: SandboxServer, access_token: str | None = None) -> HubSpot:
    return HubSpot(
        access_token=access_token or server.sandbox.credentials.hs_access_token,
        host=server.base_url,
        ssl_ca_cert=str(server.ca_file),
    )
