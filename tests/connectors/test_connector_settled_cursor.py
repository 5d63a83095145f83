"""Quiet pulls after a write burst, with the shipped overlap windows, through the real
clients against the sandbox.

The overlap (Salesforce 60 s, HubSpot 120 s) re-reads the window behind the cursor for
changes that show late. A completed pull settles its cursor at the time its first query
ran by the system's clock (the sandbox's, which these tests freeze and move), so the
daemon's own writes are read back once and quiet pulls then cost one query per object;
changes made during the burst, and changes that show late inside the window, still come.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pytest
import requests
import responses
from hubspot import HubSpot
from hubspot.crm.objects import SimplePublicObjectInput
from simple_salesforce import Salesforce

from connectors.base import Connector, Cursor, Page, RecordWrite
from connectors.hubspot.connector import HubSpotConnector, HubSpotSettings
from connectors.retry import RetrySettings
from connectors.salesforce.auth import SalesforceAuth, SecretRef
from connectors.salesforce.connector import SalesforceConnector, SalesforceSettings
from connectors.server_time import query_started_by, settled
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.testing.clock import FakeClock
from handoff_sync.testing.sandbox_clients import hubspot_client, salesforce_client
from tests.connectors.test_connector_salesforce import auth_for, secrets_env
from tests.sandbox.test_salesforce_sandbox import create_many, opportunity


def shipped(settings: type, name: str) -> Any:
    """A connector setting's default: the window handoff-sync ships with."""
    return next(f.default for f in dataclasses.fields(settings) if f.name == name)


X = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # the sandbox's clock while a test runs
N = 24  # records in the write burst


class Side(Protocol):
    """One system, seen as the daemon sees it (a connector with the shipped settings) and
    as its users do (the vendor client)."""

    object: str
    field: str
    overlap: timedelta
    minimum: dict[str, int]  # the calls of a pull that finds nothing

    def connector(self) -> Connector: ...

    def seed(self, count: int) -> list[str]: ...

    def user_edit(self, record_id: str, value: str) -> None: ...


class SalesforceSide:
    object = "Opportunity"
    field = "Name"
    overlap = timedelta(seconds=shipped(SalesforceSettings, "overlap_seconds"))
    minimum: ClassVar[dict[str, int]] = {"query": 1}

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.sf: Salesforce = salesforce_client(server)

    def connector(self) -> Connector:
        fake = FakeClock()
        return SalesforceConnector(
            SalesforceSettings(auth=auth_for(self.server), ca_file=Path(self.server.ca_file)),
            sleep=fake.sleep, clock=fake.clock, environ=secrets_env(self.server))

    def seed(self, count: int) -> list[str]:
        return create_many(self.sf, "Opportunity",
                           [opportunity(Name=f"Seeded {i}") for i in range(count)])

    def user_edit(self, record_id: str, value: str) -> None:
        self.sf.Opportunity.update(record_id, {"Name": value})

    def create(self, value: str) -> str:
        return create_many(self.sf, "Opportunity", [opportunity(Name=value)])[0]


class HubSpotSide:
    object = "deals"
    field = "dealname"
    overlap = shipped(HubSpotSettings, "overlap")
    # The search and the archived listing (every pull: the connector's default interval).
    minimum: ClassVar[dict[str, int]] = {"search": 1, "read": 1}

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.hs: HubSpot = hubspot_client(server)

    def connector(self) -> Connector:
        fake = FakeClock()
        settings = HubSpotSettings(
            host=self.server.base_url, ca_file=str(self.server.ca_file),
            burst_limit=100_000, search_limit=100_000,
            retry=RetrySettings(initial_wait=0.05, max_wait=0.5, give_up_after=60))
        return HubSpotConnector(
            settings, environ={"HUBSPOT_ACCESS_TOKEN":
                               self.server.sandbox.credentials.hs_access_token},
            sleep=fake.sleep, clock=fake.clock)

    def seed(self, count: int) -> list[str]:
        return [self.create(f"Seeded {i}") for i in range(count)]

    def user_edit(self, record_id: str, value: str) -> None:
        self.hs.crm.deals.basic_api.update(
            record_id, SimplePublicObjectInput(properties={"dealname": value}))

    def create(self, value: str) -> str:
        created = self.hs.crm.deals.basic_api.create(
            SimplePublicObjectInput(properties={"dealname": value}))
        return str(created.id)


@pytest.fixture(params=["salesforce", "hubspot"])
def side(request: pytest.FixtureRequest, sandbox: SandboxServer) -> Iterator[Side]:
    sandbox.sandbox.clock.freeze(X)
    made: Side = SalesforceSide(sandbox) if request.param == "salesforce" \
        else HubSpotSide(sandbox)
    yield made
    sandbox.sandbox.clock.reset()


class Puller:
    """Pulls as the cycle does: from the stored cursor, storing the last page's."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self.connector = side.connector()
        self.cursor: Cursor | None = None

    def pull(self) -> tuple[Counter[str], dict[str, int]]:
        """Ids read (how often each) and the calls made, by kind."""
        before = dict(self.connector.usage.calls)
        pages: list[Page] = list(self.connector.pull(self.side.object, [self.side.field],
                                                     self.cursor))
        for page in pages:
            if page.cursor is not None:
                self.cursor = page.cursor
        calls = {kind: n - before.get(kind, 0)
                 for kind, n in self.connector.usage.calls.items() if n != before.get(kind, 0)}
        calls.pop("metadata", None)  # HubSpot's property definitions: once per cycle
        calls.pop("auth", None)
        return Counter(c.id for page in pages for c in page.changes), calls

    def write(self, ids: Sequence[str], value: str) -> None:
        results = self.connector.write(self.side.object, [
            RecordWrite(record_id, record_id, {self.side.field: value}) for record_id in ids])
        assert all(result.ok for result in results), results


def shift(sandbox: SandboxServer, seconds: float) -> None:
    sandbox.sandbox.clock.shift(seconds)


def test_a_write_burst_is_read_back_once_and_quiet_pulls_then_cost_the_minimum(
    side: Side, sandbox: SandboxServer
) -> None:
    seeded = side.seed(40)
    shift(sandbox, 600)
    daemon = Puller(side)
    backfill, _ = daemon.pull()
    assert set(backfill) == set(seeded)

    # The daemon writes N records in two batches; a person edits another one meanwhile.
    shift(sandbox, 10)
    daemon.write(seeded[:N // 2], "written by the daemon")
    shift(sandbox, 1)
    side.user_edit(seeded[30], "edited by a person during the burst")
    shift(sandbox, 1)
    daemon.write(seeded[N // 2:N], "written by the daemon")

    # The next cycle comes after the daemon's interval (300 s, more than the overlap).
    shift(sandbox, 300)
    echo, _ = daemon.pull()
    assert echo == Counter({*seeded[:N], seeded[30]})  # each once, nothing else

    for pause in (0, 5, 300):
        shift(sandbox, pause)
        quiet, calls = daemon.pull()
        assert quiet == Counter() and calls == side.minimum


def test_cycles_faster_than_the_overlap_stop_re_reading_once_it_has_passed(
    side: Side, sandbox: SandboxServer
) -> None:
    """A change stamped inside the window may show as late as the overlap allows, so the
    window is read once more after it has passed by the system's clock, then never."""
    seeded = side.seed(40)
    shift(sandbox, 600)
    daemon = Puller(side)
    daemon.pull()
    daemon.write(seeded[:N], "written by the daemon")

    reads: list[int] = []
    elapsed = 0.0
    step = side.overlap.total_seconds() / 4
    while elapsed < 3 * side.overlap.total_seconds():
        shift(sandbox, step)
        elapsed += step
        found, calls = daemon.pull()
        assert set(found) <= set(seeded[:N]) and max(found.values(), default=1) == 1
        reads.append(len(found))
    # Read while the writes are inside the window, then never again: before, every
    # pull re-read them until a newer change moved the cursor past them.
    assert reads[0] == N and reads[-4:] == [0, 0, 0, 0]
    assert calls == side.minimum


def test_a_change_that_shows_late_inside_the_window_is_still_pulled(
    side: SalesforceSide | HubSpotSide, sandbox: SandboxServer
) -> None:
    """Salesforce: a transaction stamped 55 s before a pull commits after it. HubSpot: a
    write the search index shows 110 s late (past the 30 s search lag, inside the 120 s
    overlap). Either change is stamped inside the window behind the settled cursor."""
    side.seed(5)
    shift(sandbox, 600)
    daemon = Puller(side)
    daemon.pull()
    shift(sandbox, 300)
    if isinstance(side, HubSpotSide):
        set_search_lag(sandbox, 110_000)
        late = side.create("indexed late")
        shift(sandbox, 100)
        assert daemon.pull()[0] == Counter()  # not searchable yet; the cursor settles
        assert daemon.cursor is not None and daemon.cursor.last_id == ""
        shift(sandbox, 12)
    else:
        daemon.pull()  # the cursor settles at this pull's start
        assert daemon.cursor is not None and daemon.cursor.last_id == ""
        shift(sandbox, -55)  # stamped before the pull ran ...
        late = side.create("committed late")
        shift(sandbox, 57)  # ... and shown only after it
    found, _ = daemon.pull()
    assert found == Counter([late])


def set_search_lag(server: SandboxServer, lag_ms: int | None) -> None:
    requests.post(f"{server.base_url}/__sandbox__/faults",
                  json={"quotas": {"hubspot_search_lag_ms": lag_ms}},
                  verify=str(server.ca_file), timeout=10).raise_for_status()


# --- the system's time, as its answers show it -----------------------------------------


def test_the_query_started_by_the_date_less_its_resolution_the_margin_and_the_round_trip(
        ) -> None:
    started = query_started_by("Mon, 02 Mar 2026 10:00:05 GMT", 2.0004)
    # 10:00:05 less 1 s of resolution, 5 s of margin and the 2.0004 s round trip
    assert started == datetime(2026, 3, 2, 9, 59, 56, 999_000, tzinfo=UTC)
    for unusable in (None, "", "yesterday", "Mon, 02 Mar 2026 10:00:05 -0000"):
        assert query_started_by(unusable, 0.1) is None


def test_a_cursor_settles_only_forward_and_only_with_an_overlap() -> None:
    seen = Cursor(X, "006A")
    minute = timedelta(minutes=1)
    assert settled(seen, X + minute, minute) == Cursor(X + minute)
    assert settled(seen, X - minute, minute) == seen  # the newest change is later
    assert settled(seen, X, minute) == seen  # (X, "") is before (X, "006A")
    assert settled(seen, X + minute, timedelta(0)) == seen  # exact cursors never run ahead
    assert settled(seen, None, minute) == seen  # no system time: as before
    assert settled(None, X, minute) == Cursor(X)
    naive = Cursor(X.replace(tzinfo=None) + minute * 2, "006B")
    assert settled(naive, X + minute, minute) == naive


@responses.activate
def test_salesforce_without_a_date_header_keeps_the_newest_change_as_its_cursor() -> None:
    """A proxy that strips Date: nothing is settled, the pull behaves as it always did."""
    base = "https://sf.example.test"
    responses.post(f"{base}/services/oauth2/token",
                   json={"access_token": "t", "instance_url": base})
    row = {"attributes": {"type": "Opportunity"}, "Id": "006000000000001AAA",
           "SystemModstamp": "2026-03-02T10:00:00.000+0000", "Name": "A", "IsDeleted": False}
    responses.get(f"{base}/services/data/v59.0/queryAll/",
                  json={"done": True, "totalSize": 1, "records": [row]})
    fake = FakeClock()
    auth = SalesforceAuth(kind="client_credentials", login_url=base, client_id="cid",
                          client_secret=SecretRef(env="SF_CLIENT_SECRET"))
    connector = SalesforceConnector(SalesforceSettings(auth=auth), sleep=fake.sleep,
                                    clock=fake.clock, environ={"SF_CLIENT_SECRET": "secret"})
    pages = list(connector.pull("Opportunity", ["Name"], Cursor(X - timedelta(hours=1))))
    assert [page.cursor for page in pages] == [Cursor(X, "006000000000001AAA")]

