"""Partner accounts recorded with a cycle and loaded back, on SQLite and PostgreSQL.

What a user would notice if the store were wrong: a partner's capability read back as
another type (a picklist rating, a number of engineers, a yes/no), a partner the PRM
deleted still scored, a partner left behind by a full reconcile, or the partners' cursor
moving in a cycle whose partner rows were not stored (a crash would lose their edits).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType

import pytest

from connectors.base import Cursor
from handoff_sync.engine.types import Plan
from handoff_sync.model import PartnerAccount
from handoff_sync.store import (
    CycleOutcome,
    LeaseLost,
    PartnerChanges,
    PartnerRecord,
    RunKind,
    RunOutcome,
    Store,
    pipeline_lease,
)

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
PIPELINE = "partners"
KEY = ("hubspot", "companies")


def partner(account_id: str, name: str, **values: object) -> PartnerRecord:
    account = PartnerAccount(account_id, name, "cm@vendor.example",
                             MappingProxyType({f"partner.{k}": v for k, v in values.items()}))
    return PartnerRecord(account, NOW - timedelta(days=1))


def cycle(changes: PartnerChanges, *, run_id: str = "run-1",
          cursor: Cursor | None = None) -> CycleOutcome:
    return CycleOutcome(
        pipeline=PIPELINE, run_id=run_id, kind=RunKind.INCREMENTAL,
        started_at=NOW - timedelta(seconds=30), ended_at=NOW, outcome=RunOutcome.OK,
        plan=Plan(PIPELINE, NOW), written_deals=frozenset(), task_ids={}, mirror={},
        checkpoints={KEY: cursor or Cursor(NOW, "9")}, partners=changes)


def test_partners_load_back_with_their_values_typed(store: Store) -> None:
    store.migrate()
    assert store.load_partners(PIPELINE) == {}
    gold = partner("101", "Brightpath Partners", technical_conversations="proficient",
                   certified_engineers=4, navigates_approvals=True, tier="Gold",
                   rating=Decimal("3.5"), notes=None)
    store.record_cycle(cycle(PartnerChanges({"101": gold})))
    loaded = store.load_partners(PIPELINE)
    assert loaded == {"101": gold.account}
    values = loaded["101"].values
    assert values["partner.certified_engineers"] == 4
    assert values["partner.navigates_approvals"] is True
    assert values["partner.rating"] == Decimal("3.5")
    assert values["partner.notes"] is None
    assert store.load_pipeline(PIPELINE).checkpoints[KEY] == Cursor(NOW, "9")
    assert store.load_partners("another pipeline") == {}


def test_an_edit_replaces_a_partner_and_a_deletion_drops_it(store: Store) -> None:
    store.migrate()
    store.record_cycle(cycle(PartnerChanges({
        "101": partner("101", "Brightpath Partners", certified_engineers=1),
        "102": partner("102", "Northwind Alliance", certified_engineers=2)})))
    edited = partner("101", "Brightpath Partners", certified_engineers=5)
    store.record_cycle(cycle(PartnerChanges({"101": edited}, deleted=frozenset({"102"})),
                             run_id="run-2"))
    assert store.load_partners(PIPELINE) == {"101": edited.account}


def test_a_full_pull_replaces_the_partners(store: Store) -> None:
    store.migrate()
    store.record_cycle(cycle(PartnerChanges({
        "101": partner("101", "Brightpath Partners"),
        "102": partner("102", "Northwind Alliance")})))
    # An incremental pull that did not return 102 leaves it alone ...
    store.record_cycle(cycle(PartnerChanges({"101": partner("101", "Brightpath")}),
                             run_id="run-2"))
    assert set(store.load_partners(PIPELINE)) == {"101", "102"}
    # ... a full one that did not return it means it is no partner any more.
    store.record_cycle(cycle(PartnerChanges({"101": partner("101", "Brightpath")},
                                            replace=True), run_id="run-3"))
    assert set(store.load_partners(PIPELINE)) == {"101"}


def test_a_cycle_that_loses_its_lease_stores_no_partner_and_no_cursor(store: Store) -> None:
    store.migrate()
    lease = pipeline_lease(PIPELINE)
    assert store.try_lease(lease, "replica-b", timedelta(minutes=5), NOW)
    with pytest.raises(LeaseLost):
        store.record_cycle(cycle(PartnerChanges({"101": partner("101", "Brightpath")})),
                           lease=(lease, "replica-a"))
    assert store.load_partners(PIPELINE) == {}
    assert KEY not in store.load_pipeline(PIPELINE).checkpoints
