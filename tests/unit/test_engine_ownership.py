"""Person roles resolve to active CRM users, else to the fallback owner with a review."""

import pytest

from connectors.base import Owner
from handoff_sync.engine.ownership import (
    Assignee,
    duplicate_owner_reviews,
    resolve_person,
    unresolved_owner_review,
)
from handoff_sync.engine.types import ReviewKind
from handoff_sync.model import Deal, OwnerDirectory, PersonRole, Role

FALLBACK = "revops@example.com"
OWNERS = OwnerDirectory([
    Owner("005A", "ann@example.com", manager_id="005M"),
    Owner("005M", "mia@example.com"),
    Owner("005B", "bob@example.com", manager_id="005X"),
    Owner("005X", "xena@example.com", active=False),
    Owner("005C", "carl@example.com"),  # no manager on record
    Owner("005O", "old@example.com", active=False),
    Owner("005P", "pat@partner.example"),  # a partner rep with a CRM user
])
DEAL_KEY = "prm:123"

R = PersonRole


@pytest.mark.parametrize(("role", "fields", "email", "wanted", "resolved"), [
    # active users
    (R.CRM_OWNER, {"ae_email": "ann@example.com"}, "ann@example.com", "ann@example.com", True),
    (R.CS_OWNER, {"cs_owner_email": "carl@example.com"}, "carl@example.com",
     "carl@example.com", True),
    (R.PRM_OWNER, {"partner_rep_email": "pat@partner.example"}, "pat@partner.example",
     "pat@partner.example", True),
    (R.MANAGER, {"ae_email": "ann@example.com"}, "mia@example.com", "mia@example.com", True),
    # inactive users
    (R.CRM_OWNER, {"ae_email": "old@example.com"}, FALLBACK, "old@example.com", False),
    (R.CS_OWNER, {"cs_owner_email": "old@example.com"}, FALLBACK, "old@example.com", False),
    (R.MANAGER, {"ae_email": "bob@example.com"}, FALLBACK, "xena@example.com", False),
    # unknown to the CRM
    (R.PRM_OWNER, {"partner_rep_email": "rep@partner.example"}, FALLBACK,
     "rep@partner.example", False),
    (R.CS_OWNER, {"cs_owner_email": "nobody@example.com"}, FALLBACK, "nobody@example.com",
     False),
    (R.MANAGER, {"ae_email": "nobody@example.com"}, FALLBACK, None, False),
    # blank
    (R.CRM_OWNER, {}, FALLBACK, None, False),
    (R.CS_OWNER, {"ae_email": "ann@example.com"}, FALLBACK, None, False),
    (R.PRM_OWNER, {"ae_email": "ann@example.com"}, FALLBACK, None, False),
    (R.MANAGER, {}, FALLBACK, None, False),
    (R.MANAGER, {"ae_email": "carl@example.com"}, FALLBACK, None, False),
    # each role reads its own field, not another role's
    (R.CRM_OWNER, {"ae_email": "ann@example.com", "cs_owner_email": "carl@example.com"},
     "ann@example.com", "ann@example.com", True),
])
def test_resolve_person(role, fields, email, wanted, resolved):
    assignee = resolve_person(role, Deal(**fields), OWNERS, FALLBACK)
    assert assignee == Assignee(email, role, wanted, resolved)


def test_email_case_and_spaces_do_not_hide_an_active_user():
    assignee = resolve_person(R.CRM_OWNER, Deal(ae_email=" Ann@Example.com "), OWNERS, FALLBACK)
    assert assignee == Assignee("ann@example.com", R.CRM_OWNER, "ann@example.com", True)


def test_a_resolved_person_raises_no_review():
    assignee = resolve_person(R.CRM_OWNER, Deal(ae_email="ann@example.com"), OWNERS, FALLBACK)
    assert unresolved_owner_review(DEAL_KEY, assignee) is None


@pytest.mark.parametrize(("role", "fields", "says"), [
    (R.CRM_OWNER, {"ae_email": "old@example.com"},
     ["account executive old@example.com has no active CRM user", FALLBACK,
      "add or reactivate the user", "correct ae_email"]),
    (R.CS_OWNER, {"cs_owner_email": "nobody@example.com"},
     ["CS owner nobody@example.com has no active CRM user", FALLBACK, "cs_owner_email"]),
    (R.PRM_OWNER, {"partner_rep_email": "rep@partner.example"},
     ["Partner rep rep@partner.example has no active CRM user",
      f"goes to the fallback owner {FALLBACK}", "add them as a CRM user",
      "partner_rep_email"]),
    (R.CRM_OWNER, {}, ["No account executive", FALLBACK, "fill ae_email"]),
    (R.CS_OWNER, {}, ["No CS owner", FALLBACK, "fill cs_owner_email (CS owner)"]),
    (R.PRM_OWNER, {}, ["No partner rep", FALLBACK, "fill partner_rep_email"]),
    (R.MANAGER, {"ae_email": "bob@example.com"},
     ["manager xena@example.com has no active CRM user", FALLBACK, "set another manager"]),
    (R.MANAGER, {"ae_email": "carl@example.com"},
     ["No AE's manager", FALLBACK, "fill ae_email", "set that user's manager"]),
])
def test_fallback_raises_a_review_naming_role_email_and_the_fix(role, fields, says):
    assignee = resolve_person(role, Deal(**fields), OWNERS, FALLBACK)
    review = unresolved_owner_review(DEAL_KEY, assignee)
    assert review is not None
    assert review.kind is ReviewKind.UNRESOLVED_OWNER
    assert review.key == f"unresolved_owner:{DEAL_KEY}:{role.value}"
    assert review.deal == DEAL_KEY
    for text in says:
        assert text.lower() in review.summary.lower(), (text, review.summary)
    assert "\n" not in review.summary
    assert review.details["role"] == role.value
    assert review.details["email"] == assignee.wanted
    assert review.details["fallback"] == FALLBACK


def test_the_review_is_the_same_every_cycle_so_the_store_keeps_one_item():
    deal = Deal(ae_email="old@example.com")
    first = unresolved_owner_review(DEAL_KEY, resolve_person(R.CRM_OWNER, deal, OWNERS,
                                                             FALLBACK))
    again = unresolved_owner_review(DEAL_KEY, resolve_person(R.CRM_OWNER, deal, OWNERS,
                                                             FALLBACK))
    assert first == again
    other_role = unresolved_owner_review(DEAL_KEY, resolve_person(R.CS_OWNER, deal, OWNERS,
                                                                  FALLBACK))
    assert other_role is not None and first is not None and other_role.key != first.key


SHARED = OwnerDirectory([
    Owner("005S", "sam@example.com", manager_id="005M", name="Sam Stone"),
    Owner("005T", "sam@example.com", name="Sam Stone (test user)"),
    Owner("005M", "mia@example.com"),
])


@pytest.mark.parametrize("role", [R.CRM_OWNER, R.MANAGER])
def test_an_email_two_active_users_share_falls_back_with_no_per_deal_item(role):
    assignee = resolve_person(role, Deal(ae_email="Sam@example.com"), SHARED, FALLBACK)

    assert assignee.email == FALLBACK and not assignee.resolved
    assert assignee.duplicate == "sam@example.com"
    assert unresolved_owner_review(DEAL_KEY, assignee) is None  # one item per email instead


def test_one_review_per_shared_email_names_both_users_and_goes_when_they_do():
    [item] = duplicate_owner_reviews(SHARED, Role.CRM, "salesforce", FALLBACK)

    assert item.kind is ReviewKind.DUPLICATE_OWNER_EMAIL
    assert item.key == "duplicate_owner_email:crm:sam@example.com"
    for text in ("sam@example.com", "005S (Sam Stone)", "005T (Sam Stone (test user))",
                 FALLBACK, "salesforce"):
        assert text in item.summary
    assert [dict(u) for u in item.details["users"]] == [
        {"id": "005S", "name": "Sam Stone"}, {"id": "005T", "name": "Sam Stone (test user)"}]
    assert duplicate_owner_reviews(SHARED, Role.CRM, "salesforce", FALLBACK) == [item]
    fixed = OwnerDirectory([Owner("005S", "sam@example.com"),
                            Owner("005T", "sam@example.com", active=False)])
    assert duplicate_owner_reviews(fixed, Role.CRM, "salesforce", FALLBACK) == []
    assert resolve_person(R.CRM_OWNER, Deal(ae_email="sam@example.com"), fixed,
                          FALLBACK).resolved
