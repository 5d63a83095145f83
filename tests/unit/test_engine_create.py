"""engine.create through engine.plan: which registrations get an opportunity created, with
what, and which get a review item instead (default pack: HubSpot PRM, Salesforce CRM)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from connectors.base import Owner
from handoff_sync.cli.plan_view import PlanView, render
from handoff_sync.engine.plan import Dirty, EngineInput, plan
from handoff_sync.engine.serialise import dumps
from handoff_sync.engine.types import BaseSnapshot, EngineState, ReviewKind, creation_key
from handoff_sync.mapping.policy.file_model import Routing
from handoff_sync.mapping.system.convert import to_canonical
from handoff_sync.model import OwnerDirectory, Role
from handoff_sync.sync.plan_context import plan_context
from handoff_sync.testing.builders import apply_plan, default_mappings

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
# The default pack without its routing rules (the tests below add the rules they need):
# with no rules, every new opportunity goes to the fallback owner.
MAPPINGS = dataclasses.replace(default_mappings(), policy=default_mappings().policy.model_copy(
    update={"routing": None}))
AE = "005000000000001AAA"
REVOPS = "005000000000009AAA"
CRM_OWNERS = OwnerDirectory([Owner(AE, "ava.ae@vendor.example", True),
                             Owner(REVOPS, "revops@example.com", True)])
PRM_OWNERS = OwnerDirectory()


def registration(prm_id: str = "501", **extra: Any) -> dict[str, Any]:
    return {"hs_object_id": prm_id, "pipeline": "9004451", "dealname": "Acme data platform",
            "dealstage": "9004453", "amount": "150000", "closedate": "2027-01-15",
            "customer_account_name": "Acme Corp", "customer_domain": "acme.example",
            "partner_account_name": "Bluebird", "partner_rep_email": "pat@bluebird.example",
            "hs_date_entered_9004453": "2026-11-16T09:00:00Z",
            "hs_lastmodifieddate": "2026-11-18T10:00:00Z", **extra}


def opportunity(crm_id: str = "006000000000001AAA", **extra: Any) -> dict[str, Any]:
    return {"Id": crm_id, "Name": "Acme data platform", "Amount": 150000.0, "IsClosed": False,
            "IsWon": False, "StageName": "Qualification", "OwnerId": AE,
            "CloseDate": date(2027, 1, 15), "Partner_Prepared_Prospect__c": False,
            "SystemModstamp": datetime(2026, 11, 18, 11, 0, tzinfo=UTC), **extra}


def inputs(prm: list[dict[str, Any]], crm: list[dict[str, Any]] = (),  # type: ignore[assignment]
           state: EngineState | None = None, **options: Any) -> EngineInput:
    return EngineInput(
        "partners", MAPPINGS, tuple(to_canonical(MAPPINGS.prm, r, PRM_OWNERS) for r in prm),
        tuple(to_canonical(MAPPINGS.crm, r, CRM_OWNERS) for r in crm),
        state or EngineState(), NOW, CRM_OWNERS, PRM_OWNERS, **options)


def test_an_approved_registration_nothing_matches_gets_one_opportunity() -> None:
    result = plan(inputs([registration()]))
    [made] = result.creations
    assert (made.deal, made.prm_id) == ("prm:501", "501")
    assert made.external_id == creation_key("partners", "501") == "handoff-sync:partners:501"
    assert made.owner_email == "revops@example.com" and made.rule == "fallback"
    assert made.reason == ("no routing: section in handoff.yaml -> revops@example.com "
                           "(ownership.fallback_owner_email)")
    assert (made.account_name, made.account_domain) == ("Acme Corp", "acme.example")
    values = dict(made.values)
    assert values["prm_id"] == "501" and values["ae_email"] == "revops@example.com"
    assert values["deal_name"] == "Acme data platform"
    assert values["amount"] == Decimal("150000") and values["close_date"] == date(2027, 1, 15)
    assert values["partner_rep_email"] == "pat@bluebird.example"
    assert values["handoff_type"] == "partner_to_direct"
    assert values["handoff_stage"] == "pre_handoff_assessment"
    assert "crm_id" not in values
    assert set(values) <= set(MAPPINGS.crm.fields)  # only what the CRM mapping maps
    printed = json.loads(dumps(result))  # `plan --json`
    assert printed["creations"][0]["external_id"] == made.external_id
    assert printed["counts"]["creations"] == 1
    assert "creations" not in json.loads(dumps(plan(inputs([registration()], create=False))))
    # Its clocks start at the approval, before any opportunity exists.
    clock = next(c for c in result.clocks if c.clock == "first_touch")
    assert clock.started_at == datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def test_only_approved_registrations_needing_a_handoff_get_one() -> None:
    result = plan(inputs([
        registration("601", dealstage="9004452"),  # submitted, not approved
        registration("602", amount="50000"),  # below the handoff threshold
        registration("603", dealstage="9004457"),  # closed lost / rejected
        registration("604", crm_opportunity_id="006000000000404AAA"),  # names one: wait
    ]))
    assert result.creations == ()


def test_the_pipeline_switch_and_a_policy_without_creation_create_nothing() -> None:
    assert plan(inputs([registration()], create=False)).creations == ()
    policy = MAPPINGS.policy.model_copy(update={"creation": None})
    graded = dataclasses.replace(inputs([registration()]),
                                 mappings=dataclasses.replace(MAPPINGS, policy=policy))
    assert plan(graded).creations == ()


def test_a_registration_that_was_linked_before_is_not_given_another() -> None:
    """Its opportunity was deleted or re-linked on purpose: a person decides, not us."""
    base = BaseSnapshot("prm:501", MappingProxyType({}), MappingProxyType({}),
                        MappingProxyType({"crm_id": "006000000000001AAA"}))
    state = EngineState(bases=MappingProxyType({"prm:501": base}))
    result = plan(inputs([registration()], state=state))
    assert result.creations == ()
    # ... but an approved registration with no opportunity never sits unseen: a person
    # is told, every cycle (incremental ones too) while it is approved and has none.
    for cycle in (result, plan(inputs([registration()], state=state, dirty=Dirty()))):
        [item] = [i for i in cycle.reviews if i.kind is ReviewKind.NO_OPPORTUNITY]
        assert (item.key, item.deal) == ("no_opportunity:prm:501", "prm:501")
        assert "006000000000001AAA is gone" in item.summary and "review link" in item.summary
        assert dict(item.details)["registrations"] == ("501",)  # `review link` can link it
    withdrawn = plan(inputs([registration(dealstage="9004457")], state=state))  # lost
    assert not [i for i in withdrawn.reviews if i.kind is ReviewKind.NO_OPPORTUNITY]


def test_a_registration_like_a_direct_deal_gets_a_channel_conflict_instead() -> None:
    """Amount 8% and close date 44 days apart: a candidate below the auto-link level."""
    direct = opportunity(Amount=138000.0, CloseDate=date(2027, 2, 28))
    result = plan(inputs([registration()], [direct]))
    assert result.creations == () and result.links == ()
    items = {item.key: item for item in result.reviews}
    item = items["channel_conflict:direct:prm:501"]
    assert item.kind is ReviewKind.CHANNEL_CONFLICT and item.deal == "prm:501"
    assert item.candidates[0][0] == "006000000000001AAA"
    assert "006000000000001AAA" in item.summary and "direct deal" in item.summary
    assert dict(item.details)["registrations"] == ("501",)  # `review link` can link it
    assert "ambiguous_link:prm:501" not in items
    # Without creation the same look-alike stays an ambiguous_link item, as before.
    graded = plan(inputs([registration()], [direct], create=False))
    assert {i.kind for i in graded.reviews if i.deal == "prm:501"} >= {
        ReviewKind.AMBIGUOUS_LINK}


def test_a_registration_matching_a_direct_deal_is_linked_not_created() -> None:
    result = plan(inputs([registration()], [opportunity()]))
    assert result.creations == ()
    assert [c.link.crm_id for c in result.links] == ["006000000000001AAA"]


def test_two_partners_registering_one_deal_get_no_opportunity_each() -> None:
    result = plan(inputs([registration("501"),
                          registration("502", partner_account_name="Redwing")]))
    assert result.creations == ()
    assert any(item.kind is ReviewKind.CHANNEL_CONFLICT for item in result.reviews)


def test_incremental_planning_restates_a_creation_that_did_not_happen() -> None:
    """A failed creation is planned again although nothing about the registration changed."""
    quiet = inputs([registration()], dirty=Dirty())
    assert [c.prm_id for c in plan(quiet).creations] == ["501"]


def test_plan_shows_who_gets_the_opportunity_and_why() -> None:
    given = inputs([registration()])
    result = plan(given)
    context = plan_context(result, MAPPINGS, {Role.PRM: given.prm, Role.CRM: given.crm},
                           {Role.PRM: PRM_OWNERS, Role.CRM: CRM_OWNERS}, EngineState())
    text = render(PlanView("pipeline partners", result, (), context))
    assert "opportunities:" in text and "1 to create" in text
    assert "Acme data platform" in text  # in the registration's own block
    assert ("create opportunity for 501 owned by revops@example.com: no routing: section in "
            "handoff.yaml -> revops@example.com (ownership.fallback_owner_email)") in text


def routed(rules: list[dict[str, Any]]) -> Any:
    """The default pack with these routing rules only."""
    policy = MAPPINGS.policy.model_copy(update={"routing": Routing.model_validate(
        {"rules": rules})})
    return dataclasses.replace(MAPPINGS, policy=policy)


def test_the_routing_rule_picks_the_owner_and_says_why() -> None:
    mappings = routed([{"name": "Big deals", "when": {"field": "amount", "op": ">=",
                                                      "value": 100000},
                        "owner": "ava.ae@vendor.example"}])
    result = plan(dataclasses.replace(inputs([registration()]), mappings=mappings))
    [made] = result.creations
    assert (made.owner_email, made.rule) == ("ava.ae@vendor.example", "rule 1 (Big deals)")
    assert "ava.ae@vendor.example" in made.reason and "handoff.yaml rule 1" in made.reason
    assert made.values["ae_email"] == "ava.ae@vendor.example"
    # The created record keeps why (the brief shows it), where the CRM maps custom.routing.
    assert made.values.get("custom.routing", made.reason).endswith(made.reason)


def test_an_unroutable_deal_goes_to_the_fallback_with_one_review_item_while_it_is_theirs(
) -> None:
    mappings = routed([{"owner": "gone@vendor.example"}])  # no CRM user: passed over
    given = dataclasses.replace(inputs([registration()]), mappings=mappings)
    first = plan(given)
    [made] = first.creations
    assert made.owner_email == "revops@example.com" and made.rule == "fallback"
    unrouted = [item for item in first.reviews if item.kind is ReviewKind.UNROUTED]
    assert [item.key for item in unrouted] == ["unrouted:prm:501"]
    assert "gone@vendor.example" in unrouted[0].summary

    # Created and linked: the item is restated while the fallback owner owns it ...
    applied = apply_plan(given, first)
    assert "unrouted:prm:501" in {item.key for item in plan(applied).reviews}
    # ... and ends once a person gives the opportunity to someone else.
    reassigned = dataclasses.replace(applied, crm=tuple(
        dataclasses.replace(r, values=MappingProxyType({**r.values,
                                                        "ae_email": "ava.ae@vendor.example"}))
        if r.record_id == "created-501" else r for r in applied.crm))
    assert "unrouted:prm:501" not in {item.key for item in plan(reassigned).reviews}


def test_an_owner_with_no_crm_user_is_not_written_and_a_person_is_told() -> None:
    """Even the fallback owner is no CRM user: create it all the same, with the CRM's
    default owner, rather than fail every cycle."""
    nobody = OwnerDirectory([Owner(AE, "ava.ae@vendor.example", True)])
    given = dataclasses.replace(inputs([registration()]), crm_owners=nobody)
    result = plan(given)
    [made] = result.creations
    assert "ae_email" not in made.values
    [item] = [i for i in result.reviews if i.kind is ReviewKind.UNROUTED]
    assert item.key == "unrouted:prm:501" and "revops@example.com" in item.summary
