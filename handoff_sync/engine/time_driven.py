"""Deals that time alone moves: what an incremental cycle plans although none of their
records changed (the sync layer adds them to ``Dirty.deals``)."""

from __future__ import annotations

from datetime import datetime

from handoff_sync.engine.sla import running_status
from handoff_sync.engine.stages import windows_moved
from handoff_sync.engine.types import EngineState
from handoff_sync.mapping.policy.file_model import HandoffPolicy
from handoff_sync.model import SlaStatus


def clock_driven_deals(state: EngineState, policy: HandoffPolicy,
                       now: datetime) -> frozenset[str]:
    """Deals whose running SLA clock or stage day window time alone has moved by ``now``
    (on track to at risk or breached/overdue, at risk to breached/overdue): an incremental
    cycle plans them even when nothing about them changed. A clock the policy no longer
    defines counts as moved."""
    moved: set[str] = set()
    for state_ in state.clocks.values():
        if state_.stopped_at is not None or state_.status not in (SlaStatus.ON_TRACK,
                                                                   SlaStatus.AT_RISK):
            continue
        handoff = policy.handoff_types.get(state_.handoff_type)
        clock = next((c for c in handoff.slas if c.id == state_.clock), None) \
            if handoff is not None else None
        if handoff is None or clock is None:
            moved.add(state_.deal)
            continue
        calendar = policy.calendars.get(handoff.calendar) if handoff.calendar else None
        if running_status(clock, state_.started_at, now, calendar) is not state_.status:
            moved.add(state_.deal)
    moved.update(windows_moved(state.verdicts.values(), now))  # stage windows move too
    return frozenset(moved)

