"""Linking registrations to opportunities: stored link, id field, matching rules, conflicts.

Every case builds MappedRecord literals the way the mapping layer hands them over and
checks what an admin would see: the links in force, the link changes in the plan and the
review items.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest

from handoff_sync.engine.link import LinkOutcome, link_records
from handoff_sync.engine.normalise import Normaliser
from handoff_sync.engine.serialise import to_jsonable
from handoff_sync.engine.types import Link, LinkChangeKind, LinkMethod, ReviewKind
from handoff_sync.mapping.policy.file_model import Matching
from handoff_sync.mapping.system.convert import MappedRecord
from handoff_sync.model import Role, SystemName, Value

ALL_STEPS = ["lowercase", "trim", "collapse_spaces", "strip_punctuation",
             "strip_legal_suffixes"]
# The rules of mappings/handoff.yaml.
RULES = Matching(exact=[], fuzzy=["deal_name"], normalise=ALL_STEPS, fuzzy_min_score=85,
                 amount_tolerance_pct=10, close_date_window_days=45,
                 auto_link_min_confidence=0.9, review_min_confidence=0.5)
CREATE, REMOVE = LinkChangeKind.CREATE, LinkChangeKind.REMOVE


def reg(prm_id: str, *, deleted: bool = False, in_scope: bool = True,
        modified: int = 0, **values: Value) -> MappedRecord:
    """A registration as the PRM mapping produces it."""
    return MappedRecord(SystemName.HUBSPOT, Role.PRM, prm_id,
                        datetime(2025, 1, 1, modified, tzinfo=UTC), in_scope,
                        MappingProxyType({"prm_id": prm_id, **values}), deleted=deleted)


def opp(crm_id: str, *, deleted: bool = False, in_scope: bool = True,
        **values: Value) -> MappedRecord:
    """An opportunity as the CRM mapping produces it."""
    return MappedRecord(SystemName.SALESFORCE, Role.CRM, crm_id,
                        datetime(2025, 1, 1, tzinfo=UTC), in_scope,
                        MappingProxyType({"crm_id": crm_id, **values}), deleted=deleted)


def stored(**pairs: str) -> dict[str, Link]:
    return {prm_id: Link(prm_id, crm_id, LinkMethod.STORED, 1.0)
            for prm_id, crm_id in pairs.items()}


def run(prm: list[MappedRecord], crm: list[MappedRecord], links: dict[str, Link] | None = None,
        rules: Matching = RULES) -> LinkOutcome:
    return link_records(prm, crm, links or {}, rules)


def pairs(outcome: LinkOutcome) -> dict[str, str]:
    return {prm_id: link.crm_id for prm_id, link in outcome.links.items()}


def changes(outcome: LinkOutcome) -> list[tuple[str, str, str, str]]:
    return [(change.kind.value, change.link.prm_id, change.link.crm_id,
             change.link.method.value) for change in outcome.changes]


def reviews(outcome: LinkOutcome) -> list[tuple[str, str]]:
    return [(item.key, item.kind.value) for item in outcome.reviews]


# --- stored links and id fields --------------------------------------------------------

ID_CASES: list[tuple[str, list[MappedRecord], list[MappedRecord], dict[str, Link],
                     dict[str, str], list[tuple[str, str, str, str]], list[tuple[str, str]]]] = [
    ("stored link kept",
     [reg("1", crm_id="A")], [opp("A", prm_id="1")], stored(**{"1": "A"}),
     {"1": "A"}, [], []),
    ("stored link kept while neither record is in this pull",
     [], [], stored(**{"1": "A"}),
     {"1": "A"}, [], []),
    ("deleted opportunity removes the link",
     [reg("1", crm_id="A")], [opp("A", deleted=True)], stored(**{"1": "A"}),
     {}, [("remove", "1", "A", "stored")],
     [("linked_record_deleted:prm:1", "linked_record_deleted")]),
    ("deleted registration removes the link",
     [reg("1", deleted=True)], [opp("A", prm_id="1")], stored(**{"1": "A"}),
     {}, [("remove", "1", "A", "stored")],
     [("linked_record_deleted:prm:1", "linked_record_deleted")]),
    ("id field on the registration",
     [reg("1", crm_id="A")], [opp("A")], {},
     {"1": "A"}, [("create", "1", "A", "id_field")], []),
    ("id field on the opportunity",
     [reg("1")], [opp("A", prm_id="1")], {},
     {"1": "A"}, [("create", "1", "A", "id_field")], []),
    ("id fields on both sides agree",
     [reg("1", crm_id="A")], [opp("A", prm_id="1")], {},
     {"1": "A"}, [("create", "1", "A", "id_field")], []),
    ("the two directions disagree",
     [reg("1", crm_id="A")], [opp("A"), opp("B", prm_id="1")], {},
     {}, [], [("link_conflict:prm:1", "link_conflict")]),
    ("two opportunities claim one registration",
     [reg("1")], [opp("A", prm_id="1"), opp("B", prm_id="1")], {},
     {}, [], [("link_conflict:prm:1", "link_conflict")]),
    ("one opportunity claimed by two registrations",
     [reg("1", crm_id="A"), reg("2", crm_id="A")], [opp("A")], {},
     {}, [], [("link_conflict:prm:1", "link_conflict"), ("link_conflict:prm:2", "link_conflict")]),
    ("the registration's id field now names another opportunity",
     [reg("1", crm_id="B")], [opp("A"), opp("B")], stored(**{"1": "A"}),
     {"1": "A"}, [], [("link_conflict:prm:1", "link_conflict")]),
    ("another opportunity names a linked registration",
     [reg("1")], [opp("A", prm_id="1"), opp("B", prm_id="1")], stored(**{"1": "A"}),
     {"1": "A"}, [], [("link_conflict:prm:1", "link_conflict")]),
    ("an unlinked registration names a linked opportunity",
     [reg("2", crm_id="A")], [opp("A")], stored(**{"1": "A"}),
     {"1": "A"}, [],
     [("link_conflict:prm:1", "link_conflict"), ("link_conflict:prm:2", "link_conflict")]),
    ("an id field naming a deleted record is void",
     [reg("1", crm_id="A")], [opp("A", deleted=True)], {},
     {}, [], []),
    ("an out-of-scope registration is not linked by its id field",
     [reg("1", crm_id="A", in_scope=False)], [opp("A")], {},
     {}, [], []),
    ("an out-of-scope opportunity is not linked by its id field",
     [reg("1")], [opp("A", prm_id="1", in_scope=False)], {},
     {}, [], []),
]


@pytest.mark.parametrize(("prm", "crm", "links", "expected_links", "expected_changes",
                          "expected_reviews"),
                         [case[1:] for case in ID_CASES], ids=[case[0] for case in ID_CASES])
def test_stored_links_and_id_fields(prm, crm, links, expected_links, expected_changes,
                                    expected_reviews):
    outcome = run(prm, crm, links)
    assert pairs(outcome) == expected_links
    assert changes(outcome) == expected_changes
    assert reviews(outcome) == expected_reviews
    assert all(change.link.confidence == 1.0 for change in outcome.changes)


def test_a_link_conflict_keeps_the_stored_link_and_lists_every_claim():
    outcome = run([reg("1", crm_id="B")], [opp("A"), opp("B")], stored(**{"1": "A"}))
    (item,) = outcome.reviews
    assert item.deal == "prm:1"
    assert item.candidates == (("A", 1.0), ("B", 1.0))
    assert item.details["linked_crm_id"] == "A"
    assert item.details["claims"] == (
        "registration 1 <-> opportunity A (stored link)",
        "registration 1 <-> opportunity B (registration 1 crm_id)")
    assert "stays linked to opportunity A" in item.summary


def test_removal_reason_and_review_say_which_record_was_deleted():
    outcome = run([reg("1")], [opp("A", deleted=True)], stored(**{"1": "A"}))
    assert outcome.changes[0].reason == "opportunity A deleted"
    assert outcome.reviews[0].details["deleted"] == ("opportunity",)


def test_a_registration_naming_an_opportunity_not_pulled_is_not_matched_elsewhere():
    # The explicit id wins over a look-alike: wait for the named record, never guess.
    outcome = run([reg("1", crm_id="Z", deal_name="Acme Data Platform")],
                  [opp("A", deal_name="Acme Data Platform")])
    assert (pairs(outcome), outcome.reviews) == ({}, ())


def test_an_opportunity_naming_a_deleted_registration_is_free_to_match_another():
    outcome = run([reg("1", deleted=True), reg("2", deal_name="Acme Data Platform")],
                  [opp("B", prm_id="1", deal_name="Acme Data Platform")])
    assert changes(outcome) == [("create", "2", "B", "matched")]


def test_a_registration_whose_opportunity_was_deleted_can_match_another():
    outcome = run([reg("1", crm_id="A", deal_name="Acme Data Platform")],
                  [opp("A", deleted=True), opp("B", deal_name="ACME data platform")],
                  stored(**{"1": "A"}))
    assert changes(outcome) == [("remove", "1", "A", "stored"),
                                ("create", "1", "B", "matched")]
    assert pairs(outcome) == {"1": "B"}


# --- matching rules ----------------------------------------------------------------------

ACME = {"deal_name": "Acme Corp – Data Platform", "amount": Decimal(100000),
        "close_date": date(2025, 3, 1)}


def test_fuzzy_match_links_names_that_differ_only_in_case_suffix_and_dashes():
    outcome = run([reg("1", **ACME)],
                  [opp("A", deal_name="ACME Corporation - data platform",
                       amount=Decimal(104000), close_date=date(2025, 3, 20))])
    (change,) = outcome.changes
    assert (change.kind, change.link.prm_id, change.link.crm_id, change.link.method) == (
        CREATE, "1", "A", LinkMethod.MATCHED)
    assert 0.9 <= change.link.confidence < 1.0
    assert change.reason.startswith(f"matched {change.link.confidence:.2f}: deal_name 1.00")
    assert outcome.reviews == ()


def test_missing_amount_and_date_are_neutral():
    outcome = run([reg("1", deal_name="Acme Data Platform")],
                  [opp("A", deal_name="Acme Data Platform", amount=Decimal(5),
                       close_date=date(2020, 1, 1))])
    assert outcome.links["1"].confidence == 1.0
    assert outcome.changes[0].reason == "matched 1.00: deal_name 1.00"


def test_two_close_candidates_give_an_ambiguous_review_and_no_link():
    outcome = run([reg("1", **ACME)],
                  [opp("B", deal_name="Acme Data Platform", amount=Decimal(100000)),
                   opp("A", deal_name="ACME Inc. - Data Platform", amount=Decimal(101000))])
    assert pairs(outcome) == {}
    (item,) = outcome.reviews
    assert (item.key, item.kind, item.deal) == (
        "ambiguous_link:prm:1", ReviewKind.AMBIGUOUS_LINK, "prm:1")
    assert [crm_id for crm_id, _ in item.candidates] == ["B", "A"]  # best first
    assert item.candidates[0][1] > item.candidates[1][1]
    assert item.details["why"] == "several_candidates"


@pytest.mark.parametrize(("crm", "expected"), [
    ([opp("A", deal_name="Acme Data Platform", amount=Decimal(93000))], "linked"),
    ([opp("A", deal_name="Acme Data Platform", amount=Decimal(93000)),
      opp("B", deal_name="Acme Data Platform", amount=Decimal(91800))], "review"),
], ids=["alone", "runner-up close behind"])
def test_the_best_candidate_must_lead_by_a_margin(crm, expected):
    # A scores 0.92 (7% off in amount), B 0.89: below the auto-link level but too close
    # behind A for A to be a safe choice.
    outcome = run([reg("1", deal_name="Acme Data Platform", amount=Decimal(100000))], crm)
    assert outcome_of(outcome) == expected


def test_equal_candidates_are_listed_by_id():
    outcome = run([reg("1", deal_name="Acme Data Platform")],
                  [opp("B", deal_name="Acme Data Platform"),
                   opp("A", deal_name="acme data platform")])
    assert outcome.reviews[0].candidates == (("A", 1.0), ("B", 1.0))


def test_a_single_candidate_below_the_auto_link_level_goes_to_review():
    outcome = run([reg("1", deal_name="Globex Analytics Rollout")],
                  [opp("A", deal_name="Globex Analytics Roll-out")])
    assert pairs(outcome) == {}
    (item,) = outcome.reviews
    assert item.details["why"] == "below_auto_link"
    assert item.candidates == (("A", 0.8571),)


def test_a_candidate_below_the_review_level_is_dropped_silently():
    rules = replace_rules(fuzzy_min_score=60, review_min_confidence=0.7)
    outcome = run([reg("1", deal_name="Acme Data Platform")],
                  [opp("A", deal_name="Acme Data Warehouse")], rules=rules)
    assert (pairs(outcome), outcome.changes, outcome.reviews) == ({}, (), ())


@pytest.mark.parametrize(("amount", "expected"), [
    (Decimal(105000), "linked"),     # 4.8% of the larger amount: costs little
    (Decimal(90000), "review"),      # exactly the 10% tolerance: a candidate, not a sure one
    (Decimal(112000), "nothing"),    # 10.7%: just outside, not a candidate at all
    (Decimal(120000), "nothing"),
    (Decimal(80000), "nothing"),
])
def test_amount_tolerance(amount, expected):
    outcome = run([reg("1", **ACME)], [opp("A", deal_name=ACME["deal_name"], amount=amount)])
    assert outcome_of(outcome) == expected


def outcome_of(outcome: LinkOutcome) -> str:
    if outcome.links:
        return "linked"
    return "review" if outcome.reviews else "nothing"


def test_amounts_in_different_currencies_are_not_compared():
    outcome = run([reg("1", **ACME, currency="USD")],
                  [opp("A", deal_name=ACME["deal_name"], amount=Decimal(300000),
                       currency="EUR")])
    assert pairs(outcome) == {"1": "A"}


@pytest.mark.parametrize(("close", "expected"), [
    (date(2025, 3, 15), "linked"),   # 14 days
    (date(2025, 4, 15), "review"),   # 45 days: the edge of the window
    (date(2025, 1, 15), "review"),   # 45 days earlier
    (date(2025, 4, 16), "nothing"),  # 46 days
    (date(2025, 1, 14), "nothing"),
])
def test_close_date_window(close, expected):
    outcome = run([reg("1", **ACME)], [opp("A", deal_name=ACME["deal_name"], close_date=close)])
    assert outcome_of(outcome) == expected


@pytest.mark.parametrize(("domain", "linked"), [("acme.com", True), ("acme.io", False)])
def test_exact_fields_must_be_equal_when_both_sides_have_them(domain, linked):
    rules = replace_rules(exact=["account_domain"])
    outcome = run([reg("1", deal_name="Data Platform", account_domain="acme.com")],
                  [opp("A", deal_name="Data Platform", account_domain=domain)], rules=rules)
    assert pairs(outcome) == ({"1": "A"} if linked else {})


def test_an_exact_field_alone_is_evidence_enough_when_the_name_is_missing():
    rules = replace_rules(exact=["account_domain"])
    outcome = run([reg("1", account_domain="acme.com", amount=Decimal(100))],
                  [opp("A", deal_name="Anything", account_domain="acme.com",
                       amount=Decimal(100))], rules=rules)
    assert pairs(outcome) == {"1": "A"}


def test_amount_and_date_alone_prove_nothing():
    outcome = run([reg("1", amount=Decimal(100), close_date=date(2025, 1, 1))],
                  [opp("A", amount=Decimal(100), close_date=date(2025, 1, 1))])
    assert (pairs(outcome), outcome.reviews) == ({}, ())


def test_linked_and_out_of_scope_records_are_never_matched():
    outcome = run([reg("1", deal_name="Acme Data Platform"),
                   reg("2", deal_name="Acme Data Platform", in_scope=False),
                   reg("3", deal_name="Globex Expansion")],
                  [opp("A", deal_name="Acme Data Platform", prm_id="9"),
                   opp("B", deal_name="Globex Expansion", in_scope=False)],
                  stored(**{"9": "A"}))
    assert pairs(outcome) == {"9": "A"}
    assert (outcome.changes, outcome.reviews) == ((), ())


def test_an_opportunity_that_two_registrations_of_one_partner_pick_links_neither():
    outcome = run([reg("1", deal_name="Acme Data Platform", partner_account="Alpha"),
                   reg("2", deal_name="ACME data-platform", partner_account="alpha inc")],
                  [opp("A", deal_name="Acme Data Platform")])
    assert pairs(outcome) == {}
    assert reviews(outcome) == [("ambiguous_link:prm:1", "ambiguous_link"),
                                ("ambiguous_link:prm:2", "ambiguous_link")]
    assert outcome.reviews[0].details["rivals"] == ("2",)


def test_an_opportunity_that_two_partners_pick_is_a_channel_conflict():
    outcome = run([reg("1", deal_name="Acme Data Platform", partner_account="Alpha"),
                   reg("2", deal_name="ACME data-platform", partner_account="Beta")],
                  [opp("A", deal_name="Acme Data Platform")])
    assert pairs(outcome) == {}
    assert reviews(outcome) == [("channel_conflict:1,2", "channel_conflict")]
    assert outcome.reviews[0].details["shared"] == ("opportunity A",)


def test_names_that_differ_only_in_a_number_are_never_linked_automatically():
    # "... 2024" against "... 2025" is 95% similar as text, yet another year's deal.
    outcome = run([reg("1", deal_name="Acme Expansion 2024")],
                  [opp("A", deal_name="Acme Expansion 2025")])
    assert pairs(outcome) == {}
    (item,) = outcome.reviews
    assert item.details["why"] == "below_auto_link"
    assert item.details["evidence"]["A"] == (
        "matched 0.63: deal_name 0.95, deal_name numbers 0.00")


def test_the_same_number_wins_over_a_near_name():
    outcome = run([reg("1", deal_name="Acme data platform 2")],
                  [opp("A", deal_name="Acme data platform 0"),
                   opp("B", deal_name="Acme data platform 2")])
    assert pairs(outcome) == {"1": "B"}


def test_an_opportunity_linked_in_one_round_settles_a_registration_torn_between_two():
    # Registration 2 cannot choose between A and B until registration 1, sure of A,
    # takes it: the next cycle would link 2 to B, so this one does.
    outcome = run([reg("1", deal_name="Acme Data Platform", amount=Decimal(100)),
                   reg("2", deal_name="Acme Data Platform")],
                  [opp("A", deal_name="Acme Data Platform", amount=Decimal(100)),
                   opp("B", deal_name="Acme Data Platform", amount=Decimal(300))])
    assert pairs(outcome) == {"1": "A", "2": "B"}
    assert outcome.reviews == ()


def test_a_registration_whose_words_are_all_common_still_finds_its_opportunity():
    # 60 opportunities share every word of the registration's name, so the blocking
    # index ignores those words; the rarest one is used instead of none.
    crm = [opp(f"X{index:02d}", deal_name=f"Support Renewal {word}")
           for index, word in enumerate(f"w{n}zz{n}" for n in range(60))]
    crm.append(opp("A", deal_name="Support Renewal"))
    outcome = run([reg("1", deal_name="support renewal")], crm)
    assert pairs(outcome) == {"1": "A"}


# --- names as partners and sales ops write them --------------------------------------------

# (registration name, its account name, opportunity name): the opportunity drops the
# customer's second word and may carry a fiscal-year tag; the registration is linked.
REWORDED = [
    ("Hazelmont Robotics loyalty program", "Hazelmont Robotics", "Hazelmont - Loyalty Program"),
    ("Quartzwind Learning hr platform consolidation", "Quartzwind Learning",
     "Quartzwind HR Platform Consolidation FY28"),
    ("Summitmoor Systems - Compliance Reporting", "Summitmoor Systems",
     "Summitmoor Compliance Reporting FY27"),
    ("Riverrock University security upgrade", "Riverrock University",
     "Riverrock - Security Upgrade"),
    ("Acme Corp - Migrate 3 sites", "Acme Corp", "ACME Migrate 3 Sites FY 2027"),
    ("Acme Corp - Migrate 3 sites", "Acme Corp", "Acme migrate 3 sites Q3"),
]


@pytest.mark.parametrize(("name", "account", "crm_name"), REWORDED,
                         ids=[case[2] for case in REWORDED])
def test_a_name_without_the_customers_second_word_or_with_a_fiscal_tag_is_linked(
        name, account, crm_name):
    outcome = run([reg("1", deal_name=name, account_name=account, amount=Decimal(50000))],
                  [opp("A", deal_name=crm_name, amount=Decimal(50500))])
    assert pairs(outcome) == {"1": "A"}


# (registration, its account, the true opportunity, a decoy on the same account, outcome):
# a decoy that matches as well means a review; one that matches worse may lose.
DECOYS = [
    ("Mosspoint Payments - Quote-to-Cash", "Mosspoint Payments", "Mosspoint - Quote-to-Cash",
     "Mosspoint Payments quote-to-cash expansion", "linked"),
    ("Silkhill Hospitality - Field Service Rollout", "Silkhill Hospitality",
     "Silkhill Hospitality field service rollout", "Silkhill - Field Service Rollout Phase 2",
     "linked"),
    ("Mosspoint Payments - Quote-to-Cash", "Mosspoint Payments", "Mosspoint - Quote-to-Cash",
     "Mosspoint Quote to Cash FY27", "review"),
    ("Acme Corp - Data Platform", "Acme Corp", "Acme - Data Platform 2",
     "Acme Data Platform 3", "review"),
]


@pytest.mark.parametrize(("name", "account", "true_name", "decoy_name", "expected"), DECOYS,
                         ids=[case[3] for case in DECOYS])
def test_a_decoy_opportunity_is_never_linked(name, account, true_name, decoy_name, expected):
    outcome = run([reg("1", deal_name=name, account_name=account, amount=Decimal(80000))],
                  [opp("T", deal_name=true_name, amount=Decimal(80000)),
                   opp("D", deal_name=decoy_name, amount=Decimal(80500))])
    assert pairs(outcome) == ({"1": "T"} if expected == "linked" else {})
    if expected == "review":
        (item,) = outcome.reviews
        assert item.kind is ReviewKind.AMBIGUOUS_LINK
        assert {crm_id for crm_id, _ in item.candidates} == {"T", "D"}


def test_a_bare_customer_name_is_not_a_match_for_every_deal_of_that_customer():
    outcome = run([reg("1", deal_name="Acme Corp", account_name="Acme Corp")],
                  [opp("A", deal_name="Acme - Data Platform Migration")])
    assert (pairs(outcome), outcome.reviews) == ({}, ())


# --- channel conflicts ---------------------------------------------------------------------


def test_two_partners_registering_the_same_domain_is_one_channel_conflict():
    outcome = run([reg("2", account_domain="acme.com", partner_account="Beta Partners"),
                   reg("1", account_domain="acme.com", partner_account="Alpha Ltd"),
                   reg("3", account_domain="globex.com", partner_account="Beta Partners")], [])
    (item,) = outcome.reviews
    assert (item.key, item.kind, item.deal) == (
        "channel_conflict:1,2", ReviewKind.CHANNEL_CONFLICT, "prm:1")
    assert item.details["registrations"] == ("1", "2")
    assert dict(item.details["partners"]) == {"1": "Alpha Ltd", "2": "Beta Partners"}
    assert item.details["shared"] == ("domain acme.com",)


@pytest.mark.parametrize(("records", "conflict"), [
    ([reg("1", account_domain="acme.com", partner_account="Alpha"),
      reg("2", account_domain="acme.com", partner_account="ALPHA, Inc.")], False),
    ([reg("1", account_name="Acme Inc", partner_account="Alpha"),
      reg("2", account_name="ACME", partner_account="Beta")], True),
    ([reg("1", account_domain="acme.com", partner_account="Alpha"),
      reg("2", account_domain="acme.com", partner_account="Beta", deleted=True)], False),
    ([reg("1", account_domain="acme.com", partner_account="Alpha"),
      reg("2", account_domain="acme.com")], False),
], ids=["same partner", "same account name", "deleted registration", "no partner"])
def test_channel_conflict_needs_two_live_partners(records, conflict):
    outcome = run(records, [])
    assert [kind for _, kind in reviews(outcome)] == (["channel_conflict"] if conflict else [])


def test_two_partners_naming_one_opportunity_conflict_on_both_counts():
    outcome = run([reg("1", crm_id="A", partner_account="Alpha"),
                   reg("2", crm_id="A", partner_account="Beta")], [opp("A")])
    assert reviews(outcome) == [("channel_conflict:1,2", "channel_conflict"),
                                ("link_conflict:prm:1", "link_conflict"),
                                ("link_conflict:prm:2", "link_conflict")]


def test_a_new_registration_for_a_customer_another_partner_holds_joins_one_group():
    outcome = run([reg("1", account_domain="acme.com", partner_account="Alpha", crm_id="A"),
                   reg("2", account_domain="acme.com", partner_account="Alpha"),
                   reg("3", account_domain="acme.com", partner_account="Beta")],
                  [opp("A", prm_id="1")], stored(**{"1": "A"}))
    assert reviews(outcome) == [("channel_conflict:1,2,3", "channel_conflict")]


def acme(prm_id: str, partner: str, name: str | None, **values: Value) -> MappedRecord:
    extra: dict[str, Value] = {"deal_name": name} if name is not None else {}
    return reg(prm_id, account_domain="acme.com", account_name="Acme Robotics",
               partner_account=partner, **extra, **values)


# Two partners' registrations for one customer: a conflict only when they are the same deal.
SAME_CUSTOMER = [
    ("different products", [acme("1", "Alpha", "Acme Robotics - Data Platform"),
                            acme("2", "Beta", "Acme Robotics security upgrade")], False),
    ("same product reworded", [acme("1", "Alpha", "Acme Robotics - Data Platform"),
                               acme("2", "Beta", "Acme robotics data platform FY27")], True),
    ("one name missing", [acme("1", "Alpha", "Acme Robotics - Data Platform"),
                          acme("2", "Beta", None)], True),
    ("one name only the customer", [acme("1", "Alpha", "Acme Robotics - Data Platform"),
                                    acme("2", "Beta", "ACME Robotics Inc.")], True),
    ("rejected", [acme("1", "Alpha", "Acme Robotics - Data Platform"),
                  acme("2", "Beta", "Acme Robotics data platform",
                       registration_status="rejected")], False),
    ("expired", [acme("1", "Alpha", "Acme Robotics - Data Platform",
                      registration_status="expired"),
                 acme("2", "Beta", "Acme Robotics data platform")], False),
    ("closed lost", [acme("1", "Alpha", "Acme Robotics - Data Platform"),
                     acme("2", "Beta", "Acme Robotics data platform",
                          registration_status="closed_lost")], False),
    ("approved", [acme("1", "Alpha", "Acme Robotics - Data Platform"),
                  acme("2", "Beta", "Acme Robotics data platform",
                       registration_status="approved")], True),
]


@pytest.mark.parametrize(("records", "conflict"), [case[1:] for case in SAME_CUSTOMER],
                         ids=[case[0] for case in SAME_CUSTOMER])
def test_same_customer_is_a_conflict_only_for_the_same_deal(records, conflict):
    outcome = run(records, [])
    assert reviews(outcome) == ([("channel_conflict:1,2", "channel_conflict")]
                                if conflict else [])


def test_only_the_registrations_of_the_contested_deal_form_the_conflict():
    outcome = run([acme("1", "Alpha", "Acme Robotics - Data Platform"),
                   acme("2", "Beta", "Acme Robotics data platform"),
                   acme("3", "Beta", "Acme Robotics - Security Upgrade"),
                   acme("4", "Gamma", "Acme Robotics - Field Service")], [])
    (item,) = outcome.reviews
    assert item.details["registrations"] == ("1", "2")
    assert item.details["shared"] == ("domain acme.com",)


# --- determinism -----------------------------------------------------------------------


def scenario() -> tuple[list[MappedRecord], list[MappedRecord], dict[str, Link]]:
    prm = [
        reg("1", crm_id="A"),
        reg("2", deleted=True),
        reg("3", crm_id="C", partner_account="Alpha", account_domain="acme.com"),
        reg("4", crm_id="C", partner_account="Beta", account_domain="acme.com"),
        reg("5", deal_name="Acme Corp – Data Platform", amount=Decimal(1000),
            partner_account="Alpha"),
        reg("6", deal_name="Globex Analytics", partner_account="Gamma"),
        reg("7", deal_name="Initech Pilot", partner_account="Gamma"),
        reg("8", crm_id="H", modified=1),
        reg("8", crm_id="G", modified=2),  # the newer copy counts
        reg("9", deal_name="Umbrella Backup"),
    ]
    crm = [
        opp("A", prm_id="1"), opp("B", prm_id="2"), opp("C"),
        opp("D", deal_name="ACME Corporation - data platform", amount=Decimal(1040)),
        opp("E", deal_name="Globex Analytics"), opp("F", deal_name="Globex - Analytics"),
        opp("G"), opp("H"), opp("I", deal_name="Initech Pilot"),
        opp("J", deal_name="Umbrella Backups Rollout"),
    ]
    return prm, crm, stored(**{"1": "A", "2": "B"})


def test_scenario_outcome():
    outcome = run(*scenario())
    assert pairs(outcome) == {"1": "A", "5": "D", "7": "I", "8": "G"}
    assert changes(outcome) == [("remove", "2", "B", "stored"),
                                ("create", "5", "D", "matched"),
                                ("create", "7", "I", "matched"),
                                ("create", "8", "G", "id_field")]
    assert reviews(outcome) == [("ambiguous_link:prm:6", "ambiguous_link"),
                                ("channel_conflict:3,4", "channel_conflict"),
                                ("link_conflict:prm:3", "link_conflict"),
                                ("link_conflict:prm:4", "link_conflict"),
                                ("linked_record_deleted:prm:2", "linked_record_deleted")]


@pytest.mark.parametrize("seed", range(12))
def test_outcome_does_not_depend_on_input_order(seed):
    prm, crm, links = scenario()
    expected = dump(run(prm, crm, links))
    rng = random.Random(seed)
    rng.shuffle(prm)
    rng.shuffle(crm)
    shuffled_links = dict(rng.sample(sorted(links.items()), len(links)))
    assert dump(run(prm, crm, shuffled_links)) == expected


IDEMPOTENCE_CASES = {
    "scenario": scenario(),
    "a wrong neighbour must not be taken first": (
        [reg("60000", deal_name="Acme data platform 0", amount=Decimal(300000)),
         reg("60002", deal_name="Acme data platform 2")],
        [opp("A0", deal_name="Acme data platform 0", amount=Decimal(50000)),
         opp("A2", deal_name="Acme data platform 2")], {}),
    "a chain of choices": (
        [reg("1", deal_name="Acme Data Platform", amount=Decimal(100)),
         reg("2", deal_name="Acme Data Platform", amount=Decimal(200)),
         reg("3", deal_name="Acme Data Platform")],
        [opp("A", deal_name="Acme Data Platform", amount=Decimal(100)),
         opp("B", deal_name="Acme Data Platform", amount=Decimal(200)),
         opp("C", deal_name="Acme Data Platform", amount=Decimal(400))], {}),
}


@pytest.mark.parametrize("case", sorted(IDEMPOTENCE_CASES))
def test_running_again_on_the_result_changes_no_link(case):
    # What the sync cycle does with the outcome: store the links, write the ids across.
    prm, crm, links = IDEMPOTENCE_CASES[case]
    first = run(prm, crm, links)
    crm_of = {prm_id: link.crm_id for prm_id, link in first.links.items()}
    prm_of = {crm_id: prm_id for prm_id, crm_id in crm_of.items()}
    prm = [with_values(record, crm_id=crm_of.get(record.record_id, record.values.get("crm_id")))
           for record in prm]
    crm = [with_values(record, prm_id=prm_of.get(record.record_id, record.values.get("prm_id")))
           for record in crm]
    second = run(prm, crm, dict(first.links))
    assert second.changes == ()
    assert dict(second.links) == dict(first.links)


def with_values(record: MappedRecord, **values: Value) -> MappedRecord:
    return replace(record, values=MappingProxyType({**record.values, **values}))


def dump(outcome: LinkOutcome) -> str:
    data: Any = {"links": to_jsonable(dict(outcome.links)),
                 "changes": to_jsonable(outcome.changes), "reviews": to_jsonable(outcome.reviews)}
    # Tuples keep their order in JSON: changes and reviews must come out in one order.
    return json.dumps(data, sort_keys=True)


# --- normalisation -------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Acme Corp – Data Platform", "acme data platform"),
    ("ACME Corporation - data platform", "acme data platform"),
    ("Acme, Inc.", "acme"),
    ("Acme S.A.", "acme"),
    ("Smith & Co Ltd", "smith"),
    ("O’Brien Pty Ltd (Renewal)", "obrien renewal"),
    ("Acme GmbH: Expansion", "acme expansion"),
    ("Co-Operative Bank", "co operative bank"),  # "Co" starts a word, not a suffix
    ("Software as a Service", "software as a service"),  # "as" not at the end
    ("Acme Incorporated", "acme incorporated"),  # only whole words
    ("Company", "company"),  # never the first word
    ("  Müller   GmbH — Café ", "müller café"),
])
def test_normalisation_of_names(text, expected):
    assert Normaliser(ALL_STEPS).text(text) == expected


@pytest.mark.parametrize(("steps", "text", "expected"), [
    (["lowercase"], " Acme  Inc. ", " acme  inc. "),
    (["trim", "collapse_spaces"], " Acme  Inc. ", "Acme Inc."),
    (["strip_legal_suffixes"], "Acme Inc.", "Acme"),
    (["strip_punctuation", "collapse_spaces", "trim"], "Acme, Inc.", "Acme Inc"),
    (["strip_www", "lowercase"], "WWW.Acme.com", "acme.com"),
])
def test_each_normalisation_step_does_only_its_own_job(steps, text, expected):
    assert Normaliser(steps).text(text) == expected


def test_domains_keep_their_dots():
    rules = replace_rules(exact=["account_domain"],
                          normalise=[*ALL_STEPS, "strip_www"])
    outcome = run([reg("1", deal_name="Data Platform", account_domain="www.acme.com")],
                  [opp("A", deal_name="Data Platform", account_domain="acme.com"),
                   opp("B", deal_name="Data Platform", account_domain="acmecom")], rules=rules)
    assert pairs(outcome) == {"1": "A"}


def replace_rules(**changes: Any) -> Matching:
    return RULES.model_copy(update=changes)
