"""Stage history: when each generated deal entered and left its stages.

HubSpot keeps it in the calculated ``hs_date_entered_{stage}``/``hs_date_exited_{stage}``
properties, Salesforce in the Opportunity's ``LastStageChangeDate``; the SLA clocks start
from them. Every instant comes from the scenario's timeline (no draw from the random
stream, so adding history changed no other value) and is clamped between the record's
creation and its last modification: a stage change is a modification, and nothing in the
seed happens after its "now".

Paths: a registration is submitted when created, approved at ``approved_ms``; an approved
one in handoff stage 2 became Handoff Ready when that stage began; a converted one was
accepted by direct sales when its CRM record was created and closed at ``closed_ms``; a
rejected one was turned down after a short review, an expired one at the end of its
validity. A CRM record starts in its pipeline's first stage and moved once, to the stage
it is in, when its handoff stage began (open) or when it was won or lost (on its own
close date where that is not later than its last change).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from handoff_sync.sandbox.hubspot.schema import (
    DEFAULT_PIPELINE,
    PARTNER_PIPELINE,
    date_entered,
    date_exited,
)
from handoff_sync.sandbox.seed.draw import (
    DAY_MS,
    EPOCH,
    ONE_MS,
    Moment,
    between,
    hubspot_instant,
)
from handoff_sync.sandbox.seed.model import Scenario
from handoff_sync.sandbox.seed.rules import CONVERTED, PARTNER_TO_DIRECT, REJECTED

(_SUBMITTED, _APPROVED, _READY, _ACCEPTED, _WON, _LOST) = (
    stage.id for stage in PARTNER_PIPELINE.stages)
_FIRST_CRM_STAGE = DEFAULT_PIPELINE.stages[0].id
REVIEW_DAYS = 3  # a partner manager turns a registration down within this
VALIDITY_DAYS = 90  # an unconverted registration expires after this
KICKOFF_RECORDED = 0.85  # older wins whose customer-success kickoff is on the record

Path = Sequence[tuple[str, int]]  # (stage id, ms it was entered), oldest first


def ms_of(at: Moment) -> int:
    return (at[0] - EPOCH) // ONE_MS


def hubspot_history(path: Path) -> dict[str, str | None]:
    """The calculated properties of a path: each stage entered at its instant and, but for
    the last (the current stage), exited when the next one was entered."""
    props: dict[str, str | None] = {}
    for position, (stage_id, entered_ms) in enumerate(path):
        props[date_entered(stage_id)] = hubspot_instant(entered_ms)
        if position + 1 < len(path):
            props[date_exited(stage_id)] = hubspot_instant(path[position + 1][1])
    return props


def registration_path(s: Scenario, stage_id: str, stamps: tuple[Moment, Moment]) -> Path:
    """The partner-pipeline stages a registration went through, ending at ``stage_id``."""
    created, modified = ms_of(stamps[0]), ms_of(stamps[1])
    path = [(_SUBMITTED, created)]
    if s.approved_ms is not None:
        path.append((_APPROVED, s.approved_ms))
        if stage_id == _READY:
            path.append((_READY, s.stage_starts[1]))
        elif s.status == CONVERTED:
            accepted = max(s.approved_ms, min(s.crm_created_ms, modified))
            path.append((_ACCEPTED, accepted))
            if s.closed_ms is not None:
                path.append((stage_id, max(accepted, min(s.closed_ms, modified))))
    elif stage_id == _LOST:
        days = REVIEW_DAYS if s.status == REJECTED else VALIDITY_DAYS
        path.append((_LOST, min(modified, created + days * DAY_MS)))
    assert path[-1][0] == stage_id, (s.index, path, stage_id)
    return path


def crm_stage_change_ms(s: Scenario, stamps: tuple[Moment, Moment]) -> int:
    """When a scenario's CRM record (opportunity and default-pipeline deal) last changed
    stage; its creation when it never did."""
    created, modified = ms_of(stamps[0]), ms_of(stamps[1])
    if s.closed_ms is not None:
        assert s.close_date is not None and s.crm_close_date is not None
        # On the CRM's own close date (a fuzzy copy's differs by a few days).
        target = s.closed_ms + (s.crm_close_date - s.close_date).days * DAY_MS
    elif s.crm_stage == "Prospecting":
        return created
    else:
        target = s.stage_starts[-1]
    return max(created, min(target, modified))


def crm_path(stage_id: str, created_ms: int, changed_ms: int) -> Path:
    """A default-pipeline deal's stages: created in the first, moved once to ``stage_id``."""
    if stage_id == _FIRST_CRM_STAGE or changed_ms == created_ms:
        return [(stage_id, created_ms)]
    return [(_FIRST_CRM_STAGE, created_ms), (stage_id, changed_ms)]


def kickoff_ms(s: Scenario, stamps: tuple[Moment, Moment]) -> int | None:
    """When customer success held the kickoff of an older win (one whose partner handoff
    ran to its last stage), or None: fresh wins still wait for theirs, and some kickoffs
    were never recorded (the last leak of the report's funnel). A kickoff is no later
    than the record's last change (which recorded it); a record unchanged since the win
    has none. Drawn from a random stream of the scenario's own, so the generator's
    stream, and every other value of the seed, stays as it was."""
    if s.outcome != "won" or s.handoff_type != PARTNER_TO_DIRECT or s.closed_ms is None:
        return None
    r = random.Random(f"kickoff:{s.index}:{s.amount}").random
    if r() >= KICKOFF_RECORDED:
        return None
    held = s.closed_ms + int(between(r, 1, 7) * DAY_MS)
    changed = ms_of(stamps[1])  # recording the kickoff was a change of the record
    if held <= changed:
        return held
    return changed if changed > s.closed_ms else None
