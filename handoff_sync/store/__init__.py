"""The state store: what handoff-sync remembers between cycles, in one SQL database.

SQLite by default, PostgreSQL for production and several replicas. ``Store`` is the API;
``store.types`` holds what crosses it; the tables live in ``store.schema`` and their
revisions in the top-level ``migrations`` package (`handoff-sync migrate`).
"""

from __future__ import annotations

from handoff_sync.store.backoff import backoff
from handoff_sync.store.database import redact_url, sqlite_url_for
from handoff_sync.store.deal_reads import DealRows
from handoff_sync.store.leases import pipeline_lease
from handoff_sync.store.store import Store
from handoff_sync.store.types import (
    CycleHealth,
    CycleOutcome,
    FailureKind,
    LeaseLost,
    MirrorRecord,
    PartnerChanges,
    PartnerRecord,
    PipelineState,
    RecordFailure,
    RetryHold,
    ReviewChanges,
    ReviewNames,
    RunKind,
    RunOutcome,
    SchemaOutdated,
    StoreError,
)

__all__ = [
    "CycleHealth", "CycleOutcome", "DealRows", "FailureKind", "LeaseLost", "MirrorRecord",
    "PartnerChanges", "PartnerRecord", "PipelineState", "RecordFailure", "RetryHold",
    "ReviewChanges", "ReviewNames", "RunKind", "RunOutcome", "SchemaOutdated", "Store",
    "StoreError", "backoff", "pipeline_lease", "redact_url", "sqlite_url_for",
]
