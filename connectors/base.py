"""The Connector protocol and the types that cross it.

A connector translates one outside system into these types and nothing else: vendor
records become ``RecordChange`` (flat field -> raw API value), vendor errors become
``connectors.errors`` exceptions or per-record ``RecordError``. Mapping raw values to
canonical ones is the mapping layer's job; deciding what to write is the engine's.
Connectors never import the engine or the store.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from handoff_sync.mapping.system.describe import SystemField, SystemObject
from handoff_sync.model import Owner

# describe() speaks the mapping layer's describe types, so `mappings validate --live`
# checks a mapping against a connector's answer without any conversion.
ObjectSchema = SystemObject
FieldSchema = SystemField

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """Where an incremental pull stands: the last (modified at, id) handled.

    Records are pulled in (modified at, id) order; a pull from a cursor re-reads an
    overlap window before ``modified_at`` (late commits), so callers must treat records
    as upserts (the engine's echo suppression makes a re-read free).
    """

    modified_at: datetime
    last_id: str = ""


@dataclass(frozen=True, slots=True)
class RecordChange:
    """One record as the system returned it, or a deletion."""

    id: str
    modified_at: datetime | None
    fields: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)  # flat, raw values
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """A batch of changes and the cursor that is safe to store once they are handled."""

    changes: tuple[RecordChange, ...]
    cursor: Cursor | None  # None: the page held nothing and the cursor did not move


@dataclass(frozen=True, slots=True)
class RecordError:
    """Why one record was not written."""

    code: str  # the system's error code, e.g. STRING_TOO_LONG, VALIDATION_ERROR
    message: str
    fields: tuple[str, ...] = ()
    retriable: bool = False  # e.g. UNABLE_TO_LOCK_ROW: try again next cycle


@dataclass(frozen=True, slots=True)
class RecordWrite:
    """Field values for one record; ``id`` None creates it. ``ref`` comes back in results."""

    ref: str
    id: str | None
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class WriteResult:
    ref: str
    id: str | None
    ok: bool
    created: bool = False
    error: RecordError | None = None


@dataclass(frozen=True, slots=True)
class TaskTarget:
    """Where follow-up tasks live and how they are keyed and attached to deals."""

    object: str  # Task (Salesforce) / tasks (HubSpot)
    key_field: str  # external-id / unique property holding the deterministic task key
    deal_link_field: str | None = None  # Salesforce: WhatId
    deal_association_type_id: int | None = None  # HubSpot: task -> deal association type


@dataclass(frozen=True, slots=True)
class TaskWrite:
    """One task to upsert by its key; ``fields`` already hold system values."""

    key: str
    deal_id: str
    fields: Mapping[str, Any]


@dataclass
class ApiUsage:
    """API calls this connector made, by kind, and what the server says about limits."""

    calls: dict[str, int] = field(default_factory=dict)  # kind (query, write, ...) -> calls
    daily_used: int | None = None  # the whole org's/account's use today, as reported
    daily_limit: int | None = None
    window_remaining: int | None = None  # HubSpot: calls left in the 10-second window
    window_limit: int | None = None
    throttled_seconds: float = 0.0  # time spent waiting on rate limits and the budget
    # Why the daily budget counts only this process's calls although a shared ledger was
    # offered (the connector could not tell which org or portal it talks to); None: shared.
    budget_unshared: str | None = None

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def count(self, kind: str, n: int = 1) -> None:
        self.calls[kind] = self.calls.get(kind, 0) + n

    def snapshot(self) -> dict[str, Any]:
        return {"calls": dict(sorted(self.calls.items())), "total": self.total,
                "daily_used": self.daily_used, "daily_limit": self.daily_limit,
                "window_remaining": self.window_remaining, "window_limit": self.window_limit,
                "throttled_seconds": round(self.throttled_seconds, 3),
                "budget_unshared": self.budget_unshared}


@runtime_checkable
class Connector(Protocol):
    """What the sync cycle needs from a system."""

    system: str  # "salesforce" | "hubspot" | "files"
    usage: ApiUsage

    def describe(self, object_name: str) -> ObjectSchema:
        """Fields with type, writability, nillability, length and picklist values.

        Cached until ``start_cycle``."""
        ...

    def pull(self, object_name: str, fields: Sequence[str], since: Cursor | None, *,
             scope: Mapping[str, str] | None = None) -> Iterator[Page]:
        """Records modified since the cursor (everything when None), then deletions.

        ``scope`` narrows the pull to records whose fields equal the given values."""
        ...

    def fetch(self, object_name: str, ids: Sequence[str],
              fields: Sequence[str]) -> list[RecordChange]:
        """Records by id (missing ids are left out), batched at the API maximum."""
        ...

    def id_problem(self, object_name: str, record_id: str) -> str | None:
        """Why ``record_id`` cannot be an id of ``object_name`` in this system (its shape:
        length, characters, checksum, object prefix), as one line for people; None when
        it can. Says nothing about existence: ``fetch`` answers that."""
        ...

    def write(self, object_name: str, writes: Sequence[RecordWrite]) -> list[WriteResult]:
        """Create/update records in batches at the API maximum; one result per write,
        in input order; a failed record never fails its batch."""
        ...

    def upsert_tasks(self, target: TaskTarget, tasks: Sequence[TaskWrite]) -> list[WriteResult]:
        """Create or update tasks by their key, attached to their deal; idempotent."""
        ...

    def owners(self) -> list[Owner]:
        """Users who can own records: id, email, active, manager."""
        ...

    def org_key(self) -> str | None:
        """The org or account this connector reaches, as its API budget is keyed
        (``salesforce https://acme.my.salesforce.com``, ``hubspot portal 123``), logging in
        or asking the system if need be; None when it cannot tell (a file drop)."""
        ...

    def start_cycle(self) -> None:
        """Forget per-cycle caches (describe)."""
        ...

    def close(self) -> None:
        ...
