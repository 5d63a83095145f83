"""The Salesforce connector: simple-salesforce behind the Connector protocol.

Why it looks the way it does:
- Calls are the scarce resource (a daily allowance shared by every integration), so each
  operation uses the fewest the API allows: 2,000-row query pages, 200-record sObject
  Collections, Bulk API 2.0 for big backfills, describe cached per cycle, usage read from
  the Sforce-Limit-Info header every response carries instead of a /limits/ call.
- Every HTTP request goes through one ``requests.Session`` of ours: it carries the CA
  bundle (``trust_env`` off, so REQUESTS_CA_BUNDLE cannot override it), a timeout, the
  budget guard, call counting by kind and the limit header. simple-salesforce keeps that
  header per SFType instance; reading it on the session sees every response.
- Tokens come from ``connectors.salesforce.auth`` (our own OAuth calls to a configurable
  login URL); the client runs in direct-session mode, so a 401 surfaces here and we log
  in again once.
- Vendor exceptions are translated once, at ``_attempt``, through the tables in
  ``connectors.salesforce.errors``; retries (tenacity, ``connectors.retry``) only see our
  exceptions.

This module makes the calls. What they send and what comes back is translated by pure
neighbours: the SOQL by ``query``, records, describes and results by ``records``; the
Bulk API 2.0 tail of a big pull is ``bulk``.

One connector serves one thread: the session's notion of the current call kind is state.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import requests
import structlog
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError

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
from connectors.budget import BudgetGuard, BudgetSettings, LedgerFactory
from connectors.errors import (
    AuthError,
    FatalError,
    RateLimited,
)
from connectors.retry import RetrySettings, call_with_retry
from connectors.salesforce import creates, query
from connectors.salesforce import ids as salesforce_ids
from connectors.salesforce import soql_literals as soql
from connectors.salesforce.auth import (
    SalesforceAuth,
    Token,
    obtain_token,
    retry_after_seconds,
)
from connectors.salesforce.bulk import BulkQuery
from connectors.salesforce.errors import (
    SYSTEM,
    BatchRejected,
    QueryLocatorExpired,
    SessionExpired,
    classify,
)
from connectors.salesforce.facts import COLLECTION_SIZE, MAX_PAGE_SIZE, MIN_PAGE_SIZE
from connectors.salesforce.records import (
    collection_record,
    json_value,
    object_schema,
    record_change,
    write_result,
)
from connectors.secret_text import SecretHook, ignore
from connectors.server_time import query_started_by, settled

T = TypeVar("T")
log = structlog.get_logger("connectors.salesforce")
CONNECT_TIMEOUT_SECONDS = 10.0  # as HubSpot's connect_timeout default


@dataclass(frozen=True, slots=True)
class SalesforceSettings:
    """One Salesforce connection: how to log in, how big to batch, how hard to try."""

    auth: SalesforceAuth
    """Login URL, grant and where its secrets are read from."""
    api_version: str = "59.0"
    """REST API version, without the "v"."""
    ca_file: Path | None = None
    """CA bundle to verify Salesforce with (a TLS-inspecting proxy, the sandbox); None
    uses the bundled public CAs."""
    timeout_seconds: float = 120.0
    """Longest wait for one HTTP response; Salesforce queries may take up to 2 minutes."""
    page_size: int = MAX_PAGE_SIZE
    """Rows per query page (200-2,000; a hint Salesforce may lower for wide rows)."""
    bulk_threshold: int = 50_000
    """A pull matching more records than this continues through Bulk API 2.0."""
    bulk_page_size: int = 50_000
    """Rows per Bulk API 2.0 results request."""
    bulk_poll_seconds: float = 2.0
    """Pause between Bulk API 2.0 job status checks."""
    bulk_timeout_seconds: float = 1_800.0
    """How long a Bulk API 2.0 job may run before the pull gives up for this cycle."""
    overlap_seconds: float = 60.0
    """How far behind its cursor a pull re-reads, for rows committed late."""
    retry: RetrySettings = field(default_factory=RetrySettings)
    """Backoff and give-up bounds for transient failures."""
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    """The share of the org's daily API allowance handoff-sync may use."""

    def __post_init__(self) -> None:
        if not MIN_PAGE_SIZE <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be {MIN_PAGE_SIZE}-{MAX_PAGE_SIZE}")
        if self.bulk_threshold < 0 or self.bulk_page_size < 1 or self.overlap_seconds < 0:
            raise ValueError("bulk_threshold and overlap_seconds must be >= 0, "
                             "bulk_page_size >= 1")
        if not self.api_version.replace(".", "", 1).isdigit():
            raise ValueError(f"api_version looks like 59.0, not {self.api_version!r}")


class _MeteredSession(requests.Session):
    """The one HTTP session: budget first, then count, send, and read the limit header."""

    def __init__(self, usage: ApiUsage, budget: BudgetGuard, timeout: float) -> None:
        super().__init__()
        self.kind = "other"  # set by the connector around each call
        self.retry_after: float | None = None  # the last response's Retry-After
        # When Salesforce surely began handling the last request, by its clock (its Date
        # header less the round trip, ``connectors.server_time``); None: not known.
        self.started_by: datetime | None = None
        self._usage = usage
        self._budget = budget
        # A query may take minutes to answer, but a connection is made in seconds or not
        # at all: a host that drops packets is reported after 10 s, not after 2 minutes.
        self._timeout = (min(CONNECT_TIMEOUT_SECONDS, timeout), timeout)

    def request(self, method: str | bytes, url: str | bytes, *args: Any,  # type: ignore[override]
                **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        if self.kind != "auth":  # token requests do not count against the API allowance
            self._usage.throttled_seconds += self._budget.before_call()
        self._usage.count(self.kind)
        self.retry_after = None
        self.started_by = None
        sent = time.monotonic()  # real time, whatever clock the connector is given
        response = super().request(method, url, *args, **kwargs)
        self.started_by = query_started_by(response.headers.get("Date"),
                                           time.monotonic() - sent)
        self.retry_after = retry_after_seconds(response)
        info = response.headers.get("Sforce-Limit-Info")
        if info:
            usage = Salesforce.parse_api_usage(info).get("api-usage")
            if usage is not None:  # a malformed header keeps the last good reading
                self._usage.daily_used, self._usage.daily_limit = usage.used, usage.total
                self._budget.observe_limit(usage.total)
        return response


class SalesforceConnector:
    """The Connector protocol over Salesforce REST, sObject Collections and Bulk API 2.0."""

    system = "salesforce"

    def __init__(self, settings: SalesforceSettings, *,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 environ: Mapping[str, str] | None = None,
                 ledgers: LedgerFactory | None = None,
                 stop: Callable[[], bool] | None = None,
                 on_secret: SecretHook | None = None) -> None:
        """``ledgers`` gives the org's shared budget ledger once the login names the org
        (without it the budget counts this connector's calls); ``stop`` ends budget waits
        early (``StopRequested``); ``on_secret`` is told every secret read and token
        minted at each login (the daemon redacts them)."""
        self.settings = settings
        self.usage = ApiUsage()
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._environ = environ
        self._ledgers = ledgers
        self._on_secret = on_secret or ignore
        self.budget = BudgetGuard(settings.budget, system=SYSTEM, sleep=sleep, clock=clock,
                                  stop=stop)
        self._session = _MeteredSession(self.usage, self.budget, settings.timeout_seconds)
        self._session.trust_env = False  # REQUESTS_CA_BUNDLE would silently override verify
        self._session.verify = str(settings.ca_file) if settings.ca_file else True
        self._sf: Salesforce | None = None
        self._token: Token | None = None
        self._describes: dict[str, ObjectSchema] = {}
        self._throttled = False

    # --- the protocol ---------------------------------------------------------------------
    def describe(self, object_name: str) -> ObjectSchema:
        key = object_name.lower()
        if key not in self._describes:
            obj = query.api_name(object_name)
            raw = self._call("describe", f"describe {obj}",
                             lambda sf: getattr(sf, obj).describe())
            self._describes[key] = object_schema(raw)
        return self._describes[key]

    def pull(self, object_name: str, fields: Sequence[str], since: Cursor | None, *,
             scope: Mapping[str, str] | None = None) -> Iterator[Page]:
        """Changed records in (SystemModstamp, Id) order, deletions among them.

        With a cursor the pull reads through queryAll, so soft-deleted rows (IsDeleted)
        arrive in the same pages as changes: deleting a record moves its SystemModstamp.
        Without one it is a backfill of live records. The start is re-read
        ``overlap_seconds`` early (closed interval); with no overlap the (time, id)
        tie-break resumes exactly after the cursor's record.

        With an overlap, the last page's cursor is at least the time the first query ran
        by Salesforce's clock (``connectors.server_time``): an empty page carries it when
        no record moved the cursor that far, so a quiet pull stops re-reading the last
        write burst once the overlap has passed.
        """
        obj = query.api_name(object_name)
        include_deleted = since is not None
        select = query.select_fields(fields, deleted=include_deleted)
        floor = query.normalized(since)
        start = floor
        if floor is not None and self.settings.overlap_seconds > 0:
            start = Cursor(floor.modified_at - timedelta(seconds=self.settings.overlap_seconds))

        def query_after(position: Cursor | None) -> dict[str, Any]:
            return self._query(obj, query.query_text(obj, select, scope, position, ordered=True),
                               include_deleted)

        result = query_after(start)
        started = self._session.started_by
        overlap = timedelta(seconds=self.settings.overlap_seconds)
        # The first query's totalSize is the whole pull's estimate: a query re-run after an
        # expired locator counts only what is left, and bulk refines it (its job's count).
        expected = _total_size(result)
        page, position = self._page(result["records"], select, floor, start, expected)
        pages, records = 1, len(page.changes)
        if not result["done"] and result["totalSize"] > self.settings.bulk_threshold:
            # Decided on the first page's totalSize, not a COUNT() query: that costs no
            # extra call, and the page it comes with is yielded, not wasted.
            log.info("salesforce pull switches to bulk api 2.0", object=obj,
                     matched=result["totalSize"], threshold=self.settings.bulk_threshold)
            yield page
            last = page.cursor
            for bulk_page in self._bulk_pull(obj, select, scope, include_deleted, position,
                                             page.cursor, records, expected):
                pages, records = pages + 1, records + len(bulk_page.changes)
                last, expected = bulk_page.cursor, bulk_page.total
                yield bulk_page
            yield from _settle(last, started, overlap, expected)
            self._log_pull(obj, pages, records, bulk=True)
            return
        last = floor
        if page.changes:
            last = page.cursor
            yield page
        while not result["done"]:
            try:
                result = self._call("query_more", f"query {obj}",
                                    partial(_query_more, result["nextRecordsUrl"],
                                            self._query_headers()))
            except QueryLocatorExpired:
                # Exact, thanks to the Id tie-break: nothing before the position is re-read.
                log.warning("salesforce query locator expired: re-querying from the cursor",
                            object=obj)
                result = query_after(position)
            page, position = self._page(result["records"], select, page.cursor, position,
                                        expected)
            pages, records = pages + 1, records + len(page.changes)
            if page.changes:
                last = page.cursor
                yield page
        yield from _settle(last, started, overlap, expected)
        self._log_pull(obj, pages, records, bulk=False)

    def id_problem(self, object_name: str, record_id: str) -> str | None:
        """The id's shape, checked against the object's key prefix (describe, cached)."""
        shape = salesforce_ids.id_problem(record_id)
        if shape is not None:
            return shape
        schema = self.describe(object_name)
        return salesforce_ids.id_problem(record_id, schema.key_prefix, object_name=schema.name)

    def fetch(self, object_name: str, ids: Sequence[str],
              fields: Sequence[str]) -> list[RecordChange]:
        """Records by Id, in input order; chunks keep each query URL under 16 KB."""
        obj = query.api_name(object_name)
        select = query.select_fields(fields, deleted=False)
        # Short (15-character) ids are asked for in the 18-character form records carry.
        wanted = list(dict.fromkeys(salesforce_ids.full_id(i) for i in ids))
        if not wanted:
            return []
        found: dict[str, RecordChange] = {}
        prefix = f"SELECT {', '.join(select)} FROM {obj} WHERE Id IN ("
        for chunk in query.id_chunks(self._query_url_length(), prefix, ")", wanted):
            text = prefix + ",".join(soql.quote(i) for i in chunk) + ")"
            for records in self._query_pages(obj, text):
                for record in records:
                    change = record_change(record, select)
                    found[change.id] = change
        # Callers may hold 15-character ids; Salesforce answers with 18.
        position = {i[:15]: n for n, i in reversed(list(enumerate(wanted)))}
        return sorted(found.values(), key=lambda c: position.get(c.id[:15], len(wanted)))

    def write(self, object_name: str, writes: Sequence[RecordWrite]) -> list[WriteResult]:
        """Creates (POST) and updates (PATCH) through sObject Collections, allOrNone off."""
        obj = query.api_name(object_name)
        results: list[WriteResult | None] = [None] * len(writes)
        creates = [(i, w) for i, w in enumerate(writes) if w.id is None]
        updates = [(i, w) for i, w in enumerate(writes) if w.id is not None]
        for method, group in (("POST", creates), ("PATCH", updates)):
            for chunk in _chunks(group, COLLECTION_SIZE):
                records = [collection_record(obj, w.fields, record_id=w.id) for _, w in chunk]
                outcomes = self._collection("composite/sobjects", method, records,
                                            kind="write", subject=f"write {obj}",
                                            idempotent=method == "PATCH")
                for (index, w), outcome in zip(chunk, outcomes, strict=True):
                    results[index] = write_result(w.ref, w.id, outcome,
                                                   created=method == "POST")
        return [r for r in results if r is not None]

    def upsert_tasks(self, target: TaskTarget, tasks: Sequence[TaskWrite]) -> list[WriteResult]:
        """Upsert by the external-id key field (collections upsert), linked by WhatId."""
        obj = query.api_name(target.object)
        key = query.api_name(target.key_field)
        link = query.api_name(target.deal_link_field) if target.deal_link_field else None
        results: list[WriteResult] = []
        for chunk in _chunks(tasks, COLLECTION_SIZE):
            records = []
            for task in chunk:
                values = {**task.fields, key: task.key}
                if link is not None:
                    values[link] = task.deal_id
                records.append(collection_record(obj, values))
            outcomes = self._collection(f"composite/sobjects/{obj}/{key}", "PATCH", records,
                                        kind="upsert", subject=f"upsert {obj} by {key}",
                                        idempotent=True)
            results += [write_result(task.key, None, outcome, created=None)
                        for task, outcome in zip(chunk, outcomes, strict=True)]
        return results

    def create_deals(self, target: CreateTarget,
                     deals: Sequence[DealCreate]) -> list[WriteResult]:
        """Find the keys held already, then upsert the rest by the External ID key field
        (``connectors.salesforce.creates``), each attached to its Account."""
        if not deals:
            return []

        def collection(path: str, method: str, records: list[dict[str, Any]],
                       subject: str) -> list[dict[str, Any]]:
            # Upserts by key repeat safely; a plain create (an account) does not.
            return self._collection(path, method, records, kind="write", subject=subject,
                                    idempotent=method == "PATCH")

        results = creates.create_deals(target, deals, pages=self._query_pages,
                                       collection=collection)
        log.info("salesforce create deals", object=target.object, deals=len(deals),
                 created=sum(r.created for r in results), failed=sum(not r.ok for r in results))
        return results

    def owners(self) -> list[Owner]:
        owners = []
        for records in self._query_pages(
                "User", "SELECT Id, Name, Email, IsActive, ManagerId FROM User ORDER BY Id"):
            owners += [Owner(id=r["Id"], email=str(r.get("Email") or "").strip().lower(),
                             active=bool(r.get("IsActive")), manager_id=r.get("ManagerId"),
                             name=str(r.get("Name") or "").strip())
                       for r in records]
        return owners

    def org_key(self) -> str | None:
        """The org, named by the instance URL its login answered (logs in if need be)."""
        self._client()
        assert self._token is not None
        return _org_key(self._token)

    def start_cycle(self) -> None:
        self._describes.clear()

    def close(self) -> None:
        self.budget.close()
        self._session.close()

    # --- calls ----------------------------------------------------------------------------
    def _call(self, kind: str, subject: str, fn: Callable[[Salesforce], T], *,
              idempotent: bool = True) -> T:
        """``fn(client)`` with retries; a 401 logs in again once and repeats the call."""
        reauthenticated = False
        while True:
            try:
                return call_with_retry(partial(self._attempt, kind, subject, fn, idempotent),
                                       settings=self.settings.retry,
                                       what=f"salesforce {subject}",
                                       sleep=self._retry_sleep, clock=self._clock)
            except SessionExpired as exc:
                if reauthenticated:
                    raise
                reauthenticated = True
                log.info("salesforce session expired: logging in again", call=subject)
                self._login(refused=exc)

    def _attempt(self, kind: str, subject: str, fn: Callable[[Salesforce], T],
                 idempotent: bool) -> T:
        sf = self._client()
        self._session.kind = kind
        try:
            return fn(sf)
        except (SalesforceError, requests.RequestException) as exc:
            error = classify(exc, subject=subject, idempotent=idempotent,
                             retry_after=self._session.retry_after)
            self._throttled = isinstance(error, RateLimited)
            raise error from exc
        finally:
            self._session.kind = "other"

    def _retry_sleep(self, seconds: float) -> None:
        if self._throttled:
            self.usage.throttled_seconds += seconds
        self._sleep(seconds)

    def _client(self) -> Salesforce:
        if self._sf is None:
            self._login()
        assert self._sf is not None
        return self._sf

    def _login(self, refused: SessionExpired | None = None) -> None:
        auth = self.settings.auth
        token = call_with_retry(self._request_token, settings=self.settings.retry,
                                what=f"salesforce login at {auth.login_url}",
                                sleep=self._retry_sleep, clock=self._clock)
        if refused is not None and auth.kind == "session" and self._token is not None \
                and token.access_token == self._token.access_token:
            raise AuthError(
                "Salesforce refused the configured session id and it has not been replaced; "
                "put a fresh one where the settings read it, or use an OAuth grant",
                system=SYSTEM, status=401) from refused
        if self._ledgers is not None and self._token is None:
            # One budget per org: the instance URL names it, whatever pipeline asks.
            self.budget.share(self._ledgers(_org_key(token)))
        self._token = token
        self.usage.org = {"instance_url": token.instance_url.rstrip("/")}
        self._sf = Salesforce(instance_url=token.instance_url, session_id=token.access_token,
                              session=self._session, version=self.settings.api_version)
        log.info("salesforce authenticated", auth=auth.kind, instance_url=token.instance_url)

    def _request_token(self) -> Token:
        self._session.kind = "auth"
        try:
            return obtain_token(self.settings.auth, self._session, clock=self._wall_clock,
                                environ=self._environ, on_secret=self._on_secret)
        except requests.RequestException as exc:
            raise classify(exc, subject=f"login at {self.settings.auth.login_url}") from exc
        finally:
            self._session.kind = "other"

    # --- queries --------------------------------------------------------------------------
    def _query_headers(self) -> dict[str, str]:
        if self.settings.page_size == MAX_PAGE_SIZE:
            return {}
        return {"Sforce-Query-Options": f"batchSize={self.settings.page_size}"}

    def _query(self, obj: str, text: str, include_deleted: bool = False) -> dict[str, Any]:
        headers = self._query_headers()
        return self._call("query", f"query {obj}",
                          lambda sf: sf.query(text, include_deleted=include_deleted,
                                              headers=headers))

    def _query_pages(self, obj: str, text: str) -> Iterator[list[dict[str, Any]]]:
        result = self._query(obj, text)
        yield result["records"]
        while not result["done"]:
            result = self._call("query_more", f"query {obj}",
                                partial(_query_more, result["nextRecordsUrl"],
                                        self._query_headers()))
            yield result["records"]

    def _query_url_length(self) -> int:
        """Bytes of the query URL before the encoded SOQL."""
        return len(self._client().base_url + "query/?q=")

    def _page(self, records: list[dict[str, Any]], select: Sequence[str],
              floor: Cursor | None, position: Cursor | None,
              total: int | None = None) -> tuple[Page, Cursor | None]:
        """A page with its cursor (and the pull's estimated ``total``), and the exact
        position reached.

        The position is the last row's (SystemModstamp, Id): where a re-query resumes. The
        page's cursor is the same but never below ``floor``, the cursor the caller holds,
        which rows re-read from the overlap window must not move backwards.
        """
        changes = tuple(record_change(r, select) for r in records)
        if changes and changes[-1].modified_at is not None:
            position = Cursor(changes[-1].modified_at, changes[-1].id)
        cursor = floor
        if position is not None:
            cursor = position if cursor is None else max(cursor, position)
        return Page(changes, cursor, total), position

    def _bulk_pull(self, obj: str, select: Sequence[str], scope: Mapping[str, str] | None,
                   include_deleted: bool, after: Cursor | None, safe: Cursor | None,
                   handed: int, expected: int | None) -> Iterator[Page]:
        """The rest of a big pull, after ``after``, through one Bulk API 2.0 query job
        (``connectors.salesforce.bulk``); its pages carry ``safe`` until the last, and
        the pull's total as ``handed`` (records before the job) plus the job's count."""
        bulk = BulkQuery(self._call, page_size=self.settings.bulk_page_size,
                         poll_seconds=self.settings.bulk_poll_seconds,
                         timeout_seconds=self.settings.bulk_timeout_seconds, sleep=self._sleep)
        yield from bulk.pages(obj, query.query_text(obj, select, scope, after, ordered=False),
                              self.describe(obj), select, include_deleted=include_deleted,
                              safe=safe, handed=handed, expected=expected)

    # --- writes ---------------------------------------------------------------------------
    def _collection(self, path: str, method: str, records: list[dict[str, Any]], *,
                    kind: str, subject: str, idempotent: bool) -> list[dict[str, Any]]:
        """One collection call's per-record results, in input order.

        A request refused as a whole (a value of the wrong JSON type) is split in halves
        until the record at fault fails alone, so it never sinks the rest of its batch.
        """
        body = json.dumps({"allOrNone": False, "records": records}, default=json_value)
        try:
            raw = self._call(kind, subject,
                             lambda sf: sf.restful(path, method=method, data=body),
                             idempotent=idempotent)
        except BatchRejected as exc:
            if len(records) == 1:
                return [{"success": False,
                         "errors": [{"statusCode": exc.code or "JSON_PARSER_ERROR",
                                     "message": exc.message}]}]
            log.warning("salesforce batch refused as a whole: splitting it", call=subject,
                        records=len(records), error=exc.message)
            half = len(records) // 2
            return (self._collection(path, method, records[:half], kind=kind,
                                     subject=subject, idempotent=idempotent)
                    + self._collection(path, method, records[half:], kind=kind,
                                       subject=subject, idempotent=idempotent))
        results = list(raw or [])
        if len(results) != len(records) or not all(isinstance(r, dict) for r in results):
            raise FatalError(f"Salesforce answered {len(results)} results for {len(records)} "
                             f"records ({subject}); the results cannot be matched to records",
                             system=SYSTEM)
        return results

    def _log_pull(self, obj: str, pages: int, records: int, *, bulk: bool) -> None:
        log.info("salesforce pull", object=obj, pages=pages, records=records, bulk=bulk,
                 calls=self.usage.total, daily_used=self.usage.daily_used,
                 daily_limit=self.usage.daily_limit)


# --- pure helpers -------------------------------------------------------------------------


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    iterator = iter(items)
    while chunk := tuple(islice(iterator, size)):
        yield chunk


def _settle(last: Cursor | None, started: datetime | None, overlap: timedelta,
            total: int | None) -> Iterator[Page]:
    """An empty closing page when the pull, now complete, settles the cursor past ``last``
    (the cursor the pages so far carried)."""
    cursor = settled(last, started, overlap)
    if cursor is not None and cursor != last:
        yield Page((), cursor, total)


def _total_size(result: Any) -> int | None:
    """A query answer's totalSize: every row the query matches (None if not a count)."""
    size = result.get("totalSize") if isinstance(result, dict) else None
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 \
        else None


def _query_more(url: str, headers: dict[str, str], sf: Salesforce) -> Any:
    return sf.query_more(url, identifier_is_url=True, headers=headers)


def _org_key(token: Token) -> str:
    """One org, whatever login URL or user reached it: the instance URL names it."""
    return f"{SYSTEM} {token.instance_url.rstrip('/').lower()}"
