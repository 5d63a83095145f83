"""The sandbox's seed generator: a realistic partner-program org pair, made deterministically.

One set of deal scenarios feeds both directions of the default mapping packs:
(a) PRM = HubSpot deals in the partner pipeline, CRM = Salesforce Opportunities;
(b) PRM = Salesforce Deal_Registration__c, CRM = HubSpot deals in the default pipeline.
Every scenario is registered once in each PRM; approved and converted ones also have a CRM
record on each side, linked explicitly, by fuzzy match only, ambiguously (two candidate
opportunities) or as a channel conflict (a second partner registered the same deal).
Besides the scenarios, a handful of direct deals (no partner, no registration), closed won
or lost before the default policy's go-live, give the report's cycle length a direct
baseline to compare with.

The output is a pure function of the arguments: one ``random.Random(random_seed)`` drives
every choice, nothing depends on hashing or set order, and every date is anchored on
``now`` (the direct deals' on the earlier of now and ``CS_HANDOFF_GO_LIVE``). Blank
qualification facts are left out of the records (the stores read an absent field as null),
except where Salesforce declares the field non-nillable.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from handoff_sync.sandbox.core.seed_data import SeedData
from handoff_sync.sandbox.seed.companies import (
    customer_count,
    emit_contacts,
    emit_customers,
    emit_partners,
    make_customers,
    make_partners,
)
from handoff_sync.sandbox.seed.deals import crm_deal, decoy, opportunity_record
from handoff_sync.sandbox.seed.direct import emit_direct_deals
from handoff_sync.sandbox.seed.draw import EPOCH, ONE_MS
from handoff_sync.sandbox.seed.model import Scenario
from handoff_sync.sandbox.seed.people import (
    emit_partner_users,
    emit_people,
    make_staff,
    partner_users,
)
from handoff_sync.sandbox.seed.records import Builder, shared_values
from handoff_sync.sandbox.seed.registrations import registration_deal, registration_record
from handoff_sync.sandbox.seed.rules import HS_PARTNER_DEAL_BASE, VENDOR_DOMAIN
from handoff_sync.sandbox.seed.scenarios import assign_links, is_overdue, plan_all, skeletons
from handoff_sync.sandbox.seed.truth import ScenarioTruth, SeedTruth

__all__ = ["generate", "generate_with_truth"]


def _emit_scenario(b: Builder, s: Scenario) -> ScenarioTruth:
    shared = shared_values(b, s)
    dr_id = b.sf_id("Deal_Registration__c")
    hs_registration_id = str(HS_PARTNER_DEAL_BASE + s.index + 1)
    opportunity_id = deal_id = decoy_opportunity_id = decoy_deal_id = None
    if s.has_crm:
        opportunity_id = b.sf_id("Opportunity")
        deal_id = str(b.hs_number("crm_deals"))
    explicit = s.has_crm and s.link in ("explicit", "conflict")
    registration_record(b, s, shared, dr_id, deal_id if explicit else None)
    registration_deal(b, s, shared, hs_registration_id, opportunity_id if explicit else None)
    if opportunity_id is not None and deal_id is not None:
        opportunity_record(b, s, shared, opportunity_id,
                           hs_registration_id if explicit else None)
        crm_deal(b, s, shared, deal_id, dr_id if explicit else None)
        if s.link == "ambiguous":
            decoy_opportunity_id, decoy_deal_id = decoy(b, s)
    return ScenarioTruth(
        number=s.index, link=s.link, registration_status=s.status,
        handoff_type=s.handoff_type, handoff_stage=s.stage, overdue=is_overdue(s, b.now_ms),
        partner=s.partner.name, customer_domain=s.customer.domain, amount=s.amount,
        sf_registration_id=dr_id, hs_registration_id=hs_registration_id,
        sf_opportunity_id=opportunity_id, hs_deal_id=deal_id,
        decoy_sf_opportunity_id=decoy_opportunity_id, decoy_hs_deal_id=decoy_deal_id,
        conflicts_with=s.conflicts_with.index if s.conflicts_with else None,
    )


def _check_arguments(deals: int, partners: int, now: datetime) -> None:
    if deals < 0 or partners < 0:
        raise ValueError("deals and partners must be >= 0")
    if deals and not partners:
        raise ValueError("deal registrations need at least one partner")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (UTC)")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building.

    A large seed allocates millions of container objects and none of them becomes garbage
    here, so the collector's repeated full passes are pure cost (about a fifth of the time
    at 100,000 deals). It is switched back on afterwards if it was on before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def generate_with_truth(*, deals: int, partners: int, random_seed: int,
                        now: datetime) -> tuple[SeedData, SeedTruth]:
    """The org pair and, per scenario, what it is meant to exercise."""
    _check_arguments(deals, partners, now)
    with _collector_paused():
        return _generate(deals, partners, random_seed, now)


def _generate(deals: int, partners: int, random_seed: int,
              now: datetime) -> tuple[SeedData, SeedTruth]:
    rng = random.Random(random_seed)
    now_utc = now.astimezone(UTC)
    now_ms = (now_utc - EPOCH) // ONE_MS
    staff = make_staff(rng, deals, partners, now_ms)
    taken = {VENDOR_DOMAIN}  # domains in use; membership tests only
    partner_list = make_partners(rng, partners, staff, now_ms, taken)
    customers = make_customers(rng, customer_count(deals), taken)
    scenarios = skeletons(rng, deals, partner_list, customers)
    assign_links(rng, scenarios, partner_list)
    plan_all(rng, scenarios, staff, now_ms, now_utc.date())
    builder = Builder(rng, now_ms)
    emit_people(builder, staff)
    emit_partner_users(builder, partner_users(partner_list))
    emit_partners(builder, partner_list, random_seed)
    emit_customers(builder, customers, staff)
    truths = tuple(_emit_scenario(builder, s) for s in scenarios)
    emit_contacts(builder, partner_list, customers)
    direct = emit_direct_deals(builder, rng, deals, staff, taken)
    truth = SeedTruth(
        scenarios=truths,
        salesforce_only_emails=(staff.sf_only_ae.email,),
        hubspot_only_emails=(staff.hs_only_ae.email,),
        inactive_emails=(staff.inactive_ae.email,),
        direct=direct,
    )
    return builder.data, truth


def generate(*, deals: int, partners: int, random_seed: int, now: datetime) -> SeedData:
    """A realistic partner-program org pair: same arguments, same data."""
    return generate_with_truth(deals=deals, partners=partners, random_seed=random_seed,
                               now=now)[0]
