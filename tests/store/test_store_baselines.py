"""The close date each handoff started with, as the store keeps it (SQLite and PostgreSQL):
recorded in the cycle's transaction, written once, given a first close date when it had
none, and gone with the lone opportunity a link absorbs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from handoff_sync.engine.types import (
    HandoffBaseline,
    Link,
    LinkChange,
    LinkChangeKind,
    LinkMethod,
    Plan,
)
from handoff_sync.store import CycleOutcome, RunKind, RunOutcome, Store

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
PIPELINE = "partners"
ORIGINAL = date(2027, 1, 15)


def record(store: Store, run_id: str, now: datetime, **plan: object) -> None:
    store.record_cycle(CycleOutcome(
        pipeline=PIPELINE, run_id=run_id, kind=RunKind.INCREMENTAL,
        started_at=now - timedelta(seconds=5), ended_at=now, outcome=RunOutcome.OK,
        plan=Plan(PIPELINE, now, **plan),  # type: ignore[arg-type]
        written_deals=frozenset(), task_ids={}, mirror={}))


def baselines(store: Store) -> dict[tuple[str, str], HandoffBaseline]:
    return dict(store.load_pipeline(PIPELINE).engine.baselines)


def test_a_baseline_is_written_once_whatever_later_plans_say(store: Store) -> None:
    first = HandoffBaseline("prm:1", "partner_to_direct", NOW, ORIGINAL)
    record(store, "run-1", NOW, baselines=(first,))
    assert baselines(store) == {("prm:1", "partner_to_direct"): first}
    # A later plan with another date (a redone cycle, a bug) never moves the original.
    later = NOW + timedelta(days=3)
    record(store, "run-2", later, baselines=(
        HandoffBaseline("prm:1", "partner_to_direct", later, date(2027, 4, 1)),))
    assert baselines(store) == {("prm:1", "partner_to_direct"): first}
    assert store.load_pipeline("other").engine.baselines == {}


def test_a_baseline_without_a_close_date_takes_the_first_one(store: Store) -> None:
    record(store, "run-1", NOW, baselines=(
        HandoffBaseline("prm:2", "partner_to_direct", NOW, None),))
    later = NOW + timedelta(days=1)
    record(store, "run-2", later, baselines=(
        HandoffBaseline("prm:2", "partner_to_direct", NOW, ORIGINAL),))
    assert baselines(store) == {("prm:2", "partner_to_direct"): HandoffBaseline(
        "prm:2", "partner_to_direct", NOW, ORIGINAL)}


def test_an_opportunity_a_link_absorbs_takes_its_lone_baseline_along(store: Store) -> None:
    record(store, "run-1", NOW, baselines=(
        HandoffBaseline("crm:006A", "closed_won_to_cs", NOW, ORIGINAL),))
    link = Link("9", "006A", LinkMethod.ID_FIELD, 1.0)
    record(store, "run-2", NOW + timedelta(hours=1),
           links=(LinkChange(LinkChangeKind.CREATE, link, "id field"),))
    assert baselines(store) == {}
