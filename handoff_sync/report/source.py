"""Read one pipeline's report rows out of the store (the only IO of the report).

Partner deals take the values both sides last agreed (the base snapshot); direct deals
and unlinked registrations are mapped from the raw record the daemon last read (the
mirror). The store keeps no owner directory, so CRM owner ids are resolved from the
linked deals, whose agreed values carry the AE's email next to the record's owner id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from connectors.base import Owner
from handoff_sync.errors import UserError
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.system.convert import SystemMapping, to_canonical
from handoff_sync.model import OwnerDirectory, Role, Value
from handoff_sync.report.facts import (
    DIRECT,
    PARTNER,
    PRM_ONLY,
    BaselineFact,
    ClockFact,
    ConflictFact,
    DealFact,
    DecisionFact,
    GovernanceFacts,
    HandoffTypeFacts,
    HistoryFact,
    PolicyFacts,
    ReportData,
    ReviewFact,
    SlaEventFact,
    TaskFact,
)
from handoff_sync.store import DealRows
from handoff_sync.store.codec import decode
from handoff_sync.store.schema import (
    BaselineRow,
    ConflictRow,
    DecisionRow,
    GateHistoryRow,
    ReviewRow,
    SlaEventRow,
    SyncRun,
    TaskRow,
    table,
)
from handoff_sync.store.types import MirrorRecord

NO_CYCLE = "no cycle has run yet: run `handoff-sync sync` first"


class ReportError(UserError):
    """The store cannot give a report (e.g. nothing synced yet); one line for the user."""

    hint = "run `handoff-sync sync` first, so the store has something to report"


def read_report_data(store: Any, pipeline: str, mappings: MappingSet) -> ReportData:
    """The report rows of ``pipeline``; ReportError when no cycle has recorded anything."""
    engine: Engine = store.engine
    runs = _count_runs(engine, pipeline)
    rule = mappings.crm.fields.get("ae_email")
    rows: DealRows = store.load_deals(pipeline, crm_field=rule.system_field
                                      if rule is not None else None)
    if runs == 0 or not rows.verdicts:
        raise ReportError(f"pipeline {pipeline}: {NO_CYCLE}")
    deals = deal_facts(rows, mappings)
    clocks = tuple(ClockFact(c.deal, c.handoff_type, c.clock, c.started_at, c.due_at,
                             c.status.value, c.stopped_at)
                   for c in rows.clocks)
    created = sum(1 for d in deals if d.kind != PRM_ONLY and d.created_at is not None)
    notes: tuple[str, ...] = ()
    if created == 0:
        notes = ("The CRM records carry no creation date (map custom.created_at to the "
                 "opportunity's created date), so cycle length cannot be measured.",)
    with engine.connect() as connection:
        return ReportData(
            pipeline=pipeline, deals=deals, clocks=clocks,
            events=_events(connection, pipeline), history=_history(connection, pipeline),
            tasks=_tasks(connection, pipeline), reviews=_reviews(connection, pipeline),
            conflicts=_conflicts(connection, pipeline),
            decisions=_decisions(connection, pipeline),
            baselines=_baselines(connection, pipeline), policy=policy_facts(mappings),
            runs=runs, notes=notes,
            partners=tuple(store.load_partners(pipeline).values()))


def policy_facts(mappings: MappingSet) -> PolicyFacts:
    """First-touch clocks stop when a field is filled (the receiver's first recorded
    touch, e.g. the intro call) or the handoff is accepted; escalation tasks are the ones
    a breach opens."""
    policy = mappings.policy
    types = policy.handoff_types.values()
    slas = [sla for kind in types for sla in kind.slas]
    return PolicyFacts(
        first_touch_clocks=frozenset(s.id for s in slas if any(
            e.on in ("field_filled", "handoff_accepted") for e in s.stops)),
        escalation_task_kinds=frozenset(t.kind for kind in types for t in kind.tasks
                                        if t.open_while == "sla_breached"),
        clock_labels={s.id: s.label for s in slas},
        rejection_alert_pct=min((kind.acceptance.rejection_alert_pct for kind in types
                                 if kind.acceptance is not None), default=None),
        targets=policy.measures.targets, min_sample=policy.measures.min_sample,
        stage_order={type_id: tuple(stage.id for stage in kind.stages)
                     for type_id, kind in policy.handoff_types.items()},
        calendars={type_id: policy.calendars[kind.calendar]
                   for type_id, kind in policy.handoff_types.items()
                   if kind.calendar is not None and kind.calendar in policy.calendars},
        attribution_fields=tuple(policy.measures.attribution_fields),
        on_time_bonus=policy.measures.on_time_bonus,
        funnels=tuple(policy.measures.funnels), readiness=policy.measures.readiness,
        governance=governance_facts(mappings))


def governance_facts(mappings: MappingSet) -> GovernanceFacts:
    """Who owns each stage, which stages gate, which clocks escalate, who owns improving
    each figure: what the maturity meter holds the store's records against."""
    policy = mappings.policy
    return GovernanceFacts(
        types=tuple(HandoffTypeFacts(
            id=type_id, label=kind.label,
            stage_owners={s.id: s.owner for s in kind.stages},
            ungated_stages=tuple(s.label for s in kind.stages if not s.gate),
            slas=tuple(c.id for c in kind.slas),
            silent_slas=tuple(c.label for c in kind.slas if c.escalate_to is None),
            acceptance=kind.acceptance is not None)
            for type_id, kind in policy.handoff_types.items()),
        improvement_owners=dict(policy.measures.improvement_owners))


def deal_facts(rows: DealRows, mappings: MappingSet) -> tuple[DealFact, ...]:
    crm_mirror, prm_mirror = rows.mirror[Role.CRM], rows.mirror[Role.PRM]
    owners = _learnt_owners(rows, mappings.crm)
    facts: list[DealFact] = []
    for key, verdict in sorted(rows.verdicts.items()):
        values: Mapping[str, Value]
        if verdict.prm_id is not None and verdict.prm_id in rows.links:
            kind = PARTNER
            agreed = rows.agreed.get(key)
            if agreed is not None:
                values = agreed
            else:
                values = {**_mapped(prm_mirror.get(verdict.prm_id), mappings.prm, owners),
                          **_mapped(crm_mirror.get(rows.links[verdict.prm_id].crm_id),
                                    mappings.crm, owners)}
        elif verdict.prm_id is not None:
            kind, record = PRM_ONLY, prm_mirror.get(verdict.prm_id)
            if record is None or record.deleted:
                continue
            values = _mapped(record, mappings.prm, owners)
        else:
            kind, record = DIRECT, crm_mirror.get(verdict.crm_id or "")
            if record is None or record.deleted:
                continue
            values = _mapped(record, mappings.crm, owners)
        facts.append(DealFact(
            key=key, kind=kind, partner=_text(values.get("partner_account")),
            handoff_type=verdict.handoff_type or _text(values.get("handoff_type")),
            stage=verdict.stage or _text(values.get("handoff_stage")),
            owner=_text(values.get("ae_email")), region=_text(values.get("custom.region")),
            segment=_text(values.get("custom.segment")),
            amount=_decimal(values.get("amount")), is_closed=values.get("is_closed") is True,
            is_won=values.get("is_won") is True, created_at=_instant(values.get(
                "custom.created_at")), close_date=_day(values.get("close_date")),
            required=verdict.required, gate_status=verdict.status.value,
            completeness_pct=verdict.completeness_pct, missing=verdict.missing,
            values=dict(values)))
    return tuple(facts)


def _learnt_owners(rows: DealRows, crm: SystemMapping) -> OwnerDirectory:
    rule = crm.fields.get("ae_email")
    if rule is None or rule.system_field is None:
        return OwnerDirectory()
    owners: dict[str, Owner] = {}
    for link in rows.links.values():
        agreed = rows.agreed.get(f"prm:{link.prm_id}")
        email = agreed.get("ae_email") if agreed is not None else None
        owner_id = rows.crm_field.get(link.crm_id)  # the record's owner id field
        if isinstance(email, str) and isinstance(owner_id, str):
            owners[owner_id] = Owner(owner_id, email)
    return OwnerDirectory(owners.values())


def _mapped(record: MirrorRecord | None, mapping: SystemMapping,
            owners: OwnerDirectory) -> Mapping[str, Value]:
    if record is None:
        return {}
    return to_canonical(mapping, record.fields, owners).values


def _text(value: Value) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _decimal(value: Value) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        return None
    return Decimal(value)


def _instant(value: Value) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _day(value: Value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _count_runs(engine: Engine, pipeline: str) -> int:
    runs = table(SyncRun)
    query = select(func.count()).select_from(runs).where(
        runs.c.pipeline == pipeline, runs.c.outcome.in_(("ok", "partial")))
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def _select(connection: Any, model: type[Any], pipeline: str, *order: str) -> Any:
    rows = table(model)
    query = select(rows).where(rows.c.pipeline == pipeline)
    return connection.execute(query.order_by(*(rows.c[name] for name in order)))


def _events(connection: Any, pipeline: str) -> tuple[SlaEventFact, ...]:
    return tuple(SlaEventFact(r.deal, r.clock, r.kind, r.at, r.escalate_to)
                 for r in _select(connection, SlaEventRow, pipeline, "at", "id"))


def _history(connection: Any, pipeline: str) -> tuple[HistoryFact, ...]:
    return tuple(HistoryFact(r.deal, r.recorded_at, bool(r.required), r.completeness_pct,
                             r.handoff_type, r.stage)
                 for r in _select(connection, GateHistoryRow, pipeline, "recorded_at", "id"))


def _tasks(connection: Any, pipeline: str) -> tuple[TaskFact, ...]:
    return tuple(TaskFact(r.deal, str(r.spec.get("kind", "")), r.status,
                          r.spec.get("crm_id"), r.spec.get("assignee_email"),
                          _due(r.spec.get("due_at")), str(r.spec.get("anchor", "deal")))
                 for r in _select(connection, TaskRow, pipeline, "task_key"))


def _due(value: Any) -> datetime | None:
    decoded = decode(value) if value is not None else None
    return decoded if isinstance(decoded, datetime) else None


def _reviews(connection: Any, pipeline: str) -> tuple[ReviewFact, ...]:
    return tuple(ReviewFact(r.deal, r.kind, r.status, _role(r.details))
                 for r in _select(connection, ReviewRow, pipeline, "key"))


def _role(details: Any) -> str | None:
    """The role an unresolved_owner item is about (engine/ownership.py writes it)."""
    role = details.get("role") if isinstance(details, Mapping) else None
    return role if isinstance(role, str) else None


def _conflicts(connection: Any, pipeline: str) -> tuple[ConflictFact, ...]:
    return tuple(ConflictFact(r.deal, r.field, r.recorded_at)
                 for r in _select(connection, ConflictRow, pipeline, "recorded_at", "id"))


def _decisions(connection: Any, pipeline: str) -> tuple[DecisionFact, ...]:
    return tuple(DecisionFact(r.deal, r.handoff_type, r.decision, r.at, r.by, r.reason,
                              r.partner, r.recorded_at)
                 for r in _select(connection, DecisionRow, pipeline, "id"))


def _baselines(connection: Any, pipeline: str) -> tuple[BaselineFact, ...]:
    return tuple(BaselineFact(r.deal, r.handoff_type, r.recorded_at, r.close_date)
                 for r in _select(connection, BaselineRow, pipeline, "deal", "handoff_type"))
