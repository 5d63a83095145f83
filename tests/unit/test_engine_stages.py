"""Issue 16 (3), the stage autopilot, through engine.plan with the default pack (PRM =
HubSpot registrations, CRM = Salesforce opportunities): the type and first stage set on a
linked deal, entry times from the systems' history, auto-advance when the last gate field
is filled, a person's stage respected, earlier failing gates shown, day windows timed,
and won partner deals moved to the customer-success handoff.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handoff_sync.engine.plan import EngineInput, plan
from handoff_sync.engine.time_driven import clock_driven_deals
from handoff_sync.engine.types import EngineState, FieldWrite, Plan, TaskActionKind
from handoff_sync.mapping.system.convert import outputs_to_system, to_canonical
from handoff_sync.model import OwnerDirectory, Role
from handoff_sync.testing.builders import apply_plan
from tests.unit.test_engine_plan import STAGE_ONE, opportunity, registration
from tests.unit.test_engine_trigger_clocks import CRM_OWNERS, MAPPINGS, NOW, inputs
from tests.unit.test_mapping_errors import edited_pack, only_problem

APPROVED = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)
# Stage 1 complete on the registration (the partner's facts), approved on Monday.
READY = {**STAGE_ONE, "hs_date_entered_9004453": "2026-11-16T14:00:00Z"}
POSITION = ("handoff_type", "handoff_stage", "stage_entered_at")


def write_of(result: Plan, role: Role) -> FieldWrite:
    [write] = [w for w in result.writes if w.role is role]
    return write


def position(result: Plan, role: Role) -> dict[str, Any]:
    values = write_of(result, role).values
    return {name: values[name] for name in POSITION if name in values}


def sent(result: Plan) -> dict[str, Any]:
    """The CRM output fields as Salesforce is sent them."""
    return dict(outputs_to_system(MAPPINGS.crm, write_of(result, Role.CRM).outputs,
                                  CRM_OWNERS).values)


def settle(state_inputs: EngineInput) -> EngineInput:
    after = apply_plan(state_inputs, plan(state_inputs))
    assert plan(after).writes == ()  # what was written comes back equal: no echo
    return after


def edit(current: EngineInput, role: Role, at: datetime = NOW, **values: Any) -> EngineInput:
    """A person's edit of canonical values on one side, seen at ``at``."""
    records = current.prm if role is Role.PRM else current.crm
    [record] = records
    record = dataclasses.replace(record, values={**record.values, **values})
    side = {"prm": (record,)} if role is Role.PRM else {"crm": (record,)}
    return dataclasses.replace(current, now=at, **side)


def test_a_newly_linked_deal_gets_its_type_first_stage_and_the_approval_as_entry() -> None:
    result = plan(inputs(registration(hs_date_entered_9004453="2026-11-16T14:00:00Z"),
                         opportunity()))
    expected = {"handoff_type": "partner_to_direct", "handoff_stage": "pre_handoff_assessment",
                "stage_entered_at": APPROVED}  # HubSpot's hs_date_entered_<approved stage>
    assert position(result, Role.CRM) == expected
    assert position(result, Role.PRM) == expected
    [verdict] = result.verdicts
    assert (verdict.stage, verdict.stage_entered_at) == ("pre_handoff_assessment", APPROVED)
    # Stage 1 (days 1-2) entered Monday 14:00 is due Wednesday 14:00: overdue at 15:30.
    assert verdict.stage_due_at == APPROVED + timedelta(days=2)
    assert verdict.stage_window == "overdue"
    [overdue] = [a for a in result.tasks if a.task.kind == "stage_overdue"]
    assert overdue.kind is TaskActionKind.OPEN
    assert "Pre-handoff assessment was due to end 2026-11-18 14:00 UTC" in overdue.task.body


def test_without_history_the_entry_is_the_moment_the_daemon_placed_the_deal() -> None:
    result = plan(inputs(registration(), opportunity()))
    assert position(result, Role.CRM)["stage_entered_at"] == NOW
    brief = sent(result)["Handoff_Brief__c"]
    assert ("Stage: Pre-handoff assessment, entered 2026-11-18 15:30 UTC, window ends "
            "2026-11-20 15:30 UTC: on track.") in brief


def test_a_stage_advances_when_its_last_gate_field_is_filled() -> None:
    missing_one = {k: v for k, v in READY.items() if k != "economic_buyer"}
    first = settle(inputs(registration(**missing_one), opportunity()))
    [verdict] = first.state.verdicts.values()
    assert (verdict.stage, verdict.status.value) == ("pre_handoff_assessment", "blocked")
    later = NOW + timedelta(hours=2)
    filled = edit(first, Role.PRM, later, economic_buyer="CFO Dana Lee")
    result = plan(filled)
    assert position(result, Role.CRM) == {"handoff_stage": "joint_discovery",
                                          "stage_entered_at": later}
    assert position(result, Role.PRM)["handoff_stage"] == "joint_discovery"
    [verdict] = result.verdicts
    assert (verdict.stage, verdict.placed_by_person) == ("joint_discovery", None)
    # The stage-1 task closes, the joint-discovery tasks open.
    kinds = {(a.task.kind, a.kind) for a in result.tasks}
    assert ("complete_partner_facts", TaskActionKind.CLOSE) in kinds
    assert ("schedule_intro_call", TaskActionKind.OPEN) in kinds
    assert verdict.status.value == "blocked"  # stage 2's own gate: the intro call is ahead
    settle(dataclasses.replace(filled, now=later))


def test_a_stage_without_auto_advance_stays(tmp_path: Path) -> None:
    folder = edited_pack(tmp_path, "handoff.yaml",
                         "        owner: prm_owner\n        auto_advance: true",
                         "        owner: prm_owner\n        auto_advance: false")
    from handoff_sync.mapping.loader import load_mappings
    mappings = load_mappings(folder)
    result = plan(dataclasses.replace(inputs(registration(**READY), opportunity()),
                                      mappings=mappings))
    assert position(result, Role.CRM)["handoff_stage"] == "pre_handoff_assessment"
    assert sent(result)["Handoff_Gate_Status__c"] == "Passed"


def test_a_stage_a_person_set_is_respected_while_its_gate_stays_passed() -> None:
    settled = settle(inputs(registration(**READY), opportunity()))
    [verdict] = settled.state.verdicts.values()
    assert verdict.stage == "joint_discovery"  # advanced on first sight: stage 1 passed
    # The AE puts the deal back in stage 1 by hand (its gate still passes).
    back = edit(settled, Role.CRM, NOW + timedelta(hours=1),
                handoff_stage="pre_handoff_assessment")
    result = plan(back)
    assert "handoff_stage" not in position(result, Role.CRM)
    assert position(result, Role.PRM)["handoff_stage"] == "pre_handoff_assessment"
    [verdict] = result.verdicts
    assert (verdict.stage, verdict.placed_by_person) == ("pre_handoff_assessment", "stage")
    after = apply_plan(back, result)
    for hours in (2, 30):  # and in the cycles after: nobody fights the AE
        again = plan(dataclasses.replace(after, now=NOW + timedelta(hours=hours)))
        assert all("handoff_stage" not in w.values for w in again.writes)
        after = apply_plan(dataclasses.replace(after, now=NOW + timedelta(hours=hours)),
                           again)


def test_an_earlier_failing_gate_stays_visible_instead_of_passed() -> None:
    # In stage 4 with its own gate met, but nobody ever named the economic buyer.
    facts = {k: v for k, v in READY.items() if k != "economic_buyer"}
    result = plan(inputs(
        registration(**facts, handoff_stage="responsibility_transition"),
        opportunity(Handoff_Stage__c="4 Responsibility Transition", Co_Led_Meetings__c=2,
                    Handoff_Stage_Entered__c=datetime(2026, 11, 17, tzinfo=UTC))))
    out = sent(result)
    assert out["Handoff_Gate_Status__c"] == "Blocked"
    missing = out["Handoff_Missing_Fields__c"].splitlines()
    assert "Stage 1 incomplete: Economic buyer identified and engaged" in missing
    [verdict] = result.verdicts
    assert verdict.ahead_of_gate[0] == "pre_handoff_assessment"
    assert verdict.status.value == "blocked" and verdict.stage == "responsibility_transition"
    # A deal ahead of a failing gate is not driven further.
    assert "handoff_stage" not in position(result, Role.CRM)


def test_a_won_partner_deal_moves_to_the_customer_success_handoff() -> None:
    won_at = datetime(2026, 11, 13, 16, 0, tzinfo=UTC)
    result = plan(inputs(
        registration(**READY, handoff_type="partner_to_direct",
                     handoff_stage="partnership_preservation", dealstage="9004456"),
        opportunity(Handoff_Type__c="Partner to Direct",
                    Handoff_Stage__c="5 Partnership Preservation", IsClosed=True,
                    IsWon=True, StageName="Closed Won", CloseDate=date(2026, 11, 13),
                    LastStageChangeDate=won_at)))
    # The CS handoff's stage is entered when the deal was won (Salesforce's history).
    assert position(result, Role.CRM) == {"handoff_type": "closed_won_to_cs",
                                          "handoff_stage": "kickoff",
                                          "stage_entered_at": won_at}
    assert position(result, Role.PRM)["handoff_type"] == "closed_won_to_cs"
    [verdict] = result.verdicts
    assert (verdict.handoff_type, verdict.stage, verdict.required) == (
        "closed_won_to_cs", "kickoff", True)
    assert verdict.stage_due_at == won_at + timedelta(days=5)
    clocks = {c.clock: c for c in result.clocks}
    assert clocks["cs_handoff"].started_at == won_at  # the 48-hour document clock
    # Kickoff within 5 business days of signature (Friday 16:00 -> the next Friday 16:00).
    assert clocks["kickoff"].started_at == won_at
    assert clocks["kickoff"].due_at == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    assert "Success criteria for the first 90 days" in verdict.missing
    kinds = {a.task.kind for a in result.tasks}
    assert {"complete_cs_handoff", "hold_kickoff"} <= kinds
    assert sent(result)["Handoff_Brief__c"].startswith("Customer success handoff:")


def test_a_lost_partner_deal_is_not_moved() -> None:
    result = plan(inputs(
        registration(**READY, handoff_stage="joint_discovery"),
        opportunity(Handoff_Type__c="Partner to Direct", Handoff_Stage__c="2 Joint Discovery",
                    IsClosed=True, IsWon=False, StageName="Closed Lost")))
    writes = [w for w in result.writes if w.role is Role.CRM]
    assert all(name not in w.values for w in writes for name in POSITION)
    [verdict] = result.verdicts
    assert not verdict.required and verdict.stage_window is None


def test_time_alone_turning_a_stage_overdue_replans_the_deal() -> None:
    settled = settle(inputs(registration(), opportunity()))  # entered now, due in 2 days
    assert clock_driven_deals(settled.state, MAPPINGS.policy, NOW) == frozenset()
    later = NOW + timedelta(days=2, hours=1)
    assert "prm:501" in clock_driven_deals(settled.state, MAPPINGS.policy, later)
    result = plan(dataclasses.replace(settled, now=later))
    [verdict] = result.verdicts
    assert verdict.stage_window == "overdue"
    assert any(a.task.kind == "stage_overdue" and a.kind is TaskActionKind.OPEN
               for a in result.tasks)


def test_a_registration_without_an_opportunity_is_not_placed() -> None:
    result = plan(EngineInput(
        "partners", MAPPINGS,
        (to_canonical(MAPPINGS.prm, registration(crm_opportunity_id=None, **READY),
                      OwnerDirectory()),), (), EngineState(), NOW, CRM_OWNERS,
        OwnerDirectory()))
    assert all(name not in w.values for w in result.writes for name in POSITION)


@pytest.mark.parametrize(("old", "new", "message"), [
    ("        days: [21, 30]\n        owner: crm_owner\n",
     "        days: [21, 30]\n        owner: crm_owner\n        auto_advance: true\n",
     "the last stage has no next stage to advance to"),
    ("takes_over: [partner_to_direct]", "takes_over: [partner_to_direkt]",
     "no handoff type 'partner_to_direkt'"),
    ("entered_at: won_at", "entered_at: close_date",
     "'close_date' is date; entered_at names a datetime field"),
    ("entered_at: won_at", "entered_at: custom.kickoff_at", "no mapping provides"),
    ("        open_while: stage_overdue\n        subject: \"Overdue: {stage_label}",
     "        open_while: stage_overdue\n        sla: first_touch\n"
     "        subject: \"Overdue: {stage_label}", "'sla' only applies"),
])
def test_bad_autopilot_settings_name_file_and_line(tmp_path: Path, old: str, new: str,
                                                   message: str) -> None:
    folder = edited_pack(tmp_path, "handoff.yaml", old, new)
    problem = only_problem(folder)
    assert message in problem.message
    text = (folder / "handoff.yaml").read_text()
    changed = next(n for n, line in enumerate(new.splitlines()) if line not in old)
    assert problem.line == text[:text.index(new)].count("\n") + 1 + changed


def won_partner_deal(**crm: Any) -> EngineInput:
    return inputs(
        registration(**READY, handoff_type="partner_to_direct",
                     handoff_stage="responsibility_transition"),
        opportunity(Handoff_Type__c="Partner to Direct",
                    Handoff_Stage__c="4 Responsibility Transition", Co_Led_Meetings__c=1,
                    **crm))


def test_a_person_moving_the_stage_as_the_deal_is_won_does_not_stop_the_handover() -> None:
    settled = settle(won_partner_deal())
    moved = edit(settled, Role.CRM, NOW + timedelta(hours=1),
                 handoff_stage="partnership_preservation", is_won=True, is_closed=True,
                 close_date=date(2026, 11, 18))
    assert position(plan(moved), Role.CRM)["handoff_type"] == "closed_won_to_cs"


def test_a_type_a_person_sets_back_on_a_won_deal_is_respected() -> None:
    won = {"IsClosed": True, "IsWon": True, "StageName": "Closed Won",
           "CloseDate": date(2026, 11, 13)}
    settled = settle(won_partner_deal(**won))
    [verdict] = settled.state.verdicts.values()
    assert verdict.handoff_type == "closed_won_to_cs"
    back = edit(settled, Role.CRM, NOW + timedelta(hours=1), handoff_type="partner_to_direct",
                handoff_stage="partnership_preservation")
    after = apply_plan(back, plan(back))
    [verdict] = after.state.verdicts.values()
    assert (verdict.handoff_type, verdict.placed_by_person) == ("partner_to_direct", "type")
    for hours in (2, 30):
        again = plan(dataclasses.replace(after, now=NOW + timedelta(hours=hours)))
        assert all("handoff_type" not in w.values for w in again.writes)
        after = apply_plan(dataclasses.replace(after, now=NOW + timedelta(hours=hours)), again)


def test_an_entry_time_first_seen_is_remembered_not_moved_each_cycle() -> None:
    # A submitted registration (no approval time), no opportunity yet, no stage field.
    submitted = EngineInput(
        "partners", MAPPINGS,
        (to_canonical(MAPPINGS.prm, registration(crm_opportunity_id=None, dealstage="9004452"),
                      OwnerDirectory()),), (), EngineState(), NOW, CRM_OWNERS,
        OwnerDirectory())
    first = apply_plan(submitted, plan(submitted))
    [verdict] = first.state.verdicts.values()
    assert verdict.stage_entered_at == NOW
    later = plan(dataclasses.replace(first, now=NOW + timedelta(hours=3)))
    assert later.is_empty()
