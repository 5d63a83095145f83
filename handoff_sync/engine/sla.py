"""SLA clocks: start, track and stop each clock of a deal's handoff type, one cycle at a time.

``advance_clocks`` is a pure function of the deal, the policy, the stored clock states
and ``now``; it returns the new states, the ones that changed, and the transitions to
record. Calling it again with its own output as ``previous`` and the same inputs changes
nothing and emits nothing, so a redone cycle is harmless.

Events (when they hold, and at which instant; every instant is aware UTC, never after
``now``). A start event is dated by its trigger's own time when the deal's data has it, so
a deal approved a week before handoff-sync first saw it is a week into its clocks:
- ``handoff_required``: the deal needs the handoff (``required``); at
  ``deal.approved_at`` (the registration's approval) when set, else ``now``.
- ``stage_entered`` (stage): ``deal.handoff_stage`` is that stage; at
  ``deal.stage_entered_at`` when set, else ``now``.
- ``gate_passed`` (stage): ``gates_passed[stage] is True``; at ``now``.
- ``field_filled`` (field): ``deal.get(field)`` is not None; at the value itself when it is
  a datetime (when the intro call was held, not when someone typed it), else ``now``.
- ``closed_won``: ``deal.is_won is True``; at ``deal.won_at`` when set, else ``now``.
- ``handoff_accepted``: ``deal.handoff_acceptance`` is accepted; at ``accepted_at`` (when
  the acceptance was recorded: engine.acceptance) when given, else ``now``.
A clock may name several stop events: the first to hold stops it, at the earliest of their
instants.
A time after ``now`` (clock skew between systems, a typo) counts as ``now``. There is no
owner-change event: the deal holds no time of its owner's last change.

A clock dated ``now`` because the data lacked its trigger's time started when handoff-sync
first saw the trigger hold, which may be long after it happened. ``first_seen_notes`` says
so, for the brief, from the deal and its clocks alone (no stored flag): a started clock
whose start event's time the deal lacks, or holds as earlier than the clock's start (the
clock started before the time was in the data, e.g. before the field was mapped).

A clock's life:
- It starts the first time its start event holds while the deal needs the handoff:
  ``started_at`` is the event's instant, ``due_at`` follows from the duration and the
  handoff type's calendar (engine.calendar). Emits STARTED.
- While it runs, its status follows the share of the duration used at ``now``: on_track,
  at_risk from ``at_risk_pct``, breached from 100%. AT_RISK and BREACHED are emitted on the
  transition only, dated when the threshold was crossed (a clock that goes straight from
  on_track to breached emits BREACHED only). BREACHED carries the email of the clock's
  ``escalate_to`` role, when it names one.
- It stops when its stop event holds: ``stopped_at`` is the event's instant, never before
  ``started_at``. Stopped by ``due_at`` (inclusive) it is MET and emits MET; stopped later
  it is BREACHED and stays so for reporting, emitting BREACHED (with escalation) only if
  no earlier cycle had. The stop is checked in the cycle that starts the clock, so a
  start and a stop that both hold on the first evaluation give STARTED then MET.
- If the deal stops needing the handoff while the clock runs (and the stop event does not
  hold), the clock stops at ``now`` with its status unchanged and emits CANCELLED.
- A stopped clock never restarts or changes again, and a stored clock the policy no
  longer defines is carried over untouched (its history stays reportable).
Running clocks take ``due_at`` from the current policy each cycle, so an edited duration
applies to clocks already running. Events are sorted by clock id, instant, then life
order (started, at_risk, breached, met, cancelled).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import MappingProxyType

from handoff_sync.engine.calendar import due_at, elapsed_fraction, instant_at_fraction
from handoff_sync.engine.types import ClockState, SlaEvent, SlaEventKind
from handoff_sync.mapping.policy.file_model import BusinessCalendar, Event, HandoffType, SlaClock
from handoff_sync.mapping.policy.templates import format_value
from handoff_sync.model import Acceptance, Deal, SlaStatus, quick_init

_LIFE_ORDER = {kind: index for index, kind in enumerate(SlaEventKind)}


@quick_init
@dataclass(frozen=True, slots=True)
class ClockUpdate:
    """The clocks of one deal and handoff type after a cycle."""

    clocks: Mapping[str, ClockState]  # clock id -> current state (only clocks that started)
    changed: tuple[ClockState, ...]  # states that differ from `previous`, by clock id
    events: tuple[SlaEvent, ...]  # transitions this cycle, by (clock id, at, life order)


@quick_init
@dataclass(frozen=True, slots=True)
class _Context:
    deal: Deal
    deal_key: str
    handoff_type: str
    calendar: BusinessCalendar | None
    required: bool
    gates_passed: Mapping[str, bool]
    now: datetime
    escalation_email: Callable[[str], str | None]
    accepted_at: datetime | None = None

    def stop_time(self, clock: SlaClock) -> datetime | None:
        """The earliest instant of the clock's stop events that hold, or None."""
        times = [at for at in map(self.event_time, clock.stops) if at is not None]
        return min(times) if times else None

    def event_time(self, event: Event) -> datetime | None:
        """When the event happened, or None while it does not hold."""
        at: datetime | None = None
        if event.on == "handoff_required":
            at = (self.deal.approved_at or self.now) if self.required else None
        elif event.on == "stage_entered":
            if self.deal.handoff_stage == event.stage:
                at = self.deal.stage_entered_at or self.now
        elif event.on == "gate_passed":
            at = self.now if event.stage and self.gates_passed.get(event.stage) is True \
                else None
        elif event.on == "field_filled":
            value = self.deal.get(event.field) if event.field else None
            if value is not None:
                at = value if isinstance(value, datetime) else self.now
        elif event.on == "closed_won":
            at = (self.deal.won_at or self.now) if self.deal.is_won is True else None
        elif event.on == "handoff_accepted":
            accepted = self.deal.handoff_acceptance == Acceptance.ACCEPTED
            at = (self.accepted_at or self.now) if accepted else None
        # An instant after `now` (clock skew between systems, a typo) counts as now: an
        # event cannot be dated in the future, and `now` is the latest time we know of.
        return None if at is None else min(at, self.now).astimezone(UTC)

    def event(self, clock: SlaClock, kind: SlaEventKind, at: datetime) -> SlaEvent:
        escalate_to = None
        if kind is SlaEventKind.BREACHED and clock.escalate_to is not None:
            escalate_to = self.escalation_email(clock.escalate_to)
        return SlaEvent(self.deal_key, self.handoff_type, clock.id, kind, at, escalate_to)


def _running_status(ctx: _Context, clock: SlaClock, started_at: datetime) -> SlaStatus:
    return running_status(clock, started_at, ctx.now, ctx.calendar)


def running_status(clock: SlaClock, started_at: datetime, now: datetime,
                   calendar: BusinessCalendar | None) -> SlaStatus:
    """A running clock's status at ``now``, from the share of its business time used."""
    used = elapsed_fraction(started_at, now, clock.duration, calendar)
    if used >= 1.0:
        return SlaStatus.BREACHED
    if used >= clock.at_risk_pct / 100:
        return SlaStatus.AT_RISK
    return SlaStatus.ON_TRACK


def _stop(ctx: _Context, clock: SlaClock, state: ClockState, stop_at: datetime,
          events: list[SlaEvent]) -> ClockState:
    stopped_at = max(stop_at, state.started_at)
    if stopped_at <= state.due_at:
        events.append(ctx.event(clock, SlaEventKind.MET, stopped_at))
        return replace(state, status=SlaStatus.MET, stopped_at=stopped_at)
    if state.status is not SlaStatus.BREACHED:
        events.append(ctx.event(clock, SlaEventKind.BREACHED, state.due_at))
    return replace(state, status=SlaStatus.BREACHED, stopped_at=stopped_at)


def _track(ctx: _Context, clock: SlaClock, state: ClockState,
           events: list[SlaEvent]) -> ClockState:
    status = _running_status(ctx, clock, state.started_at)
    if status is SlaStatus.BREACHED and state.status is not SlaStatus.BREACHED:
        events.append(ctx.event(clock, SlaEventKind.BREACHED, state.due_at))
    elif status is SlaStatus.AT_RISK and state.status is SlaStatus.ON_TRACK:
        crossed = instant_at_fraction(state.started_at, clock.duration, ctx.calendar,
                                      clock.at_risk_pct / 100)
        # Rounding to microseconds must not date the crossing after the cycle saw it.
        events.append(ctx.event(clock, SlaEventKind.AT_RISK,
                                min(max(crossed, state.started_at), ctx.now)))
    return replace(state, status=status)


def _advance(ctx: _Context, clock: SlaClock, before: ClockState | None,
             events: list[SlaEvent]) -> ClockState | None:
    if before is not None and before.stopped_at is not None:
        return before
    if before is None:
        started_at = ctx.event_time(clock.start)
        if started_at is None or not ctx.required:
            return None
        events.append(ctx.event(clock, SlaEventKind.STARTED, started_at))
        # Conceptually on_track at the start; _track below moves it on if time has passed.
        state = ClockState(ctx.deal_key, ctx.handoff_type, clock.id, started_at,
                           due_at(started_at, clock.duration, ctx.calendar),
                           SlaStatus.ON_TRACK)
    else:
        state = replace(before, due_at=due_at(before.started_at, clock.duration,
                                              ctx.calendar))
    stop_at = ctx.stop_time(clock)
    if stop_at is not None:
        return _stop(ctx, clock, state, stop_at, events)
    if not ctx.required:
        events.append(ctx.event(clock, SlaEventKind.CANCELLED, ctx.now))
        return replace(state, stopped_at=ctx.now)
    return _track(ctx, clock, state, events)


def advance_clocks(*, deal: Deal, deal_key: str, handoff_type: str, handoff: HandoffType,
                   calendars: Mapping[str, BusinessCalendar], required: bool,
                   gates_passed: Mapping[str, bool], previous: Mapping[str, ClockState],
                   now: datetime,
                   escalation_email: Callable[[str], str | None],
                   accepted_at: datetime | None = None) -> ClockUpdate:
    """Move every SLA clock of one deal's handoff type to `now` (see the module docstring).

    `previous` holds this deal's stored clocks of this handoff type by clock id;
    `escalation_email` turns a role name (e.g. "manager") into an email, or None;
    `accepted_at`: when the handoff's acceptance was recorded, if it was.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be a timezone-aware datetime, got {now!r}")
    now = now.astimezone(UTC)
    calendar = calendars.get(handoff.calendar) if handoff.calendar else None
    ctx = _Context(deal, deal_key, handoff_type, calendar, required, gates_passed, now,
                   escalation_email, accepted_at)
    current: dict[str, ClockState] = dict(previous)
    events: list[SlaEvent] = []
    for clock in handoff.slas:
        state = _advance(ctx, clock, previous.get(clock.id), events)
        if state is not None:
            current[clock.id] = state
    ordered = dict(sorted(current.items()))
    changed = tuple(state for clock_id, state in ordered.items()
                    if previous.get(clock_id) != state)
    events.sort(key=lambda event: (event.clock, event.at, _LIFE_ORDER[event.kind]))
    return ClockUpdate(MappingProxyType(ordered), changed, tuple(events))


# Start events whose time the deal's data can hold: the field, and its name in the brief.
_TRIGGER_TIMES: Mapping[str, tuple[str, str]] = MappingProxyType({
    "handoff_required": ("approved_at", "approval time"),
    "closed_won": ("won_at", "won time"),
    "stage_entered": ("stage_entered_at", "stage entry time"),
})


def first_seen_notes(deal: Deal, handoff: HandoffType,
                     clocks: Mapping[str, ClockState]) -> tuple[str, ...]:
    """Lines for the brief about the started clocks of ``handoff`` that started when
    handoff-sync first saw their trigger, not at the trigger's own time: the deal lacks the
    time ("no approval time in the data"), or holds one earlier than the clock's start.
    Empty when every started clock started at its trigger's time."""
    lacking: list[str] = []
    earlier: list[str] = []
    for clock in handoff.slas:
        state = clocks.get(clock.id)
        trigger = _TRIGGER_TIMES.get(clock.start.on)
        if state is None or trigger is None:
            continue
        if clock.start.on == "stage_entered" and deal.handoff_stage != clock.start.stage:
            continue  # the deal's entry time is of another stage
        if clock.start.on == "closed_won" and deal.is_won is not True:
            continue  # won_at means "won at" only while the deal is won
        name, words = trigger
        at = deal.get(name)
        if not isinstance(at, datetime):
            lacking.append(words)
        elif at < state.started_at:
            earlier.append(f"{words} ({format_value(at)})")
    notes = []
    if lacking:
        notes.append("SLA clocks started when handoff-sync first saw this deal (no "
                     f"{_join(lacking, 'or')} in the data).")
    if earlier:
        notes.append("SLA clocks started when handoff-sync first saw this deal, after the "
                     f"{_join(earlier, 'and')} in the data.")
    return tuple(notes)


def _join(words: list[str], conjunction: str) -> str:
    """"a", "a or b", "a, b or c"; each distinct phrase once, first seen first."""
    unique = list(dict.fromkeys(words))
    if len(unique) == 1:
        return unique[0]
    return f"{', '.join(unique[:-1])} {conjunction} {unique[-1]}"


def headline_clock(clocks: Mapping[str, ClockState]) -> ClockState | None:
    """The clock a rep should look at: the running one due soonest, else the latest stopped.

    Ties go to the smaller clock id, so the choice is stable.
    """
    running = [state for state in clocks.values() if state.stopped_at is None]
    if running:
        return min(running, key=lambda state: (state.due_at, state.clock))
    stopped = [state for state in clocks.values() if state.stopped_at is not None]
    if not stopped:
        return None
    latest = max(state.stopped_at for state in stopped if state.stopped_at is not None)
    return min((state for state in stopped if state.stopped_at == latest),
               key=lambda state: state.clock)


__all__ = ["ClockUpdate", "advance_clocks", "first_seen_notes", "headline_clock"]
