"""The review queue over cycles, and what a person's decision does, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff_sync.engine.types import (
    Link,
    LinkChange,
    LinkChangeKind,
    LinkMethod,
    Plan,
    ReviewItem,
    ReviewKind,
)
from handoff_sync.store import CycleOutcome, RunKind, RunOutcome, Store, StoreError

T0 = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
PIPELINE = "partners"
AMBIGUOUS = ReviewItem("ambiguous_link:prm:901", ReviewKind.AMBIGUOUS_LINK, "prm:901",
                       "2 opportunities match Acme", (("0061", 0.82), ("0062", 0.79)),
                       {"name_score": 0.82, "checked_at": T0})
OWNER = ReviewItem("unresolved_owner:prm:902", ReviewKind.UNRESOLVED_OWNER, "prm:902",
                   "pat@partner.example has no active CRM user")


def stated(store: Store, *items: ReviewItem, at: datetime) -> None:
    """Record a cycle whose plan states exactly ``items`` as standing problems."""
    store.record_cycle(CycleOutcome(
        PIPELINE, f"run-{at.isoformat()}", RunKind.INCREMENTAL, at, at, RunOutcome.OK,
        Plan(PIPELINE, at, reviews=items), frozenset(), {}, {}))


def by_key(store: Store, status: str | None = None) -> dict[str, dict[str, object]]:
    return {item["key"]: item for item in store.reviews(PIPELINE, status=status)}


def test_items_open_stay_fresh_and_resolve_themselves_when_they_stop_holding(
        store: Store) -> None:
    stated(store, AMBIGUOUS, OWNER, at=T0)
    opened = by_key(store)
    assert set(opened) == {AMBIGUOUS.key, OWNER.key}
    assert opened[AMBIGUOUS.key]["candidates"] == [["0061", 0.82], ["0062", 0.79]]
    assert opened[AMBIGUOUS.key]["details"] == {"name_score": 0.82,
                                                "checked_at": "2026-11-18T15:30:00Z"}
    t1 = T0 + timedelta(minutes=5)
    restated = ReviewItem(AMBIGUOUS.key, AMBIGUOUS.kind, AMBIGUOUS.deal,
                          "3 opportunities match Acme", (("0063", 0.9),))
    stated(store, restated, at=t1)
    [still_open] = store.reviews(PIPELINE)
    assert (still_open["summary"], still_open["candidates"]) == (
        "3 opportunities match Acme", [["0063", 0.9]])
    assert (still_open["first_seen"], still_open["last_seen"]) == (
        "2026-11-18T15:30:00Z", "2026-11-18T15:35:00Z")
    gone = by_key(store, "resolved")[OWNER.key]
    assert (gone["resolution"], gone["resolved_at"], gone["resolved_by"]) == (
        "auto: no longer applies", "2026-11-18T15:35:00Z", None)
    # The problem comes back: an item resolved automatically opens again.
    stated(store, restated, OWNER, at=t1 + timedelta(minutes=5))
    assert set(by_key(store)) == {AMBIGUOUS.key, OWNER.key}
    assert len(store.reviews(PIPELINE, status=None)) == 2
    assert store.status(PIPELINE, now=t1)["pipelines"][PIPELINE]["reviews"]["open"] == {
        "ambiguous_link": 1, "unresolved_owner": 1}


def test_a_dismissed_item_stays_dismissed(store: Store) -> None:
    stated(store, OWNER, at=T0)
    item = store.resolve_review(PIPELINE, OWNER.key, action="dismiss", crm_id=None,
                                by="dana@vendor.example", now=T0 + timedelta(minutes=1))
    assert (item["status"], item["resolved_by"]) == ("dismissed", "dana@vendor.example")
    for minutes in (5, 10):
        stated(store, OWNER, at=T0 + timedelta(minutes=minutes))
        assert store.reviews(PIPELINE) == []
    stated(store, at=T0 + timedelta(minutes=15))
    assert by_key(store, "dismissed")[OWNER.key]["resolution"] == "dismissed"
    with pytest.raises(StoreError, match="already dismissed"):
        store.resolve_review(PIPELINE, OWNER.key, action="dismiss", crm_id=None, by="dana",
                             now=T0)


def test_linking_by_hand_stores_a_manual_link_the_next_cycle_loads(store: Store) -> None:
    stated(store, AMBIGUOUS, at=T0)
    with pytest.raises(StoreError, match=r"needs the CRM opportunity id .*0061, 0062"):
        store.resolve_review(PIPELINE, AMBIGUOUS.key, action="link", crm_id=None, by="dana",
                             now=T0)
    # Any id will do (the right opportunity may not have been a candidate).
    item = store.resolve_review(PIPELINE, AMBIGUOUS.key, action="link", crm_id="006X",
                                by="dana", now=T0 + timedelta(minutes=1))
    assert (item["status"], item["resolution"]) == ("resolved", "linked to 006X")
    assert store.load_pipeline(PIPELINE).engine.links == {
        "901": Link("901", "006X", LinkMethod.MANUAL, 1.0)}
    # Stated again before the engine sees the link: a person's decision stands.
    stated(store, AMBIGUOUS, at=T0 + timedelta(minutes=5))
    assert store.reviews(PIPELINE) == []


def test_wrong_decisions_are_refused_with_what_to_do(store: Store) -> None:
    crm_only = ReviewItem("channel_conflict:crm:0069", ReviewKind.CHANNEL_CONFLICT,
                          "crm:0069", "two partners registered Acme")
    stated(store, AMBIGUOUS, OWNER, crm_only, at=T0)
    cases = [
        ("nope", "link", "no review item 'nope' in pipeline 'partners'"),
        (OWNER.key, "link", r"\(unresolved_owner\) cannot be linked: only ambiguous_link"),
        (AMBIGUOUS.key, "approve", "unknown review action 'approve': use dismiss, or link"),
        (crm_only.key, "link", "no PRM registration to link; dismiss it instead"),
    ]
    for key, action, message in cases:
        with pytest.raises(StoreError, match=message):
            store.resolve_review(PIPELINE, key, action=action, crm_id="0061", by="dana",
                                 now=T0)
    with pytest.raises(StoreError, match="unknown review status 'closed'"):
        store.reviews(PIPELINE, status="closed")
    assert len(store.reviews(PIPELINE)) == 3
    assert store.load_pipeline(PIPELINE).engine.links == {}


def owner_item(deal: str, email: str | None, role: str = "prm_owner") -> ReviewItem:
    return ReviewItem(f"unresolved_owner:{deal}:{role}", ReviewKind.UNRESOLVED_OWNER, deal,
                      f"Partner rep {email} has no active CRM user",
                      details={"role": role, "email": email, "fallback": "revops@x.example"})


def test_dismissing_a_person_dismisses_their_items_on_every_deal_and_only_theirs(
        store: Store) -> None:
    pat = [owner_item(f"prm:9{i}", "pat@partner.example") for i in range(3)]
    # The person's grouped item about partner tasks (one for all their deals) goes too.
    pat.append(ReviewItem("unresolved_prm_owner:pat@partner.example",
                          ReviewKind.UNRESOLVED_PRM_OWNER, "owner:prm:pat@partner.example",
                          "Partner rep pat@partner.example has no active HubSpot user",
                          details={"email": "pat@partner.example",
                                   "deals": ("prm:90", "prm:91")}))
    kim = owner_item("prm:95", "kim@partner.example")
    nobody = owner_item("prm:96", None)
    stated(store, *pat, kim, nobody, AMBIGUOUS, at=T0)
    items = store.dismiss_owner_reviews(PIPELINE, " PAT@Partner.example", by="dana",
                                        now=T0 + timedelta(minutes=1))
    assert sorted(item["key"] for item in items) == sorted(item.key for item in pat)
    assert {item["status"] for item in items} == {"dismissed"}
    assert set(by_key(store, "open")) == {kim.key, nobody.key, AMBIGUOUS.key}
    # Restated by the next cycle: still dismissed; a new deal of the same person is new.
    later = owner_item("prm:97", "pat@partner.example")
    stated(store, *pat, kim, nobody, AMBIGUOUS, later, at=T0 + timedelta(minutes=5))
    assert set(by_key(store, "open")) == {kim.key, nobody.key, AMBIGUOUS.key, later.key}
    for email in ("nobody@partner.example", ""):
        with pytest.raises(StoreError, match="no open unresolved_owner item names"):
            store.dismiss_owner_reviews(PIPELINE, email, by="dana", now=T0)


def test_a_link_names_its_registration_and_takes_an_opportunity_only_when_told(
        store: Store) -> None:
    conflict = ReviewItem("channel_conflict:901,902", ReviewKind.CHANNEL_CONFLICT, "prm:901",
                          "2 registrations from 2 partners",
                          details={"registrations": ("901", "902")})
    stated(store, conflict, at=T0)
    with pytest.raises(StoreError, match=r"names 2 registrations \(901, 902\).*--registration"):
        store.resolve_review(PIPELINE, conflict.key, action="link", crm_id="0061", by="dana",
                             now=T0)
    with pytest.raises(StoreError, match="registration '903' is not one of"):
        store.resolve_review(PIPELINE, conflict.key, action="link", crm_id="0061", by="dana",
                             now=T0, registration="903")
    # Another registration holds the opportunity: it moves only when the caller says so.
    store.record_cycle(CycleOutcome(
        PIPELINE, "run-link", RunKind.INCREMENTAL, T0, T0, RunOutcome.OK,
        Plan(PIPELINE, T0, links=(LinkChange(LinkChangeKind.CREATE,
                                             Link("777", "0061", LinkMethod.MATCHED, 0.97),
                                             "name 0.97"),), reviews=(conflict,)),
        frozenset(), {}, {}))
    with pytest.raises(StoreError, match="opportunity 0061 is linked to registration 777"):
        store.resolve_review(PIPELINE, conflict.key, action="link", crm_id="0061", by="dana",
                             now=T0, registration="902")
    assert store.load_pipeline(PIPELINE).engine.links == {
        "777": Link("777", "0061", LinkMethod.MATCHED, 0.97)}
    item = store.resolve_review(PIPELINE, conflict.key, action="link", crm_id="0061",
                                by="dana", now=T0, registration="902", displace=["777"])
    assert item["resolution"] == "linked to 0061"
    assert store.load_pipeline(PIPELINE).engine.links == {
        "902": Link("902", "0061", LinkMethod.MANUAL, 1.0)}


def test_several_items_are_dismissed_at_once_and_closed_ones_left_as_they_are(
        store: Store) -> None:
    third = ReviewItem("unresolved_owner:prm:903", ReviewKind.UNRESOLVED_OWNER, "prm:903",
                       "pat@partner.example has no active CRM user")
    stated(store, AMBIGUOUS, OWNER, third, at=T0)
    store.resolve_review(PIPELINE, third.key, action="dismiss", crm_id=None, by="vic",
                         now=T0)
    with pytest.raises(StoreError, match=r"no review item 'nope'.*nothing was dismissed"):
        store.dismiss_reviews(PIPELINE, [OWNER.key, "nope"], by="ada", now=T0)
    assert by_key(store, "open")[OWNER.key]["status"] == "open"

    later = T0 + timedelta(minutes=1)
    done = store.dismiss_reviews(PIPELINE, [OWNER.key, third.key], by="ada", now=later)
    assert [(item["key"], item["resolved_by"]) for item in done] == [
        (OWNER.key, "ada"), (third.key, "vic")]
    assert set(by_key(store, "open")) == {AMBIGUOUS.key}
    stated(store, AMBIGUOUS, OWNER, third, at=later + timedelta(minutes=1))
    assert set(by_key(store, "open")) == {AMBIGUOUS.key}  # a dismissal outlives the next cycle
    with pytest.raises(StoreError, match="select at least one"):
        store.dismiss_reviews(PIPELINE, [" "], by="ada", now=later)
