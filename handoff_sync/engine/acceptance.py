"""Accept or reject: the receiving owner's decision on a handoff, recorded once per change.

A handoff type with an ``acceptance:`` section lets the receiving owner (the AE, the CSM)
set ``handoff_acceptance`` on the CRM record to accepted or rejected, with
``handoff_rejection_reason``. The decision lives in the systems; the store only remembers
the last one recorded per deal (``EngineState.decisions``). Each cycle compares the two
and records a ``HandoffDecision`` when they differ:

    deal holds accepted/rejected, last record is another decision  -> ACCEPTED / REJECTED
    deal holds pending or blank, last record accepted or rejected  -> WITHDRAWN
    deal holds rejected and handoff_resubmit is ticked             -> RESUBMITTED (+ reset)

Who and when come from the systems where they can: ``by`` is ``handoff_decided_by`` when
the mapping reads it (e.g. Salesforce LastModifiedById: whoever last changed the record
when the decision was first seen), else the email of the role that owns that step (the
receiving owner of the deal's stage; the partner rep for a re-submission), marked as
inferred; ``at`` is the modification time of the record holding the decision as it was
read, never after ``now``.

Re-submission: the sender ticks ``handoff_resubmit`` (on the PRM registration in the
shipped packs) once the reason is dealt with. The daemon then writes the decision back to
pending and blanks the reason (``AcceptanceStep.sets``) and plans the deal as it will hold
after those writes, so the rejection task closes and the gate returns to the deal's own
stage in the same cycle. Until the writes land the deal still reads rejected and ticked;
the last record being RESUBMITTED says the reset is under way, so the writes are planned
again and nothing new is recorded. A tick while nothing is rejected (the next cycle, once
the decision reads pending) is cleared without a record, so it cannot re-submit a later
rejection unseen.

One decision field serves every handoff type of a deal: when the deal moves to another
type that takes a decision (won: the CSM's turn) while the field still holds the decision
recorded for the previous type, the field is set back to pending, and nothing recorded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from handoff_sync.engine.reconcile import Stored
from handoff_sync.engine.types import BaseSnapshot, DecisionKind, HandoffDecision, Rejection
from handoff_sync.mapping.policy.file_model import HandoffType
from handoff_sync.mapping.system.conflicts import ConflictPolicy, FieldSync
from handoff_sync.mapping.system.convert import MappedRecord
from handoff_sync.model import (
    ROLE_FIELDS,
    Acceptance,
    Deal,
    PersonRole,
    Role,
    Value,
    deal_with,
    quick_init,
)

# What a re-submission writes: a pending decision, no reason. The tick is cleared a cycle
# later, once the decision reads pending: cleared first, a failed reset would leave a
# rejected decision and no tick, which reads as a new rejection.
RESUBMIT_SETS: Mapping[str, Value] = MappingProxyType({
    "handoff_acceptance": Acceptance.PENDING.value, "handoff_rejection_reason": None})
_CLEAR_TICK: Mapping[str, Value] = MappingProxyType({"handoff_resubmit": False})
_RESET = RESUBMIT_SETS
_EMPTY: Mapping[str, Value] = MappingProxyType({})

# Fields whose unreadable value is nobody's to fix: the record's last modifier is often a
# system user with no owner record (an automated process); the decision is then recorded
# as the receiver's, marked inferred, rather than raised for review.
UNREVIEWED_FIELDS = frozenset({"handoff_decided_by"})


@quick_init
@dataclass(frozen=True, slots=True)
class AcceptanceStep:
    """One deal's acceptance this cycle: what to record, and what to write."""

    decisions: tuple[HandoffDecision, ...]  # new records, in the order they happened
    sets: Mapping[str, Value]  # canonical field -> value the daemon writes (re-submission)
    deal: Deal  # the deal as it holds once `sets` are written
    accepted_at: datetime | None  # when the acceptance it holds was recorded, if it does
    rejection: Rejection | None = None  # the rejection it holds, for the stage autopilot


def acceptance_step(*, key: str, handoff_type: str, handoff: HandoffType, deal: Deal,
                    last: HandoffDecision | None, now: datetime,
                    crm_modified: datetime | None,
                    prm_modified: datetime | None) -> AcceptanceStep:
    """Compare the deal's decision with the last recorded one (see the module docstring)."""
    if handoff.acceptance is None:
        return AcceptanceStep((), _EMPTY, deal, None)
    current = deal.handoff_acceptance
    if (last is not None and last.handoff_type != handoff_type
            and last.decision.value == current):
        # The decision the deal holds is the one recorded for its previous handoff (the AE
        # accepted the partner handoff; now the deal is won and the CSM is to decide):
        # it says nothing about this one, so it goes back to pending, unrecorded.
        deal = deal_with(deal, **_RESET)
        return AcceptanceStep((), _RESET, deal, None)
    resubmitting = current == Acceptance.REJECTED and deal.handoff_resubmit is True
    records: list[HandoffDecision] = []
    latest = last if last is not None and last.handoff_type == handoff_type else None
    receiver = deal.get(ROLE_FIELDS[PersonRole(handoff.acceptance.receiver)])
    sender = deal.get(ROLE_FIELDS[PersonRole(handoff.acceptance.sender)])
    decided_by = deal.handoff_decided_by
    by, by_system = (decided_by, True) if decided_by else (_text(receiver), False)
    decided_at = min(crm_modified or now, now)
    if current in (Acceptance.ACCEPTED, Acceptance.REJECTED):
        kind = DecisionKind(current)
        reset_under_way = (resubmitting and latest is not None
                           and latest.decision is DecisionKind.RESUBMITTED)
        if (latest is None or latest.decision is not kind) and not reset_under_way:
            latest = HandoffDecision(
                key, handoff_type, kind, decided_at, by, by_system,
                deal.handoff_rejection_reason if kind is DecisionKind.REJECTED else None,
                deal.partner_account)
            records.append(latest)
    elif latest is not None and latest.decision in (DecisionKind.ACCEPTED,
                                                    DecisionKind.REJECTED):
        latest = HandoffDecision(key, handoff_type, DecisionKind.WITHDRAWN, decided_at, by,
                                 by_system, None, deal.partner_account)
        records.append(latest)
    sets = _EMPTY
    if resubmitting:
        sets = RESUBMIT_SETS
        if latest is None or latest.decision is not DecisionKind.RESUBMITTED:
            latest = HandoffDecision(key, handoff_type, DecisionKind.RESUBMITTED,
                                     min(prm_modified or now, now), _text(sender),
                                     False, None, deal.partner_account)
            records.append(latest)
    elif deal.handoff_resubmit is True:
        sets = _CLEAR_TICK
    if sets:
        deal = deal_with(deal, **sets)
    accepted_at = latest.at if (latest is not None and latest.decision is DecisionKind.ACCEPTED
                                and deal.handoff_acceptance == Acceptance.ACCEPTED) else None
    rejection = (Rejection(latest.at, any(r.decision is DecisionKind.REJECTED for r in records))
                 if latest is not None and latest.decision is DecisionKind.REJECTED
                 and deal.handoff_acceptance == Acceptance.REJECTED else None)
    return AcceptanceStep(tuple(records), sets, deal, accepted_at, rejection)


def write_sets(sync: Mapping[str, FieldSync], stored: Stored, role: Role,
               record: MappedRecord, sets: Mapping[str, Value], fields: dict[str, Value],
               base: BaseSnapshot) -> BaseSnapshot:
    """Add to ``fields`` (the writes to ``role``'s record) the values of ``sets`` that the
    side's field rules let the engine write and the record does not hold yet; returns the
    base as it stands once they are written (that side's values, and agreed)."""
    side_values: dict[str, Value] = {}
    for name, value in sets.items():
        rule = sync.get(name)
        writes = rule is not None and (rule.prm_writes if role is Role.PRM
                                       else rule.crm_writes)
        if rule is None or not writes or rule.policy == ConflictPolicy.READ_ONLY:
            continue
        desired = stored(role, name, value)
        side_values[name] = desired
        if name in fields or stored(role, name, record.values.get(name)) != desired:
            fields[name] = desired
    if not side_values:
        return base
    held = base.prm if role is Role.PRM else base.crm
    after = MappingProxyType({**held, **side_values})
    agreed = MappingProxyType({**base.agreed, **{n: sets[n] for n in side_values}})
    return (dataclasses.replace(base, prm=after, agreed=agreed) if role is Role.PRM
            else dataclasses.replace(base, crm=after, agreed=agreed))


def _text(value: Value) -> str | None:
    return value if isinstance(value, str) and value else None


__all__ = ["RESUBMIT_SETS", "UNREVIEWED_FIELDS", "AcceptanceStep", "acceptance_step",
           "write_sets"]
