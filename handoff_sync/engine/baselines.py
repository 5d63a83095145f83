"""Baselines: the close date a deal had when its handoff started, kept while the date moves.

``close_date`` syncs both ways and people move it as the deal slips, so the deal's
values alone cannot say whether it closed within its original timeline (the on-time
bonus some partner programmes pay, docs/domain.md). The engine therefore records, once
per deal and handoff type, the close date the deal held in the cycle its handoff started
(``HandoffBaseline``); the store keeps it beside the rest of the cycle's state and the
report reads it.

When a baseline is recorded (``baseline_for``):

    the deal needs the handoff, none recorded, and the last verdict did not need it
      (or was of another type, or there was none: first seen)  -> recorded (today's close date)
    recorded without a close date, the deal now has one       -> that first close date
    recorded with a close date                                 -> never changed again
    needed the same handoff in the last verdict, none recorded -> nothing: the handoff
      started before handoff-sync recorded baselines, and its original date is unknown

A first seen deal counts from the cycle that first saw it: before that, handoff-sync
knows nothing of its dates.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from handoff_sync.engine.types import HandoffBaseline, Verdict


def baseline_for(*, deal: str, handoff_type: str | None, required: bool,
                 close_date: date | None, previous: Verdict | None,
                 stored: HandoffBaseline | None, now: datetime) -> HandoffBaseline | None:
    """The baseline to record for this deal this cycle, or None (see the module docstring)."""
    if handoff_type is None or not required:
        return None
    if stored is not None:
        if stored.close_date is None and close_date is not None:
            return dataclasses.replace(stored, close_date=close_date)
        return None
    if previous is not None and previous.required and previous.handoff_type == handoff_type:
        return None
    return HandoffBaseline(deal, handoff_type, now, close_date)
