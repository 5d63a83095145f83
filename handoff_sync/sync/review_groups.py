"""The review queue as people read it: one entry per person, not per deal.

The engine raises an unresolved_owner item per deal and role (each resolves on its own
when that deal's owner is fixed), but the fix is per person: one partner rep without a
CRM user owns dozens of deals, and a queue of 200 near-identical lines buries the two
channel conflicts someone must decide. So lists (`handoff-sync review`, the console's
review page) show those items once per (role, email), with the deals they cover; every
other kind stays one entry per item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

UNRESOLVED_OWNER = "unresolved_owner"


@dataclass
class ReviewEntry:
    """One line of the list: a single item, or an owner's items grouped."""

    first: Mapping[str, Any]  # the item shown (the oldest of a group)
    deals: list[str] = field(default_factory=list)  # a group's deals, oldest first
    keys: list[str] = field(default_factory=list)  # a group's item keys, in that order

    @property
    def grouped(self) -> bool:
        return bool(self.deals)


def group_reviews(items: Sequence[Mapping[str, Any]]) -> list[ReviewEntry]:
    """Items in list order, unresolved_owner items folded into their (pipeline, status,
    role, email) group at the place of the group's first item."""
    entries: list[ReviewEntry] = []
    groups: dict[tuple[Any, ...], ReviewEntry] = {}
    for item in items:
        if item["kind"] != UNRESOLVED_OWNER:
            entries.append(ReviewEntry(item))
            continue
        details = item.get("details") or {}
        email = details.get("email")
        key = (item["pipeline"], item["status"], details.get("role"),
               email.casefold() if isinstance(email, str) else None)
        entry = groups.get(key)
        if entry is None:
            entry = groups[key] = ReviewEntry(item)
            entries.append(entry)
        entry.deals.append(str(item["deal"]))
        entry.keys.append(str(item["key"]))
    return entries


__all__ = ["UNRESOLVED_OWNER", "ReviewEntry", "group_reviews"]
