"""Planning some deals again and taking the rest from a plan made under other mappings.

A what-if (sync.whatif) compares the plan with the mappings in force and the plan with a
candidate. When the candidate can only change some deals (a gate of one handoff type),
planning every other deal again gives back what the first plan said of it. So
``EngineInput.carry`` holds that first plan, ``dirty`` names the deals to plan again,
and engine.plan takes every other deal's outcome (writes, tasks, verdicts, clocks, SLA
events, bases, conflicts, decisions, baselines, stage moves, its own review items) from
the carried plan, then runs the steps over every deal (training tasks, owner reviews) on
the whole: the result is the full plan. The caller answers for "alike" (sync.whatif's
policy_scope); records, state and clock must be the same.

A carried deal whose writes move ids (split into passes by engine.id_passes, which looks
at every write) is planned again rather than carried: the split is redone over all.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from handoff_sync.engine.readiness_tasks import PARTNER_DEAL
from handoff_sync.engine.types import (
    BaseSnapshot,
    ClockState,
    Conflict,
    FieldWrite,
    HandoffBaseline,
    HandoffDecision,
    Plan,
    ReviewItem,
    ReviewKind,
    SlaEvent,
    StageMove,
    TaskAction,
    Verdict,
)

# The review kinds raised while planning one deal; the others come from the steps over
# every record (linking, creation, owner directories), which run again in full.
DEAL_REVIEWS = frozenset({ReviewKind.UNRESOLVED_OWNER, ReviewKind.INVALID_VALUE})


class Outcomes(Protocol):
    """What engine.plan collects while it plans deals."""

    writes: list[FieldWrite]
    tasks: list[TaskAction]
    verdicts: list[Verdict]
    events: list[SlaEvent]
    clocks: list[ClockState]
    bases: list[BaseSnapshot]
    conflicts: list[Conflict]
    decisions: list[HandoffDecision]
    baselines: list[HandoffBaseline]
    moves: list[StageMove]

    def review(self, item: ReviewItem | None) -> None: ...


def moving_ids(carry: Plan | None) -> frozenset[str]:
    """The deals of ``carry`` whose writes move ids: to plan again, never to carry."""
    if carry is None:
        return frozenset()
    return frozenset(w.deal for w in carry.writes if w.releases or w.holds)


def carry_over(out: Outcomes, carry: Plan, planned: Collection[str]) -> int:
    """Add ``carry``'s outcomes of the deals not ``planned`` to ``out``; its training
    tasks are left out (engine.readiness_tasks states them again over the whole). The
    number of deals of the whole plan: the carried plan's."""
    def kept(deal: str) -> bool:
        return deal not in planned

    out.writes.extend(w for w in carry.writes if kept(w.deal))
    out.tasks.extend(t for t in carry.tasks
                     if kept(t.deal) and not t.deal.startswith(PARTNER_DEAL))
    out.verdicts.extend(v for v in carry.verdicts if kept(v.deal))
    out.events.extend(e for e in carry.sla_events if kept(e.deal))
    out.clocks.extend(c for c in carry.clocks if kept(c.deal))
    out.bases.extend(b for b in carry.bases if kept(b.deal))
    out.conflicts.extend(c for c in carry.conflicts if kept(c.deal))
    out.decisions.extend(d for d in carry.decisions if kept(d.deal))
    out.baselines.extend(b for b in carry.baselines if kept(b.deal))
    out.moves.extend(m for m in carry.stage_moves if kept(m.deal))
    for item in carry.reviews:
        if item.kind in DEAL_REVIEWS and kept(item.deal):
            out.review(item)
    return carry.deals
