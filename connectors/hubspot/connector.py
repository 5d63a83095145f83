"""The HubSpot connector: CRM v3 records through hubspot-api-client, inside the API limits.

What it spends calls on, per cycle and object: one search call per 200 changed records
(``connectors.hubspot.search`` keeps the 10,000-result cap from dropping or looping any),
one archived-listing call per 100 archived records (deletions), one batch call per 100
records written, and the property definitions once (cached until ``start_cycle``).
Everything goes through ``HubSpotTransport``: paced under the burst and search limits,
inside the daily budget share, retried on transient failures, classified by the error
table in ``connectors.hubspot.errors``.

The generic ``crm.objects`` APIs serve every object type (deals, tasks, ...), so one
connector handles deals and the task object alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicDefaultAssociationMultiPost,
    PublicAssociationMultiPost,
    PublicDefaultAssociationMultiPost,
)
from hubspot.crm.associations.v4 import PublicObjectId as AssociationEnd
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
)

from connectors.base import (
    ApiUsage,
    Cursor,
    FieldSchema,
    ObjectSchema,
    Owner,
    Page,
    RecordChange,
    RecordError,
    RecordWrite,
    TaskTarget,
    TaskWrite,
    WriteResult,
)
from connectors.budget import BudgetGuard, BudgetSettings, LedgerFactory, RatePacer
from connectors.errors import AuthError, ConnectorError, FatalError, SchemaError
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
from connectors.hubspot.batch import Input, Outcome, chunks, isolate
from connectors.hubspot.errors import SYSTEM
from connectors.hubspot.facts import MAX_BATCH, MAX_PAGE, RECORD_ID
from connectors.hubspot.search import (
    MODIFIED,
    Hit,
    Lower,
    Position,
    SearchRequest,
    SlicedSearch,
)
from connectors.hubspot.transport import NO_POOL_RETRIES, HubSpotTransport, Reply
from connectors.quoting import quoted
from connectors.retry import RetrySettings
from connectors.secret_text import SecretHook, ignore

log = structlog.get_logger("connectors.hubspot")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ARCHIVE_PAGE = 100  # the list endpoint's maximum
OWNERS_PAGE = 500
HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
PIPELINE_OBJECTS = frozenset({"deals", "deal", "0-3"})
MAX_RECORD_ID = 2**63 - 1  # record ids are 64-bit integers
# HubSpot caps every string property value at 65,536 characters (its describe does not
# say so): a longer value fails the whole batch input with a VALIDATION_ERROR.
STRING_LIMIT = 65_536


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
        self._property_cache: dict[str, dict[str, dict[str, Any]]] = {}
        # Per object: properties confirmed defined although a record came back without
        # them (e.g. a field the app's scopes may not see), so _check_returned re-reads
        # the definitions once per cycle for them, not once per page.
        self._omitted_ok: dict[str, set[str]] = {}
        self._describe_cache: dict[str, ObjectSchema] = {}
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
            portal = self._read_portal()
        except ConnectorError as exc:
            if not isinstance(exc, FatalError):  # a blip: ask again before the next call
                self.transport.before_first_call = self._share_budget
            self._unshared(str(exc))
            return
        if portal is None:
            self._unshared("the answer held no portalId")
            return
        self.usage.budget_unshared = None
        self.budget.share(self._ledgers(_org_key(portal)))

    def _read_portal(self) -> str | None:
        """The portal id, from the account details (one call; kept once known)."""
        if self._portal is None:
            reply = self.transport.call(
                "read the account details", "other",
                lambda kw: self._owners.api_client.call_api(
                    "/account-info/v3/details", "GET", header_params={"Accept":
                                                                      "application/json"},
                    response_types_map={}, auth_settings=["oauth2"], **kw))
            portal = reply.body.get("portalId") if isinstance(reply.body, dict) else None
            self._portal = None if portal is None else str(portal)
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
        self._property_cache.clear()
        self._describe_cache.clear()
        self._omitted_ok.clear()
        if self._ledgers is not None and self.usage.budget_unshared is not None:
            self.transport.before_first_call = self._share_budget

    def describe(self, object_name: str) -> ObjectSchema:
        """Properties as fields (+ the stage ids of each pipeline for deals); cached until
        ``start_cycle``."""
        cached = self._describe_cache.get(object_name)
        if cached is not None:
            return cached
        fields: dict[str, FieldSchema] = {}
        for prop in self._property_defs(object_name).values():
            meta = prop.get("modificationMetadata") or {}
            read_only = bool(meta.get("readOnlyValue")) or bool(prop.get("calculated"))
            options = tuple(str(o.get("value")) for o in prop.get("options") or [])
            enumeration = prop.get("type") == "enumeration"
            picklist = options if enumeration and options else None
            multi = enumeration and prop.get("fieldType") == "checkbox"
            kind = "multi_enumeration" if multi else str(prop.get("type"))
            fields[prop["name"]] = FieldSchema(
                name=prop["name"], type=kind, createable=not read_only,
                updateable=not read_only, picklist_values=picklist,
                restricted_picklist=picklist is not None,
                length=STRING_LIMIT if kind == "string" else 0)
        pipelines: dict[str, tuple[str, ...]] = {}
        if object_name in PIPELINE_OBJECTS:
            reply = self.transport.call(
                f"pipelines of {object_name}", "metadata",
                lambda kw: self._pipelines.get_all_with_http_info(object_name, **kw))
            for pipeline in _results(reply):
                pipelines[str(pipeline["id"])] = tuple(
                    str(stage["id"]) for stage in pipeline.get("stages") or [])
        described = ObjectSchema(object_name, fields,
                                 pipeline_field="pipeline" if pipelines else None,
                                 stage_field="dealstage" if pipelines else None,
                                 pipelines=pipelines)
        self._describe_cache[object_name] = described
        return described

    def _property_defs(self, object_name: str) -> dict[str, dict[str, Any]]:
        cached = self._property_cache.get(object_name)
        if cached is None:
            reply = self.transport.call(
                f"properties of {object_name}", "metadata",
                lambda kw: self._properties.get_all_with_http_info(object_name, archived=False,
                                                                   **kw))
            cached = {str(p["name"]): p for p in _results(reply)}
            self._property_cache[object_name] = cached
        return cached

    def _require_properties(self, object_name: str, names: Sequence[str], *,
                            writing: bool = False) -> None:
        """SchemaError naming every unknown (or, for writes, read-only) property, before any
        record is read or written: a mapping that names a property the account lacks is an
        admin's problem, not thousands of record errors."""
        defs = self._property_defs(object_name)
        unknown = sorted({n for n in names if n not in defs})
        if unknown:
            raise SchemaError(
                f"HubSpot {object_name} has no propert{'y' if len(unknown) == 1 else 'ies'} "
                f"{', '.join(unknown)}; fix the mapping or create the property in HubSpot, "
                "then run 'handoff-sync mappings validate --live'", system=SYSTEM)
        if writing:
            read_only = sorted({n for n in names if _read_only(defs[n])})
            if read_only:
                raise SchemaError(
                    f"HubSpot {object_name}: {', '.join(read_only)} cannot be written "
                    "(read-only or calculated); change the mapping's direction to read",
                    system=SYSTEM)

    # --- pull ---------------------------------------------------------------------------
    def pull(self, object_name: str, fields: Sequence[str], since: Cursor | None, *,
             scope: Mapping[str, str] | None = None) -> Iterator[Page]:
        """Records modified since the cursor (less the overlap window), then the records
        archived since it (deletions). Page cursors advance in (hs_lastmodifieddate, id)
        order and each covers exactly the records handed over so far."""
        scope = dict(scope or {})
        self._require_properties(object_name, [*fields, *scope])
        properties = list(dict.fromkeys([*fields, MODIFIED, RECORD_ID, *scope]))
        plan = SlicedSearch(self._start(since), scope=scope, page_size=self.settings.page_size)
        cursor = since
        changes = 0
        while (request := plan.next_request()) is not None:
            def do_search(kw: dict[str, Any], r: SearchRequest = request) -> Any:
                return self._search.do_search_with_http_info(
                    object_name, _search_body(r, properties), **kw)

            reply = self.transport.call(f"search {object_name}", "search", do_search,
                                        search=True)
            body = reply.body if isinstance(reply.body, dict) else {}
            records = _results(reply)
            self._check_returned(object_name, properties, records)
            hits = [Hit(int(r["id"]), _modified_ms(r), r) for r in records]
            step = plan.accept(hits, has_more=_has_more(body), total=body.get("total"))
            page_changes = tuple(_change(hit.record) for hit in step.hits)
            # Positions inside the overlap window lie behind ``since``: never go back.
            if step.position is not None and (cursor is None
                                              or _order(step.position) > _order(cursor)):
                cursor = _cursor(step.position)
            elif not page_changes:
                continue
            changes += len(page_changes)
            yield Page(page_changes, cursor)
        deletions = 0
        for page in self._deletions(object_name, properties, since, scope, cursor):
            deletions += len(page.changes)
            yield page
        log.info("hubspot pull", object=object_name, changes=changes, deletions=deletions,
                 search_calls=plan.calls, id_slices=plan.slices, reanchors=plan.reanchors,
                 cursor=str(cursor.modified_at) if cursor else None)

    def _start(self, since: Cursor | None) -> Lower | None:
        if since is None:
            return None
        ms = _to_ms(since.modified_at)
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
            start = _to_ms(since.modified_at)
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
            for record in _results(reply):
                archived_ms = _instant_ms(record.get("archivedAt") or record.get("updatedAt"))
                if cutoff is not None and archived_ms is not None and archived_ms < cutoff:
                    continue
                values = record.get("properties") or {}
                if any(str(values.get(name)) != value for name, value in scope.items()):
                    continue
                deleted.append(RecordChange(
                    str(record["id"]), _datetime(archived_ms) if archived_ms else None,
                    values, deleted=True))
            if deleted:
                yield Page(tuple(deleted), cursor)
            after = _next_after(reply.body)
            if after is None:
                break
        covered = _to_ms(cursor.modified_at) if cursor is not None else None
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
        self._require_properties(object_name, fields)
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
            records = _results(reply)
            self._check_returned(object_name, properties, records)
            for record in records:
                found[str(record["id"])] = _change(record)
        return [found[i] for i in wanted if i in found]

    def _check_returned(self, object_name: str, requested: Sequence[str],
                        records: Sequence[Mapping[str, Any]]) -> None:
        """SchemaError when records come back without a requested property that HubSpot
        no longer defines.

        HubSpot answers every requested property that exists (null when unset) and
        silently leaves out one that does not: a property archived since the definitions
        were cached is not an error, just missing. Without this check the sync would keep
        reading around it unaware, until a write to it failed record by record. The
        definitions are read again first (one call, only when something is missing), so
        a record that merely lacks a value never stops a pull."""
        known_ok = self._omitted_ok.get(object_name, set())
        missing = {name for record in records for name in requested
                   if name not in (record.get("properties") or {})} - known_ok
        if not missing:
            return
        self._property_cache.pop(object_name, None)
        self._describe_cache.pop(object_name, None)
        gone = sorted(missing - set(self._property_defs(object_name)))
        if gone:
            raise SchemaError(
                f"HubSpot {object_name} no longer returns the propert"
                f"{'y' if len(gone) == 1 else 'ies'} {', '.join(gone)} (archived or deleted "
                "since the mapping was checked); restore it in HubSpot or fix the mapping, "
                "then run 'handoff-sync mappings validate --live'", system=SYSTEM)
        self._omitted_ok.setdefault(object_name, set()).update(missing)
        log.warning("hubspot records without requested properties", object=object_name,
                    properties=sorted(missing))

    # --- writes -------------------------------------------------------------------------
    def write(self, object_name: str, writes: Sequence[RecordWrite]) -> list[WriteResult]:
        """Batch update (ids) and batch create (no id), 100 per call; one result per write,
        in input order. See ``connectors.hubspot.batch`` for how failures are pinned on
        single records."""
        if not writes:
            return []
        self._require_properties(object_name, sorted({n for w in writes for n in w.fields}),
                                 writing=True)
        updates = [Input(i, str(w.id), w.fields) for i, w in enumerate(writes) if w.id]
        creates = [Input(i, "", w.fields) for i, w in enumerate(writes) if not w.id]
        done: dict[int, Outcome] = {}
        for batch in chunks(updates):
            done.update(isolate(batch, lambda b: self._send_update(object_name, b),
                                match="id"))
        for batch in chunks(creates):
            done.update(isolate(batch, lambda b: self._send_create(object_name, b),
                                match="order"))
        results = []
        for index, write in enumerate(writes):
            outcome = done[index]
            record_id = write.id or (str(outcome.record["id"]) if outcome.record else None)
            results.append(WriteResult(write.ref, record_id, outcome.error is None,
                                       created=not write.id and outcome.error is None,
                                       error=outcome.error))
        failed = sum(1 for r in results if not r.ok)
        log.info("hubspot write", object=object_name, records=len(writes),
                 updated=len(updates), created=len(creates), failed=failed)
        return results

    def _send_update(self, object_name: str, batch: Sequence[Input]) -> Mapping[str, Any]:
        body = BatchInputSimplePublicObjectBatchInput(inputs=[
            SimplePublicObjectBatchInput(id=item.key, properties=dict(item.properties),
                                         object_write_trace_id=item.trace_id)
            for item in batch])
        reply = self.transport.call(
            f"batch update {object_name}", "write",
            lambda kw: self._batch.update_with_http_info(object_name, body, **kw), writing=True)
        return _body(reply)

    def _send_create(self, object_name: str, batch: Sequence[Input]) -> Mapping[str, Any]:
        # Trace ids switch batch create to multi-status: one bad record no longer fails
        # the other 99, and its error names it.
        body = BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
            SimplePublicObjectBatchInputForCreate(properties=dict(item.properties),
                                                  object_write_trace_id=item.trace_id)
            for item in batch])
        reply = self.transport.call(
            f"batch create {object_name}", "write",
            lambda kw: self._batch.create_with_http_info(object_name, body, **kw), writing=True,
            repeatable=False)
        return _body(reply)

    # --- tasks --------------------------------------------------------------------------
    def upsert_tasks(self, target: TaskTarget, tasks: Sequence[TaskWrite]) -> list[WriteResult]:
        """Batch upsert by the task key property (100 per call), then attach every task of
        the batch to its deal in one v4 association call.

        Upsert cannot carry associations, so they follow in their own call. It is made for
        every task, not only new ones: creating an existing association changes nothing,
        and a run that died between the two calls is repaired by the next one."""
        if not tasks:
            return []
        names = sorted({n for t in tasks for n in t.fields} | {target.key_field})
        self._require_properties(target.object, names, writing=True)
        key = self._property_defs(target.object)[target.key_field]
        if not key.get("hasUniqueValue"):
            raise SchemaError(f"HubSpot {target.object}.{target.key_field} is not a unique "
                              "property; tasks are keyed by it, so create it with "
                              "'unique values' on", system=SYSTEM)
        inputs = [Input(i, t.key, t.fields) for i, t in enumerate(tasks)]
        done: dict[int, Outcome] = {}
        for batch in chunks(inputs):
            outcomes = isolate(batch, lambda b: self._send_upsert(target, b), match="key",
                               key_property=target.key_field)
            self._attach(target, tasks, outcomes)
            done.update(outcomes)
        results = []
        for index, task in enumerate(tasks):
            outcome = done[index]
            record = outcome.record or {}
            results.append(WriteResult(task.key, str(record["id"]) if record else None,
                                       outcome.error is None,
                                       created=bool(record.get("new")) and outcome.error is None,
                                       error=outcome.error))
        log.info("hubspot upsert tasks", object=target.object, tasks=len(tasks),
                 created=sum(r.created for r in results), failed=sum(not r.ok for r in results))
        return results

    def _send_upsert(self, target: TaskTarget, batch: Sequence[Input]) -> Mapping[str, Any]:
        body = BatchInputSimplePublicObjectBatchInputUpsert(inputs=[
            SimplePublicObjectBatchInputUpsert(id_property=target.key_field, id=item.key,
                                               properties=dict(item.properties),
                                               object_write_trace_id=item.trace_id)
            for item in batch])
        reply = self.transport.call(
            f"batch upsert {target.object}", "write",
            lambda kw: self._batch.upsert_with_http_info(target.object, body, **kw),
            writing=True)
        return _body(reply)

    def _attach(self, target: TaskTarget, tasks: Sequence[TaskWrite],
                outcomes: dict[int, Outcome]) -> None:
        """Associate each written task with its deal; a failure marks that task's result
        (the task exists; the next upsert attaches it). A batch refused as a whole is split
        like a write, so one deleted deal does not leave the other 99 tasks unattached."""
        links = [Input(index, str(outcome.record["id"]), {"deal": tasks[index].deal_id})
                 for index, outcome in outcomes.items()
                 if outcome.record is not None and tasks[index].deal_id]
        if not links:
            return
        attached = isolate(links, lambda batch: self._send_links(target, batch), match="id")
        for index, result in attached.items():
            if result.error is not None:
                outcomes[index] = Outcome(outcomes[index].record, RecordError(
                    "ASSOCIATION_FAILED", f"the task was written but not attached to deal "
                    f"{tasks[index].deal_id}: {result.error.message}", retriable=True))

    def _send_links(self, target: TaskTarget, batch: Sequence[Input]) -> Mapping[str, Any]:
        """One v4 batch association call, its answer keyed by task id like a batch write's
        (v4 errors name ``fromObjectId``)."""
        type_id = target.deal_association_type_id
        if type_id is None:
            body: Any = BatchInputPublicDefaultAssociationMultiPost(inputs=[
                PublicDefaultAssociationMultiPost(_from=AssociationEnd(id=item.key),
                                                  to=AssociationEnd(id=item.properties["deal"]))
                for item in batch])
            api_call = self._associations.create_default_with_http_info
        else:
            spec = [AssociationSpec(association_category=HUBSPOT_DEFINED,
                                    association_type_id=type_id)]
            body = BatchInputPublicAssociationMultiPost(inputs=[
                PublicAssociationMultiPost(_from=AssociationEnd(id=item.key),
                                           to=AssociationEnd(id=item.properties["deal"]),
                                           types=spec)
                for item in batch])
            api_call = self._associations.create_with_http_info
        reply = self.transport.call(
            f"associate {target.object} with deals", "associate",
            lambda kw: api_call(target.object, "deals", body, **kw), writing=True)
        errors = [{**entry, "context": {"ids": _context_ids(entry, "fromObjectId")}}
                  for entry in _list(_body(reply).get("errors"))]
        failed = {task_id for entry in errors for task_id in entry["context"]["ids"]}
        return {"results": [{"id": item.key} for item in batch if item.key not in failed],
                "errors": errors}

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
                for owner in _results(reply):
                    owner_id = str(owner["id"])
                    active = not archived and not owner.get("archived")
                    if owner_id not in found or active:
                        name = " ".join(str(owner.get(part) or "").strip()
                                        for part in ("firstName", "lastName")).strip()
                        found[owner_id] = Owner(owner_id, str(owner.get("email") or "").lower(),
                                                active=active, manager_id=None, name=name)
                after = _next_after(reply.body)
                if after is None:
                    break
        return list(found.values())

    def close(self) -> None:
        """Tell the budget ledger the calls it has not heard of; close the connection pools."""
        self.budget.close()
        for api in (self._basic, self._batch, self._search, self._associations,
                    self._properties, self._pipelines, self._owners, self._oauth):
            api.api_client.rest_client.pool_manager.clear()


# --- JSON helpers ---------------------------------------------------------------------------
def _search_body(request: SearchRequest, properties: list[str]) -> PublicObjectSearchRequest:
    groups = [FilterGroup(filters=[Filter(property_name=c.property, operator=c.operator,
                                          value=c.value) for c in group])
              for group in request.groups]
    return PublicObjectSearchRequest(
        filter_groups=groups or None, properties=properties, limit=request.limit,
        after=request.after,
        # The client types sorts as strings; HubSpot wants objects, which pass through.
        sorts=[{"propertyName": request.sort, "direction": "ASCENDING"}])


def _body(reply: Reply) -> Mapping[str, Any]:
    return reply.body if isinstance(reply.body, dict) else {}


def _results(reply: Reply) -> list[dict[str, Any]]:
    return _list(_body(reply).get("results"))


def _list(raw: Any) -> list[dict[str, Any]]:
    return [item for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []


def _has_more(body: Mapping[str, Any]) -> bool:
    return _next_after(body) is not None


def _next_after(body: Any) -> str | None:
    paging = body.get("paging") if isinstance(body, dict) else None
    following = paging.get("next") if isinstance(paging, dict) else None
    after = following.get("after") if isinstance(following, dict) else None
    return str(after) if after not in (None, "") else None


def _context_ids(entry: Mapping[str, Any], key: str) -> list[str]:
    context = entry.get("context")
    values = context.get(key) if isinstance(context, dict) else None
    return [str(v) for v in values] if isinstance(values, list) else []


def _read_only(prop: Mapping[str, Any]) -> bool:
    meta = prop.get("modificationMetadata") or {}
    return bool(meta.get("readOnlyValue")) or bool(prop.get("calculated"))


def _change(record: Mapping[str, Any]) -> RecordChange:
    values = dict(record.get("properties") or {})
    ms = _modified_ms(record)
    return RecordChange(str(record["id"]), _datetime(ms), values)


def _modified_ms(record: Mapping[str, Any]) -> int:
    values = record.get("properties") or {}
    ms = _instant_ms(values.get(MODIFIED) or record.get("updatedAt"))
    if ms is None:
        raise SchemaError(f"HubSpot returned record {record.get('id')} without a usable "
                          f"{MODIFIED}", system=SYSTEM)
    return ms


def _instant_ms(raw: Any) -> int | None:
    """Epoch ms from HubSpot's ISO-8601 text (or epoch-ms digits)."""
    if raw is None:
        return None
    text = str(raw).strip()
    if text.isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _to_ms(parsed)


def _to_ms(at: datetime) -> int:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return (at - EPOCH) // timedelta(milliseconds=1)


def _datetime(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def _cursor(position: Position) -> Cursor:
    return Cursor(_datetime(position.modified_ms), str(position.last_id))


def _order(at: Position | Cursor) -> tuple[int, int]:
    """(ms, numeric id): ids compare as numbers ('999' < '1000'), unlike Cursor's strings."""
    if isinstance(at, Position):
        return at.modified_ms, at.last_id
    return _to_ms(at.modified_at), int(at.last_id) if at.last_id.isdigit() else -1


def _org_key(portal: str) -> str:
    return f"{SYSTEM} portal {portal}"
