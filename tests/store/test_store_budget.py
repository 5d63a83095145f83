"""One API budget per org, kept in the store: shared by pipelines and replicas, counted
atomically on SQLite and PostgreSQL, reached through the real connectors and the sandbox."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from structlog.testing import capture_logs

from connectors.budget import DAY, BudgetSettings
from connectors.hubspot.auth import CredentialSources
from connectors.hubspot.connector import HubSpotConnector, HubSpotSettings
from connectors.salesforce.auth import SalesforceAuth, SecretRef
from connectors.salesforce.connector import SalesforceConnector, SalesforceSettings
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.budget import StoreLedger
from handoff_sync.testing.clock import FakeClock

SPENDERS = 8
CALLS_EACH = 25


@pytest.fixture
def migrated(store: Store) -> Store:
    store.migrate()
    return store


def test_concurrent_spends_are_all_counted(migrated: Store) -> None:
    ledger_of = migrated.budget_ledger

    def spend() -> None:
        ledger = ledger_of("salesforce https://acme.example")
        for _ in range(CALLS_EACH):
            ledger.spend(1)

    threads = [threading.Thread(target=spend) for _ in range(SPENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    used, oldest = ledger_of("salesforce https://acme.example").spend(0)
    assert used == SPENDERS * CALLS_EACH
    assert oldest is not None and oldest >= 0
    assert ledger_of("salesforce https://other.example").spend(0) == (0, None)


def test_calls_leave_the_rolling_day_by_the_minute(migrated: Store) -> None:
    clock = FakeClock(datetime.fromtimestamp(1_700_000_000, UTC))
    ledger = StoreLedger(migrated.engine, "hubspot portal 1", clock=clock.time)
    ledger.spend(3)
    clock.advance(120)
    ledger.spend(2)

    assert ledger.spend(0)[0] == 5
    # The 3 first calls are dated to the end of their minute: never counted out early.
    oldest, newest = ledger.age_of(0), ledger.age_of(3)
    assert oldest is not None and newest is not None
    assert ledger.age_of(2) == oldest <= 120 and newest < oldest
    assert ledger.age_of(5) is None

    clock.advance(DAY - 60)
    assert ledger.spend(0)[0] == 2


def salesforce(server: SandboxServer, time: FakeClock, store: Store) -> SalesforceConnector:
    creds = server.sandbox.credentials
    auth = SalesforceAuth(kind="password", login_url=server.base_url,
                          client_id=creds.sf_client_id, username=creds.sf_username,
                          client_secret=SecretRef(env="SF_SECRET"),
                          password=SecretRef(env="SF_PASSWORD"),
                          security_token=SecretRef(env="SF_TOKEN"))
    settings = SalesforceSettings(auth=auth, ca_file=Path(server.ca_file),
                                  budget=BudgetSettings(share=0.2, slow_down_at=1.0))
    return SalesforceConnector(
        settings, sleep=time.sleep, clock=time.clock, ledgers=store.budget_ledger,
        environ={"SF_SECRET": creds.sf_client_secret, "SF_PASSWORD": creds.sf_password,
                 "SF_TOKEN": creds.sf_security_token})


def hubspot(server: SandboxServer, time: FakeClock, store: Store) -> HubSpotConnector:
    settings = HubSpotSettings(host=server.base_url, ca_file=str(server.ca_file),
                               credentials=CredentialSources(access_token_env="HS_TOKEN"),
                               budget=BudgetSettings(share=0.2, slow_down_at=1.0))
    return HubSpotConnector(settings, sleep=time.sleep, clock=time.clock,
                            ledgers=store.budget_ledger,
                            environ={"HS_TOKEN": server.sandbox.credentials.hs_access_token})


def test_two_salesforce_connectors_on_one_org_share_its_budget(
        sandbox: SandboxServer, migrated: Store) -> None:
    sandbox.sandbox.usage.quotas.salesforce_daily = 50  # share 20%: 10 calls a day
    time = FakeClock()
    first, second = salesforce(sandbox, time, migrated), salesforce(sandbox, time, migrated)
    try:
        for _ in range(5):
            first.owners()
            second.owners()
        assert time.sleeps == []  # 10 calls: the share, spent by two pipelines together

        second.owners()  # alone it has made 5 calls, but the org's share is spent
        assert time.sleeps and time.sleeps[0] > DAY - 120
    finally:
        first.close()
        second.close()
    key = f"salesforce {sandbox.base_url.lower()}"
    assert migrated.budget_ledger(key).spend(0)[0] == 11


def test_two_hubspot_connectors_on_one_portal_share_its_budget(
        sandbox: SandboxServer, migrated: Store) -> None:
    sandbox.sandbox.usage.quotas.hubspot_daily = 90  # share 20%: 18 calls a day
    time = FakeClock()
    first, second = hubspot(sandbox, time, migrated), hubspot(sandbox, time, migrated)
    try:
        # owners() lists active and archived owners (2 calls); each connector's first
        # call also asks which portal it is: 2 * (1 + 4 * 2) = 18 calls.
        for _ in range(4):
            first.owners()
            second.owners()
        assert time.sleeps == []

        second.owners()
        assert time.sleeps and time.sleeps[0] > DAY - 120
    finally:
        first.close()
        second.close()
    portal = sandbox.sandbox.credentials.hs_portal_id
    assert migrated.budget_ledger(f"hubspot portal {portal}").spend(0)[0] == 20


def faults(server: SandboxServer, method: str, **body: object) -> None:
    """The sandbox's fault control plane, over HTTP as an operator's script would use it."""
    requests.request(method, f"{server.base_url}/__sandbox__/faults", json=body or None,
                     verify=str(server.ca_file), timeout=10).raise_for_status()


def test_a_token_refused_the_account_details_syncs_on_and_says_the_budget_is_not_shared(
        sandbox: SandboxServer, migrated: Store) -> None:
    # A token without access to the account details cannot name its portal: its calls
    # cannot be counted in the portal's budget. Syncing goes on; `status` must say so.
    faults(sandbox, "POST", rules=[{"api": "hubspot", "path": "^/account-info/v3/details$",
                                    "probability": 1, "effect": 403}])
    time = FakeClock()
    connector = hubspot(sandbox, time, migrated)
    portal = sandbox.sandbox.credentials.hs_portal_id
    try:
        with capture_logs() as logs:
            assert connector.owners()  # the sync itself carries on
            connector.start_cycle()
            connector.owners()  # asked again next cycle, still refused: warned once
        reason = connector.usage.snapshot()["budget_unshared"]
        assert reason is not None and "lacks the scope" in reason
        assert [e["event"] for e in logs if e["log_level"] == "warning"] == [
            "api budget counted for this process only"]
        assert migrated.budget_ledger(f"hubspot portal {portal}").spend(0)[0] == 0

        faults(sandbox, "DELETE")  # the scope granted: the next cycle shares the budget
        connector.start_cycle()
        connector.owners()
        assert connector.usage.snapshot()["budget_unshared"] is None
    finally:
        connector.close()
    # Once the portal is known, every call is in its ledger, those made before included
    # (they move along): two refused cycles of 1 + 2 calls, then 1 + 2.
    assert migrated.budget_ledger(f"hubspot portal {portal}").spend(0)[0] == 9


def test_each_connector_names_its_org_by_its_budget_key(sandbox: SandboxServer,
                                                        migrated: Store) -> None:
    # The sync claims CRM objects under these keys (store.claims): the org the login or
    # the account details name, whatever the connection settings say.
    time = FakeClock()
    hs, sf = hubspot(sandbox, time, migrated), salesforce(sandbox, time, migrated)
    try:
        portal = sandbox.sandbox.credentials.hs_portal_id
        assert hs.org_key() == f"hubspot portal {portal}"
        assert hs.org_key() == f"hubspot portal {portal}"
        assert hs.usage.total == 1  # the account details, asked once for budget and key
        assert sf.org_key() == f"salesforce {sandbox.base_url}"
    finally:
        hs.close()
        sf.close()
