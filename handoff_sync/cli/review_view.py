"""`handoff-sync review` as people read it: one entry per person, not per deal.

The engine raises an unresolved_owner item per deal and role (each resolves on its own
when that deal's owner is fixed), but the fix is per person: one partner rep without a
CRM user owns dozens of deals, and a queue of 200 near-identical lines buries the two
channel conflicts someone must decide. So the list shows those items once per (role,
email), with the deals they cover; every other kind stays one entry per item.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handoff_sync.safety.sanitise import for_terminal

UNRESOLVED_OWNER = "unresolved_owner"
DEALS_SHOWN = 5  # deal keys printed per group; the JSON output lists every item


@dataclass
class ReviewEntry:
    """One line of the list: a single item, or an owner's items grouped."""

    first: Mapping[str, Any]  # the item shown (the oldest of a group)
    deals: list[str] = field(default_factory=list)  # a group's deals, oldest first

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
    return entries


def render_reviews(items: Sequence[Mapping[str, Any]]) -> str:
    """The text `handoff-sync review` prints: a count line, then one block per entry."""
    if not items:
        return "no review items\n"
    entries = group_reviews(items)
    kinds = Counter(str(item["kind"]) for item in items)
    groups = sum(1 for entry in entries if entry.first["kind"] == UNRESOLVED_OWNER)
    counts = ", ".join(f"{kind} {count}" + (f" (in {groups} by person)"
                                             if kind == UNRESOLVED_OWNER else "")
                       for kind, count in sorted(kinds.items()))
    lines = [f"{len(items)} review items: {counts}", ""]
    for entry in entries:
        lines.extend(_entry_lines(entry))
    # Summaries name partners and customers: no escape sequence reaches the terminal.
    return "\n".join(for_terminal(line) for line in lines) + "\n"


def _entry_lines(entry: ReviewEntry) -> list[str]:
    item = entry.first
    if not entry.grouped or item["kind"] != UNRESOLVED_OWNER:
        candidates = ", ".join(f"{c[0]} ({float(c[1]):.2f})"
                               for c in item.get("candidates") or [])
        return [f"[{item['status']}] {item['pipeline']} {item['key']}",
                f"    {item['kind']}: {item['summary']}"]  \
            + ([f"    candidates: {candidates}"] if candidates else [])
    details = item.get("details") or {}
    role, email = details.get("role"), details.get("email")
    deals = entry.deals
    more = f" (+{len(deals) - DEALS_SHOWN} more)" if len(deals) > DEALS_SHOWN else ""
    noun = "deal" if len(deals) == 1 else "deals"
    lines = [f"[{item['status']}] {item['pipeline']} {UNRESOLVED_OWNER} {role} "
             f"{email or '(none on the deal)'}: {len(deals)} {noun}",
             f"    {item['summary']}",
             f"    {noun}: {', '.join(deals[:DEALS_SHOWN])}{more}"]
    if item["status"] != "open":
        return lines
    if email:
        lines.append(f"    dismiss them all: handoff-sync review dismiss --owner {email}")
    else:  # nobody to name: each deal's field is filled (or its item dismissed) on its own
        lines.append(f"    dismiss one: handoff-sync review dismiss "
                     f"{UNRESOLVED_OWNER}:DEAL:{role}")
    return lines


__all__ = ["ReviewEntry", "group_reviews", "render_reviews"]
