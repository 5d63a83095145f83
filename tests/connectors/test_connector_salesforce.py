"""The Salesforce connector against the sandbox, through the real simple-salesforce.

The shared contract runs through ``SalesforceAdapter``; the tests below it cover what only
Salesforce has: 2,000-row pages, queryAll deletions, Bulk API 2.0 backfills, OAuth grants
and 401 re-authentication, the daily allowance (REQUEST_LIMIT_EXCEEDED, Sforce-Limit-Info,
the budget guard) and SOQL escaping end to end. Seeding and checking go through the
vendor client, never through the connector under test.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import structlog
from simple_salesforce import Salesforce, format_soql

from connectors.base import (
    AccountTarget,
    CreateTarget,
    Cursor,
    Owner,
    RecordWrite,
    TaskTarget,
    TaskWrite,
)
from connectors.errors import AuthError, QuotaExhausted, SchemaError
from connectors.salesforce.auth import SalesforceAuth, SecretRef
from connectors.salesforce.connector import SalesforceConnector, SalesforceSettings
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.testing.clock import FakeClock
from handoff_sync.testing.contract import (
    BEFORE,
    SEEDED_AT,
    ConnectorContract,
    ContractAdapter,
)
from handoff_sync.testing.contract_create import DealCreationContract
from handoff_sync.testing.sandbox_clients import salesforce_client
from tests.sandbox.test_salesforce_sandbox import control, create_many, opportunity

TASKS = TaskTarget(object="Task", key_field="Handoff_Task_Key__c", deal_link_field="WhatId")
DEAL_FIELDS = ("Name", "Amount", "StageName", "CloseDate", "Handoff_Required__c")


def secrets_env(server: SandboxServer) -> dict[str, str]:
    """The environment the connector reads its secrets from (never settings literals)."""
    creds = server.sandbox.credentials
    return {"SF_JWT_KEY": creds.jwt_private_key_pem, "SF_CLIENT_SECRET": creds.sf_client_secret,
            "SF_PASSWORD": creds.sf_password, "SF_TOKEN": creds.sf_security_token,
            "SF_SESSION": creds.sf_session_id}


def auth_for(server: SandboxServer, kind: str = "jwt_bearer") -> SalesforceAuth:
    creds = server.sandbox.credentials
    common: dict[str, Any] = {"login_url": server.base_url, "client_id": creds.sf_client_id}
    if kind == "jwt_bearer":
        return SalesforceAuth(kind="jwt_bearer", username=creds.sf_username,
                              private_key=SecretRef(env="SF_JWT_KEY"), **common)
    if kind == "client_credentials":
        return SalesforceAuth(kind="client_credentials",
                              client_secret=SecretRef(env="SF_CLIENT_SECRET"), **common)
    if kind == "password":
        return SalesforceAuth(kind="password", username=creds.sf_username,
                              client_secret=SecretRef(env="SF_CLIENT_SECRET"),
                              password=SecretRef(env="SF_PASSWORD"),
                              security_token=SecretRef(env="SF_TOKEN"), **common)
    return SalesforceAuth(kind="session", session_id=SecretRef(env="SF_SESSION"),
                          instance_url=server.base_url)


def make(server: SandboxServer, fake_time: FakeClock | None = None, *,
         environ: dict[str, str] | None = None, auth: SalesforceAuth | None = None,
         **settings: Any) -> SalesforceConnector:
    fake_time = fake_time or FakeClock()
    options: dict[str, Any] = {"overlap_seconds": 0.0, "bulk_poll_seconds": 0.0,
                               "timeout_seconds": 10.0, **settings}
    return SalesforceConnector(
        SalesforceSettings(auth=auth or auth_for(server), ca_file=Path(server.ca_file),
                           **options),
        sleep=fake_time.sleep, clock=fake_time.clock,
        environ=environ if environ is not None else secrets_env(server))


class SalesforceAdapter(ContractAdapter):
    api = "salesforce"
    deal_object = "Opportunity"
    deal_fields = DEAL_FIELDS
    text_field = "Name"
    page_size = 200  # Sforce-Query-Options batchSize floor: three pages from 500 records
    write_batch_size = 200
    task_target = TASKS
    fault_paths = MappingProxyType({"pull": r"/(query|queryAll)/",
                                    "write": r"/composite/sobjects/?$",
                                    "upsert": r"/composite/sobjects/Task/",
                                    "create": r"/composite/sobjects/Opportunity/"})
    create_target = CreateTarget("Opportunity", "Handoff_Create_Key__c", AccountTarget(
        "Account", "Name", domain_field="Website", link_field="AccountId"))
    missing_id = "006000000000000AAA"
    malformed_ids = ("0065g00000ABCDE' OR Name != '", "006X", "006000000000000AAB",
                     "0015g0000000AbcAAE", "006 00000000000", "")

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.sf = salesforce_client(server)

    def make_connector(self, fake_time: FakeClock) -> SalesforceConnector:
        return make(self.server, fake_time, page_size=self.page_size,
                    timeout_seconds=self.timeout_seconds)

    def seed_deals(self, count: int) -> list[str]:
        return create_many(self.sf, "Opportunity",
                           [opportunity(Name=f"Deal {i:05d}", Amount=float(i))
                            for i in range(count)])

    def delete_deal(self, deal_id: str) -> None:
        self.sf.Opportunity.delete(deal_id)

    def new_deal(self, marker: str) -> dict[str, Any]:
        return opportunity(Name=marker)

    def invalid_change(self) -> dict[str, Any]:
        return {"StageName": "Not a stage"}  # restricted picklist

    def read_text(self, deal_id: str) -> Any:
        return self.sf.Opportunity.get(deal_id)["Name"]

    def deals_with_text(self, marker: str) -> list[str]:
        result = self.sf.query(format_soql("SELECT Id FROM Opportunity WHERE Name = {} "
                                           "ORDER BY Id", marker))
        return [r["Id"] for r in result["records"]]

    def task_fields(self, subject: str) -> dict[str, Any]:
        return {"Subject": subject, "Status": "Not Started", "Priority": "Normal",
                "ActivityDate": "2025-03-10"}

    def tasks_with_key(self, key: str) -> list[str]:
        result = self.sf.query(format_soql(
            "SELECT Id FROM Task WHERE Handoff_Task_Key__c = {}", key))
        return [r["Id"] for r in result["records"]]

    def task_deal(self, task_id: str) -> str | None:
        return self.sf.Task.get(task_id)["WhatId"]

    def deals_with_key(self, key: str) -> list[str]:
        result = self.sf.query(format_soql(
            "SELECT Id FROM Opportunity WHERE Handoff_Create_Key__c = {}", key))
        return [r["Id"] for r in result["records"]]

    def deal_account(self, deal_id: str) -> str | None:
        return self.sf.Opportunity.get(deal_id)["AccountId"]

    account_task_target = TaskTarget("Task", "Handoff_Task_Key__c", "WhatId", None, "Account")

    def seed_account(self, name: str) -> str:
        return str(self.sf.Account.create({"Name": name, "Type": "Partner"})["id"])

    def task_account(self, task_id: str) -> str | None:
        return self.sf.Task.get(task_id)["WhatId"]

    def seed_owners(self) -> list[Owner]:
        def user(name: str, **fields: Any) -> str:
            return str(self.sf.User.create({"Username": f"{name}@acme.example",
                                            "Email": f"{name.title()}@Acme.example",
                                            "LastName": name.title(), **fields})["id"])

        boss = user("boss")
        rep = user("rep", ManagerId=boss)
        gone = user("gone", IsActive=False)
        return [Owner(boss, "boss@acme.example", True, None, "Boss"),
                Owner(rep, "rep@acme.example", True, boss, "Rep"),
                Owner(gone, "gone@acme.example", False, None, "Gone")]


class TestSalesforceContract(ConnectorContract, DealCreationContract):
    @pytest.fixture
    def adapter(self, sandbox: SandboxServer) -> ContractAdapter:
        return SalesforceAdapter(sandbox)


# --- Salesforce specifics ----------------------------------------------------------------


@pytest.fixture
def frozen(sandbox: SandboxServer) -> SandboxServer:
    sandbox.sandbox.clock.freeze(SEEDED_AT)
    return sandbox


@pytest.fixture
def connector(sandbox: SandboxServer) -> Iterator[SalesforceConnector]:
    connector = make(sandbox)
    yield connector
    connector.close()


def ids_of(pages: Any) -> list[str]:
    return [c.id for page in pages for c in page.changes]


def test_5000_opportunities_on_one_timestamp_cross_2000_row_pages_exactly(
    frozen: SandboxServer, sf: Salesforce, connector: SalesforceConnector
) -> None:
    seeded = create_many(sf, "Opportunity", [opportunity(Name=f"D{i}") for i in range(5_000)])

    pages = list(connector.pull("Opportunity", ["Name"], BEFORE))
    resumed = ids_of(connector.pull("Opportunity", ["Name"], pages[0].cursor))

    assert [len(p.changes) for p in pages] == [2_000, 2_000, 1_000]
    assert sorted(ids_of(pages)) == sorted(seeded)
    assert {c.modified_at for p in pages for c in p.changes} == {SEEDED_AT}
    assert sorted(resumed) == sorted(set(seeded) - set(ids_of(pages[:1])))
    # The minimum: ceil(5000 / 2000) pages per pull, plus one login.
    assert connector.usage.calls == {"auth": 1, "query": 2, "query_more": 3}


def test_the_overlap_window_re_reads_late_rows_without_moving_the_cursor_back(
    frozen: SandboxServer, sf: Salesforce
) -> None:
    old = create_many(sf, "Opportunity", [opportunity(Name="Long ago")])
    frozen.sandbox.clock.shift(600)
    late = create_many(sf, "Opportunity", [opportunity(Name="Committed late")])
    frozen.sandbox.clock.shift(30)
    seen = create_many(sf, "Opportunity", [opportunity(Name="Seen")])
    cursor = list(make(frozen).pull("Opportunity", ["Name"], BEFORE))[-1].cursor
    assert cursor is not None

    pages = list(make(frozen, overlap_seconds=60).pull("Opportunity", ["Name"], cursor))

    assert ids_of(pages) == [*late, *seen]
    assert old[0] not in ids_of(pages)
    assert all(page.cursor is not None and page.cursor >= cursor for page in pages)


def test_a_backfill_reads_live_records_and_an_incremental_pull_sees_the_recycle_bin(
    frozen: SandboxServer, sf: Salesforce, connector: SalesforceConnector
) -> None:
    kept, binned = create_many(sf, "Opportunity", [opportunity(), opportunity()])
    sf.Opportunity.delete(binned)

    backfill = [c for p in connector.pull("Opportunity", ["Name"], None) for c in p.changes]
    incremental = [c for p in connector.pull("Opportunity", ["Name"], BEFORE)
                   for c in p.changes]

    assert [(c.id, c.deleted) for c in backfill] == [(kept, False)]
    assert sorted((c.id, c.deleted) for c in incremental) == sorted(
        [(kept, False), (binned, True)])


def test_a_big_pull_continues_through_bulk_api_2_with_rest_types_and_a_safe_cursor(
    frozen: SandboxServer, sf: Salesforce
) -> None:
    seeded = create_many(sf, "Opportunity", [
        opportunity(Name=f"Bulk {i}", Amount=float(i) + 0.5, Handoff_Required__c=i % 2 == 0)
        for i in range(1_200)])
    sf.Opportunity.delete(seeded[7])
    connector = make(frozen, page_size=200, bulk_threshold=500, bulk_page_size=400)

    pages = list(connector.pull("Opportunity", DEAL_FIELDS, BEFORE))

    changes = [c for p in pages for c in p.changes]
    assert sorted(c.id for c in changes) == sorted(seeded)
    assert [len(p.changes) for p in pages] == [200, 400, 400, 200]
    assert [c.id for c in changes if c.deleted] == [seeded[7]]
    first_cursor = pages[0].cursor
    assert [p.cursor for p in pages[1:3]] == [first_cursor, first_cursor]
    assert pages[-1].cursor == max(Cursor(c.modified_at, c.id) for c in changes
                                   if c.modified_at is not None)
    by_id = {c.id: c.fields for c in changes}
    rest, bulk = pages[0].changes[1], pages[1].changes[1]  # same shape either way
    assert {k: type(v) for k, v in rest.fields.items()} == {
        k: type(v) for k, v in bulk.fields.items()}
    assert by_id[seeded[1001]]["Amount"] == 1001.5
    assert by_id[seeded[1001]]["Handoff_Required__c"] is False
    assert by_id[seeded[1002]]["Handoff_Required__c"] is True
    assert by_id[seeded[1002]]["CloseDate"] == "2025-06-30"
    assert connector.usage.calls == {"auth": 1, "query": 1, "describe": 1, "bulk": 5}


def test_rest_pages_carry_the_first_querys_total_size(
    frozen: SandboxServer, sf: Salesforce
) -> None:
    seeded = create_many(sf, "Opportunity", [opportunity(Name=f"D{i}") for i in range(450)])
    sf.Opportunity.delete(seeded[9])  # queryAll counts it too: a deletion it hands over
    pages = list(make(frozen, page_size=200).pull("Opportunity", ["Name"], BEFORE))
    assert len(ids_of(pages)) == 450 and len(pages) == 3
    assert [p.total for p in pages] == [450, 450, 450]
    backfill = list(make(frozen, page_size=200).pull("Opportunity", ["Name"], None))
    assert len(ids_of(backfill)) == 449  # live records only
    assert [p.total for p in backfill] == [449] * len(backfill)


def test_a_bulk_tail_counts_the_rest_pull_and_the_jobs_records(
    frozen: SandboxServer, sf: Salesforce
) -> None:
    """The first REST page's totalSize is the estimate; once the bulk job is complete its
    numberRecordsProcessed counts the rest exactly, records created meanwhile among it."""
    create_many(sf, "Opportunity", [opportunity(Name=f"Bulk {i}") for i in range(1_200)])
    connector = make(frozen, page_size=200, bulk_threshold=500, bulk_page_size=400)
    pulled = connector.pull("Opportunity", ["Name"], BEFORE)
    first = next(pulled)
    frozen.sandbox.clock.shift(1)  # after the first page's position
    create_many(sf, "Opportunity", [opportunity(Name=f"Late {i}") for i in range(5)])
    pages = [first, *pulled]
    assert len(ids_of(pages)) == 1_205 and connector.usage.calls["bulk"] >= 3
    assert [len(p.changes) for p in pages] == [200, 400, 400, 205]
    assert [p.total for p in pages] == [1_200, 1_205, 1_205, 1_205]


def test_a_query_locator_that_expired_mid_pull_is_replaced_from_the_cursor(
    frozen: SandboxServer, sf: Salesforce
) -> None:
    seeded = create_many(sf, "Opportunity", [opportunity(Name=f"D{i}") for i in range(450)])
    pages = make(frozen, page_size=200).pull("Opportunity", ["Name"], BEFORE)

    first = next(pages)
    frozen.sandbox.salesforce.cursors.clear()  # as Salesforce does after 15 idle minutes
    rest = list(pages)

    ids = ids_of([first, *rest])
    assert len(ids) == len(set(ids)) == 450
    assert set(ids) == set(seeded)


@pytest.mark.parametrize("kind", ["jwt_bearer", "client_credentials", "password", "session"])
def test_every_auth_kind_logs_in_through_the_configured_login_url(
    sandbox: SandboxServer, kind: str
) -> None:
    connector = make(sandbox, auth=auth_for(sandbox, kind))

    owners = connector.owners()

    assert [o.email for o in owners] == ["integration@handoff-sync.sandbox"]
    assert connector.usage.calls.get("auth", 0) == (0 if kind == "session" else 1)


def test_a_401_logs_in_again_once_and_repeats_the_call(
    sandbox: SandboxServer, sf: Salesforce
) -> None:
    connector = make(sandbox)
    connector.owners()
    control(sandbox, "expire-sessions")

    owners = connector.owners()

    assert len(owners) == 1
    assert connector.usage.calls == {"auth": 2, "query": 3}


def test_a_401_right_after_a_fresh_login_is_an_auth_error(sandbox: SandboxServer) -> None:
    connector = make(sandbox)
    connector.owners()
    control(sandbox, "faults", {"rules": [{"api": "salesforce", "path": "/query/",
                                           "count": 2, "status": 401}]})

    with pytest.raises(AuthError) as exc:
        connector.owners()

    assert "again right after a fresh login" in str(exc.value)
    assert connector.usage.calls["auth"] == 2


def test_an_expired_configured_session_is_re_read_from_its_source(
    sandbox: SandboxServer,
) -> None:
    environ = secrets_env(sandbox)
    connector = make(sandbox, environ=environ, auth=auth_for(sandbox, "session"))
    connector.owners()
    control(sandbox, "expire-sessions")

    with pytest.raises(AuthError) as stale:
        connector.owners()
    environ["SF_SESSION"] = sandbox.sandbox.credentials.sf_session_id  # rotated by ops
    owners = connector.owners()

    assert "has not been replaced" in str(stale.value)
    assert len(owners) == 1


def test_refused_credentials_are_an_auth_error_without_retries(sandbox: SandboxServer) -> None:
    fake_time = FakeClock()
    environ = {**secrets_env(sandbox), "SF_CLIENT_SECRET": "not-the-secret"}
    connector = make(sandbox, fake_time, environ=environ,
                     auth=auth_for(sandbox, "client_credentials"))

    with pytest.raises(AuthError) as exc:
        connector.owners()

    assert "client secret" in str(exc.value)
    assert fake_time.sleeps == []
    assert "not-the-secret" not in str(exc.value)


def test_a_missing_secret_says_where_it_was_looked_for(sandbox: SandboxServer) -> None:
    connector = make(sandbox, environ={})

    with pytest.raises(AuthError) as exc:
        connector.owners()

    assert "environment variable SF_JWT_KEY" in str(exc.value)


def test_secrets_never_reach_logs_or_settings_reprs(sandbox: SandboxServer) -> None:
    environ = secrets_env(sandbox)
    with structlog.testing.capture_logs() as logs:
        for kind in ("jwt_bearer", "client_credentials", "password"):
            connector = make(sandbox, environ=environ, auth=auth_for(sandbox, kind))
            connector.owners()
            control(sandbox, "expire-sessions")
            connector.owners()
    text = repr(logs) + repr(connector.settings)

    assert any(event["event"] == "salesforce authenticated" for event in logs)
    for secret in (*environ.values(), sandbox.sandbox.credentials.sf_session_id):
        assert secret not in text


def test_request_limit_exceeded_is_quota_exhausted_and_never_retried(
    sandbox: SandboxServer,
) -> None:
    fake_time = FakeClock()
    connector = make(sandbox, fake_time)
    connector.owners()
    # Other integrations spent the rest of the org's allowance meanwhile.
    control(sandbox, "faults", {"quotas": {"salesforce_daily": 1}})

    with pytest.raises(QuotaExhausted) as exc:
        connector.owners()

    assert "24-hour" in str(exc.value)
    assert fake_time.sleeps == []
    assert connector.usage.calls["query"] == 2


def test_usage_comes_from_the_sforce_limit_info_header(sandbox: SandboxServer) -> None:
    control(sandbox, "faults", {"quotas": {"salesforce_daily": 5_000}})
    connector = make(sandbox)

    connector.owners()
    connector.describe("Task")

    assert (connector.usage.daily_used, connector.usage.daily_limit) == (2, 5_000)
    assert connector.budget.daily_limit == 5_000
    assert connector.usage.calls == {"auth": 1, "query": 1, "describe": 1}


def test_the_budget_guard_slows_down_near_the_share_and_never_fails(
    sandbox: SandboxServer,
) -> None:
    control(sandbox, "faults", {"quotas": {"salesforce_daily": 100}})  # share: 20 calls
    fake_time = FakeClock()
    connector = make(sandbox, fake_time)

    with structlog.testing.capture_logs() as logs:
        for _ in range(24):
            connector.owners()

    assert fake_time.sleeps and connector.usage.throttled_seconds == pytest.approx(
        sum(fake_time.sleeps))
    assert any(e["event"] == "api budget nearly spent: slowing down" for e in logs)
    assert connector.usage.calls["query"] == 24


def test_tasks_upsert_by_the_key_field_200_per_call(
    sandbox: SandboxServer, sf: Salesforce, connector: SalesforceConnector
) -> None:
    (deal,) = create_many(sf, "Opportunity", [opportunity()])
    tasks = [TaskWrite(f"handoff:{deal}:{i}", deal, {"Subject": f"Step {i}"})
             for i in range(250)]

    results = connector.upsert_tasks(TASKS, tasks)

    assert [r.ref for r in results] == [t.key for t in tasks]
    assert all(r.ok and r.created for r in results)
    assert connector.usage.calls["upsert"] == math.ceil(250 / 200)
    stored = sf.query_all(format_soql("SELECT Handoff_Task_Key__c FROM Task WHERE WhatId = {}",
                                      deal))["records"]
    assert sorted(r["Handoff_Task_Key__c"] for r in stored) == sorted(t.key for t in tasks)


def test_a_value_of_the_wrong_type_fails_only_its_own_record(
    sandbox: SandboxServer, sf: Salesforce, connector: SalesforceConnector
) -> None:
    one, two, three = create_many(sf, "Opportunity", [opportunity()] * 3)

    results = connector.write("Opportunity", [
        RecordWrite("a", one, {"Amount": 10}),
        RecordWrite("b", two, {"Amount": "a lot"}),
        RecordWrite("c", three, {"Amount": 30})])

    assert [(r.ok, r.error.code if r.error else None) for r in results] == [
        (True, None), (False, "JSON_PARSER_ERROR"), (True, None)]
    assert [sf.Opportunity.get(i)["Amount"] for i in (one, three)] == [10.0, 30.0]


def test_ids_are_fetched_in_chunks_that_fit_the_url_limit(
    sandbox: SandboxServer, sf: Salesforce, connector: SalesforceConnector
) -> None:
    ids = create_many(sf, "Opportunity", [opportunity(Name=f"F{i}") for i in range(1_000)])

    found = connector.fetch("Opportunity", list(reversed(ids)), ["Name"])

    assert [r.id for r in found] == list(reversed(ids))
    assert 1 < connector.usage.calls["query"] <= 3  # ~500 quoted ids per 14 KB URL


def test_unknown_fields_and_objects_are_schema_errors_naming_them(
    sandbox: SandboxServer, connector: SalesforceConnector
) -> None:
    with pytest.raises(SchemaError) as field:
        list(connector.pull("Opportunity", ["Bogus__c"], None))
    with pytest.raises(SchemaError) as obj:
        connector.describe("Nonexistent__c")
    with pytest.raises(SchemaError) as name:
        list(connector.pull("Opportunity", ["Name FROM User --"], None))

    assert "Bogus__c" in str(field.value) and "Opportunity" in str(field.value)
    assert "Nonexistent__c" in str(obj.value)
    assert "not a Salesforce field or object API name" in str(name.value)


@pytest.mark.parametrize("hostile", ["x' OR Name != 'y", "O'Brien \\' OR true", "a\nb"])
def test_scope_values_cannot_widen_a_query(
    frozen: SandboxServer, sf: Salesforce, connector: SalesforceConnector, hostile: str
) -> None:
    create_many(sf, "Opportunity", [opportunity(Name="Plain"), opportunity(Name=hostile)])

    pages = list(connector.pull("Opportunity", ["Name"], BEFORE, scope={"Name": hostile}))

    assert [c.fields["Name"] for p in pages for c in p.changes] == [hostile]


def test_settings_refuse_impossible_values(sandbox: SandboxServer) -> None:
    auth = auth_for(sandbox)
    with pytest.raises(ValueError, match="page_size"):
        SalesforceSettings(auth=auth, page_size=5_000)
    with pytest.raises(ValueError, match="needs client_id"):
        dataclasses.replace(auth, client_id="")
    with pytest.raises(ValueError, match="https"):
        dataclasses.replace(auth, login_url="http://login.example")


def test_a_number_or_text_the_field_cannot_hold_fails_its_record_once_not_the_batch(
        sandbox: SandboxServer, connector: SalesforceConnector) -> None:
    # A 401-digit Amount was a 500: the whole batch was retried 8 times and failed.
    ids = create_many(salesforce_client(sandbox), "Opportunity",
                      [opportunity(Name=f"Deal {i}") for i in range(4)])
    results = connector.write("Opportunity", [
        RecordWrite(ids[0], ids[0], {"Amount": 10 ** 400}),
        RecordWrite(ids[1], ids[1], {"Economic_Buyer__c": "x" * 121}),
        RecordWrite(ids[2], ids[2], {"Amount": 12.5}),
        RecordWrite(ids[3], ids[3], {"Budget__c": "1e400"}),
    ])
    assert [r.ok for r in results] == [False, False, True, False]
    errors = [r.error for r in results if r.error is not None]
    assert [(e.code, e.retriable) for e in errors] == [
        ("NUMBER_OUTSIDE_VALID_RANGE", False), ("STRING_TOO_LONG", False),
        ("NUMBER_OUTSIDE_VALID_RANGE", False)]
    assert connector.usage.calls.get("write") == 1  # one call, nothing retried
