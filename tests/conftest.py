"""Shared fixtures: one loopback sandbox per test session, reset before each test.

Tests talk to the sandbox only through the real, unmodified vendor clients, configured
the way production configures them: a CA bundle and ``trust_env = False`` for
simple-salesforce, ``host`` and ``ssl_ca_cert`` for hubspot-api-client.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.testing.sandbox_clients import generous_quotas, hubspot_client, salesforce_client

pytest_plugins = ("tests.store_support",)  # store and store_url, on SQLite and PostgreSQL


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """Each test starts with the logging set-up the session had: a command run in-process
    (`cli.main`) configures logging for itself, e.g. at warning level, which would hide
    the info lines a later test captures."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    with SandboxServer(quotas=generous_quotas()) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """The session's sandbox, emptied, with faults cleared and the test quotas it was
    started with in force again (reset restores them)."""
    sandbox_server.sandbox.reset()
    return sandbox_server


@pytest.fixture
def sf(sandbox: SandboxServer) -> Salesforce:
    return salesforce_client(sandbox)


@pytest.fixture
def hs(sandbox: SandboxServer) -> HubSpot:
    return hubspot_client(sandbox)
