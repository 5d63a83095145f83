"""The Connector protocol and the types that cross it.

A connector translates one outside system into these types and nothing else: vendor
records become ``RecordChange`` (flat field -> raw API value), vendor errors become
``connectors.errors`` exceptions or per-record ``RecordError``, the system's users become
``Owner``s and its field metadata an ``ObjectSchema``. Mapping raw values to canonical ones
is the mapping layer's job; deciding what to write is the engine's. Everything here is
plain data, so every layer of handoff_sync may speak it; connectors import nothing of
handoff_sync.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class FieldSchema:
    """One field as the system describes it."""

    name: str
    # The field's type in the vocabulary mapping checks know (handoff_sync.mapping.system.
    # describe.COMPATIBLE): Salesforce describe types and HubSpot property types, e.g.
    # string, textarea, picklist, enumeration, double, currency, boolean, date, datetime.
    # Another system's connector names its types by the nearest of these.
    type: str
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    length: int = 0  # 0: not limited (or not reported)
    precision: int = 0  # numbers: digits in all (Salesforce describe); 0: not limited
    scale: int = 0  # numbers: digits after the decimal point
    picklist_values: tuple[str, ...] | None = None  # None: not a picklist
    restricted_picklist: bool = False  # values outside the list are rejected on write
    reference_to: tuple[str, ...] = ()
    # The system keeps its values unique and can upsert by it (Salesforce: External ID
    # and Unique; HubSpot: a property with unique values); None: not reported.
    unique_key: bool | None = None


@dataclass(frozen=True)
class ObjectSchema:
    """One object as the system describes it."""

    name: str
    fields: Mapping[str, FieldSchema]
    case_insensitive: bool = False  # Salesforce API names are case-insensitive
    # HubSpot deals: the stage ids of each pipeline; dealstage values depend on the
    # pipeline the mapping's scope selects.
    pipeline_field: str | None = None
    stage_field: str | None = None
    pipelines: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    key_prefix: str | None = None  # Salesforce: the first 3 characters of every record id

    def get(self, name: str) -> FieldSchema | None:
        if name in self.fields:
            return self.fields[name]
        if self.case_insensitive:
            lowered = name.lower()
            return next((f for n, f in self.fields.items() if n.lower() == lowered), None)
        return None


@dataclass(frozen=True, slots=True)
class Owner:
    """A user who can own records, as a system's user/owner list reports it."""

    id: str  # Salesforce User Id or HubSpot owner id
    email: str  # lower-cased
    active: bool = True
    manager_id: str | None = None
    name: str = ""  # the person's display name, for people reading review items


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """Where an incremental pull stands: the last (modified at, id) handled.

    Records are pulled in (modified at, id) order; a pull from a cursor re-reads an
    overlap window before ``modified_at`` (late commits), so callers must treat records
    as upserts (the engine's echo suppression makes a re-read free). A completed pull's
    last cursor may lie past every record it read, at the system's time its first query
    ran, with no id (``connectors.server_time``): the window then re-reads only what
    changed since.
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
    """A batch of changes and the cursor that is safe to store once they are handled.

    A pull's last page may hold no changes, only the cursor its completion settles.

    ``total`` is what the system said, for free, the whole pull would return (HubSpot's
    search ``total``, Salesforce's ``totalSize``): an estimate for progress displays, as
    records may change while the pull runs, and it may leave deletions out. None: the
    system did not say (a file drop, a connector that does not look)."""

    changes: tuple[RecordChange, ...]
    cursor: Cursor | None  # None: the page held nothing and the cursor did not move
    total: int | None = None  # the whole pull's records, as estimated (not this page's)


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
    # The written fields as the system holds them now, when its answer says (HubSpot
    # returns the record: a date written to a datetime property comes back a datetime).
    # The mirror keeps these, so reading the write back finds no change. None: as sent.
    stored: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TaskTarget:
    """Where follow-up tasks live and how they are keyed and attached to deals (or, for
    tasks on a partner, to the partner's account: ``deal_object`` names its object)."""

    object: str  # Task (Salesforce) / tasks (HubSpot)
    key_field: str  # external-id / unique property holding the deterministic task key
    deal_link_field: str | None = None  # Salesforce: WhatId
    deal_association_type_id: int | None = None  # HubSpot: task -> deal association type
    # The object a TaskWrite's deal_id belongs to, where the system needs to be told
    # (HubSpot associations: companies for a partner account); None: the deal object.
    deal_object: str | None = None


@dataclass(frozen=True, slots=True)
class TaskWrite:
    """One task to upsert by its key; ``fields`` already hold system values."""

    key: str
    deal_id: str  # the record the task attaches to (TaskTarget.deal_object's, if set)
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AccountTarget:
    """Where a created deal's customer account is looked up, created and attached."""

    object: str  # Account (Salesforce) / companies (HubSpot)
    name_field: str  # Name / name
    domain_field: str | None = None  # Website / domain
    link_field: str | None = None  # Salesforce: the deal's AccountId
    association_type_id: int | None = None  # HubSpot: deal -> company association type


@dataclass(frozen=True, slots=True)
class CreateTarget:
    """Where deals are created and the unique field that keys each creation."""

    object: str  # Opportunity / deals
    key_field: str  # external-id / unique property holding the creation key
    account: AccountTarget | None = None


@dataclass(frozen=True, slots=True)
class DealCreate:
    """One deal to create unless a record already holds its key; ``fields`` hold system
    values. The account is looked up by domain, then by name (a namesake with another
    domain is another company), and created if neither finds one."""

    key: str
    fields: Mapping[str, Any]
    account_name: str | None = None
    account_domain: str | None = None


@dataclass
class ApiUsage:
    """API calls this connector made, by kind, and what the server says about limits.

    ``calls`` and ``throttled_seconds`` are the current cycle's: the runner calls
    ``begin_cycle`` as a cycle starts, so a report (its log line, run row and metrics)
    carries that cycle's own figures however long the process has lived. The rest is
    what the server last reported and what the connector learned, kept across cycles."""

    calls: dict[str, int] = field(default_factory=dict)  # kind (query, write, ...) -> calls
    daily_used: int | None = None  # the whole org's/account's use today, as reported
    daily_limit: int | None = None
    window_remaining: int | None = None  # HubSpot: calls left in the 10-second window
    window_limit: int | None = None
    throttled_seconds: float = 0.0  # time spent waiting on rate limits and the budget
    # Why the daily budget counts only this process's calls although a shared ledger was
    # offered (the connector could not tell which org or portal it talks to); None: shared.
    budget_unshared: str | None = None
    # What the connector learned about the org or portal it reaches, as it went (no call
    # of its own): Salesforce's instance_url from its login, HubSpot's portal_id and
    # ui_domain from the account details. Run rows keep it, so pages can link to records
    # (``SystemSpec.record_url`` reads it beside the connection's URL settings).
    org: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def count(self, kind: str, n: int = 1) -> None:
        self.calls[kind] = self.calls.get(kind, 0) + n

    def begin_cycle(self) -> None:
        """Start the per-cycle figures again: no calls, no time throttled."""
        self.calls.clear()
        self.throttled_seconds = 0.0

    def snapshot(self) -> dict[str, Any]:
        return {"calls": dict(sorted(self.calls.items())), "total": self.total,
                "daily_used": self.daily_used, "daily_limit": self.daily_limit,
                "window_remaining": self.window_remaining, "window_limit": self.window_limit,
                "throttled_seconds": round(self.throttled_seconds, 3),
                "budget_unshared": self.budget_unshared, "org": dict(sorted(self.org.items()))}


@runtime_checkable
class Connector(Protocol):
    """What the sync cycle needs from a system."""

    system: str  # its name in connectors.registry: "salesforce", "hubspot", "files"
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

    def create_deals(self, target: CreateTarget,
                     deals: Sequence[DealCreate]) -> list[WriteResult]:
        """Create each deal unless a record already holds its key, attached to its account
        (found by domain, then name, else created); one result per deal, in input order,
        ``ref`` its key and ``id`` the record's. ``created`` is False for a deal found by
        its key (left as it is): a repeat after a crash or from a second replica finds the
        first record, and the key field's uniqueness stops two racing creates."""
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


class ConnectorFactory(Protocol):
    """How every connector class is built (``connectors.registry`` names the class):
    from its own settings, plus what the daemon hands every connector alike."""

    def __call__(self, settings: Any, *, environ: Mapping[str, str] | None = None,
                 ledgers: Callable[[str], Any] | None = None,
                 stop: Callable[[], bool] | None = None,
                 on_secret: Callable[[str], None] | None = None) -> Connector:
        """``environ``: where secrets referenced by environment variable are read (default
        ``os.environ``); ``ledgers``: org key -> the shared API budget ledger
        (``connectors.budget.LedgerFactory``); ``stop``: ends budget waits early;
        ``on_secret``: told every secret read and every token minted (for redaction)."""
        ...


# --- a system whose records arrive as files, not through an API --------------------------


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row (or, with ``line`` 0, a whole file) that was skipped, and why."""

    file: str  # the file's name in the drop folder
    line: int  # where the row starts (1-based); 0: the file as a whole
    record_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class DropFile:
    """One finished export, identified by its content; or an entry that is refused."""

    path: Path
    checksum: str  # sha256 of the bytes, hex ("" for a refused entry: it is never read)
    size: int
    modified_at: datetime  # the file's modification time, UTC
    refused: str | None = None  # why the entry is not read (a link, a pipe, ...)

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True, slots=True)
class FileRead(Generic[T]):
    """What one file held: its changes (or what the reader kept of them) in file order,
    one per id, and the rows that were skipped.

    ``rejected`` means nothing in the file was used (wrong encoding, ambiguous header,
    the file changed while it was read): do not record its checksum, so it is offered
    again once the file or the settings are fixed.
    """

    file: DropFile
    changes: tuple[T, ...]
    problems: tuple[RowProblem, ...]
    rejected: bool = False


@runtime_checkable
class DropSource(Protocol):
    """A connector whose records arrive as exported files rather than from a cursor.

    Its ``pull`` is not used: the cycle lists the finished files it has not handled yet
    (by content checksum, which it keeps as checkpoints) and reads each one whole. Such a
    system is read, never written, and a full pull of it sees only its new files."""

    def pending(self, seen_checksums: Collection[str]) -> list[DropFile]:
        """Finished files whose content is not among ``seen_checksums``, oldest first."""
        ...

    def read(self, file: DropFile, keep: Callable[[RecordChange], T], *,
             after_page: Callable[[], None] = ...) -> FileRead[T]:
        """The whole file, each change kept as ``keep(change)``, a later row of an id
        winning; ``after_page`` runs after each page read (heartbeat, stop check)."""
        ...
