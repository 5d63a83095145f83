"""Shared fixtures: one loopback sandbox per test session, reset before each test.

Tests talk to the sandbox only through the real, unmodified vendor clients, configured
the way production configures them: a CA bundle and ``trust_env = False`` for
simple-salesforce, ``host`` and ``ssl_ca_cert`` for hubspot-api-client.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from hubspot import HubSpot
from hypothesis import is_hypothesis_test, settings
from simple_salesforce import Salesforce
from structlog.testing import capture_logs

from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store.kept import VERIFY_VARIABLE
from handoff_sync.testing.sandbox_clients import generous_quotas, hubspot_client, salesforce_client
from tests.property_support import profile_for

pytest_plugins = ("tests.store_support",)  # store and store_url, on SQLite and PostgreSQL

# Every cycle of every test (in this process and in the CLI processes it starts) checks the
# state a daemon keeps between cycles against a full load of the store (store.kept).
os.environ.setdefault(VERIFY_VARIABLE, "1")


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's plugin adds --hypothesis-verbosity
def pytest_configure(config: pytest.Config) -> None:
    """The Hypothesis profile of this run (tests/property_support.py): fixed examples by
    default, the deep random run under ``-m slow``. Loaded before any test module is
    imported, so every ``@settings`` starts from it; ``--hypothesis-profile`` wins."""
    if not config.getoption("--hypothesis-profile"):
        settings.load_profile(profile_for(config.option.markexpr or "",
                                          config.getoption("--hypothesis-seed")))


def pytest_itemcollected(item: pytest.Item) -> None:
    """Every property test is ``slow``: the deep run (``-m slow``) is exactly them."""
    if isinstance(item, pytest.Function) and is_hypothesis_test(item.obj):
        item.add_marker(pytest.mark.slow)


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


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    """Captured log entries at debug level, with contextvars (pipeline, run_id) merged."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as captured:
            yield captured
    finally:
        structlog.configure(**saved)
