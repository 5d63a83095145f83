"""The seed's stage history: the trigger timestamps SLA clocks start from (approval, stage
entry, close won) are present, consistent with each record's own timeline, the same for
the same seed, and never after the seed's "now"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from statistics import median

import pytest

from handoff_sync.sandbox.core.seed_data import HubSpotSeedObject, SeedData
from handoff_sync.sandbox.hubspot import schema as hs_schema
from handoff_sync.sandbox.seed.generator import generate, generate_with_truth
from handoff_sync.sandbox.seed.truth import SeedTruth

NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
APPROVED_STAGE = "9004453"  # partner pipeline: Registration Approved
LATER_PARTNER_STAGES = ("9004454", "9004455", "9004456")  # Handoff Ready, Accepted, Won
ORDER = {s.id: i for p in hs_schema.PIPELINES["deals"] for i, s in enumerate(p.stages)}


@pytest.fixture(scope="module")
def seeded() -> tuple[SeedData, SeedTruth]:
    return generate_with_truth(deals=600, partners=8, random_seed=11, now=NOW)


def instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def history(deal: HubSpotSeedObject) -> dict[str, str]:
    return {k: v for k, v in deal.properties.items()
            if v is not None and k.startswith(("hs_date_entered_", "hs_date_exited_"))}


def deals_by_id(data: SeedData) -> dict[str, HubSpotSeedObject]:
    return {d.id: d for d in data.hubspot["deals"]}


def test_the_same_seed_gives_the_same_history_and_another_seed_another() -> None:
    def stamps(seed: int) -> list[object]:
        data = generate(deals=120, partners=4, random_seed=seed, now=NOW)
        return ([history(d) for d in data.hubspot["deals"]]
                + [(o["Id"], o["LastStageChangeDate"]) for o in data.salesforce["Opportunity"]]
                + [r.get("Approved_At__c") for r in data.salesforce["Deal_Registration__c"]])

    first = stamps(3)
    assert any(first) and first == stamps(3)
    assert stamps(4) != first


def test_every_deal_entered_its_stage_within_its_own_lifetime_and_never_after_now(
        seeded: tuple[SeedData, SeedTruth]) -> None:
    for deal in seeded[0].hubspot["deals"]:
        stage, times = deal.properties["dealstage"], history(deal)
        assert f"hs_date_entered_{stage}" in times, deal.id
        assert f"hs_date_exited_{stage}" not in times, deal.id  # it is still in it
        for name, value in times.items():
            assert deal.created_at <= instant(value) <= deal.updated_at <= NOW, (deal.id, name)
        # A stage left was left when the next one (in pipeline order) was entered.
        for name, left in times.items():
            if name.startswith("hs_date_exited_"):
                later = [v for k, v in times.items() if k.startswith("hs_date_entered_")
                         and ORDER[k.removeprefix("hs_date_entered_")]
                         > ORDER[name.removeprefix("hs_date_exited_")]]
                assert left in later, (deal.id, name)


def test_opportunities_changed_stage_within_their_lifetime(
        seeded: tuple[SeedData, SeedTruth]) -> None:
    for opp in seeded[0].salesforce["Opportunity"]:
        assert opp["CreatedDate"] <= opp["LastStageChangeDate"] <= opp["LastModifiedDate"] <= NOW


def test_approved_registrations_carry_their_approval_in_both_prms(
        seeded: tuple[SeedData, SeedTruth]) -> None:
    data, truth = seeded
    deals = deals_by_id(data)
    registrations = {r["Id"]: r for r in data.salesforce["Deal_Registration__c"]}
    ages = []
    for s in truth.scenarios:
        hs_reg = deals[s.hs_registration_id]
        approved_at = registrations[s.sf_registration_id].get("Approved_At__c")
        entered = hs_reg.properties.get(f"hs_date_entered_{APPROVED_STAGE}")
        if s.registration_status not in ("Approved", "Converted"):
            assert approved_at is None and entered is None, s.number
            continue
        assert approved_at is not None and entered is not None, s.number
        assert instant(entered) == approved_at <= NOW
        for later in LATER_PARTNER_STAGES:  # reached after the approval, never before
            value = hs_reg.properties.get(f"hs_date_entered_{later}")
            assert value is None or approved_at <= instant(value) <= NOW
        ages.append(NOW - approved_at)
    assert timedelta(days=3) < median(ages) < timedelta(days=60)


def test_won_crm_deals_were_won_on_or_shortly_before_their_close_date(
        seeded: tuple[SeedData, SeedTruth]) -> None:
    data, truth = seeded
    deals = deals_by_id(data)
    opportunities = {o["Id"]: o for o in data.salesforce["Opportunity"]}
    gaps = []
    for opp_id, deal_id in [(s.sf_opportunity_id, s.hs_deal_id) for s in truth.scenarios] + [
            (d.sf_opportunity_id, d.hs_deal_id) for d in truth.direct]:
        if opp_id is None or not opportunities[opp_id]["IsWon"]:
            continue
        opp, deal = opportunities[opp_id], deals[str(deal_id)].properties
        won = opp["LastStageChangeDate"]
        assert deal["hs_date_entered_closedwon"] == won.strftime(
            "%Y-%m-%dT%H:%M:%S.") + f"{won.microsecond // 1000:03d}Z"  # one moment, two CRMs
        assert won <= NOW
        gap = (opp["CloseDate"] - won.date()).days
        assert 0 <= gap <= 17, (opp_id, won, opp["CloseDate"])
        assert deal["closedate"].startswith(opp["CloseDate"].isoformat())
        gaps.append(gap)
    assert len(gaps) > 20 and median(gaps) == 0


def test_an_opportunity_and_its_hubspot_twin_changed_stage_at_the_same_moment(
        seeded: tuple[SeedData, SeedTruth]) -> None:
    data, truth = seeded
    deals = deals_by_id(data)
    opportunities = {o["Id"]: o for o in data.salesforce["Opportunity"]}
    pairs = [(s.sf_opportunity_id, s.hs_deal_id) for s in truth.scenarios
             if s.sf_opportunity_id is not None]
    pairs += [(s.decoy_sf_opportunity_id, s.decoy_hs_deal_id) for s in truth.scenarios
              if s.decoy_sf_opportunity_id is not None]
    assert len(pairs) > 300
    for opp_id, deal_id in pairs:
        deal = deals[str(deal_id)].properties
        entered = deal[f"hs_date_entered_{deal['dealstage']}"]
        assert instant(entered) == opportunities[str(opp_id)]["LastStageChangeDate"], opp_id
