"""Partner values no system can hold, synced end to end through the sandbox.

One HubSpot registration holding 1e400 used to fail its whole Salesforce batch (a
401-digit JSON number, a 500, eight retries, every cycle); 1e-400 became 0; an over-long
text blocked its deal's whole update. Now each is a review item naming the record, the
field and the value, that field is not synced for that deal, everything else is, and the
item resolves itself once the value is fixed at the source.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.sandbox.server import SandboxServer
from tests.e2e.sync_support import clean_cycle, held_in_portal, invalid_value_items, sync_world
from tests.sandbox.test_salesforce_sandbox import create_many, opportunity
from tests.unit.test_mapping_files_system import FILES_YAML as PACK_FILES_YAML

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
LONG_BUYER = "Dana Lee, CFO; " + "signs off after the board review. " * 9  # 321 characters


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path, store_url: str) -> Iterator[dict[str, Any]]:
    with sync_world(sandbox, tmp_path, database_url=store_url, now=NOW, deals=20) as world:
        yield world








def test_values_no_system_can_hold_are_reviewed_and_the_rest_syncs(
        world: dict[str, Any], sandbox: SandboxServer, sf: Salesforce, hs: HubSpot) -> None:
    clean_cycle(world)
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

    report = clean_cycle(world)

    for n, link in enumerate(links):
        opportunity = sf.Opportunity.get(link.crm_id)
        assert opportunity["Need__c"] == f"Replace the ETL stack, phase {n}", link
        if link is not good[0]:
            assert opportunity["Amount"] == amounts[link.crm_id], link  # not 0, not blank
        assert opportunity["Economic_Buyer__c"] == buyers[link.crm_id], link
    assert sf.Opportunity.get(good[0].crm_id)["Amount"] == 4321.5
    items = invalid_value_items(world)
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
    again = clean_cycle(world)
    assert again.counts["records_written"] == 0
    assert invalid_value_items(world).keys() == items.keys()

    # The partner fixes two of them: they sync, and their items resolve themselves.
    hs.crm.deals.basic_api.update(huge.prm_id, {"properties": {"amount": "2500"}})
    hs.crm.deals.basic_api.update(wordy.prm_id, {"properties": {"economic_buyer": "Dana Lee"}})
    clean_cycle(world)
    assert sf.Opportunity.get(huge.crm_id)["Amount"] == 2500.0
    assert sf.Opportunity.get(wordy.crm_id)["Economic_Buyer__c"] == "Dana Lee"
    still_open = invalid_value_items(world)
    assert sorted(still_open) == sorted([f"invalid_value:prm:{tiny.prm_id}:prm:amount",
                                         f"invalid_value:prm:{nan.prm_id}:prm:amount"])
    resolved = invalid_value_items(world, status="resolved")
    assert {f"invalid_value:prm:{huge.prm_id}:prm:amount",
            f"invalid_value:prm:{wordy.prm_id}:crm:economic_buyer"} <= resolved.keys()


# The unit tests' files.yaml (it validates beside the default pack), plus the link and
# two qualification facts.
FILES_YAML = PACK_FILES_YAML.replace("  prm_id: Registration ID\n", (
    "  prm_id: Registration ID\n  crm_id: Opportunity\n  need: Need\n"
    "  economic_buyer: Economic Buyer\n"))


def file_drop_runner(world: dict[str, Any], folder: Path) -> Any:
    """The world's pipeline with a file drop as its PRM side (Salesforce stays the CRM)."""
    from connectors.files.connector import FileDropConnector, FileDropSettings
    from handoff_sync.model import Role
    from handoff_sync.sync.cycle import PipelineRunner

    mappings = folder / "mappings"
    mappings.mkdir()
    repo_mappings = Path(__file__).resolve().parents[2] / "mappings"
    for name in ("handoff.yaml", "salesforce.yaml"):
        (mappings / name).write_text((repo_mappings / name).read_text())
    (mappings / "files.yaml").write_text(FILES_YAML)
    pipeline = world["config"].pipelines[0].model_copy(update={"mappings": mappings})
    drops = FileDropConnector(FileDropSettings(folder=folder / "drops", id_field="Registration ID",
                                               modified_field="Last Modified",
                                               settle_seconds=0))
    return PipelineRunner(world["config"], pipeline, world["store"], holder="test",
                          clock=lambda: NOW, connectors={
                              Role.PRM: drops, Role.CRM: world["runner"].connectors[Role.CRM]})


def test_a_file_drop_row_with_1e400_syncs_everything_but_that_value(
        world: dict[str, Any], sandbox: SandboxServer, sf: Salesforce, tmp_path: Path) -> None:
    opportunities = create_many(sf, "Opportunity", [
        opportunity(Name=f"Direct {n}", Amount=100.0 + n) for n in range(5)])
    amounts = {i: sf.Opportunity.get(i)["Amount"] for i in opportunities}
    buyers = {i: sf.Opportunity.get(i)["Economic_Buyer__c"] for i in opportunities}
    # The export is newer than the opportunities: its amounts win (newest_wins).
    exported = (sandbox.sandbox.clock.now() + timedelta(minutes=1)).isoformat()
    (tmp_path / "drops").mkdir()
    bad = ["1e400", "1e-400", "NaN", "1000", "2000"]
    rows = [f'{{"Registration ID": "R-{n}", "Opportunity": "{opp}", "Deal Name": "Deal {n}", '
            f'"Amount": {amount}, "Need": "Need {n}", "Economic Buyer": '
            f'"{LONG_BUYER if n == 3 else "Dana Lee"}", '
            f'"Program": "Partner Deals", "Last Modified": "{exported}"}}'
            for n, (opp, amount) in enumerate(zip(opportunities, bad, strict=True))]
    (tmp_path / "drops" / "export-1.jsonl").write_text("\n".join(rows) + "\n")
    runner = file_drop_runner(world, tmp_path)
    try:
        report = clean_cycle({"runner": runner})
        for n, opp in enumerate(opportunities):
            record = sf.Opportunity.get(opp)
            assert record["Need__c"] == f"Need {n}", n
            assert record["Amount"] == (amounts[opp] if n < 3 else float(bad[n])), n
            assert record["Economic_Buyer__c"] == (buyers[opp] if n == 3 else "Dana Lee"), n
        items = invalid_value_items(world)
        found = sorted((item["details"]["record"], item["details"]["field"],
                        item["details"]["value"]) for item in items.values())
        assert found == sorted([
            ("R-0", "Amount", "'1e400'"), ("R-1", "Amount", "'1e-400'"),
            ("R-2", "Amount", "'NaN'"),
            (opportunities[3], "Economic_Buyer__c",
             f"'{LONG_BUYER[:40]}...' (321 characters)")])
        assert report.failures == ()
    finally:
        runner.close()
