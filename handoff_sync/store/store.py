"""``Store``: the one object the daemon, the sync cycle and the CLI talk to for state.

Each method is one transaction on a pooled connection, so a ``Store`` may be shared by
threads. Database failures surface as ``StoreError`` with the (password-free) URL and
the driver's reason; a schema that is not current as ``SchemaOutdated`` with the command
that fixes it. ``connect`` never changes the schema: only ``migrate`` does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from handoff_sync.engine.serialise import to_jsonable
from handoff_sync.model import PartnerAccount
from handoff_sync.store import audit, claims, leases, lookup, revisions, sync_requests
from handoff_sync.store import review_page as queue_pages
from handoff_sync.store import reviews as review_queue
from handoff_sync.store.budget import StoreLedger
from handoff_sync.store.database import (
    create,
    parse_url,
    read_transaction,
    reason,
    redact_url,
    write_transaction,
)
from handoff_sync.store.deal_reads import DealRows, count_deals, load_deals
from handoff_sync.store.kept import refreshed, still_current
from handoff_sync.store.load import load_pipeline, state_version
from handoff_sync.store.partners import load_partners
from handoff_sync.store.record import finish_run, record_cycle, run_values
from handoff_sync.store.schema import SyncRun, table
from handoff_sync.store.serial import read_serial
from handoff_sync.store.status import ERRORS_SHOWN, cycle_health, pipeline_status, pipelines
from handoff_sync.store.types import (
    CycleHealth,
    CycleOutcome,
    DealRecords,
    PipelineState,
    ReviewChanges,
    RunKind,
    RunOutcome,
    SchemaOutdated,
    StoreError,
)

MIGRATE_HINT = "run `handoff-sync migrate --config FILE`"


class Store:
    """The state store of one database (SQLite file or PostgreSQL)."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self._engine = engine
        self.url = redact_url(url)  # never holds the password

    @classmethod
    def connect(cls, url: str) -> Store:
        """Open the database (creating a SQLite file's folder); StoreError if unreachable."""
        parsed = parse_url(url)
        engine = create(parsed)
        try:
            with engine.connect():
                pass
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(f"cannot open the database {redact_url(parsed)}: "
                             f"{reason(exc)}") from None
        return cls(engine, parsed)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for read-only reports over the tables (and tests)."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url})"

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise StoreError(f"{doing} failed on {self.url}: {reason(exc)}") from exc

    # -- schema

    @staticmethod
    def head_revision() -> str:
        return revisions.head_revision()

    @staticmethod
    def revision_label(revision: str) -> str:
        """A revision as its file is named, e.g. ``0001_initial``."""
        return revisions.revision_label(revision)

    def schema_revision(self) -> str | None:
        """The database's revision; None for a database without handoff-sync tables."""
        with self._guard("reading the schema revision"), read_transaction(self._engine) as c:
            return revisions.current_revision(c)

    def migrate(self) -> list[str]:
        """Upgrade to the newest revision; the revisions applied (none when current)."""
        with self._guard("migrating"), write_transaction(self._engine) as connection:
            current = revisions.current_revision(connection)
            if current is not None and not revisions.known(current):
                problem = _schema_problem(f"the database {self.url}", current)
                assert problem is not None  # an unknown revision is never the head
                raise SchemaOutdated(problem)
            return revisions.upgrade(connection)

    def schema_problem(self) -> str | None:
        """Why the schema is not this version's, and what to run; None when it is.

        Names no URL, user or host (``/readyz`` answers with it; ``require_current_schema``
        adds the URL for the operator at the console)."""
        return _schema_problem("the database", self.schema_revision())

    def require_current_schema(self) -> None:
        """SchemaOutdated, saying what to run, unless the schema is this version's."""
        problem = _schema_problem(f"the database {self.url}", self.schema_revision())
        if problem is not None:
            raise SchemaOutdated(problem)

    # -- cycles

    def load_pipeline(self, pipeline: str, *,
                      kept: PipelineState | None = None) -> PipelineState:
        """The pipeline's state. ``kept``: the state ``record_and_keep`` returned last,
        reused (its few-row parts read again) when nobody wrote the state since."""
        with self._guard(f"loading pipeline {pipeline!r}"), \
                read_transaction(self._engine) as connection:
            if kept is not None and kept.pipeline == pipeline:
                current = still_current(connection, kept)
                if current is not None:
                    return current
            return load_pipeline(connection, pipeline)

    def state_version(self, pipeline: str) -> tuple[Any, ...]:
        """Changes whenever ``load_pipeline``'s answer may have (store.load.state_version)."""
        with self._guard(f"reading the state version of {pipeline!r}"), \
                read_transaction(self._engine) as connection:
            return state_version(connection, pipeline)

    def count_deals(self, pipeline: str) -> int:
        """How many deals the pipeline holds (its verdicts): one indexed count."""
        with self._guard(f"counting the deals of pipeline {pipeline!r}"), \
                read_transaction(self._engine) as connection:
            return count_deals(connection, pipeline)

    def load_deals(self, pipeline: str, *, crm_field: str | None) -> DealRows:
        """The pipeline's deals as a report reads them (store.deal_reads): verdicts,
        links, agreed values and clocks, the raw records only of the deals without agreed
        values, and field ``crm_field`` of the linked CRM records."""
        with self._guard(f"loading the deals of pipeline {pipeline!r}"), \
                read_transaction(self._engine) as connection:
            return load_deals(connection, pipeline, crm_field)

    def load_partners(self, pipeline: str) -> dict[str, PartnerAccount]:
        """The pipeline's live partner accounts (the PRM file's ``partners:``) by id, as
        the last cycle mapped them; empty before the first cycle that read them."""
        with self._guard(f"loading the partner accounts of {pipeline!r}"), \
                read_transaction(self._engine) as connection:
            return load_partners(connection, pipeline)

    def start_run(self, pipeline: str, run_id: str, kind: RunKind, started_at: datetime,
                  holder: str) -> None:
        """Record a cycle as running (committed at once, so `status` shows it)."""
        row = {"run_id": run_id, "pipeline": pipeline, "kind": RunKind(kind).value,
               "started_at": started_at, "holder": holder,
               **run_values(None, RunOutcome.RUNNING, None, {}, {}, 0)}
        try:
            with self._guard(f"starting run {run_id}"), \
                    write_transaction(self._engine) as connection:
                connection.execute(table(SyncRun).insert().values(**row))
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise StoreError(f"a sync run {run_id!r} is already recorded") from None
            raise

    def finish_run(self, run_id: str, ended_at: datetime, outcome: RunOutcome,
                   message: str | None, api_calls: Mapping[str, Any],
                   counts: Mapping[str, int]) -> None:
        """Close a run that recorded nothing else (failed, interrupted early, dry run)."""
        values = run_values(ended_at, outcome, message, api_calls, counts,
                            int(counts.get("errors", 0)))
        with self._guard(f"finishing run {run_id}"), \
                write_transaction(self._engine) as connection:
            finish_run(connection, run_id, values)

    def record_cycle(self, outcome: CycleOutcome, *,
                     lease: tuple[str, str] | None = None) -> ReviewChanges:
        """Record the whole cycle in one transaction. With ``lease=(name, holder)``, first
        check in that transaction that ``holder`` still holds it: LeaseLost, and nothing
        written, if not. Returns what the cycle opened and resolved in the review queue."""
        with self._guard(f"recording run {outcome.run_id}"), \
                write_transaction(self._engine) as connection:
            if lease is not None:
                leases.check_held(connection, lease[0], lease[1], outcome.ended_at)
            return record_cycle(connection, outcome, holder=lease[1] if lease else None)

    def record_and_keep(self, outcome: CycleOutcome, before: PipelineState, *,
                        lease: tuple[str, str] | None = None
                        ) -> tuple[ReviewChanges, PipelineState | None]:
        """``record_cycle``, and the state after it for the next cycle to start from:
        ``before`` (the state the cycle planned on) with the rows it wrote read back
        (store.kept). None when someone else wrote the state since ``before`` was read,
        or the cycle replaced the mirror: the next cycle then loads it whole."""
        with self._guard(f"recording run {outcome.run_id}"), \
                write_transaction(self._engine) as connection:
            if lease is not None:
                leases.check_held(connection, lease[0], lease[1], outcome.ended_at)
            prior = read_serial(connection, outcome.pipeline)
            reviews = record_cycle(connection, outcome, holder=lease[1] if lease else None)
            serial = read_serial(connection, outcome.pipeline)
            alone = before.pipeline == outcome.pipeline and prior == before.serial
            if not alone or serial != prior + 1:
                return reviews, None
            return reviews, refreshed(connection, before, outcome, serial)

    # -- leases

    def try_lease(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        """Acquire or renew; False while another holder's lease is valid."""
        with self._guard(f"taking the lease {name!r}"):
            return leases.try_lease(self._engine, name, holder, ttl, now)

    def release_lease(self, name: str, holder: str) -> None:
        with self._guard(f"releasing the lease {name!r}"):
            leases.release_lease(self._engine, name, holder)

    def lease(self, name: str) -> tuple[str, datetime] | None:
        """(holder, expires at), expired or not; None if nobody holds or held it."""
        with self._guard(f"reading the lease {name!r}"):
            return leases.lease(self._engine, name)

    # -- the shared API budget

    def budget_ledger(self, key: str) -> StoreLedger:
        """The ledger of one org's API budget (``store.budget``), shared by every pipeline
        and replica whose connector names the same org."""
        return StoreLedger(self._engine, key, url=self.url)

    # -- which pipeline writes which CRM object of which org

    def claim_crm_object(self, pipeline: str, org: str, object_name: str,
                         scope: Mapping[str, str], now: datetime,
                         ttl: timedelta) -> tuple[claims.Claim, list[claims.Claim]]:
        """Claim (or renew) ``object_name`` of ``org`` for ``pipeline``'s outputs and
        tasks; its claim and the other live claims on that object (``store.claims``)."""
        with self._guard(f"claiming {object_name} of {org} for pipeline {pipeline!r}"):
            return claims.claim(self._engine, pipeline, org, object_name, scope, now, ttl)

    def release_crm_object(self, pipeline: str) -> None:
        """Drop ``pipeline``'s claim: it writes no outputs or tasks now."""
        with self._guard(f"releasing pipeline {pipeline!r}'s CRM claim"):
            claims.release(self._engine, pipeline)

    # -- status and review

    def pipelines(self) -> list[str]:
        with self._guard("listing pipelines"), read_transaction(self._engine) as connection:
            return pipelines(connection)

    def status(self, pipeline: str | None = None, *, now: datetime,
               errors_shown: int = ERRORS_SHOWN) -> dict[str, Any]:
        """JSON-safe: the schema revision, then per pipeline its lease, last runs,
        checkpoints, drift, errors (the first ``errors_shown`` listed), open reviews,
        conflicts, tasks, links and API budget."""
        with self._guard("reading the status"), read_transaction(self._engine) as connection:
            names = [pipeline] if pipeline is not None else pipelines(connection)
            return {
                "database": self.url,
                "schema_revision": revisions.current_revision(connection),
                "head_revision": revisions.head_revision(),
                "now": to_jsonable(now),
                "pipelines": {name: pipeline_status(connection, name, now,
                                                    errors_shown=errors_shown)
                              for name in names},
            }

    def cycle_health(self, pipeline: str) -> CycleHealth:
        """Consecutive failed cycles, the last success and the open errors, from the run
        rows: what `/readyz`, the metrics and `status` agree on, across restarts."""
        with self._guard(f"reading the cycle health of {pipeline!r}"), \
                read_transaction(self._engine) as connection:
            return cycle_health(connection, pipeline)

    def reviews(self, pipeline: str | None = None, *,
                status: str | None = "open") -> list[dict[str, Any]]:
        """Review items (JSON-safe), oldest first; ``status`` None lists every status."""
        with self._guard("listing review items"), read_transaction(self._engine) as connection:
            return review_queue.list_reviews(connection, pipeline, status)

    def review_page(self, pipeline: str | None, status: str | None, kind: str | None, *,
                    offset: int, limit: int, per_group: int, partner: str = "",
                    words: Sequence[str] = ()) -> queue_pages.QueuePage:
        """Entries ``offset`` to ``offset + limit`` of the queue as lists show it (one
        entry per person for unresolved_owner items; of a group its oldest ``per_group``
        items), with counts per kind: reads only what the page shows. ``partner`` and
        ``words`` filter on the items' names (``has_unnamed_reviews`` first: an item
        without names matches neither)."""
        with self._guard("listing review items"), read_transaction(self._engine) as connection:
            return queue_pages.review_page(connection, pipeline, status, kind, offset,
                                           limit, per_group, partner=partner, words=words)

    def has_unnamed_reviews(self, pipeline: str | None, status: str | None) -> bool:
        """Whether any review item of the pipeline (None: any) and status (None: any) has
        no names yet (recorded before they were kept; the next cycle names them)."""
        with self._guard("listing review items"), read_transaction(self._engine) as connection:
            return review_queue.has_unnamed(connection, pipeline, status)

    def unnamed_reviews(self, pipeline: str, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` of the pipeline's review items without names, for a cycle to
        name (``CycleOutcome.review_names``)."""
        with self._guard("listing review items"), read_transaction(self._engine) as connection:
            return review_queue.unnamed_reviews(connection, pipeline, limit)

    def review_items(self, pipeline: str, keys: Collection[str]) -> dict[str, dict[str, Any]]:
        """The pipeline's review items of ``keys`` (any status) by key."""
        with self._guard("reading review items"), read_transaction(self._engine) as connection:
            return queue_pages.review_items(connection, pipeline, keys)

    def owner_group_keys(self, pipeline: str, role: str, email: str) -> list[str]:
        """The keys of one person's open unresolved_owner items in one role, as
        ``review_page`` groups them (role and email as its entry has them)."""
        with self._guard(f"reading the review items of {email!r}"), \
                read_transaction(self._engine) as connection:
            return queue_pages.owner_group_keys(connection, pipeline, role, email)

    def dismiss_owner_reviews(self, pipeline: str, email: str, *, by: str,
                              now: datetime) -> list[dict[str, Any]]:
        """Dismiss every open unresolved_owner item of one person; the items afterwards."""
        with self._guard(f"dismissing review items of {email!r}"), \
                write_transaction(self._engine) as connection:
            return review_queue.dismiss_owner(connection, pipeline, email, by=by, now=now)

    def resolve_review(self, pipeline: str, key: str, *, action: str, crm_id: str | None,
                       by: str, now: datetime, registration: str | None = None,
                       displace: Collection[str] = ()) -> dict[str, Any]:
        """``dismiss`` an open item, or ``link`` its registration (``registration``, which
        an item naming several needs) to ``crm_id`` (a manual link the next cycle uses);
        the item afterwards. The links of other registrations to ``crm_id`` are removed
        when listed in ``displace``; any other one refuses the link."""
        with self._guard(f"resolving review item {key!r}"), \
                write_transaction(self._engine) as connection:
            return review_queue.resolve(connection, pipeline, key, action=action,
                                        crm_id=crm_id, by=by, now=now,
                                        registration=registration, displace=displace)


    def dismiss_reviews(self, pipeline: str, keys: Collection[str], *, by: str,
                        now: datetime) -> list[dict[str, Any]]:
        """Dismiss the open items among ``keys`` in one transaction (a person's bulk
        decision); the items afterwards. An unknown key refuses them all."""
        with self._guard(f"dismissing {len(keys)} review items"), \
                write_transaction(self._engine) as connection:
            return review_queue.dismiss_many(connection, pipeline, keys, by=by, now=now)

    def deal_records(self, pipeline: str, deals: Collection[str],
                     crm_ids: Collection[str] = ()) -> DealRecords:
        """The mirrored records and agreed values of ``deals`` (deal keys ``prm:ID`` /
        ``crm:ID``: a record of either side by its id) and of the opportunities
        ``crm_ids``, to name them on a page without loading the pipeline."""
        with self._guard("reading deal records"), read_transaction(self._engine) as connection:
            return lookup.deal_records(connection, pipeline, deals, crm_ids)

    def learned_orgs(self, pipeline: str) -> dict[str, dict[str, str]]:
        """System -> what its connector learned about the org it reaches (the instance
        URL, the portal id), from the pipeline's newest run rows: record links need it."""
        with self._guard(f"reading the run rows of {pipeline!r}"), \
                read_transaction(self._engine) as connection:
            return lookup.learned_orgs(connection, pipeline)

    def record_mapping_edit(self, folder: str, *, at: datetime, by: str, summary: str,
                            diff: Mapping[str, str]) -> int:
        """Log a saved edit of the mappings folder ``folder``: who, when, per-file diffs."""
        with self._guard("recording a mapping edit"), \
                write_transaction(self._engine) as connection:
            return audit.record_edit(connection, folder, at=at, by=by, summary=summary,
                                     diff=diff)

    def mapping_edits(self, folder: str | None = None, *,
                      limit: int = 100) -> list[dict[str, Any]]:
        """The mapping audit log (JSON-safe), newest first."""
        with self._guard("reading the mapping audit log"), \
                read_transaction(self._engine) as connection:
            return audit.list_edits(connection, folder, limit=limit)

    # -- the console's "sync now"

    def ask_sync(self, pipeline: str, *, full: bool = False, by: str,
                 now: datetime) -> int:
        """Ask for a cycle of ``pipeline`` now (``store.sync_requests``): the request's id
        (the pipeline's pending one, when there is one)."""
        with self._guard(f"asking for a cycle of {pipeline!r}"), \
                write_transaction(self._engine) as connection:
            return sync_requests.ask(connection, pipeline, full=full, by=by, now=now)

    def pending_sync_pipelines(self) -> list[str]:
        """The pipelines someone asked to sync that no replica has claimed yet."""
        with self._guard("reading the sync requests"), \
                read_transaction(self._engine) as connection:
            return sync_requests.pending_pipelines(connection)

    def claim_sync_requests(self, pipeline: str, *, holder: str, token: str,
                            now: datetime) -> list[dict[str, Any]]:
        """Claim ``pipeline``'s pending requests for ``holder``; those claimed (none when
        another replica was first)."""
        with self._guard(f"claiming the sync requests of {pipeline!r}"), \
                write_transaction(self._engine) as connection:
            return sync_requests.claim(connection, pipeline, holder=holder, token=token,
                                       now=now)

    def close_abandoned_sync_requests(self, now: datetime, *, pipeline: str | None = None,
                                      holder: str | None = None) -> int:
        """Close the running requests no live replica serves (``sync_requests.
        close_abandoned``; with ``pipeline`` and ``holder``, also ``holder``'s own of
        ``pipeline``, which it calls under that pipeline's lock). How many were closed."""
        with self._guard("closing abandoned sync requests"), \
                write_transaction(self._engine) as connection:
            return sync_requests.close_abandoned(
                connection, live=leases.live_replicas_in(connection, now), now=now,
                pipeline=pipeline, holder=holder)

    def finish_sync_requests(self, token: str, *, now: datetime, outcome: str,
                             run_id: str | None, message: str | None) -> None:
        """Record the outcome of the cycle that served one claim's requests."""
        with self._guard("finishing sync requests"), \
                write_transaction(self._engine) as connection:
            sync_requests.finish(connection, token, now=now, outcome=outcome, run_id=run_id,
                                 message=message)

    def sync_request(self, request_id: int) -> dict[str, Any] | None:
        """One request (JSON-safe), or None."""
        with self._guard("reading a sync request"), \
                read_transaction(self._engine) as connection:
            return sync_requests.one(connection, request_id)

    def latest_sync_requests(self, pipeline: str, *, limit: int = 5) -> list[dict[str, Any]]:
        """The pipeline's latest requests (JSON-safe), newest first."""
        with self._guard("reading the sync requests"), \
                read_transaction(self._engine) as connection:
            return sync_requests.latest(connection, pipeline, limit=limit)

    def unclaim_sync_requests(self, token: str) -> None:
        """Give one claim's requests back (pending): its replica lost the lease."""
        with self._guard("returning sync requests"), \
                write_transaction(self._engine) as connection:
            sync_requests.unclaim(connection, token)

    def mark_replica(self, holder: str, ttl: timedelta, now: datetime) -> None:
        """Renew ``holder``'s presence lease: a daemon runs against this database."""
        with self._guard("renewing the replica lease"):
            leases.try_lease(self._engine, leases.replica_lease(holder), holder, ttl, now)

    def release_replica(self, holder: str) -> None:
        with self._guard("releasing the replica lease"):
            leases.release_lease(self._engine, leases.replica_lease(holder), holder)

    def live_replicas(self, now: datetime) -> list[str]:
        """The daemon replicas running against this database (their replica leases)."""
        with self._guard("reading the replica leases"):
            return leases.live_replicas(self._engine, now)


def _schema_problem(database: str, current: str | None) -> str | None:
    """What is wrong with a database (``database`` names it) at revision ``current``."""
    head = revisions.head_revision()
    if current == head:
        return None
    if current is None:
        return (f"{database} has no handoff-sync tables; this version needs revision "
                f"{head}: {MIGRATE_HINT}")
    if not revisions.known(current):
        # Migrating cannot help: only the newer version knows its revision.
        return (f"{database} is at revision {current}, which this version of handoff-sync "
                f"does not know (it needs {head}): a newer version migrated it; run that "
                "version")
    return f"{database} is at revision {current}; this version needs {head}: {MIGRATE_HINT}"
