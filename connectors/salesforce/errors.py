"""How every Salesforce failure is classified: one table, one reason per row.

simple-salesforce raises one exception class per HTTP status and leaves the Salesforce
``errorCode`` in ``content``; requests raises its own for timeouts and resets; our token
calls get OAuth ``{error, error_description}`` bodies. ``classify`` turns each of them into
a ``connectors.errors`` exception through the tables below, so the decision (retry,
re-authenticate, stop) and the admin-facing words live in one place.

Actions:
    RETRY       repeat the call, whatever it was: the server did not act on it
    RETRY_SAFE  repeat only an idempotent call (reads, updates by id, upserts by key): the
                request may have been applied, so repeating a create could duplicate it
    REAUTH      get a new token once and repeat the call
    FAIL        raise; retrying cannot help (fatal errors name what the admin must do)
Per-record failures inside sObject Collections results are in ``RECORD_TABLE``; they
become ``RecordError`` values, never exceptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import requests
from simple_salesforce.exceptions import SalesforceError

from connectors.base import RecordError
from connectors.error_table import (
    Action,
    connect_cause,
    endpoint_of,
    endpoint_of_url,
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
    RetriesExhausted,
    SchemaError,
    TransientError,
)

SYSTEM = "salesforce"


class SessionExpired(AuthError):
    """A 401: the connector re-authenticates once and repeats the call before giving up."""


class QueryLocatorExpired(FatalError):
    """A queryMore locator Salesforce no longer knows: the pull re-queries from its cursor."""


class BatchRejected(FatalError):
    """A collection request refused as a whole (400): the writer splits it to find the record."""


@dataclass(frozen=True, slots=True)
class Row:
    """One classification: which failures it matches, what to do, what to tell the admin."""

    status: int | range | None  # HTTP status or a range of them; None matches any
    code: str | None  # Salesforce errorCode / OAuth error; None matches any
    action: Action
    failure: type[ConnectorError]
    message: str  # format fields: {subject} {detail} {field} {status} {cause}
    reason: str  # why this row exists (kept next to the rule, per style.md)

    def matches(self, status: int | None, code: str | None) -> bool:
        return status_matches(self.status, status) and (self.code is None or self.code == code)


_R, _S, _A, _F = Action.RETRY, Action.RETRY_SAFE, Action.REAUTH, Action.FAIL

# REST responses, most specific first; the first match wins.
TABLE: tuple[Row, ...] = (
    Row(401, None, _A, SessionExpired,
        "Salesforce refused the session again right after a fresh login; check that the "
        "integration user is active and the connected app still admits it ({detail})",
        "INVALID_SESSION_ID: tokens expire and get revoked; one new token fixes that, a "
        "second refusal in a row will not be fixed by a third"),
    Row(403, "REQUEST_LIMIT_EXCEEDED", _F, QuotaExhausted,
        "the org's 24-hour API allowance is used up ({detail}); the pipeline pauses until "
        "it renews. Lower the budget share or raise the org's allowance",
        "a rolling 24-hour quota shared by every integration, not a blip: retrying only "
        "spends calls other integrations need (Airbyte stops the sync too)"),
    Row(403, "API_DISABLED_FOR_ORG", _F, PermissionDenied,
        "API access is disabled for this org or edition ({detail}); enable the API or use "
        "an edition that includes it",
        "an org setting; nothing the connector does changes it"),
    Row(403, "API_CURRENTLY_DISABLED", _F, PermissionDenied,
        "the integration user lacks the 'API Enabled' permission ({detail}); add it to the "
        "user's profile or a permission set",
        "a profile permission; only an admin can grant it"),
    Row(403, None, _F, PermissionDenied,
        "Salesforce refused {subject} ({detail}); give the integration user access to the "
        "object and its fields",
        "object, field or record access is granted by an admin, not by waiting"),
    Row(400, "INVALID_FIELD", _F, SchemaError,
        "a field in {subject} does not exist or is hidden from the integration user: "
        "{field} ({detail}); fix the field name in the mapping or grant field-level "
        "security, then run 'handoff-sync mappings validate --live'",
        "the mapping and the org disagree; every later call would fail the same way"),
    Row(400, "INVALID_TYPE", _F, SchemaError,
        "the object in {subject} does not exist or is hidden from the integration user "
        "({detail}); fix the object name in the mapping or share the object with the user",
        "an unknown or hidden sObject never appears by retrying"),
    Row(404, None, _F, SchemaError,
        "{subject} found nothing (HTTP 404: {detail}); check the object name in the "
        "mapping and the API version in the connection settings",
        "a missing object, record endpoint or API version is configuration, not load"),
    Row(400, "INVALID_QUERY_LOCATOR", _F, QueryLocatorExpired,
        "the query cursor for {subject} expired ({detail})",
        "locators expire after 15 idle minutes or when too many are open; the pull "
        "re-queries from its last safe cursor, which the Id tie-break makes exact"),
    Row(400, "JSON_PARSER_ERROR", _F, BatchRejected,
        "Salesforce could not read a value sent for {subject} ({detail})",
        "one value of the wrong JSON type fails the whole collection request; the writer "
        "splits the batch so only that record fails"),
    Row(400, "EXCEEDED_ID_LIMIT", _F, FatalError,
        "{subject} named more records than Salesforce takes in one call ({detail}); this "
        "is a handoff-sync bug, please report it",
        "batches are cut at the API maximum; exceeding it means our batching is wrong"),
    Row(400, "MALFORMED_QUERY", _F, FatalError,
        "Salesforce could not parse the query of {subject} ({detail}); this is a "
        "handoff-sync bug or an invalid scope value in the mapping",
        "queries are built from escaped literals and checked names; a syntax error will "
        "recur on every attempt"),
    Row(429, None, _R, RateLimited,
        "Salesforce (or a proxy in front of it) throttled {subject} ({detail})",
        "Salesforce itself answers quota exhaustion with 403, but gateways and the "
        "concurrent-request limiter send 429 with Retry-After; the request was not run"),
    Row(503, None, _R, TransientError,
        "Salesforce is unavailable (HTTP 503) for {subject} ({detail})",
        "SERVER_UNAVAILABLE and maintenance windows refuse the request before running it"),
    Row(500, None, _S, TransientError,
        "Salesforce failed with an internal error (HTTP 500) on {subject} ({detail})",
        "UNKNOWN_EXCEPTION is usually momentary, but the request may have been applied"),
    Row(502, None, _S, TransientError,
        "a gateway in front of Salesforce failed on {subject} ({detail})",
        "proxies answer 502 with an HTML page when the upstream drops; the upstream may "
        "have applied the request"),
    Row(504, None, _S, TransientError,
        "a gateway timed out waiting for Salesforce on {subject} ({detail})",
        "the upstream may still complete the request after the gateway gave up"),
    Row(range(500, 600), None, _S, TransientError,
        "Salesforce failed with HTTP {status} on {subject} ({detail})",
        "other server errors are as momentary, and as ambiguous, as a 500"),
    Row(None, None, _F, FatalError,
        "Salesforce rejected {subject} with HTTP {status} ({detail})",
        "any other 4xx is a request we built wrong; repeating it cannot succeed"),
)

# TLS verification refused the server's certificate: checked before NETWORK_TABLE, whose
# ConnectionError row would otherwise retry it as a broken connection. {detail}: the host.
CERTIFICATE_ROW = Row(None, None, _F, CertificateRejected,
    "Salesforce's TLS certificate at {detail} does not verify against the CA this "
    "connection trusts ({subject}); set ca_file in the connection settings to the CA "
    "bundle that signed it (a TLS-inspecting proxy's, or the sandbox's), or remove ca_file "
    "to trust the public CAs, and check login_url / instance_url name the right host",
    "a wrong CA or host is configuration: every retry fails the same way, 33 s later")
HOSTNAME_ROW = Row(None, None, _F, CertificateRejected,
    "Salesforce's TLS certificate at {detail} is for another host name ({subject}); check "
    "that login_url / instance_url name the host the certificate is for",
    "a URL naming an alias or an address the certificate does not list never verifies")

# No connection was made (the host name does not resolve, nothing listens, the connect
# timed out, no route): nothing was sent. {detail}: host:port; {cause}: what failed.
CONNECT_ROW = Row(None, None, _R, CannotConnect,
    "could not connect to Salesforce at {detail} for {subject}: {cause}",
    "nothing reached Salesforce, so even a create is safe to repeat; whether to repeat "
    "is the retry settings' call (the daemon does, one-shot commands report at once)")

# Failures below HTTP once connected: which requests exception, which action.
NETWORK_TABLE: tuple[tuple[type[requests.RequestException], Row], ...] = (
    (requests.exceptions.InvalidJSONError, Row(None, None, _S, TransientError,
        "Salesforce answered {subject} with a body that is not JSON (a proxy page?)",
        "captive portals and gateways answer 200 with HTML; a retry usually reaches "
        "Salesforce, and the request may have been applied")),
    (requests.Timeout, Row(None, None, _S, TransientError,
        "Salesforce did not answer {subject} in time",
        "a read timeout leaves the request's fate unknown; it may complete later")),
    (requests.ConnectionError, Row(None, None, _S, TransientError,
        "the connection to Salesforce broke during {subject}",
        "resets and dropped connections happen; the request may have been applied")),
    (requests.RequestException, Row(None, None, _S, TransientError,
        "the HTTP request for {subject} failed",
        "any other transport failure is treated like a reset")),
)

# The OAuth token endpoint: {error, error_description} bodies.
TOKEN_TABLE: tuple[Row, ...] = (
    Row(None, "invalid_client_id", _F, AuthError,
        "the connected app's consumer key (client_id) is not known to {subject} "
        "({detail}); check client_id and the login URL (production vs sandbox)",
        "a wrong key or the wrong login host never starts working by retrying"),
    Row(None, "invalid_client", _F, AuthError,
        "the connected app refused the client secret ({detail}); rotate it in the "
        "connection settings",
        "a wrong or rotated secret is configuration"),
    Row(None, "invalid_grant", _F, AuthError,
        "Salesforce refused the login ({detail}); check the username, the password or the "
        "JWT certificate uploaded to the connected app, and that the user is pre-authorized",
        "bad credentials, an unapproved user or a clock skew over 3 minutes: all need a "
        "person"),
    Row(None, "unsupported_grant_type", _F, AuthError,
        "the login endpoint does not support this auth kind ({detail}); enable the flow "
        "on the connected app or pick another auth kind",
        "client credentials and JWT flows are off until an admin enables them"),
    Row(None, "inactive_user", _F, AuthError,
        "the integration user is inactive ({detail}); reactivate it or use another user",
        "user state is changed by admins"),
    Row(429, None, _R, RateLimited,
        "the Salesforce login service throttled us",
        "login endpoints rate-limit bursts of token requests"),
    Row(range(500, 600), None, _R, TransientError,
        "the Salesforce login service failed (HTTP {status})",
        "a token request has no side effect worth protecting, so any 5xx is retried"),
    Row(None, None, _F, AuthError,
        "Salesforce refused the login with HTTP {status} ({detail})",
        "any other answer from the token endpoint needs a person to look at it"),
)

@dataclass(frozen=True, slots=True)
class RecordRow:
    """How one per-record statusCode is reported."""

    retriable: bool  # worth sending again next cycle, unchanged
    advice: str  # appended to Salesforce's message for the admin
    reason: str


# Per-record statusCodes inside sObject Collections results.
RECORD_TABLE: dict[str, RecordRow] = {
    "UNABLE_TO_LOCK_ROW": RecordRow(
        True, "the record was locked by another update; retried next cycle",
        "row locks from triggers and other integrations clear within seconds"),
    "ALL_OR_NONE_OPERATION_ROLLED_BACK": RecordRow(
        True, "rolled back with its batch; retried next cycle",
        "the record itself was fine; only appears if allOrNone is ever turned on"),
    "ENTITY_IS_LOCKED": RecordRow(
        False, "the record is locked (an approval process?); unlock it",
        "approval locks are lifted by people, not by time"),
    "ENTITY_IS_DELETED": RecordRow(
        False, "the record was deleted in Salesforce; restore it or unlink it",
        "a binned record cannot be written until someone restores it"),
    "STRING_TOO_LONG": RecordRow(
        False, "the value is longer than the field allows; shorten it or widen the field",
        "the same value fails the same way every time"),
    "FIELD_CUSTOM_VALIDATION_EXCEPTION": RecordRow(
        False, "a validation rule in the org rejected the values; fix the record or the rule",
        "validation rules are org configuration; the values must change first"),
    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST": RecordRow(
        False, "the value is not in the restricted picklist; add it or map the value",
        "picklist values are org configuration"),
    "REQUIRED_FIELD_MISSING": RecordRow(
        False, "a required field is blank; give it a default in the mapping",
        "a blank stays blank until the mapping or the record changes"),
    "INVALID_FIELD_FOR_INSERT_UPDATE": RecordRow(
        False, "the field is read-only for the integration user; grant edit access or stop "
        "writing it", "field-level security is granted by an admin"),
    "INVALID_FIELD": RecordRow(
        False, "the field does not exist on this object; fix the mapping",
        "the mapping and the org disagree"),
    "MALFORMED_ID": RecordRow(
        False, "an id in the record is not a valid Salesforce id",
        "a malformed id never becomes valid"),
    "INVALID_CROSS_REFERENCE_KEY": RecordRow(
        False, "a referenced record does not exist",
        "the reference must be fixed or the target created first"),
    "DUPLICATE_VALUE": RecordRow(
        False, "another record already holds this unique value",
        "uniqueness conflicts need someone to decide which record keeps the value"),
    "DUPLICATE_EXTERNAL_ID": RecordRow(
        False, "the external id matches several records or repeats in the batch",
        "duplicate keys in the org need cleaning up; in a batch they are our bug"),
    "INSUFFICIENT_ACCESS_OR_READONLY": RecordRow(
        False, "the integration user cannot edit this record; share it with the user",
        "record sharing is granted by an admin"),
    "INVALID_EMAIL_ADDRESS": RecordRow(
        False, "the value is not a valid email address",
        "the value itself is wrong"),
    "NUMBER_OUTSIDE_VALID_RANGE": RecordRow(
        False, "the number is too large for the field",
        "the value itself is wrong"),
    "JSON_PARSER_ERROR": RecordRow(
        False, "a value has the wrong type for its field",
        "the mapping produced a value of the wrong type; it will not change by itself"),
    "REQUEST_LIMIT_EXCEEDED": RecordRow(
        False, "the org's API allowance ran out during the batch",
        "the whole run stops on the quota anyway; the next run after renewal redoes it"),
}
_DEFAULT_RECORD = RecordRow(False, "Salesforce rejected the record",
                            "an unknown code is safest treated as needing a person")

_NO_SUCH_COLUMN = re.compile(r"No such column '([^']+)'")


def _error_items(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, list):
        return [item for item in content if isinstance(item, dict)]
    if isinstance(content, dict):
        return [content]
    return []


def _detail(content: Any, status: int | None) -> tuple[str | None, str]:
    """(errorCode, a short message) from a REST error body, JSON or not."""
    items = _error_items(content)
    if items:
        code = items[0].get("errorCode") or items[0].get("error")
        message = items[0].get("message") or items[0].get("error_description") or ""
        return (str(code) if code else None), str(message)[:300]
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
    if "<" in text[:200]:  # an HTML error page from a proxy: its markup helps nobody
        return None, f"HTTP {status}, non-JSON body from a proxy or gateway"
    return None, " ".join(text.split())[:300] or f"HTTP {status}"


def _find(table: tuple[Row, ...], status: int | None, code: str | None) -> Row:
    for row in table:
        if row.matches(status, code):
            return row
    raise AssertionError("the last row of every table matches anything")


def _build(row: Row, *, subject: str, detail: str, status: int | None, code: str | None,
           idempotent: bool, retry_after: float | None, field: str = "",
           endpoint: str | None = None, cause: str | None = None) -> ConnectorError:
    message = row.message.format(subject=subject, detail=detail, status=status,
                                 field=field or "(see detail)",
                                 cause=CAUSES.get(cause or "", ""))
    where: dict[str, Any] = {"system": SYSTEM, "status": status, "code": code,
                             "endpoint": endpoint, "cause": cause}
    if row.action is Action.RETRY_SAFE and not idempotent:
        return RetriesExhausted(
            f"{message}; the request may already have been applied, so it is not repeated "
            "(that could create duplicates): the next sync re-reads the record and decides",
            **where)
    if issubclass(row.failure, TransientError):
        return row.failure(message, retry_after=retry_after, **where)
    return row.failure(message, **where)


def classify(exc: BaseException, *, subject: str, idempotent: bool = True,
             retry_after: float | None = None) -> ConnectorError:
    """The connector exception for a vendor exception (the caller raises it ``from exc``).

    ``subject`` names what was being done ("query Opportunity"); ``idempotent`` says
    whether repeating the call is harmless; ``retry_after`` is the server's hint, taken
    from the response headers (simple-salesforce's exceptions do not keep them).
    """
    if isinstance(exc, SalesforceError):
        code, detail = _detail(exc.content, exc.status)
        row = _find(TABLE, exc.status, code)
        field = ""
        match = _NO_SUCH_COLUMN.search(detail)
        if match:
            field = match.group(1)
        return _build(row, subject=subject, detail=detail, status=exc.status, code=code,
                      idempotent=idempotent, retry_after=retry_after, field=field,
                      endpoint=endpoint_of_url(str(exc.url or "")))
    if isinstance(exc, requests.RequestException):
        endpoint = endpoint_of(exc)
        shown = endpoint or "the configured host"
        tls = tls_cause(exc) if isinstance(exc, requests.exceptions.SSLError) else None
        if tls is not None:
            return _build(HOSTNAME_ROW if tls == "hostname" else CERTIFICATE_ROW,
                          subject=subject, detail=shown, status=None,
                          code="CERTIFICATE_VERIFY_FAILED", idempotent=idempotent,
                          retry_after=None, endpoint=endpoint, cause=tls)
        cause = connect_cause(exc) or (
            "timeout" if isinstance(exc, requests.ConnectTimeout) else None)
        if cause is not None:
            return _build(CONNECT_ROW, subject=subject, detail=shown, status=None, code=None,
                          idempotent=idempotent, retry_after=None, endpoint=endpoint,
                          cause=cause)
        for kind, row in NETWORK_TABLE:
            if isinstance(exc, kind):
                return _build(row, subject=subject, detail=type(exc).__name__, status=None,
                              code=None, idempotent=idempotent, retry_after=None,
                              endpoint=endpoint)
    raise TypeError(f"not a Salesforce or HTTP failure: {exc!r}") from exc


def classify_token_response(status: int, body: Any, *, login_url: str,
                            retry_after: float | None = None) -> ConnectorError:
    """The connector exception for a refused OAuth token request."""
    code, detail = _detail(body, status)
    row = _find(TOKEN_TABLE, status, code)
    return _build(row, subject=login_url, detail=detail, status=status, code=code,
                  idempotent=True, retry_after=retry_after, endpoint=endpoint_of_url(login_url))


def record_error(error: dict[str, Any], *, extra: list[dict[str, Any]] | None = None
                 ) -> RecordError:
    """A ``RecordError`` from one collection result's errors (``statusCode``, ``message``)."""
    code = str(error.get("statusCode") or error.get("errorCode") or "UNKNOWN")
    rule = RECORD_TABLE.get(code, _DEFAULT_RECORD)
    messages = [str(error.get("message") or "")]
    messages += [str(e.get("message") or "") for e in extra or []]
    text = "; ".join(m for m in messages if m)
    fields = tuple(str(f) for f in error.get("fields") or ())
    return RecordError(code=code, message=f"{text} ({rule.advice})" if text else rule.advice,
                       fields=fields, retriable=rule.retriable)
