"""Direct deals: closed opportunities (and HubSpot twins) no partner touched, the
report's baseline for cycle length."""

from __future__ import annotations

import random
from typing import NamedTuple

from handoff_sync.sandbox.hubspot.schema import DEFAULT_PIPELINE
from handoff_sync.sandbox.salesforce.schema import OPPORTUNITY_STAGES, REGIONS
from handoff_sync.sandbox.seed.companies import emit_customers, make_customers
from handoff_sync.sandbox.seed.draw import (
    DAY_MS,
    EPOCH,
    ONE_MS,
    between,
    day_iso,
    hubspot_number,
    moment,
    one_of,
    utc_day,
)
from handoff_sync.sandbox.seed.history import crm_path, hubspot_history
from handoff_sync.sandbox.seed.model import Customer, Staff
from handoff_sync.sandbox.seed.records import FLAGS, HS_CRM_STAGE, Builder, hs_owner, sf_owner
from handoff_sync.sandbox.seed.rules import (
    CS_HANDOFF_GO_LIVE,
    DIRECT_DEALS_PER_REGISTRATIONS,
    segment_of,
)
from handoff_sync.sandbox.seed.scenarios import draw_amount
from handoff_sync.sandbox.seed.truth import DirectTruth
from handoff_sync.sandbox.seed.words import COUNTRIES, INITIATIVES


class _DirectPlan(NamedTuple):
    won: bool
    cycle_days: int  # CRM record created -> close date
    closed_days_before: int  # before the earlier of now and CS_HANDOFF_GO_LIVE
    lead_source: str


# Mid-market direct deals: won ones took 22-41 days from opportunity to signature (median
# about 30). Partner opportunities are created later in the deal (at registration
# approval, after the partner's own discovery), so theirs come out shorter still: the
# demo's cycle-length impact is a plausible negative figure. Larger seeds repeat the table.
_DIRECT_DEALS = (
    _DirectPlan(True, 28, 14, "Web"),
    _DirectPlan(True, 34, 49, "Phone Inquiry"),
    _DirectPlan(False, 30, 22, "Web"),
    _DirectPlan(True, 24, 76, "Other"),
    _DirectPlan(True, 41, 105, "Web"),
    _DirectPlan(True, 26, 37, "Phone Inquiry"),
    _DirectPlan(True, 37, 132, "Web"),
    _DirectPlan(False, 45, 159, "Other"),
    _DirectPlan(True, 31, 60, "Web"),
    _DirectPlan(True, 22, 91, "Phone Inquiry"),
)
_MIN_DIRECT_DEALS = 3  # two of them won: a median from the smallest seed


def _direct_count(deals: int) -> int:
    if not deals:
        return 0
    return max(_MIN_DIRECT_DEALS, round(deals / DIRECT_DEALS_PER_REGISTRATIONS))


def emit_direct_deals(b: Builder, rng: random.Random, deals: int, staff: Staff,
                      taken: set[str]) -> tuple[DirectTruth, ...]:
    """Closed opportunities (and their HubSpot twins) on accounts no partner touched.

    Run after everything else, so adding them changed no other record or id.
    """
    r = rng.random
    customers = make_customers(rng, _direct_count(deals), taken)
    anchor_ms = min(b.now_ms, (CS_HANDOFF_GO_LIVE - EPOCH) // ONE_MS)
    planned = []
    for i, customer in enumerate(customers):
        plan = _DIRECT_DEALS[i % len(_DIRECT_DEALS)]
        # Repeats of the table close on other days, the cycle lengths stay as planned.
        closed_days = plan.closed_days_before + (i // len(_DIRECT_DEALS)) * 11 % 120
        closed_ms = anchor_ms - closed_days * DAY_MS - int(between(r, 1, 9) * 3_600_000)
        created_ms = closed_ms - plan.cycle_days * DAY_MS
        customer.region = one_of(r, REGIONS)
        customer.country = one_of(r, COUNTRIES[customer.region])
        # Regular AEs only: a user on both sides, so no owner review is about these deals.
        customer.owner = one_of(r, staff.ae_by_region[customer.region])
        customer.won, customer.created_ms = plan.won, created_ms
        planned.append((plan, customer, created_ms, closed_ms))
    emit_customers(b, customers, staff)
    return tuple(_direct_deal(b, rng, plan, customer, (created_ms, closed_ms), staff)
                 for plan, customer, created_ms, closed_ms in planned)


def _direct_deal(b: Builder, rng: random.Random, plan: _DirectPlan, customer: Customer,
                 span: tuple[int, int], staff: Staff) -> DirectTruth:
    r = b.r
    created_ms, closed_ms = span
    assert customer.owner is not None
    stage = "Closed Won" if plan.won else "Closed Lost"
    probability, closed, won = OPPORTUNITY_STAGES[stage]
    name = f"{customer.short} - {INITIATIVES[customer.initiative_offset]}"
    amount = draw_amount(rng)
    close = utc_day(closed_ms)
    stamps = b.stamps(created_ms, closed_ms)  # last touched at or after the close
    cs = one_of(r, staff.cs) if plan.won else None
    opportunity_id = b.sf_id("Opportunity")
    record = b.sf("Opportunity", opportunity_id, stamps, {
        "OwnerId": sf_owner(customer.owner), "AccountId": customer.sf_id, "Name": name,
        "StageName": stage, "Amount": amount, "Probability": float(probability),
        "CloseDate": close, "Type": "New Business", "LeadSource": plan.lead_source,
        "IsClosed": closed, "IsWon": won, "Region__c": customer.region,
        "Segment__c": segment_of(amount)[0], "Partner_Prepared_Prospect__c": False,
        "Handoff_Required__c": False,
        "LastStageChangeDate": moment(closed_ms)[0],  # the record was last touched after
    })
    if cs is not None:
        record["CS_Owner__c"] = sf_owner(cs)
    deal_id = str(b.hs_number("crm_deals"))
    stage_id = HS_CRM_STAGE[stage]
    props: dict[str, str | None] = {
        "hubspot_owner_id": hs_owner(customer.owner), "dealname": name,
        "amount": hubspot_number(amount), "closedate": day_iso(close),
        "pipeline": DEFAULT_PIPELINE.id, "dealstage": stage_id, "dealtype": "newbusiness",
        **FLAGS[stage_id], "customer_account_name": customer.name,
        "customer_domain": customer.domain, "region": customer.region,
        "segment": segment_of(amount)[1],
        **hubspot_history(crm_path(stage_id, created_ms, closed_ms)),
    }
    if cs is not None:
        props["cs_owner_id"] = hs_owner(cs)
    b.hs("deals", deal_id, stamps, props)
    b.associate("deals", deal_id, "companies", customer.company_id)
    return DirectTruth(plan.won, utc_day(created_ms), close, opportunity_id, deal_id)
