"""The HubSpot connector against the sandbox, through the real, unmodified hubspot-api-client.

The shared contract (handoff_sync/testing/contract.py) runs through ``HubSpotAdapter``.
The tests below it cover issue #5 point 3 in HubSpot's terms: the incremental pull (12,000
deals at one instant, changes, deletions, scope), batch writes with partial and whole-batch
failures, task upserts with their deal association, OAuth refresh, pacing under the
default quotas, every injected fault on every kind of call, and the error table's fatal
rows. Data is loaded through the sandbox's seed loader (ids and timestamps as given), as
the sandbox's own contract tests do; the adapter seeds through the vendor client.

Time: the connector gets a fake clock whose sleep advances it instantly, except in the
pacing test, whose whole point is the real 10-second window the sandbox enforces.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.companies import SimplePublicObjectInputForCreate
from hubspot.crm.deals import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputForCreate,
)
from hubspot.crm.objects import ApiException as ObjectsApiException
from hubspot.crm.objects import (
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectInput,
)
from structlog.testing import capture_logs

from connectors.base import (
    AccountTarget,
    Connector,
    CreateTarget,
    Cursor,
    Owner,
    Page,
    RecordChange,
    RecordWrite,
    TaskTarget,
    TaskWrite,
)
from connectors.errors import (
    AuthError,
    PermissionDenied,
    QuotaExhausted,
    RateLimited,
    RetriesExhausted,
    SchemaError,
)
from connectors.hubspot.auth import CredentialSources
from connectors.hubspot.connector import HubSpotConnector, HubSpotSettings
from connectors.hubspot.errors import Action, Failure, classify, failure_of
from connectors.retry import RetrySettings
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.system.describe import check_against_describe
from handoff_sync.model import SystemName
from handoff_sync.sandbox.core.seed_data import HubSpotSeedObject, SeedData
from handoff_sync.sandbox.core.usage import Quotas
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.sync.progress import Phase, ProgressEvent
from handoff_sync.sync.pull import pull_side
from handoff_sync.testing import contract
from handoff_sync.testing.clock import FakeClock
from handoff_sync.testing.contract import ConnectorContract, ContractAdapter
from handoff_sync.testing.contract_create import DealCreationContract
from handoff_sync.testing.sandbox_clients import hubspot_client

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FIRST_ID = 20_001
PARTNER_PIPELINE = "9004451"
TASKS = TaskTarget("tasks", "handoff_task_key", deal_association_type_id=216)
FIELDS = ["dealname", "amount", "pipeline"]


Factory = Callable[..., HubSpotConnector]


@pytest.fixture
def make(sandbox: SandboxServer) -> Iterator[Factory]:
    """Connectors on the sandbox: the private-app token from the environment mapping,
    pacing wide open (the sandbox's quotas are off), fast retries, a fake clock."""
    made: list[HubSpotConnector] = []

    def build(*, clock: FakeClock | None = None, environ: dict[str, str] | None = None,
              **overrides: Any) -> HubSpotConnector:
        options: dict[str, Any] = {
            "host": sandbox.base_url, "ca_file": str(sandbox.ca_file),
            "burst_limit": 100_000, "search_limit": 100_000,
            "retry": RetrySettings(initial_wait=0.05, max_wait=0.5, give_up_after=60),
            **overrides}
        fake = clock or FakeClock()
        connector = HubSpotConnector(
            HubSpotSettings(**options),
            environ=environ or {"HUBSPOT_ACCESS_TOKEN": sandbox.sandbox.credentials
                                .hs_access_token},
            sleep=fake.sleep, clock=fake.clock)
        made.append(connector)
        return connector

    yield build
    for connector in made:
        connector.close()


# --- the shared contract ------------------------------------------------------------------
class HubSpotAdapter(ContractAdapter):
    api = "hubspot"
    deal_object = "deals"
    deal_fields = ("dealname", "amount", "dealstage", "closedate", "pipeline")
    text_field = "dealname"
    page_size = 10
    write_batch_size = 100
    task_target = TASKS
    fault_paths = MappingProxyType({"pull": r"/objects/deals/search$",
                                    "write": r"/objects/deals/batch/(update|create)$",
                                    "upsert": r"/objects/tasks/batch/upsert$",
                                    "create": r"/objects/deals/batch/upsert$"})
    create_target = CreateTarget("deals", "handoff_create_key", AccountTarget(
        "companies", "name", domain_field="domain", association_type_id=5))
    missing_id = "999999999"
    malformed_ids = ("1' OR 1=1", "-5", "0", "012", "12.5", "1e3", "", "\u0661\u0662",
                     "99999999999999999999")

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.hs = hubspot_client(server)

    def make_connector(self, fake_time: FakeClock) -> HubSpotConnector:
        """Default pacing and retries; the fake clock makes every wait instant."""
        settings = HubSpotSettings(host=self.server.base_url, ca_file=str(self.server.ca_file),
                                   page_size=self.page_size, overlap=timedelta(0),
                                   search_lag=timedelta(0), read_timeout=self.timeout_seconds)
        token = self.server.sandbox.credentials.hs_access_token
        return HubSpotConnector(settings, environ={"HUBSPOT_ACCESS_TOKEN": token},
                                sleep=fake_time.sleep, clock=fake_time.clock)

    def seed_deals(self, count: int) -> list[str]:
        ids: list[str] = []
        for start in range(0, count, 100):
            inputs = [SimplePublicObjectBatchInputForCreate(
                properties={"dealname": f"Deal {i:05d}", "amount": str(i)})
                for i in range(start, min(count, start + 100))]
            created = self.hs.crm.deals.batch_api.create(
                BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs))
            ids += sorted((r.id for r in created.results), key=int)
        return ids

    def delete_deal(self, deal_id: str) -> None:
        self.hs.crm.deals.basic_api.archive(deal_id)

    def new_deal(self, marker: str) -> dict[str, Any]:
        return {"dealname": marker, "amount": "1000"}

    def invalid_change(self) -> dict[str, Any]:
        return {"dealstage": "not_a_stage"}

    def read_text(self, deal_id: str) -> Any:
        deal = self.hs.crm.deals.basic_api.get_by_id(deal_id, properties=["dealname"])
        return deal.properties["dealname"]

    def deals_with_text(self, marker: str) -> list[str]:
        return self._search("deals", "dealname", marker)

    def task_fields(self, subject: str) -> dict[str, Any]:
        return {"hs_task_subject": subject, "hs_task_status": "NOT_STARTED",
                "hs_task_priority": "MEDIUM", "hs_timestamp": "2025-03-10T09:00:00Z"}

    def tasks_with_key(self, key: str) -> list[str]:
        return self._search("tasks", "handoff_task_key", key)

    def task_deal(self, task_id: str) -> str | None:
        page = self.hs.crm.associations.v4.basic_api.get_page("tasks", task_id, "deals")
        return str(page.results[0].to_object_id) if page.results else None

    def deals_with_key(self, key: str) -> list[str]:
        return self._search("deals", "handoff_create_key", key)

    def deal_account(self, deal_id: str) -> str | None:
        page = self.hs.crm.associations.v4.basic_api.get_page("deals", deal_id, "companies")
        return str(page.results[0].to_object_id) if page.results else None

    account_task_target = TaskTarget("tasks", "handoff_task_key", None, 192, "companies")

    def seed_account(self, name: str) -> str:
        created = self.hs.crm.companies.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"name": name, "type": "PARTNER"}))
        return str(created.id)

    def task_account(self, task_id: str) -> str | None:
        page = self.hs.crm.associations.v4.basic_api.get_page("tasks", task_id, "companies")
        assert all([t.type_id for t in r.association_types] == [192] for r in page.results)
        return str(page.results[0].to_object_id) if page.results else None

    def seed_owners(self) -> list[Owner]:
        """HubSpot has no API that creates owners (users are invited in the app)."""
        with self.server.sandbox.lock:
            self.server.sandbox.hubspot.load_seed(SeedData(hubspot_owners=[
                {"id": "301", "email": "Ana@Acme.example", "firstName": "Ana",
                 "lastName": "Lima", "userId": 1, "archived": False},
                {"id": "302", "email": "gone@acme.example", "firstName": "Gone", "userId": 2,
                 "archived": True}]))
        return [Owner("301", "ana@acme.example", True, None, "Ana Lima"),
                Owner("302", "gone@acme.example", False, None, "Gone")]

    def _search(self, object_type: str, name: str, value: str) -> list[str]:
        body = PublicObjectSearchRequest(
            filter_groups=[FilterGroup(filters=[Filter(property_name=name, operator="EQ",
                                                       value=value)])], limit=100)
        found = self.hs.crm.objects.search_api.do_search(object_type, body)
        return sorted((r.id for r in found.results), key=int)


class TestHubSpotContract(ConnectorContract, DealCreationContract):
    @pytest.fixture
    def adapter(self, sandbox: SandboxServer) -> ContractAdapter:
        return HubSpotAdapter(sandbox)

    @pytest.mark.parametrize("fault", list(contract.FAULTS), ids=list(contract.FAULTS))
    def test_a_fault_during_a_create_never_creates_twice(  # type: ignore[override]
        self, adapter: ContractAdapter, connector: HubSpotConnector,
        frozen: SandboxServer, fault: str,
    ) -> None:
        """HubSpot's variant of the contract test: a create whose fate is unknown (HTTP 500,
        a stall past the timeout, a dropped connection) comes back as that record's
        OUTCOME_UNKNOWN result rather than an exception, so the results of the other
        batches of the same write() are not lost; losing them would make the next cycle
        create those records a second time. Never a duplicate, either way."""
        marker = f"Created through {fault}"
        contract._arm(frozen, adapter.api, adapter.fault_paths["write"],
                      contract.FAULTS[fault])

        (result,) = connector.write(adapter.deal_object,
                                    [RecordWrite("new", None, adapter.new_deal(marker))])

        contract._drain(fault)
        assert contract._fired(frozen)
        if result.ok:
            assert adapter.deals_with_text(marker) == [result.id]
        else:
            assert result.error is not None and result.error.code == "OUTCOME_UNKNOWN"
            assert not result.error.retriable and result.error.message
            assert fault in ("500", "stall", "drop")
            assert len(adapter.deals_with_text(marker)) <= 1


# --- sandbox helpers -------------------------------------------------------------------
def seed_deals(sandbox: SandboxServer, count: int, *,
               modified: Callable[[int], datetime] = lambda i: T0 + timedelta(seconds=i),
               first_id: int = FIRST_ID, pipeline: str = "default") -> list[str]:
    objects = [HubSpotSeedObject(str(first_id + i),
                                 {"dealname": f"Deal {first_id + i}", "amount": str(i),
                                  "pipeline": pipeline}, T0, modified(i))
               for i in range(count)]
    with sandbox.sandbox.lock:
        sandbox.sandbox.hubspot.load_seed(SeedData(hubspot={"deals": objects}))
    return [obj.id for obj in objects]


def control(sandbox: SandboxServer, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(f"{sandbox.base_url}/__sandbox__/{path}", json=payload,
                             verify=str(sandbox.ca_file), timeout=10)
    response.raise_for_status()
    return response.json()


def arm(sandbox: SandboxServer, path: str, effect: Any, count: int = 1, *,
        append: bool = False) -> None:
    control(sandbox, "faults", {"rules": [{"api": "hubspot", "path": path, "count": count,
                                           "effect": effect}], "append": append})


def sandbox_calls(sandbox: SandboxServer) -> int:
    return int(sandbox.sandbox.usage.stats()["hubspot"]["calls"])


def live(sandbox: SandboxServer, object_type: str) -> list[Any]:
    table = sandbox.sandbox.hubspot.store.table(object_type)
    return [obj for obj in table.objects.values() if not obj.archived]


def changes(pages: list[Page]) -> list[RecordChange]:
    return [change for page in pages for change in page.changes]


def final_cursor(pages: list[Page]) -> Cursor | None:
    return next((page.cursor for page in reversed(pages) if page.cursor is not None), None)


# --- pull -------------------------------------------------------------------------------
@pytest.mark.heavy
def test_twelve_thousand_deals_at_one_instant_are_pulled_completely_once(
    sandbox: SandboxServer, make: Factory
) -> None:
    ids = seed_deals(sandbox, 12_000, modified=lambda i: T0)
    connector = make()
    pages = list(connector.pull("deals", FIELDS, None))
    pulled = [change.id for change in changes(pages)]
    assert len(pulled) == 12_000 and set(pulled) == set(ids)
    assert final_cursor([page for page in pages if page.changes]) == Cursor(T0, ids[-1])
    # The pull is complete: its cursor settles at the time its first search ran.
    assert pages[-1].changes == () and final_cursor(pages) > Cursor(T0, ids[-1])
    # ceil(12,000 / 200) = 60 search pages; one page is read twice when the slice by id
    # starts; plus the property definitions and one archived-listing call.
    assert connector.usage.calls == {"search": 61, "metadata": 1, "read": 1}
    assert connector.usage.total == sandbox_calls(sandbox)


def test_an_incremental_pull_returns_what_changed_since_the_cursor(
    sandbox: SandboxServer, make: Factory
) -> None:
    ids = seed_deals(sandbox, 450)
    connector = make()
    first = list(connector.pull("deals", FIELDS, None))
    assert [c.id for c in changes(first)] == ids  # (hs_lastmodifieddate, id) order
    assert final_cursor([p for p in first if p.changes]) == Cursor(
        T0 + timedelta(seconds=449), ids[-1])
    # The seeded deals are older than the overlap: the cursor settles at the time of the
    # first search, by the sandbox's clock.
    cursor = final_cursor(first)
    assert cursor is not None and cursor.modified_at > T0 + timedelta(seconds=449)
    # Every page's cursor is safe: it never claims a record that was not on a page yet.
    seen: set[str] = set()
    for page in first:
        seen |= {c.id for c in page.changes}
        if page.cursor is not None and page.changes:
            assert page.cursor.last_id in seen

    results = connector.write("deals", [
        RecordWrite("a", ids[3], {"amount": "1234"}),
        RecordWrite("b", ids[100], {"dealname": "Renamed"}),
        RecordWrite("c", None, {"dealname": "Brand new"}),
    ])
    created = results[2].id
    before = connector.usage.total
    second = list(connector.pull("deals", FIELDS, cursor))
    got = {c.id: c for c in changes(second)}
    assert {ids[3], ids[100], created} <= set(got)
    assert got[ids[3]].fields["amount"] == "1234"
    assert got[ids[100]].fields["dealname"] == "Renamed"
    # Only the overlap window (2 minutes before the cursor) is read again.
    window = cursor.modified_at - timedelta(minutes=2)
    rest = set(got) - {ids[3], ids[100], created}
    assert all(got[i].modified_at is not None and got[i].modified_at >= window for i in rest)
    assert connector.usage.total - before == 2  # one search page, one archived listing
    newest = final_cursor(second)
    assert newest is not None and newest > cursor


def test_archived_deals_come_back_as_deletions_since_the_cursor(
    sandbox: SandboxServer, make: Factory, hs: HubSpot
) -> None:
    ids = seed_deals(sandbox, 30)
    other = seed_deals(sandbox, 3, first_id=40_001, pipeline=PARTNER_PIPELINE)
    control(sandbox, "clock", {"freeze_at": "2026-01-04T00:00:00Z"})
    hs.crm.deals.basic_api.archive(ids[0])  # long before the cursor: already reported
    control(sandbox, "clock", {"reset": True})
    connector = make()
    cursor = final_cursor(list(connector.pull("deals", FIELDS, None)))
    assert cursor is not None
    for deal_id in (ids[5], ids[6], other[0]):
        hs.crm.deals.basic_api.archive(deal_id)

    pages = list(connector.pull("deals", FIELDS, cursor))
    deleted = {c.id: c for c in changes(pages) if c.deleted}
    assert set(deleted) == {ids[5], ids[6], other[0]}
    assert all(c.modified_at is not None and c.modified_at > cursor.modified_at
               for c in deleted.values())
    # Deletions do not move the search cursor; the completed pull then settles it.
    assert {page.cursor for page in pages if page.changes} == {cursor}
    assert pages[-1].changes == () and pages[-1].cursor is not None
    assert pages[-1].cursor > cursor

    scoped = list(connector.pull("deals", FIELDS, cursor, scope={"pipeline": "default"}))
    assert {c.id for c in changes(scoped) if c.deleted} == {ids[5], ids[6]}
    full = list(connector.pull("deals", FIELDS, None))
    assert {c.id for c in changes(full) if c.deleted} == {ids[0], ids[5], ids[6], other[0]}


def test_a_skipped_archive_scan_reports_its_deletions_at_the_next_scan(
    sandbox: SandboxServer, make: Factory, hs: HubSpot
) -> None:
    """With scans spaced an hour apart, a deletion that falls in a skipped cycle is
    reported by the next scan even though the search cursor has moved past it."""
    ids = seed_deals(sandbox, 10)
    clock = FakeClock()
    connector = make(clock=clock, archive_scan_interval=timedelta(hours=1),
                     overlap=timedelta(0), search_lag=timedelta(0),
                     deletion_lookback=timedelta(0))
    cursor = final_cursor(list(connector.pull("deals", FIELDS, None)))
    hs.crm.deals.basic_api.archive(ids[2])
    connector.write("deals", [RecordWrite("later", ids[7], {"amount": "5"})])
    reads = connector.usage.calls["read"]
    skipped = list(connector.pull("deals", FIELDS, cursor))
    assert [c.id for c in changes(skipped)] == [ids[7]]  # no scan: no deletion yet
    assert connector.usage.calls["read"] == reads
    clock.now += 3_600
    moved = final_cursor(skipped)
    assert moved is not None and cursor is not None and moved > cursor
    scanned = list(connector.pull("deals", FIELDS, moved))
    assert [(c.id, c.deleted) for c in changes(scanned)] == [(ids[2], True)]
    assert isinstance(connector, Connector)


def test_a_pull_narrowed_by_scope_reads_only_that_pipeline(
    sandbox: SandboxServer, make: Factory
) -> None:
    seed_deals(sandbox, 20)
    partner = seed_deals(sandbox, 7, first_id=50_001, pipeline=PARTNER_PIPELINE)
    pages = list(make().pull("deals", FIELDS, None, scope={"pipeline": PARTNER_PIPELINE}))
    assert [c.id for c in changes(pages)] == partner


def test_every_page_carries_the_first_searchs_total_of_the_pull(
    sandbox: SandboxServer, make: Factory
) -> None:
    seed_deals(sandbox, 450)
    seed_deals(sandbox, 30, first_id=50_001, pipeline=PARTNER_PIPELINE)
    pages = list(make().pull("deals", FIELDS, None))
    assert len(changes(pages)) == 480 and len(pages) >= 3
    assert [page.total for page in pages] == [480] * len(pages)
    scoped = list(make().pull("deals", FIELDS, None, scope={"pipeline": PARTNER_PIPELINE}))
    assert len(changes(scoped)) == 30
    assert [page.total for page in scoped] == [30] * len(scoped)


def test_a_re_anchored_search_keeps_the_first_total_and_adds_nothing_up(
    sandbox: SandboxServer, make: Factory, hs: HubSpot
) -> None:
    """A deal modified behind the scan shifts the offsets: the next page is thrown away
    and the search restarts from the open group, its own total counting only what is
    left. The pages still carry the first search's figure, neither summed nor replaced;
    the record read twice makes the pull one more than it said (pull_side clamps)."""
    ids = seed_deals(sandbox, 450)
    connector = make()
    pulled = connector.pull("deals", FIELDS, None)
    with capture_logs() as logs:
        first = next(pulled)
        hs.crm.deals.basic_api.update(ids[3],
                                      SimplePublicObjectInput(properties={"amount": "7"}))
        pages = [first, *pulled]
    (summary,) = [entry for entry in logs if entry["event"] == "hubspot pull"]
    assert summary["reanchors"] == 1
    read = changes(pages)
    assert len(read) == 451 and {c.id for c in read} == set(ids)
    assert [page.total for page in pages] == [450] * len(pages)


def test_pull_side_reports_the_estimate_clamped_to_what_it_read(
    sandbox: SandboxServer, make: Factory, hs: HubSpot
) -> None:
    mapping = load_mappings(ROOT / "mappings").for_system(SystemName.HUBSPOT)
    assert mapping is not None
    ids = seed_deals(sandbox, 450, pipeline=PARTNER_PIPELINE)
    connector = make()
    events: list[ProgressEvent] = []
    beats: list[None] = []

    def heartbeat() -> None:  # after the first page: a deal already read is edited
        beats.append(None)
        if len(beats) == 1:
            hs.crm.deals.basic_api.update(ids[3],
                                          SimplePublicObjectInput(properties={"amount": "7"}))

    pulled = pull_side(connector, mapping, mirror={}, since=None, drift={}, checkpoints={},
                       should_stop=lambda: False, heartbeat=heartbeat,
                       progress=events.append)
    assert pulled.read == 451 and set(pulled.records) == set(ids)
    assert events[0] == ProgressEvent(Phase.PULL, 0, None, side="prm")
    middle = events[1:-1]
    assert [e.total for e in middle if e.done <= 450] == [450] * sum(
        e.done <= 450 for e in middle)
    assert any(e.done == 451 and e.total == 451 and not e.ended for e in middle)
    assert all(e.total is not None and e.done <= e.total for e in events[1:])
    assert events[-1] == ProgressEvent(Phase.PULL, 451, 451, side="prm", ended=True)


def test_fetch_reads_by_id_in_batches_of_100_leaving_out_unknown_ids(
    sandbox: SandboxServer, make: Factory
) -> None:
    ids = seed_deals(sandbox, 150)
    connector = make()
    wanted = [*reversed(ids), "999999999", ids[0]]
    found = connector.fetch("deals", wanted, ["dealname"])
    assert [c.id for c in found] == list(reversed(ids))
    assert found[0].fields["dealname"] == f"Deal {ids[-1]}"
    assert connector.usage.calls == {"metadata": 1, "read": 2}


def test_a_property_archived_mid_run_is_a_schema_error_not_a_silent_gap(
    sandbox: SandboxServer, make: Factory
) -> None:
    """HubSpot leaves an archived property out of reads instead of refusing them; with the
    definitions cached from before, the connector must notice the gap itself."""
    ids = seed_deals(sandbox, 3)
    connector = make()
    fields = [*FIELDS, "budget"]
    # budget is unset on every deal: a null value is not a missing property.
    assert len(changes(list(connector.pull("deals", fields, None)))) == 3
    control(sandbox, "schema", {"hubspot": {"deals": {"hidden": ["budget"],
                                                      "read_only": ["amount"]}}})
    with pytest.raises(SchemaError, match="no longer returns the property budget"):
        list(connector.pull("deals", fields, None))
    with pytest.raises(SchemaError, match="no property budget"):  # definitions re-read
        connector.fetch("deals", ids, fields)
    connector.start_cycle()  # what the sync does next: describe again, pull without it
    described = connector.describe("deals")
    assert "budget" not in described.fields and not described.fields["amount"].updateable
    assert len(changes(list(connector.pull("deals", FIELDS, None)))) == 3


def test_fetch_notices_a_property_archived_since_the_definitions_were_read(
    sandbox: SandboxServer, make: Factory
) -> None:
    ids = seed_deals(sandbox, 2)
    connector = make()
    fields = [*FIELDS, "budget"]
    assert len(connector.fetch("deals", ids, fields)) == 2
    control(sandbox, "schema", {"hubspot": {"deals": {"hidden": ["budget"]}}})
    with pytest.raises(SchemaError, match="no longer returns the property budget"):
        connector.fetch("deals", ids, fields)



def test_a_defined_property_a_record_lacks_costs_one_definitions_read_per_cycle(
    sandbox: SandboxServer, make: Factory
) -> None:
    """A property HubSpot still defines but leaves out of a record (one the app's scopes
    may not see) is a warning, re-checked once per cycle rather than once per page."""
    seed_deals(sandbox, 1)
    connector = make()
    connector.describe("deals")
    before = connector.usage.calls.get("metadata", 0)
    for _ in range(3):  # three pages of records without dealname
        connector._schema.check_returned("deals", ["dealname"], [{"id": "1", "properties": {}}])
    assert connector.usage.calls.get("metadata", 0) == before + 1
    connector.start_cycle()
    connector._schema.check_returned("deals", ["dealname"], [{"id": "1", "properties": {}}])
    assert connector.usage.calls.get("metadata", 0) == before + 2

# --- writes ---------------------------------------------------------------------------
def test_a_partly_failed_batch_reports_each_record_and_writes_the_good_ones_once(
    sandbox: SandboxServer, make: Factory
) -> None:
    ids = seed_deals(sandbox, 3)
    connector = make()
    results = connector.write("deals", [
        RecordWrite("ok-1", ids[0], {"amount": "10"}),
        RecordWrite("bad-stage", ids[1], {"dealstage": "no_such_stage"}),
        RecordWrite("missing", "987654321", {"amount": "1"}),
        RecordWrite("new-ok", None, {"dealname": "Created A"}),
        RecordWrite("new-bad", None, {"dealname": "Created B", "closedate": "not a date"}),
        RecordWrite("ok-2", ids[2], {"amount": "30"}),
    ])
    assert [r.ref for r in results] == ["ok-1", "bad-stage", "missing", "new-ok", "new-bad",
                                        "ok-2"]
    assert [r.ok for r in results] == [True, False, False, True, False, True]
    assert results[1].error is not None and results[1].error.fields == ("dealstage",)
    assert results[2].error is not None and results[2].error.code == "OBJECT_NOT_FOUND"
    assert results[4].error is not None and "closedate" in results[4].error.fields
    assert results[3].created and results[3].id is not None
    assert connector.usage.calls["write"] == 2  # one batch update, one batch create
    names = Counter(obj.properties.get("dealname") for obj in live(sandbox, "deals"))
    assert names["Created A"] == 1 and names["Created B"] == 0
    amounts = {str(o.id): o.properties.get("amount") for o in live(sandbox, "deals")}
    assert (amounts[ids[0]], amounts[ids[2]]) == ("10", "30")


def test_a_write_says_how_hubspot_stores_what_was_written(
    sandbox: SandboxServer, make: Factory
) -> None:
    """The mirror keeps a written record as HubSpot holds it, so reading the write back
    is no change: a date sent to a datetime property comes back a datetime."""
    ids = seed_deals(sandbox, 1)
    connector = make()
    [result] = connector.write("deals", [
        RecordWrite("w", ids[0], {"closedate": "2027-01-08", "amount": "10"})])
    assert result.ok and result.stored is not None
    page = next(iter(connector.pull("deals", ["closedate", "amount"], None)))
    [read] = [change for change in page.changes if change.id == ids[0]]
    assert result.stored == {"closedate": read.fields["closedate"], "amount": "10"}
    assert result.stored["closedate"] != "2027-01-08"


def test_a_batch_refused_as_a_whole_is_split_and_each_record_written_once(
    sandbox: SandboxServer, make: Factory
) -> None:
    connector = make()
    arm(sandbox, "/batch/create$", 400)
    writes = [RecordWrite(f"r{i}", None, {"dealname": f"Split {i}"}) for i in range(40)]
    results = connector.write("deals", writes)
    assert all(r.ok and r.created for r in results)
    names = Counter(obj.properties.get("dealname") for obj in live(sandbox, "deals"))
    assert all(names[f"Split {i}"] == 1 for i in range(40))
    assert connector.usage.calls["write"] == 3  # refused, then two halves


def test_writes_are_cut_at_100_and_one_record_twice_goes_to_a_later_batch(
    sandbox: SandboxServer, make: Factory
) -> None:
    ids = seed_deals(sandbox, 150)
    connector = make()
    writes = [RecordWrite(f"w{i}", deal_id, {"amount": str(i)}) for i, deal_id in enumerate(ids)]
    writes.append(RecordWrite("again", ids[0], {"amount": "999"}))
    results = connector.write("deals", writes)
    assert all(r.ok for r in results) and len(results) == 151
    assert connector.usage.calls["write"] == 2
    assert sandbox.sandbox.hubspot.store.find("deals", ids[0]).properties["amount"] == "999"


def test_unknown_or_read_only_properties_stop_before_anything_is_written(
    sandbox: SandboxServer, make: Factory
) -> None:
    ids = seed_deals(sandbox, 1)
    connector = make()
    with pytest.raises(SchemaError, match="no property handoff_nonsense"):
        connector.write("deals", [RecordWrite("x", ids[0], {"handoff_nonsense": "1"})])
    with pytest.raises(SchemaError, match="hs_lastmodifieddate cannot be written"):
        connector.write("deals", [RecordWrite("x", ids[0], {"hs_lastmodifieddate": "1"})])
    with pytest.raises(SchemaError, match="no property regio"):
        list(connector.pull("deals", FIELDS, None, scope={"regio": "EMEA"}))
    assert "write" not in connector.usage.calls and "search" not in connector.usage.calls


# --- tasks ----------------------------------------------------------------------------
def task(key: str, deal_id: str, subject: str = "Intro call") -> TaskWrite:
    return TaskWrite(key, deal_id, {"hs_task_subject": subject, "hs_task_status": "NOT_STARTED",
                                    "hs_timestamp": "2026-02-01T09:00:00Z"})


def test_tasks_upserted_twice_are_one_task_with_one_association(
    sandbox: SandboxServer, make: Factory, hs: HubSpot
) -> None:
    deals = seed_deals(sandbox, 2)
    connector = make()
    batch = [task("handoff:1:intro", deals[0]), task("handoff:2:intro", deals[1])]
    first = connector.upsert_tasks(TASKS, batch)
    assert [(r.ref, r.ok, r.created) for r in first] == [
        ("handoff:1:intro", True, True), ("handoff:2:intro", True, True)]
    again = connector.upsert_tasks(TASKS, [task("handoff:1:intro", deals[0], "Renamed"),
                                           batch[1]])
    assert [(r.ok, r.created) for r in again] == [(True, False), (True, False)]
    assert [r.id for r in again] == [r.id for r in first]
    tasks = live(sandbox, "tasks")
    assert len(tasks) == 2
    assert Counter(t.properties["handoff_task_key"] for t in tasks) == {
        "handoff:1:intro": 1, "handoff:2:intro": 1}
    page = hs.crm.associations.v4.basic_api.get_page("deals", deals[0], "tasks")
    assert [(str(r.to_object_id), [t.type_id for t in r.association_types])
            for r in page.results] == [(first[0].id, [215])]
    assert connector.usage.calls["write"] == 2 and connector.usage.calls["associate"] == 2


def test_a_task_whose_deal_is_gone_is_written_but_reported_unattached(
    sandbox: SandboxServer, make: Factory
) -> None:
    deals = seed_deals(sandbox, 1)
    results = make().upsert_tasks(TASKS, [task("k:1", deals[0]), task("k:2", "888888888")])
    assert results[0].ok
    assert not results[1].ok and results[1].id is not None
    assert results[1].error is not None and results[1].error.code == "ASSOCIATION_FAILED"
    assert results[1].error.retriable


# --- authentication ---------------------------------------------------------------------
def oauth_environ(sandbox: SandboxServer) -> dict[str, str]:
    creds = sandbox.sandbox.credentials
    return {"HUBSPOT_CLIENT_ID": creds.hs_client_id,
            "HUBSPOT_CLIENT_SECRET": creds.hs_client_secret,
            "HUBSPOT_REFRESH_TOKEN": creds.hs_refresh_token}


def test_oauth_renews_an_expired_token_once_and_repeats_the_call(
    sandbox: SandboxServer, make: Factory
) -> None:
    ids = seed_deals(sandbox, 5)
    connector = make(auth="oauth", environ=oauth_environ(sandbox))
    assert len(connector.fetch("deals", ids, ["dealname"])) == 5
    assert connector.usage.calls["auth"] == 1
    control(sandbox, "expire-sessions", {})
    assert len(connector.fetch("deals", ids, ["dealname"])) == 5
    assert connector.usage.calls["auth"] == 2
    assert connector.usage.calls["read"] == 3  # the refused call, repeated once


def test_oauth_renews_ahead_of_expiry_without_waiting_for_a_401(
    sandbox: SandboxServer, make: Factory
) -> None:
    ids = seed_deals(sandbox, 1)
    clock = FakeClock()
    connector = make(auth="oauth", environ=oauth_environ(sandbox), clock=clock)
    connector.fetch("deals", ids, ["dealname"])
    clock.now += 1_600  # 200 s before the 1,800 s token lapses: inside the margin
    connector.fetch("deals", ids, ["dealname"])
    assert connector.usage.calls["auth"] == 2 and connector.usage.calls["read"] == 2


def test_oauth_secrets_can_come_from_files(
    sandbox: SandboxServer, make: Factory, tmp_path: Any
) -> None:
    creds = sandbox.sandbox.credentials
    files = {}
    for name, value in (("id", creds.hs_client_id), ("secret", creds.hs_client_secret),
                        ("refresh", creds.hs_refresh_token)):
        files[name] = tmp_path / name
        files[name].write_text(value + "\n")
    sources = CredentialSources(client_id_file=str(files["id"]),
                                client_secret_file=str(files["secret"]),
                                refresh_token_file=str(files["refresh"]))
    connector = make(auth="oauth", credentials=sources, environ={"UNRELATED": "1"})
    assert [o.email for o in connector.owners()] == ["admin@handoff-sync.sandbox"]


def test_a_refused_private_app_token_is_an_auth_error_that_names_no_secret(
    sandbox: SandboxServer, make: Factory
) -> None:
    connector = make(environ={"HUBSPOT_ACCESS_TOKEN": "pat-na1-revoked-token"})
    with pytest.raises(AuthError) as info:
        connector.describe("deals")
    assert "private-app token" in str(info.value)
    assert "revoked-token" not in str(info.value)
    assert connector.usage.total == 1  # nothing to renew: not repeated


def test_a_bad_refresh_token_is_an_auth_error(sandbox: SandboxServer, make: Factory) -> None:
    environ = {**oauth_environ(sandbox), "HUBSPOT_REFRESH_TOKEN": "na1-not-the-token"}
    connector = make(auth="oauth", environ=environ)
    with pytest.raises(AuthError, match="refresh token"):
        connector.owners()


def test_missing_secrets_are_named_by_their_source() -> None:
    with pytest.raises(AuthError, match="HUBSPOT_ACCESS_TOKEN"):
        HubSpotConnector(HubSpotSettings(), environ={})


# --- limits -----------------------------------------------------------------------------
def test_pacing_keeps_bursts_and_searches_under_the_default_quotas(
    sandbox: SandboxServer,
) -> None:
    """Real time here: the sandbox enforces 190 calls per rolling 10 s and 5 searches per
    second (its defaults, HubSpot's), and the connector's defaults must stay under both."""
    sandbox.sandbox.usage.quotas = Quotas()
    ids = seed_deals(sandbox, 2_400)
    connector = HubSpotConnector(
        HubSpotSettings(host=sandbox.base_url, ca_file=str(sandbox.ca_file)),
        environ={"HUBSPOT_ACCESS_TOKEN": sandbox.sandbox.credentials.hs_access_token})
    try:
        assert len(changes(list(connector.pull("deals", FIELDS, None)))) == 2_400
        for deal_id in ids[:200]:  # a burst of 200 single reads: past 190 in 10 s
            assert len(connector.fetch("deals", [deal_id], ["dealname"])) == 1
    finally:
        connector.close()
    assert connector.transport.rate_limited == 0  # no 429 was ever answered
    # 2,400 records: 12 pages of 200, one more for the one-record overlap between pages.
    assert connector.usage.calls["search"] == 13 and connector.usage.calls["read"] == 201
    assert connector.usage.throttled_seconds > 0
    assert connector.usage.window_limit == 190 and connector.usage.daily_limit == 1_000_000


def test_the_rate_limit_headers_become_usage(sandbox: SandboxServer, make: Factory) -> None:
    sandbox.sandbox.usage.quotas.hubspot_daily = 50_000
    connector = make()
    connector.describe("deals")
    assert connector.usage.daily_limit == 50_000
    assert connector.usage.daily_used == sandbox_calls(sandbox) == 2
    assert connector.budget.daily_limit == 50_000


def test_a_spent_daily_allowance_stops_the_run_without_retrying(
    sandbox: SandboxServer, make: Factory
) -> None:
    sandbox.sandbox.usage.quotas.hubspot_daily = 0
    connector = make()
    with pytest.raises(QuotaExhausted, match="daily API allowance"):
        connector.owners()
    assert connector.usage.total == 1


def test_missing_scopes_are_a_permission_error_naming_the_call(
    sandbox: SandboxServer, make: Factory
) -> None:
    arm(sandbox, "/crm/v3/owners", 403)
    connector = make()
    with pytest.raises(PermissionDenied, match="lacks the scope"):
        connector.owners()
    assert connector.usage.total == 1


# --- faults ---------------------------------------------------------------------------
FAULTS = {
    "429-retry-after": {"status": 429, "retry_after": 2},
    "500": 500,
    "503": 503,
    "slow": {"delay": 1.2},
    "drop": "drop",
}


def faulty(make: Factory, clock: FakeClock) -> HubSpotConnector:
    return make(clock=clock, read_timeout=0.4)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_during_a_pull_is_retried_and_nothing_is_lost_or_doubled(
    sandbox: SandboxServer, make: Factory, fault: str
) -> None:
    ids = seed_deals(sandbox, 450)
    clock = FakeClock()
    connector = faulty(make, clock)
    arm(sandbox, "/search$", FAULTS[fault])
    pulled = [c.id for c in changes(list(connector.pull("deals", FIELDS, None)))]
    assert pulled == ids
    assert connector.usage.calls["search"] == 4  # three pages and one repeat
    if fault == "429-retry-after":
        assert max(clock.sleeps) >= 2.0  # Retry-After honoured


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_during_a_batch_update_is_retried_and_applied(
    sandbox: SandboxServer, make: Factory, fault: str
) -> None:
    ids = seed_deals(sandbox, 150)
    connector = faulty(make, FakeClock())
    arm(sandbox, "/batch/update$", FAULTS[fault])
    results = connector.write("deals", [RecordWrite(i, i, {"amount": "77"}) for i in ids])
    assert all(r.ok for r in results)
    wait_for_stalled_calls(fault)
    assert {o.properties["amount"] for o in live(sandbox, "deals")} == {"77"}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_during_a_batch_create_never_creates_twice(
    sandbox: SandboxServer, make: Factory, fault: str
) -> None:
    connector = faulty(make, FakeClock())
    arm(sandbox, "/batch/create$", FAULTS[fault])
    writes = [RecordWrite(f"r{i}", None, {"dealname": f"Created {i}"}) for i in range(150)]
    results = connector.write("deals", writes)
    wait_for_stalled_calls(fault)
    names = Counter(obj.properties.get("dealname") for obj in live(sandbox, "deals"))
    assert max(names.values()) == 1  # no duplicates, whatever happened
    first_batch, second_batch = results[:100], results[100:]
    assert all(r.ok for r in second_batch)
    if fault in ("429-retry-after", "503"):  # refused before running: safe to repeat
        assert all(r.ok and r.created for r in first_batch)
        assert len(names) == 150
        return
    # It may have run: reported, not repeated. The sandbox fails 500 and drop before
    # running the call; a stalled call finishes after the client gave up on it.
    assert all(not r.ok and r.error is not None and r.error.code == "OUTCOME_UNKNOWN"
               and not r.error.retriable for r in first_batch)
    assert "may or may not have been written" in first_batch[0].error.message
    assert len(names) == (150 if fault == "slow" else 50)
    assert connector.usage.calls["write"] == 2


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_during_task_upserts_still_leaves_one_task_and_one_association(
    sandbox: SandboxServer, make: Factory, hs: HubSpot, fault: str
) -> None:
    deals = seed_deals(sandbox, 3)
    connector = faulty(make, FakeClock())
    arm(sandbox, "/objects/tasks/batch/upsert$", FAULTS[fault])
    arm(sandbox, "/associations/tasks/deals/batch/create$", FAULTS[fault], append=True)
    results = connector.upsert_tasks(TASKS, [task(f"k:{d}", d) for d in deals])
    wait_for_stalled_calls(fault)
    assert all(r.ok for r in results)
    assert len(live(sandbox, "tasks")) == 3
    assert connector.usage.calls["write"] == connector.usage.calls["associate"] == 2
    for deal_id in deals:
        assert len(hs.crm.associations.v4.basic_api.get_page("deals", deal_id, "tasks")
                   .results) == 1


def test_a_fault_that_outlasts_the_retry_budget_is_a_clear_error(
    sandbox: SandboxServer, make: Factory
) -> None:
    seed_deals(sandbox, 5)
    connector = make(retry=RetrySettings(max_attempts=3, initial_wait=0.01, max_wait=0.02))
    arm(sandbox, "/search$", 503, count=10)
    with pytest.raises(RetriesExhausted, match="hubspot search deals") as info:
        list(connector.pull("deals", FIELDS, None))
    assert str(info.value).startswith("hubspot: hubspot search deals failed 3 times: HubSpot "
                                      "is unavailable (HTTP 503)")
    assert "try again" not in str(info.value)  # the caller says whether a next cycle does
    assert connector.usage.calls["search"] == 3


def wait_for_stalled_calls(fault: str) -> None:
    """A 'slow' fault stalls the server's handler past the client's timeout; it finishes
    its work afterwards, which the checks must see."""
    if fault == "slow":
        time.sleep(FAULTS["slow"]["delay"] + 0.3)  # type: ignore[index]


# --- metadata ---------------------------------------------------------------------------
def test_describe_reads_properties_and_pipelines_once_per_cycle(
    sandbox: SandboxServer, make: Factory
) -> None:
    connector = make()
    deals = connector.describe("deals")
    assert deals.pipelines[PARTNER_PIPELINE][0] == "9004452"
    assert deals.pipeline_field == "pipeline" and deals.stage_field == "dealstage"
    assert not deals.fields["hs_lastmodifieddate"].updateable
    assert deals.fields["dealstage"].picklist_values
    assert connector.describe("deals") is deals
    assert connector.usage.calls == {"metadata": 2}
    connector.start_cycle()
    connector.describe("deals")
    assert connector.usage.calls == {"metadata": 4}
    tasks = connector.describe("tasks")
    assert tasks.pipelines == {} and "handoff_task_key" in tasks.fields


def test_owners_list_active_and_archived_users(sandbox: SandboxServer, make: Factory) -> None:
    with sandbox.sandbox.lock:
        sandbox.sandbox.hubspot.load_seed(SeedData(hubspot_owners=[
            {"id": "101", "email": "Ana@Example.com", "firstName": "Ana", "archived": False},
            {"id": "102", "email": "bo@example.com", "firstName": "Bo", "archived": True},
        ]))
    owners = {o.id: o for o in make().owners()}
    assert owners["101"].email == "ana@example.com" and owners["101"].active
    assert not owners["102"].active and owners["102"].manager_id is None


@pytest.mark.parametrize("pack", ["mappings", "mappings/packs/salesforce-prm-hubspot-crm"])
def test_the_default_packs_validate_against_the_connectors_describe(
    sandbox: SandboxServer, make: Factory, pack: str
) -> None:
    """What `mappings validate --live` will run: the HubSpot mapping of each default pack
    against describe() of its deal object and of tasks."""
    mapping = load_mappings(ROOT / pack).for_system(SystemName.HUBSPOT)
    assert mapping is not None
    connector = make()
    problems = check_against_describe(mapping, connector.describe(mapping.object),
                                      connector.describe("tasks"))
    assert problems == []


# --- the error table on HubSpot's documented bodies ------------------------------------------
def failure(status: int, body: dict[str, Any], headers: dict[str, str] | None = None
            ) -> Failure:
    """The Failure of the exception the client raises for this answer."""
    exc = ObjectsApiException(status=status, reason="error")
    exc.body, exc.headers = json.dumps(body), headers or {}
    found = failure_of(exc)
    assert found is not None
    return found


def test_missing_scopes_name_the_scopes_hubspot_lists() -> None:
    body = {"status": "error", "category": "MISSING_SCOPES", "correlationId": "c-1",
            "message": "This app hasn't been granted all required scopes to make this call.",
            "errors": [{"message": "One or more of the following scopes are required.",
                        "context": {"requiredGranularScopes": ["crm.objects.deals.read",
                                                               "crm.objects.deals.write"]}}]}
    row, error = classify(failure(403, body), subject="search deals")
    assert isinstance(error, PermissionDenied) and row.action is Action.FAIL
    assert "crm.objects.deals.read, crm.objects.deals.write" in str(error)


@pytest.mark.parametrize(("policy", "headers", "wait"), [
    ("TEN_SECONDLY_ROLLING", {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}, 10.0),
    ("TEN_SECONDLY_ROLLING", {"Retry-After": "3"}, 3.0),
    ("SECONDLY", {}, 1.0),
])
def test_a_429_waits_as_told_or_out_the_window(policy: str, headers: dict[str, str],
                                               wait: float) -> None:
    body = {"status": "error", "errorType": "RATE_LIMIT", "policyName": policy,
            "message": "You have reached your ten_secondly_rolling limit."}
    row, error = classify(failure(429, body, headers), subject="batch update deals",
                          writing=True)
    assert isinstance(error, RateLimited) and error.retry_after == wait
    assert row.action is Action.RETRY  # refused before running: even a create may repeat


def test_a_search_naming_an_unknown_property_is_a_schema_error() -> None:
    body = {"status": "error", "category": "VALIDATION_ERROR",
            "message": "Property 'regio' does not exist on deals; it cannot be used to filter "
                       "or sort.", "context": {"propertyName": ["regio"]}}
    _, error = classify(failure(400, body), subject="search deals")
    assert isinstance(error, SchemaError) and "regio" in str(error)
