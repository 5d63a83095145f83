"""Every HubSpot HTTP call goes through here: pace, budget, authenticate, count, classify,
retry.

One call of the real client is one HTTP request: urllib3's own retries are switched off
(``NO_POOL_RETRIES``) so that each request is paced, budgeted, counted in ``ApiUsage`` and
classified by the error table; the retry policy (tenacity, ``connectors.retry``) sits
around the whole attempt. The generated methods are called with ``_preload_content=False``
and the JSON is decoded here: the client still builds, authenticates and sends the
request, but skips building model objects, which costs about ten times the HTTP exchange
on a 200-record search page and would dominate a large pull. It also hands back the
X-HubSpot-RateLimit-* headers, which the models drop.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from urllib3.util.retry import Retry

from connectors.base import ApiUsage
from connectors.budget import BudgetGuard, RatePacer
from connectors.errors import RateLimited, TransientError
from connectors.hubspot.auth import TokenSource
from connectors.hubspot.errors import (
    SYSTEM,
    Action,
    OutcomeUnknown,
    classify,
    failure_of,
)
from connectors.retry import RetrySettings, call_with_retry
from connectors.server_time import query_started_by

log = structlog.get_logger("connectors.hubspot")

NO_POOL_RETRIES = Retry(total=0, connect=0, read=0, redirect=0, status=0,
                        raise_on_status=False)

Invoke = Callable[[dict[str, Any]], Any]  # calls a generated *_with_http_info method


@dataclass(frozen=True, slots=True)
class Reply:
    """A 2xx answer: status, decoded JSON body (None when empty) and headers."""

    status: int
    body: Any
    headers: Mapping[str, str]
    # When HubSpot surely began handling the request, by its clock (its Date header less
    # the round trip, ``connectors.server_time``); None: the answer did not say.
    started_by: datetime | None = None


class HubSpotTransport:
    def __init__(self, *, usage: ApiUsage, retry: RetrySettings, budget: BudgetGuard,
                 burst: RatePacer, search: RatePacer, timeout: tuple[float, float],
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.usage = usage
        self.tokens: TokenSource | None = None
        # Run once before the first paced call (the connector learns its portal there).
        self.before_first_call: Callable[[], None] | None = None
        self.rate_limited = 0  # 429 answers seen (each was waited out and retried)
        self._retry = retry
        self._budget = budget
        self._burst = burst
        self._search = search
        self._timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._throttled_wait = False

    def call(self, what: str, kind: str, invoke: Invoke, *, search: bool = False,
             writing: bool = False, repeatable: bool = True, token_call: bool = False,
             retry: bool = True) -> Reply:
        """One API call with retries. ``what`` names it in messages ("search deals"),
        ``kind`` counts it in ``ApiUsage``; ``repeatable`` False (creates) turns a failure
        that may have been applied into ``OutcomeUnknown`` instead of a retry. ``retry``
        False makes one attempt: for a call made inside another call's attempt, whose
        own retries would otherwise multiply these."""

        def attempt() -> Reply:
            return self._attempt(what, kind, invoke, search=search, writing=writing,
                                 repeatable=repeatable, token_call=token_call)

        if not retry:
            return attempt()

        return call_with_retry(attempt, settings=self._retry, what=f"{SYSTEM} {what}",
                               sleep=self._retry_sleep, clock=self._clock)

    def _attempt(self, what: str, kind: str, invoke: Invoke, *, search: bool, writing: bool,
                 repeatable: bool, token_call: bool) -> Reply:
        renewed = False
        while True:
            self._wait_turn(search, paced=not token_call)
            kwargs: dict[str, Any] = {"_preload_content": False,
                                      "_request_timeout": self._timeout}
            if not token_call:
                assert self.tokens is not None, "the connector sets tokens before calling"
                kwargs["_request_auth"] = {"in": "header", "key": "Authorization",
                                           "value": "Bearer " + self.tokens.bearer()}
            self.usage.count(kind)
            sent = time.monotonic()  # real time, whatever clock the transport is given
            try:
                raw = invoke(kwargs)
            except Exception as exc:
                failure = failure_of(exc)
                if failure is None:
                    raise
                self._observe(failure.headers)
                row, error = classify(failure, subject=what, writing=writing,
                                      token_call=token_call)
                if (row.action is Action.REAUTH and not renewed and self.tokens is not None
                        and self.tokens.renew_after_refusal()):
                    renewed = True
                    continue
                if isinstance(error, RateLimited):
                    self.rate_limited += 1
                    self._throttled_wait = True
                    log.info("hubspot rate limited", call=what, policy=failure.code,
                             retry_after_s=error.retry_after)
                if row.action is Action.RETRY_SAFE and not repeatable:
                    raise OutcomeUnknown(error.message, system=SYSTEM, status=failure.status,
                                         code=failure.code) from exc
                raise error from exc
            return self._reply(raw, what, repeatable, sent)

    def _reply(self, raw: Any, what: str, repeatable: bool, sent: float) -> Reply:
        try:
            data = raw.data
        finally:
            raw.release_conn()
        received = time.monotonic()
        headers = dict(raw.headers or {})
        self._observe(headers)
        try:
            body = json.loads(data) if data else None
        except ValueError as exc:
            # A gateway or captive portal answered 2xx with something that is not JSON.
            message = f"HubSpot answered {what} with a body that is not JSON"
            if not repeatable:
                raise OutcomeUnknown(message, system=SYSTEM, status=raw.status) from exc
            raise TransientError(message, system=SYSTEM, status=raw.status) from exc
        date = next((value for key, value in headers.items() if key.lower() == "date"), None)
        return Reply(raw.status, body, headers, query_started_by(date, received - sent))

    def _wait_turn(self, search: bool, *, paced: bool) -> None:
        """The budget first (it may wait long), then the search window, the burst window
        last: each pacer stamps the call when it lets it go, so the burst pacer's stamp
        must be the one right before sending, or a search's wait would make the burst
        window look older than the server sees it. The OAuth token endpoint is not part
        of the CRM API's quotas, so it is not paced."""
        if not paced:
            return
        if self.before_first_call is not None:
            first, self.before_first_call = self.before_first_call, None
            first()
        waited = self._budget.before_call()
        if search:
            waited += self._search.acquire()
        waited += self._burst.acquire()
        self.usage.throttled_seconds += waited

    def _retry_sleep(self, seconds: float) -> None:
        if self._throttled_wait:
            self.usage.throttled_seconds += seconds
            self._throttled_wait = False
        self._sleep(seconds)

    def _observe(self, headers: Mapping[str, str]) -> None:
        """X-HubSpot-RateLimit-* -> ApiUsage and the budget guard."""
        lowered = {key.lower(): value for key, value in headers.items()}

        def number(name: str) -> int | None:
            raw = lowered.get(f"x-hubspot-ratelimit-{name}")
            try:
                return int(raw) if raw is not None else None
            except ValueError:
                return None

        daily, daily_left = number("daily"), number("daily-remaining")
        if daily is not None:
            self.usage.daily_limit = daily
            self._budget.observe_limit(daily)
            if daily_left is not None:
                self.usage.daily_used = max(daily - daily_left, 0)
        window, window_left = number("max"), number("remaining")
        if window is not None:
            self.usage.window_limit = window
        if window_left is not None:
            self.usage.window_remaining = window_left
