"""The CRM side of a scenario: the Salesforce Opportunity (pack a), the default-
pipeline HubSpot deal (pack b), and the decoy that makes a link ambiguous."""

from __future__ import annotations

from datetime import timedelta

from handoff_sync.sandbox.hubspot.schema import DEFAULT_PIPELINE
from handoff_sync.sandbox.salesforce.schema import HANDOFF_STAGES, OPPORTUNITY_STAGES
from handoff_sync.sandbox.seed.activity import hs_task, sf_task
from handoff_sync.sandbox.seed.draw import (
    DAY_MS,
    between,
    day_iso,
    hubspot_number,
    moment,
    one_of,
)
from handoff_sync.sandbox.seed.history import (
    crm_path,
    crm_stage_change_ms,
    hubspot_history,
    kickoff_ms,
    ms_of,
)
from handoff_sync.sandbox.seed.model import Scenario
from handoff_sync.sandbox.seed.records import (
    FLAGS,
    HS_CRM_STAGE,
    Builder,
    Shared,
    hs_owner,
    sf_owner,
)
from handoff_sync.sandbox.seed.rules import segment_of


def opportunity_record(b: Builder, s: Scenario, shared: Shared, record_id: str,
                       registration_id: str | None) -> None:
    """A Salesforce Opportunity: the CRM side of pack (a)."""
    assert s.ae is not None and s.crm_stage is not None
    assert shared.converted is not None and shared.crm_facts is not None
    probability, closed, won = OPPORTUNITY_STAGES[s.crm_stage]
    owner_id = sf_owner(s.ae)
    record = b.sf("Opportunity", record_id, shared.converted, {
        "OwnerId": owner_id, "AccountId": s.customer.sf_id, "Name": s.crm_name,
        "StageName": s.crm_stage, "Amount": s.crm_amount, "Probability": float(probability),
        "CloseDate": s.crm_close_date, "Type": "New Business", "LeadSource": "Partner Referral",
        "IsClosed": closed, "IsWon": won, "Handoff_Type__c": s.handoff_type,
        "Handoff_Stage__c": HANDOFF_STAGES[s.stage - 1],
        "Handoff_Stage_Entered__c": shared.entered[0], "Region__c": s.region,
        # The registration's segment (its amount, not a re-scoped CRM one): both agree.
        "Segment__c": segment_of(s.amount)[0],
        "Partner_Prepared_Prospect__c": False, "Handoff_Required__c": False,
        "LastStageChangeDate": moment(crm_stage_change_ms(s, shared.converted))[0],
    })
    if registration_id is not None:
        record["Partner_Registration_Id__c"] = registration_id
    if registration_id is not None or b.r() < 0.5:  # unlinked deals often lack the partner
        record["PartnerAccountId"] = s.partner.sf_id
    if s.cs is not None:
        record["CS_Owner__c"] = sf_owner(s.cs)
    if s.rep_email is not None:
        record["Partner_Rep_Email__c"] = s.rep_email
    record.update(shared.crm_facts[0])
    kickoff = kickoff_ms(s, shared.converted)
    if kickoff is not None:
        record["Kickoff_At__c"] = moment(kickoff)[0]
    if b.r() < 0.05:
        sf_task(b, record_id, owner_id, s.crm_created_ms)


def crm_deal(b: Builder, s: Scenario, shared: Shared, deal_id: str,
             registration_id: str | None) -> None:
    """A default-pipeline HubSpot deal: the CRM side of pack (b)."""
    assert s.ae is not None and s.crm_stage is not None and s.crm_close_date is not None
    assert shared.converted is not None and shared.crm_facts is not None
    stage_id = HS_CRM_STAGE[s.crm_stage]
    owner_id = hs_owner(s.ae)
    props: dict[str, str | None] = {
        "hubspot_owner_id": owner_id, "dealname": s.crm_name,
        "amount": hubspot_number(s.crm_amount), "closedate": day_iso(s.crm_close_date),
        "pipeline": DEFAULT_PIPELINE.id, "dealstage": stage_id, "dealtype": "newbusiness",
        **FLAGS[stage_id],
        "customer_account_name": s.customer.name, "customer_domain": s.customer.domain,
        **shared.handoff, **shared.crm_facts[1],
        **hubspot_history(crm_path(stage_id, ms_of(shared.converted[0]),
                                   crm_stage_change_ms(s, shared.converted))),
    }
    if registration_id is not None:
        props["partner_registration_id"] = registration_id
    if registration_id is not None or b.r() < 0.5:
        props["partner_account_name"] = s.partner.name
    if s.rep_email is not None:
        props["partner_rep_email"] = s.rep_email
    if s.cs is not None:
        props["cs_owner_id"] = hs_owner(s.cs)
    kickoff = kickoff_ms(s, shared.converted)
    if kickoff is not None:
        props["kickoff_at"] = moment(kickoff)[1]
    b.hs("deals", deal_id, shared.converted, props)
    b.associate("deals", deal_id, "companies", s.customer.company_id)
    if b.r() < 0.05:
        hs_task(b, deal_id, owner_id, s.crm_created_ms)


def decoy(b: Builder, s: Scenario) -> tuple[str, str]:
    """A second open deal on the same account that matches the registration just as well."""
    assert s.ae is not None and s.crm_close_date is not None
    r = b.r
    name = one_of(r, (f"{s.customer.short} - {s.initiative} Phase 2",
                      f"{s.customer.name} {s.initiative.lower()} expansion"))
    amount = float(round(s.crm_amount * between(r, 0.96, 1.04), -2))
    shift = 1 + int(r() * 5)
    close = s.crm_close_date + timedelta(days=shift if r() < 0.5 else -shift)
    stage = one_of(r, ("Prospecting", "Qualification", "Needs Analysis"))
    probability, closed, won = OPPORTUNITY_STAGES[stage]
    created_ms = min(b.now_ms, s.crm_created_ms + int(between(r, 0, 3) * DAY_MS))
    stamps = b.stamps(created_ms, created_ms)
    opportunity_id = b.sf_id("Opportunity")
    b.sf("Opportunity", opportunity_id, stamps, {
        "OwnerId": sf_owner(s.ae), "AccountId": s.customer.sf_id, "Name": name,
        "StageName": stage, "Amount": amount, "Probability": float(probability),
        "CloseDate": close, "Type": "New Business", "LeadSource": "Partner Referral",
        "IsClosed": closed, "IsWon": won, "PartnerAccountId": s.partner.sf_id,
        "Region__c": s.region, "Segment__c": segment_of(amount)[0],
        "Partner_Prepared_Prospect__c": False,
        "Handoff_Required__c": False, "LastStageChangeDate": stamps[0][0],
         })
    deal_id = str(b.hs_number("crm_deals"))
    stage_id = HS_CRM_STAGE[stage]
    b.hs("deals", deal_id, stamps, {
        "hubspot_owner_id": hs_owner(s.ae), "dealname": name, "amount": hubspot_number(amount),
        "closedate": day_iso(close), "pipeline": DEFAULT_PIPELINE.id, "dealstage": stage_id,
        "dealtype": "newbusiness", **FLAGS[stage_id], "partner_account_name": s.partner.name,
        "customer_account_name": s.customer.name, "customer_domain": s.customer.domain,
        "region": s.region, "segment": segment_of(amount)[1],
        **hubspot_history(crm_path(stage_id, created_ms, created_ms)),
         })
    b.associate("deals", deal_id, "companies", s.customer.company_id)
    return opportunity_id, deal_id
