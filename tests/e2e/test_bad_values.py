"""Partner values no system can hold, synced end to end through the sandbox.

One HubSpot registration holding 1e400 used to fail its whole Salesforce batch (a
401-digit JSON number, a 500, eight retries, every cycle); 1e-400 became 0; an over-long
text blocked its deal's whole update. Now each is a review item naming the record, the
field and the value, that field is not synced for that deal, everything else is, and the
item resolves itself once the value is fixed at the source.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync import CycleReport
from tests.e2e.sync_support import sync_world

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
LONG_BUYER = "Dana Lee, CFO; " + "signs off after the board review. " * 9  # 321 characters


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path, store_url: str) -> Iterator[dict[str, Any]]:
    with sync_world(sandbox, tmp_path, database_url=store_url, now=NOW, deals=20) as world:
        yield world


def cycle(world: dict[str, Any]) -> CycleReport:
    report: CycleReport = world["runner"].run_cycle()
    assert report.outcome is RunOutcome.OK, (report.message, report.failures)
    assert report.failures == ()
    return report


def held_in_portal(server: SandboxServer, deal_id: str, name: str, value: str) -> None:
    """A value the portal holds though its API refuses it today (an old import, a
    property whose type changed): the sync must cope with whatever it reads."""
    api = server.sandbox.hubspot
    with server.sandbox.lock:
        obj = api.store.table("deals").get(int(deal_id))
        assert obj is not None
        api.store.table("deals").modify(obj, {name: value}, api.now_ms(),
                                        api.store.unique_names("deals"))


def invalid_items(world: dict[str, Any], status: str | None = "open") -> dict[str, Any]:
    return {item["key"]: item for item in world["store"].reviews("partners", status=status)
            if item["kind"] == "invalid_value"}


def test_values_no_system_can_hold_are_reviewed_and_the_rest_syncs(
        world: dict[str, Any], sandbox: SandboxServer, sf: Salesforce, hs: HubSpot) -> None:
    cycle(world)
    links = sorted(world["store"].load_pipeline("partners").engine.links.values(),
                   key=lambda link: link.prm_id)
    assert len(links) >= 8
    huge, tiny, nan, wordy, *good = links
    amounts = {link.crm_id: sf.Opportunity.get(link.crm_id)["Amount"] for link in links}
    buyers = {link.crm_id: sf.Opportunity.get(link.crm_id)["Economic_Buyer__c"]
              for link in links}
    for link, name, value in ((huge, "amount", "1e400"), (tiny, "amount", "1e-400"),
                              (nan, "amount", "nan")):
        held_in_portal(sandbox, link.prm_id, name, value)
    hs.crm.deals.basic_api.update(wordy.prm_id, {"properties": {
        "economic_buyer": LONG_BUYER}})
    # Every registration, bad or good, has a second change that must reach Salesforce.
    for n, link in enumerate(links):
        hs.crm.deals.basic_api.update(link.prm_id, {"properties": {
            "need": f"Replace the ETL stack, phase {n}"}})
    hs.crm.deals.basic_api.update(good[0].prm_id, {"properties": {"amount": "4321.5"}})

    report = cycle(world)

    for n, link in enumerate(links):
        opportunity = sf.Opportunity.get(link.crm_id)
        assert opportunity["Need__c"] == f"Replace the ETL stack, phase {n}", link
        if link is not good[0]:
            assert opportunity["Amount"] == amounts[link.crm_id], link  # not 0, not blank
        assert opportunity["Economic_Buyer__c"] == buyers[link.crm_id], link
    assert sf.Opportunity.get(good[0].crm_id)["Amount"] == 4321.5
    items = invalid_items(world)
    assert sorted(items) == sorted([
        f"invalid_value:prm:{huge.prm_id}:prm:amount",
        f"invalid_value:prm:{tiny.prm_id}:prm:amount",
        f"invalid_value:prm:{nan.prm_id}:prm:amount",
        f"invalid_value:prm:{wordy.prm_id}:crm:economic_buyer"])
    huge_item = items[f"invalid_value:prm:{huge.prm_id}:prm:amount"]
    assert huge_item["details"] == {"record": huge.prm_id, "system": "hubspot",
                                    "field": "amount", "value": "'1e400'"}
    assert "too large to sync" in huge_item["summary"]
    assert "too small to sync" in items[f"invalid_value:prm:{tiny.prm_id}:prm:amount"][
        "summary"]
    wordy_item = items[f"invalid_value:prm:{wordy.prm_id}:crm:economic_buyer"]
    assert wordy_item["details"]["record"] == wordy.crm_id
    assert wordy_item["details"]["field"] == "Economic_Buyer__c"
    assert "(321 characters)" in wordy_item["details"]["value"]
    assert "holds at most 120" in wordy_item["summary"]
    assert report.counts["reviews_open"] == len(world["store"].reviews("partners"))

    # Nothing is retried or written again for the bad values, and nothing is raised twice.
    again = cycle(world)
    assert again.counts["records_written"] == 0
    assert invalid_items(world).keys() == items.keys()

    # The partner fixes two of them: they sync, and their items resolve themselves.
    hs.crm.deals.basic_api.update(huge.prm_id, {"properties": {"amount": "2500"}})
    hs.crm.deals.basic_api.update(wordy.prm_id, {"properties": {"economic_buyer": "Dana Lee"}})
    cycle(world)
    assert sf.Opportunity.get(huge.crm_id)["Amount"] == 2500.0
    assert sf.Opportunity.get(wordy.crm_id)["Economic_Buyer__c"] == "Dana Lee"
    still_open = invalid_items(world)
    assert sorted(still_open) == sorted([f"invalid_value:prm:{tiny.prm_id}:prm:amount",
                                         f"invalid_value:prm:{nan.prm_id}:prm:amount"])
    resolved = invalid_items(world, status="resolved")
    assert {f"invalid_value:prm:{huge.prm_id}:prm:amount",
            f"invalid_value:prm:{wordy.prm_id}:crm:economic_buyer"} <= resolved.keys()
