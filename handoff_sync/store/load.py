"""Reading one pipeline's state before a cycle plans (one consistent read)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, func, select

from connectors.base import Cursor
from handoff_sync.engine.types import EngineState, HandoffDecision, ReviewKind
from handoff_sync.model import Role
from handoff_sync.store.packing import dictionaries
from handoff_sync.store.rows import (
    base_from,
    baseline_from,
    clock_from,
    decision_from,
    link_from,
    mirror_from,
    task_from,
    verdict_from,
)
from handoff_sync.store.schema import (
    BaselineRow,
    BaseRow,
    Checkpoint,
    ClockRow,
    DecisionRow,
    LinkRow,
    MirrorRow,
    PipelineMeta,
    ReviewRow,
    SyncError,
    SyncRun,
    TaskRow,
    VerdictRow,
    table,
)
from handoff_sync.store.types import (
    FailureKind,
    FieldHold,
    MirrorRecord,
    PipelineState,
    RetryHold,
)


def _rows(connection: Connection, model: type[Any], pipeline: str) -> Any:
    rows = table(model)
    return connection.execute(select(rows).where(rows.c.pipeline == pipeline))


def load_pipeline(connection: Connection, pipeline: str) -> PipelineState:
    links = {link.prm_id: link
             for link in map(link_from, _rows(connection, LinkRow, pipeline))}
    packed = dictionaries(connection, pipeline)
    bases = {row.deal: base_from(row, packed) for row in _rows(connection, BaseRow, pipeline)}
    tasks = {state.spec.key: state
             for state in map(task_from, _rows(connection, TaskRow, pipeline))}
    clocks = {(clock.deal, clock.handoff_type, clock.clock): clock
              for clock in map(clock_from, _rows(connection, ClockRow, pipeline))}
    verdicts = {verdict.deal: verdict
                for verdict in map(verdict_from, _rows(connection, VerdictRow, pipeline))}
    baselines = {(b.deal, b.handoff_type): b
                 for b in map(baseline_from, _rows(connection, BaselineRow, pipeline))}
    engine = EngineState(MappingProxyType(links), MappingProxyType(bases),
                         MappingProxyType(tasks), MappingProxyType(clocks),
                         MappingProxyType(verdicts),
                         MappingProxyType(latest_decisions(connection, pipeline)),
                         MappingProxyType(baselines))
    mirror: dict[Role, dict[str, MirrorRecord]] = {role: {} for role in Role}
    for row in _rows(connection, MirrorRow, pipeline):
        mirror[Role(row.role)][row.record_id] = mirror_from(row, packed)
    return PipelineState(
        pipeline=pipeline, engine=engine,
        mirror=MappingProxyType({role: MappingProxyType(records)
                                 for role, records in mirror.items()}),
        **small_parts(connection, pipeline))


def small_parts(connection: Connection, pipeline: str) -> dict[str, Any]:
    """The fields of a PipelineState that are few rows whatever the pipeline's size
    (cursors, meta, holds, dismissed conflicts): read whole, also when a kept state is
    reused (store.kept)."""
    checkpoints = {(row.system, row.object): Cursor(row.modified_at, row.last_id)
                   for row in _rows(connection, Checkpoint, pipeline)}
    meta = _rows(connection, PipelineMeta, pipeline).first()
    return {"checkpoints": MappingProxyType(checkpoints),
            "mappings_hash": meta.mappings_hash if meta is not None else None,
            "last_full_at": meta.last_full_at if meta is not None else None,
            "holds": MappingProxyType(_holds(connection, pipeline)),
            "drift": MappingProxyType(dict(meta.drift) if meta is not None else {}),
            "field_holds": MappingProxyType(_field_holds(connection, pipeline)),
            "dismissed": _dismissed_conflicts(connection, pipeline),
            "serial": int(meta.state_serial) if meta is not None else 0}


def state_version(connection: Connection, pipeline: str) -> tuple[Any, ...]:
    """A value that changes whenever what ``load_pipeline`` reads may have: every cycle
    writes inside a run row (started, then finished), and the only other writers, people
    resolving review items, make or remove links and dismiss items. Three small
    aggregates, so a caller holding plans of the state (the console's what-if) can tell
    they still hold without reading it all."""
    runs, links, queue = table(SyncRun), table(LinkRow), table(ReviewRow)
    run = connection.execute(select(func.count(), func.max(runs.c.started_at),
                                    func.max(runs.c.ended_at))
                             .where(runs.c.pipeline == pipeline)).one()
    link = connection.execute(select(func.count(), func.max(links.c.created_at))
                              .where(links.c.pipeline == pipeline)).one()
    review = connection.execute(select(func.count(), func.max(queue.c.resolved_at))
                                .where(queue.c.pipeline == pipeline,
                                       queue.c.status != "open")).one()
    return (*run, *link, *review)


def _dismissed_conflicts(connection: Connection, pipeline: str) -> frozenset[str]:
    queue = table(ReviewRow)
    query = select(queue.c.key).where(
        queue.c.pipeline == pipeline, queue.c.status == "dismissed",
        queue.c.kind == ReviewKind.CHANNEL_CONFLICT.value)
    return frozenset(str(key) for key in connection.execute(query).scalars())


def latest_decisions(connection: Connection, pipeline: str,
                      deals: list[str] | None = None) -> dict[str, HandoffDecision]:
    """The last recorded decision of each deal (the highest id: rows are appended), of
    every deal or of ``deals``."""
    rows = table(DecisionRow)
    wanted = rows.c.pipeline == pipeline
    if deals is not None:
        wanted = wanted & rows.c.deal.in_(deals)
    latest = (select(func.max(rows.c.id)).where(wanted)
              .group_by(rows.c.deal).scalar_subquery())
    return {decision.deal: decision for decision in map(decision_from, connection.execute(
        select(rows).where(rows.c.id.in_(latest))))}


def _holds(connection: Connection, pipeline: str) -> dict[tuple[Role, str], RetryHold]:
    """One hold per (role, record id or task key): the one that waits longest."""
    holds: dict[tuple[Role, str], RetryHold] = {}
    errors = table(SyncError)
    query = select(errors).where(errors.c.pipeline == pipeline,
                                 errors.c.next_retry_at.is_not(None))
    for row in connection.execute(query):
        if _is_field(row.kind):
            continue  # a refused field holds only that field (field_holds)
        key = (Role(row.role), row.record_id)
        held = holds.get(key)
        if held is None or row.next_retry_at > held.next_retry_at:
            holds[key] = RetryHold(key[0], row.record_id, row.code, row.message, row.attempts,
                                   row.next_retry_at)
    return holds


_FIELD_PREFIX = FailureKind.FIELD.value + ":"


def _is_field(kind: str) -> bool:
    return kind.startswith(_FIELD_PREFIX)


def _field_holds(connection: Connection, pipeline: str
                 ) -> dict[tuple[Role, str, str], FieldHold]:
    """The refused fields: (role, record id, system field) -> hold."""
    errors = table(SyncError)
    query = select(errors).where(errors.c.pipeline == pipeline,
                                 errors.c.kind.startswith(_FIELD_PREFIX, autoescape=True))
    holds: dict[tuple[Role, str, str], FieldHold] = {}
    for row in connection.execute(query):
        name = row.kind[len(_FIELD_PREFIX):]
        if row.next_retry_at is None or row.value_digest is None:
            continue
        holds[(Role(row.role), row.record_id, name)] = FieldHold(
            Role(row.role), row.record_id, name, row.value_digest, row.code, row.message,
            row.next_retry_at)
    return holds
