"""What crosses the store's boundary: what a cycle reads before planning and records after.

Plain frozen data, no SQLAlchemy: ``sync.py`` builds a ``CycleOutcome`` and the store
writes all of it in one transaction (``Store.record_cycle``), so a crash leaves either
the previous checkpoint in force or the whole cycle recorded, never half of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from connectors.base import Cursor
from handoff_sync.engine.types import EngineState, Plan
from handoff_sync.errors import LeaseLost, SchemaOutdated, StoreError
from handoff_sync.model import PartnerAccount, Role

__all__ = ["LeaseLost", "SchemaOutdated", "StoreError"]  # the store's branch of the error tree

_EMPTY: Mapping[Any, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class MirrorRecord:
    """The last version of one system record handoff-sync read, as flat raw API values.

    The mirror lets a cycle plan over every deal while pulling only what changed: a
    record that did not change is planned from its mirrored values.
    """

    record_id: str
    modified_at: datetime | None
    fields: Mapping[str, Any]  # system field -> raw value (JSON-safe: str, number, bool, None)
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class PartnerRecord:
    """One partner account as a cycle read and mapped it, to be stored."""

    account: PartnerAccount
    modified_at: datetime | None  # the account's last modification in the PRM
    issues: tuple[str, ...] = ()  # values that could not be read (left blank)


@dataclass(frozen=True, slots=True)
class PartnerChanges:
    """The partner accounts one cycle pulled: stored with the cycle, in its transaction,
    before the partners' checkpoint moves (so a crash re-reads them)."""

    upserts: Mapping[str, PartnerRecord] = field(default_factory=lambda: _EMPTY)  # by id
    deleted: frozenset[str] = frozenset()  # deleted or archived in the PRM
    replace: bool = False  # a full pull: a stored partner it did not return is gone


@dataclass(frozen=True, slots=True)
class RetryHold:
    """A record whose last write failed: when it may be tried again."""

    role: Role
    record_id: str  # the record (deal writes) or the task key (task writes)
    code: str
    message: str
    attempts: int
    next_retry_at: datetime


@dataclass(frozen=True, slots=True)
class FieldHold:
    """A field a record write was refused for: left out of that record's writes while the
    value is the same and the hold lasts (sync_write's docstring says why)."""

    role: Role
    record_id: str
    field: str  # the system field
    value_digest: str
    code: str
    message: str
    next_retry_at: datetime


@dataclass(frozen=True)
class PipelineState:
    """Everything the store holds for one pipeline, as a cycle needs it before planning."""

    pipeline: str
    engine: EngineState
    mirror: Mapping[Role, Mapping[str, MirrorRecord]]  # role -> record id -> record
    checkpoints: Mapping[tuple[str, str], Cursor]  # (system, object) -> cursor
    mappings_hash: str | None  # the mappings folder's content hash at the last recorded cycle
    last_full_at: datetime | None  # end of the last full reconcile
    holds: Mapping[tuple[Role, str], RetryHold]  # (role, record id or task key) -> hold
    drift: Mapping[str, str]  # "system.object.field" -> why it is skipped (schema drift)
    # (role, record id, system field) -> hold
    field_holds: Mapping[tuple[Role, str, str], FieldHold] = field(
        default_factory=lambda: MappingProxyType({}))
    # Keys of the channel_conflict items a person dismissed: a dismissed direct-deal
    # conflict lets its registration's opportunity be created (engine.create).
    dismissed: frozenset[str] = frozenset()
    # The store's state serial this state was read at (store.serial): a version stamp,
    # not content, so two states with equal content compare equal whatever their serials.
    serial: int = field(default=0, compare=False)


class FailureKind(StrEnum):
    RECORD = "record"  # a deal record write (field values, outputs)
    TASK = "task"  # a task upsert
    READ = "read"  # a pull or fetch that failed for the whole object this cycle
    SCHEMA = "schema"  # a mapped field missing or read-only in the system (drift)
    FIELD = "field"  # one field of a record write the system refused (stored per field)


@dataclass(frozen=True, slots=True)
class RecordFailure:
    """One thing that could not be done this cycle; retried in a later cycle with backoff."""

    kind: FailureKind
    role: Role
    system: str
    object: str
    record_id: str  # record id, task key, or "*" for object-wide failures
    code: str  # the system's error code, e.g. FIELD_CUSTOM_VALIDATION_EXCEPTION
    message: str
    deal: str | None = None  # deal key
    fields: tuple[str, ...] = ()
    retriable: bool = True
    value_digest: str | None = None  # FIELD: the refused value's digest (sync_write.digest)

    @property
    def key_kind(self) -> str:
        """The stored kind: a FIELD failure is kept per field ("field:Amount")."""
        if self.kind is FailureKind.FIELD:
            return f"{self.kind.value}:{self.fields[0]}"
        return self.kind.value


class RunOutcome(StrEnum):
    RUNNING = "running"
    OK = "ok"  # everything planned was done
    PARTIAL = "partial"  # some records failed; they retry later
    FAILED = "failed"  # the cycle stopped early (nothing recorded but the run row)
    INTERRUPTED = "interrupted"  # stopped by a signal after the batch in hand
    DRY_RUN = "dry_run"


# A cycle that ran to its end (some records may have failed and retry later): it resets
# the count of consecutive failed cycles and is a "last success".
COMPLETED_OUTCOMES = (RunOutcome.OK, RunOutcome.PARTIAL)


@dataclass(frozen=True, slots=True)
class CycleHealth:
    """How a pipeline's cycles have gone, from its run rows (so a restart keeps it).

    Interrupted, running and dry runs neither count as failed nor end a failing streak."""

    pipeline: str
    consecutive_failures: int  # failed runs since the last completed one
    last_success_at: datetime | None  # end of the last ok or partial run
    last_failure_at: datetime | None  # end of the newest failed run of the streak
    last_failure: str | None  # that run's message ("AuthError: hubspot: ...")
    open_errors: int  # per-record errors waiting for a retry (sync_errors rows)


class RunKind(StrEnum):
    INCREMENTAL = "incremental"
    FULL = "full"


@dataclass(frozen=True)
class DealRecords:
    """Some deals' records as last read (``Store.deal_records``), to name them."""

    prm: Mapping[str, MirrorRecord]  # registration id -> its mirrored record
    crm: Mapping[str, MirrorRecord]  # opportunity id -> its mirrored record
    links: Mapping[str, str]  # registration id -> the opportunity it is linked to
    agreed: Mapping[str, Mapping[str, Any]]  # deal key -> last agreed canonical values


@dataclass(frozen=True)
class ReviewChanges:
    """What a recorded cycle did to the review queue: the items it opened (new, or back
    after resolving themselves) and the keys of those that resolved themselves. The
    sync logs each once, so the log names a problem when it starts and when it ends,
    not every cycle it stands."""

    opened: tuple[Mapping[str, Any], ...] = ()
    resolved: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewNames:
    """What the console's partner and search filters look at for one review item,
    casefolded (``sync.review_names`` computes them; the store keeps them on the row)."""

    partners: str  # each partner between line breaks ("\nacme\n\nglobex\n"); "" for none
    text: str  # key, summary, person and deals' names, space-separated


@dataclass(frozen=True)
class CycleOutcome:
    """One cycle's results, recorded by ``Store.record_cycle`` in one transaction.

    Only what was done is recorded: ``written_deals`` are the deals whose every planned
    field write succeeded (their base snapshots advance), ``task_ids`` the task keys
    whose upsert succeeded (their ledger rows advance). Everything else in the plan is
    planned again next cycle, which is safe because writes are idempotent.
    """

    pipeline: str
    run_id: str
    kind: RunKind
    started_at: datetime
    ended_at: datetime
    outcome: RunOutcome
    plan: Plan
    written_deals: frozenset[str]  # deal keys whose bases may advance
    task_ids: Mapping[str, str | None]  # task key -> system task id, for successful upserts
    mirror: Mapping[Role, Mapping[str, MirrorRecord]]  # records read or written this cycle
    # Full pull: that role's mirror is exactly `mirror`.
    mirror_replace: frozenset[Role] = frozenset()
    checkpoints: Mapping[tuple[str, str], Cursor] = field(default_factory=lambda: _EMPTY)
    failures: tuple[RecordFailure, ...] = ()
    # (role, record id or task key) that succeeded this cycle: their holds are cleared.
    cleared: frozenset[tuple[Role, str]] = frozenset()
    # Fields refused this cycle (FailureKind.FIELD, not cycle errors: review items), and
    # (role, record id, system field) still held, whose rows stay as they are.
    field_failures: tuple[RecordFailure, ...] = ()
    fields_held: frozenset[tuple[Role, str, str]] = frozenset()
    counts: Mapping[str, int] = field(default_factory=lambda: _EMPTY)  # records_read, ...
    # system -> ApiUsage.snapshot()
    api_calls: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: _EMPTY)
    mappings_hash: str | None = None
    drift: Mapping[str, str] = field(default_factory=lambda: _EMPTY)  # replaces the stored drift
    message: str | None = None  # one line for the run row (why it failed or was partial)
    # Task keys a person completed in the CRM (seen this cycle): their ledger rows become
    # done and closed by a user, so the engine never reopens them.
    closed_by_user: frozenset[str] = frozenset()
    partners: PartnerChanges | None = None  # None: no partner account was pulled
    # Review key -> its names: the items the plan states, and stored items that had none
    # (``Store.unnamed_reviews``). None: not named (the rows' names become NULL).
    review_names: Mapping[str, ReviewNames] | None = None
