"""Routing a new opportunity to its owner, as an admin would check it: which rule, whom,
why; caps that hold across a cycle; people who are no CRM user passed over with one
review item each; the fallback queue owner when nothing routes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from handoff_sync.engine.routing import FALLBACK, Router, open_handoffs
from handoff_sync.engine.types import BaseSnapshot, EngineState, ReviewKind, Verdict
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.policy.file_model import Routing
from handoff_sync.model import Deal, GateStatus, Owner, OwnerDirectory
from handoff_sync.sandbox.seed.generator import generate

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "revops@example.com"
OWNERS = OwnerDirectory([
    Owner("u0", QUEUE), Owner("u1", "dana@example.com"), Owner("u2", "ann@example.com"),
    Owner("u3", "bob@example.com"), Owner("u4", "cy@example.com"),
    Owner("u5", "gone@example.com", active=False),  # deactivated
    Owner("u6", "queue@example.com"), Owner("u7", "pat@example.com"),
])
EMEA = {"field": "custom.region", "op": "==", "value": "EMEA"}
NA = {"field": "custom.region", "op": "==", "value": "NA"}


def routing(**data: Any) -> Routing:
    return Routing.model_validate(data)


def deal(**values: Any) -> Deal:
    return Deal.from_values({f"custom.{k}" if k in ("region", "partner_ae") else k: v
                             for k, v in values.items()})


def router(rules: Routing | None, load: dict[str, int] | None = None) -> Router:
    return Router(rules, OWNERS, load or {}, QUEUE)


def test_a_territory_rule_routes_to_its_owner_and_says_why():
    decision = router(routing(rules=[{"name": "EMEA territory", "when": EMEA,
                                      "owner": "Dana@Example.com"}])).route(
        deal(region="EMEA"), "prm:1")
    assert decision.email == "dana@example.com"
    assert decision.rule == "rule 1 (EMEA territory)"
    assert decision.reason == "custom.region is EMEA -> dana@example.com (handoff.yaml rule 1)"
    assert decision.review is None


def test_the_first_matching_rule_wins_and_a_rule_that_does_not_match_is_passed():
    rules = routing(rules=[{"when": NA, "owner": "bob@example.com"},
                           {"when": EMEA, "owner": "dana@example.com"},
                           {"owner": "ann@example.com"}])
    route = router(rules).route
    assert (route(deal(region="EMEA"), "prm:1").email, route(deal(region="EMEA"), "prm:1").rule) \
        == ("dana@example.com", "rule 2 (owner)")
    assert route(deal(region="NA"), "prm:2").email == "bob@example.com"
    catch_all = route(deal(region="APAC"), "prm:3")
    assert (catch_all.email, catch_all.reason) == (
        "ann@example.com", "every deal -> ann@example.com (handoff.yaml rule 3)")
    blank = route(deal(), "prm:4")  # a blank region matches no == rule
    assert blank.email == "ann@example.com"


def test_round_robin_gives_the_least_loaded_member_ties_to_the_first_listed():
    rules = routing(teams={"emea_direct": {"members": ["ann@example.com", "bob@example.com",
                                                       "cy@example.com"]}},
                    rules=[{"team": "emea_direct"}])
    r = router(rules, {"ann@example.com": 2, "bob@example.com": 0, "cy@example.com": 0})
    got = [r.route(deal(), f"prm:{n}") for n in range(5)]
    assert [d.email for d in got] == ["bob@example.com", "cy@example.com", "bob@example.com",
                                      "cy@example.com", "ann@example.com"]
    assert got[0].rule == "rule 1 (round robin emea_direct)"
    assert got[0].reason == ("every deal -> bob@example.com, round robin in team "
                             "emea_direct: fewest open handoffs (0) (handoff.yaml rule 1)")
    assert r.load("Ann@example.com") == 3


def test_the_cap_holds_across_the_deals_of_one_cycle_then_the_next_rule_applies():
    rules = routing(teams={"emea": {"members": ["ann@example.com", "bob@example.com"],
                                    "cap": 2}},
                    rules=[{"when": EMEA, "team": "emea"},
                           {"when": EMEA, "owner": "dana@example.com"}])
    r = router(rules, {"ann@example.com": 1})
    got = [r.route(deal(region="EMEA"), f"prm:{n}") for n in range(5)]
    assert [d.email for d in got] == ["bob@example.com", "ann@example.com", "bob@example.com",
                                      "dana@example.com", "dana@example.com"]
    assert "under the cap of 2" in got[0].reason
    assert got[3].rule == "rule 2 (owner)"
    assert got[3].reason == (
        "custom.region is EMEA -> dana@example.com (handoff.yaml rule 2; rule 1 passed: "
        "every member of team emea is at the cap of 2 open handoffs)")
    assert all(d.review is None for d in got)


def test_everyone_at_the_cap_and_no_other_rule_goes_to_the_fallback_with_one_review_item():
    rules = routing(teams={"emea": {"members": ["ann@example.com"], "cap": 1}},
                    rules=[{"team": "emea"}], fallback_owner="queue@example.com")
    r = router(rules, {"ann@example.com": 1})
    decision = r.route(deal(), "prm:7")
    assert (decision.email, decision.rule) == ("queue@example.com", FALLBACK)
    assert decision.reason == ("rule 1: every member of team emea is at the cap of 1 open "
                               "handoffs -> queue@example.com (routing.fallback_owner)")
    item = decision.review
    assert item is not None and item.kind is ReviewKind.UNROUTED
    assert (item.key, item.deal) == ("unrouted:prm:7", "prm:7")
    assert "goes to the fallback owner queue@example.com" in item.summary
    assert r.route(deal(), "prm:7").review == item  # deterministic: the same item again


def test_an_owner_who_is_no_active_crm_user_is_passed_over_with_one_item_per_email():
    rules = routing(rules=[{"when": EMEA, "owner": "gone@example.com"},
                           {"when": EMEA, "owner": "dana@example.com"}],
                    teams={"t": {"members": ["gone@example.com", "ann@example.com"]}})
    r = router(rules)
    first, second = r.route(deal(region="EMEA"), "prm:1"), r.route(deal(region="EMEA"), "prm:2")
    assert first.email == second.email == "dana@example.com"
    assert first.reason.endswith("(handoff.yaml rule 2; rule 1 passed: gone@example.com is "
                                 "no active CRM user)")
    assert first.review is None
    [item] = r.reviews()  # one item for the email, not one per deal nor per mention
    assert item.kind is ReviewKind.ROUTING_OWNER
    assert (item.key, item.deal) == ("routing_owner:gone@example.com", "routing:gone@example.com")
    assert item.summary.startswith("gone@example.com (rule 1 owner, team t in handoff.yaml "
                                   "routing) has no active CRM user")
    # Stated even in a cycle that routes nothing: it is a standing problem of the file.
    assert router(rules).reviews() == (item,)


def test_a_team_member_who_is_no_crm_user_is_skipped_by_round_robin():
    rules = routing(teams={"t": {"members": ["gone@example.com", "ann@example.com"]}},
                    rules=[{"team": "t"}])
    assert {router(rules).route(deal(), f"prm:{n}").email for n in range(3)} == {
        "ann@example.com"}


def test_the_partner_ae_rule_routes_to_the_field_s_email_or_passes_when_blank_or_unknown():
    rules = routing(rules=[{"name": "partner's AE", "partner_ae": "custom.partner_ae"},
                           {"owner": "dana@example.com"}])
    r = router(rules)
    routed = r.route(deal(partner_ae=" Pat@Example.com "), "prm:1")
    assert (routed.email, routed.rule) == ("pat@example.com", "rule 1 (partner's AE)")
    assert routed.reason == ("custom.partner_ae names the partner's AE -> pat@example.com "
                             "(handoff.yaml rule 1)")
    blank = r.route(deal(), "prm:2")
    assert blank.email == "dana@example.com"
    assert "rule 1 passed: custom.partner_ae is blank" in blank.reason
    assert r.reviews() == ()  # a blank field is the partner's data, not a missing user
    for n in (3, 4):
        unknown = r.route(deal(partner_ae="nobody@partner.example"), f"prm:{n}")
        assert unknown.email == "dana@example.com"
    [item] = r.reviews()  # two deals, one email: one item
    assert item.key == "routing_owner:nobody@partner.example"
    assert "correct custom.partner_ae" in item.summary


def test_without_a_routing_section_the_fallback_owner_gets_it_with_a_reason_and_no_item():
    decision = router(None).route(deal(region="EMEA"), "prm:1")
    assert (decision.email, decision.rule, decision.review) == (QUEUE, FALLBACK, None)
    assert decision.reason == ("no routing: section in handoff.yaml -> revops@example.com "
                               "(ownership.fallback_owner_email)")
    assert router(routing()).route(deal(), "prm:1").reason.startswith(
        "routing: has no rules in handoff.yaml")


def test_no_matching_rule_falls_back_and_an_inactive_fallback_owner_gives_way_to_ownership():
    rules = routing(rules=[{"when": NA, "owner": "bob@example.com"}],
                    fallback_owner="gone@example.com")
    r = router(rules)
    decision = r.route(deal(region="LATAM"), "prm:9")
    assert decision.email == QUEUE  # routing's queue owner is deactivated
    assert decision.reason == "no rule matched -> revops@example.com " \
                              "(ownership.fallback_owner_email)"
    assert decision.review is not None and "(no rule matched)" in decision.review.summary
    assert [item.key for item in r.reviews()] == ["routing_owner:gone@example.com"]


def test_conditions_read_as_words_in_the_reason():
    when = {"all": [EMEA, {"any": [{"field": "amount", "op": ">=", "value": 100000},
                                   {"field": "partner_account", "op": "in",
                                    "value": ["Acme", "Globex"]}]}]}
    decision = router(routing(rules=[{"when": when, "owner": "dana@example.com"}])).route(
        deal(region="EMEA", partner_account="Globex"), "prm:1")
    assert decision.reason == ("custom.region is EMEA and (amount >= 100000 or "
                               "partner_account is one of Acme, Globex) -> dana@example.com "
                               "(handoff.yaml rule 1)")


def test_equal_inputs_route_equally():
    rules = routing(teams={"t": {"members": ["ann@example.com", "bob@example.com",
                                             "cy@example.com"], "cap": 3}},
                    rules=[{"when": EMEA, "team": "t"}])
    deals = [(deal(region=("EMEA" if n % 3 else "NA")), f"prm:{n}") for n in range(12)]
    runs = [[r.route(d, k) for d, k in deals] for r in (router(rules, {"cy@example.com": 1}),
                                                         router(rules, {"cy@example.com": 1}))]
    assert runs[0] == runs[1]


def _verdict(key: str, *, type_: str = "partner_to_direct", crm: str | None = "006X",
             status: GateStatus = GateStatus.BLOCKED) -> Verdict:
    return Verdict(deal=key, crm_id=crm, prm_id=key.split(":")[1], handoff_type=type_,
                   stage="pre_handoff_assessment", required=status is not GateStatus.NOT_REQUIRED,
                   status=status, completeness_pct=50, missing=())


def _base(key: str, ae: str | None, *, closed: bool = False) -> BaseSnapshot:
    crm = MappingProxyType({"ae_email": ae, "is_closed": closed})
    return BaseSnapshot(deal=key, prm=MappingProxyType({}), crm=crm, agreed=crm)


def test_open_handoffs_count_each_ae_s_open_required_partner_handoffs():
    policy = load_mappings(ROOT / "mappings").policy
    verdicts = {
        "prm:1": _verdict("prm:1"), "prm:2": _verdict("prm:2", status=GateStatus.PASSED),
        "prm:3": _verdict("prm:3"),
        "prm:4": _verdict("prm:4", status=GateStatus.NOT_REQUIRED),  # no handoff needed
        "prm:5": _verdict("prm:5", crm=None),  # no opportunity yet
        "prm:6": _verdict("prm:6"),  # closed
        "crm:7": _verdict("crm:7", type_="closed_won_to_cs"),  # the CS owner's work
        "prm:8": _verdict("prm:8"),  # no AE on the opportunity
    }
    bases = {"prm:1": _base("prm:1", "Ann@Example.com"), "prm:2": _base("prm:2", "ann@example.com"),
             "prm:3": _base("prm:3", "bob@example.com"), "prm:4": _base("prm:4", "bob@example.com"),
             "prm:5": _base("prm:5", "bob@example.com"),
             "prm:6": _base("prm:6", "bob@example.com", closed=True),
             "crm:7": _base("crm:7", "bob@example.com"), "prm:8": _base("prm:8", None)}
    state = EngineState(verdicts=verdicts, bases=bases)
    assert open_handoffs(state, policy) == {"ann@example.com": 2, "bob@example.com": 1}
    assert open_handoffs(EngineState(), policy) == {}


@pytest.mark.parametrize("pack", ["mappings", "mappings/packs/salesforce-prm-hubspot-crm"])
def test_each_shipped_pack_routes_by_territory_among_the_demo_orgs_users(pack):
    # The people the packs name are the sandbox seed's (demo seed 42) users.
    policy = load_mappings(ROOT / pack).policy
    assert policy.routing is not None and policy.routing.rules and policy.routing.teams
    # Everyone it names is an active user of the demo org's CRM (either pack's CRM).
    seed = generate(deals=500, partners=12, random_seed=42, now=datetime(2026, 12, 1, tzinfo=UTC))
    systems = {
        "salesforce": OwnerDirectory(Owner(u["Id"], u["Email"], u["IsActive"])
                                     for u in seed.salesforce["User"]),
        "hubspot": OwnerDirectory(Owner(o["id"], o["email"], not o["archived"])
                                  for o in seed.hubspot_owners)}
    for owners in systems.values():
        r = Router(policy.routing, owners, {}, policy.ownership.fallback_owner_email)
        assert r.reviews() == ()
        emea = r.route(deal(region="EMEA"), "prm:1")
        assert (emea.email, emea.rule[-16:]) == ("raj.johansson@vendor.example",
                                                 "(EMEA territory)")
        latam = r.route(deal(region="LATAM"), "prm:2")  # no rule for LATAM, no AE named
        assert (latam.email, latam.rule) == ("revops@example.com", FALLBACK)
        if pack != "mappings":  # this pack routes to the AE the registration names
            named = r.route(deal(region="LATAM", ae_email="jonas.ibarra@vendor.example"),
                            "prm:3")
            assert (named.email, named.rule) == ("jonas.ibarra@vendor.example",
                                                 "rule 1 (partner's AE)")
