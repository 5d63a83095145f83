"""What a review item is called: its deals, accounts, partners and people, as the console
names them, and the folded names its partner and search filters look at.

The console shows an item with its deals named from their records; its filters look at
those names. Naming every item of a 16,000-item queue on each filtered request cost
seconds, so the cycle that records an item names it once, from the canonical values it
has in hand, and the store keeps the names beside the item (``reviews.partners`` and
``reviews.search_text``) for the console to filter in SQL.

Pure: the caller hands in the values (``DealValues``). ``deal_names`` is the one
definition of a deal's name, account, partner and people; the console's ``Namer`` uses
it too, so what the page shows and what its filters match are the same names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handoff_sync.engine.types import BaseSnapshot, Link, ReviewItem, ReviewKind
from handoff_sync.model import Role
from handoff_sync.store.reviews import partner_token, registrations_of
from handoff_sync.store.types import MirrorRecord, ReviewNames

PEOPLE = (("partner_rep_email", "partner rep"), ("ae_email", "AE"),
          ("cs_owner_email", "CS owner"))
GROUPED = ReviewKind.UNRESOLVED_OWNER.value  # one person's items: one entry, its deals named
# Stored items named a cycle at most (the first cycle after 0011 names the older rows; a
# long history takes a few cycles, each bounded).
NAMED_A_CYCLE = 20_000
Values = Mapping[str, Any]
_NONE: Values = {}


@dataclass(frozen=True)
class DealNames:
    """A deal's names: from its registration first, then its opportunity; people from
    the values last agreed for the pair first (the CRM's owners are ids in a record)."""

    name: str | None = None
    crm_name: str | None = None  # the opportunity's own name, when it differs
    account: str | None = None
    partner: str | None = None
    people: tuple[tuple[str, str], ...] = ()  # (label, email)


def deal_names(prm: Values, crm: Values, agreed: Values) -> DealNames:
    """The names of one deal from its registration's, opportunity's and agreed values
    (canonical field -> value; empty when there is none)."""
    def text(field: str, *sources: Values) -> str | None:
        for source in sources:
            value = source.get(field)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    people = tuple((label, email) for field, label in PEOPLE
                   if (email := text(field, agreed, prm, crm)) is not None)
    name = text("deal_name", prm, crm)
    crm_name = text("deal_name", crm)
    return DealNames(name, crm_name if crm_name != name else None,
                     text("account_name", prm, crm, agreed),
                     text("partner_account", prm, agreed, crm), people)


@dataclass(frozen=True)
class DealValues:
    """Canonical values by record id (empty for a record not known), the opportunity a
    registration is linked to, and the values agreed per deal key."""

    prm: Callable[[str], Values]
    crm: Callable[[str], Values]
    crm_of: Callable[[str], str | None]
    agreed: Callable[[str], Values]

    def deal(self, key: str) -> DealNames:
        """A deal by its key (``prm:ID`` or ``crm:ID``; another key names nothing)."""
        if key.startswith("prm:"):
            prm_id = key.removeprefix("prm:")
            crm_id = self.crm_of(prm_id)
            return deal_names(self.prm(prm_id), self.crm(crm_id) if crm_id else _NONE,
                              self.agreed(key))
        if key.startswith("crm:"):
            return self.opportunity(key.removeprefix("crm:"))
        return DealNames()

    def opportunity(self, crm_id: str) -> DealNames:
        key = f"crm:{crm_id}"
        return deal_names(_NONE, self.crm(crm_id), self.agreed(key))


def review_names(item: Mapping[str, Any], values: DealValues) -> ReviewNames:
    """The names of one item (a review row as ``store.reviews.review_dict`` gives it, or
    ``item_dict`` of an engine item): what the console's entry for it shows.

    One person's unresolved_owner items are one entry on the page; each item's names are
    its own deal's, and an entry matches when its items match together (the store's
    ``review_page``)."""
    details = item.get("details") or {}
    details = details if isinstance(details, Mapping) else {}
    deal = str(item["deal"])
    named: list[tuple[str, DealNames]] = []  # (deal key, names): deals, registrations
    targets: list[tuple[str, DealNames]] = []  # opportunities a link may offer
    if str(item["kind"]) == GROUPED:
        named.append((deal, values.deal(deal)))
    else:
        if deal.startswith(("prm:", "crm:")):
            named.append((deal, values.deal(deal)))
        for prm_id in registrations_of(item):
            key = f"prm:{prm_id}"
            if key not in {k for k, _names in named}:
                named.append((key, values.deal(key)))
        offered = [str(candidate[0]) for candidate in item.get("candidates") or ()]
        for prm_id in registrations_of(item):
            crm_id = values.crm_of(prm_id)
            if crm_id and crm_id not in offered:
                offered.append(crm_id)
        targets = [(f"crm:{crm_id}", values.opportunity(crm_id)) for crm_id in offered]
    partners = {names.partner for _key, names in named if names.partner}
    listed = details.get("partners")
    if isinstance(listed, Mapping):
        partners.update(str(name) for name in listed.values())
    email = details.get("email")
    parts = [str(item["key"]), str(item.get("summary") or ""),
             email if isinstance(email, str) else ""]
    for key, names in (*named, *targets):
        parts += [key, names.name or "", names.crm_name or "", names.account or "",
                  names.partner or "", *(address for _label, address in names.people)]
    return ReviewNames("".join(sorted(partner_token(p) for p in partners)),
                       " ".join(parts).casefold())


def item_dict(item: ReviewItem) -> dict[str, Any]:
    """An engine item in the shape of a stored row, as ``review_names`` reads it."""
    return {"key": item.key, "kind": item.kind.value, "deal": item.deal,
            "summary": item.summary, "details": item.details,
            "candidates": [list(candidate) for candidate in item.candidates]}


def names_of(items: Iterable[Mapping[str, Any]], values: DealValues) -> dict[str, ReviewNames]:
    """Each item's names by its key."""
    return {str(item["key"]): review_names(item, values) for item in items}


def cycle_names(items: Sequence[ReviewItem], unnamed: Iterable[Mapping[str, Any]],
                records: Mapping[Role, Sequence[Mapping[str, MirrorRecord]]],
                mapped: Callable[[Role, MirrorRecord], Values], links: Mapping[str, Link],
                bases: Sequence[Mapping[str, BaseSnapshot]]) -> dict[str, ReviewNames]:
    """The names of a cycle's items and of stored items that had none, from what the
    cycle ends with: per role the records it wrote, refreshed and read (searched in
    that order), mapped by ``mapped``; the links after its plan; the bases it wrote,
    then the ones it started from."""
    def record(role: Role, record_id: str) -> Values:
        for found in records[role]:
            if (mirrored := found.get(record_id)) is not None:
                return mapped(role, mirrored)
        return _NONE

    def agreed(key: str) -> Values:
        for found in bases:
            if (base := found.get(key)) is not None:
                return base.agreed
        return _NONE

    def crm_of(prm_id: str) -> str | None:
        link = links.get(prm_id)
        return link.crm_id if link is not None else None

    values = DealValues(lambda prm_id: record(Role.PRM, prm_id),
                        lambda crm_id: record(Role.CRM, crm_id), crm_of, agreed)
    return {**names_of(unnamed, values), **names_of(map(item_dict, items), values)}


__all__ = ["NAMED_A_CYCLE", "PEOPLE", "DealNames", "DealValues", "cycle_names",
           "deal_names", "item_dict", "names_of", "review_names"]
