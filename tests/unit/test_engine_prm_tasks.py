"""Two-sided tasks: a template with side: prm is written on the partner's registration and
owned by a PRM user (the partner rep, else the registration's channel manager); the
fallback owner is the last resort, and RevOps then gets one review item per person.

Raw records are written the way the APIs return them and mapped with the default pack
(PRM = HubSpot partner registrations, CRM = Salesforce opportunities).
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, date, datetime
from typing import Any

from connectors.base import Owner
from handoff_sync.engine.plan import Dirty, EngineInput, plan
from handoff_sync.engine.tasks import task_key
from handoff_sync.engine.types import EngineState, Plan, ReviewKind, TaskActionKind
from handoff_sync.mapping.system.convert import to_canonical
from handoff_sync.model import OwnerDirectory, Role
from handoff_sync.testing.builders import apply_plan, default_mappings

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
MAPPINGS = default_mappings()
AE, MANAGER = "005000000000001AAA", "005000000000003AAA"
CRM_OWNERS = OwnerDirectory([Owner(AE, "ava.ae@vendor.example", True, MANAGER),
                             Owner(MANAGER, "max.manager@vendor.example", True)])
REP, CHANNEL, REVOPS = "71", "72", "73"  # HubSpot owner ids
PRM_USERS = (Owner(REP, "pat@bluebird.example", True),
             Owner(CHANNEL, "cam.channel@vendor.example", True),
             Owner(REVOPS, "revops@example.com", True))
PRM_OWNERS = OwnerDirectory(PRM_USERS)
FALLBACK = "revops@example.com"


def registration(number: int = 501, **extra: Any) -> dict[str, Any]:
    return {"hs_object_id": str(number), "pipeline": "9004451",
            "dealname": f"Acme data platform {number}", "dealstage": "9004453",
            "amount": "150000", "partner_account_name": "Bluebird",
            "partner_rep_email": "pat@bluebird.example",
            "hs_lastmodifieddate": "2026-11-18T10:00:00Z", **extra}


def opportunity(**extra: Any) -> dict[str, Any]:
    return {"Id": "006000000000001AAA", "Name": "Acme data platform 501", "Amount": 150000.0,
            "IsClosed": False, "IsWon": False, "StageName": "Qualification", "OwnerId": AE,
            "CloseDate": date(2027, 1, 15), "Partner_Registration_Id__c": "501",
            "Partner_Prepared_Prospect__c": False,
            "SystemModstamp": datetime(2026, 11, 18, 11, 0, tzinfo=UTC), **extra}


def inputs(prm: list[dict[str, Any]], crm: list[dict[str, Any]],
           state: EngineState | None = None) -> EngineInput:
    return EngineInput(
        "partners", MAPPINGS, tuple(to_canonical(MAPPINGS.prm, r, PRM_OWNERS) for r in prm),
        tuple(to_canonical(MAPPINGS.crm, r, CRM_OWNERS) for r in crm),
        state or EngineState(), NOW, CRM_OWNERS, PRM_OWNERS)


def partner_facts(result: Plan) -> list[Any]:
    return [a for a in result.tasks if a.task.kind == "complete_partner_facts"]


def unresolved(result: Plan) -> list[Any]:
    return [r for r in result.reviews if r.kind in (ReviewKind.UNRESOLVED_OWNER,
                                                     ReviewKind.UNRESOLVED_PRM_OWNER)]


def test_the_partner_task_is_written_on_the_registration_owned_by_the_rep() -> None:
    result = plan(inputs([registration(crm_opportunity_id="006000000000001AAA")],
                         [opportunity()]))
    [action] = partner_facts(result)
    assert action.kind is TaskActionKind.OPEN
    assert (action.task.side, action.task.crm_id) == (Role.PRM, "501")
    assert action.task.assignee_email == "pat@bluebird.example"
    # The partner's work stays on the partner side: nothing for RevOps.
    assert not unresolved(result)
    assert all(a.task.side is Role.CRM for a in result.tasks if a not in (action,))
    [verdict] = result.verdicts
    assert verdict.stage_owner_email == "pat@bluebird.example"


def test_a_rep_without_a_prm_user_hands_the_task_to_the_channel_manager() -> None:
    result = plan(inputs([registration(partner_rep_email="new.rep@bluebird.example",
                                       hubspot_owner_id=CHANNEL)], []))
    [action] = partner_facts(result)
    assert action.task.assignee_email == "cam.channel@vendor.example"
    assert not unresolved(result)


def test_an_unlinked_registration_gets_its_partner_task_before_any_opportunity() -> None:
    result = plan(inputs([registration()], []))
    [action] = partner_facts(result)
    assert (action.task.side, action.task.crm_id) == (Role.PRM, "501")
    # No CRM task can exist without an opportunity.
    assert [a.task.side for a in result.tasks] == [Role.PRM]


def test_revops_gets_one_item_per_unknown_person_listing_the_deals() -> None:
    unknown = "gone@bluebird.example"
    result = plan(inputs([registration(501, partner_rep_email=unknown),
                          registration(502, partner_rep_email=unknown),
                          registration(503, partner_rep_email=unknown,
                                       hubspot_owner_id=CHANNEL),
                          registration(504, partner_rep_email=None)], []))
    assert {a.task.crm_id: a.task.assignee_email for a in partner_facts(result)} == {
        "501": FALLBACK, "502": FALLBACK, "503": "cam.channel@vendor.example",
        "504": FALLBACK}
    items = {r.key: r for r in unresolved(result)}
    assert sorted(items) == ["unresolved_prm_owner:-", f"unresolved_prm_owner:{unknown}"]
    grouped = items[f"unresolved_prm_owner:{unknown}"]
    assert grouped.details["deals"] == ("prm:501", "prm:502")
    assert "2 deal(s)" in grouped.summary and FALLBACK in grouped.summary
    assert items["unresolved_prm_owner:-"].details["deals"] == ("prm:504",)


def test_an_incremental_cycle_states_the_grouped_item_from_the_ledger() -> None:
    unknown = "gone@bluebird.example"
    first = inputs([registration(501, partner_rep_email=unknown),
                    registration(502, partner_rep_email=unknown)], [])
    after = apply_plan(first, plan(first))
    # Only 502 changed (an unrelated field): 501's open task still falls back.
    quiet = dataclasses.replace(after, dirty=Dirty(prm=frozenset({"502"})))
    [item] = unresolved(plan(quiet))
    assert item.details["deals"] == ("prm:501", "prm:502")
    # The person gets a PRM user: the task is reassigned and the item is no longer stated.
    known = dataclasses.replace(after, prm_owners=OwnerDirectory(
        [*PRM_USERS, Owner("74", unknown, True)]))
    result = plan(known)
    assert {a.kind for a in partner_facts(result)} == {TaskActionKind.REASSIGN}
    assert not unresolved(result)


def test_filling_the_facts_closes_the_prm_task_and_planning_again_is_empty() -> None:
    first = inputs([registration()], [])
    after = apply_plan(first, plan(first))
    filled = {"budget": "150000", "economic_buyer": "CFO Dana Lee", "need": "Replace ETL",
              "decision_date": "2027-01-10", "decision_process": "Board in Q1",
              "technical_requirements": "SSO", "competitors": "Acme",
              "stakeholder_map": "Champion VP Data", "partner_prepared_prospect": "true"}
    done = inputs([registration(**filled)], [], after.state)
    [close] = partner_facts(plan(done))
    assert close.kind is TaskActionKind.CLOSE and close.task.side is Role.PRM
    settled = apply_plan(done, plan(done))
    assert not plan(settled).tasks


def test_prm_and_crm_task_keys_never_collide_and_crm_keys_are_unchanged() -> None:
    args = ("partners", "501", "partner_to_direct", "pre_handoff_assessment", "x")
    assert task_key(*args, Role.PRM) != task_key(*args, Role.CRM)
    assert task_key(*args) == task_key(*args, Role.CRM)
    # The key CRM tasks had before tasks had sides: no churn for an existing ledger.
    assert task_key(*args) == "hs1-" + hashlib.sha256("\x1f".join(args).encode()
                                                      ).hexdigest()[:32]


def test_a_deleted_registration_is_not_listed_in_the_grouped_item() -> None:
    unknown = "gone@bluebird.example"
    first = inputs([registration(501, partner_rep_email=unknown),
                    registration(502, partner_rep_email=unknown)], [])
    after = apply_plan(first, plan(first))
    gone = dataclasses.replace(after, prm=tuple(r for r in after.prm if r.record_id != "502"))
    [item] = unresolved(plan(gone))
    assert item.details["deals"] == ("prm:501",)
