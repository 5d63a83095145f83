"""What the generator meant each scenario to exercise, handed to tests and the demo
next to the data so they can check the engine against it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple


class ScenarioTruth(NamedTuple):
    """What one deal scenario is, for tests and demos to check the engine against."""

    number: int  # its place in SeedTruth.scenarios (``index`` would hide tuple.index)
    link: str  # one of LINK_KINDS
    registration_status: str
    handoff_type: str  # Salesforce picklist label
    handoff_stage: int  # 1-5
    overdue: bool  # longer in the current stage than its window
    partner: str  # partner company name
    customer_domain: str
    amount: float
    sf_registration_id: str  # Deal_Registration__c (PRM of pack b)
    hs_registration_id: str  # partner-pipeline deal (PRM of pack a)
    sf_opportunity_id: str | None  # CRM record of pack a
    hs_deal_id: str | None  # CRM record of pack b
    decoy_sf_opportunity_id: str | None = None  # ambiguous: the second candidate
    decoy_hs_deal_id: str | None = None
    conflicts_with: int | None = None  # conflict: index of the other registration


class DirectTruth(NamedTuple):
    """One direct deal: sourced by the direct team, no registration links to it."""

    won: bool
    created: date  # the CRM record's creation day (UTC)
    close_date: date
    sf_opportunity_id: str
    hs_deal_id: str

    @property
    def cycle_days(self) -> int:
        return (self.close_date - self.created).days


@dataclass(frozen=True)
class SeedTruth:
    scenarios: tuple[ScenarioTruth, ...]
    salesforce_only_emails: tuple[str, ...]  # users with no HubSpot owner
    hubspot_only_emails: tuple[str, ...]  # owners with no Salesforce user
    inactive_emails: tuple[str, ...]
    direct: tuple[DirectTruth, ...] = ()
