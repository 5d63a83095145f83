"""Partners and customer accounts: unique names and domains, partner tiers and how
diligently each fills registrations, written as Accounts, companies and contacts."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from handoff_sync.sandbox.salesforce.schema import REGIONS
from handoff_sync.sandbox.seed.capability import capability_of
from handoff_sync.sandbox.seed.draw import DAY_MS, between, email_part, one_of, pick, weighted
from handoff_sync.sandbox.seed.model import Customer, Partner, Staff
from handoff_sync.sandbox.seed.people import Names
from handoff_sync.sandbox.seed.qualification import QUALIFICATION
from handoff_sync.sandbox.seed.records import Builder, hs_owner, sf_owner
from handoff_sync.sandbox.seed.words import (
    BUYER_TITLES,
    COUNTRIES,
    CUSTOMER_NOUNS,
    FIRST_NAMES,
    INITIATIVES,
    LAST_NAMES,
    NAME_PREFIXES,
    NAME_QUALIFIERS,
    NAME_SUFFIXES,
    PARTNER_NOUNS,
    WEBSITE_FORMS,
)


def _name_pairs() -> list[tuple[str, str]]:
    # "Stone" + "stone" reads badly; everything else makes a plausible compound word.
    return [(p, s) for p in NAME_PREFIXES for s in NAME_SUFFIXES
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
            qualifier = (NAME_QUALIFIERS[variant] if variant < len(NAME_QUALIFIERS)
                         else f" {variant}")
            name = f"{prefix}{suffix} {nouns[noun]}{qualifier}"
            domain = email_part(name) + ".com"
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
        for k, (*_, field_stage) in enumerate(QUALIFICATION):
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


_TIERS = weighted([("Registered", 35), ("Silver", 30), ("Gold", 25), ("Platinum", 10)])
_TIER_DILIGENCE = {"Registered": 0.35, "Silver": 0.55, "Gold": 0.70, "Platinum": 0.80}
_TIER_VOLUME = {"Registered": 1.0, "Silver": 1.5, "Gold": 3.0, "Platinum": 6.0}
_REP_COUNTS = weighted([(1, 40), (2, 40), (3, 20)])


def make_partners(rng: random.Random, count: int, staff: Staff, now_ms: int,
                  taken: set[str]) -> list[Partner]:
    r = rng.random
    partners = []
    for i, (name, domain, _) in enumerate(_unique_names(rng, count, PARTNER_NOUNS, taken)):
        tier = pick(_TIERS, r())
        diligence = min(1.0, max(0.1, _TIER_DILIGENCE[tier] + between(r, -0.3, 0.2)))
        names = Names(r)  # reps are unique within their own company
        reps = []
        for _ in range(pick(_REP_COUNTS, r())):
            first, last = names.next()
            reps.append((first, last, f"{email_part(first)}.{email_part(last)}@{domain}"))
        partners.append(Partner(
            index=i, name=name, domain=domain, tier=tier, region=one_of(r, REGIONS),
            diligence=diligence, weight=_TIER_VOLUME[tier] * between(r, 0.5, 1.5),
            manager=staff.partner_managers[i % len(staff.partner_managers)], reps=reps,
            fill=_partner_fill_table(diligence),
            created_ms=now_ms - int(between(r, 200, 2000) * DAY_MS),
        ))
    return partners


def make_customers(rng: random.Random, count: int, taken: set[str]) -> list[Customer]:
    r = rng.random
    nouns = [noun for noun, _, _ in CUSTOMER_NOUNS]
    customers = []
    for name, domain, noun in _unique_names(rng, count, nouns, taken):
        _, sf_industry, hs_industry = CUSTOMER_NOUNS[noun]
        customers.append(Customer(
            name=name, short=name.split(" ", 1)[0], domain=domain,
            website=one_of(r, WEBSITE_FORMS).format(domain), sf_industry=sf_industry,
            hs_industry=hs_industry, initiative_offset=int(r() * len(INITIATIVES)),
        ))
    return customers


def customer_count(deals: int) -> int:
    return math.ceil(deals / 1.6)  # several deals on some accounts


_REP_TITLES = ("Partner Account Manager", "Alliance Manager", "Solutions Consultant",
               "Managing Director")


def emit_partners(b: Builder, partners: list[Partner], random_seed: int) -> None:
    r = b.r
    for partner in partners:
        # Derived apart from ``r``: the main stream's draws stay what they were.
        capability = capability_of(partner, random_seed)
        partner.sf_id = b.sf_id("Account")
        partner.company_id = str(b.hs_number("companies"))
        stamps = b.stamps(partner.created_ms, partner.created_ms)
        country = one_of(r, COUNTRIES[partner.region])
        b.sf("Account", partner.sf_id, stamps, {
            "OwnerId": sf_owner(partner.manager), "Name": partner.name,
            "Website": f"https://www.{partner.domain}", "Type": "Partner",
            "Industry": "Technology", "BillingCountry": country, "IsPartner": True,
            "Partner_Tier__c": partner.tier, "Region__c": partner.region,
            **capability.salesforce()})
        b.hs("companies", partner.company_id, stamps, {
            "hubspot_owner_id": hs_owner(partner.manager), "name": partner.name,
            "domain": partner.domain, "industry": "COMPUTER_SOFTWARE", "country": country,
            "type": "PARTNER", "region": partner.region, **capability.hubspot(partner.tier)})


def emit_customers(b: Builder, customers: list[Customer], staff: Staff) -> None:
    r = b.r
    for customer in customers:
        if not customer.region:  # its only deal became another partner's registration
            customer.region = one_of(r, REGIONS)
            customer.country = one_of(r, COUNTRIES[customer.region])
        owner = customer.owner or one_of(r, staff.ae_by_region[customer.region])
        first_deal_ms = customer.created_ms or b.now_ms - 200 * DAY_MS
        customer.created_ms = first_deal_ms - int(between(r, 0, 60) * DAY_MS)
        stamps = b.stamps(customer.created_ms, first_deal_ms)
        customer.sf_id = b.sf_id("Account")
        customer.company_id = str(b.hs_number("companies"))
        b.sf("Account", customer.sf_id, stamps, {
            "OwnerId": sf_owner(owner), "Name": customer.name, "Website": customer.website,
            "Type": "Customer" if customer.won else "Prospect",
            "Industry": customer.sf_industry, "BillingCountry": customer.country,
            "IsPartner": False, "Region__c": customer.region,
             })
        b.hs("companies", customer.company_id, stamps, {
            "hubspot_owner_id": hs_owner(owner), "name": customer.name,
            "domain": customer.domain, "industry": customer.hs_industry,
            "country": customer.country, "type": "PROSPECT", "region": customer.region,
             })


def emit_contacts(b: Builder, partners: list[Partner], customers: list[Customer]) -> None:
    """Partner reps and some customer buyers as HubSpot contacts (noise for the daemon)."""
    r = b.r
    for partner in partners:
        for first, last, email in partner.reps:
            _contact(b, partner.company_id, partner.name, partner.created_ms,
                     (first, last, email, one_of(r, _REP_TITLES)))
    for customer in customers:
        if r() < 0.25:
            first, last = one_of(r, FIRST_NAMES), one_of(r, LAST_NAMES)
            email = f"{email_part(first)}.{email_part(last)}@{customer.domain}"
            _contact(b, customer.company_id, customer.name, customer.created_ms,
                     (first, last, email, one_of(r, BUYER_TITLES)))


def _contact(b: Builder, company_id: str, company: str, since_ms: int,
             who: tuple[str, str, str, str]) -> None:
    r = b.r
    first, last, email, title = who
    contact_id = str(b.hs_number("contacts"))
    created_ms = min(b.now_ms, since_ms + int(between(r, 0, 30) * DAY_MS))
    props: dict[str, str | None] = {"email": email, "firstname": first, "lastname": last,
                                    "company": company, "jobtitle": title}
    if r() < 0.6:
        props["phone"] = f"+1 555 01{int(r() * 100):02d}"  # the fictional 555-01xx block
    b.hs("contacts", contact_id, b.stamps(created_ms, created_ms), props)
    b.associate("contacts", contact_id, "companies", company_id)
