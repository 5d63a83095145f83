"""Issue 16 (5) through engine.plan: the AE accepts or rejects a handoff on the opportunity.

A rejection is recorded once with who and when, reopens the first stage's gate with its
reason missing and opens a task for the partner; the partner's re-submission resets the
decision to Pending; an acceptance stops the first-touch clock. Raw records are written as
the APIs return them and mapped with the default pack (HubSpot PRM, Salesforce CRM).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.base import Owner
from handoff_sync.engine.plan import plan
from handoff_sync.engine.types import (
    DecisionKind,
    EngineState,
    HandoffDecision,
    Plan,
    ReviewKind,
    TaskActionKind,
)
from handoff_sync.model import GateStatus, OwnerDirectory, Role, SlaStatus
from handoff_sync.testing.builders import apply_plan
from tests.unit.test_engine_plan import (
    AE,
    MAPPINGS,
    NOW,
    STAGE_ONE,
    inputs,
    opportunity,
    registration,
)

DECIDED = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)  # the opportunity's SystemModstamp
REASON = "The CFO has not confirmed the budget"
# The stage-one facts, filled on the registration, and the deal moved on to stage 2.
FACTS = {**STAGE_ONE, "handoff_stage": "joint_discovery"}
REJECTED = {"Handoff_Stage__c": "2 Joint Discovery", "Handoff_Acceptance__c": "Rejected",
            "Handoff_Rejection_Reason__c": REASON, "LastModifiedById": AE}


def rejected_plan(**prm: Any) -> Plan:
    return plan(inputs(registration(**FACTS, **prm), opportunity(**REJECTED)))


def test_a_rejection_is_recorded_with_who_and_when_and_reopens_the_first_gate() -> None:
    result = rejected_plan()
    assert result.decisions == (HandoffDecision(
        "prm:501", "partner_to_direct", DecisionKind.REJECTED, DECIDED,
        "ava.ae@vendor.example", True, REASON, "Bluebird"),)
    [verdict] = result.verdicts
    assert (verdict.stage, verdict.status) == ("pre_handoff_assessment", GateStatus.BLOCKED)
    assert verdict.missing[0] == f"Handoff rejected: {REASON} (re-submit when fixed)"
    assert verdict.completeness_pct < 100


def test_a_rejection_goes_back_to_the_partner_as_one_task_with_the_reason() -> None:
    # The partner rep has a user in the PRM (HubSpot): the task is theirs, on the
    # registration, where the partner works (side: prm).
    partner = OwnerDirectory([Owner("71", "pat@bluebird.example", True)])
    result = plan(dataclasses.replace(
        inputs(registration(**FACTS), opportunity(**REJECTED)), prm_owners=partner))
    kinds = {a.task.kind: a for a in result.tasks}
    rejected = kinds["handoff_rejected"]
    assert rejected.kind is TaskActionKind.OPEN
    assert REASON in rejected.task.body and "ava.ae@vendor.example" in rejected.task.body
    assert (rejected.task.side, rejected.task.crm_id) == (Role.PRM, "501")
    assert rejected.task.assignee_email == "pat@bluebird.example"
    assert not [r for r in result.reviews  # nothing for RevOps about the partner
                if r.kind in (ReviewKind.UNRESOLVED_OWNER, ReviewKind.UNRESOLVED_PRM_OWNER)]
    assert "complete_partner_facts" not in kinds  # one task for the partner, not two
    assert "complete_stage_gate" not in kinds  # stage 2's gate is not the one reopened


def test_the_partner_sees_the_rejection_in_the_missing_fields_of_its_registration() -> None:
    result = rejected_plan()
    [write] = [w for w in result.writes if w.role is Role.PRM]
    missing = write.outputs[next(o for o in write.outputs if o.value == "missing_fields")]
    assert isinstance(missing, tuple) and missing[0].startswith("Handoff rejected: The CFO")


def test_a_recorded_rejection_is_not_recorded_again() -> None:
    first_inputs = inputs(registration(**FACTS), opportunity(**REJECTED))
    result = plan(first_inputs)
    again = plan(apply_plan(first_inputs, result))
    assert again.decisions == () and again.is_empty(), again.counts()


def test_a_resubmission_resets_the_decision_and_closes_the_rejection_task() -> None:
    first_inputs = inputs(registration(**FACTS), opportunity(**REJECTED))
    after = apply_plan(first_inputs, plan(first_inputs))
    ticked = dataclasses.replace(after, prm=inputs(
        registration(**FACTS, handoff_resubmit="true",
                     hs_lastmodifieddate="2026-11-18T14:00:00Z"), None).prm)
    result = plan(ticked)
    assert [(d.decision, d.by, d.by_system, d.at) for d in result.decisions] == [
        (DecisionKind.RESUBMITTED, "pat@bluebird.example", False,
         datetime(2026, 11, 18, 14, 0, tzinfo=UTC))]
    writes = {w.role: w for w in result.writes}
    assert writes[Role.CRM].values["handoff_acceptance"] == "pending"
    assert writes[Role.CRM].values["handoff_rejection_reason"] is None
    # The tick stays until the decision reads pending (a failed reset must not lose it).
    assert "handoff_resubmit" not in writes[Role.PRM].values
    [verdict] = result.verdicts
    assert verdict.stage == "joint_discovery"  # the deal's own stage again
    closed = {a.task.kind for a in result.tasks if a.kind is TaskActionKind.CLOSE}
    assert "handoff_rejected" in closed
    # Once the reset landed the tick is cleared, unrecorded; then nothing more happens,
    # and a new rejection is a new record.
    reset = apply_plan(ticked, result)
    clearing = plan(reset)
    assert clearing.decisions == ()
    assert [(w.role, dict(w.values)) for w in clearing.writes] == [
        (Role.PRM, {"handoff_resubmit": False})]
    settled = apply_plan(reset, clearing)
    assert plan(settled).is_empty()
    again = dataclasses.replace(settled, crm=inputs(None, opportunity(**REJECTED)).crm)
    assert [d.decision for d in plan(again).decisions] == [DecisionKind.REJECTED]


def test_a_resubmission_whose_reset_did_not_land_is_written_again_not_recorded() -> None:
    resubmitted = HandoffDecision("prm:501", "partner_to_direct", DecisionKind.RESUBMITTED,
                                  DECIDED, "pat@bluebird.example", False, None, "Bluebird")
    state = EngineState(decisions={"prm:501": resubmitted})
    result = plan(inputs(registration(**FACTS, handoff_resubmit="true"),
                         opportunity(**REJECTED), state))
    assert result.decisions == ()
    writes = {w.role: w for w in result.writes}
    assert writes[Role.CRM].values["handoff_acceptance"] == "pending"


def test_an_acceptance_stops_the_first_touch_clock_when_it_was_recorded() -> None:
    approved = {"hs_date_entered_9004453": "2026-11-17T15:00:00Z"}
    accepted = {**REJECTED, "Handoff_Acceptance__c": "Accepted",
                "Handoff_Rejection_Reason__c": None}
    result = plan(inputs(registration(**FACTS, **approved), opportunity(**accepted)))
    assert [(d.decision, d.at) for d in result.decisions] == [(DecisionKind.ACCEPTED,
                                                               DECIDED)]
    clocks = {c.clock: c for c in result.clocks}
    assert clocks["first_touch"].status is SlaStatus.MET
    assert clocks["first_touch"].stopped_at == DECIDED
    assert clocks["handoff_complete"].stopped_at is None  # only first touch stops


def test_setting_a_decision_back_to_pending_is_recorded_as_withdrawn() -> None:
    first_inputs = inputs(registration(**FACTS), opportunity(**REJECTED))
    after = apply_plan(first_inputs, plan(first_inputs))
    pending = {**REJECTED, "Handoff_Acceptance__c": "Pending"}
    result = plan(dataclasses.replace(after, crm=inputs(None, opportunity(**pending)).crm))
    assert [d.decision for d in result.decisions] == [DecisionKind.WITHDRAWN]
    assert {a.task.kind for a in result.tasks if a.kind is TaskActionKind.CLOSE} >= {
        "handoff_rejected"}


def test_a_tick_with_nothing_rejected_is_cleared_without_a_record() -> None:
    result = plan(inputs(registration(**FACTS, handoff_resubmit="true"), opportunity(
        **{"Handoff_Stage__c": "2 Joint Discovery"})))
    assert result.decisions == ()
    [write] = [w for w in result.writes if w.role is Role.PRM]
    assert write.values["handoff_resubmit"] is False


def test_a_last_modifier_with_no_owner_record_is_no_review_item_and_not_guessed() -> None:
    # An automated process changed the opportunity last: not in the owner directory.
    result = plan(inputs(registration(**FACTS), opportunity(
        **{**REJECTED, "LastModifiedById": "005000000000099AAA"})))
    [decision] = result.decisions
    assert (decision.by, decision.by_system) == ("ava.ae@vendor.example", False)
    assert not [r for r in result.reviews if r.kind.value == "invalid_value"]


def test_a_decision_of_the_previous_handoff_is_set_back_to_pending_for_the_next() -> None:
    # A policy where the CSM accepts the closed-won handoff too; the AE had accepted the
    # partner handoff, and now the deal is won.
    from handoff_sync.mapping.policy.file_model import Acceptance

    policy = MAPPINGS.policy
    won_type = policy.handoff_types["closed_won_to_cs"].model_copy(
        update={"acceptance": Acceptance(receiver="cs_owner", sender="crm_owner")})
    mappings = dataclasses.replace(MAPPINGS, policy=policy.model_copy(update={
        "handoff_types": {**policy.handoff_types, "closed_won_to_cs": won_type}}))
    accepted = HandoffDecision("prm:501", "partner_to_direct", DecisionKind.ACCEPTED,
                               DECIDED, "ava.ae@vendor.example", True, None, "Bluebird")
    won = opportunity(**{"Handoff_Acceptance__c": "Accepted", "IsClosed": True,
                         "IsWon": True, "StageName": "Closed Won",
                         "CloseDate": date(2026, 11, 17)})
    result = plan(dataclasses.replace(
        inputs(registration(**FACTS), won, EngineState(decisions={"prm:501": accepted})),
        mappings=mappings))
    assert result.decisions == ()
    [write] = [w for w in result.writes if w.role is Role.CRM]
    assert write.values["handoff_acceptance"] == "pending"


def test_a_rejected_deal_is_held_at_the_reopened_stage_until_it_is_resubmitted() -> None:
    # Rejected in stage 2 with stage 1's gate passed (its auto_advance would move it on):
    # both records go back to the reopened stage, entered when the rejection was recorded,
    # and stay there cycle after cycle; the re-submission lets the autopilot advance it.
    from tests.unit.test_engine_stages import edit, position

    first_inputs = inputs(registration(**FACTS), opportunity(**REJECTED))
    result = plan(first_inputs)
    reopened = {"handoff_type": "partner_to_direct", "handoff_stage": "pre_handoff_assessment",
                "stage_entered_at": DECIDED}
    assert position(result, Role.CRM) == reopened
    assert position(result, Role.PRM) == reopened
    [move] = result.stage_moves
    assert (move.kind, move.from_stage, move.stage) == (
        "reopened", "joint_discovery", "pre_handoff_assessment")
    [verdict] = result.verdicts
    assert (verdict.stage, verdict.stage_entered_at) == ("pre_handoff_assessment", DECIDED)
    after = apply_plan(first_inputs, result)
    for hours in (1, 30):  # later cycles: held, though stage 1's own gate passes
        later = dataclasses.replace(after, now=NOW + timedelta(hours=hours))
        again = plan(later)
        assert again.stage_moves == ()
        assert all("handoff_stage" not in w.values for w in again.writes)
        after = apply_plan(later, again)
    [verdict] = after.state.verdicts.values()
    assert (verdict.stage, verdict.status) == ("pre_handoff_assessment", GateStatus.BLOCKED)
    # The partner re-submits: the decision is reset and stage 1's passed gate advances it.
    resubmitted_at = NOW + timedelta(hours=31)
    ticked = edit(after, Role.PRM, resubmitted_at, handoff_resubmit=True)
    result = plan(ticked)
    assert [d.decision for d in result.decisions] == [DecisionKind.RESUBMITTED]
    [move] = result.stage_moves
    assert (move.kind, move.stage) == ("advanced", "joint_discovery")
    assert position(result, Role.CRM) == {"handoff_stage": "joint_discovery",
                                          "stage_entered_at": resubmitted_at}
    assert position(result, Role.PRM)["handoff_stage"] == "joint_discovery"


def test_a_stage_a_person_sets_after_a_rejection_is_respected() -> None:
    from tests.unit.test_engine_stages import edit, position

    first_inputs = inputs(registration(**FACTS), opportunity(**REJECTED))
    after = apply_plan(first_inputs, plan(first_inputs))
    # The AE moves the still-rejected deal to stage 3 by hand: not moved back again.
    moved = edit(after, Role.CRM, NOW + timedelta(hours=1), handoff_stage="knowledge_transfer")
    result = plan(moved)
    assert result.stage_moves == () and result.decisions == ()
    assert "handoff_stage" not in position(result, Role.CRM)
    assert position(result, Role.PRM)["handoff_stage"] == "knowledge_transfer"
