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
import math
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import Any, NamedTuple, TypeVar

from handoff_sync.sandbox.core.seed_data import HubSpotSeedObject, SeedData
from handoff_sync.sandbox.hubspot.schema import (
    ASSOCIATION_TYPES,
    DEFAULT_PIPELINE,
    PARTNER_PIPELINE,
    HsPipeline,
    HsStage,
)
from handoff_sync.sandbox.hubspot.schema import HANDOFF_STAGES as HS_HANDOFF_STAGES
from handoff_sync.sandbox.hubspot.schema import HANDOFF_TYPES as HS_HANDOFF_TYPES
from handoff_sync.sandbox.hubspot.schema import PARTNER_ROLES as HS_PARTNER_ROLES
from handoff_sync.sandbox.salesforce.ids import case_suffix, salesforce_id
from handoff_sync.sandbox.salesforce.schema import (
    CLOSED_TASK_STATUSES,
    COMPETITORS,
    HANDOFF_STAGES,
    HANDOFF_TYPES,
    OBJECTS,
    OPPORTUNITY_STAGES,
    PARTNER_ROLES,
    REGIONS,
)

__all__ = [
    "CS_HANDOFF_GO_LIVE",
    "DIRECT_DEALS_PER_REGISTRATIONS",
    "HANDOFF_THRESHOLD",
    "INTEGRATION_USERNAME",
    "LINK_KINDS",
    "STAGE_WINDOW_DAYS",
    "VENDOR_DOMAIN",
    "DirectTruth",
    "ScenarioTruth",
    "SeedTruth",
    "generate",
    "generate_with_truth",
]

T = TypeVar("T")

# Credentials.sf_username's default: the user the daemon logs in as.
INTEGRATION_USERNAME = "integration@handoff-sync.sandbox"
# Tasks nobody else can own go to the policy's fallback owner; the demo org has that user.
REVOPS_EMAIL = "revops@example.com"
VENDOR_DOMAIN = "vendor.example"
HANDOFF_THRESHOLD = 100_000  # default "handoff required" amount
# The default policy's go-live (closed_won_to_cs.required_when in mappings/handoff.yaml).
# The direct deals are the org's history from before it, so they need no CS handoff (no
# task, no SLA clock) whatever the clock says; only the report reads them.
CS_HANDOFF_GO_LIVE = datetime(2026, 11, 1, tzinfo=UTC)
# Length of each partner-handoff stage window in days (domain.md: 1-2, 3-5, 6-10, 11-20, 21-30).
STAGE_WINDOW_DAYS = (2, 3, 5, 10, 10)
LINK_KINDS = ("explicit", "fuzzy", "ambiguous", "conflict", "none")
# One closed direct deal per this many registrations (at least _MIN_DIRECT_DEALS).
DIRECT_DEALS_PER_REGISTRATIONS = 50

_PARTNER_TO_DIRECT, _CLOSED_WON_TO_CS = HANDOFF_TYPES
_SUBMITTED, _APPROVED, _REJECTED, _EXPIRED, _CONVERTED = (
    "Submitted", "Approved", "Rejected", "Expired", "Converted")
_HAS_CRM = (_APPROVED, _CONVERTED)

_DAY_MS = 86_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
_ONE_MS = timedelta(milliseconds=1)

# HubSpot ids: one numeric range per object type so they read apart in logs.
_HS_PARTNER_DEAL_BASE = 9_000_000_000
_HS_CRM_DEAL_BASE = 9_500_000_000
_HS_COMPANY_BASE = 6_000_000_000
_HS_CONTACT_BASE = 3_000_000_000
_HS_TASK_BASE = 7_000_000_000
_HS_OWNER_BASE = 41_000_000
_HS_USER_BASE = 8_100_000

_SF_PREFIX = {name: obj.key_prefix for name, obj in OBJECTS.items()}

# --- word lists ------------------------------------------------------------------------
_FIRST_NAMES = (
    "Dana", "Raj", "Maria", "James", "Aisha", "Tom", "Elena", "Kenji", "Priya", "Lucas",
    "Sofia", "Omar", "Hannah", "Diego", "Mei", "Noah", "Fatima", "Liam", "Chloe", "Arjun",
    "Grace", "Mateo", "Zoe", "Ethan", "Nadia", "Felix", "Amara", "Leo", "Ingrid", "Samuel",
    "Yuki", "Carmen", "Daniel", "Leila", "Marcus", "Anya", "Victor", "Rosa", "Kwame", "Emily",
    "Hugo", "Sara", "Tariq", "Julia", "Oliver", "Mina", "Pablo", "Erin", "Jonas", "Lena",
    "Andre", "Keiko", "Ravi", "Clara", "Ben", "Ines", "Malik", "Nora", "Theo", "Olga",
)
_LAST_NAMES = (
    "Whitfield", "Patel", "Garcia", "Okafor", "Nakamura", "Schmidt", "Rossi", "Chen",
    "Kowalski", "Haddad", "Silva", "Johansson", "Murphy", "Dubois", "Kim", "Novak",
    "Ferreira", "Andersen", "Brennan", "Castillo", "Iyer", "Larsen", "Moreau", "Osei",
    "Petrov", "Quinn", "Reyes", "Sato", "Tanaka", "Varga", "Walsh", "Yilmaz", "Zhang",
    "Abbott", "Baker", "Carter", "Delgado", "Ellis", "Fischer", "Grant", "Holm", "Ibarra",
    "Jensen", "Keller", "Lindqvist", "Mendes", "Nguyen", "O'Neill", "Park", "Romero",
    "Stone", "Torres", "Ueda", "Vance", "Weber", "Xu", "Young", "Zamora", "Hughes", "Marsh",
)
_NAME_PREFIXES = (
    "North", "South", "Blue", "Silver", "Iron", "Bright", "Clear", "Red", "Oak", "Stone",
    "River", "Sun", "Star", "Pine", "Cedar", "Maple", "Eagle", "Falcon", "Harbor", "Summit",
    "Golden", "Green", "Grey", "Swift", "Crystal", "Copper", "Granite", "Lake", "Ocean",
    "Prairie", "High", "Silk", "Amber", "Ash", "Birch", "Cobalt", "Coral", "Elm", "Fern",
    "Frost", "Hazel", "Ivory", "Jade", "Lantern", "Meadow", "Moss", "Nova", "Orchard",
    "Pebble", "Quartz",
)
_NAME_SUFFIXES = (
    "wind", "field", "stone", "brook", "ridge", "gate", "point", "crest", "view", "way",
    "line", "bridge", "wood", "vale", "haven", "peak", "light", "water", "land", "ford",
    "port", "shore", "side", "mark", "well", "dale", "hill", "rock", "star", "leaf", "bay",
    "spring", "path", "fall", "glen", "moor", "wick", "ton", "bury", "mont",
)
# Customer name nouns -> (Salesforce Industry, HubSpot industry option value).
_CUSTOMER_NOUNS: tuple[tuple[str, str, str], ...] = (
    *((n, "Technology", "COMPUTER_SOFTWARE") for n in (
        "Software", "Systems", "Analytics", "Labs", "Networks", "Data", "Robotics")),
    *((n, "Finance", "FINANCIAL_SERVICES") for n in (
        "Capital", "Bank", "Insurance", "Financial", "Payments", "Credit Union", "Wealth")),
    *((n, "Healthcare", "HOSPITAL_HEALTH_CARE") for n in (
        "Health", "Medical", "Clinics", "Pharma", "Biosciences", "Care")),
    *((n, "Manufacturing", "MACHINERY") for n in (
        "Manufacturing", "Industries", "Motors", "Steel", "Plastics", "Components",
        "Aerospace")),
    *((n, "Retail", "RETAIL") for n in (
        "Retail", "Foods", "Outfitters", "Markets", "Apparel", "Home Goods")),
    *((n, "Education", "EDUCATION_MANAGEMENT") for n in (
        "Academy", "University", "Learning", "Schools")),
    *((n, "Other", "OTHER") for n in (
        "Logistics", "Energy", "Media", "Hospitality", "Construction", "Utilities",
        "Freight", "Telecom")),
)
# Appended only once the plain names run out (very large seeds).
_NAME_QUALIFIERS = ("", " Group", " Holdings", " International", " Co", " Global",
                    " Worldwide", " Americas", " Europe", " Pacific")
_PARTNER_NOUNS = (
    "Consulting", "Solutions", "Advisory", "Integrators", "IT Services", "Technologies",
    "Cloud Partners", "Digital Partners", "Tech Group", "Systems Integration",
    "Managed Services", "Consultancy",
)
_INITIATIVES = (
    "Billing Platform", "Data Warehouse Migration", "Customer Portal", "Field Service Rollout",
    "Security Upgrade", "Analytics Suite", "ERP Integration", "Contact Center Modernization",
    "Supply Chain Visibility", "HR Platform Consolidation", "Procurement Automation",
    "Cloud Migration", "E-commerce Replatform", "Identity Management",
    "Payments Modernization", "Inventory Optimization", "Partner Portal",
    "Compliance Reporting", "Marketing Automation", "Mobile App Rollout", "Network Refresh",
    "Backup and Recovery", "Fleet Telematics", "Patient Engagement", "Claims Processing",
    "Learning Platform", "Revenue Recognition", "Quote-to-Cash", "Service Desk Replacement",
    "Document Management", "Warehouse Automation", "Pricing Engine", "Data Governance",
    "Customer 360", "Expense Management", "Observability Stack", "Endpoint Security",
    "Loyalty Program", "Forecasting Platform", "Order Management",
)
_COUNTRIES = {
    "NA": ("United States", "United States", "United States", "Canada"),
    "EMEA": ("United Kingdom", "Germany", "France", "Netherlands", "Sweden", "Spain"),
    "APAC": ("Singapore", "Australia", "Japan", "India"),
    "LATAM": ("Brazil", "Mexico", "Chile", "Colombia"),
}
_TIME_ZONES = {
    "NA": ("America/New_York", "America/Los_Angeles"),
    "EMEA": ("Europe/London", "Europe/Berlin"),
    "APAC": ("Asia/Singapore",),
    "LATAM": ("America/Sao_Paulo",),
}
_WEBSITE_FORMS = ("https://www.{}", "https://www.{}", "www.{}", "https://{}", "http://{}/")

# --- qualification text ----------------------------------------------------------------
_BUYER_TITLES = ("CFO", "CIO", "COO", "CTO", "VP Finance", "VP Operations", "Head of IT",
                 "CEO", "VP Customer Experience", "Chief Digital Officer")
_CHAMPION_TITLES = ("Director of Billing Ops", "IT Program Manager", "Head of Procurement",
                    "Finance Systems Lead", "Director of Operations", "Enterprise Architect",
                    "Controller")
_BLOCKERS = ("IT security lead", "the incumbent vendor's sponsor in finance",
             "procurement director", "head of the internal platform team", "none identified")
_EVALUATION_TEAMS = ("finance", "IT", "operations", "customer support", "procurement")
_NEEDS = (
    "Consolidate three legacy billing systems before FY{fy}",
    "Cut month-end close from 12 to 5 days",
    "Replace an end-of-life on-prem ERP module before support ends in FY{fy}",
    "Give field technicians real-time inventory on mobile",
    "Meet new audit requirements for revenue reporting",
    "Reduce customer churn by unifying support channels",
    "Scale order volume 3x without adding headcount",
    "Retire spreadsheet-based forecasting across 14 regions",
    "Pass the SOC 2 audit with centralized access reviews",
    "Lower cloud spend by 20% through usage visibility",
    "Launch a self-service portal for 40k B2B customers",
    "Integrate two acquired companies onto one platform by FY{fy}",
)
_DECISION_PROCESSES = (
    "Steering committee review, then CFO sign-off; legal redlines in parallel",
    "Technical evaluation by IT, business case to the COO, board approval above 250k",
    "Procurement RFP with three vendors; final pick by the CIO",
    "Pilot in one region, go/no-go by VP Operations, then group rollout",
    "Security review first, then budget release at quarterly planning",
    "Champion builds the business case; CFO and CEO approve together",
    "Shortlist in two weeks, reference calls, contract through procurement",
    "IT architecture board, then finance committee; legal takes about 3 weeks",
)
_TECH_REQUIREMENTS = (
    "SSO via Okta, EU data residency, REST API to SAP S/4HANA",
    "Azure AD SSO, SCIM provisioning, nightly export to Snowflake",
    "Integration with Salesforce and NetSuite; 99.9% uptime SLA",
    "On-prem connector for Oracle EBS; audit logs kept 7 years",
    "HIPAA-compliant hosting, BAA required, HL7 feed from the EHR",
    "Multi-currency, 12 legal entities, SAML SSO",
    "Offline mode for field staff; device management via Intune",
    "Webhooks into ServiceNow; data stays in the AU region",
    "Read replica for BI; customer-managed encryption keys",
    "500 API requests/s at peak; a sandbox per business unit",
)
_COMMITMENTS = (
    "Pilot pricing held until quarter end; free sandbox for 60 days",
    "Named solution engineer during rollout; weekly status calls",
    "Migration of 5 years of history included in the fee",
    "Quarterly executive business reviews with the vendor VP",
    "Custom SAP connector delivered before go-live",
    "Partner keeps first-line support for 12 months",
    "Price locked for 3 years, renewal uplift capped at 5%",
    "Training for 40 admins and 400 end users included",
)
_SUCCESS_CRITERIA = (
    "Invoices issued from one system within 90 days; DSO down 5 days",
    "80% of field technicians active weekly by day 60",
    "Month-end close under 6 days by the second quarter",
    "Support ticket backlog halved within 90 days",
    "All 14 regions forecasting in the platform by day 90",
    "Zero audit findings on access reviews at the next SOC 2",
    "Self-service portal handles 30% of orders within 3 months",
    "Go-live on schedule with fewer than 10 P1 incidents",
)
_OPEN_RISKS = (
    "Budget freeze possible in Q3; incumbent offering a steep renewal discount",
    "Champion is changing roles next quarter",
    "IT team stretched by a parallel ERP project",
    "Legal insists on unlimited liability; may stall signature",
    "Legacy data quality is poor; migration may slip",
    "Competitor already piloting in one business unit",
    "New CFO starts next month and may reopen the decision",
    "Security review queue is 6 weeks long",
)
_PROTOCOLS = (
    "Partner cc'd on all exec emails; weekly joint sync Tuesdays; AE leads pricing calls",
    "AE owns the account from the intro; partner joins technical sessions only",
    "Joint weekly call until contract; partner cc'd on all customer threads",
    "Partner leads the relationship, AE leads commercials; shared Slack channel",
    "Bi-weekly three-way sync; partner copied on proposals and SOWs",
    "AE is the single point of contact; partner updated in Friday recap emails",
)
_FEEDBACK = (
    "Smooth intro; AE responsive; want earlier visibility of pricing",
    "Handoff took too long; customer asked twice who owns the deal",
    "Great joint discovery; keep us in the QBRs",
    "AE changed mid-deal; context had to be re-explained",
    "Clear split agreed early; would co-sell again",
    "Customer happy; partner wants the services scope confirmed",
    "Commission split still unclear after close",
    "Strong SE support; proposal turnaround was slow",
)
_REJECTION_NOTES = ("Rejected: duplicate of an existing opportunity",
                    "Rejected: customer outside the partner's territory",
                    "Rejected: below the program's minimum deal size")
_EXPIRY_NOTE = "Expired: no qualifying activity within 90 days"
_SF_TASK_SUBJECTS = ("Call", "Send Quote", "Send Letter", "Other", "Follow up on pricing",
                     "Check in after the demo", "Send security questionnaire",
                     "Confirm legal contact")
_HS_TASK_SUBJECTS = ("Follow up on pricing", "Send case studies", "Schedule demo with IT",
                     "Confirm budget owner", "Chase signed order form", "Prepare QBR deck")


# --- truth ------------------------------------------------------------------------------
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


# --- the cast ---------------------------------------------------------------------------
@dataclass(slots=True, eq=False)
class _Person:
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
    manager: _Person | None = None
    sf_id: str | None = None
    owner_id: str | None = None
    user_id: int = 0


@dataclass(slots=True)
class _Staff:
    integration: _Person
    managers: list[_Person]
    aes: list[_Person]  # active AEs, the two one-sided ones included
    sf_only_ae: _Person
    hs_only_ae: _Person
    inactive_ae: _Person
    cs: list[_Person]
    partner_managers: list[_Person]
    ae_by_region: dict[str, list[_Person]]
    revops: _Person  # the default policy's fallback owner (mappings/handoff.yaml)

    def everyone(self) -> list[_Person]:
        # RevOps last: adding it kept every other user's generated id.
        return [self.integration, *self.managers, *self.aes, self.inactive_ae, *self.cs,
                *self.partner_managers, self.revops]


@dataclass(slots=True, eq=False)
class _Partner:
    index: int
    name: str
    domain: str
    tier: str
    region: str
    diligence: float  # 0..1: how completely this partner fills registrations
    weight: float  # share of registrations
    manager: _Person
    reps: list[tuple[str, str, str]]  # first, last, email
    fill: tuple[tuple[tuple[int, float], ...], ...]  # from _partner_fill_table
    created_ms: int
    sf_id: str = ""
    company_id: str = ""


@dataclass(slots=True, eq=False)
class _Customer:
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
    owner: _Person | None = None
    won: bool = False
    created_ms: int = 0
    sf_id: str = ""
    company_id: str = ""


@dataclass(slots=True, eq=False)
class _Scenario:
    index: int
    partner: _Partner
    customer: _Customer
    status: str
    outcome: str  # open, won, lost; "none" without a CRM record
    link: str = "none"
    conflicts_with: _Scenario | None = None
    handoff_type: str = _PARTNER_TO_DIRECT
    stage: int = 1
    stage_starts: list[int] = field(default_factory=list)  # ms each stage began, to current
    created_ms: int = 0
    approved_ms: int | None = None
    initiative: str = ""
    prm_name: str = ""
    amount: float = 0.0
    close_date: date | None = None
    region: str = ""
    rep_email: str | None = None
    ae: _Person | None = None
    cs: _Person | None = None
    crm_stage: str | None = None
    crm_name: str = ""
    crm_amount: float = 0.0
    crm_close_date: date | None = None
    crm_created_ms: int = 0
    prm_quals: list[Any] = field(default_factory=list)  # per _QUALIFICATION row, None = blank
    crm_quals: list[Any] = field(default_factory=list)  # the CRM copy's (often the same list)
    has_crm: bool = False  # approved or converted: an opportunity/deal exists on each side


# --- small helpers ----------------------------------------------------------------------
def _weighted(pairs: Sequence[tuple[T, float]]) -> tuple[tuple[float, T], ...]:
    """A cumulative table for _pick from (value, weight) pairs."""
    total = sum(weight for _, weight in pairs)
    running = 0.0
    table = []
    for value, weight in pairs:
        running += weight / total
        table.append((running, value))
    return tuple(table)


def _pick(table: tuple[tuple[float, T], ...], x: float) -> T:
    for cumulative, value in table:
        if x < cumulative:
            return value
    return table[-1][1]


def _one(r: Callable[[], float], values: Sequence[T]) -> T:
    # Faster than Random.choice and equally deterministic.
    return values[int(r() * len(values))]


def _between(r: Callable[[], float], low: float, high: float) -> float:
    return low + (high - low) * r()


def _date(ms: int) -> date:
    """The UTC calendar day of an instant."""
    return _EPOCH_DAY + timedelta(days=ms // _DAY_MS)


def _day_iso(day: date) -> str:
    return day.isoformat() + "T00:00:00.000Z"


def _hs_number(value: float) -> str:
    """How HubSpot stores a number: "120000", "120000.5"."""
    return str(int(value)) if value == int(value) else repr(value)


def _modified(r: Callable[[], float], created_ms: int, since_ms: int, now_ms: int) -> int:
    """A last-modified instant between the later of created/since and now."""
    start = max(created_ms, min(since_ms, now_ms))
    return start + int((now_ms - start) * r())


def _email_part(name: str) -> str:
    """Lower-case letters and digits only: "O'Neill" -> "oneill"."""
    return name.lower().translate(_NOT_IN_ADDRESSES)


_NOT_IN_ADDRESSES = str.maketrans("", "", " '-.&,")


# --- people -----------------------------------------------------------------------------
class _Names:
    """Unique "First Last" pairs from the word lists."""

    def __init__(self, r: Callable[[], float]) -> None:
        self._r = r
        self._used: set[tuple[str, str]] = set()  # membership only, never iterated

    def next(self) -> tuple[str, str]:
        while True:
            pair = (_one(self._r, _FIRST_NAMES), _one(self._r, _LAST_NAMES))
            if pair not in self._used:
                self._used.add(pair)
                return pair


def _staff_member(names: _Names, r: Callable[[], float], now_ms: int, *, title: str,
                  department: str, team: str, region: str) -> _Person:
    first, last = names.next()
    return _Person(
        first=first, last=last,
        email=f"{_email_part(first)}.{_email_part(last)}@{VENDOR_DOMAIN}",
        title=title, department=department, team=team, region=region,
        time_zone=_one(r, _TIME_ZONES[region]),
        created_ms=now_ms - int(_between(r, 120, 1500) * _DAY_MS),
    )


def _ae_count(deals: int) -> int:
    return min(60, max(4, round(deals / 40)))


def _make_staff(rng: random.Random, deals: int, partners: int, now_ms: int) -> _Staff:
    r = rng.random
    names = _Names(r)
    integration = _Person(
        first="Integration", last="User", email=INTEGRATION_USERNAME, title="API Integration",
        department="IT", team="", region="NA", time_zone="America/Los_Angeles",
        created_ms=now_ms - 1600 * _DAY_MS, in_hubspot=False,
    )

    def member(title: str, department: str, team: str, region: str) -> _Person:
        return _staff_member(names, r, now_ms, title=title, department=department, team=team,
                             region=region)

    n_ae = _ae_count(deals)
    managers = [member("Regional Sales Director", "Sales", "Sales Leadership", region)
                for region in (("NA", "EMEA", "APAC") if n_ae >= 30 else ("NA", "EMEA"))]
    aes = [member("Account Executive", "Sales", "Direct Sales", REGIONS[i % len(REGIONS)])
           for i in range(n_ae)]
    inactive = member("Account Executive", "Sales", "Direct Sales", "NA")
    for i, ae in enumerate([*aes, inactive]):
        ae.manager = managers[i % len(managers)]
    # A new hire not yet provisioned in HubSpot, and one never provisioned in Salesforce.
    sf_only, hs_only = aes[-1], aes[-2]
    sf_only.in_hubspot = False
    hs_only.in_salesforce = False
    inactive.active = False
    cs = [member("Customer Success Manager", "Customer Success", "Customer Success",
                 REGIONS[i % len(REGIONS)]) for i in range(max(2, round(n_ae / 3)))]
    partner_managers = [member("Partner Manager", "Channel", "Channel Partnerships",
                               REGIONS[i % len(REGIONS)])
                        for i in range(min(4, 2 + partners // 25))]
    regular = [ae for ae in aes if ae.in_salesforce and ae.in_hubspot]
    by_region = {region: [ae for ae in regular if ae.region == region] or regular
                 for region in REGIONS}
    revops = _Person(
        first="Revenue", last="Operations", email=REVOPS_EMAIL, title="RevOps Manager",
        department="Operations", team="Revenue Operations", region="NA",
        time_zone="America/New_York", created_ms=now_ms - 1500 * _DAY_MS,
    )
    return _Staff(integration, managers, aes, sf_only, hs_only, inactive, cs,
                  partner_managers, by_region, revops)


# --- companies --------------------------------------------------------------------------
def _name_pairs() -> list[tuple[str, str]]:
    # "Stone" + "stone" reads badly; everything else makes a plausible compound word.
    return [(p, s) for p in _NAME_PREFIXES for s in _NAME_SUFFIXES
            if s not in p.lower() and p.lower() not in s]


def _unique_names(rng: random.Random, count: int, nouns: Sequence[str],
                  taken: set[str]) -> list[tuple[str, str, int]]:
    """``count`` (name, domain, noun index) with domains not in ``taken`` (which grows)."""
    pairs = _name_pairs()
    space = len(pairs) * len(nouns)
    out: list[tuple[str, str, int]] = []
    order = rng.sample(range(space), min(space, count + 16))
    variant = 0
    while len(out) < count:
        for k in order:
            pair, noun = divmod(k, len(nouns))
            prefix, suffix = pairs[pair]
            qualifier = (_NAME_QUALIFIERS[variant] if variant < len(_NAME_QUALIFIERS)
                         else f" {variant}")
            name = f"{prefix}{suffix} {nouns[noun]}{qualifier}"
            domain = _email_part(name) + ".com"
            if domain in taken:
                continue
            taken.add(domain)
            out.append((name, domain, noun))
            if len(out) == count:
                break
        variant += 1
    return out


def _partner_fill_table(diligence: float) -> tuple[tuple[tuple[int, float], ...], ...]:
    """Per deal stage 1-5: (qualification index, chance it is filled) for one partner."""
    rows = []
    for stage in range(1, 6):
        row = []
        for k, (*_, field_stage) in enumerate(_QUALIFICATION):
            if field_stage < stage:
                chance = 0.80 + 0.18 * diligence  # earlier gates: mostly done, some gaps
            elif field_stage == stage:
                chance = 0.25 + 0.60 * diligence  # the gate being worked on now
            elif field_stage == stage + 1:
                chance = 0.08 * diligence  # the odd fact captured ahead of time
            else:
                continue  # never filled this early
            row.append((k, chance))
        rows.append(tuple(row))
    return tuple(rows)


_TIERS = _weighted([("Registered", 35), ("Silver", 30), ("Gold", 25), ("Platinum", 10)])
_TIER_DILIGENCE = {"Registered": 0.35, "Silver": 0.55, "Gold": 0.70, "Platinum": 0.80}
_TIER_VOLUME = {"Registered": 1.0, "Silver": 1.5, "Gold": 3.0, "Platinum": 6.0}
_REP_COUNTS = _weighted([(1, 40), (2, 40), (3, 20)])


def _make_partners(rng: random.Random, count: int, staff: _Staff, now_ms: int,
                   taken: set[str]) -> list[_Partner]:
    r = rng.random
    partners = []
    for i, (name, domain, _) in enumerate(_unique_names(rng, count, _PARTNER_NOUNS, taken)):
        tier = _pick(_TIERS, r())
        diligence = min(1.0, max(0.1, _TIER_DILIGENCE[tier] + _between(r, -0.3, 0.2)))
        names = _Names(r)  # reps are unique within their own company
        reps = []
        for _ in range(_pick(_REP_COUNTS, r())):
            first, last = names.next()
            reps.append((first, last, f"{_email_part(first)}.{_email_part(last)}@{domain}"))
        partners.append(_Partner(
            index=i, name=name, domain=domain, tier=tier, region=_one(r, REGIONS),
            diligence=diligence, weight=_TIER_VOLUME[tier] * _between(r, 0.5, 1.5),
            manager=staff.partner_managers[i % len(staff.partner_managers)], reps=reps,
            fill=_partner_fill_table(diligence),
            created_ms=now_ms - int(_between(r, 200, 2000) * _DAY_MS),
        ))
    return partners


def _make_customers(rng: random.Random, count: int, taken: set[str]) -> list[_Customer]:
    r = rng.random
    nouns = [noun for noun, _, _ in _CUSTOMER_NOUNS]
    customers = []
    for name, domain, noun in _unique_names(rng, count, nouns, taken):
        _, sf_industry, hs_industry = _CUSTOMER_NOUNS[noun]
        customers.append(_Customer(
            name=name, short=name.split(" ", 1)[0], domain=domain,
            website=_one(r, _WEBSITE_FORMS).format(domain), sf_industry=sf_industry,
            hs_industry=hs_industry, initiative_offset=int(r() * len(_INITIATIVES)),
        ))
    return customers


def _customer_count(deals: int) -> int:
    return math.ceil(deals / 1.6)  # several deals on some accounts


# --- scenario skeletons and links -------------------------------------------------------
_STATUSES = _weighted([(_SUBMITTED, 12), (_APPROVED, 14), (_REJECTED, 6), (_EXPIRED, 6),
                       (_CONVERTED, 62)])
_OUTCOMES = _weighted([("open", 72), ("won", 16), ("lost", 12)])


def _skeletons(rng: random.Random, deals: int, partners: list[_Partner],
               customers: list[_Customer]) -> list[_Scenario]:
    if not deals:
        return []
    r = rng.random
    picks = rng.choices(partners, cum_weights=list(accumulate(p.weight for p in partners)),
                        k=deals)
    # Every account gets a deal; the rest land on random accounts (several per some).
    accounts = list(range(len(customers)))
    accounts += [int(r() * len(customers)) for _ in range(deals - len(customers))]
    rng.shuffle(accounts)
    scenarios = []
    for i in range(deals):
        status = _pick(_STATUSES, r())
        outcome = ("none" if status not in _HAS_CRM
                   else "open" if status == _APPROVED else _pick(_OUTCOMES, r()))
        scenarios.append(_Scenario(i, picks[i], customers[accounts[i]], status, outcome,
                                   has_crm=status in _HAS_CRM))
    return scenarios


def _share(eligible: int, rate: float, deals: int) -> int:
    """How many of ``eligible`` get a rare kind: at least one in any seed of 100+ deals."""
    count = round(eligible * rate)
    return max(count, 1) if deals >= 100 and eligible else count


def _assign_links(rng: random.Random, scenarios: list[_Scenario],
                  partners: list[_Partner]) -> None:
    """Mark which registrations link explicitly, fuzzily, ambiguously or in conflict."""
    linked = [s for s in scenarios if s.has_crm]
    submitted = [s for s in scenarios if s.status == _SUBMITTED]
    # About 1% of registrations each are ambiguous or in conflict (a pair counts twice).
    n_ambiguous = min(_share(len(scenarios), 0.01, len(scenarios)), len(linked))
    n_conflict = min(_share(len(scenarios), 0.005, len(scenarios)), len(submitted))
    if len(partners) < 2:
        n_conflict = 0  # a conflict needs a second partner
    n_fuzzy = round(len(linked) * 0.10)
    originals: list[_Scenario] = []
    for s in rng.sample(linked, len(linked)):
        if len(originals) < n_conflict and s.outcome == "open":
            s.link = "conflict"
            originals.append(s)
        elif n_ambiguous:
            s.link, n_ambiguous = "ambiguous", n_ambiguous - 1
        elif n_fuzzy:
            s.link, n_fuzzy = "fuzzy", n_fuzzy - 1
        else:
            s.link = "explicit"
    for original, rival in zip(originals, rng.sample(submitted, len(originals)), strict=True):
        _make_rival(rng, original, rival, partners)


def _make_rival(rng: random.Random, original: _Scenario, rival: _Scenario,
                partners: list[_Partner]) -> None:
    """A second partner registers the customer and deal the first one already owns."""
    rival.customer = original.customer
    if rival.partner is original.partner:
        step = 1 + int(rng.random() * (len(partners) - 1))
        rival.partner = partners[(original.partner.index + step) % len(partners)]
    rival.link = "conflict"
    rival.conflicts_with = original
    original.conflicts_with = rival


# --- qualification facts ----------------------------------------------------------------
# (Salesforce field, HubSpot property, value kind, stage whose exit gate asks for it).
# Success criteria and open risks are also what the closed-won-to-CS document needs.
_QUALIFICATION: tuple[tuple[str, str, str, int], ...] = (
    ("Budget__c", "budget", "number", 1),
    ("Economic_Buyer__c", "economic_buyer", "text", 1),
    ("Need__c", "need", "text", 1),
    ("Decision_Date__c", "decision_date", "date", 1),
    ("Decision_Process__c", "decision_process", "text", 1),
    ("Technical_Requirements__c", "technical_requirements", "text", 1),
    ("Competitors__c", "competitors", "text", 1),
    ("Partner_Prepared_Prospect__c", "partner_prepared_prospect", "bool", 1),
    ("Intro_Call_At__c", "intro_call_at", "datetime", 2),
    ("Joint_Discovery_At__c", "joint_discovery_at", "datetime", 2),
    ("Communication_Protocol__c", "communication_protocol", "text", 2),
    ("Stakeholder_Map__c", "stakeholder_map", "text", 3),
    ("Commitments__c", "commitments", "text", 3),
    ("Open_Risks__c", "open_risks", "text", 3),
    ("Co_Led_Meetings__c", "co_led_meetings", "number", 4),
    ("Success_Criteria__c", "success_criteria", "text", 4),
    ("Partner_Feedback__c", "partner_feedback", "text", 5),
    ("Partner_Ongoing_Role__c", "partner_ongoing_role", "role", 5),
    ("Partner_Split_Pct__c", "partner_split_pct", "number", 5),
)
_COMPETITOR_SETS = _weighted([
    *((c, 10.0) for c in COMPETITORS),
    *((f"{a};{b}", 2.0) for i, a in enumerate(COMPETITORS) for b in COMPETITORS[i + 1:]),
    *((f"{a};{b};{c}", 0.5) for i, a in enumerate(COMPETITORS)
      for j, b in enumerate(COMPETITORS[i + 1:], i + 1) for c in COMPETITORS[j + 1:]),
])
_ROLES = _weighted([(PARTNER_ROLES[0], 20), (PARTNER_ROLES[1], 40), (PARTNER_ROLES[2], 30),
                    (PARTNER_ROLES[3], 10)])
_SPLITS = (10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 12.5)
_BUDGET_FACTORS = (0.9, 1.0, 1.0, 1.1, 1.25)



_Maker = Callable[[Callable[[], float], _Scenario, list[Any], int], Any]


def _fiscal_year(s: _Scenario) -> str:
    year = s.close_date.year if s.close_date else 2000
    return f"{(year + 1) % 100:02d}"


def _q_budget(r: Callable[[], float], s: _Scenario, q: list[Any], now_ms: int) -> float:
    return max(1000.0, float(round(s.amount * _one(r, _BUDGET_FACTORS), -3)))


def _q_buyer(r: Callable[[], float], s: _Scenario, q: list[Any], now_ms: int) -> str:
    return f"{_one(r, _FIRST_NAMES)} {_one(r, _LAST_NAMES)}, {_one(r, _BUYER_TITLES)}"


def _q_need(r: Callable[[], float], s: _Scenario, q: list[Any], now_ms: int) -> str:
    return _one(r, _NEEDS).format(fy=_fiscal_year(s))


def _q_decision_date(r: Callable[[], float], s: _Scenario, q: list[Any], now_ms: int) -> date:
    assert s.close_date is not None
    return s.close_date - timedelta(days=int(r() * 15))


def _q_competitors(r: Callable[[], float], s: _Scenario, q: list[Any], now_ms: int) -> str:
    return _pick(_COMPETITOR_SETS, r())


def _q_prepared(r: Callable[[], float], s: _Scenario, q: list[Any], now_ms: int) -> bool:
    return True


def _q_intro_call(r: Callable[[], float], s: _Scenario, q: list[Any], now_ms: int) -> int | None:
    if s.stage < 2:
        return None
    at = s.stage_starts[1] + int(_between(r, 0.1, 1.5) * _DAY_MS)
    return at if at <= now_ms else None  # not held yet


def _q_joint_discovery(r: Callable[[], float], s: _Scenario, q: list[Any],
                       now_ms: int) -> int | None:
    if s.stage < 2:
        return None
    at = s.stage_starts[1] + int(_between(r, 1.6, 3.0) * _DAY_MS)  # after the intro call
    return at if at <= now_ms else None


def _q_stakeholders(r: Callable[[], float], s: _Scenario, q: list[Any], now_ms: int) -> str:
    buyer = q[1] or _q_buyer(r, s, q, now_ms)
    name, title = buyer.split(", ", 1)
    return (f"EB: {name} ({title}); champion: {_one(r, _FIRST_NAMES)} {_one(r, _LAST_NAMES)} "
            f"({_one(r, _CHAMPION_TITLES)}); blocker: {_one(r, _BLOCKERS)}; "
            f"evaluators: {2 + int(r() * 5)} from {_one(r, _EVALUATION_TEAMS)}")


def _q_co_led(r: Callable[[], float], s: _Scenario, q: list[Any], now_ms: int) -> float:
    if s.stage >= 5:
        return _one(r, (2.0, 3.0))
    return _one(r, (1.0, 2.0, 2.0, 3.0)) if s.stage == 4 else 1.0


def _q_role(r: Callable[[], float], s: _Scenario, q: list[Any], now_ms: int) -> str:
    return _pick(_ROLES, r())


def _q_split(r: Callable[[], float], s: _Scenario, q: list[Any], now_ms: int) -> float:
    return _one(r, _SPLITS)


# One maker per _QUALIFICATION row, in the same order: a function, or a tuple of texts to
# pick from (a plain pick costs half as much as a call, and text facts are the commonest).
_MAKERS: tuple[_Maker | tuple[str, ...], ...] = (
    _q_budget, _q_buyer, _q_need, _q_decision_date, _DECISION_PROCESSES, _TECH_REQUIREMENTS,
    _q_competitors, _q_prepared, _q_intro_call, _q_joint_discovery, _PROTOCOLS,
    _q_stakeholders, _COMMITMENTS, _OPEN_RISKS, _q_co_led, _SUCCESS_CRITERIA, _FEEDBACK,
    _q_role, _q_split,
)


def _make_fact(k: int, r: Callable[[], float], s: _Scenario, values: list[Any],
               now_ms: int) -> Any:
    maker = _MAKERS[k]
    if isinstance(maker, tuple):
        return maker[int(r() * len(maker))]
    return maker(r, s, values, now_ms)


def _prm_qualification(r: Callable[[], float], s: _Scenario, now_ms: int) -> list[Any]:
    """The facts the partner entered: gaps depend on stage and the partner's diligence."""
    # Dead registrations were abandoned half-way, so they are sparser still.
    scale = 0.6 if s.status in (_REJECTED, _EXPIRED) else 1.0
    values: list[Any] = [None] * len(_MAKERS)
    for k, chance in s.partner.fill[s.stage - 1]:
        if r() < chance * scale:
            maker = _MAKERS[k]  # _make_fact inlined: this loop is the generator's hottest
            values[k] = (maker[int(r() * len(maker))] if isinstance(maker, tuple)
                         else maker(r, s, values, now_ms))
    return values


def _crm_qualification(r: Callable[[], float], s: _Scenario, now_ms: int) -> list[Any]:
    """The CRM copy: mostly in step, sometimes one fact the AE added or that never arrived."""
    if r() >= 0.3:
        return s.prm_quals  # the same list, so the records convert it only once
    values = list(s.prm_quals)
    k = int(r() * len(values))
    if values[k] is not None:
        values[k] = None
    elif _QUALIFICATION[k][3] <= s.stage:
        values[k] = _make_fact(k, r, s, values, now_ms)
    return values


# --- scenario details -------------------------------------------------------------------
_OPEN_STAGES = _weighted([(1, 14), (2, 22), (3, 26), (4, 23), (5, 15)])
_LOST_STAGES = _weighted([(1, 30), (2, 30), (3, 25), (4, 15)])
_CRM_STAGES = {
    1: ("Prospecting", "Qualification"),
    2: ("Qualification", "Needs Analysis"),
    3: ("Needs Analysis", "Value Proposition"),
    4: ("Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote"),
    5: ("Proposal/Price Quote", "Negotiation/Review"),
}
# Time spent in the current stage as a share of its window: most on track, some at risk,
# some breached so SLA escalations have something to do.
_WINDOW_USE = _weighted([((0.05, 0.75), 62), ((0.75, 1.0), 20), ((1.0, 3.0), 18)])


def _choose_stage(r: Callable[[], float], s: _Scenario) -> None:
    if s.status == _APPROVED:
        s.stage = 1 if r() < 0.6 else 2
    elif s.status != _CONVERTED:
        s.stage = 1
    elif s.outcome == "open":
        s.stage = _pick(_OPEN_STAGES, r())
    elif s.outcome == "won":
        s.stage = 5
        if r() < 0.6:
            s.handoff_type = _CLOSED_WON_TO_CS
    else:
        s.stage = _pick(_LOST_STAGES, r())
    if s.outcome == "won":
        s.crm_stage = "Closed Won"
    elif s.outcome == "lost":
        s.crm_stage = "Closed Lost"
    elif s.has_crm:
        s.crm_stage = _one(r, _CRM_STAGES[s.stage])


def _stage_entered(r: Callable[[], float], s: _Scenario, now_ms: int) -> tuple[int, int | None]:
    """When the current handoff stage began, and when the deal closed (closed deals only)."""
    days: float
    if s.outcome == "won":
        if s.handoff_type == _CLOSED_WON_TO_CS:
            # Freshly signed: the 48-hour CS handoff clock is running now.
            closed_ms = now_ms - int(_between(r, 0.05, 6) * _DAY_MS)
            return closed_ms, closed_ms
        # Older wins: the partner handoff reached its last stage around signature.
        closed_ms = now_ms - int(_between(r, 7, 150) * _DAY_MS)
        return closed_ms - int(_between(r, 0, 10) * _DAY_MS), closed_ms
    if s.outcome == "lost":
        closed_ms = now_ms - int(_between(r, 1, 150) * _DAY_MS)
        return closed_ms - int(_between(r, 2, 40) * _DAY_MS), closed_ms
    if s.status == _REJECTED:
        days = _between(r, 8, 120)
    elif s.status == _EXPIRED:
        days = _between(r, 95, 220)
    else:
        low, high = _pick(_WINDOW_USE, r())
        days = STAGE_WINDOW_DAYS[s.stage - 1] * _between(r, low, high)
    return now_ms - int(days * _DAY_MS), None


def _timeline(r: Callable[[], float], s: _Scenario, now_ms: int) -> int | None:
    """Stage starts, approval and creation, walking back from the current stage."""
    entered, closed_ms = _stage_entered(r, s, now_ms)
    starts = [entered]
    for window in reversed(STAGE_WINDOW_DAYS[:s.stage - 1]):
        starts.append(starts[-1] - int(window * _between(r, 0.5, 1.3) * _DAY_MS))
    starts.reverse()
    s.stage_starts = starts
    if s.has_crm:
        s.approved_ms = starts[0] - int(_between(r, 0, 1.5) * _DAY_MS)
        s.created_ms = s.approved_ms - int(_between(r, 1, 10) * _DAY_MS)
    else:
        s.created_ms = starts[0]
    return closed_ms


def _amount(rng: random.Random) -> float:
    """Log-normal around 51k: about a quarter at or above the 100k handoff threshold."""
    value = min(900_000.0, max(5_000.0, math.exp(rng.gauss(10.84, 1.0))))
    return round(value, 2) if rng.random() < 0.1 else float(round(value / 500) * 500)


def _name_forms(customer: _Customer, initiative: str, fiscal_year: str) -> tuple[str, ...]:
    """How people write one deal's name: partners use the first two, ops the third."""
    return (_partner_name(customer, initiative, 0), _partner_name(customer, initiative, 1),
            f"{customer.short} - {initiative}", f"{customer.short} {initiative} FY{fiscal_year}")


def _partner_name(customer: _Customer, initiative: str, form: int) -> str:
    if form:
        return f"{customer.name} {initiative.lower()}"
    return f"{customer.name} - {initiative}"


def _close_date(r: Callable[[], float], s: _Scenario, closed_ms: int | None,
                today: date) -> date:
    if closed_ms is not None:
        return _date(closed_ms)
    if s.status == _APPROVED or (s.status == _CONVERTED and r() >= 0.07):
        return today + timedelta(days=7 + int(r() * 144))
    if s.status == _CONVERTED:
        return today - timedelta(days=1 + int(r() * 30))  # past due, still open
    return _date(s.created_ms) + timedelta(days=30 + int(r() * 151))


def _choose_ae(r: Callable[[], float], s: _Scenario, staff: _Staff) -> _Person:
    x = r()
    if x < 0.02:
        return staff.sf_only_ae
    if x < 0.04:
        return staff.hs_only_ae
    if x < 0.05:
        return staff.inactive_ae  # left the company; deals not yet reassigned
    return _one(r, staff.ae_by_region[s.region])


def _assign_people(r: Callable[[], float], s: _Scenario, staff: _Staff) -> None:
    reps = s.partner.reps
    if r() >= 0.15 * (1 - s.partner.diligence):
        s.rep_email = _one(r, reps)[2]
    if s.has_crm:
        s.ae = _choose_ae(r, s, staff)
        late = s.outcome == "open" and s.stage >= 4
        if (s.outcome == "won" and r() < 0.9) or (late and r() < 0.6):
            s.cs = _one(r, staff.cs)


def _note_account(s: _Scenario, r: Callable[[], float]) -> None:
    customer = s.customer
    customer.deals += 1
    if not customer.region:
        customer.region = s.region
        customer.country = _one(r, _COUNTRIES[s.region])
    if customer.owner is None and s.ae is not None:
        customer.owner = s.ae
    customer.won = customer.won or s.outcome == "won"
    if not customer.created_ms or s.created_ms < customer.created_ms:
        customer.created_ms = s.created_ms


def _plan(rng: random.Random, s: _Scenario, staff: _Staff, now_ms: int, today: date) -> None:
    r = rng.random
    _choose_stage(r, s)
    closed_ms = _timeline(r, s, now_ms)
    s.amount = _amount(rng)
    s.region = s.partner.region if r() < 0.85 else _one(r, REGIONS)
    s.close_date = _close_date(r, s, closed_ms, today)
    customer = s.customer
    s.initiative = _INITIATIVES[(customer.initiative_offset + customer.deals) % len(_INITIATIVES)]
    s.prm_name = _partner_name(customer, s.initiative, int(r() * 2))
    _assign_people(r, s, staff)
    _note_account(s, r)
    s.prm_quals = _prm_qualification(r, s, now_ms)
    if s.has_crm:
        _plan_crm(r, s, now_ms)


def _plan_crm(r: Callable[[], float], s: _Scenario, now_ms: int) -> None:
    """The CRM copy: equal when linked explicitly, recognisably close when not."""
    assert s.close_date is not None and s.approved_ms is not None
    s.crm_name, s.crm_amount, s.crm_close_date = s.prm_name, s.amount, s.close_date
    if s.link in ("fuzzy", "ambiguous"):
        forms = _name_forms(s.customer, s.initiative, _fiscal_year(s))
        s.crm_name = _one(r, [form for form in forms if form != s.prm_name])
        s.crm_amount = float(round(s.amount * _between(r, 0.97, 1.03), -2))
        shift = 1 + int(r() * 6)
        s.crm_close_date = s.close_date + timedelta(days=shift if r() < 0.5 else -shift)
    else:
        if r() < 0.3:
            s.crm_name = f"{s.customer.short} - {s.initiative}"  # ops' naming convention
        if r() < 0.08:
            s.crm_amount = float(round(s.amount * _between(r, 0.85, 1.2), -3))  # re-scoped
        if s.outcome == "open" and r() < 0.15:
            s.crm_close_date = s.close_date + timedelta(days=7 + int(r() * 24))  # AE slipped
    s.crm_created_ms = min(now_ms, s.approved_ms + int(_between(r, 0, 1) * _DAY_MS))
    s.crm_quals = _crm_qualification(r, s, now_ms)


def _plan_rival(rng: random.Random, s: _Scenario, staff: _Staff, now_ms: int) -> None:
    """A later, unlinked registration of the same deal by a second partner."""
    r = rng.random
    original = s.conflicts_with
    assert original is not None and original.close_date is not None
    s.stage, s.handoff_type = 1, _PARTNER_TO_DIRECT
    s.created_ms = original.created_ms + int((now_ms - original.created_ms)
                                             * _between(r, 0.3, 0.95))
    s.stage_starts = [s.created_ms]
    s.initiative = original.initiative
    s.prm_name = _partner_name(s.customer, s.initiative, int(r() * 2))
    s.amount = max(5_000.0, float(round(original.amount * _between(r, 0.95, 1.05), -2)))
    s.close_date = original.close_date + timedelta(days=int(r() * 21) - 10)
    s.region = original.region
    _assign_people(r, s, staff)  # only the partner rep: no AE before approval
    _note_account(s, r)
    s.prm_quals = _prm_qualification(r, s, now_ms)


def _plan_all(rng: random.Random, scenarios: list[_Scenario], staff: _Staff, now_ms: int,
              today: date) -> None:
    rivals = [s for s in scenarios if s.conflicts_with is not None and not s.has_crm]
    for s in scenarios:
        if s.conflicts_with is None or s.has_crm:
            _plan(rng, s, staff, now_ms, today)
    for s in rivals:  # after their originals, whose deal they copy
        _plan_rival(rng, s, staff, now_ms)


def _overdue(s: _Scenario, now_ms: int) -> bool:
    return now_ms - s.stage_starts[-1] > STAGE_WINDOW_DAYS[s.stage - 1] * _DAY_MS


# --- records ----------------------------------------------------------------------------
(_REG_SUBMITTED, _REG_APPROVED, _REG_READY, _REG_ACCEPTED, _REG_WON,
 _REG_LOST) = PARTNER_PIPELINE.stages
_HS_CRM_STAGE = {
    "Prospecting": "appointmentscheduled", "Qualification": "qualifiedtobuy",
    "Needs Analysis": "presentationscheduled", "Value Proposition": "presentationscheduled",
    "Id. Decision Makers": "decisionmakerboughtin",
    "Perception Analysis": "decisionmakerboughtin", "Proposal/Price Quote": "contractsent",
    "Negotiation/Review": "contractsent", "Closed Won": "closedwon", "Closed Lost": "closedlost",
}
_HS_HANDOFF_TYPE = {label: value for value, label in HS_HANDOFF_TYPES.items()}
_HS_HANDOFF_STAGE = {label: value for value, label in HS_HANDOFF_STAGES.items()}
_HS_ROLE = {label: value for value, label in HS_PARTNER_ROLES.items()}
_HS_TEAMS = {"Sales Leadership": "5100001", "Direct Sales": "5100002",
             "Customer Success": "5100003", "Channel Partnerships": "5100004",
             "Revenue Operations": "5100005"}
_REP_TITLES = ("Partner Account Manager", "Alliance Manager", "Solutions Consultant",
               "Managing Director")
_SF_TASK_STATUSES = ("Not Started", "In Progress", "Completed", "Completed",
                     "Waiting on someone else", "Deferred")
_HS_TASK_STATUSES = ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "COMPLETED")

_Moment = tuple[datetime, str]  # one instant for Salesforce (datetime) and HubSpot (ISO)


def _moment(ms: int) -> _Moment:
    # fromtimestamp rounds to the microsecond, so a whole-ms float lands exactly on the ms;
    # the ISO text is assembled from tables because isoformat() dominated large seeds.
    day, rest = divmod(ms, _DAY_MS)
    minute, rest = divmod(rest, 60_000)
    second, milli = divmod(rest, 1000)
    return (datetime.fromtimestamp(ms / 1000, UTC),
            _day_prefix(day) + _HH_MM[minute] + _SS[second] + _MILLIS_Z[milli])


@lru_cache(maxsize=8192)
def _day_prefix(day: int) -> str:
    return (_EPOCH_DAY + timedelta(days=day)).isoformat() + "T"


_HH_MM = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_SS = tuple(f"{s:02d}" for s in range(60))
_MILLIS_Z = tuple(f".{ms:03d}Z" for ms in range(1000))


def _stage_flags(pipeline: HsPipeline) -> dict[str, dict[str, str]]:
    """The calculated properties HubSpot derives from each stage of a pipeline."""
    return {stage.id: {
        "hs_is_closed": "true" if stage.is_closed else "false",
        "hs_is_closed_won": "true" if stage.is_closed and float(stage.probability) > 0
        else "false",
        "hs_deal_stage_probability": stage.probability,
    } for stage in pipeline.stages}


_FLAGS = {**_stage_flags(DEFAULT_PIPELINE), **_stage_flags(PARTNER_PIPELINE)}


def _partner_stage(s: _Scenario) -> HsStage:
    """Where a registration sits in the partner pipeline."""
    if s.status == _SUBMITTED:
        return _REG_SUBMITTED
    if s.status == _APPROVED:
        return _REG_APPROVED if s.stage == 1 else _REG_READY
    if s.status == _CONVERTED:
        return {"open": _REG_ACCEPTED, "won": _REG_WON}.get(s.outcome, _REG_LOST)
    return _REG_LOST


def _sf_owner(person: _Person) -> str:
    """A user id for records this person owns; their manager's while they have no user."""
    if person.sf_id is None:
        assert person.manager is not None
        return _sf_owner(person.manager)
    return person.sf_id


def _hs_owner(person: _Person) -> str:
    if person.owner_id is None:
        assert person.manager is not None
        return _hs_owner(person.manager)
    return person.owner_id


def _facts(values: list[Any]) -> tuple[dict[str, Any], dict[str, str | None]]:
    """The filled qualification facts as Salesforce fields and as HubSpot properties."""
    sf: dict[str, Any] = {}
    hs: dict[str, str | None] = {}
    for (sf_name, hs_name, kind, _), value in zip(_QUALIFICATION, values, strict=True):
        if value is None:
            continue
        if kind == "text":
            sf[sf_name] = hs[hs_name] = value
        elif kind == "number":
            sf[sf_name], hs[hs_name] = value, _hs_number(value)
        elif kind == "date":
            sf[sf_name], hs[hs_name] = value, value.isoformat()
        elif kind == "datetime":
            sf[sf_name], hs[hs_name] = _moment(value)
        elif kind == "bool":
            sf[sf_name], hs[hs_name] = value, "true" if value else "false"
        else:
            sf[sf_name], hs[hs_name] = value, _HS_ROLE[value]
    return sf, hs


class _IdSequence:
    """salesforce_id(prefix, 1), salesforce_id(prefix, 2), ... computed incrementally.

    Only the last two base-62 digits change between neighbours, so the head and two of the
    three checksum characters are computed once per 3,844 ids.
    """

    def __init__(self, key_prefix: str) -> None:
        self._prefix = key_prefix
        self._number = 0
        self._block = -1
        self._head = self._checksum = ""
        self._head_bits = 0

    def next(self) -> str:
        self._number += 1
        block, low = divmod(self._number, _LOW_SPAN)
        if block != self._block:
            first = salesforce_id(self._prefix, block * _LOW_SPAN)
            self._block, self._head, self._checksum = block, first[:13], first[15:17]
            self._head_bits = sum(1 << i for i, ch in enumerate(first[10:13]) if ch.isupper())
        digits, bits = _LOW_DIGITS[low]
        return self._head + digits + self._checksum + _CHUNK_CHAR[self._head_bits | bits]


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LOW_SPAN = 62 * 62
# The last two id digits and their upper-case bits (positions 3 and 4 of the last chunk).
_LOW_DIGITS = tuple((a + b, (a.isupper() << 3) | (b.isupper() << 4))
                    for a in _BASE62 for b in _BASE62)
# Checksum character for each upper-case bit pattern of a 5-character chunk.
_CHUNK_CHAR = tuple(
    case_suffix("0" * 10 + "".join("A" if bits >> i & 1 else "a" for i in range(5)))[2]
    for bits in range(32))


class _Builder:
    """Collects the records, numbering ids per object type in creation order."""

    def __init__(self, rng: random.Random, now_ms: int) -> None:
        self.r = rng.random
        self.now_ms = now_ms
        self.data = SeedData(
            salesforce={name: [] for name in ("User", "Account", "Deal_Registration__c",
                                              "Opportunity", "Task")},
            hubspot={kind: [] for kind in ("companies", "contacts", "deals", "tasks")},
        )
        self._sf_ids = {name: _IdSequence(prefix) for name, prefix in _SF_PREFIX.items()}
        self._hs_numbers = {"companies": _HS_COMPANY_BASE, "contacts": _HS_CONTACT_BASE,
                            "tasks": _HS_TASK_BASE, "crm_deals": _HS_CRM_DEAL_BASE,
                            "owners": _HS_OWNER_BASE, "users": _HS_USER_BASE}
        self.by = ""  # the integration user: creator and last modifier of everything

    def sf_id(self, obj: str) -> str:
        return self._sf_ids[obj].next()

    def hs_number(self, kind: str) -> int:
        self._hs_numbers[kind] += 1
        return self._hs_numbers[kind]

    def stamps(self, created_ms: int, since_ms: int) -> tuple[_Moment, _Moment]:
        """Created and last-modified instants; modified falls between since and now."""
        return _moment(created_ms), _moment(_modified(self.r, created_ms, since_ms,
                                                      self.now_ms))

    def sf(self, obj: str, record_id: str, stamps: tuple[_Moment, _Moment],
           record: dict[str, Any]) -> dict[str, Any]:
        """Add the system fields to ``record`` and keep it."""
        (created, _), (modified, _) = stamps
        record["Id"] = record_id
        record["IsDeleted"] = False
        record["CreatedDate"] = created
        record["CreatedById"] = record["LastModifiedById"] = self.by
        record["LastModifiedDate"] = record["SystemModstamp"] = modified
        self.data.salesforce[obj].append(record)
        return record

    def hs(self, kind: str, object_id: str, stamps: tuple[_Moment, _Moment],
           props: dict[str, str | None]) -> None:
        (created, created_iso), (modified, modified_iso) = stamps
        props["hs_object_id"] = object_id
        props["createdate"] = created_iso
        props["hs_lastmodifieddate"] = modified_iso
        self.data.hubspot[kind].append(HubSpotSeedObject(object_id, props, created, modified))

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        self.data.hubspot_associations.append(
            (from_type, from_id, to_type, to_id, ASSOCIATION_TYPES[(from_type, to_type)]))


# --- people and companies as records ----------------------------------------------------
def _emit_people(b: _Builder, staff: _Staff) -> None:
    people = staff.everyone()
    for person in people:
        if person.in_salesforce:
            person.sf_id = b.sf_id("User")
        if person.in_hubspot:
            person.owner_id = str(b.hs_number("owners"))
            person.user_id = b.hs_number("users")
    assert staff.integration.sf_id is not None
    b.by = staff.integration.sf_id
    for person in people:
        stamps = b.stamps(person.created_ms, person.created_ms)
        if person.in_salesforce:
            _user_record(b, person, stamps)
        if person.in_hubspot:
            b.data.hubspot_owners.append(_owner_object(person, stamps))


def _user_record(b: _Builder, person: _Person, stamps: tuple[_Moment, _Moment]) -> None:
    assert person.sf_id is not None
    record = b.sf("User", person.sf_id, stamps, {
        "Username": person.email, "Email": person.email, "FirstName": person.first,
        "LastName": person.last, "Name": f"{person.first} {person.last}",
        "Title": person.title, "Department": person.department, "IsActive": person.active,
        "TimeZoneSidKey": person.time_zone,
    })
    if person.manager is not None:
        record["ManagerId"] = _sf_owner(person.manager)


def _owner_object(person: _Person, stamps: tuple[_Moment, _Moment]) -> dict[str, Any]:
    """An owner as GET /crm/v3/owners/ returns it; a deactivated user keeps only
    userIdIncludingInactive and shows up as archived."""
    (_, created_iso), (_, modified_iso) = stamps
    return {
        "id": person.owner_id, "email": person.email, "type": "PERSON",
        "firstName": person.first, "lastName": person.last,
        "userId": person.user_id if person.active else None,
        "userIdIncludingInactive": person.user_id,
        "createdAt": created_iso, "updatedAt": modified_iso,
        "archived": not person.active,
        "teams": [{"id": _HS_TEAMS[person.team], "name": person.team, "primary": True}],
    }


def _emit_partners(b: _Builder, partners: list[_Partner]) -> None:
    r = b.r
    for partner in partners:
        partner.sf_id = b.sf_id("Account")
        partner.company_id = str(b.hs_number("companies"))
        stamps = b.stamps(partner.created_ms, partner.created_ms)
        country = _one(r, _COUNTRIES[partner.region])
        b.sf("Account", partner.sf_id, stamps, {
            "OwnerId": _sf_owner(partner.manager), "Name": partner.name,
            "Website": f"https://www.{partner.domain}", "Type": "Partner",
            "Industry": "Technology", "BillingCountry": country, "IsPartner": True,
            "Partner_Tier__c": partner.tier, "Region__c": partner.region,
        })
        b.hs("companies", partner.company_id, stamps, {
            "hubspot_owner_id": _hs_owner(partner.manager), "name": partner.name,
            "domain": partner.domain, "industry": "COMPUTER_SOFTWARE", "country": country,
            "type": "PARTNER", "region": partner.region,
        })


def _emit_customers(b: _Builder, customers: list[_Customer], staff: _Staff) -> None:
    r = b.r
    for customer in customers:
        if not customer.region:  # its only deal became another partner's registration
            customer.region = _one(r, REGIONS)
            customer.country = _one(r, _COUNTRIES[customer.region])
        owner = customer.owner or _one(r, staff.ae_by_region[customer.region])
        first_deal_ms = customer.created_ms or b.now_ms - 200 * _DAY_MS
        customer.created_ms = first_deal_ms - int(_between(r, 0, 60) * _DAY_MS)
        stamps = b.stamps(customer.created_ms, first_deal_ms)
        customer.sf_id = b.sf_id("Account")
        customer.company_id = str(b.hs_number("companies"))
        b.sf("Account", customer.sf_id, stamps, {
            "OwnerId": _sf_owner(owner), "Name": customer.name, "Website": customer.website,
            "Type": "Customer" if customer.won else "Prospect",
            "Industry": customer.sf_industry, "BillingCountry": customer.country,
            "IsPartner": False, "Region__c": customer.region,
        })
        b.hs("companies", customer.company_id, stamps, {
            "hubspot_owner_id": _hs_owner(owner), "name": customer.name,
            "domain": customer.domain, "industry": customer.hs_industry,
            "country": customer.country, "type": "PROSPECT", "region": customer.region,
        })


def _emit_contacts(b: _Builder, partners: list[_Partner], customers: list[_Customer]) -> None:
    """Partner reps and some customer buyers as HubSpot contacts (noise for the daemon)."""
    r = b.r
    for partner in partners:
        for first, last, email in partner.reps:
            _contact(b, partner.company_id, partner.name, partner.created_ms,
                     (first, last, email, _one(r, _REP_TITLES)))
    for customer in customers:
        if r() < 0.25:
            first, last = _one(r, _FIRST_NAMES), _one(r, _LAST_NAMES)
            email = f"{_email_part(first)}.{_email_part(last)}@{customer.domain}"
            _contact(b, customer.company_id, customer.name, customer.created_ms,
                     (first, last, email, _one(r, _BUYER_TITLES)))


def _contact(b: _Builder, company_id: str, company: str, since_ms: int,
             who: tuple[str, str, str, str]) -> None:
    r = b.r
    first, last, email, title = who
    contact_id = str(b.hs_number("contacts"))
    created_ms = min(b.now_ms, since_ms + int(_between(r, 0, 30) * _DAY_MS))
    props: dict[str, str | None] = {"email": email, "firstname": first, "lastname": last,
                                    "company": company, "jobtitle": title}
    if r() < 0.6:
        props["phone"] = f"+1 555 01{int(r() * 100):02d}"  # the fictional 555-01xx block
    b.hs("contacts", contact_id, b.stamps(created_ms, created_ms), props)
    b.associate("contacts", contact_id, "companies", company_id)


# --- deal scenarios as records ----------------------------------------------------------
@dataclass(slots=True)
class _Shared:
    """Values a scenario's records share, converted once for both systems."""

    registered: tuple[_Moment, _Moment]  # created / modified of both registrations
    entered: _Moment  # handoff stage entered
    handoff: dict[str, str | None]  # handoff properties of both HubSpot deals
    prm_facts: tuple[dict[str, Any], dict[str, str | None]]
    converted: tuple[_Moment, _Moment] | None = None  # created / modified of the CRM pair
    crm_facts: tuple[dict[str, Any], dict[str, str | None]] | None = None


def _shared(b: _Builder, s: _Scenario) -> _Shared:
    entered_ms = s.stage_starts[-1]
    entered = _moment(entered_ms)
    shared = _Shared(b.stamps(s.created_ms, entered_ms), entered, _handoff_props(s, entered),
                     _facts(s.prm_quals))
    if s.has_crm:
        shared.converted = b.stamps(s.crm_created_ms, entered_ms)
        shared.crm_facts = (shared.prm_facts if s.crm_quals is s.prm_quals
                            else _facts(s.crm_quals))
    return shared


def _handoff_props(s: _Scenario, entered: _Moment) -> dict[str, str | None]:
    return {
        "handoff_type": _HS_HANDOFF_TYPE[s.handoff_type],
        "handoff_stage": _HS_HANDOFF_STAGE[HANDOFF_STAGES[s.stage - 1]],
        "handoff_stage_entered_at": entered[1],
        "region": s.region,
    }


def _emit_scenario(b: _Builder, s: _Scenario) -> ScenarioTruth:
    shared = _shared(b, s)
    dr_id = b.sf_id("Deal_Registration__c")
    hs_registration_id = str(_HS_PARTNER_DEAL_BASE + s.index + 1)
    opportunity_id = deal_id = decoy_opportunity_id = decoy_deal_id = None
    if s.has_crm:
        opportunity_id = b.sf_id("Opportunity")
        deal_id = str(b.hs_number("crm_deals"))
    explicit = s.has_crm and s.link in ("explicit", "conflict")
    _registration_record(b, s, shared, dr_id, deal_id if explicit else None)
    _registration_deal(b, s, shared, hs_registration_id, opportunity_id if explicit else None)
    if opportunity_id is not None and deal_id is not None:
        _opportunity_record(b, s, shared, opportunity_id,
                            hs_registration_id if explicit else None)
        _crm_deal(b, s, shared, deal_id, dr_id if explicit else None)
        if s.link == "ambiguous":
            decoy_opportunity_id, decoy_deal_id = _decoy(b, s)
    return ScenarioTruth(
        number=s.index, link=s.link, registration_status=s.status,
        handoff_type=s.handoff_type, handoff_stage=s.stage, overdue=_overdue(s, b.now_ms),
        partner=s.partner.name, customer_domain=s.customer.domain, amount=s.amount,
        sf_registration_id=dr_id, hs_registration_id=hs_registration_id,
        sf_opportunity_id=opportunity_id, hs_deal_id=deal_id,
        decoy_sf_opportunity_id=decoy_opportunity_id, decoy_hs_deal_id=decoy_deal_id,
        conflicts_with=s.conflicts_with.index if s.conflicts_with else None,
    )


def _registration_record(b: _Builder, s: _Scenario, shared: _Shared, record_id: str,
                         crm_deal_id: str | None) -> None:
    """Deal_Registration__c: the PRM side of pack (b)."""
    record = b.sf("Deal_Registration__c", record_id, shared.registered, {
        "OwnerId": _sf_owner(s.partner.manager),
        "Name": f"DR-{s.index + 1:06d}",  # the auto-number, in creation order
        "Deal_Name__c": s.prm_name, "Partner_Account__c": s.partner.sf_id,
        "Customer_Account_Name__c": s.customer.name, "Customer_Domain__c": s.customer.domain,
        "Amount__c": s.amount, "Expected_Close_Date__c": s.close_date,
        "Registration_Status__c": s.status, "Handoff_Type__c": s.handoff_type,
        "Handoff_Stage__c": HANDOFF_STAGES[s.stage - 1],
        "Handoff_Stage_Entered__c": shared.entered[0], "Region__c": s.region,
        "Partner_Prepared_Prospect__c": False,
    })
    if s.approved_ms is not None:
        record["Approved_At__c"] = _moment(s.approved_ms)[0]
    if crm_deal_id is not None:
        record["CRM_Deal_Id__c"] = crm_deal_id
    if s.ae is not None:
        record["AE_Email__c"] = s.ae.email
    if s.cs is not None:
        record["CS_Owner_Email__c"] = s.cs.email
    if s.rep_email is not None:
        record["Partner_Rep_Email__c"] = s.rep_email
    record.update(shared.prm_facts[0])


def _registration_deal(b: _Builder, s: _Scenario, shared: _Shared, deal_id: str,
                       opportunity_id: str | None) -> None:
    """A partner-pipeline HubSpot deal: the PRM side of pack (a)."""
    assert s.close_date is not None
    stage = _partner_stage(s)
    props: dict[str, str | None] = {
        "hubspot_owner_id": _hs_owner(s.partner.manager), "dealname": s.prm_name,
        "amount": _hs_number(s.amount), "closedate": _day_iso(s.close_date),
        "pipeline": PARTNER_PIPELINE.id, "dealstage": stage.id, "dealtype": "newbusiness",
        **_FLAGS[stage.id],
        "partner_account_name": s.partner.name, "customer_account_name": s.customer.name,
        "customer_domain": s.customer.domain, **shared.handoff,
        **shared.prm_facts[1],
    }
    if opportunity_id is not None:
        props["crm_opportunity_id"] = opportunity_id
    if s.rep_email is not None:
        props["partner_rep_email"] = s.rep_email
    if s.ae is not None:
        props["ae_email"] = s.ae.email
    if s.cs is not None:
        props["cs_owner_id"] = _hs_owner(s.cs)
    if s.status == _REJECTED:
        props["description"] = _one(b.r, _REJECTION_NOTES)
    elif s.status == _EXPIRED:
        props["description"] = _EXPIRY_NOTE
    b.hs("deals", deal_id, shared.registered, props)
    b.associate("deals", deal_id, "companies", s.customer.company_id)


def _opportunity_record(b: _Builder, s: _Scenario, shared: _Shared, record_id: str,
                        registration_id: str | None) -> None:
    """A Salesforce Opportunity: the CRM side of pack (a)."""
    assert s.ae is not None and s.crm_stage is not None
    assert shared.converted is not None and shared.crm_facts is not None
    probability, closed, won = OPPORTUNITY_STAGES[s.crm_stage]
    owner_id = _sf_owner(s.ae)
    record = b.sf("Opportunity", record_id, shared.converted, {
        "OwnerId": owner_id, "AccountId": s.customer.sf_id, "Name": s.crm_name,
        "StageName": s.crm_stage, "Amount": s.crm_amount, "Probability": float(probability),
        "CloseDate": s.crm_close_date, "Type": "New Business", "LeadSource": "Partner Referral",
        "IsClosed": closed, "IsWon": won, "Handoff_Type__c": s.handoff_type,
        "Handoff_Stage__c": HANDOFF_STAGES[s.stage - 1],
        "Handoff_Stage_Entered__c": shared.entered[0], "Region__c": s.region,
        "Partner_Prepared_Prospect__c": False, "Handoff_Required__c": False,
    })
    if registration_id is not None:
        record["Partner_Registration_Id__c"] = registration_id
    if registration_id is not None or b.r() < 0.5:  # unlinked deals often lack the partner
        record["PartnerAccountId"] = s.partner.sf_id
    if s.cs is not None:
        record["CS_Owner__c"] = _sf_owner(s.cs)
    if s.rep_email is not None:
        record["Partner_Rep_Email__c"] = s.rep_email
    record.update(shared.crm_facts[0])
    if b.r() < 0.05:
        _sf_task(b, record_id, owner_id, s.crm_created_ms)


def _crm_deal(b: _Builder, s: _Scenario, shared: _Shared, deal_id: str,
              registration_id: str | None) -> None:
    """A default-pipeline HubSpot deal: the CRM side of pack (b)."""
    assert s.ae is not None and s.crm_stage is not None and s.crm_close_date is not None
    assert shared.converted is not None and shared.crm_facts is not None
    stage_id = _HS_CRM_STAGE[s.crm_stage]
    owner_id = _hs_owner(s.ae)
    props: dict[str, str | None] = {
        "hubspot_owner_id": owner_id, "dealname": s.crm_name,
        "amount": _hs_number(s.crm_amount), "closedate": _day_iso(s.crm_close_date),
        "pipeline": DEFAULT_PIPELINE.id, "dealstage": stage_id, "dealtype": "newbusiness",
        **_FLAGS[stage_id],
        "customer_account_name": s.customer.name, "customer_domain": s.customer.domain,
        **shared.handoff, **shared.crm_facts[1],
    }
    if registration_id is not None:
        props["partner_registration_id"] = registration_id
    if registration_id is not None or b.r() < 0.5:
        props["partner_account_name"] = s.partner.name
    if s.rep_email is not None:
        props["partner_rep_email"] = s.rep_email
    if s.cs is not None:
        props["cs_owner_id"] = _hs_owner(s.cs)
    b.hs("deals", deal_id, shared.converted, props)
    b.associate("deals", deal_id, "companies", s.customer.company_id)
    if b.r() < 0.05:
        _hs_task(b, deal_id, owner_id, s.crm_created_ms)


def _decoy(b: _Builder, s: _Scenario) -> tuple[str, str]:
    """A second open deal on the same account that matches the registration just as well."""
    assert s.ae is not None and s.crm_close_date is not None
    r = b.r
    name = _one(r, (f"{s.customer.short} - {s.initiative} Phase 2",
                    f"{s.customer.name} {s.initiative.lower()} expansion"))
    amount = float(round(s.crm_amount * _between(r, 0.96, 1.04), -2))
    shift = 1 + int(r() * 5)
    close = s.crm_close_date + timedelta(days=shift if r() < 0.5 else -shift)
    stage = _one(r, ("Prospecting", "Qualification", "Needs Analysis"))
    probability, closed, won = OPPORTUNITY_STAGES[stage]
    created_ms = min(b.now_ms, s.crm_created_ms + int(_between(r, 0, 3) * _DAY_MS))
    stamps = b.stamps(created_ms, created_ms)
    opportunity_id = b.sf_id("Opportunity")
    b.sf("Opportunity", opportunity_id, stamps, {
        "OwnerId": _sf_owner(s.ae), "AccountId": s.customer.sf_id, "Name": name,
        "StageName": stage, "Amount": amount, "Probability": float(probability),
        "CloseDate": close, "Type": "New Business", "LeadSource": "Partner Referral",
        "IsClosed": closed, "IsWon": won, "PartnerAccountId": s.partner.sf_id,
        "Region__c": s.region, "Partner_Prepared_Prospect__c": False,
        "Handoff_Required__c": False,
    })
    deal_id = str(b.hs_number("crm_deals"))
    stage_id = _HS_CRM_STAGE[stage]
    b.hs("deals", deal_id, stamps, {
        "hubspot_owner_id": _hs_owner(s.ae), "dealname": name, "amount": _hs_number(amount),
        "closedate": _day_iso(close), "pipeline": DEFAULT_PIPELINE.id, "dealstage": stage_id,
        "dealtype": "newbusiness", **_FLAGS[stage_id], "partner_account_name": s.partner.name,
        "customer_account_name": s.customer.name, "customer_domain": s.customer.domain,
        "region": s.region,
    })
    b.associate("deals", deal_id, "companies", s.customer.company_id)
    return opportunity_id, deal_id


def _sf_task(b: _Builder, what_id: str, owner_id: str, since_ms: int) -> None:
    """An ordinary rep to-do, not one of the daemon's (no Handoff_Task_Key__c)."""
    r = b.r
    created_ms = _modified(r, since_ms, since_ms, b.now_ms)
    status = _one(r, _SF_TASK_STATUSES)
    b.sf("Task", b.sf_id("Task"), b.stamps(created_ms, created_ms), {
        "OwnerId": owner_id, "Subject": _one(r, _SF_TASK_SUBJECTS), "WhatId": what_id,
        "ActivityDate": _date(created_ms) + timedelta(days=int(r() * 14)),
        "Status": status, "Priority": _one(r, ("High", "Normal", "Normal", "Low")),
        "Type": _one(r, ("Call", "Email", "Meeting", "Other")),
        "IsClosed": status in CLOSED_TASK_STATUSES,
    })


def _hs_task(b: _Builder, deal_id: str, owner_id: str, since_ms: int) -> None:
    r = b.r
    task_id = str(b.hs_number("tasks"))
    created_ms = _modified(r, since_ms, since_ms, b.now_ms)
    due_ms = created_ms + int(_between(r, 1, 14) * _DAY_MS)  # due dates may lie ahead
    b.hs("tasks", task_id, b.stamps(created_ms, created_ms), {
        "hubspot_owner_id": owner_id, "hs_timestamp": _moment(due_ms)[1],
        "hs_task_subject": _one(r, _HS_TASK_SUBJECTS),
        "hs_task_status": _one(r, _HS_TASK_STATUSES),
        "hs_task_priority": _one(r, ("LOW", "MEDIUM", "HIGH")),
        "hs_task_type": _one(r, ("TODO", "CALL", "EMAIL")),
    })
    b.associate("tasks", task_id, "deals", deal_id)


# --- direct deals -----------------------------------------------------------------------
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


def _emit_direct_deals(b: _Builder, rng: random.Random, deals: int, staff: _Staff,
                       taken: set[str]) -> tuple[DirectTruth, ...]:
    """Closed opportunities (and their HubSpot twins) on accounts no partner touched.

    Run after everything else, so adding them changed no other record or id.
    """
    r = rng.random
    customers = _make_customers(rng, _direct_count(deals), taken)
    anchor_ms = min(b.now_ms, (CS_HANDOFF_GO_LIVE - _EPOCH) // _ONE_MS)
    planned = []
    for i, customer in enumerate(customers):
        plan = _DIRECT_DEALS[i % len(_DIRECT_DEALS)]
        # Repeats of the table close on other days, the cycle lengths stay as planned.
        closed_days = plan.closed_days_before + (i // len(_DIRECT_DEALS)) * 11 % 120
        closed_ms = anchor_ms - closed_days * _DAY_MS - int(_between(r, 1, 9) * 3_600_000)
        created_ms = closed_ms - plan.cycle_days * _DAY_MS
        customer.region = _one(r, REGIONS)
        customer.country = _one(r, _COUNTRIES[customer.region])
        # Regular AEs only: a user on both sides, so no owner review is about these deals.
        customer.owner = _one(r, staff.ae_by_region[customer.region])
        customer.won, customer.created_ms = plan.won, created_ms
        planned.append((plan, customer, created_ms, closed_ms))
    _emit_customers(b, customers, staff)
    return tuple(_direct_deal(b, rng, plan, customer, (created_ms, closed_ms), staff)
                 for plan, customer, created_ms, closed_ms in planned)


def _direct_deal(b: _Builder, rng: random.Random, plan: _DirectPlan, customer: _Customer,
                 span: tuple[int, int], staff: _Staff) -> DirectTruth:
    r = b.r
    created_ms, closed_ms = span
    assert customer.owner is not None
    stage = "Closed Won" if plan.won else "Closed Lost"
    probability, closed, won = OPPORTUNITY_STAGES[stage]
    name = f"{customer.short} - {_INITIATIVES[customer.initiative_offset]}"
    amount = _amount(rng)
    close = _date(closed_ms)
    stamps = b.stamps(created_ms, closed_ms)  # last touched at or after the close
    cs = _one(r, staff.cs) if plan.won else None
    opportunity_id = b.sf_id("Opportunity")
    record = b.sf("Opportunity", opportunity_id, stamps, {
        "OwnerId": _sf_owner(customer.owner), "AccountId": customer.sf_id, "Name": name,
        "StageName": stage, "Amount": amount, "Probability": float(probability),
        "CloseDate": close, "Type": "New Business", "LeadSource": plan.lead_source,
        "IsClosed": closed, "IsWon": won, "Region__c": customer.region,
        "Partner_Prepared_Prospect__c": False, "Handoff_Required__c": False,
    })
    if cs is not None:
        record["CS_Owner__c"] = _sf_owner(cs)
    deal_id = str(b.hs_number("crm_deals"))
    stage_id = _HS_CRM_STAGE[stage]
    props: dict[str, str | None] = {
        "hubspot_owner_id": _hs_owner(customer.owner), "dealname": name,
        "amount": _hs_number(amount), "closedate": _day_iso(close),
        "pipeline": DEFAULT_PIPELINE.id, "dealstage": stage_id, "dealtype": "newbusiness",
        **_FLAGS[stage_id], "customer_account_name": customer.name,
        "customer_domain": customer.domain, "region": customer.region,
    }
    if cs is not None:
        props["cs_owner_id"] = _hs_owner(cs)
    b.hs("deals", deal_id, stamps, props)
    b.associate("deals", deal_id, "companies", customer.company_id)
    return DirectTruth(plan.won, _date(created_ms), close, opportunity_id, deal_id)


# --- entry points -----------------------------------------------------------------------
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
    now_ms = (now_utc - _EPOCH) // _ONE_MS
    staff = _make_staff(rng, deals, partners, now_ms)
    taken = {VENDOR_DOMAIN}  # domains in use; membership tests only
    partner_list = _make_partners(rng, partners, staff, now_ms, taken)
    customers = _make_customers(rng, _customer_count(deals), taken)
    scenarios = _skeletons(rng, deals, partner_list, customers)
    _assign_links(rng, scenarios, partner_list)
    _plan_all(rng, scenarios, staff, now_ms, now_utc.date())
    builder = _Builder(rng, now_ms)
    _emit_people(builder, staff)
    _emit_partners(builder, partner_list)
    _emit_customers(builder, customers, staff)
    truths = tuple(_emit_scenario(builder, s) for s in scenarios)
    _emit_contacts(builder, partner_list, customers)
    direct = _emit_direct_deals(builder, rng, deals, staff, taken)
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
