"""How every HubSpot failure is classified: one table, one reason per row.

hubspot-api-client raises one ``ApiException`` class per generated sub-package (they share
no base but ``Exception``), each with ``status``, ``body`` (JSON text) and ``headers``;
below HTTP, urllib3 raises its own exceptions (connection refused, timeouts, resets). The
connector turns both into a ``Failure`` and ``classify`` maps that through the tables below
to a ``connectors.errors`` exception, so the decision (retry, re-authenticate, stop, blame
one record) and the admin-facing words live in one place.

Actions:
    RETRY       repeat the call, whatever it was: HubSpot did not act on it
    RETRY_SAFE  repeat only an idempotent call (reads, search, updates by id, upserts by
                key): the request may have been applied, so repeating a create could
                duplicate it; a create gets ``OutcomeUnknown`` instead
    REAUTH      renew the OAuth access token once and repeat the call
    RECORD      a batch write refused as a whole because of its records: the writer
                splits the batch to pin the failure on the records at fault
    FAIL        raise; retrying cannot help (fatal errors say what the admin must do)
Per-record failures inside a 207 multi-status answer are in ``RECORD_TABLE``; they become
``RecordError`` values, never exceptions.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import (
    MaxRetryError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from connectors.base import RecordError
from connectors.error_table import (
    Action,
    connect_cause,
    endpoint_of,
    status_matches,
    tls_cause,
)
from connectors.errors import (
    CAUSES,
    AuthError,
    CannotConnect,
    CertificateRejected,
    ConnectorError,
    FatalError,
    PermissionDenied,
    QuotaExhausted,
    RateLimited,
    SchemaError,
    TransientError,
)

SYSTEM = "hubspot"
DEFAULT_WINDOW_SECONDS = 10.0


class OutcomeUnknown(ConnectorError):
    """A create failed in a way that may have applied it; repeating could duplicate it."""


class BatchRejected(ConnectorError):
    """A batch write refused as a whole; the writer splits it to find the records at fault.

    ``named`` are the inputs the answer blames (ids, unique keys or trace ids),
    ``properties`` the property names it mentions."""

    def __init__(self, message: str, *, error: RecordError, named: frozenset[str],
                 properties: frozenset[str], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.error = error
        self.named = named
        self.properties = properties


@dataclass(frozen=True, slots=True)
class Row:
    """One classification: which failures it matches, what to do, what to tell the admin."""

    status: int | range | None  # HTTP status or a range; None matches any
    code: str | None  # category, policyName, OAuth status or derived code; None: any
    action: Action
    failure: type[ConnectorError]
    message: str  # format fields: {subject} {detail} {status} {scopes} {cause}
    reason: str  # why this row exists (kept next to the rule, per style.md)
    writing: bool | None = None  # only for batch writes (True) / other calls (False)

    def matches(self, failure: Failure, writing: bool) -> bool:
        return (status_matches(self.status, failure.status)
                and (self.code is None or self.code == failure.code)
                and (self.writing is None or self.writing == writing))


_R, _S, _A, _C, _F = Action.RETRY, Action.RETRY_SAFE, Action.REAUTH, Action.RECORD, Action.FAIL

# HTTP answers of the CRM APIs, most specific first; the first match wins.
TABLE: tuple[Row, ...] = (
    Row(429, "DAILY", _F, QuotaExhausted,
        "the HubSpot account's daily API allowance is used up ({detail}); syncing pauses "
        "until it renews at midnight in the account's time zone. Lower the budget share of "
        "other apps or add HubSpot's API limit increase",
        "a 24-hour quota shared by every app on the account, not a blip: retrying only "
        "spends calls the other integrations need"),
    Row(429, None, _R, RateLimited,
        "HubSpot throttled {subject} ({detail})",
        "the 10-second burst window and the search endpoints' per-second limit free up "
        "within seconds; HubSpot refuses the call before running it, so even a create is "
        "safe to repeat"),
    Row(401, None, _A, AuthError,
        "HubSpot refused the credentials for {subject} ({detail}); check the private-app "
        "token (rotated, or the app uninstalled?) or re-authorize the OAuth app",
        "an OAuth access token lapses after 30 minutes and one refresh fixes that; a 401 "
        "right after a fresh token, or any 401 with a private-app token, needs a person"),
    Row(403, "MISSING_SCOPES", _F, PermissionDenied,
        "the HubSpot app lacks the scope(s) {scopes} needed for {subject}; add them in the "
        "app's settings, then re-install the app or rotate its token",
        "scopes are granted in HubSpot's app settings, never by waiting"),
    Row(403, None, _F, PermissionDenied,
        "HubSpot refused access to {subject} ({detail}); check the app's scopes and the "
        "account's permissions",
        "a permission problem repeats on every call until an admin changes something"),
    Row(400, "UNKNOWN_OBJECT", _F, SchemaError,
        "HubSpot has no object type for {subject} ({detail}); fix the object name in the "
        "mapping",
        "the mapping names an object the account does not have; every call would fail"),
    Row(400, "UNKNOWN_PROPERTY", _F, SchemaError,
        "HubSpot {subject}: {detail}; fix the property name in the mapping or create the "
        "property in HubSpot, then run 'handoff-sync mappings validate --live'",
        "the mapping and the account disagree about a property; every call would fail",
        writing=False),
    Row(400, None, _C, BatchRejected,
        "HubSpot refused the whole batch for {subject} ({detail})",
        "one invalid value can fail a whole batch (HubSpot answers 400 instead of 207); "
        "the writer splits the batch so only the records at fault fail, and nothing was "
        "written, so repeating the others writes them once",
        writing=True),
    Row(409, None, _C, BatchRejected,
        "HubSpot refused the batch for {subject}: a unique value is taken ({detail})",
        "a unique property value held by another record is that record's problem, not the "
        "batch's",
        writing=True),
    Row(400, None, _F, FatalError,
        "HubSpot rejected the request for {subject} ({detail}); this is a handoff-sync bug "
        "or an invalid scope value in the mapping",
        "a malformed request is rejected the same way every time"),
    Row(404, None, _F, SchemaError,
        "HubSpot has no {subject} ({detail}); check the object name in the mapping and "
        "the host in the connection settings",
        "a missing object type or endpoint is configuration, not load"),
    Row(503, None, _R, TransientError,
        "HubSpot is unavailable (HTTP 503) for {subject}",
        "load shedding and maintenance refuse the request before running it"),
    Row(500, None, _S, TransientError,
        "HubSpot failed with an internal error (HTTP 500) on {subject} ({detail})",
        "usually momentary, but the request may have been applied before it failed"),
    Row(502, None, _S, TransientError,
        "a gateway in front of HubSpot failed (HTTP 502) on {subject}",
        "the upstream dropped; it may have applied the request"),
    Row(504, None, _S, TransientError,
        "a gateway timed out waiting for HubSpot (HTTP 504) on {subject}",
        "the upstream may still complete the request after the gateway gave up"),
    Row(range(500, 600), None, _S, TransientError,
        "HubSpot failed with HTTP {status} on {subject} ({detail})",
        "other server errors are as momentary, and as ambiguous, as a 500"),
    Row(0, None, _F, FatalError,
        "could not make a trusted connection to HubSpot for {subject} ({detail}); check "
        "the host and the CA bundle (ca_file) in the connection settings",
        "the client reports TLS failures as status 0; certificates are configuration"),
    Row(None, None, _F, FatalError,
        "HubSpot rejected {subject} with HTTP {status} ({detail})",
        "any other 4xx is a request we built wrong; repeating it cannot succeed"),
)

# The OAuth token endpoint answers {"status": "<CODE>", "message"}; the code is the match.
TOKEN_TABLE: tuple[Row, ...] = (
    Row(400, "BAD_REFRESH_TOKEN", _F, AuthError,
        "HubSpot refused the OAuth refresh token ({detail}); re-authorize the app and "
        "store the new refresh token",
        "refresh tokens die when the app is uninstalled or access is revoked"),
    Row(400, "BAD_CLIENT_ID", _F, AuthError,
        "HubSpot does not accept the OAuth client id or secret ({detail}); check the "
        "app's credentials in the connection settings",
        "a wrong or rotated client secret is configuration"),
    Row(400, None, _F, AuthError,
        "HubSpot refused the token request ({detail})",
        "any other refusal of the grant needs a person to re-authorize the app"),
)

# TLS verification refused the server's certificate: checked before NETWORK_TABLE (whose
# SSLError row covers other handshake failures). {detail}: the host.
CERTIFICATE_ROW = Row(None, "certificate", _F, CertificateRejected,
    "HubSpot's TLS certificate at {detail} does not verify against the CA this connection "
    "trusts ({subject}); set ca_file in the connection settings to the CA bundle that "
    "signed it (a TLS-inspecting proxy's, or the sandbox's), or remove ca_file to trust "
    "the public CAs, and check host names the right server",
    "a wrong CA or host is configuration: every retry fails the same way")
HOSTNAME_ROW = Row(None, "certificate", _F, CertificateRejected,
    "HubSpot's TLS certificate at {detail} is for another host name ({subject}); check "
    "that host names the server the certificate is for",
    "a URL naming an alias or an address the certificate does not list never verifies")

# No connection was made (the host name does not resolve, nothing listens, the connect
# timed out, no route): nothing was sent. {detail}: host:port; {cause}: what failed.
CONNECT_ROW = Row(None, "connect", _R, CannotConnect,
    "could not connect to HubSpot at {detail} for {subject}: {cause}",
    "nothing reached HubSpot, so even a create is safe to repeat; whether to repeat is "
    "the retry settings' call (the daemon does, one-shot commands report at once)")

# Below HTTP, once connected: which urllib3 failure, which action (the first matching
# type wins).
NETWORK_TABLE: tuple[tuple[type[BaseException], Row], ...] = (
    (SSLError, Row(None, "tls", _F, FatalError,
        "could not make a trusted TLS connection to HubSpot for {subject} ({detail}); "
        "check the host and the CA bundle (ca_file)",
        "certificate problems never fix themselves")),
    (ReadTimeoutError, Row(None, "timeout", _S, TransientError,
        "HubSpot did not answer {subject} in time",
        "a read timeout leaves the request's fate unknown; it may complete later")),
    (ProtocolError, Row(None, "reset", _S, TransientError,
        "the connection to HubSpot broke during {subject}",
        "resets and dropped connections happen; the request may have been applied")),
    (socket.timeout, Row(None, "timeout", _S, TransientError,
        "HubSpot did not answer {subject} in time",
        "as a read timeout")),
    (Urllib3Error, Row(None, "network", _S, TransientError,
        "the HTTP request for {subject} failed ({detail})",
        "any other transport failure is treated like a reset")),
    (OSError, Row(None, "network", _S, TransientError,
        "the connection to HubSpot failed during {subject} ({detail})",
        "socket errors are transport failures like resets")),
)

# Per-record errors in a 207 answer: code -> (retriable, reason). Unlisted: not retriable.
RECORD_TABLE: Mapping[str, tuple[bool, str]] = {
    "OBJECT_NOT_FOUND": (False, "the record was deleted or merged in HubSpot; the next pull "
                                "reports the deletion and the engine unlinks it"),
    "CONFLICT": (False, "a unique value belongs to another record; a person must merge or "
                        "correct the records"),
    "VALIDATION_ERROR": (False, "the value breaks a HubSpot rule; the same value fails again"),
    "NO_RESULT": (True, "HubSpot's answer did not mention the record; writing it again next "
                        "cycle is harmless for updates and upserts"),
    "OUTCOME_UNKNOWN": (False, "the create may have happened; repeating it automatically "
                               "could create a duplicate, so a person should check first"),
    "ASSOCIATION_FAILED": (True, "the task exists but is not attached to its deal yet; the "
                                 "next upsert re-attaches it (associations are idempotent)"),
}


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed call, vendor-neutral: an HTTP answer or a transport error."""

    status: int | None  # None: no HTTP answer
    code: str | None  # category / policyName / OAuth status / derived code / transport kind
    body: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    detail: str = ""
    network_row: Row | None = None
    endpoint: str | None = None  # host:port, for failures below HTTP
    cause: str | None = None  # a key of errors.CAUSES, for failures below HTTP


def failure_of(exc: BaseException) -> Failure | None:
    """The failure behind a client or urllib3 exception; None for anything else (a bug)."""
    status = getattr(exc, "status", None)
    if isinstance(status, int) and hasattr(exc, "body"):
        body = _json(getattr(exc, "body", None))
        headers = dict(getattr(exc, "headers", None) or {})
        return Failure(status, _code(status, body), body, headers,
                       _detail(body, str(getattr(exc, "reason", "") or "")))
    cause: BaseException = exc
    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        cause = exc.reason
    endpoint = endpoint_of(exc)
    shown = endpoint or "the configured host"
    tls = tls_cause(cause) if isinstance(cause, SSLError) else None
    if tls is not None:
        row = HOSTNAME_ROW if tls == "hostname" else CERTIFICATE_ROW
        return Failure(None, row.code, detail=shown, network_row=row, endpoint=endpoint,
                       cause=tls)
    if isinstance(cause, Urllib3Error | OSError):
        connect = connect_cause(cause)
        if connect is not None:
            return Failure(None, CONNECT_ROW.code, detail=shown, network_row=CONNECT_ROW,
                           endpoint=endpoint, cause=connect)
    for kind, row in NETWORK_TABLE:
        if isinstance(cause, kind):
            return Failure(None, row.code, detail=type(cause).__name__ + ": " + str(cause)[:200],
                           network_row=row, endpoint=endpoint)
    return None


def classify(failure: Failure, *, subject: str, writing: bool = False,
             token_call: bool = False) -> tuple[Row, ConnectorError]:
    """The matching row and the exception it calls for (not raised here)."""
    row = failure.network_row or _row(failure, writing, token_call)
    fields = {"subject": subject, "detail": failure.detail or "no detail",
              "status": failure.status, "scopes": ", ".join(required_scopes(failure.body))
              or "(HubSpot did not say which)", "cause": CAUSES.get(failure.cause or "", "")}
    message = row.message.format(**fields)
    common: dict[str, Any] = {"system": SYSTEM, "status": failure.status, "code": failure.code,
                              "endpoint": failure.endpoint, "cause": failure.cause}
    if row.failure is BatchRejected:
        record = _record_error(failure.body, failure.code or "VALIDATION_ERROR")
        return row, BatchRejected(message, error=record, named=_named(failure.body),
                                  properties=frozenset(record.fields), **common)
    if issubclass(row.failure, TransientError):
        return row, row.failure(message, retry_after=retry_after(failure), **common)
    return row, row.failure(message, **common)


def _row(failure: Failure, writing: bool, token_call: bool) -> Row:
    if token_call and failure.status == 400:
        return next(row for row in TOKEN_TABLE if row.matches(failure, writing))
    return next(row for row in TABLE if row.matches(failure, writing))


def retry_after(failure: Failure) -> float | None:
    """Seconds the server asked us to wait: Retry-After, else (429) the rest of a window."""
    headers = {key.lower(): value for key, value in failure.headers.items()}
    raw = headers.get("retry-after")
    if raw is not None:
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
    if failure.status != 429:
        return None
    if failure.code == "SECONDLY":
        return 1.0
    # HubSpot's 429s usually carry no Retry-After: wait out the rolling window, whose length
    # the Interval-Milliseconds header gives (10 s); after that every earlier call expired.
    interval = headers.get("x-hubspot-ratelimit-interval-milliseconds")
    try:
        return float(interval) / 1000 if interval else DEFAULT_WINDOW_SECONDS
    except ValueError:
        return DEFAULT_WINDOW_SECONDS


def required_scopes(body: Mapping[str, Any]) -> list[str]:
    """Scopes a MISSING_SCOPES answer names (top-level or per error context)."""
    found: list[str] = []
    contexts = [body.get("context")] + [e.get("context") for e in _errors(body)]
    for context in contexts:
        if isinstance(context, dict):
            for key in ("requiredGranularScopes", "requiredScopes"):
                values = context.get(key)
                if isinstance(values, list):
                    found.extend(str(v) for v in values if str(v) not in found)
    return found


def record_error(entry: Mapping[str, Any]) -> RecordError:
    """One entry of a batch answer's ``errors[]`` as the error of the records it names."""
    return _record_error(entry, str(entry.get("category") or "VALIDATION_ERROR"))


def named_inputs(entry: Mapping[str, Any]) -> list[str]:
    """The inputs one error entry blames: ids / unique keys, or objectWriteTraceIds."""
    context = entry.get("context")
    if not isinstance(context, dict):
        return []
    names: list[str] = []
    for key in ("objectWriteTraceId", "ids", "id"):
        values = context.get(key)
        if isinstance(values, list):
            names.extend(f"{key}:{v}" if key == "objectWriteTraceId" else f"id:{v}"
                         for v in values)
    return names


def _record_error(body: Mapping[str, Any], fallback_code: str) -> RecordError:
    details = _errors(body)
    codes = [str(e["code"]) for e in details if e.get("code")]
    code = codes[0] if codes else str(body.get("category") or fallback_code)
    fields: list[str] = []
    for context in [body.get("context")] + [e.get("context") for e in details]:
        names = context.get("propertyName") if isinstance(context, dict) else None
        if isinstance(names, list):
            fields.extend(str(n) for n in names if str(n) not in fields)
    messages = [str(e["message"]) for e in details if e.get("message")]
    message = "; ".join(messages) if messages else str(body.get("message") or code)
    category = str(body.get("category") or "")
    retriable = RECORD_TABLE.get(code, RECORD_TABLE.get(category, (False, "")))[0]
    return RecordError(code=code, message=message[:500], fields=tuple(fields),
                       retriable=retriable)


def _named(body: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(named_inputs(body))


def _errors(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("errors")
    return [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []


def _json(raw: Any) -> dict[str, Any]:
    if isinstance(raw, bytes | bytearray):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str) or not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {"message": raw[:200]}
    return parsed if isinstance(parsed, dict) else {}


def _code(status: int, body: Mapping[str, Any]) -> str | None:
    """The field a row matches: policyName (429), OAuth status, or the category, with 400s
    that name an unknown property or object told apart from other validation errors."""
    if status == 429:
        return str(body.get("policyName") or "") or None
    oauth_status = body.get("status")
    if isinstance(oauth_status, str) and oauth_status not in ("error", ""):
        return oauth_status
    if status == 400:
        message = str(body.get("message") or "")
        codes = {str(e.get("code")) for e in _errors(body)}
        if message.startswith("Unable to infer object type"):
            return "UNKNOWN_OBJECT"
        if "PROPERTY_DOESNT_EXIST" in codes or "PROPERTY_DOESNT_EXIST" in message or (
                "does not exist" in message and _mentions_property(body)):
            return "UNKNOWN_PROPERTY"
    category = body.get("category")
    return str(category) if category else None


def _mentions_property(body: Mapping[str, Any]) -> bool:
    context = body.get("context")
    return isinstance(context, dict) and "propertyName" in context


def _detail(body: Mapping[str, Any], reason: str) -> str:
    message = str(body.get("message") or reason or "").strip()
    correlation = body.get("correlationId")
    if correlation:
        message = f"{message} [correlation id {correlation}]" if message else \
            f"correlation id {correlation}"
    return message[:400]
