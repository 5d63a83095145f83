"""Stage autopilot: where a deal stands in its handoff, and how long it has been there.

A deal's position (handoff_type, handoff_stage, stage_entered_at) is data on its records,
which people edit too. ``place`` keeps it moving without fighting them. It moves only a
deal that has a CRM record and needs its handoff (``drives``), and only forward (but for a
rejection, below):

- set: a deal with no type or no stage of its type gets them (the first stage);
- taken over: a deal whose type another type ``takes_over`` (a won partner deal -> the
  customer-success handoff) moves to that type's first stage once that type's
  applies_when holds and its handoff is required there;
- advanced: a stage with ``auto_advance`` moves on once its gate and every earlier gate
  pass, through as many stages as pass (the last stage never advances).

A position a person set is respected: one that differs from what the pair agreed last
cycle (a person moved it), or that the previous verdict saw a person set and that has not
moved since (``Verdict.placed_by_person``), stays where it is. Its stage still advances
once its gate passes afresh (the previous verdict saw it blocked there): that is news a
person could not have acted on. A person who moved only the stage does not stop a
takeover (winning the deal is news too); one who set the type does.

Rejected (engine.acceptance): while the receiving owner's rejection stands, the deal is
held at the acceptance section's ``reopens`` stage, entered at the rejection's recorded
time (the only move back), and never advanced, however its gates stand; the re-submission
releases it, and its stage then advances as its gates pass. A new rejection moves even a
stage a person set (it is news); a stage a person sets afterwards is respected. A deal
taken over this cycle (won -> customer success) is not held by the previous rejection.

The stage's entry time: for a stage the deal is already in, the record's own
stage_entered_at (unless a person just moved the stage and left the old stage's time),
else the time the previous verdict recorded for the same stage; for a stage the engine
puts the deal in, and as the last resort, the stage's ``entered_at`` history field
(approved_at, won_at, a HubSpot hs_date_entered_<stage> property...) when it holds a time
not after ``now`` and not before the entry of the stage left, else ``now``.

``stage_window``: a stage with days [a, b] may take b - a + 1 calendar days from its
entry, so a stage entered on its first day is due by its last: on_track, at_risk once
75% of the window is used, overdue after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from handoff_sync.engine.types import Rejection, StageMove, Verdict
from handoff_sync.mapping.policy.conditions import evaluate
from handoff_sync.mapping.policy.file_model import HandoffPolicy, HandoffType, Stage
from handoff_sync.mapping.policy.gates import (
    evaluate_stage,
    handoff_type_of,
    reopened_stage,
    stage_of,
)
from handoff_sync.mapping.policy.templates import format_value
from handoff_sync.model import Deal, GateStatus, Value, deal_with, quick_init

AT_RISK_SHARE = 0.75  # of a stage's window, as SLA clocks' default at_risk_pct


class StageWindow(StrEnum):
    """The current stage against its day window."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OVERDUE = "overdue"


@quick_init
@dataclass(frozen=True, slots=True)
class Placement:
    """Where the deal stands after this cycle, and what the engine did to put it there."""

    handoff_type: str | None
    stage: str | None
    entered_at: datetime | None
    moves: tuple[str, ...] = ()  # one line per move, for plan and the audit
    kind: str | None = None  # "handed_over", "reopened", "advanced" or "set" when it moved
    # A person set this position: "type" (the handoff type, so no other type takes the
    # deal over) or "stage" (only the stage); the engine leaves it where it is.
    by_person: str | None = None
    writes: bool = False  # the engine keeps this position on the records (``drives``)

    def move(self, deal_key: str, deal: Deal) -> StageMove | None:
        """The move for the plan, when the engine moved the deal."""
        if (self.kind is None or self.handoff_type is None or self.stage is None
                or self.entered_at is None):
            return None
        return StageMove(deal_key, deal.handoff_type, deal.handoff_stage, self.handoff_type,
                         self.stage, self.entered_at, self.kind, self.moves)

    def verdict_fields(self, required: bool,
                       window: tuple[datetime, StageWindow] | None) -> dict[str, Any]:
        """What the verdict remembers of the position (Verdict's stage fields)."""
        return {"stage_entered_at": self.entered_at if required else None,
                "stage_due_at": window[0] if window else None,
                "stage_window": window[1].value if window else None,
                "placed_by_person": self.by_person}

    def applied(self, deal: Deal) -> Deal:
        """The deal as it stands in this position."""
        if self.handoff_type is None or (
                deal.stage_entered_at is self.entered_at  # not ==: a zone can differ
                and deal.handoff_type == self.handoff_type and deal.handoff_stage == self.stage):
            return deal  # it stands there already: no copy of its ~50 fields
        return deal_with(deal, handoff_type=self.handoff_type, handoff_stage=self.stage,
                         stage_entered_at=self.entered_at)


# Whether a stage's gate fails for the deal (cached by the caller per deal).
GateFails = Callable[[str, Stage], bool]


def place(policy: HandoffPolicy, deal: Deal, *, drives: bool,
          before: Mapping[str, Value] | None, previous: Verdict | None, now: datetime,
          gate_fails: GateFails | None = None,
          rejection: Rejection | None = None) -> Placement:
    """The deal's position after the autopilot's moves (see the module docstring).

    ``before``: the values the pair agreed last cycle (its base), None when unknown;
    ``previous``: the deal's last verdict; ``gate_fails``: default, evaluate_stage;
    ``rejection``: the rejection of its handoff the deal holds (engine.acceptance)."""
    gate_fails = gate_fails or _gate_cache(deal)
    type_id = handoff_type_of(policy, deal)
    if type_id is None:
        return Placement(None, None, None)
    handoff = policy.handoff_types[type_id]
    stage = stage_of(handoff, deal)
    by_person = _by_person(deal, before, previous)
    moves: list[str] = []
    if drives and by_person != "type":
        for other_id, other in policy.handoff_types.items():
            if (type_id in other.takes_over and other.applies_when is not None
                    and evaluate(other.applies_when, deal.get) and _required(other, deal)):
                moves.append(f"handoff {type_id} -> {other_id} (its applies_when holds)")
                type_id, handoff, stage = other_id, other, other.stages[0]
                break
    required = _required(handoff, deal)
    # A rejection of this type's handoff (not of the one just taken over) holds the deal.
    rejected = drives and required and rejection is not None and not moves
    if rejected and rejection is not None and (not by_person or rejection.new):
        stage = reopened_stage(handoff)
        own = deal.stage_entered_at if (deal.handoff_type in (None, type_id)
                                        and deal.handoff_stage == stage.id) else None
        entered = own if own is not None and own >= rejection.at else rejection.at
        if (deal.handoff_type, deal.handoff_stage, own) != (type_id, stage.id, entered):
            moves.append(f"reopened {deal.handoff_stage or '(none)'} -> {stage.id} "
                         "(handoff rejected)")
        by_person = None
    else:
        if drives and required and not moves and (
                (deal.handoff_type, deal.handoff_stage) != (type_id, stage.id)):
            moves.append(f"stage set to {stage.id}")
        own_stage = (deal.handoff_type in (None, type_id) and deal.handoff_stage == stage.id)
        entered = _known_entry(deal, own_stage, stage, type_id, before, previous, now)
    if drives and required and not rejected:  # a rejected deal waits for re-submission
        fresh = (previous is not None and previous.status is GateStatus.BLOCKED
                 and (previous.handoff_type, previous.stage) == (type_id, stage.id))
        index = handoff.stages.index(stage)
        while (stage.auto_advance and index + 1 < len(handoff.stages)
               and (not by_person or fresh)
               and not any(gate_fails(type_id, s) for s in handoff.stages[:index + 1])):
            index += 1
            moves.append(f"advanced {stage.id} -> {handoff.stages[index].id} (gate passed)")
            stage = handoff.stages[index]
            entered = _history(stage, deal, now, entered) or now
            by_person = None
    if not (drives and required):
        moves.clear()  # nothing is written: the position shown is the deal's own
    kind = None if not moves else "handed_over" if moves[0].startswith("handoff ") else \
        "reopened" if moves[0].startswith("reopened ") else \
        "advanced" if moves[-1].startswith("advanced ") else "set"
    return Placement(type_id, stage.id, entered, tuple(moves), kind=kind,
                     by_person=None if moves else by_person, writes=drives and required)


def stage_window(stage: Stage, entered_at: datetime,
                 now: datetime) -> tuple[datetime, StageWindow]:
    """When the stage's day window ends, and where the deal stands against it at ``now``."""
    first, last = stage.days
    due = entered_at + timedelta(days=last - first + 1)
    return due, window_at(entered_at, due, now)


def window_at(entered_at: datetime, due_at: datetime, now: datetime) -> StageWindow:
    """Where a stage entered at ``entered_at`` and due at ``due_at`` stands at ``now``."""
    length = due_at - entered_at
    used = (now - entered_at) / length if length > timedelta(0) else 1.0
    if used >= 1:
        return StageWindow.OVERDUE
    return StageWindow.AT_RISK if used >= AT_RISK_SHARE else StageWindow.ON_TRACK


WINDOW_WORDS: Mapping[StageWindow, str] = MappingProxyType({
    StageWindow.ON_TRACK: "on track", StageWindow.AT_RISK: "at risk",
    StageWindow.OVERDUE: "overdue"})


def window_line(values: Mapping[str, Value], window: tuple[datetime, StageWindow]) -> str:
    """The brief's line on the current stage's day window."""
    return (f"Stage: {values['stage_label']}, entered {format_value(values['stage_entered_at'])}"
            f", window ends {format_value(window[0])}: {WINDOW_WORDS[window[1]]}.")


def windows_moved(verdicts: Iterable[Verdict], now: datetime) -> set[str]:
    """Deals whose stage window time alone has moved by ``now`` (on track -> at risk ->
    overdue) since their verdict: an incremental cycle plans them too."""
    return {verdict.deal for verdict in verdicts
            if verdict.stage_entered_at is not None and verdict.stage_due_at is not None
            and verdict.stage_window != StageWindow.OVERDUE.value
            and window_at(verdict.stage_entered_at, verdict.stage_due_at, now).value
            != verdict.stage_window}


def decided_values(deal: Deal, placement: Placement) -> dict[str, Value]:
    """The position fields the autopilot keeps on the records that the deal does not hold
    yet (written through the merge as decided values)."""
    if not placement.writes:
        return {}
    wanted: dict[str, Value] = {"handoff_type": placement.handoff_type,
                                "handoff_stage": placement.stage,
                                "stage_entered_at": placement.entered_at}
    return {name: value for name, value in wanted.items() if deal.get(name) != value}


def _gate_cache(deal: Deal) -> GateFails:
    """Whether a stage's gate fails for the deal, each stage evaluated once."""
    cache: dict[tuple[str, str], bool] = {}

    def fails(type_id: str, stage: Stage) -> bool:
        known = cache.get((type_id, stage.id))
        if known is None:
            known = cache[(type_id, stage.id)] = bool(
                evaluate_stage(type_id, stage, deal, required=True).missing)
        return known

    return fails


def _required(handoff: HandoffType, deal: Deal) -> bool:
    return handoff.required_when is None or evaluate(handoff.required_when, deal.get)


def _by_person(deal: Deal, before: Mapping[str, Value] | None,
               previous: Verdict | None) -> str | None:
    """Whether a person set the deal's position ("type", or only its "stage"): moved it
    since the pair's last agreement, or the previous verdict recorded a position a person
    set and it has not moved since."""
    if deal.handoff_stage is None:
        return None  # blank: nobody holds a position the engine could fight
    # What the deal held last: the pair's base, else (not linked, or newly) the verdict.
    if before is not None:
        last = (before.get("handoff_type"), before.get("handoff_stage"))
    elif previous is not None:
        last = (previous.handoff_type, previous.stage)
    else:
        return None
    if deal.handoff_type is not None and last[0] != deal.handoff_type:
        return "type"
    if last[1] != deal.handoff_stage:
        return "stage"
    if previous is not None and (previous.handoff_type, previous.stage) == (
            deal.handoff_type or previous.handoff_type, deal.handoff_stage):
        return previous.placed_by_person
    return None


def _known_entry(deal: Deal, own_stage: bool, stage: Stage, type_id: str,
                 before: Mapping[str, Value] | None, previous: Verdict | None,
                 now: datetime) -> datetime:
    """The entry time of ``stage`` as far as it is known: the record's own (when the deal
    holds this stage, ``own_stage``), the previous verdict's, the history field's, or
    ``now`` (then remembered by the verdict, so it does not move from cycle to cycle)."""
    own = deal.stage_entered_at if own_stage else None
    # A person moved the stage and left the old stage's entry time: it is not this one's.
    stale = (before is not None and before.get("handoff_stage") != deal.handoff_stage
             and before.get("stage_entered_at") == own)
    if own is not None and not stale:
        return own
    if (previous is not None and previous.stage_entered_at is not None
            and (previous.handoff_type, previous.stage) == (type_id, stage.id)):
        return previous.stage_entered_at
    return _history(stage, deal, now, None) or now


def _history(stage: Stage, deal: Deal, now: datetime,
             floor: datetime | None) -> datetime | None:
    """The stage's entry time from the system's history field, when it holds a usable one:
    not in the future, not before the stage the deal leaves was entered."""
    if stage.entered_at is None:
        return None
    value = deal.get(stage.entered_at)
    if not isinstance(value, datetime) or value > now or (floor is not None
                                                          and value < floor):
        return None
    return value


__all__ = ["WINDOW_WORDS", "Placement", "StageWindow", "decided_values", "place",
           "stage_window", "window_at", "window_line", "windows_moved"]
