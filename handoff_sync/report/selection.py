"""Narrowing a report to some partners, segments, regions or handoff types (pure).

A selection names, per dimension, the values to keep: a deal stays when, for every
dimension named, its group (``basis.group_of``: the values the report's own tables show,
"(direct)" and "(none)" included) is one of them. Rows about a deal (clocks, SLA events,
gate history, tasks, review items, conflicts, decisions, baselines) follow their deal.
With handoff types named, rows that carry a handoff type are kept only for those types
too: a deal now in its customer-success handoff still has the partner handoff's clocks
on record, and those do not belong in a report of the customer-success handoff. With
partners named, the partner accounts and their training tasks are those partners'.

Values are matched exactly as the report writes them: ``options`` lists the ones a
report's data holds, and ``unknown`` which chosen values none of its deals has (a
partner renamed since a link was shared, a typo in a URL), so a caller can say so
instead of showing an empty report that looks like a real one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from handoff_sync.model import partner_key
from handoff_sync.report.basis import DIMENSION_LABELS, group_of
from handoff_sync.report.facts import ReportData

FILTERS = ("partner", "segment", "region", "handoff_type")
FILTER_LABELS = {name: DIMENSION_LABELS[name] for name in FILTERS}


@dataclass(frozen=True, slots=True)
class Selection:
    """The values kept per dimension of FILTERS; none named: everything."""

    chosen: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, values: Mapping[str, Iterable[str]]) -> Selection:
        """From dimension -> values; blank values and dimensions with none are dropped,
        the rest sorted (so equal selections are equal, and hash alike)."""
        chosen: list[tuple[str, tuple[str, ...]]] = []
        for name in FILTERS:
            kept = tuple(sorted({v for v in values.get(name, ()) if v.strip()}))
            if kept:
                chosen.append((name, kept))
        if extra := sorted(set(values) - set(FILTERS)):
            raise ValueError(f"no report filter {', '.join(extra)} (filters: "
                             f"{', '.join(FILTERS)})")
        return cls(tuple(chosen))

    def __bool__(self) -> bool:
        return bool(self.chosen)

    def values(self, name: str) -> tuple[str, ...]:
        return dict(self.chosen).get(name, ())

    def as_dict(self) -> dict[str, tuple[str, ...]]:
        return dict(self.chosen)

    def describe(self) -> str:
        """"partner Acme; segment Enterprise, SMB" (empty when nothing is chosen)."""
        return "; ".join(f"{FILTER_LABELS[name]} {', '.join(values)}"
                         for name, values in self.chosen)


def options(data: ReportData) -> dict[str, tuple[str, ...]]:
    """Per dimension of FILTERS, the groups the data's deals fall in, sorted."""
    return {name: tuple(sorted({group_of(deal, name) for deal in data.deals}))
            for name in FILTERS}


def unknown(data: ReportData, selection: Selection,
            known: Mapping[str, Sequence[str]] | None = None) -> dict[str, tuple[str, ...]]:
    """Per dimension, the chosen values no deal of ``data`` has (only dimensions with
    some); ``known``: ``options(data)`` if the caller has it already (it goes over every
    deal)."""
    known = options(data) if known is None else known
    found = {name: tuple(v for v in values if v not in known[name])
             for name, values in selection.chosen}
    return {name: values for name, values in found.items() if values}


def select(data: ReportData, selection: Selection) -> ReportData:
    """``data`` narrowed to ``selection`` (the same data when nothing is chosen)."""
    if not selection:
        return data
    chosen = {name: frozenset(values) for name, values in selection.chosen}
    deals = tuple(d for d in data.deals
                  if all(group_of(d, name) in values for name, values in chosen.items()))
    keys = frozenset(d.key for d in deals)
    types = chosen.get("handoff_type")

    def typed(kind: str | None) -> bool:
        return types is None or kind is None or kind in types

    partners = data.partners
    if "partner" in chosen:
        names = {partner_key(name) for name in chosen["partner"]}
        partners = tuple(p for p in partners if partner_key(p.name) in names)
    accounts = {p.id for p in partners} if "partner" in chosen else None
    clocks = tuple(c for c in data.clocks if c.deal in keys and typed(c.handoff_type))
    # An SLA event names its deal and clock, not the handoff type: it follows its clock.
    timed = {(c.deal, c.clock) for c in clocks}
    return replace(
        data, deals=deals, clocks=clocks,
        events=tuple(e for e in data.events
                     if e.deal in keys and (types is None or (e.deal, e.clock) in timed)),
        history=tuple(h for h in data.history if h.deal in keys and typed(h.handoff_type)),
        # A partner's own tasks (training) are about no deal: they follow the account.
        tasks=tuple(t for t in data.tasks if (
            (accounts is None or t.record in accounts) if t.anchor == "partner"
            else t.deal in keys)),
        reviews=tuple(r for r in data.reviews if r.deal in keys),
        conflicts=tuple(c for c in data.conflicts if c.deal in keys),
        decisions=tuple(d for d in data.decisions
                        if d.deal in keys and typed(d.handoff_type)),
        baselines=tuple(b for b in data.baselines
                        if b.deal in keys and typed(b.handoff_type)),
        partners=partners)
