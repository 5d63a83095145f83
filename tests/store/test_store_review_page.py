"""A page of the review queue read from the store: the entries `handoff-sync review`
lists (unresolved_owner items one entry per person), sliced into pages, on both
backends, with only a group's first items read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from handoff_sync.engine.types import Plan, ReviewItem, ReviewKind
from handoff_sync.store import CycleOutcome, ReviewNames, RunKind, RunOutcome, Store
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


def named(store: Store, items: list[tuple[ReviewItem, ReviewNames | None]], at: datetime,
          later: dict[str, ReviewNames] | None = None) -> None:
    """A cycle that states ``items`` with their names (None: none given), and names
    ``later``'s stored items without stating them (as a cycle names older rows)."""
    names = {item.key: found for item, found in items if found is not None}
    store.record_cycle(CycleOutcome(
        PIPELINE, f"named-{at.isoformat()}", RunKind.INCREMENTAL, at, at, RunOutcome.OK,
        Plan(PIPELINE, at, reviews=tuple(item for item, _names in items)), frozenset(),
        {}, {},
        review_names={**names, **(later or {})}))


def names(*partners: str, text: str) -> ReviewNames:
    return ReviewNames("".join(f"\n{p.casefold()}\n" for p in partners), text.casefold())


def conflict() -> ReviewItem:
    return ReviewItem("channel_conflict:1,2", ReviewKind.CHANNEL_CONFLICT, "prm:1",
                      "2 registrations from 2 partners",
                      details={"registrations": ["1", "2"]})


def named_queue(store: Store) -> None:
    named(store, named_items(), at=T0)


def named_items() -> list[tuple[ReviewItem, ReviewNames | None]]:
    """Ann's three deals (one of partner Acme Corp, two of Globex: a blue and a red one),
    a channel conflict between Acme Corp and "Foo_Bar 100%", and two routing items."""
    return [
        (owner(1, "ann@x.example"), names("Acme Corp", text="ann@x.example green deal")),
        (routing("r1"), names(text="routing_owner:r1@vendor.example")),
        (owner(2, "Ann@X.example"), names("Globex", text="ann@x.example blue widget")),
        (conflict(), names("Acme Corp", "Foo_Bar 100%",
                           text="channel_conflict:1,2 red widget foo_bar 100%")),
        (owner(3, "ann@x.example"), names("Globex", text="ann@x.example red gadget")),
        (routing("r2"), names(text="routing_owner:r2@vendor.example xzy")),
    ]


def shown(store: Store, **filters: Any) -> tuple[list[tuple[str, int]], dict[str, int]]:
    """(first key, size) per entry, and the counts per kind, under ``filters``."""
    kind = filters.pop("kind", None)
    page = store.review_page(PIPELINE, "open", kind, offset=0, limit=50, per_group=8,
                             **filters)
    assert page.item_total == sum(n for k, n in page.counts if not kind or k == kind)
    assert page.entry_total == len(page.entries)
    return ([(entry.items[0]["key"], entry.size) for entry in page.entries],
            dict(page.counts))


def test_name_filters_keep_entries_whose_names_match(store: Store) -> None:
    named_queue(store)
    ann = ("unresolved_owner:prm:1:crm_owner", 3)
    assert shown(store, partner="ACME CORP") == (
        [("channel_conflict:1,2", 1), ann], {"channel_conflict": 1, "unresolved_owner": 3})
    # A person's group matches as a whole, its items together: one names the partner,
    # each word is in one of them; a single item must hold every word itself.
    assert shown(store, words=["Blue", "GADGET"]) == ([ann], {"unresolved_owner": 3})
    assert shown(store, words=["red", "widget"]) == (
        [("channel_conflict:1,2", 1), ann], {"channel_conflict": 1, "unresolved_owner": 3})
    assert shown(store, words=["red", "widget", "conflict"]) == (
        [("channel_conflict:1,2", 1)], {"channel_conflict": 1})
    assert shown(store, partner="globex", words=["green"]) == ([ann],
                                                               {"unresolved_owner": 3})
    assert shown(store, partner="Acme") == ([], {})  # whole names only
    # The kind filter narrows the list, not the counts.
    assert shown(store, partner="acme corp", kind="channel_conflict") == (
        [("channel_conflict:1,2", 1)], {"channel_conflict": 1, "unresolved_owner": 3})
    assert shown(store, words=["r2@"], kind="unresolved_owner") == ([],
                                                                   {"routing_owner": 1})


def test_like_wildcards_in_a_filter_are_plain_characters(store: Store) -> None:
    named_queue(store)
    conflict_only = ([("channel_conflict:1,2", 1)], {"channel_conflict": 1})
    assert shown(store, partner="foo_bar 100%") == conflict_only
    assert shown(store, partner="Foo%") == ([], {})
    assert shown(store, partner="foo_bar 1000") == ([], {})
    assert shown(store, words=["100%"]) == conflict_only
    assert shown(store, words=["o_b"]) == conflict_only
    assert shown(store, words=["x_y"]) == ([], {})  # not "xzy"
    assert shown(store, words=["r%d"]) == ([], {})  # not "red"
    assert shown(store, words=["%"]) == conflict_only  # only "100%" holds one


def test_items_without_names_match_no_name_filter_until_a_cycle_names_them(
        store: Store) -> None:
    named_queue(store)
    assert not store.has_unnamed_reviews(PIPELINE, None)
    late = owner(4, "zed@x.example")
    r1 = "routing_owner:r1@vendor.example"
    # Stated without names (as by a caller that gives none): NULL, and a restated item
    # given none loses its old ones (they may be stale).
    restated = [(item, None if item.key == r1 else found) for item, found in named_items()]
    named(store, [*restated, (late, None)], at=T0 + timedelta(minutes=5))
    assert store.has_unnamed_reviews(PIPELINE, "open")
    assert not store.has_unnamed_reviews(PIPELINE, "dismissed")
    assert not store.has_unnamed_reviews("other", None)
    assert [item["key"] for item in store.unnamed_reviews(PIPELINE, 10)] == [r1, late.key]
    assert shown(store, words=["r1@"]) == ([], {})
    assert shown(store, words=["zed@x.example"]) == ([], {})
    # A later cycle names them: the one it states, and the one it no longer states
    # (resolved by that cycle) from the stored row.
    kept = [(item, found) for item, found in named_items() if item.key != r1]
    named(store, [*kept, (late, names("Initech", text="zed@x.example late deal"))],
          at=T0 + timedelta(minutes=10), later={r1: names(text=r1)})
    assert not store.has_unnamed_reviews(None, None)
    assert shown(store, partner="initech") == ([(late.key, 1)], {"unresolved_owner": 1})
    resolved = store.review_page(PIPELINE, "resolved", None, offset=0, limit=5,
                                 per_group=1, words=["R1@"])
    assert [entry.items[0]["key"] for entry in resolved.entries] == [r1]
