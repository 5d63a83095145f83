"""The PRM side of a scenario: the Deal_Registration__c record (PRM of pack b)
and the partner-pipeline HubSpot deal (PRM of pack a)."""

from __future__ import annotations

from handoff_sync.sandbox.hubspot.schema import PARTNER_PIPELINE, HsStage
from handoff_sync.sandbox.salesforce.schema import HANDOFF_STAGES
from handoff_sync.sandbox.seed.draw import day_iso, hubspot_number, moment, one_of
from handoff_sync.sandbox.seed.history import hubspot_history, registration_path
from handoff_sync.sandbox.seed.model import Scenario
from handoff_sync.sandbox.seed.records import FLAGS, Builder, Shared, hs_owner, sf_owner
from handoff_sync.sandbox.seed.rules import (
    APPROVED,
    CONVERTED,
    EXPIRED,
    REJECTED,
    SUBMITTED,
    segment_of,
)
from handoff_sync.sandbox.seed.words import EXPIRY_NOTE, REJECTION_NOTES

(_REG_SUBMITTED, _REG_APPROVED, _REG_READY, _REG_ACCEPTED, _REG_WON,
 _REG_LOST) = PARTNER_PIPELINE.stages


def _partner_stage(s: Scenario) -> HsStage:
    """Where a registration sits in the partner pipeline."""
    if s.status == SUBMITTED:
        return _REG_SUBMITTED
    if s.status == APPROVED:
        return _REG_APPROVED if s.stage == 1 else _REG_READY
    if s.status == CONVERTED:
        return {"open": _REG_ACCEPTED, "won": _REG_WON}.get(s.outcome, _REG_LOST)
    return _REG_LOST


def registration_record(b: Builder, s: Scenario, shared: Shared, record_id: str,
                        crm_deal_id: str | None) -> None:
    """Deal_Registration__c: the PRM side of pack (b)."""
    record = b.sf("Deal_Registration__c", record_id, shared.registered, {
        "OwnerId": sf_owner(s.partner.manager),
        "Name": f"DR-{s.index + 1:06d}",  # the auto-number, in creation order
        "Deal_Name__c": s.prm_name, "Partner_Account__c": s.partner.sf_id,
        "Customer_Account_Name__c": s.customer.name, "Customer_Domain__c": s.customer.domain,
        "Amount__c": s.amount, "Expected_Close_Date__c": s.close_date,
        "Registration_Status__c": s.status, "Handoff_Type__c": s.handoff_type,
        "Handoff_Stage__c": HANDOFF_STAGES[s.stage - 1],
        "Handoff_Stage_Entered__c": shared.entered[0], "Region__c": s.region,
        "Segment__c": segment_of(s.amount)[0],
        "Partner_Prepared_Prospect__c": False, "Handoff_Resubmit__c": False,
    })
    if s.approved_ms is not None:
        record["Approved_At__c"] = moment(s.approved_ms)[0]
    if crm_deal_id is not None:
        record["CRM_Deal_Id__c"] = crm_deal_id
    if s.ae is not None:
        record["AE_Email__c"] = s.ae.email
    if s.cs is not None:
        record["CS_Owner_Email__c"] = s.cs.email
    if s.rep_email is not None:
        record["Partner_Rep_Email__c"] = s.rep_email
    record.update(shared.prm_facts[0])


def registration_deal(b: Builder, s: Scenario, shared: Shared, deal_id: str,
                      opportunity_id: str | None) -> None:
    """A partner-pipeline HubSpot deal: the PRM side of pack (a)."""
    assert s.close_date is not None
    stage = _partner_stage(s)
    props: dict[str, str | None] = {
        "hubspot_owner_id": hs_owner(s.partner.manager), "dealname": s.prm_name,
        "amount": hubspot_number(s.amount), "closedate": day_iso(s.close_date),
        "pipeline": PARTNER_PIPELINE.id, "dealstage": stage.id, "dealtype": "newbusiness",
        **FLAGS[stage.id],
        "partner_account_name": s.partner.name, "customer_account_name": s.customer.name,
        "customer_domain": s.customer.domain, **shared.handoff,
        **shared.prm_facts[1],
        **hubspot_history(registration_path(s, stage.id, shared.registered)),
    }
    if opportunity_id is not None:
        props["crm_opportunity_id"] = opportunity_id
    if s.rep_email is not None:
        props["partner_rep_email"] = s.rep_email
    if s.ae is not None:
        props["ae_email"] = s.ae.email
    if s.cs is not None:
        props["cs_owner_id"] = hs_owner(s.cs)
    if s.status == REJECTED:
        props["description"] = one_of(b.r, REJECTION_NOTES)
    elif s.status == EXPIRED:
        props["description"] = EXPIRY_NOTE
    b.hs("deals", deal_id, shared.registered, props)
    b.associate("deals", deal_id, "companies", s.customer.company_id)
