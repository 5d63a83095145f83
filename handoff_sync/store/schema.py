"""The store's tables (SQLAlchemy 2.0 declarative), one class per table.

Every row carries its ``pipeline``: one database serves several pipelines (and several
daemon replicas). JSON columns hold ``store.codec`` data so canonical values come back
with their types; the two large ones (mirrored records, base snapshots) are binary
columns holding it packed (``codec.pack``: compact, compressed), read only through
``store.rows``. Instants are stored timezone-aware and always read back as aware UTC
(``UtcDateTime``), on SQLite too, which has no time zone type.

``migrations/versions`` creates exactly these tables; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint and index names, so later migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware instant in, an aware UTC instant out, on every backend.

    SQLite keeps the text without an offset, so values are converted to UTC before they
    are stored (comparisons in SQL stay correct) and marked UTC when read. Naive values
    are refused: an instant without a zone is a bug that would shift by hours.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()}: the store needs aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None,
                             dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# Append-only history tables grow without bound: 64-bit ids on PostgreSQL; SQLite's
# INTEGER PRIMARY KEY is already 64-bit and is the only form it auto-increments.
HistoryId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table(model: type[Base]) -> Table:
    """The Core table of a model, for bulk statements on a connection."""
    result: Table = model.__table__  # type: ignore[assignment]
    return result


class Checkpoint(Base):
    """Where the incremental pull of one system object stands (a connector Cursor)."""

    __tablename__ = "checkpoints"
    pipeline: Mapped[str] = mapped_column(String(), primary_key=True)
    system: Mapped[str] = mapped_column(String(), primary_key=True)
    object: Mapped[str] = mapped_column(String(), primary_key=True)
    modified_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_id: Mapped[str] = mapped_column(String())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PipelineMeta(Base):
    """Per-pipeline facts: mappings content hash, last full reconcile, schema drift."""

    __tablename__ = "pipeline_meta"
    pipeline: Mapped[str] = mapped_column(String(), primary_key=True)
    mappings_hash: Mapped[str | None] = mapped_column(String())
    last_full_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    drift: Mapped[dict[str, Any]] = mapped_column(JSON)  # "system.object.field" -> why
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Bumped by every writer of the state load_pipeline reads (store.serial).
    state_serial: Mapped[int] = mapped_column(BigInteger(), nullable=False,
                                              server_default="0")


class MirrorRow(Base):
    """The last version of one system record the daemon read (raw, flat API values):
    ``packed`` holds its fields, ``store.codec.pack``ed (``rows.mirror_fields`` reads it)."""

    __tablename__ = "mirror"
    pipeline: Mapped[str] = mapped_column(String(), primary_key=True)
    role: Mapped[str] = mapped_column(String(), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(), primary_key=True)
    modified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    packed: Mapped[bytes] = mapped_column(LargeBinary)
    deleted: Mapped[bool] = mapped_column(Boolean)


class PackDictionaryRow(Base):
    """A preset dictionary packed values of one pipeline are compressed against
    (``store.packing``): written once, never changed (values name it by id)."""

    __tablename__ = "pack_dictionaries"
    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    pipeline: Mapped[str] = mapped_column(String())
    kind: Mapped[str] = mapped_column(String())  # "bases", "mirror:prm", "mirror:crm"
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PartnerRow(Base):
    """One live partner account of the PRM, mapped (the PRM file's ``partners:``): its
    name, its owner's email and its ``partner.*`` values (``store.codec``). A partner
    deleted or archived in the PRM is deleted here."""

    __tablename__ = "partner_accounts"
    pipeline: Mapped[str] = mapped_column(String(), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(), primary_key=True)
    name: Mapped[str] = mapped_column(String())
    owner_email: Mapped[str | None] = mapped_column(String())
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Values that could not be read (value map misses, bad numbers), one line each.
    issues: Mapped[list[str]] = mapped_column(JSON)
    modified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LinkRow(Base):
    """A PRM registration and the CRM opportunity it became."""

    __tablename__ = "links"
    __table_args__ = (Index("ix_links_pipeline_crm_id", "pipeline", "crm_id"),)
    pipeline: Mapped[str] = mapped_column(String(), primary_key=True)
    prm_id: Mapped[str] = mapped_column(String(), primary_key=True)
    crm_id: Mapped[str] = mapped_column(String())
    method: Mapped[str] = mapped_column(String())
    confidence: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BaseRow(Base):
    """The last agreed canonical values of one deal, per side (for the 3-way merge):
    ``snapshot`` holds the agreed values and each side's where they differ
    (``store.codec.snapshot_data``, ``pack``ed; ``rows.base_from`` reads it)."""

    __tablename__ = "bases"
    pipeline: Mapped[str] = mapped_column(String(), primary_key=True)
    deal: Mapped[str] = mapped_column(String(), primary_key=True)
    snapshot: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TaskRow(Base):
    """The task ledger: what was last written for a task key, and who closed it."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_pipeline_status", "pipeline", "status"),)
    pipeline: Mapped[str] = mapped_column(String(), primary_key=True)
    task_key: Mapped[str] = mapped_column(String(), primary_key=True)
    deal: Mapped[str | None] = mapped_column(String())
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)  # every TaskSpec field
    system_task_id: Mapped[str | None] = mapped_column(String())
    status: Mapped[str] = mapped_column(String())
    closed_by_user: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ClockRow(Base):
    """One SLA clock of one deal."""

    __tablename__ = "clocks"
    pipeline: Mapped[str] = mapped_column(String(), primary_key=True)
    deal: Mapped[str] = mapped_column(String(), primary_key=True)
    handoff_type: Mapped[str] = mapped_column(String(), primary_key=True)
    clock: Mapped[str] = mapped_column(String(), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String())
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class VerdictRow(Base):
    """A deal's current gate verdict."""

    __tablename__ = "verdicts"
    pipeline: Mapped[str] = mapped_column(String(), primary_key=True)
    deal: Mapped[str] = mapped_column(String(), primary_key=True)
    crm_id: Mapped[str | None] = mapped_column(String())
    prm_id: Mapped[str | None] = mapped_column(String())
    handoff_type: Mapped[str | None] = mapped_column(String())
    stage: Mapped[str | None] = mapped_column(String())
    required: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String())
    completeness_pct: Mapped[int] = mapped_column(Integer)
    missing: Mapped[list[str]] = mapped_column(JSON)
    stage_owner_email: Mapped[str | None] = mapped_column(String())
    ahead_of_gate: Mapped[list[str]] = mapped_column(JSON)
    stage_entered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    stage_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    stage_window: Mapped[str | None] = mapped_column(String())
    placed_by_person: Mapped[str | None] = mapped_column(String())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class GateHistoryRow(Base):
    """Every change of a deal's verdict (append-only; trend reports read it, a whole
    pipeline's in time order: no index by deal)."""

    __tablename__ = "gate_history"
    __table_args__ = (Index("ix_gate_history_pipeline_recorded_at", "pipeline", "recorded_at"),)
    id: Mapped[int] = mapped_column(HistoryId, primary_key=True, autoincrement=True)
    pipeline: Mapped[str] = mapped_column(String())
    run_id: Mapped[str] = mapped_column(String())
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    deal: Mapped[str] = mapped_column(String())
    crm_id: Mapped[str | None] = mapped_column(String())
    prm_id: Mapped[str | None] = mapped_column(String())
    handoff_type: Mapped[str | None] = mapped_column(String())
    stage: Mapped[str | None] = mapped_column(String())
    required: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String())
    completeness_pct: Mapped[int] = mapped_column(Integer)
    missing: Mapped[list[str]] = mapped_column(JSON)
    stage_owner_email: Mapped[str | None] = mapped_column(String())
    ahead_of_gate: Mapped[list[str]] = mapped_column(JSON)
    stage_entered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    stage_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    stage_window: Mapped[str | None] = mapped_column(String())
    placed_by_person: Mapped[str | None] = mapped_column(String())


class SlaEventRow(Base):
    """An SLA clock event (append-only)."""

    __tablename__ = "sla_events"
    __table_args__ = (Index("ix_sla_events_pipeline_at", "pipeline", "at"),)
    id: Mapped[int] = mapped_column(HistoryId, primary_key=True, autoincrement=True)
    pipeline: Mapped[str] = mapped_column(String())
    run_id: Mapped[str] = mapped_column(String())
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    deal: Mapped[str] = mapped_column(String())
    handoff_type: Mapped[str] = mapped_column(String())
    clock: Mapped[str] = mapped_column(String())
    kind: Mapped[str] = mapped_column(String())
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    escalate_to: Mapped[str | None] = mapped_column(String())


class DecisionRow(Base):
    """A change of a handoff's accept/reject decision, with who and when (append-only;
    the latest row per deal is what the engine compares with)."""

    __tablename__ = "handoff_decisions"
    __table_args__ = (Index("ix_handoff_decisions_pipeline_deal_id", "pipeline", "deal", "id"),)
    id: Mapped[int] = mapped_column(HistoryId, primary_key=True, autoincrement=True)
    pipeline: Mapped[str] = mapped_column(String())
    run_id: Mapped[str] = mapped_column(String())
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    deal: Mapped[str] = mapped_column(String())
    handoff_type: Mapped[str] = mapped_column(String())
    decision: Mapped[str] = mapped_column(String())
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str | None] = mapped_column(String())
    by_system: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text())
    partner: Mapped[str | None] = mapped_column(String())


class BaselineRow(Base):
    """The close date a deal had when one of its handoffs started (engine.baselines):
    written once, never moved with the deal's close date (the on-time bonus reads it)."""

    __tablename__ = "handoff_baselines"
    pipeline: Mapped[str] = mapped_column(String(), primary_key=True)
    deal: Mapped[str] = mapped_column(String(), primary_key=True)
    handoff_type: Mapped[str] = mapped_column(String(), primary_key=True)
    run_id: Mapped[str] = mapped_column(String())
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    close_date: Mapped[date | None] = mapped_column(Date())


class ConflictRow(Base):
    """Both sides changed a field; which value the policy kept and which it dropped."""

    __tablename__ = "conflicts"
    __table_args__ = (Index("ix_conflicts_pipeline_recorded_at", "pipeline", "recorded_at"),)
    id: Mapped[int] = mapped_column(HistoryId, primary_key=True, autoincrement=True)
    pipeline: Mapped[str] = mapped_column(String())
    run_id: Mapped[str] = mapped_column(String())
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    deal: Mapped[str] = mapped_column(String())
    field: Mapped[str] = mapped_column(String())
    policy: Mapped[str] = mapped_column(String())
    base: Mapped[Any] = mapped_column(JSON, nullable=True)
    prm: Mapped[Any] = mapped_column(JSON, nullable=True)
    crm: Mapped[Any] = mapped_column(JSON, nullable=True)
    winner: Mapped[str | None] = mapped_column(String())
    kept: Mapped[Any] = mapped_column(JSON, nullable=True)
    lost: Mapped[Any] = mapped_column(JSON, nullable=True)


class SyncRun(Base):
    """One cycle of one pipeline (the audit trail: counts, API calls, outcome)."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_pipeline_started_at", "pipeline", "started_at"),)
    run_id: Mapped[str] = mapped_column(String(), primary_key=True)
    pipeline: Mapped[str] = mapped_column(String())
    kind: Mapped[str] = mapped_column(String())
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String())
    records_read: Mapped[int] = mapped_column(Integer)
    records_written: Mapped[int] = mapped_column(Integer)
    tasks_created: Mapped[int] = mapped_column(Integer)
    tasks_updated: Mapped[int] = mapped_column(Integer)
    tasks_closed: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    api_calls: Mapped[dict[str, Any]] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)
    holder: Mapped[str | None] = mapped_column(String())


class SyncError(Base):
    """Something that failed, per record (or object), with its retry schedule."""

    __tablename__ = "sync_errors"
    __table_args__ = (Index("ix_sync_errors_pipeline_next_retry_at", "pipeline",
                            "next_retry_at"),)
    pipeline: Mapped[str] = mapped_column(String(), primary_key=True)
    role: Mapped[str] = mapped_column(String(), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(), primary_key=True)
    system: Mapped[str] = mapped_column(String())
    object: Mapped[str] = mapped_column(String())
    deal: Mapped[str | None] = mapped_column(String())
    code: Mapped[str] = mapped_column(String())
    message: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(JSON)
    retriable: Mapped[bool] = mapped_column(Boolean)
    attempts: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    next_retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # A refused field (kind "field:<name>"): a digest of the value, so a new value is
    # tried at once instead of waiting out the hold.
    value_digest: Mapped[str | None] = mapped_column(String())


class ReviewRow(Base):
    """A review queue item: something a person must decide (one row per key)."""

    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_pipeline_status", "pipeline", "status"),
        # Rows not named yet (recorded before 0011): the next cycle names them, and the
        # console filters names in Python until then. Small: empty once named.
        Index("ix_reviews_unnamed", "pipeline", sqlite_where=text("search_text IS NULL"),
              postgresql_where=text("search_text IS NULL")))
    pipeline: Mapped[str] = mapped_column(String(), primary_key=True)
    key: Mapped[str] = mapped_column(String(), primary_key=True)
    kind: Mapped[str] = mapped_column(String())
    deal: Mapped[str] = mapped_column(String())
    summary: Mapped[str] = mapped_column(Text)
    candidates: Mapped[list[Any]] = mapped_column(JSON)  # [[crm id, confidence], ...]
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String())  # open | resolved | dismissed
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String())
    resolution: Mapped[str | None] = mapped_column(Text)
    # What the console's partner and search filters look at (``sync.review_names``),
    # casefolded: the partners the item names, one a line, a line break before and after
    # each; and the text of its key, summary and deals. NULL: not named yet.
    partners: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str | None] = mapped_column(Text)


class Lease(Base):
    """Who runs a pipeline now: the holder renews it; another replica takes it once
    it expires."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(), primary_key=True)
    holder: Mapped[str] = mapped_column(String())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ApiBudget(Base):
    """API calls spent on one org's budget per minute (``budget.py``): every pipeline and
    replica reaching the same org adds to one row per minute."""

    __tablename__ = "api_budget"
    key: Mapped[str] = mapped_column(String(), primary_key=True)  # system and org
    minute: Mapped[int] = mapped_column(BigInteger(), primary_key=True)  # epoch s // 60
    calls: Mapped[int] = mapped_column(Integer())


class CrmClaim(Base):
    """Which CRM object of which org a pipeline writes outputs and tasks to
    (``claims.py``): one row per pipeline, renewed at each of its cycles."""

    __tablename__ = "crm_claims"
    pipeline: Mapped[str] = mapped_column(String(), primary_key=True)
    org: Mapped[str] = mapped_column(String())  # the connector's org key, as the budget's
    object: Mapped[str] = mapped_column(String())  # lower-cased
    scope: Mapped[dict[str, str]] = mapped_column(JSON())  # field -> value ({}: all)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    renewed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class MappingAuditRow(Base):
    """One saved edit of the mappings folder (``audit.py``): who, when, which files, what
    changed (a unified diff per file), and from where (the console, by hand)."""

    __tablename__ = "mapping_audit"
    __table_args__ = (Index("ix_mapping_audit_folder_at", "folder", "at"),)
    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    folder: Mapped[str] = mapped_column(String())  # the mappings folder, absolute
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String())
    summary: Mapped[str] = mapped_column(Text)
    diff: Mapped[dict[str, Any]] = mapped_column(JSON)  # file name -> unified diff


class SyncRequestRow(Base):
    """A person's "sync now" for one pipeline (``sync_requests.py``): pending until a
    daemon replica that holds (or can take) the pipeline's lease claims it, running while
    that replica's cycle runs, then done with the cycle's outcome."""

    __tablename__ = "sync_requests"
    __table_args__ = (Index("ix_sync_requests_status_pipeline", "status", "pipeline"),)
    id: Mapped[int] = mapped_column(Integer(), primary_key=True, autoincrement=True)
    pipeline: Mapped[str] = mapped_column(String())
    full: Mapped[bool] = mapped_column(Boolean)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    requested_by: Mapped[str] = mapped_column(String())
    status: Mapped[str] = mapped_column(String())  # pending | running | done
    claim: Mapped[str | None] = mapped_column(String())  # the claiming replica's token
    claimed_by: Mapped[str | None] = mapped_column(String())  # its lease holder id
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    run_id: Mapped[str | None] = mapped_column(String())
    outcome: Mapped[str | None] = mapped_column(String())  # the cycle's RunOutcome
    message: Mapped[str | None] = mapped_column(Text)
