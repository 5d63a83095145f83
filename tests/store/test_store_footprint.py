"""Migration 0012 (store footprint), on SQLite and PostgreSQL.

Stores written before it hold mirrored records and base snapshots as JSON columns; the
migration packs them (``store.codec.pack``), and its downgrade unpacks them again. What a
user would notice if it were wrong: a value that changed type or precision on the way
(the merge would see a change and write the deal again every cycle), a record or a side's
value lost, or a store whose conversion stopped at the first batch.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command

from handoff_sync.engine.plan import plan
from handoff_sync.engine.types import BaseSnapshot, Plan
from handoff_sync.model import Role
from handoff_sync.store import MirrorRecord, Store
from handoff_sync.store.codec import encode_map
from handoff_sync.store.revisions import alembic_config
from handoff_sync.store.schema import UtcDateTime
from handoff_sync.testing.builders import seeded_inputs
from tests.store.test_store_cycle import NOW, PIPELINE, cycle

BEFORE = "0011_review_names"
ROOT = Path(__file__).resolve().parents[2]


def _migration() -> Any:
    """The migration module itself (for its BATCH size)."""
    path = ROOT / "migrations" / "versions" / "0012_store_footprint.py"
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BATCH: int = _migration().BATCH

OLD_MIRROR = sa.table("mirror", sa.column("pipeline", sa.String()), sa.column("role", sa.String()),
                      sa.column("record_id", sa.String()),
                      sa.column("modified_at", UtcDateTime()), sa.column("fields", sa.JSON()),
                      sa.column("deleted", sa.Boolean()))
OLD_BASES = sa.table("bases", sa.column("pipeline", sa.String()), sa.column("deal", sa.String()),
                     sa.column("prm", sa.JSON()), sa.column("crm", sa.JSON()),
                     sa.column("agreed", sa.JSON()), sa.column("updated_at", UtcDateTime()))

# Values the packed forms must keep apart: 1, 1.0 and True; Decimal 12.5 and 12.50; a
# tuple and a list; -0.0 and 0.0; text that looks like a tag; text outside ASCII.
AGREED = {"amount": Decimal("12.50"), "count": 1, "flag": True, "ratio": 0.0,
          "close_date": date(2026, 12, 31),
          "intro_call_at": datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
          "competitors": ("Acme", "Globex"), "tags": ["a", 1], "need": None,
          "deal_name": 'Zoë {"$dt": 1}', "nested": {"$dec": "not a tag"}, "crm_only": "x"}
PRM_SIDE = {**{k: v for k, v in AGREED.items() if k != "crm_only"},
            "amount": Decimal("12.5"), "count": True, "ratio": -0.0,
            "competitors": ["Acme", "Globex"], "prm_only": 7}
CRM_SIDE = {**AGREED, "flag": 1, "tags": ("a", 1), "need": ""}
BASES = {
    "prm:1": BaseSnapshot("prm:1", PRM_SIDE, CRM_SIDE, AGREED),
    "prm:2": BaseSnapshot("prm:2", AGREED, AGREED, AGREED),
    "crm:3": BaseSnapshot("crm:3", {}, {"amount": Decimal("1E+1")}, {}),
    "prm:4": BaseSnapshot("prm:4", {}, {}, AGREED),
}


def _mirror() -> dict[Role, dict[str, MirrorRecord]]:
    """More PRM records than one batch, so the conversion must page."""
    prm = {f"p{n:05}": MirrorRecord(f"p{n:05}", NOW, {"dealname": f"Deal {n}",
                                                       "amount": str(n), "closed": n % 2 == 0,
                                                       "nothing": None})
           for n in range(BATCH + 3)}
    crm = {"006A": MirrorRecord("006A", None, {"Amount": 10.5, "Name": "Ünïcode",
                                               "Nested": {"a": [1, "x", None]},
                                               "Empty": {}, "Big": "x" * 5000}),
           "006B": MirrorRecord("006B", NOW, {}, deleted=True)}
    return {Role.PRM: prm, Role.CRM: crm}


def typed(value: Any) -> Any:
    """``value`` with every type spelled out, so == compares types too (1 == True and
    Decimal("12.5") == Decimal("12.50") are not good enough: the merge sees those)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, {field.name: typed(getattr(value, field.name))
                                       for field in dataclasses.fields(value)
                                       if field.compare})  # not version stamps
    if hasattr(value, "items"):
        return ("map", {repr(key): typed(item) for key, item in value.items()})
    if isinstance(value, (frozenset, set)):
        return ("set", sorted(map(repr, value)))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [typed(item) for item in value])
    return (type(value).__name__, repr(value))


def _to(store: Store, revision: str, *, down: bool = False) -> None:
    with store.engine.begin() as connection:
        (command.downgrade if down else command.upgrade)(alembic_config(connection), revision)


def test_old_form_rows_convert_in_batches_and_load_as_the_values_they_came_from(
        store_url: str) -> None:
    mirror = _mirror()
    with Store.connect(store_url) as store:
        _to(store, BEFORE)
        with store.engine.begin() as connection:  # as the store wrote them before 0012
            connection.execute(OLD_MIRROR.insert(), [
                {"pipeline": PIPELINE, "role": role.value, "record_id": record.record_id,
                 "modified_at": record.modified_at, "fields": encode_map(record.fields),
                 "deleted": record.deleted}
                for role, records in mirror.items() for record in records.values()])
            connection.execute(OLD_BASES.insert(), [
                {"pipeline": PIPELINE, "deal": base.deal, "prm": encode_map(base.prm),
                 "crm": encode_map(base.crm), "agreed": encode_map(base.agreed),
                 "updated_at": NOW} for base in BASES.values()])
            old = _old_rows(connection)
        assert store.migrate() == ["0012_store_footprint", "0013_state_serial"]
        store.require_current_schema()
        state = store.load_pipeline(PIPELINE)
        assert typed(state.engine.bases) == typed(BASES)
        assert typed(state.mirror) == typed(mirror)
        records = store.deal_records(PIPELINE, ["prm:1", "crm:3", "prm:4"], ["006A"])
        assert typed(records.agreed) == typed({"prm:1": AGREED, "crm:3": {}, "prm:4": AGREED})
        assert typed(records.crm) == typed({"006A": mirror[Role.CRM]["006A"]})
        # Back down: the JSON columns hold again exactly what they held.
        _to(store, BEFORE, down=True)
        with store.engine.connect() as connection:
            assert typed(_old_rows(connection)) == typed(old)


def _old_rows(connection: sa.Connection) -> dict[str, Any]:
    return {"mirror": sorted((tuple(row) for row in connection.execute(sa.select(OLD_MIRROR))),
                             key=repr),
            "bases": sorted((tuple(row) for row in connection.execute(sa.select(OLD_BASES))),
                            key=repr)}


def test_a_recorded_cycle_loads_the_same_after_a_downgrade_and_upgrade(store: Store) -> None:
    inputs = seeded_inputs(deals=40, now=NOW).engine_input(NOW)
    first = plan(inputs)
    extra = Plan(PIPELINE, NOW, bases=tuple(BASES.values()))
    store.record_cycle(cycle(first, mirror=_mirror()))
    store.record_cycle(cycle(extra, run_id="run-2"))
    before = store.load_pipeline(PIPELINE)
    assert len(before.engine.bases) > len(BASES) and len(before.mirror[Role.PRM]) > BATCH
    _to(store, BEFORE, down=True)
    assert store.migrate() == ["0012_store_footprint", "0013_state_serial"]
    after = store.load_pipeline(PIPELINE)
    assert after == before
    assert typed(after) == typed(before)


def test_the_last_kind_of_a_full_last_page_still_gets_its_dictionary(store_url: str) -> None:
    """Rows page in key order (crm before prm): a last page that is exactly full must
    still train the dictionary of the kind it ends with (30 PRM records here)."""
    fields = {"dealname": "Deal", "amount": "1000", "stage": "qualified", "closed": False}
    rows = [{"pipeline": PIPELINE, "role": role, "record_id": f"{role}{n:05}",
             "modified_at": NOW, "fields": {**fields, "dealname": f"Deal {n}"},
             "deleted": False}
            for role, count in (("crm", BATCH - 30), ("prm", 30)) for n in range(count)]
    with Store.connect(store_url) as store:
        _to(store, BEFORE)
        with store.engine.begin() as connection:
            connection.execute(OLD_MIRROR.insert(), rows)
        store.migrate()
        with store.engine.connect() as connection:
            kinds = set(connection.execute(sa.text(
                "SELECT kind FROM pack_dictionaries WHERE pipeline = :p"),
                {"p": PIPELINE}).scalars())
        assert kinds == {"mirror:crm", "mirror:prm"}
        assert len(store.load_pipeline(PIPELINE).mirror[Role.PRM]) == 30
