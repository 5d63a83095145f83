"""The HubSpot connector: CRM v3 records through hubspot-api-client, inside the API limits.

What it spends calls on, per cycle and object: one search call per 200 changed records
(``connectors.hubspot.search`` keeps the 10,000-result cap from dropping or looping any),
one archived-listing call per 100 archived records (deletions), one batch call per 100
records written, and the property definitions once (cached until ``start_cycle``).
Everything goes through ``HubSpotTransport``: paced under the burst and search limits,
inside the daily budget share, retried on transient failures, classified by the error
table in ``connectors.hubspot.errors``.

The generic ``crm.objects`` APIs serve every object type (deals, tasks, ...), so one
connector handles deals and the task object alike. This module holds the account (auth,
the portal's budget) and the reads: search pulls, archived deletions, batch reads by id,
owners. Its neighbours hold the rest: ``schema`` the property definitions behind
``describe`` and the checks made before reading or writing, ``writes`` the batch writes
and task upserts, ``records`` the JSON helpers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from hubspot import HubSpot
from hubspot.crm.objects import (
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectId,
)

from connectors.base import (
    ApiUsage,
    CreateTarget,
    Cursor,
    DealCreate,
    ObjectSchema,
    Owner,
    Page,
    RecordChange,
    RecordWrite,
    TaskTarget,
    TaskWrite,
    WriteResult,
)
from connectors.budget import BudgetGuard, BudgetSettings, LedgerFactory, RatePacer
from connectors.errors import AuthError, ConnectorError, FatalError
from connectors.hubspot.auth import (
    AuthKind,
    CredentialSources,
    OAuthTokens,
    PrivateAppToken,
    Secret,
    TokenGrant,
    TokenSource,
    read_secret,
)
from connectors.hubspot.creates import DealCreator
from connectors.hubspot.errors import SYSTEM
from connectors.hubspot.facts import MAX_BATCH, MAX_PAGE, RECORD_ID, account_facts
from connectors.hubspot.records import (
    cursor_at,
    from_ms,
    has_more,
    instant_ms,
    modified_ms,
    next_after,
    order,
    record_change,
    results_of,
    search_body,
    search_total,
    to_ms,
)
from connectors.hubspot.schema import PropertySchema
from connectors.hubspot.search import (
    MODIFIED,
    Hit,
    Lower,
    SearchRequest,
    SlicedSearch,
)
from connectors.hubspot.transport import NO_POOL_RETRIES, HubSpotTransport
from connectors.hubspot.writes import BatchWriter
from connectors.quoting import quoted
from connectors.retry import RetrySettings
from connectors.secret_text import SecretHook, ignore
from connectors.server_time import settled

log = structlog.get_logger("connectors.hubspot")

ARCHIVE_PAGE = 100  # the list endpoint's maximum
OWNERS_PAGE = 500
MAX_RECORD_ID = 2**63 - 1  # record ids are 64-bit integers


@dataclass(frozen=True, slots=True)
class HubSpotSettings:
    """How to reach one HubSpot account and how politely to use it."""

    host: str = "https://api.hubapi.com"
    """Base URL of the API (the sandbox's base_url in tests)."""
    auth: AuthKind = "private_app"
    """private_app: one static token; oauth: refresh-token grant, renewed before expiry."""
    credentials: CredentialSources = field(default_factory=CredentialSources)
    """Environment variables or files holding the secrets (never the secrets themselves)."""
    ca_file: str | None = None
    """CA bundle that verifies the server certificate; None uses the system store."""
    connect_timeout: float = 10.0
    """Seconds to wait for a connection."""
    read_timeout: float = 60.0
    """Seconds to wait for an answer; a slower call counts as a transient failure."""
    page_size: int = MAX_PAGE
    """Records per search page (HubSpot's maximum is 200)."""
    search_lag: timedelta = timedelta(seconds=30)
    """How long a write may take to show in search (HubSpot's index trails by seconds);
    the overlap must cover it, or a change indexed late would fall behind the cursor."""
    overlap: timedelta = timedelta(minutes=2)
    """How far before the cursor each pull re-reads (at least ``search_lag``)."""
    deletion_lookback: timedelta = timedelta(hours=1)
    """Archived records this long before the cursor are reported again (idempotent)."""
    archive_scan_interval: timedelta = timedelta(0)
    """Least time between two archived-listing scans of one object; 0 scans every pull."""
    retry: RetrySettings = field(default_factory=RetrySettings)
    """Backoff and give-up limits for transient failures."""
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    """The share of the account's daily allowance handoff-sync may spend."""
    burst_limit: int = 190
    """Calls per burst window (HubSpot Professional/Enterprise: 190 per 10 s)."""
    burst_window: float = 10.0
    """Length of the burst window in seconds."""
    search_limit: int = 5
    """Search calls per search window (HubSpot: about 5 per second per account)."""
    search_window: float = 1.0
    """Length of the search window in seconds."""
    pacing_margin: float = 0.05
    """Fraction added to each window, so network jitter never tips a burst over HubSpot's."""
    token_refresh_margin: float = 300.0
    """Seconds before an OAuth access token expires that it is renewed."""

    def __post_init__(self) -> None:
        if self.auth not in ("private_app", "oauth"):
            raise ValueError("auth must be 'private_app' or 'oauth'")
        if not 2 <= self.page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be 2..{MAX_PAGE}")
        if self.search_lag < timedelta(0) or self.overlap < self.search_lag:
            raise ValueError("search_lag must be >= 0 and overlap >= search_lag")
        if self.deletion_lookback < self.overlap:
            raise ValueError("deletion_lookback must be >= overlap")
        if self.burst_limit < 1 or self.search_limit < 1:
            raise ValueError("burst_limit and search_limit must be >= 1")
        if self.archive_scan_interval < timedelta(0) or self.pacing_margin < 0:
            raise ValueError("archive_scan_interval and pacing_margin must be >= 0")


@dataclass(slots=True)
class _ArchiveScan:
    at: float  # monotonic time of the scan
    covered_ms: int | None  # the search cursor when it ran: deletions before are reported


class HubSpotConnector:
    """The Connector protocol (connectors.base) for one HubSpot account.

    Not thread-safe: one pipeline drives one connector."""

    system = SYSTEM

    def __init__(self, settings: HubSpotSettings | None = None, *,
                 environ: Mapping[str, str] | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 ledgers: LedgerFactory | None = None,
                 stop: Callable[[], bool] | None = None,
                 on_secret: SecretHook | None = None) -> None:
        """``ledgers`` gives the portal's shared budget ledger once the account details
        name the portal (without it the budget counts this connector's calls); ``stop``
        ends budget waits early (``StopRequested``); ``on_secret`` is told every secret
        read and every token an OAuth refresh mints (the daemon redacts them)."""
        self.settings = settings = settings or HubSpotSettings()
        self.usage = ApiUsage()
        self._clock = clock
        self._ledgers = ledgers
        self._portal: str | None = None  # the portal id, once the account details said
        self._on_secret = on_secret or ignore
        self.budget = BudgetGuard(settings.budget, system=SYSTEM, sleep=sleep, clock=clock,
                                  stop=stop)
        margin = 1 + settings.pacing_margin
        self.transport = HubSpotTransport(
            usage=self.usage, retry=settings.retry, budget=self.budget,
            burst=RatePacer(settings.burst_limit, settings.burst_window * margin,
                            sleep=sleep, clock=clock),
            search=RatePacer(settings.search_limit, settings.search_window * margin,
                             sleep=sleep, clock=clock),
            timeout=(settings.connect_timeout, settings.read_timeout), sleep=sleep, clock=clock)
        client = HubSpot(host=settings.host, ssl_ca_cert=settings.ca_file, retry=NO_POOL_RETRIES)
        # Each property access builds an ApiClient with its own connection pool: keep them.
        self._basic = client.crm.objects.basic_api
        self._batch = client.crm.objects.batch_api
        self._search = client.crm.objects.search_api
        self._associations = client.crm.associations.v4.batch_api
        self._properties = client.crm.properties.core_api
        self._pipelines = client.crm.pipelines.pipelines_api
        self._owners = client.crm.owners.owners_api
        self._oauth = client.oauth.tokens_api
        self.transport.tokens = self._token_source(environ)
        if ledgers is not None:
            self.transport.before_first_call = self._share_budget
        self._schema = PropertySchema(self.transport, self._properties, self._pipelines)
        self._writer = BatchWriter(self.transport, self._batch, self._associations,
                                   self._schema)
        self._creator = DealCreator(self.transport, self._batch, self._search,
                                    self._associations, self._schema)
        self._archive_scans: dict[tuple[str, tuple[tuple[str, str], ...]], _ArchiveScan] = {}

    # --- the portal's budget ---------------------------------------------------------
    def _share_budget(self) -> None:
        """Count calls in the portal's shared ledger: one budget per portal, whatever
        pipeline or replica spends it. The account details name the portal (one call).

        When they cannot (a token refused them, an answer without a portal id), syncing
        goes on with this process's own count, and ``usage.budget_unshared`` says why, so
        ``status`` shows it; the next cycle asks again (a blip: before the next call).
        """
        assert self._ledgers is not None
        try:
            # One attempt: this runs inside the first call's attempt, which is retried.
            portal = self._read_portal(retry=False)
        except ConnectorError as exc:
            if not isinstance(exc, FatalError):  # a blip: ask again before the next call
                self.transport.before_first_call = self._share_budget
            if exc.cause is None:
                self._unshared(str(exc))
            # else no connection was made: the call this ran for meets the same failure
            # and reports it; a budget warning would only hide the cause behind it.
            return
        if portal is None:
            self._unshared("the answer held no portalId")
            return
        self.usage.budget_unshared = None
        self.budget.share(self._ledgers(_org_key(portal)))

    def _read_portal(self, *, retry: bool = True) -> str | None:
        """The portal id, from the account details (one call; kept once known)."""
        if self._portal is None:
            reply = self.transport.call(
                "read the account details", "other",
                lambda kw: self._owners.api_client.call_api(
                    "/account-info/v3/details", "GET", header_params={"Accept":
                                                                      "application/json"},
                    response_types_map={}, auth_settings=["oauth2"], **kw), retry=retry)
            body = reply.body if isinstance(reply.body, dict) else {}
            self._portal = None if body.get("portalId") is None else str(body["portalId"])
            self.usage.org = account_facts(body)
        return self._portal

    def org_key(self) -> str | None:
        """The portal, named by its id in the account details (None: they named none)."""
        first, self.transport.before_first_call = self.transport.before_first_call, None
        if first is not None:  # the budget's turn to learn the portal: ask once, not twice
            first()
        portal = self._read_portal()
        return None if portal is None else _org_key(portal)

    def _unshared(self, error: str) -> None:
        reason = (f"counted by this process only: GET /account-info/v3/details did not "
                  f"name the portal ({error}); pipelines and replicas on this portal can "
                  "together spend more than the share until it does (asked each cycle)")
        if reason != self.usage.budget_unshared:  # once per reason, not every cycle
            log.warning("api budget counted for this process only", reason=reason)
        self.usage.budget_unshared = reason

    # --- authentication -------------------------------------------------------------
    def _token_source(self, environ: Mapping[str, str] | None) -> TokenSource:
        creds, hook = self.settings.credentials, self._on_secret
        if self.settings.auth == "private_app":
            return PrivateAppToken(read_secret("private-app access token",
                                               creds.access_token_env,
                                               creds.access_token_file, environ,
                                               on_secret=hook))
        client_id = read_secret("OAuth client id", creds.client_id_env, creds.client_id_file,
                                environ, on_secret=hook)
        client_secret = read_secret("OAuth client secret", creds.client_secret_env,
                                    creds.client_secret_file, environ, on_secret=hook)
        refresh_token = read_secret("OAuth refresh token", creds.refresh_token_env,
                                    creds.refresh_token_file, environ, on_secret=hook)

        def refresh(token: Secret) -> TokenGrant:
            reply = self.transport.call(
                "OAuth token refresh", "auth",
                lambda kw: self._oauth.create_with_http_info(
                    grant_type="refresh_token", client_id=client_id.reveal(),
                    client_secret=client_secret.reveal(), refresh_token=token.reveal(), **kw),
                token_call=True)
            body = reply.body if isinstance(reply.body, dict) else {}
            for minted in ("access_token", "refresh_token"):  # before any error may show it
                if body.get(minted):
                    hook(str(body[minted]))
            if not body.get("access_token"):
                raise AuthError("HubSpot's token endpoint answered without an access token",
                                system=SYSTEM)
            rotated = body.get("refresh_token")
            return TokenGrant(Secret(str(body["access_token"])),
                              float(body.get("expires_in") or 1800),
                              Secret(str(rotated)) if rotated else None)

        return OAuthTokens(refresh, refresh_token, margin=self.settings.token_refresh_margin,
                           clock=self._clock)

    # --- schema -----------------------------------------------------------------------
    def start_cycle(self) -> None:
        """Forget per-cycle caches (property definitions, describe); while the budget
        is not shared, ask the account details again (a scope granted since counts)."""
        self._schema.clear()
        if self._ledgers is not None and self.usage.budget_unshared is not None:
            self.transport.before_first_call = self._share_budget

    def describe(self, object_name: str) -> ObjectSchema:
        """Properties as fields (+ the stage ids of each pipeline for deals); cached until
        ``start_cycle`` (``connectors.hubspot.schema``)."""
        return self._schema.describe(object_name)

    # --- pull ---------------------------------------------------------------------------
    def pull(self, object_name: str, fields: Sequence[str], since: Cursor | None, *,
             scope: Mapping[str, str] | None = None) -> Iterator[Page]:
        """Records modified since the cursor (less the overlap window), then the records
        archived since it (deletions). Page cursors advance in (hs_lastmodifieddate, id)
        order and each covers exactly the records handed over so far.

        With an overlap, the pull's last cursor is at least the time its first search ran
        by HubSpot's clock (``connectors.server_time``): every change stamped an overlap
        (>= the index lag) before it was searchable then, and the search read on to the
        end. An empty page carries it when no record moved the cursor that far, so a quiet
        pull stops re-reading the last write burst once the overlap has passed."""
        scope = dict(scope or {})
        self._schema.require(object_name, [*fields, *scope])
        properties = list(dict.fromkeys([*fields, MODIFIED, RECORD_ID, *scope]))
        plan = SlicedSearch(self._start(since), scope=scope, page_size=self.settings.page_size)
        cursor = since
        changes = 0
        started: datetime | None = None
        expected: int | None = None  # the first search's total: the whole pull's estimate
        first = True
        while (request := plan.next_request()) is not None:
            def do_search(kw: dict[str, Any], r: SearchRequest = request) -> Any:
                return self._search.do_search_with_http_info(
                    object_name, search_body(r, properties), **kw)

            reply = self.transport.call(f"search {object_name}", "search", do_search,
                                        search=True)
            body = reply.body if isinstance(reply.body, dict) else {}
            if first:
                started, first = reply.started_by, False
                # Later searches re-anchor (the result cap, a shift) and count only what is
                # left from their start, overlapping what was read: never add them up.
                expected = search_total(body)
            records = results_of(reply)
            self._schema.check_returned(object_name, properties, records)
            hits = [Hit(int(r["id"]), modified_ms(r), r) for r in records]
            step = plan.accept(hits, has_more=has_more(body), total=body.get("total"))
            page_changes = tuple(record_change(hit.record) for hit in step.hits)
            # Positions inside the overlap window lie behind ``since``: never go back.
            if step.position is not None and (cursor is None
                                              or order(step.position) > order(cursor)):
                cursor = cursor_at(step.position)
            elif not page_changes:
                continue
            changes += len(page_changes)
            yield Page(page_changes, cursor, expected)
        deletions = 0
        for page in self._deletions(object_name, properties, since, scope, cursor):
            deletions += len(page.changes)
            yield Page(page.changes, page.cursor, expected)
        # Complete: only now may the cursor run ahead of the records handed over.
        handed, cursor = cursor, settled(cursor, started, self.settings.overlap)
        if cursor is not None and cursor != handed:
            yield Page((), cursor, expected)
        log.info("hubspot pull", object=object_name, changes=changes, deletions=deletions,
                 search_calls=plan.calls, id_slices=plan.slices, reanchors=plan.reanchors,
                 cursor=str(cursor.modified_at) if cursor else None)

    def _start(self, since: Cursor | None) -> Lower | None:
        if since is None:
            return None
        ms = to_ms(since.modified_at)
        overlap_ms = int(self.settings.overlap.total_seconds() * 1000)
        if overlap_ms:
            return Lower(ms - overlap_ms)
        if since.last_id.isdigit():
            return Lower(ms, int(since.last_id))
        return Lower(ms)

    def _deletions(self, object_name: str, properties: list[str], since: Cursor | None,
                   scope: Mapping[str, str], cursor: Cursor | None) -> Iterator[Page]:
        """Records archived since the cursor, from the archived listing.

        Archiving does not move hs_lastmodifieddate and search never returns archived
        records, so this listing is the only place deletions show. It is ordered by id,
        not by archive time, and cannot be filtered: a record archived a minute ago may sit
        on its first page, so no scan can stop early and each one reads the whole archive
        (HubSpot keeps archived records 90 days), ceil(archived / 100) calls. What keeps
        that affordable is how often it runs (``archive_scan_interval``); a skipped cycle
        loses nothing, because the next scan reports everything archived since the cursor
        the last completed scan covered, and ``deletion_lookback`` covers a restart."""
        key = (object_name, tuple(sorted(scope.items())))
        previous = self._archive_scans.get(key)
        now = self._clock()
        interval = self.settings.archive_scan_interval.total_seconds()
        if since is not None and previous is not None and now - previous.at < interval:
            return
        lookback_ms = int(self.settings.deletion_lookback.total_seconds() * 1000)
        cutoff: int | None = None
        if since is not None:
            start = to_ms(since.modified_at)
            if previous is not None and previous.covered_ms is not None:
                start = min(start, previous.covered_ms)
            cutoff = start - lookback_ms
        after: str | None = None
        while True:
            def archived_page(kw: dict[str, Any], a: str | None = after) -> Any:
                return self._basic.get_page_with_http_info(
                    object_name, limit=ARCHIVE_PAGE, after=a, properties=properties,
                    archived=True, **kw)

            reply = self.transport.call(f"archived {object_name}", "read", archived_page)
            deleted = []
            for record in results_of(reply):
                archived_ms = instant_ms(record.get("archivedAt") or record.get("updatedAt"))
                if cutoff is not None and archived_ms is not None and archived_ms < cutoff:
                    continue
                values = record.get("properties") or {}
                if any(str(values.get(name)) != value for name, value in scope.items()):
                    continue
                deleted.append(RecordChange(
                    str(record["id"]), from_ms(archived_ms) if archived_ms else None,
                    values, deleted=True))
            if deleted:
                yield Page(tuple(deleted), cursor)
            after = next_after(reply.body)
            if after is None:
                break
        covered = to_ms(cursor.modified_at) if cursor is not None else None
        self._archive_scans[key] = _ArchiveScan(now, covered)

    # --- reads by id ----------------------------------------------------------------------
    def id_problem(self, object_name: str, record_id: str) -> str | None:
        """HubSpot record ids of every object are positive 64-bit integers, in decimal."""
        shown = quoted(record_id)
        if not (record_id.isascii() and record_id.isdigit()) or record_id.startswith("0"):
            return (f"{shown} is not a HubSpot {object_name} id: record ids are positive "
                    "whole numbers written with digits only (e.g. 18342765012)")
        if int(record_id) > MAX_RECORD_ID:
            return f"{shown} is not a HubSpot {object_name} id: it is too large for one"
        return None

    def fetch(self, object_name: str, ids: Sequence[str],
              fields: Sequence[str]) -> list[RecordChange]:
        """Records by id, 100 per batch read; ids HubSpot does not know are left out."""
        self._schema.require(object_name, fields)
        properties = list(dict.fromkeys([*fields, MODIFIED, RECORD_ID]))
        wanted = list(dict.fromkeys(str(i) for i in ids))
        found: dict[str, RecordChange] = {}
        for start in range(0, len(wanted), MAX_BATCH):
            chunk = wanted[start:start + MAX_BATCH]
            body = BatchReadInputSimplePublicObjectId(
                properties=properties, properties_with_history=[],
                inputs=[SimplePublicObjectId(id=i) for i in chunk])

            def batch_read(kw: dict[str, Any],
                           b: BatchReadInputSimplePublicObjectId = body) -> Any:
                return self._batch.read_with_http_info(object_name, b, **kw)

            reply = self.transport.call(f"batch read {object_name}", "read", batch_read)
            records = results_of(reply)
            self._schema.check_returned(object_name, properties, records)
            for record in records:
                found[str(record["id"])] = record_change(record)
        return [found[i] for i in wanted if i in found]

    # --- writes and tasks (connectors.hubspot.writes) -----------------------------------
    def write(self, object_name: str, writes: Sequence[RecordWrite]) -> list[WriteResult]:
        """Batch update (ids) and batch create (no id), 100 per call; one result per write,
        in input order."""
        return self._writer.write(object_name, writes)

    def upsert_tasks(self, target: TaskTarget, tasks: Sequence[TaskWrite]) -> list[WriteResult]:
        """Batch upsert by the task key property (100 per call), each task attached to its
        deal; idempotent."""
        return self._writer.upsert_tasks(target, tasks)

    def create_deals(self, target: CreateTarget,
                     deals: Sequence[DealCreate]) -> list[WriteResult]:
        """Deals found by their key property, the rest batch-upserted by it, each
        associated with its company (``connectors.hubspot.creates``)."""
        results = self._creator.create_deals(target, deals)
        log.info("hubspot create deals", object=target.object, deals=len(deals),
                 created=sum(r.created for r in results), failed=sum(not r.ok for r in results))
        return results

    # --- owners ---------------------------------------------------------------------------
    def owners(self) -> list[Owner]:
        """Active and archived owners (archived ones inactive); HubSpot has no manager."""
        found: dict[str, Owner] = {}
        for archived in (False, True):
            after: str | None = None
            while True:
                def owners_page(kw: dict[str, Any], a: str | None = after,
                                arch: bool = archived) -> Any:
                    return self._owners.get_page_with_http_info(
                        limit=OWNERS_PAGE, after=a, archived=arch, **kw)

                reply = self.transport.call("list owners", "metadata", owners_page)
                for owner in results_of(reply):
                    owner_id = str(owner["id"])
                    active = not archived and not owner.get("archived")
                    if owner_id not in found or active:
                        name = " ".join(str(owner.get(part) or "").strip()
                                        for part in ("firstName", "lastName")).strip()
                        found[owner_id] = Owner(owner_id, str(owner.get("email") or "").lower(),
                                                active=active, manager_id=None, name=name)
                after = next_after(reply.body)
                if after is None:
                    break
        return list(found.values())

    def close(self) -> None:
        """Tell the budget ledger the calls it has not heard of; close the connection pools."""
        self.budget.close()
        for api in (self._basic, self._batch, self._search, self._associations,
                    self._properties, self._pipelines, self._owners, self._oauth):
            api.api_client.rest_client.pool_manager.clear()


def _org_key(portal: str) -> str:
    return f"{SYSTEM} portal {portal}"
