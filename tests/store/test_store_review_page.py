"""A page of the review queue read from the store: the entries `handoff-sync review`
lists (unresolved_owner items one entry per person), sliced into pages, on both
backends, with only a group's first items read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff_sync.engine.types import Plan, ReviewItem, ReviewKind
from handoff_sync.store import CycleOutcome, RunKind, RunOutcome, Store
from handoff_sync.sync.review_groups import group_reviews

T0 = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
PIPELINE = "partners"


def stated(store: Store, *items: ReviewItem, at: datetime) -> None:
    """A cycle that states ``items`` (and every item it stated before: nothing closes)."""
    store.record_cycle(CycleOutcome(
        PIPELINE, f"run-{at.isoformat()}", RunKind.INCREMENTAL, at, at, RunOutcome.OK,
        Plan(PIPELINE, at, reviews=items), frozenset(), {}, {}))


def owner(deal: int, email: str | None, role: str = "crm_owner") -> ReviewItem:
    return ReviewItem(f"unresolved_owner:prm:{deal}:{role}", ReviewKind.UNRESOLVED_OWNER,
                      f"prm:{deal}", f"{email} has no active CRM user",
                      details={"role": role, "email": email})


def routing(name: str) -> ReviewItem:
    return ReviewItem(f"routing_owner:{name}@vendor.example", ReviewKind.ROUTING_OWNER,
                      f"owner:{name}", f"{name} has no active CRM user",
                      details={"email": f"{name}@vendor.example"})


def queue(store: Store) -> None:
    """Two cycles: people's items interleaved with single items, one person's email in
    two cases, items without an email, one person in two roles, and a later cycle that
    adds deals to an existing group (the group stays where its first item is)."""
    first = []
    for deal in range(30):
        email = ("Ann@X.example", "bob@x.example", None)[deal % 3]
        first.append(owner(100 + deal, "ann@x.example" if deal % 6 == 0 else email))
        first.append(routing(f"r{deal:02d}"))
    first += [owner(200 + deal, "ann@x.example", role="cs_owner") for deal in range(4)]
    stated(store, *first, at=T0)
    later = [owner(300 + deal, "BOB@x.example") for deal in range(5)]
    later += [routing(f"s{deal:02d}") for deal in range(5)]
    stated(store, *first, *later, at=T0 + timedelta(minutes=5))


def test_pages_hold_the_entries_review_lists_in_its_order(store: Store) -> None:
    queue(store)
    expected = group_reviews(store.reviews(PIPELINE))
    assert len(expected) == 30 + 3 + 1 + 5  # routing items, three groups of crm_owner...
    for size in (1, 4, 7, 50):
        seen = []
        for offset in range(0, len(expected) + size, size):
            page = store.review_page(PIPELINE, "open", None, offset=offset, limit=size,
                                     per_group=3)
            assert page.entry_total == len(expected) and page.item_total == 30 + 30 + 4 + 10
            assert len(page.entries) == min(size, max(0, len(expected) - offset))
            seen += page.entries
        assert [entry.items[0]["key"] for entry in seen] == [e.first["key"] for e in expected]
        for entry, want in zip(seen, expected, strict=True):
            assert entry.grouped == want.grouped
            if want.grouped:
                # The group's size is all of it; its items read are its oldest three.
                assert entry.size == len(want.keys)
                assert [item["key"] for item in entry.items] == want.keys[:3]
            else:
                assert entry.size == 1 and entry.items[0] == want.first
    page = store.review_page(PIPELINE, "open", None, offset=0, limit=50, per_group=3)
    assert dict(page.counts) == {"routing_owner": 35, "unresolved_owner": 39}
    bob = next(entry for entry in page.entries if entry.email == "bob@x.example")
    assert bob.size == 10 + 5 and bob.role == "crm_owner"  # two cycles, two cases


def test_a_kind_filter_and_a_status_filter_page_what_they_keep(store: Store) -> None:
    queue(store)
    owners = store.review_page(PIPELINE, "open", "unresolved_owner", offset=0, limit=2,
                               per_group=100)
    assert owners.entry_total == 4 and owners.item_total == 39
    assert dict(owners.counts)["routing_owner"] == 35  # counts ignore the kind filter
    assert {item["kind"] for entry in owners.entries for item in entry.items} == {
        "unresolved_owner"}
    keys = store.owner_group_keys(PIPELINE, "crm_owner", "ANN@x.example")
    assert len(keys) == 10 and all(key.endswith(":crm_owner") for key in keys)
    store.dismiss_reviews(PIPELINE, keys, by="dana", now=T0 + timedelta(minutes=9))
    dismissed = store.review_page(PIPELINE, "dismissed", None, offset=0, limit=10,
                                  per_group=100)
    assert [(entry.size, entry.email) for entry in dismissed.entries] == [
        (10, "ann@x.example")]
    assert store.owner_group_keys(PIPELINE, "crm_owner", "ann@x.example") == []
    everything = store.review_page(None, None, None, offset=0, limit=100, per_group=1)
    assert everything.entry_total == 39  # Ann's items, dismissed: still one entry
    past = store.review_page(PIPELINE, "open", None, offset=500, limit=10, per_group=1)
    assert past.entries == () and past.entry_total == 38
    assert store.review_items(PIPELINE, [keys[0], "nope"]).keys() == {keys[0]}
