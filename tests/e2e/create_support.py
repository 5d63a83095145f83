"""Both shipped packs as the creation tests drive them: an approved registration on the PRM
side, and the opportunities on the CRM side, through the vendors' own clients.

The default pack has HubSpot as the PRM (registrations in pipeline 9004451) and
Salesforce as the CRM; salesforce-prm-hubspot-crm reverses them (Deal_Registration__c,
deals in the Sales Pipeline).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hubspot import HubSpot
from hubspot.crm.objects import (
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectInputForCreate,
)
from simple_salesforce import Salesforce

from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.testing.sandbox_clients import hubspot_client, salesforce_client
from handoff_sync.testing.yaml_text import without_section

DEFAULT_PACK = "default"
REVERSED_PACK = "salesforce-prm-hubspot-crm"
PACKS = (DEFAULT_PACK, REVERSED_PACK)
APPROVED_AT = "2026-12-01T14:00:00.000+0000"  # the reversed pack's PRM says when


REPO = Path(__file__).resolve().parents[2]
PACK_FOLDERS = {DEFAULT_PACK: REPO / "mappings",
                REVERSED_PACK: REPO / "mappings" / "packs" / REVERSED_PACK}


def pack_argument(pack: str) -> str | None:
    """What ``configured_sandbox(pack=...)`` takes for it."""
    return None if pack == DEFAULT_PACK else pack


def pack_copy(pack: str, folder: Path) -> Path:
    """The pack's mappings copied to ``folder`` (to add routing rules to), its system
    files and handoff.yaml only."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("handoff.yaml", "hubspot.yaml", "salesforce.yaml"):
        shutil.copy(PACK_FOLDERS[pack] / name, folder / name)
    return folder


def add_routing(folder: Path, text: str) -> None:
    """Put a routing: section in the copied pack's handoff.yaml, in place of its own."""
    policy = folder / "handoff.yaml"
    policy.write_text(without_section(policy.read_text(encoding="utf-8"), "routing")
                      + "\n" + text, encoding="utf-8")


@dataclass
class Sides:
    """One pack's PRM and CRM as seen through the vendor clients."""

    pack: str
    sf: Salesforce
    hs: HubSpot

    @classmethod
    def of(cls, pack: str, server: SandboxServer) -> Sides:
        return cls(pack, salesforce_client(server), hubspot_client(server))

    # --- the PRM -------------------------------------------------------------------------
    def register(self, name: str, account: str, domain: str, amount: int,
                 close: str = "2027-02-15", approved: bool = True,
                 region: str | None = None) -> str:
        """A registration for ``account``, approved (or only submitted), in ``region``;
        its id."""
        if self.pack == DEFAULT_PACK:
            made = self.hs.crm.deals.basic_api.create(SimplePublicObjectInputForCreate(
                properties={"pipeline": "9004451",
                            "dealstage": "9004453" if approved else "9004452",
                            "dealname": name, "amount": str(amount), "closedate": close,
                            "customer_account_name": account, "customer_domain": domain,
                            "partner_account_name": "Northwind Partners",
                            "partner_rep_email": "rep@northwind.example",
                            **({"region": region} if region else {})}))
            return str(made.id)
        made = self.sf.Deal_Registration__c.create({
            "Deal_Name__c": name, "Customer_Account_Name__c": account,
            "Customer_Domain__c": domain, "Amount__c": amount, "Expected_Close_Date__c": close,
            "Registration_Status__c": "Approved" if approved else "Submitted",
            "Approved_At__c": APPROVED_AT if approved else None,
            "Partner_Rep_Email__c": "rep@northwind.example",
            **({"Region__c": region} if region else {})})
        return str(made["id"])

    def registration_crm_id(self, prm_id: str) -> str | None:
        """The opportunity id the registration names (its crm_id field)."""
        if self.pack == DEFAULT_PACK:
            deal = self.hs.crm.deals.basic_api.get_by_id(
                prm_id, properties=["crm_opportunity_id"])
            return deal.properties.get("crm_opportunity_id") or None
        return self.sf.Deal_Registration__c.get(prm_id).get("CRM_Deal_Id__c") or None

    def approved_at(self, prm_id: str) -> datetime:
        """When the PRM says the registration was approved."""
        if self.pack == DEFAULT_PACK:
            deal = self.hs.crm.deals.basic_api.get_by_id(
                prm_id, properties=["hs_date_entered_9004453"])
            text = deal.properties["hs_date_entered_9004453"]
        else:
            text = self.sf.Deal_Registration__c.get(prm_id)["Approved_At__c"]
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("+0000", "+00:00"))

    # --- the CRM -------------------------------------------------------------------------
    def direct_deal(self, name: str, account: str, domain: str, amount: int,
                    close: str, owner_email: str) -> str:
        """An opportunity the direct team opened itself: no registration names it."""
        if self.pack == DEFAULT_PACK:
            made = self.sf.Opportunity.create({
                "Name": name, "Amount": amount, "CloseDate": close,
                "StageName": "Qualification", "OwnerId": self.crm_user_id(owner_email)})
            return str(made["id"])
        made = self.hs.crm.deals.basic_api.create(SimplePublicObjectInputForCreate(
            properties={"pipeline": "default", "dealstage": "qualifiedtobuy",
                        "dealname": name, "amount": str(amount), "closedate": close,
                        "customer_account_name": account, "customer_domain": domain,
                        "hubspot_owner_id": self.crm_user_id(owner_email)}))
        return str(made.id)

    def created_for(self, key: str) -> list[dict[str, Any]]:
        """The CRM records holding a creation key: id, owner email, registration id,
        account (id or name) as plain values."""
        if self.pack == DEFAULT_PACK:
            rows = self.sf.query_all(
                "SELECT Id, OwnerId, Partner_Registration_Id__c, AccountId, Amount, CloseDate, "
                f"StageName FROM Opportunity WHERE Handoff_Create_Key__c = '{key}'")["records"]
            emails = self.crm_user_emails()
            return [{"id": r["Id"], "owner": emails.get(r["OwnerId"]),
                     "prm_id": r["Partner_Registration_Id__c"], "account": r["AccountId"],
                     "amount": r["Amount"], "close": r["CloseDate"], "stage": r["StageName"]}
                    for r in rows]
        found = self.hs.crm.deals.search_api.do_search(PublicObjectSearchRequest(
            filter_groups=[FilterGroup(filters=[Filter(property_name="handoff_create_key",
                                                       operator="EQ", value=key)])],
            properties=["hubspot_owner_id", "partner_registration_id", "amount", "closedate",
                        "dealstage", "pipeline"], limit=10))
        emails = self.crm_user_emails()
        out = []
        for deal in found.results:
            companies = self.hs.crm.associations.v4.basic_api.get_page(
                "deals", deal.id, "companies", limit=10).results
            props = deal.properties
            out.append({"id": deal.id, "owner": emails.get(props.get("hubspot_owner_id")),
                        "prm_id": props.get("partner_registration_id"),
                        "account": str(companies[0].to_object_id) if companies else None,
                        "amount": props.get("amount"), "close": props.get("closedate"),
                        "stage": props.get("dealstage"), "pipeline": props.get("pipeline")})
        return out

    def brief(self, crm_id: str) -> str:
        """The handoff brief on the opportunity."""
        if self.pack == DEFAULT_PACK:
            return str(self.sf.Opportunity.get(crm_id).get("Handoff_Brief__c") or "")
        deal = self.hs.crm.deals.basic_api.get_by_id(crm_id, properties=["handoff_brief"])
        return str(deal.properties.get("handoff_brief") or "")

    def crm_records(self) -> int:
        """How many opportunities (deals of the Sales Pipeline) the CRM holds."""
        if self.pack == DEFAULT_PACK:
            return int(self.sf.query("SELECT COUNT() FROM Opportunity")["totalSize"])
        found = self.hs.crm.deals.search_api.do_search(PublicObjectSearchRequest(
            filter_groups=[FilterGroup(filters=[Filter(property_name="pipeline",
                                                       operator="EQ", value="default")])],
            limit=1))
        return int(found.total)

    def crm_user_emails(self) -> dict[str, str]:
        if self.pack == DEFAULT_PACK:
            return {u["Id"]: u["Email"].lower() for u in self.sf.query_all(
                "SELECT Id, Email FROM User")["records"]}
        return {o.id: o.email.lower() for o in
                self.hs.crm.owners.owners_api.get_page(limit=100).results}

    def an_account_executive(self) -> str:
        """The email of an active CRM user who is not the fallback owner."""
        if self.pack == DEFAULT_PACK:
            users = self.sf.query_all("SELECT Email FROM User WHERE IsActive = true "
                                      "ORDER BY Id")["records"]
            emails = [u["Email"].lower() for u in users]
        else:
            emails = sorted(o.email.lower() for o in
                            self.hs.crm.owners.owners_api.get_page(limit=100).results
                            if not o.archived)
        return next(e for e in emails if e != "revops@example.com")

    def crm_user_id(self, email: str) -> str:
        return next(i for i, e in self.crm_user_emails().items() if e == email)
