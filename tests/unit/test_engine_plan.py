"""engine.plan on hand-built deals: tasks, owners, stages ahead of their gate, absent sides.

Raw records are written the way the APIs return them and mapped with the default pack
(PRM = HubSpot partner registrations, CRM = Salesforce opportunities).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from typing import Any

from connectors.base import Owner
from handoff_sync.engine.plan import EngineInput, plan
from handoff_sync.engine.serialise import dumps
from handoff_sync.engine.types import EngineState, TaskActionKind, TaskState
from handoff_sync.mapping.system.convert import to_canonical
from handoff_sync.model import OwnerDirectory, Role, TaskStatus
from handoff_sync.testing.builders import apply_plan, default_mappings

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
MAPPINGS = default_mappings()
AE, AE2, MANAGER = "005000000000001AAA", "005000000000002AAA", "005000000000003AAA"
CRM_OWNERS = OwnerDirectory([Owner(AE, "ava.ae@vendor.example", True, MANAGER),
                             Owner(AE2, "bo.ae@vendor.example", True, MANAGER),
                             Owner(MANAGER, "max.manager@vendor.example", True)])
PRM_OWNERS = OwnerDirectory()


def registration(**extra: Any) -> dict[str, Any]:
    return {"hs_object_id": "501", "pipeline": "9004451", "dealname": "Acme data platform",
            "dealstage": "9004453", "amount": "150000", "crm_opportunity_id": "006000000000001AAA",
            "partner_account_name": "Bluebird", "partner_rep_email": "pat@bluebird.example",
            "hs_lastmodifieddate": "2026-11-18T10:00:00Z", **extra}


def opportunity(**extra: Any) -> dict[str, Any]:
    return {"Id": "006000000000001AAA", "Name": "Acme data platform", "Amount": 150000.0,
            "IsClosed": False, "IsWon": False, "StageName": "Qualification", "OwnerId": AE,
            "CloseDate": date(2027, 1, 15), "Partner_Registration_Id__c": "501",
            "Partner_Prepared_Prospect__c": False,
            "SystemModstamp": datetime(2026, 11, 18, 11, 0, tzinfo=UTC), **extra}


def inputs(prm: dict[str, Any] | None, crm: dict[str, Any] | None,
           state: EngineState | None = None) -> EngineInput:
    return EngineInput(
        "partners", MAPPINGS,
        (to_canonical(MAPPINGS.prm, prm, PRM_OWNERS),) if prm else (),
        (to_canonical(MAPPINGS.crm, crm, CRM_OWNERS),) if crm else (),
        state or EngineState(), NOW, CRM_OWNERS, PRM_OWNERS)


STAGE_ONE = {"budget": "150000", "economic_buyer": "CFO Dana Lee", "need": "Replace ETL",
             "decision_date": "2027-01-10", "decision_process": "Board in Q1",
             "technical_requirements": "SSO", "competitors": "Acme",
             "stakeholder_map": "Champion VP Data", "partner_prepared_prospect": "true"}


def test_a_blocked_stage_one_gate_opens_one_task_for_the_partner_rep_fallback() -> None:
    result = plan(inputs(registration(), opportunity()))
    [action] = [a for a in result.tasks if a.task.kind == "complete_partner_facts"]
    assert action.kind is TaskActionKind.OPEN
    # A PRM task on the registration; the partner rep has no HubSpot user and nobody owns
    # the registration: the policy's fallback owner gets it, and one review per person.
    assert (action.task.side, action.task.crm_id) == (Role.PRM, "501")
    assert action.task.assignee_email == "revops@example.com"
    assert "Budget confirmed (BANT)" in action.task.body
    assert [r.key for r in result.reviews if r.kind.value.startswith("unresolved")] == [
        "unresolved_prm_owner:pat@bluebird.example"]


def test_filling_the_gate_closes_the_task() -> None:
    first_inputs = inputs(registration(), opportunity())
    after = apply_plan(first_inputs, plan(first_inputs))
    filled = inputs(registration(**STAGE_ONE), opportunity(), after.state)
    closes = [a for a in plan(filled).tasks if a.task.kind == "complete_partner_facts"]
    assert [a.kind for a in closes] == [TaskActionKind.CLOSE]
    assert closes[0].task.status is TaskStatus.DONE


def test_a_task_a_person_closed_is_not_reopened() -> None:
    first_inputs = inputs(registration(), opportunity())
    after = apply_plan(first_inputs, plan(first_inputs))
    tasks = {key: TaskState(dataclasses.replace(s.spec, status=TaskStatus.DONE),
                            s.system_task_id, closed_by_user=True)
             for key, s in after.state.tasks.items()}
    again = plan(dataclasses.replace(after, state=dataclasses.replace(after.state,
                                                                       tasks=tasks)))
    assert not again.tasks


def test_an_owner_change_reassigns_the_open_task() -> None:
    stage_two = {"Handoff_Stage__c": "2 Joint Discovery"}
    first_inputs = inputs(registration(**STAGE_ONE), opportunity(**stage_two))
    after = apply_plan(first_inputs, plan(first_inputs))
    # The AE changes in Salesforce; everything else stays as the last cycle left it.
    [opp] = after.crm
    moved = dataclasses.replace(after, crm=(dataclasses.replace(
        opp, values={**opp.values, "ae_email": "bo.ae@vendor.example"}),))
    kinds = {a.task.kind: a for a in plan(moved).tasks}
    assert kinds["complete_stage_gate"].kind is TaskActionKind.REASSIGN
    assert kinds["complete_stage_gate"].task.assignee_email == "bo.ae@vendor.example"
    # The due date was set when the task opened; reassigning does not move it.
    opened = after.state.tasks[kinds["complete_stage_gate"].task.key].spec
    assert kinds["complete_stage_gate"].task.due_at == opened.due_at


def test_a_deal_past_a_failing_gate_is_flagged_ahead_of_it() -> None:
    result = plan(inputs(registration(), opportunity(Handoff_Stage__c="3 Knowledge Transfer")))
    [verdict] = result.verdicts
    assert verdict.stage == "knowledge_transfer"
    assert verdict.ahead_of_gate == ("pre_handoff_assessment", "joint_discovery")


def test_a_linked_side_not_read_this_cycle_gets_no_write() -> None:
    first_inputs = inputs(registration(), opportunity())
    after = apply_plan(first_inputs, plan(first_inputs))
    crm_only = dataclasses.replace(inputs(None, opportunity(Need__c="Replace ETL"),
                                          after.state))
    result = plan(crm_only)
    assert {w.role for w in result.writes} == {Role.CRM}
    # The PRM's last known facts still count towards the gate.
    [verdict] = result.verdicts
    assert "Need documented (BANT)" not in verdict.missing


def test_the_plan_prints_as_stable_sorted_json() -> None:
    result = plan(inputs(registration(), opportunity()))
    text = dumps(result)
    assert text == dumps(plan(inputs(registration(), opportunity())))
    data = json.loads(text)
    assert data["counts"]["deals"] == 1
    assert data["links"][0]["link"]["method"] == "id_field"
    assert list(data) == sorted(data)


def limited_inputs(prm: dict[str, Any], crm: dict[str, Any],
                   state: EngineState | None = None) -> EngineInput:
    """``inputs`` with the Opportunity described as the sandbox org describes it."""
    from connectors.base import FieldSchema, ObjectSchema

    described = ObjectSchema("Opportunity", {
        "Economic_Buyer__c": FieldSchema("Economic_Buyer__c", "string", length=120),
        "Amount": FieldSchema("Amount", "currency", precision=18, scale=2)},
        case_insensitive=True)
    return dataclasses.replace(inputs(prm, crm, state), limits={Role.CRM: described})


def test_a_value_the_crm_field_cannot_hold_is_left_out_and_raised_once() -> None:
    first = limited_inputs(registration(), opportunity())
    state = apply_plan(first, plan(first)).state
    long_buyer = "CFO " + "x" * 300
    result = plan(limited_inputs(
        registration(economic_buyer=long_buyer, need="Replace ETL", amount="1e20"),
        opportunity(), state))
    [crm_write] = [w for w in result.writes if w.role is Role.CRM]
    # The rest of the record syncs (the amount makes the handoff required: the stage
    # autopilot places the deal in its first stage as well).
    assert {name: value for name, value in crm_write.values.items()
            if name not in ("handoff_type", "handoff_stage", "stage_entered_at")} == {
        "need": "Replace ETL"}
    items = {r.key: r for r in result.reviews if r.kind.value == "invalid_value"}
    assert sorted(items) == ["invalid_value:prm:501:crm:amount",
                             "invalid_value:prm:501:crm:economic_buyer"]
    buyer = items["invalid_value:prm:501:crm:economic_buyer"]
    assert buyer.details["record"] == "006000000000001AAA"
    assert buyer.details["field"] == "Economic_Buyer__c"
    assert buyer.details["value"].endswith("(304 characters)")
    assert "holds at most 120" in buyer.summary and len(buyer.summary) < 300
    amount = items["invalid_value:prm:501:crm:amount"]
    assert amount.summary.startswith("amount '100000000000000000000' is too large for Amount")
    assert "16 digits" in amount.summary
    # The CRM keeps what it held in the base: shortening the value at the source syncs it.
    [base] = result.bases
    assert base.crm.get("economic_buyer") is None
    after = apply_plan(limited_inputs(registration(economic_buyer=long_buyer),
                                      opportunity(), state), result).state
    fixed = plan(limited_inputs(registration(economic_buyer="CFO Dana Lee"), opportunity(),
                                after))
    [write] = [w for w in fixed.writes if w.role is Role.CRM]
    assert write.values["economic_buyer"] == "CFO Dana Lee"
    assert not [r for r in fixed.reviews if r.kind.value == "invalid_value"]


def test_an_unreadable_partner_value_is_raised_with_record_field_and_a_short_value() -> None:
    result = plan(inputs(registration(amount="1e400"),
                         opportunity()))
    [item] = [r for r in result.reviews if r.kind.value == "invalid_value"]
    assert item.key == "invalid_value:prm:501:prm:amount"
    assert item.details == {"record": "501", "system": "hubspot", "field": "amount",
                            "value": "'1e400'"}
    assert "too large to sync" in item.summary and "hubspot record 501" in item.summary
    # Unknown, not blank: nothing is written over the opportunity's amount.
    assert all("amount" not in w.values for w in result.writes)
