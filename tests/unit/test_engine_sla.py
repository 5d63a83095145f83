"""SLA clocks of the shipped handoff policy, cycle by cycle, as a rep and a manager see them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handoff_sync.engine.calendar import LATEST
from handoff_sync.engine.sla import (
    ClockUpdate,
    advance_clocks,
    first_seen_notes,
    headline_clock,
)
from handoff_sync.engine.types import ClockState, SlaEventKind
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.policy.file_model import HandoffType, SlaClock
from handoff_sync.model import Deal, SlaStatus

ROOT = Path(__file__).resolve().parents[2]
POLICY = load_mappings(ROOT / "mappings").policy
PARTNER = POLICY.handoff_types["partner_to_direct"]
# The 48-hour CS document clock alone (the pack's kickoff clock has tests of its own).
WON = POLICY.handoff_types["closed_won_to_cs"].model_copy(update={"slas": [
    c for c in POLICY.handoff_types["closed_won_to_cs"].slas if c.id == "cs_handoff"]})
NEW_YORK = ZoneInfo("America/New_York")
MANAGER = "boss@example.com"

S = SlaStatus
K = SlaEventKind


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


# The partner deal crosses the handoff threshold on Wednesday 2026-02-04 at 10:00 New York
# time: first touch (5 business days) is due Wednesday 2026-02-11 10:00, at risk from
# Monday 2026-02-09 16:00 (30 of 40 working hours); the handoff (30 days) on 2026-03-06.
START = ny(2026, 2, 4, 10)
FIRST_TOUCH_DUE = ny(2026, 2, 11, 10)
AT_RISK_LINE = ny(2026, 2, 9, 16)
HANDOFF_DUE = START + timedelta(days=30)

# Closed won on Friday 2026-01-09 16:00: the CS handoff (48 clock hours) is due Sunday
# 16:00 whatever the business calendar says, at risk from Sunday 04:00 (36 hours).
WON_AT = ny(2026, 1, 9, 16)
CS_DUE = ny(2026, 1, 11, 16)


def cycle(now: datetime, *, deal: Deal | None = None,
          previous: Mapping[str, ClockState] | None = None, required: bool = True,
          gates: Mapping[str, bool] | None = None, handoff: HandoffType = PARTNER,
          handoff_type: str = "partner_to_direct",
          escalation: Any = {"manager": MANAGER}.get) -> ClockUpdate:
    return advance_clocks(deal=deal or Deal(prm_id="1"), deal_key="prm:1",
                          handoff_type=handoff_type, handoff=handoff,
                          calendars=POLICY.calendars, required=required,
                          gates_passed=gates or {}, previous=previous or {}, now=now,
                          escalation_email=escalation)


def clock(name: str, status: SlaStatus = S.ON_TRACK, *, started: datetime = START,
          due: datetime | None = None, stopped: datetime | None = None,
          handoff_type: str = "partner_to_direct") -> ClockState:
    default_due = {"first_touch": FIRST_TOUCH_DUE, "handoff_complete": HANDOFF_DUE}
    return ClockState("prm:1", handoff_type, name, started, due or default_due[name],
                      status, stopped)


def running(first_touch: SlaStatus = S.ON_TRACK) -> dict[str, ClockState]:
    return {"first_touch": clock("first_touch", first_touch),
            "handoff_complete": clock("handoff_complete")}


def events(update: ClockUpdate) -> list[tuple[str, SlaEventKind, datetime, str | None]]:
    return [(e.clock, e.kind, e.at, e.escalate_to) for e in update.events]


def test_a_deal_that_needs_no_handoff_runs_no_clock() -> None:
    update = cycle(START, required=False)
    assert (dict(update.clocks), update.changed, update.events) == ({}, (), ())


def test_both_partner_clocks_start_when_the_handoff_becomes_required() -> None:
    update = cycle(START)
    assert dict(update.clocks) == running()
    assert [state.clock for state in update.changed] == ["first_touch", "handoff_complete"]
    assert events(update) == [("first_touch", K.STARTED, START, None),
                              ("handoff_complete", K.STARTED, START, None)]


def test_clocks_start_at_the_approval_a_week_before_first_sight_and_breach_at_once() -> None:
    # Approved Wednesday 10:00; handoff-sync first sees the deal a week later.
    now = ny(2026, 2, 11, 12)
    update = cycle(now, deal=Deal(prm_id="1", approved_at=START))
    assert dict(update.clocks) == {"first_touch": clock("first_touch", S.BREACHED),
                                   "handoff_complete": clock("handoff_complete")}
    assert events(update) == [("first_touch", K.STARTED, START, None),
                              ("first_touch", K.BREACHED, FIRST_TOUCH_DUE, MANAGER),
                              ("handoff_complete", K.STARTED, START, None)]


def test_an_approval_time_in_the_future_counts_as_now() -> None:
    update = cycle(START, deal=Deal(prm_id="1", approved_at=START + timedelta(days=2)))
    assert dict(update.clocks) == running()
    assert [e.at for e in update.events] == [START, START]


def test_without_an_approval_time_clocks_start_when_first_seen() -> None:
    update = cycle(START, deal=Deal(prm_id="1", approved_at=None))
    assert [(e.kind, e.at) for e in update.events] == [(K.STARTED, START)] * 2


@pytest.mark.parametrize(("before", "now", "after", "expected"), [
    pytest.param(S.ON_TRACK, ny(2026, 2, 6, 12), S.ON_TRACK, [], id="friday: on track"),
    pytest.param(S.ON_TRACK, ny(2026, 2, 9, 15, 59), S.ON_TRACK, [],
                 id="a minute before 75%"),
    pytest.param(S.ON_TRACK, AT_RISK_LINE, S.AT_RISK,
                 [("first_touch", K.AT_RISK, AT_RISK_LINE, None)], id="at 75%"),
    pytest.param(S.ON_TRACK, ny(2026, 2, 10, 9), S.AT_RISK,
                 [("first_touch", K.AT_RISK, AT_RISK_LINE, None)],
                 id="noticed later, dated when 75% was used"),
    pytest.param(S.AT_RISK, ny(2026, 2, 10, 9), S.AT_RISK, [], id="at risk stays quiet"),
    pytest.param(S.AT_RISK, FIRST_TOUCH_DUE, S.BREACHED,
                 [("first_touch", K.BREACHED, FIRST_TOUCH_DUE, MANAGER)],
                 id="due: breached, escalated"),
    pytest.param(S.ON_TRACK, ny(2026, 2, 12, 9), S.BREACHED,
                 [("first_touch", K.BREACHED, FIRST_TOUCH_DUE, MANAGER)],
                 id="straight from on track to breached"),
    pytest.param(S.BREACHED, ny(2026, 2, 13, 9), S.BREACHED, [], id="breached stays quiet"),
])
def test_first_touch_follows_business_time_used(before: SlaStatus, now: datetime,
                                                after: SlaStatus, expected: list) -> None:
    update = cycle(now, previous=running(before))
    assert update.clocks["first_touch"] == clock("first_touch", after)
    assert update.clocks["handoff_complete"] == clock("handoff_complete")
    assert events(update) == expected
    assert [state.clock for state in update.changed] == \
        (["first_touch"] if before is not after else [])


@pytest.mark.parametrize(("before", "call", "now", "status", "stopped", "expected"), [
    pytest.param(S.AT_RISK, ny(2026, 2, 10, 11), ny(2026, 2, 10, 15), S.MET,
                 ny(2026, 2, 10, 11), [(K.MET, ny(2026, 2, 10, 11), None)],
                 id="met, stopped when the call was held"),
    pytest.param(S.AT_RISK, FIRST_TOUCH_DUE, ny(2026, 2, 11, 12), S.MET, FIRST_TOUCH_DUE,
                 [(K.MET, FIRST_TOUCH_DUE, None)], id="a call at the deadline is in time"),
    pytest.param(S.BREACHED, ny(2026, 2, 12, 10), ny(2026, 2, 12, 12), S.BREACHED,
                 ny(2026, 2, 12, 10), [], id="late: stays breached, no second escalation"),
    pytest.param(S.ON_TRACK, ny(2026, 2, 12, 10), ny(2026, 2, 12, 12), S.BREACHED,
                 ny(2026, 2, 12, 10), [(K.BREACHED, FIRST_TOUCH_DUE, MANAGER)],
                 id="late, first seen after the deadline: breached once"),
    pytest.param(S.BREACHED, ny(2026, 2, 10, 11), ny(2026, 2, 13, 9), S.MET,
                 ny(2026, 2, 10, 11), [(K.MET, ny(2026, 2, 10, 11), None)],
                 id="a call held in time but recorded late is met"),
    pytest.param(S.ON_TRACK, ny(2026, 2, 6, 12), ny(2026, 2, 5, 12), S.MET,
                 ny(2026, 2, 5, 12), [(K.MET, ny(2026, 2, 5, 12), None)],
                 id="a call dated in the future counts as now"),
])
def test_first_touch_stops_when_the_intro_call_is_recorded(
        before: SlaStatus, call: datetime, now: datetime, status: SlaStatus,
        stopped: datetime, expected: list) -> None:
    update = cycle(now, deal=Deal(prm_id="1", intro_call_at=call), previous=running(before))
    assert update.clocks["first_touch"] == clock("first_touch", status, stopped=stopped)
    assert update.clocks["handoff_complete"].stopped_at is None
    assert events(update) == [("first_touch", kind, at, to) for kind, at, to in expected]


def test_a_stopped_clock_never_changes_again() -> None:
    late = clock("first_touch", S.BREACHED, stopped=ny(2026, 2, 12, 10))
    previous = {**running(), "first_touch": late}
    # The rep back-dates the call, the deal drops out and comes back: the record stands.
    deal = Deal(prm_id="1", intro_call_at=ny(2026, 2, 5, 10))
    for required in (True, False, True):
        update = cycle(ny(2026, 2, 20), deal=deal, previous=previous, required=required)
        assert update.clocks["first_touch"] == late
        assert "first_touch" not in [e.clock for e in update.events]
        previous = dict(update.clocks)


def test_a_call_before_the_clock_started_starts_and_meets_it_at_once() -> None:
    update = cycle(START, deal=Deal(prm_id="1", intro_call_at=ny(2026, 2, 2, 11)))
    assert update.clocks["first_touch"] == clock("first_touch", S.MET, stopped=START)
    assert events(update) == [("first_touch", K.STARTED, START, None),
                              ("first_touch", K.MET, START, None),
                              ("handoff_complete", K.STARTED, START, None)]


def test_clocks_are_cancelled_when_the_deal_no_longer_needs_the_handoff() -> None:
    now = ny(2026, 2, 10, 9)
    update = cycle(now, previous=running(S.AT_RISK), required=False)
    assert update.clocks == {"first_touch": clock("first_touch", S.AT_RISK, stopped=now),
                             "handoff_complete": clock("handoff_complete", stopped=now)}
    assert events(update) == [("first_touch", K.CANCELLED, now, None),
                              ("handoff_complete", K.CANCELLED, now, None)]
    again = cycle(ny(2026, 2, 11), previous=update.clocks, required=True)
    assert (dict(again.clocks), again.changed, again.events) == (dict(update.clocks), (), ())


def test_a_stop_seen_in_the_same_cycle_as_the_cancellation_counts_as_met() -> None:
    call = ny(2026, 2, 9, 11)
    update = cycle(ny(2026, 2, 10, 9), deal=Deal(prm_id="1", intro_call_at=call),
                   previous=running(), required=False)
    assert update.clocks["first_touch"] == clock("first_touch", S.MET, stopped=call)
    assert [(e.clock, e.kind) for e in update.events] == [
        ("first_touch", K.MET), ("handoff_complete", K.CANCELLED)]


@pytest.mark.parametrize("kwargs", [
    pytest.param({"now": START}, id="start"),
    pytest.param({"now": AT_RISK_LINE, "previous": running()}, id="at risk"),
    pytest.param({"now": ny(2026, 2, 12), "previous": running()}, id="breach"),
    pytest.param({"now": ny(2026, 2, 10), "previous": running(),
                  "deal": Deal(prm_id="1", intro_call_at=ny(2026, 2, 9, 11))}, id="met"),
    pytest.param({"now": ny(2026, 2, 13), "previous": running(),
                  "deal": Deal(prm_id="1", intro_call_at=ny(2026, 2, 12, 11))}, id="late"),
    pytest.param({"now": ny(2026, 2, 10), "previous": running(), "required": False},
                 id="cancel"),
    pytest.param({"now": START, "deal": Deal(prm_id="1", intro_call_at=START)},
                 id="start and stop"),
    pytest.param({"now": ny(2026, 1, 11, 17), "handoff": WON,
                  "handoff_type": "closed_won_to_cs", "deal": Deal(is_won=True)},
                 id="won"),
    pytest.param({"now": ny(2026, 2, 11, 12), "deal": Deal(prm_id="1", approved_at=START)},
                 id="approved a week ago: breached at first sight"),
    pytest.param({"now": START, "deal": Deal(prm_id="1",
                                             approved_at=START + timedelta(days=3))},
                 id="approved in the future"),
    pytest.param({"now": ny(2026, 1, 12, 9), "handoff": WON,
                  "handoff_type": "closed_won_to_cs",
                  "deal": Deal(is_won=True, won_at=WON_AT)}, id="won days ago"),
])
def test_a_repeated_cycle_changes_nothing(kwargs: dict[str, Any]) -> None:
    first = cycle(**kwargs)
    assert first.changed  # each scenario does something the first time
    second = cycle(**{**kwargs, "previous": first.clocks})
    assert (dict(second.clocks), second.changed, second.events) == (dict(first.clocks), (), ())


def test_a_breach_is_escalated_once_over_many_cycles() -> None:
    asked: list[str] = []

    def escalation(role: str) -> str | None:
        asked.append(role)
        return MANAGER

    previous: Mapping[str, ClockState] = {}
    seen = []
    for hours in range(0, 24 * 20, 3):  # every three hours for twenty days
        update = cycle(START + timedelta(hours=hours), previous=previous,
                       escalation=escalation)
        seen.extend(events(update))
        previous = update.clocks
    assert seen == [("first_touch", K.STARTED, START, None),
                    ("handoff_complete", K.STARTED, START, None),
                    ("first_touch", K.AT_RISK, AT_RISK_LINE, None),
                    ("first_touch", K.BREACHED, FIRST_TOUCH_DUE, MANAGER)]
    assert asked == ["manager"]


def test_a_breach_without_an_escalation_role_or_person_names_nobody() -> None:
    quiet = PARTNER.model_copy(update={"slas": [
        PARTNER.slas[0].model_copy(update={"escalate_to": None})]})
    update = cycle(ny(2026, 2, 12), previous={"first_touch": clock("first_touch")},
                   handoff=quiet, escalation=lambda role: pytest.fail(f"asked for {role}"))
    assert events(update) == [("first_touch", K.BREACHED, FIRST_TOUCH_DUE, None)]
    nobody = cycle(ny(2026, 2, 12), previous=running(), escalation=lambda role: None)
    assert events(nobody) == [("first_touch", K.BREACHED, FIRST_TOUCH_DUE, None)]


def cs_clock(status: SlaStatus = S.ON_TRACK, stopped: datetime | None = None) -> ClockState:
    return clock("cs_handoff", status, started=WON_AT, due=CS_DUE, stopped=stopped,
                 handoff_type="closed_won_to_cs")


@pytest.mark.parametrize(("before", "now", "gate", "after", "expected"), [
    pytest.param(None, WON_AT, False, cs_clock(), [(K.STARTED, WON_AT, None)], id="won"),
    pytest.param(cs_clock(), ny(2026, 1, 11, 3, 59), False, cs_clock(), [],
                 id="saturday night counts"),
    pytest.param(cs_clock(), ny(2026, 1, 11, 4), False, cs_clock(S.AT_RISK),
                 [(K.AT_RISK, ny(2026, 1, 11, 4), None)], id="36 hours"),
    pytest.param(cs_clock(S.AT_RISK), CS_DUE, False, cs_clock(S.BREACHED),
                 [(K.BREACHED, CS_DUE, MANAGER)], id="48 hours"),
    pytest.param(cs_clock(), ny(2026, 1, 10, 10), True,
                 cs_clock(S.MET, stopped=ny(2026, 1, 10, 10)),
                 [(K.MET, ny(2026, 1, 10, 10), None)], id="kickoff gate passed"),
])
def test_the_closed_won_clock_runs_48_clock_hours(
        before: ClockState | None, now: datetime, gate: bool, after: ClockState,
        expected: list) -> None:
    update = cycle(now, deal=Deal(is_won=True), handoff=WON, handoff_type="closed_won_to_cs",
                   previous={"cs_handoff": before} if before else {},
                   gates={"kickoff": gate})
    assert dict(update.clocks) == {"cs_handoff": after}
    assert events(update) == [("cs_handoff", kind, at, to) for kind, at, to in expected]


def test_the_closed_won_clock_starts_when_the_deal_was_won() -> None:
    # Won Friday 16:00, first seen Monday 09:00: the 48 hours ran out on Sunday.
    update = cycle(ny(2026, 1, 12, 9), deal=Deal(is_won=True, won_at=WON_AT), handoff=WON,
                   handoff_type="closed_won_to_cs")
    assert dict(update.clocks) == {"cs_handoff": cs_clock(S.BREACHED)}
    assert events(update) == [("cs_handoff", K.STARTED, WON_AT, None),
                              ("cs_handoff", K.BREACHED, CS_DUE, MANAGER)]


def test_a_won_time_is_ignored_while_the_deal_is_not_won() -> None:
    # Salesforce's LastStageChangeDate means "won at" only on a won opportunity.
    update = cycle(WON_AT, deal=Deal(is_won=False, won_at=WON_AT), handoff=WON,
                   handoff_type="closed_won_to_cs")
    assert (dict(update.clocks), update.events) == ({}, ())


def test_an_open_deal_starts_no_closed_won_clock() -> None:
    update = cycle(WON_AT, deal=Deal(is_won=False), handoff=WON,
                   handoff_type="closed_won_to_cs")
    assert (dict(update.clocks), update.events) == ({}, ())


DISCOVERY = SlaClock.model_validate({
    "id": "discovery", "label": "Joint discovery within two working days",
    "start": {"on": "stage_entered", "stage": "joint_discovery"},
    "stop": {"on": "field_filled", "field": "joint_discovery_at"},
    "duration": {"business_hours": 16}, "escalate_to": None})
STAGED = PARTNER.model_copy(update={"slas": [DISCOVERY]})


@pytest.mark.parametrize(("deal", "now", "expected"), [
    pytest.param(Deal(handoff_stage="joint_discovery", stage_entered_at=ny(2026, 2, 2, 9)),
                 ny(2026, 2, 5, 12),
                 [(K.STARTED, ny(2026, 2, 2, 9)), (K.BREACHED, ny(2026, 2, 3, 17))],
                 id="entered days ago: started then, already breached"),
    pytest.param(Deal(handoff_stage="joint_discovery"), ny(2026, 2, 5, 12),
                 [(K.STARTED, ny(2026, 2, 5, 12))], id="no entry time: starts now"),
    pytest.param(Deal(handoff_stage="pre_handoff_assessment",
                      stage_entered_at=ny(2026, 2, 2, 9)), ny(2026, 2, 5, 12), [],
                 id="another stage"),
])
def test_a_stage_clock_starts_when_the_deal_entered_the_stage(
        deal: Deal, now: datetime, expected: list) -> None:
    update = cycle(now, deal=deal, handoff=STAGED)
    assert [(e.kind, e.at) for e in update.events] == expected


def test_running_clocks_follow_an_edited_duration_and_stored_extras_are_kept() -> None:
    longer = PARTNER.model_copy(update={"slas": [PARTNER.slas[0].model_copy(update={
        "duration": PARTNER.slas[0].duration.model_copy(update={"business_days": 10})})]})
    retired = clock("handoff_complete", S.AT_RISK)
    update = cycle(ny(2026, 2, 12), handoff=longer,
                   previous={"first_touch": clock("first_touch"), "handoff_complete": retired})
    assert update.clocks["first_touch"] == clock("first_touch", due=ny(2026, 2, 18, 10))
    assert update.clocks["handoff_complete"] is retired  # no longer in the policy: untouched
    assert [state.clock for state in update.changed] == ["first_touch"]
    assert update.events == ()


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cycle(datetime(2026, 2, 4, 15))


ALPHA_DUE, BETA_DUE = ny(2026, 2, 10), ny(2026, 2, 11)


@pytest.mark.parametrize(("states", "expected"), [
    pytest.param([], None, id="no clocks"),
    pytest.param([("alpha", BETA_DUE, None), ("beta", ALPHA_DUE, None)], "beta",
                 id="the running clock due soonest"),
    pytest.param([("alpha", ALPHA_DUE, ny(2026, 2, 5)), ("beta", BETA_DUE, None)], "beta",
                 id="running beats stopped"),
    pytest.param([("alpha", ALPHA_DUE, ny(2026, 2, 5)), ("beta", BETA_DUE, ny(2026, 2, 6))],
                 "beta", id="all stopped: the latest stop"),
    pytest.param([("beta", ALPHA_DUE, None), ("alpha", ALPHA_DUE, None)], "alpha",
                 id="a tie goes to the smaller id"),
])
def test_headline_clock(states: list[tuple[str, datetime, datetime | None]],
                        expected: str | None) -> None:
    clocks = {name: replace(clock("first_touch"), clock=name, due_at=due, stopped_at=stopped)
              for name, due, stopped in states}
    chosen = headline_clock(clocks)
    assert (chosen.clock if chosen else None) == expected


def test_an_absurd_sla_duration_clocks_on_without_failing_the_cycle() -> None:
    # Issue 14 (6): a 100-million-business-day SLA once raised "year 385333 is out of
    # range" in every cycle. The deadline is "never": the clock runs, on track.
    clocks = [c.model_copy(update={"duration": c.duration.model_construct(
        business_days=100_000_000)}) if c.id == "first_touch" else c for c in PARTNER.slas]
    absurd = PARTNER.model_copy(update={"slas": clocks})
    update = cycle(START + timedelta(days=400), handoff=absurd)
    first_touch = update.clocks["first_touch"]
    assert first_touch.due_at == LATEST and first_touch.status is S.ON_TRACK


FIRST_SEEN = ("SLA clocks started when handoff-sync first saw this deal (no approval time in "
              "the data).")


@pytest.mark.parametrize(("deal", "clocks", "handoff", "expected"), [
    pytest.param(Deal(prm_id="1"), running(), PARTNER, (FIRST_SEEN,),
                 id="no approval time: marked"),
    pytest.param(Deal(prm_id="1", approved_at=START), running(), PARTNER, (),
                 id="started at the approval: not marked"),
    pytest.param(Deal(prm_id="1", approved_at=START + timedelta(hours=1)), running(),
                 PARTNER, (), id="approved after the clocks started (clamped): not marked"),
    pytest.param(Deal(prm_id="1", approved_at=START - timedelta(days=3)), running(), PARTNER,
                 ("SLA clocks started when handoff-sync first saw this deal, after the "
                  "approval time (2026-02-01 15:00 UTC) in the data.",),
                 id="approval time mapped after the clocks started"),
    pytest.param(Deal(prm_id="1"), {}, PARTNER, (), id="no clock started"),
    pytest.param(Deal(is_won=True), {"cs_handoff": cs_clock()}, WON,
                 ("SLA clocks started when handoff-sync first saw this deal (no won time in "
                  "the data).",), id="no won time"),
    pytest.param(Deal(is_won=True, won_at=WON_AT), {"cs_handoff": cs_clock()}, WON, (),
                 id="won time known"),
    pytest.param(Deal(handoff_stage="joint_discovery"),
                 {"discovery": clock("first_touch", started=START)}, STAGED,
                 ("SLA clocks started when handoff-sync first saw this deal (no stage entry "
                  "time in the data).",), id="no stage entry time"),
    pytest.param(Deal(handoff_stage="knowledge_transfer"),
                 {"discovery": clock("first_touch", started=START)}, STAGED, (),
                 id="the entry time would be of another stage"),
    pytest.param(Deal(handoff_stage="joint_discovery"),
                 {"first_touch": clock("first_touch"), "discovery": clock("first_touch")},
                 PARTNER.model_copy(update={"slas": [*PARTNER.slas, DISCOVERY]}),
                 ("SLA clocks started when handoff-sync first saw this deal (no approval time "
                  "or stage entry time in the data).",), id="two kinds missing: one line"),
])
def test_clocks_started_at_first_sight_are_named_for_the_brief(
        deal: Deal, clocks: Mapping[str, ClockState], handoff: HandoffType,
        expected: tuple[str, ...]) -> None:
    assert first_seen_notes(deal, handoff, clocks) == expected
