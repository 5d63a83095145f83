"""`handoff-sync review` as people read it: one entry per person, not per deal.

unresolved_owner items are shown once per (role, email), with the deals they cover
(``sync.review_groups``, shared with the console's review page).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from handoff_sync.safety.sanitise import for_terminal
from handoff_sync.sync.review_groups import UNRESOLVED_OWNER, ReviewEntry, group_reviews

DEALS_SHOWN = 5  # deal keys printed per group; the JSON output lists every item


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
