"""The generator's plan of the org before any record exists: people, partners,
customers and deal scenarios."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from handoff_sync.sandbox.seed.rules import PARTNER_TO_DIRECT


@dataclass(slots=True, eq=False)
class Person:
    first: str
    last: str
    email: str
    title: str
    department: str
    team: str
    region: str
    time_zone: str
    created_ms: int
    active: bool = True
    in_salesforce: bool = True
    in_hubspot: bool = True
    manager: Person | None = None
    sf_id: str | None = None
    owner_id: str | None = None
    user_id: int = 0


@dataclass(slots=True)
class Staff:
    integration: Person
    managers: list[Person]
    aes: list[Person]  # active AEs, the two one-sided ones included
    sf_only_ae: Person
    hs_only_ae: Person
    inactive_ae: Person
    cs: list[Person]
    partner_managers: list[Person]
    ae_by_region: dict[str, list[Person]]
    revops: Person  # the default policy's fallback owner (mappings/handoff.yaml)

    def everyone(self) -> list[Person]:
        # RevOps last: adding it kept every other user's generated id.
        return [self.integration, *self.managers, *self.aes, self.inactive_ae, *self.cs,
                *self.partner_managers, self.revops]


@dataclass(slots=True, eq=False)
class Partner:
    index: int
    name: str
    domain: str
    tier: str
    region: str
    diligence: float  # 0..1: how completely this partner fills registrations
    weight: float  # share of registrations
    manager: Person
    reps: list[tuple[str, str, str]]  # first, last, email
    fill: tuple[tuple[tuple[int, float], ...], ...]  # per stage: (fact index, chance filled)
    created_ms: int
    sf_id: str = ""
    company_id: str = ""


@dataclass(slots=True, eq=False)
class Customer:
    name: str
    short: str
    domain: str
    website: str
    sf_industry: str
    hs_industry: str
    initiative_offset: int
    deals: int = 0
    region: str = ""
    country: str = ""
    owner: Person | None = None
    won: bool = False
    created_ms: int = 0
    sf_id: str = ""
    company_id: str = ""


@dataclass(slots=True, eq=False)
class Scenario:
    index: int
    partner: Partner
    customer: Customer
    status: str
    outcome: str  # open, won, lost; "none" without a CRM record
    link: str = "none"
    conflicts_with: Scenario | None = None
    handoff_type: str = PARTNER_TO_DIRECT
    stage: int = 1
    stage_starts: list[int] = field(default_factory=list)  # ms each stage began, to current
    created_ms: int = 0
    approved_ms: int | None = None
    closed_ms: int | None = None  # won or lost (closed outcomes only)
    initiative: str = ""
    prm_name: str = ""
    amount: float = 0.0
    close_date: date | None = None
    region: str = ""
    rep_email: str | None = None
    ae: Person | None = None
    cs: Person | None = None
    crm_stage: str | None = None
    crm_name: str = ""
    crm_amount: float = 0.0
    crm_close_date: date | None = None
    crm_created_ms: int = 0
    prm_quals: list[Any] = field(default_factory=list)  # per QUALIFICATION row, None = blank
    crm_quals: list[Any] = field(default_factory=list)  # the CRM copy's (often the same list)
    has_crm: bool = False  # approved or converted: an opportunity/deal exists on each side
