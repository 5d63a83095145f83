"""Staff and owners: the vendor's users (AEs, CS, partner managers, RevOps, the
integration user), planned once and written as Salesforce Users and HubSpot owners; and
the partner reps who have a seat in the partner program (partner users), so partner
tasks can be routed to them."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from handoff_sync.sandbox.salesforce.schema import REGIONS
from handoff_sync.sandbox.seed.draw import DAY_MS, Moment, between, email_part, moment, one_of
from handoff_sync.sandbox.seed.model import Partner, Person, Staff
from handoff_sync.sandbox.seed.records import Builder, sf_owner
from handoff_sync.sandbox.seed.rules import INTEGRATION_USERNAME, REVOPS_EMAIL, VENDOR_DOMAIN
from handoff_sync.sandbox.seed.words import FIRST_NAMES, LAST_NAMES, TIME_ZONES


class Names:
    """Unique "First Last" pairs from the word lists."""

    def __init__(self, r: Callable[[], float]) -> None:
        self._r = r
        self._used: set[tuple[str, str]] = set()  # membership only, never iterated

    def next(self) -> tuple[str, str]:
        while True:
            pair = (one_of(self._r, FIRST_NAMES), one_of(self._r, LAST_NAMES))
            if pair not in self._used:
                self._used.add(pair)
                return pair


def _staff_member(names: Names, r: Callable[[], float], now_ms: int, *, title: str,
                  department: str, team: str, region: str) -> Person:
    first, last = names.next()
    return Person(
        first=first, last=last,
        email=f"{email_part(first)}.{email_part(last)}@{VENDOR_DOMAIN}",
        title=title, department=department, team=team, region=region,
        time_zone=one_of(r, TIME_ZONES[region]),
        created_ms=now_ms - int(between(r, 120, 1500) * DAY_MS),
    )


def _ae_count(deals: int) -> int:
    return min(60, max(4, round(deals / 40)))


def make_staff(rng: random.Random, deals: int, partners: int, now_ms: int) -> Staff:
    r = rng.random
    names = Names(r)
    integration = Person(
        first="Integration", last="User", email=INTEGRATION_USERNAME, title="API Integration",
        department="IT", team="", region="NA", time_zone="America/Los_Angeles",
        created_ms=now_ms - 1600 * DAY_MS, in_hubspot=False,
    )

    def member(title: str, department: str, team: str, region: str) -> Person:
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
    revops = Person(
        first="Revenue", last="Operations", email=REVOPS_EMAIL, title="RevOps Manager",
        department="Operations", team="Revenue Operations", region="NA",
        time_zone="America/New_York", created_ms=now_ms - 1500 * DAY_MS,
    )
    return Staff(integration, managers, aes, sf_only, hs_only, inactive, cs,
                 partner_managers, by_region, revops)


_HS_TEAMS = {"Sales Leadership": "5100001", "Direct Sales": "5100002",
             "Customer Success": "5100003", "Channel Partnerships": "5100004",
             "Revenue Operations": "5100005", "Partner Reps": "5100006"}

# Every third partner (index 2, 5, 8, ...) has no seats in the partner program: its reps
# are no users, so its registrations' partner tasks go to the channel manager.
_WITHOUT_SEATS = 3


def has_seats(partner: Partner) -> bool:
    return partner.index % _WITHOUT_SEATS != _WITHOUT_SEATS - 1


def partner_users(partners: list[Partner]) -> list[Person]:
    """The reps of partners with seats, as users of both systems (Salesforce partner
    users, HubSpot users on a team of their own). No random draw: every other value of
    the seed stays as it was."""
    users = []
    for partner in partners:
        if not has_seats(partner):
            continue
        for first, last, email in partner.reps:
            users.append(Person(
                first=first, last=last, email=email, title="Partner Account Manager",
                department="Partner", team="Partner Reps", region=partner.region,
                time_zone=TIME_ZONES[partner.region][0], created_ms=partner.created_ms))
    return users


def emit_partner_users(b: Builder, users: list[Person]) -> None:
    """After the staff, so every staff user keeps its generated id."""
    for person in users:
        person.sf_id = b.sf_id("User")
        person.owner_id = str(b.hs_number("owners"))
        person.user_id = b.hs_number("users")
    for person in users:
        stamps = (moment(person.created_ms), moment(person.created_ms))
        _user_record(b, person, stamps)
        b.data.hubspot_owners.append(_owner_object(person, stamps))


def emit_people(b: Builder, staff: Staff) -> None:
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


def _user_record(b: Builder, person: Person, stamps: tuple[Moment, Moment]) -> None:
    assert person.sf_id is not None
    record = b.sf("User", person.sf_id, stamps, {
        "Username": person.email, "Email": person.email, "FirstName": person.first,
        "LastName": person.last, "Name": f"{person.first} {person.last}",
        "Title": person.title, "Department": person.department, "IsActive": person.active,
        "TimeZoneSidKey": person.time_zone,
    })
    if person.manager is not None:
        record["ManagerId"] = sf_owner(person.manager)


def _owner_object(person: Person, stamps: tuple[Moment, Moment]) -> dict[str, Any]:
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
