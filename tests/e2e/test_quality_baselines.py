"""The on-time bonus end to end: the close date a handoff started with survives the deal's
close date moving, through real syncs of both shipped packs against the sandbox (real
clients), on SQLite and PostgreSQL.

Two registrations and their opportunities: "Slips" is forecast to close on 2 December when
its handoff starts; the AE then moves the close date to the end of March (close_date
syncs both ways: the registration follows), and the deal is won on 3 December. "Keeps" is
forecast for 15 January and won on 3 December. The store still holds 2 December for
"Slips", so the report says one deal was won on time and one late, and what the 7% bonus
of the packs comes to: had the baseline followed the close date, both would look on time.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.deals import SimplePublicObjectInput
from simple_salesforce import Salesforce

from handoff_sync.config.load import load_config
from handoff_sync.demo.sandbox_config import write_sandbox_config
from handoff_sync.report import build_report
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from tests.e2e.test_stage_autopilot import (
    APPROVED,
    FILLED,
    FIRST,
    PACKS,
    STAGE_ONE,
    WON,
    Pack,
    cycle,
)

FORECAST = date(2026, 12, 2)  # "Slips": its close date when its handoff starts
SLIPPED = date(2027, 3, 31)  # ... and after the AE moves it
PAIRED = date(2027, 1, 15)  # "Keeps": the close date Pack.pair gives


def crm_close_date(name: str, sf: Salesforce, hs: HubSpot) -> Callable[[str, date], None]:
    """Sets an opportunity's close date in the pack's CRM, as the AE does."""
    def salesforce(crm_id: str, day: date) -> None:
        sf.Opportunity.update(crm_id, {"CloseDate": day.isoformat()})

    def hubspot(crm_id: str, day: date) -> None:
        hs.crm.deals.basic_api.update(crm_id, SimplePublicObjectInput(
            properties={"closedate": day.isoformat()}))

    return salesforce if name == "default" else hubspot


def prm_close_date(name: str, sf: Salesforce, hs: HubSpot, prm_id: str) -> date:
    """The registration's close date in the pack's PRM."""
    if name == "default":
        value = hs.crm.deals.basic_api.get_by_id(prm_id, properties=["closedate"]).properties[
            "closedate"]
    else:
        value = sf.Deal_Registration__c.get(prm_id)["Expected_Close_Date__c"]
    return date.fromisoformat(str(value)[:10])


@pytest.fixture(params=list(PACKS))
def world(request: pytest.FixtureRequest, sandbox: SandboxServer, sf: Salesforce,
          hs: HubSpot, tmp_path: Path, store_url: str) -> Iterator[dict[str, Any]]:
    sandbox.sandbox.clock.freeze(APPROVED - timedelta(days=1))  # the seed's "now"
    sandbox.sandbox.seed(deals=4, partners=2, random_seed=3)
    pack: Pack = PACKS[request.param](sf, hs)
    mappings = tmp_path / "mappings"
    shutil.copytree(pack.folder, mappings, ignore=shutil.ignore_patterns("packs"))
    config_file = tmp_path / "handoff-sync.yaml"
    write_sandbox_config(sandbox.base_url, config_file, pack=request.param,
                         mappings=mappings, database=store_url)
    config = load_config(config_file)
    store = Store.connect(config.database.url)
    store.migrate()
    yield {"config": config, "store": store, "pack": pack, "name": request.param,
           "clock": sandbox.sandbox.clock, "sf": sf, "hs": hs}
    store.close()


def test_the_original_close_date_survives_the_deal_slipping_and_decides_the_bonus(
        world: dict[str, Any]) -> None:
    config, store, pack, clock = world["config"], world["store"], world["pack"], world["clock"]
    name, sf, hs = world["name"], world["sf"], world["hs"]
    set_close = crm_close_date(name, sf, hs)
    clock.freeze(APPROVED)
    prm_slips, crm_slips = pack.pair("Slips", STAGE_ONE)
    prm_keeps, crm_keeps = pack.pair("Keeps", STAGE_ONE)
    set_close(crm_slips, FORECAST)  # the AE's forecast when the handoff starts

    clock.freeze(FIRST)
    cycle(config, store, FIRST + timedelta(minutes=1))
    slips, keeps = f"prm:{prm_slips}", f"prm:{prm_keeps}"
    state = store.load_pipeline("partners").engine
    recorded = {deal: state.baselines[(deal, "partner_to_direct")] for deal in (slips, keeps)}
    assert {deal: b.close_date for deal, b in recorded.items()} == {slips: FORECAST,
                                                                    keeps: PAIRED}
    assert recorded[slips].recorded_at == FIRST + timedelta(minutes=1)

    # The deal slips: the AE moves its close date; it syncs to the registration too.
    clock.freeze(FILLED)
    set_close(crm_slips, SLIPPED)
    cycle(config, store, FILLED + timedelta(minutes=1))
    state = store.load_pipeline("partners").engine
    assert state.bases[slips].agreed["close_date"] == SLIPPED
    assert prm_close_date(name, sf, hs, prm_slips) == SLIPPED
    assert state.baselines[(slips, "partner_to_direct")] == recorded[slips]

    # Both are won on 3 December (Pack.win closes them on that day).
    clock.freeze(WON)
    pack.win(crm_slips)
    pack.win(crm_keeps)
    cycle(config, store, WON + timedelta(hours=1))
    state = store.load_pipeline("partners").engine
    assert state.baselines[(slips, "partner_to_direct")] == recorded[slips]
    # Moving on to customer success is a handoff of its own, with its own start.
    assert state.baselines[(slips, "closed_won_to_cs")].close_date == WON.date()

    quality = build_report(store, config, now=WON + timedelta(hours=2)).quality
    bonus = quality.bonus
    assert bonus is not None and (bonus.pct, bonus.handoff_type) == (7, "partner_to_direct")
    # Slips closed on 3 December, a day after its original 2 December: late. Keeps closed
    # long before 15 January: on time, 7% of 150,000. The seeded deals were won before
    # handoff-sync saw their handoff start: no original date, never judged on time.
    assert (bonus.on_time.value, bonus.on_time.n, bonus.late.value) == (50.0, 2, 1)
    assert [(t.currency, t.deals, t.amount) for t in bonus.totals] == [
        ("USD", 1, Decimal("10500.00"))]
