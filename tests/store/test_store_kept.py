"""The state a daemon keeps between cycles (store.kept), on SQLite and PostgreSQL.

What a user would notice if it were wrong: a cycle planning on a state the store no
longer holds: a link a person made in the console between two cycles ignored (the next
cycle creates a second opportunity, or overwrites the pairing), a task closed twice, a
deal's base snapshot from two cycles ago (the merge sees a change and writes the deal
again).
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from handoff_sync.engine.plan import plan
from handoff_sync.engine.types import (
    Link,
    LinkChange,
    LinkChangeKind,
    LinkMethod,
    Plan,
    ReviewItem,
    ReviewKind,
)
from handoff_sync.store import Store
from handoff_sync.store import reviews as review_queue
from handoff_sync.store.kept import VERIFY_VARIABLE
from handoff_sync.testing.builders import seeded_inputs
from tests.store.test_store_cycle import NOW, PIPELINE, cycle
from tests.store.test_store_footprint import _mirror, typed

LATER = NOW + timedelta(minutes=5)
REGISTRATION = "prm-review-1"
AMBIGUOUS = ReviewItem(f"ambiguous_link:prm:{REGISTRATION}", ReviewKind.AMBIGUOUS_LINK,
                       f"prm:{REGISTRATION}", "two opportunities look like it",
                       candidates=(("006X1", 0.9), ("006X2", 0.88)))


@pytest.fixture(autouse=True)
def no_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests compare with a full load themselves, types included."""
    monkeypatch.delenv(VERIFY_VARIABLE, raising=False)


def _first(store: Store) -> Plan:
    store.migrate()
    first = plan(seeded_inputs(deals=40, now=NOW).engine_input(NOW))
    return dataclasses.replace(first, reviews=(*first.reviews, AMBIGUOUS))


def test_each_recorded_cycle_keeps_exactly_what_a_full_load_reads(store: Store) -> None:
    first = _first(store)
    empty = store.load_pipeline(PIPELINE)
    _, kept = store.record_and_keep(cycle(first, mirror=_mirror()), empty)
    assert kept is not None and kept.serial == 1
    assert typed(kept) == typed(store.load_pipeline(PIPELINE))

    # A later cycle that changes some deals, closes a task and drops a link.
    inputs = seeded_inputs(deals=40, now=NOW).engine_input(LATER, state=kept.engine)
    second = plan(inputs)
    closed = sorted(kept.engine.tasks)[:1]
    _, again = store.record_and_keep(
        cycle(second, run_id="run-2", ended_at=LATER, closed_by_user=frozenset(closed)), kept)
    loaded = store.load_pipeline(PIPELINE)
    assert again is not None and again.serial == 2 == loaded.serial
    assert typed(again) == typed(loaded)
    # Nobody wrote since: the next cycle starts from what was kept.
    assert store.load_pipeline(PIPELINE, kept=again).engine is again.engine


def test_a_link_made_in_the_console_between_cycles_is_in_the_next_cycles_state(
        store: Store) -> None:
    first = _first(store)
    _, kept = store.record_and_keep(cycle(first), store.load_pipeline(PIPELINE))
    assert kept is not None and REGISTRATION not in kept.engine.links
    store.resolve_review(PIPELINE, AMBIGUOUS.key, action="link", crm_id="006X2", by="ada",
                         now=LATER)
    state = store.load_pipeline(PIPELINE, kept=kept)
    assert state.engine.links[REGISTRATION].crm_id == "006X2"
    assert typed(state) == typed(store.load_pipeline(PIPELINE))


def test_a_decision_made_while_a_cycle_ran_is_not_overwritten_by_what_it_kept(
        store: Store) -> None:
    first = _first(store)
    _, kept = store.record_and_keep(cycle(first), store.load_pipeline(PIPELINE))
    assert kept is not None
    # The next cycle loaded its state; a person links the registration while it plans.
    planning_on = store.load_pipeline(PIPELINE, kept=kept)
    store.resolve_review(PIPELINE, AMBIGUOUS.key, action="link", crm_id="006X1", by="ada",
                         now=LATER)
    _, after = store.record_and_keep(cycle(Plan(PIPELINE, LATER), run_id="run-2",
                                           ended_at=LATER), planning_on)
    assert after is None  # its by-key read would miss the person's link: load it whole
    assert store.load_pipeline(PIPELINE).engine.links[REGISTRATION].crm_id == "006X1"


def test_a_full_pull_replaced_the_mirror_so_nothing_is_kept(store: Store) -> None:
    from handoff_sync.model import Role

    first = _first(store)
    _, kept = store.record_and_keep(
        cycle(first, mirror=_mirror(), mirror_replace=frozenset({Role.PRM})),
        store.load_pipeline(PIPELINE))
    assert kept is None


def test_a_link_that_absorbs_a_lone_opportunity_drops_its_deal_from_what_is_kept(
        store: Store) -> None:
    first = _first(store)
    _, kept = store.record_and_keep(cycle(first), store.load_pipeline(PIPELINE))
    assert kept is not None
    lone = next(deal for deal in sorted(kept.engine.verdicts) if deal.startswith("crm:"))
    link = Link(REGISTRATION, lone.removeprefix("crm:"), LinkMethod.MANUAL, 1.0)
    _, after = store.record_and_keep(
        cycle(Plan(PIPELINE, LATER, links=(LinkChange(LinkChangeKind.CREATE, link, "test"),)),
              run_id="run-2", ended_at=LATER), kept)
    assert after is not None
    assert lone not in after.engine.verdicts
    assert not [key for key in after.engine.clocks if key[0] == lone]
    assert typed(after) == typed(store.load_pipeline(PIPELINE))


def test_a_decision_committed_while_the_cycle_records_is_never_kept_stale(
        store: Store) -> None:
    """PostgreSQL, READ COMMITTED: a person's link, written but not yet committed when the
    cycle records, holds the rows the recording needs; whichever commits second, the
    next cycle plans on the person's link."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's write transactions never overlap")
    first = _first(store)
    _, kept = store.record_and_keep(cycle(first), store.load_pipeline(PIPELINE))
    assert kept is not None
    planning_on = store.load_pipeline(PIPELINE, kept=kept)
    with ThreadPoolExecutor(1) as pool:
        with store.engine.connect() as person, person.begin():
            review_queue.resolve(person, PIPELINE, AMBIGUOUS.key, action="link",
                                 crm_id="006X1", by="ada", now=LATER)
            recording = pool.submit(store.record_and_keep, cycle(
                Plan(PIPELINE, LATER, reviews=(AMBIGUOUS,)), run_id="run-2",
                ended_at=LATER), planning_on)
            time.sleep(0.5)  # the recording waits on the person's locks
            assert not recording.done()
        _, after = recording.result(timeout=30)
    state = store.load_pipeline(PIPELINE, kept=after)
    assert state.engine.links[REGISTRATION].crm_id == "006X1"
    assert typed(state) == typed(store.load_pipeline(PIPELINE))
