"""A pipeline's state kept in memory between cycles, brought up to date by key.

A running daemon's cycle needs the whole PipelineState (links, bases, verdicts, the
mirror ...), and reading it all costs O(deals) every cycle, however little changed. So
the daemon keeps the state its last cycle left, and after recording a cycle it reads back
only the rows that cycle wrote (``refreshed``). Before the next cycle one keyed read of
the state serial (store.serial) tells whether anyone else wrote since: then the state is
loaded whole again.

``refreshed`` reads the rows back rather than applying the outcome in memory, so the
store's own rules (a link keeps the time it was first made, a baseline keeps its first
close date, the latest decision per deal) stay the store's alone; only the mirror's
records, which the store writes as they are, are kept as the outcome holds them.
Set HANDOFF_SYNC_VERIFY_KEPT_STATE=1 to compare every kept state with a full load (the
test suite does): a difference is a StoreError naming the parts that differ.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from handoff_sync.engine.types import LinkChangeKind, deal_key
from handoff_sync.model import Role
from handoff_sync.store import bulk
from handoff_sync.store.load import latest_decisions, load_pipeline, small_parts
from handoff_sync.store.packing import dictionaries
from handoff_sync.store.rows import (
    base_from,
    baseline_from,
    clock_from,
    link_from,
    task_from,
    verdict_from,
)
from handoff_sync.store.schema import (
    BaselineRow,
    BaseRow,
    ClockRow,
    LinkRow,
    TaskRow,
    VerdictRow,
    table,
)
from handoff_sync.store.serial import read_serial
from handoff_sync.store.types import CycleOutcome, PipelineState, StoreError

VERIFY_VARIABLE = "HANDOFF_SYNC_VERIFY_KEPT_STATE"
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def verifying() -> bool:
    return os.environ.get(VERIFY_VARIABLE, "").strip() not in ("", "0")


def still_current(connection: Connection, kept: PipelineState) -> PipelineState | None:
    """``kept`` with its few-row parts read again, when nobody wrote the pipeline's state
    since it was made; None when someone did (load it whole)."""
    if read_serial(connection, kept.pipeline) != kept.serial:
        return None
    return dataclasses.replace(kept, **small_parts(connection, kept.pipeline))


def refreshed(connection: Connection, before: PipelineState, outcome: CycleOutcome,
              serial: int) -> PipelineState | None:
    """The state after ``outcome`` was recorded on top of ``before``, reading back only
    the rows it wrote; inside the recording transaction, so ``serial`` (its bump) dates
    exactly what is read. None after a full pull (it replaced the mirror: every row is
    new, so the next cycle loads them whole)."""
    if outcome.mirror_replace:
        return None
    pipeline, plan = outcome.pipeline, outcome.plan
    links = {change.link.prm_id for change in plan.links}
    # A link made absorbs the opportunity's lone deal (store.record._links).
    deals = {deal_key(None, change.link.crm_id) for change in plan.links
             if change.kind is LinkChangeKind.CREATE}
    deals.update(base.deal for base in plan.bases if base.deal in outcome.written_deals)
    for items in (plan.verdicts, plan.clocks, plan.baselines, plan.decisions):
        deals.update(item.deal for item in items)
    tasks = {action.task.key for action in plan.tasks if action.task.key in outcome.task_ids}
    tasks.update(outcome.closed_by_user)
    packed = dictionaries(connection, pipeline)
    engine = before.engine
    ordered = sorted(deals)
    engine = dataclasses.replace(
        engine,
        links=_by_key(engine.links, links, _read(connection, LinkRow, pipeline, "prm_id",
                                                 sorted(links), link_from),
                      lambda link: link.prm_id),
        bases=_by_key(engine.bases, deals,
                      _read(connection, BaseRow, pipeline, "deal", ordered,
                            lambda row: base_from(row, packed)),
                      lambda base: base.deal),
        tasks=_by_key(engine.tasks, tasks,
                      _read(connection, TaskRow, pipeline, "task_key", sorted(tasks),
                            task_from),
                      lambda task: task.spec.key),
        clocks=_by_deal(engine.clocks, deals,
                        _read(connection, ClockRow, pipeline, "deal", ordered, clock_from),
                        lambda clock: (clock.deal, clock.handoff_type, clock.clock)),
        verdicts=_by_key(engine.verdicts, deals,
                         _read(connection, VerdictRow, pipeline, "deal", ordered,
                               verdict_from),
                         lambda verdict: verdict.deal),
        decisions=_by_key(engine.decisions, deals,
                          [decision for chunk in bulk.chunks(ordered, bulk.DELETE_CHUNK)
                           for decision in latest_decisions(connection, pipeline,
                                                            list(chunk)).values()],
                          lambda decision: decision.deal),
        baselines=_by_deal(engine.baselines, deals,
                           _read(connection, BaselineRow, pipeline, "deal", ordered,
                                 baseline_from),
                           lambda baseline: (baseline.deal, baseline.handoff_type)))
    # The mirror rows are the outcome's records packed as they are (no store rule
    # changes them, and the packing round trip is exact: tests/store/test_store_footprint),
    # so they are kept as they are: reading back the echo cycle's 179,000 rows at 100k
    # deals cost seconds and, for a while, a second copy of the mirror in memory.
    mirror = {role: _by_key(before.mirror.get(role, {}), outcome.mirror.get(role, {}),
                            outcome.mirror.get(role, {}).values(),
                            lambda record: record.record_id)
              for role in Role}
    state = dataclasses.replace(before, engine=engine, mirror=MappingProxyType(mirror),
                                **small_parts(connection, pipeline))
    if state.serial != serial:  # small_parts read it in this transaction: it must agree
        raise StoreError(f"pipeline {pipeline!r}: state serial {state.serial} read back "
                         f"after recording serial {serial}")
    if verifying():
        verify(connection, state)
    return state


def verify(connection: Connection, kept: PipelineState) -> None:
    """Raise a StoreError naming the parts of ``kept`` a full load reads otherwise."""
    loaded = load_pipeline(connection, kept.pipeline)
    if loaded == kept:
        return
    differ = [name for name in ("mirror", "checkpoints", "mappings_hash", "last_full_at",
                                "holds", "drift", "field_holds", "dismissed")
              if getattr(loaded, name) != getattr(kept, name)]
    differ += [f"engine.{field.name}" for field in dataclasses.fields(loaded.engine)
               if getattr(loaded.engine, field.name) != getattr(kept.engine, field.name)]
    raise StoreError(f"pipeline {kept.pipeline!r}: the state kept in memory differs from "
                     f"the store in {', '.join(differ)} ({VERIFY_VARIABLE} is set): a bug "
                     "in store.kept, please report it")


def _read(connection: Connection, model: type[Any], pipeline: str, column: str,
          keys: list[str], decode: Callable[[Any], V]) -> list[V]:
    rows = table(model)
    return [decode(row) for chunk in bulk.chunks(keys, bulk.DELETE_CHUNK)
            for row in connection.execute(select(rows).where(
                rows.c.pipeline == pipeline, rows.c[column].in_(list(chunk))))]


def _by_key(old: Mapping[K, V], keys: Collection[Any], found: Iterable[V],
            key: Callable[[V], K]) -> Mapping[K, V]:
    """``old`` with the entries of ``keys`` replaced by what was read (gone if none)."""
    if not keys:
        return old
    new = dict(old)
    for gone in keys:
        new.pop(gone, None)
    new.update((key(item), item) for item in found)
    return MappingProxyType(new)


def _by_deal(old: Mapping[K, V], deals: Collection[str], found: Iterable[V],
             key: Callable[[V], K]) -> Mapping[K, V]:
    """``old`` (keyed by tuples starting with the deal key) with the entries of
    ``deals`` replaced by what was read."""
    if not deals:
        return old
    new = {k: v for k, v in old.items() if k[0] not in deals}  # type: ignore[index]
    new.update((key(item), item) for item in found)
    return MappingProxyType(new)
