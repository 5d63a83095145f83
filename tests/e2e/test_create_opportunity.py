"""Issue 16 (1): an approved registration that nothing matches gets its opportunity.

Against the sandbox with the real clients, both shipped packs, SQLite and PostgreSQL:
the first cycle creates exactly one opportunity (Salesforce Opportunity or HubSpot deal)
owned by the routed user, attached to the customer's account and naming its
registration; the link is recorded in the same cycle and the next one writes the
opportunity's id to the registration; the first-touch clock runs from the approval time;
later cycles create nothing more. A registration that looks like a direct deal gets a
channel_conflict review item instead, and the pipeline switch turns creation off.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handoff_sync.engine.types import LinkMethod, creation_key
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync.cycle import CycleReport, PipelineRunner
from tests.e2e.create_support import DEFAULT_PACK, PACKS, Sides, add_routing, pack_copy
from tests.e2e.sync_support import run_cli, sync_world

pytest_plugins = ("tests.store_support",)

# The sandbox stamps HubSpot's approval time (hs_date_entered_*) with its own clock, the
# real one: the daemon's clock stands an hour later, so the approval is in its past.
NOW = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
FALLBACK = "revops@example.com"  # both packs' ownership.fallback_owner_email
ROUTING = """routing:
  rules:
    - name: EMEA territory
      when: {{field: custom.region, op: ==, value: EMEA}}
      owner: {ae}
"""


@pytest.fixture(params=PACKS)
def pack(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path, store_url: str,
          pack: str) -> Iterator[dict[str, Any]]:
    """The pack (a copy) with one routing rule: EMEA deals go to a seeded AE."""
    mappings = pack_copy(pack, tmp_path / "mappings")
    with sync_world(sandbox, tmp_path, database_url=store_url, now=NOW,
                    mappings=mappings) as world:
        sides = world["sides"] = Sides.of(pack, sandbox)
        world["ae"] = sides.an_account_executive()
        add_routing(mappings, ROUTING.format(ae=world["ae"]))
        yield world


def cycle(world: dict[str, Any]) -> CycleReport:
    report: CycleReport = world["runner"].run_cycle()
    assert report.outcome is RunOutcome.OK, (report.message, report.failures)
    return report


def test_approved_registration_gets_exactly_one_opportunity_linked_both_ways(
        world: dict[str, Any]) -> None:
    sides: Sides = world["sides"]
    prm_id = sides.register("Quillfeather platform rollout", "Quillfeather Labs",
                            "quillfeather.example", 180000, region="EMEA")
    waiting = sides.register("Quillfeather pilot", "Quillfeather Labs",
                             "quillfeather.example", 150000, approved=False)
    before = sides.crm_records()

    first = cycle(world)
    assert first.counts["opportunities_created"] == 1
    [made] = sides.created_for(creation_key("partners", prm_id))
    assert made["prm_id"] == prm_id  # the opportunity names its registration
    assert made["owner"] == world["ae"]  # the routing rule's AE
    assert made["account"]  # attached to the customer's account, found or created
    assert float(made["amount"]) == 180000 and str(made["close"]).startswith("2027-02-15")
    assert sides.crm_records() == before + 1  # and nothing else was created
    assert sides.created_for(creation_key("partners", waiting)) == []  # not approved
    link = world["store"].load_pipeline("partners").engine.links[prm_id]
    assert (link.crm_id, link.method) == (made["id"], LinkMethod.CREATED)

    cycle(world)
    assert sides.registration_crm_id(prm_id) == made["id"]  # linked both ways
    engine = world["store"].load_pipeline("partners").engine
    clock = engine.clocks[(f"prm:{prm_id}", "partner_to_direct", "first_touch")]
    assert clock.started_at == sides.approved_at(prm_id)  # due from the approval time
    assert clock.due_at > clock.started_at
    verdict = engine.verdicts[f"prm:{prm_id}"]
    assert verdict.crm_id == made["id"] and verdict.required
    brief = sides.brief(made["id"])  # why the AE owns it, on the record they work
    assert "Why you own it" in brief and "EMEA territory" in brief and world["ae"] in brief

    third = cycle(world)
    assert third.counts["opportunities_created"] == 0
    assert len(sides.created_for(creation_key("partners", prm_id))) == 1
    assert sides.crm_records() == before + 1


def test_an_unroutable_deal_goes_to_the_fallback_owner_with_one_review_item(
        world: dict[str, Any]) -> None:
    sides: Sides = world["sides"]
    prm_id = sides.register("Tamarind kiosk network", "Tamarind Retail",
                            "tamarind.example", 150000, region="LATAM")  # no rule for it
    report = cycle(world)
    assert report.counts["opportunities_created"] == 1
    [made] = sides.created_for(creation_key("partners", prm_id))
    assert made["owner"] == FALLBACK
    items = [item for item in world["store"].reviews("partners")
             if item["kind"] == "unrouted"]
    assert [item["key"] for item in items] == [f"unrouted:prm:{prm_id}"]
    cycle(world)  # linked now, still the fallback owner's: the item stands, alone
    items = [item for item in world["store"].reviews("partners")
             if item["kind"] == "unrouted"]
    assert [item["key"] for item in items] == [f"unrouted:prm:{prm_id}"]
    assert len(sides.created_for(creation_key("partners", prm_id))) == 1


def test_registration_like_a_direct_deal_gets_a_review_not_a_second_opportunity(
        world: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Close enough to be a candidate, not close enough to link on its own (amounts 8%
    and close dates 44 days apart): a person decides, and until then no opportunity is
    created."""
    sides: Sides = world["sides"]
    direct = sides.direct_deal("Brindlewood analytics suite", "Brindlewood Foods",
                               "brindlewood.example", 200000, "2027-03-30", FALLBACK)
    prm_id = sides.register("Brindlewood analytics suite", "Brindlewood Foods",
                            "brindlewood.example", 218000, close="2027-02-14")
    before = sides.crm_records()

    report = cycle(world)
    assert report.counts["opportunities_created"] == 0
    assert sides.crm_records() == before
    items = {item["key"]: item for item in world["store"].reviews("partners")}
    item = items[f"channel_conflict:direct:prm:{prm_id}"]
    assert item["kind"] == "channel_conflict"
    assert direct in item["summary"] and item["candidates"][0][0] == direct
    assert f"ambiguous_link:prm:{prm_id}" not in items  # one item, not two

    cycle(world)  # it stands, and still nothing is created
    assert sides.crm_records() == before

    # A person says it is that deal: linked, the item resolves, still nothing created.
    code, _, err = run_cli(capsys, "review", "link", item["key"], direct, "--config",
                           str(tmp_path / "handoff-sync.yaml"))
    assert code == 0, err
    cycle(world)
    assert world["store"].load_pipeline("partners").engine.links[prm_id].crm_id == direct
    assert item["key"] not in {i["key"] for i in world["store"].reviews("partners")}
    assert sides.crm_records() == before


def test_the_pipeline_switch_turns_creation_off(sandbox: SandboxServer, tmp_path: Path,
                                                store_url: str) -> None:
    with sync_world(sandbox, tmp_path, database_url=store_url, now=NOW) as world:
        sides = Sides.of(DEFAULT_PACK, sandbox)
        prm_id = sides.register("Larkspur data platform", "Larkspur Health",
                                "larkspur.example", 300000)
        config = world["config"]
        pipeline = config.pipelines[0].model_copy(update={"create_opportunities": False})
        runner = PipelineRunner(config, pipeline, world["store"], holder="test",
                                clock=lambda: NOW)
        try:
            report = runner.run_cycle()
        finally:
            runner.close()
        assert report.outcome is RunOutcome.OK
        assert report.counts["opportunities_created"] == 0
        assert sides.created_for(creation_key("partners", prm_id)) == []
        # Graded all the same: its clocks run from the approval with no opportunity yet.
        engine = world["store"].load_pipeline("partners").engine
        assert (f"prm:{prm_id}", "partner_to_direct", "first_touch") in engine.clocks
