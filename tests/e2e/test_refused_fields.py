"""A field the CRM refuses on write (a validation rule) holds back only that field.

Describe cannot predict a validation rule: the write comes back FIELD_CUSTOM_VALIDATION_
EXCEPTION naming Amount. The record used to fail whole, and the deal's other changes
waited out a 6-hour hold. Now the rest of the record is written in the same cycle, the
field is a review item raised once, later cycles do not resend it while the value stays,
and a fixed value syncs and resolves the item.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.sandbox.core.server import SandboxServer
from tests.e2e.sync_support import clean_cycle, invalid_value_items, sync_world

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
RULE = "Amount 13 is reserved for internal test deals"


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path, store_url: str) -> Iterator[dict[str, Any]]:
    with sync_world(sandbox, tmp_path, database_url=store_url, now=NOW, deals=8) as world:
        yield world




def collection_writes(sandbox: SandboxServer) -> int:
    stats = sandbox.sandbox.usage.stats()["salesforce"]["by_endpoint"]
    return sum(n for endpoint, n in stats.items() if endpoint.startswith("PATCH"))




def test_a_value_a_validation_rule_refuses_holds_back_only_that_field(
        world: dict[str, Any], sandbox: SandboxServer, sf: Salesforce, hs: HubSpot) -> None:
    clean_cycle(world)
    links = sorted(world["store"].load_pipeline("partners").engine.links.values(),
                   key=lambda link: link.prm_id)
    bad, good = links[0], links[1]
    amount = sf.Opportunity.get(bad.crm_id)["Amount"]
    answer = requests.post(f"{sandbox.base_url}/__sandbox__/validation-rules", json={
        "salesforce": [{"object": "Opportunity", "field": "Amount", "value": 13,
                        "message": RULE}]}, verify=str(sandbox.ca_file), timeout=10)
    assert answer.status_code == 200, answer.text
    hs.crm.deals.basic_api.update(bad.prm_id, {"properties": {
        "amount": "13", "need": "Replace the ETL stack"}})
    hs.crm.deals.basic_api.update(good.prm_id, {"properties": {"need": "Move to the cloud"}})

    report = clean_cycle(world)

    bad_opportunity = sf.Opportunity.get(bad.crm_id)
    assert bad_opportunity["Need__c"] == "Replace the ETL stack"  # landed, same cycle
    assert bad_opportunity["Amount"] == amount
    assert sf.Opportunity.get(good.crm_id)["Need__c"] == "Move to the cloud"
    assert report.counts["records_written"] == 2
    items = invalid_value_items(world)
    assert list(items) == [f"invalid_value:prm:{bad.prm_id}:crm:Amount"]
    item = next(iter(items.values()))
    assert item["details"]["record"] == bad.crm_id
    assert item["details"]["field"] == "Amount"
    assert item["details"]["value"] == "'13'"
    assert RULE in item["details"]["message"]

    # Later cycles do not resend the refused value, and raise nothing twice.
    before = collection_writes(sandbox)
    quiet = clean_cycle(world)
    assert quiet.counts["records_written"] == 0
    assert collection_writes(sandbox) == before
    hs.crm.deals.basic_api.update(bad.prm_id, {"properties": {"need": "Replace it all"}})
    busy = clean_cycle(world)
    assert busy.counts["records_written"] == 1
    assert collection_writes(sandbox) == before + 1  # one call, no refusal, no second call
    assert sf.Opportunity.get(bad.crm_id)["Need__c"] == "Replace it all"
    assert invalid_value_items(world).keys() == items.keys()
    assert invalid_value_items(world)[item["key"]]["first_seen"] == item["first_seen"]

    # The partner fixes the value: it syncs and the item resolves itself.
    hs.crm.deals.basic_api.update(bad.prm_id, {"properties": {"amount": "14"}})
    clean_cycle(world)
    assert sf.Opportunity.get(bad.crm_id)["Amount"] == 14.0
    assert invalid_value_items(world) == {}
    assert item["key"] in invalid_value_items(world, status="resolved")
