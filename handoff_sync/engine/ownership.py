"""Who gets a deal's work: a person role resolved to an active CRM user, or the fallback.

Tasks are CRM records and only an active CRM user can own one, so a role whose person is
blank, unknown to the CRM or deactivated would leave the work in a "no owner" zone. It
goes to the policy's fallback owner instead, and a review item tells people which field
to fill or which user to add, so the fallback stays the exception.

An email that two or more active CRM users share names nobody for sure: the work goes to
the fallback too, and instead of one item per deal a single duplicate_owner_email item
per email names the users, so a person deactivates one or changes an address. It
resolves itself once the email is one user's again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from connectors.reading import is_blank
from handoff_sync.engine.types import ReviewItem, ReviewKind
from handoff_sync.model import (
    CANONICAL_FIELDS,
    ROLE_FIELDS,
    Deal,
    OwnerDirectory,
    PersonRole,
    Role,
    quick_init,
)

_WHO: dict[PersonRole, str] = {
    PersonRole.PRM_OWNER: "partner rep",
    PersonRole.CRM_OWNER: "account executive",
    PersonRole.CS_OWNER: "CS owner",
    PersonRole.MANAGER: "AE's manager",
}


@quick_init
@dataclass(frozen=True, slots=True)
class Assignee:
    """The person a role's work goes to, and whether that is the role's own person."""

    email: str  # who gets the work: the role's person, or the fallback owner
    role: PersonRole
    wanted: str | None  # the role's person before fallback (None: blank on the deal)
    resolved: bool  # False: fell back
    # The email several active users share that kept the role from resolving (the
    # person's own, or for the manager role the AE's); its review item is per email.
    duplicate: str | None = None
    side: Role = Role.CRM  # the system whose user gets the work
    # The field whose person took the work when the role's own person has no user there
    # (a PRM task's channel manager); None: the role's person, or the fallback owner.
    stand_in: str | None = None


def resolve_person(role: PersonRole, deal: Deal, owners: OwnerDirectory,
                   fallback_email: str) -> Assignee:
    """The role's person if they are an active CRM user, else ``fallback_email``."""
    wanted: str | None
    if role is PersonRole.MANAGER:
        ae = deal.ae_email
        ae = ae.strip().lower() if isinstance(ae, str) and not is_blank(ae) else None
        if ae is not None and len(owners.active_holders(ae)) > 1:
            return Assignee(fallback_email, role, None, False, duplicate=ae)
        wanted = None if ae is None else owners.manager_email(ae)
    else:
        value = deal.get(ROLE_FIELDS[role])
        wanted = value.strip().lower() if isinstance(value, str) and not is_blank(value) else None
    if wanted is not None and owners.id_for(wanted) is not None:
        return Assignee(wanted, role, wanted, True)
    shared = wanted is not None and len(owners.active_holders(wanted)) > 1
    return Assignee(fallback_email, role, wanted, False, duplicate=wanted if shared else None)


def resolve_on_prm(role: PersonRole, deal: Deal, owners: OwnerDirectory,
                   stand_in_field: str | None, fallback_email: str) -> Assignee:
    """Who gets a PRM task: the role's person if they are an active PRM user (the partner
    rep of record), else the person ``stand_in_field`` names (the registration's channel
    manager) if they are one, else ``fallback_email``. Partner work stays with the partner
    side: the fallback is the last resort, and ``unresolved_prm_owner_reviews`` groups it
    by person rather than by deal."""
    # The AE's manager is a CRM notion with no PRM counterpart: the stand-in takes it.
    wanted = None if role is PersonRole.MANAGER else _email(deal.get(ROLE_FIELDS[role]))
    if wanted is not None and owners.id_for(wanted) is not None:
        return Assignee(wanted, role, wanted, True, side=Role.PRM)
    stand_in = _email(deal.get(stand_in_field)) if stand_in_field else None
    if stand_in is not None and owners.id_for(stand_in) is not None:
        return Assignee(stand_in, role, wanted, True, side=Role.PRM, stand_in=stand_in_field)
    shared = wanted is not None and len(owners.active_holders(wanted)) > 1
    return Assignee(fallback_email, role, wanted, False,
                    duplicate=wanted if shared else None, side=Role.PRM)


def unresolved_prm_owner_reviews(fallen_back: Mapping[str | None, Iterable[str]],
                                 system: str, fallback_email: str,
                                 stand_in_field: str | None) -> list[ReviewItem]:
    """One review item per person whose PRM tasks went to the fallback owner (None: deals
    naming nobody), listing the deals, not one item per deal."""
    items = []
    stand_in = (f"the person in {stand_in_field}" if stand_in_field
                else "a channel manager (ownership.channel_manager_field)")
    for email in sorted(fallen_back, key=lambda e: e or ""):
        deals = tuple(sorted(set(fallen_back[email])))
        shown = ", ".join(deals[:10]) + (f" and {len(deals) - 10} more" if len(deals) > 10
                                         else "")
        if email is None:
            who = "No partner rep is named"
            fix = "fill partner_rep_email or " + (stand_in_field or "the channel manager")
        else:
            who = f"Partner rep {email} has no active {system} user"
            fix = f"add them as a {system} user, or correct partner_rep_email"
        items.append(ReviewItem(
            key=f"unresolved_prm_owner:{email or '-'}",
            kind=ReviewKind.UNRESOLVED_PRM_OWNER, deal=f"owner:prm:{email or '-'}",
            summary=(f"{who} and {stand_in} is not one either, so the partner tasks of "
                     f"{len(deals)} deal(s) ({shown}) go to the fallback owner "
                     f"{fallback_email}: {fix}"),
            details=MappingProxyType({"email": email, "system": system, "deals": deals,
                                      "fallback": fallback_email,
                                      "stand_in_field": stand_in_field})))
    return items


def _email(value: object) -> str | None:
    return value.strip().lower() if isinstance(value, str) and not is_blank(value) else None


def unresolved_owner_review(deal: str, assignee: Assignee) -> ReviewItem | None:
    """A review item for a fallen-back assignee (None when the role resolved, or when an
    email shared by several users stopped it: ``duplicate_owner_reviews`` covers that)."""
    if assignee.resolved or assignee.duplicate is not None:
        return None
    role, who = assignee.role, _WHO[assignee.role]
    field = ROLE_FIELDS[role]
    label = CANONICAL_FIELDS[field].label
    went = f"its work goes to the fallback owner {assignee.email}"
    if assignee.wanted is None:
        if role is PersonRole.MANAGER:
            summary = (f"No AE's manager for this deal, so {went}: fill {field} ({label}) "
                       "and set that user's manager in the CRM")
        else:
            summary = f"No {who} on this deal, so {went}: fill {field} ({label})"
    elif role is PersonRole.PRM_OWNER:
        summary = (f"Partner rep {assignee.wanted} has no active CRM user (partner reps "
                   f"often have none), so {went}: add them as a CRM user if they should "
                   f"own tasks, or correct {field} ({label})")
    elif role is PersonRole.MANAGER:
        summary = (f"AE's manager {assignee.wanted} has no active CRM user, so {went}: "
                   "reactivate them or set another manager for the AE in the CRM")
    else:
        summary = (f"{who[0].upper()}{who[1:]} {assignee.wanted} has no active CRM user, so "
                   f"{went}: add or reactivate the user in the CRM, or correct {field} "
                   f"({label})")
    return ReviewItem(
        key=f"unresolved_owner:{deal}:{role.value}", kind=ReviewKind.UNRESOLVED_OWNER,
        deal=deal, summary=summary,
        details=MappingProxyType({"role": role.value, "field": field,
                                  "email": assignee.wanted, "fallback": assignee.email}))


def duplicate_owner_reviews(owners: OwnerDirectory, role: Role, system: str,
                            fallback_email: str) -> list[ReviewItem]:
    """One duplicate_owner_email item per email that two or more active users of one
    system share, naming them; stated every cycle while the duplicate stands."""
    items = []
    for email, holders in owners.duplicates().items():
        users = ", ".join(f"{owner.id} ({owner.name or 'no name'})" for owner in holders)
        went = (f"tasks and owner fields for {email} go to the fallback owner "
                f"{fallback_email}" if role is Role.CRM else
                f"owner fields naming {email} are not written to {system}")
        items.append(ReviewItem(
            key=f"duplicate_owner_email:{role.value}:{email}",
            kind=ReviewKind.DUPLICATE_OWNER_EMAIL, deal=f"owner:{role.value}:{email}",
            summary=(f"{len(holders)} active {system} users share the email {email}: "
                     f"{users}; nobody is guessed, so {went}: deactivate the extra user or "
                     "give it its own email"),
            details=MappingProxyType({
                "email": email, "system": system, "role": role.value,
                "fallback": fallback_email if role is Role.CRM else None,
                "users": tuple(MappingProxyType({"id": owner.id, "name": owner.name})
                               for owner in holders)})))
    return items


__all__ = ["Assignee", "duplicate_owner_reviews", "resolve_on_prm", "resolve_person",
           "unresolved_owner_review", "unresolved_prm_owner_reviews"]
