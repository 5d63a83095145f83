"""The Salesforce REST API emulation: routes, OAuth, auth and quota, HTTP <-> store.

Fidelity reference: crm-api-reference.md sections 1, 2 and 4, and simple-salesforce 1.12
as the judge of what a client sends and expects. The org itself (records, validation,
system fields) is :mod:`.store`; describe documents are :mod:`.describe`; Bulk API 2.0
query jobs are :mod:`.bulk`. This module only registers routes and translates requests
and errors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

import jwt

from handoff_sync.sandbox.core.http import ApiError, Request, Response, Route, Router
from handoff_sync.sandbox.core.seed_data import SeedData
from handoff_sync.sandbox.salesforce import soql
from handoff_sync.sandbox.salesforce.bulk import (
    DELIMITERS,
    LINE_ENDINGS,
    OPERATIONS,
    BulkQueryJobs,
    LocatorError,
    QueryJob,
)
from handoff_sync.sandbox.salesforce.describe import (
    describe_global,
    describe_object,
    object_summary,
)
from handoff_sync.sandbox.salesforce.ids import salesforce_id
from handoff_sync.sandbox.salesforce.overlay import SchemaOverlay
from handoff_sync.sandbox.salesforce.schema import OBJECTS, SfField, SfObject, find_object
from handoff_sync.sandbox.salesforce.store import (
    Changes,
    Cursor,
    CursorRegistry,
    JsonTypeError,
    MultipleMatches,
    Record,
    RecordError,
    SalesforceStore,
    normalize_id,
    parse_changes,
    rolled_back_error,
    to_json,
)

if TYPE_CHECKING:
    from handoff_sync.sandbox.core.app import Sandbox

MIN_VERSION = 31
MAX_VERSION = 66
PAGE_SIZE = 2000
MIN_PAGE_SIZE = 200
MAX_COLLECTION = 200
MAX_RETRIEVE = 2000
ORG_ID = salesforce_id("00D", 1)
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
_DATA = r"/services/data/v(?P<version>\d{2}\.\d)"
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_SEASONS = ("Summer", "Winter", "Spring")  # v31.0 was Summer '14; three releases a year
_STATUS_CODES = {
    401: "INVALID_SESSION_ID",
    403: "REQUEST_LIMIT_EXCEEDED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "UNKNOWN_EXCEPTION",
    502: "SERVER_UNAVAILABLE",
    503: "SERVER_UNAVAILABLE",
    504: "SERVER_UNAVAILABLE",
}
_NOT_FOUND = "The requested resource does not exist"
_TOO_MANY = "record limit reached. cannot submit more than 200 records into this call"


class _BareResponse(Response):
    """A response Salesforce sends without Sforce-Limit-Info (token endpoint, versions root)."""


class _OAuthError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


def _fail(status: int, code: str, message: str, fields: list[str] | None = None) -> ApiError:
    """A REST error: always a JSON array (crm-api-reference.md 4.2)."""
    item: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        item["fields"] = fields
    return ApiError(status, [item])


def _record_failure(exc: RecordError) -> ApiError:
    return ApiError(exc.status, [exc.rest_error()])


def _not_found() -> ApiError:
    return _fail(404, "NOT_FOUND", _NOT_FOUND)


@cache
def _field_types(obj: SfObject) -> dict[str, str]:
    return {fld.name: fld.type for fld in obj.fields}


def _route_label(method: str, pattern: str) -> str:
    """A readable stats label: ``GET /services/data/{version}/sobjects/{object}``."""
    path = _GROUP.sub(r"{\1}", pattern).replace("/?", "")
    return f"{method} {path}"


def _version_label(major: int) -> str:
    index = major - MIN_VERSION
    return f"{_SEASONS[index % 3]} '{14 + (index + 2) // 3}"


def _record_url(version: str, object_name: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{object_name}/{record_id}"


def _record_json(
    version: str, object_name: str, record: Record, fields: tuple[str, ...]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "attributes": {"type": object_name,
                       "url": _record_url(version, object_name, record["Id"])},
    }
    for name in fields:
        out[name] = to_json(record.get(name))
    return out


def _position(text: str, key: str) -> tuple[int, int]:
    """Line and column of ``key``'s value in a JSON body, for Jackson-style messages."""
    pos = text.lower().find(f'"{key.lower()}"')
    if pos < 0:
        return 1, 1
    colon = text.find(":", pos)
    pos = colon + 1 if colon >= 0 else pos
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _json_type_failure(request: Request, exc: JsonTypeError) -> ApiError:
    line, column = _position(request.body.decode("utf-8", "replace"), exc.field_name)
    where = f"[line:{line}, column:{column}]"
    if exc.token.startswith("START_"):
        message = f"Cannot deserialize instance of {exc.field_type} from {exc.token} value {where}"
    else:
        message = (f"Cannot deserialize instance of {exc.field_type} from {exc.token} value "
                   f"{exc.text} or request may be missing a required field at {where}")
    return _fail(400, "JSON_PARSER_ERROR", message)


def _json_body(request: Request) -> Any:
    try:
        return request.json()
    except UnicodeDecodeError as exc:
        raise _fail(400, "JSON_PARSER_ERROR", f"Invalid UTF-8 in request body: {exc}") from exc
    except ValueError as exc:
        line, column = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
        raise _fail(400, "JSON_PARSER_ERROR",
                    f"Unexpected character in request body at [line:{line}, column:{column}]"
                    ) from exc


def _json_object(request: Request, what: str) -> dict[str, Any]:
    body = _json_body(request)
    if not isinstance(body, dict):
        token = "START_ARRAY" if isinstance(body, list) else "VALUE_STRING"
        raise _fail(400, "JSON_PARSER_ERROR",
                    f"Cannot deserialize instance of {what} from {token} value [line:1, column:1]")
    return body


def _batch_size(request: Request) -> int:
    """``Sforce-Query-Options: batchSize=N`` is a hint from 200 to 2,000."""
    options = request.header("Sforce-Query-Options") or ""
    for part in options.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            return min(max(int(value), MIN_PAGE_SIZE), PAGE_SIZE)
    return PAGE_SIZE


def _multiple_choices(version: str, obj: SfObject, ids: list[str]) -> ApiError:
    """300 Multiple Choices: the URLs of every matching record."""
    return ApiError(300, [_record_url(version, obj.name, i) for i in ids])


def _declared_type(raw: Any) -> str | None:
    """``attributes.type`` of a collection record, when it names one."""
    attributes = raw.get("attributes") if isinstance(raw, dict) else None
    kind = attributes.get("type") if isinstance(attributes, dict) else None
    return kind if isinstance(kind, str) and kind else None


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


@dataclass
class _Item:
    """One record of a collection call: a write to run, or the error found while reading it."""

    record_id: str | None = None
    run: Callable[[], tuple[str, bool | None]] | None = None
    error: RecordError | None = None


class SalesforceApi:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.store = SalesforceStore(sandbox.clock.now, sandbox.credentials.sf_username)
        self.cursors = CursorRegistry()
        self.bulk = BulkQueryJobs()
        self.overlay = SchemaOverlay()
        self._tokens: set[str] = set()

    # --- VendorApi -----------------------------------------------------------------------
    def register(self, router: Router) -> None:
        routes: list[tuple[str, str, Callable[[Request], Response], bool]] = [
            ("POST", r"/services/oauth2/token", self._token, False),
            ("GET", r"/services/data/?", self._versions, False),
            ("GET", _DATA + r"/?", self._resources, True),
            ("GET", _DATA + r"/limits/?", self._limits, True),
            ("GET", _DATA + r"/(?P<scope>query|queryAll)/?", self._query, True),
            ("GET", _DATA + r"/(?P<scope>query|queryAll)/(?P<locator>01g\w{15})-(?P<offset>\d+)",
             self._query_more, True),
            ("GET", _DATA + r"/sobjects/?", self._describe_global, True),
            ("GET", _DATA + r"/sobjects/(?P<object>\w+)/?", self._sobject_info, True),
            ("POST", _DATA + r"/sobjects/(?P<object>\w+)/?", self._create, True),
            ("GET", _DATA + r"/sobjects/(?P<object>\w+)/describe/?", self._describe, True),
            ("GET", _DATA + r"/sobjects/(?P<object>\w+)/(?P<record_id>[^/]+)/?", self._get, True),
            ("PATCH", _DATA + r"/sobjects/(?P<object>\w+)/(?P<record_id>[^/]+)/?",
             self._update, True),
            ("DELETE", _DATA + r"/sobjects/(?P<object>\w+)/(?P<record_id>[^/]+)/?",
             self._delete, True),
            ("GET", _DATA + r"/sobjects/(?P<object>\w+)/(?P<field>\w+)/(?P<value>[^/]+)",
             self._get_by_external_id, True),
            ("PATCH", _DATA + r"/sobjects/(?P<object>\w+)/(?P<field>\w+)/(?P<value>[^/]+)",
             self._upsert, True),
            ("DELETE", _DATA + r"/sobjects/(?P<object>\w+)/(?P<field>\w+)/(?P<value>[^/]+)",
             self._delete_by_external_id, True),
            ("POST", _DATA + r"/composite/sobjects/?", self._collection_create, True),
            ("PATCH", _DATA + r"/composite/sobjects/?", self._collection_update, True),
            ("DELETE", _DATA + r"/composite/sobjects/?", self._collection_delete, True),
            ("GET", _DATA + r"/composite/sobjects/(?P<object>\w+)/?",
             self._collection_retrieve, True),
            ("POST", _DATA + r"/composite/sobjects/(?P<object>\w+)/?",
             self._collection_retrieve, True),
            ("PATCH", _DATA + r"/composite/sobjects/(?P<object>\w+)/(?P<field>\w+)/?",
             self._collection_upsert, True),
            ("POST", _DATA + r"/jobs/query/?", self._bulk_create, True),
            ("GET", _DATA + r"/jobs/query/(?P<job_id>750\w+)/?", self._bulk_status, True),
            ("PATCH", _DATA + r"/jobs/query/(?P<job_id>750\w+)/?", self._bulk_abort, True),
            ("DELETE", _DATA + r"/jobs/query/(?P<job_id>750\w+)/?", self._bulk_delete, True),
            ("GET", _DATA + r"/jobs/query/(?P<job_id>750\w+)/results/?", self._bulk_results,
             True),
        ]
        for method, pattern, handler, auth in routes:
            router.add("salesforce", method, pattern, handler, _route_label(method, pattern),
                       auth=auth)

    def guard(self, request: Request, route: Route) -> None:
        if not route.auth:
            return  # the token endpoint and the versions root answer anyone, uncounted
        self._authenticate(request)
        if not self.sandbox.usage.salesforce_admit():
            raise _fail(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        version = request.params.get("version")
        if version is not None and not MIN_VERSION <= float(version) <= MAX_VERSION:
            raise _not_found()

    def decorate(self, response: Response) -> None:
        if not isinstance(response, _BareResponse):
            response.headers["Sforce-Limit-Info"] = self.sandbox.usage.salesforce_limit_info()

    def error_response(self, status: int, message: str, retry_after: float | None) -> Response:
        default = "UNKNOWN_EXCEPTION" if status >= 500 else "BAD_REQUEST"
        headers = {}
        if retry_after is not None:
            headers["Retry-After"] = str(max(0, math.ceil(retry_after)))
        body = [{"message": message, "errorCode": _STATUS_CODES.get(status, default)}]
        return Response.json(status, body, headers)

    def reset(self) -> None:
        self.store.reset()
        self.cursors.clear()
        self.bulk.clear()
        self._tokens.clear()

    def expire_sessions(self) -> None:
        self._tokens.clear()  # the Sandbox has already rotated the static session id

    def load_seed(self, data: SeedData) -> None:
        """Bulk-load ``data.salesforce`` (object name -> typed records with Ids)."""
        self.store.load(data.salesforce)
        self.cursors.clear()

    # --- auth ----------------------------------------------------------------------------
    def _authenticate(self, request: Request) -> None:
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        token = token.strip()
        known = token == self.sandbox.credentials.sf_session_id or token in self._tokens
        if scheme.lower() not in ("bearer", "oauth") or not token or not known:
            raise _fail(401, "INVALID_SESSION_ID", "Session expired or invalid")

    def _token(self, request: Request) -> Response:
        form = request.form()
        grants: dict[str, Callable[[Request, dict[str, str]], None]] = {
            "password": self._grant_password,
            "client_credentials": self._grant_client_credentials,
            JWT_GRANT: self._grant_jwt_bearer,
        }
        grant = grants.get(form.get("grant_type", ""))
        try:
            if grant is None:
                raise _OAuthError("unsupported_grant_type", "grant type not supported")
            grant(request, form)
        except _OAuthError as exc:
            return _BareResponse.json(400, {"error": exc.error,
                                            "error_description": exc.description})
        return _BareResponse.json(200, self._issue_token())

    def _check_client(self, client_id: str | None, secret: str | None) -> None:
        creds = self.sandbox.credentials
        if client_id != creds.sf_client_id:
            raise _OAuthError("invalid_client_id", "client identifier invalid")
        if secret is None or not hmac.compare_digest(secret, creds.sf_client_secret):
            raise _OAuthError("invalid_client", "invalid client credentials")

    def _grant_password(self, _: Request, form: dict[str, str]) -> None:
        creds = self.sandbox.credentials
        self._check_client(form.get("client_id"), form.get("client_secret"))
        accepted = (creds.sf_password + creds.sf_security_token, creds.sf_password)
        username_ok = form.get("username", "").lower() == creds.sf_username.lower()
        if not username_ok or form.get("password") not in accepted:
            raise _OAuthError("invalid_grant", "authentication failure")

    def _grant_client_credentials(self, request: Request, form: dict[str, str]) -> None:
        scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                pair = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise _OAuthError("invalid_client", "invalid client credentials") from None
            client_id, _, secret = pair.partition(":")
            self._check_client(client_id, secret)
        else:
            self._check_client(form.get("client_id"), form.get("client_secret"))

    def _grant_jwt_bearer(self, _: Request, form: dict[str, str]) -> None:
        creds = self.sandbox.credentials
        try:
            # exp is checked below: simple-salesforce sends it as a string, which PyJWT refuses.
            claims = jwt.decode(form.get("assertion", ""), creds.jwt_public_key_pem,
                                algorithms=["RS256"],
                                options={"verify_exp": False, "verify_aud": False,
                                         "verify_iat": False, "verify_nbf": False})
        except jwt.PyJWTError:
            raise _OAuthError("invalid_grant", "invalid assertion") from None
        if claims.get("iss") != creds.sf_client_id:
            raise _OAuthError("invalid_client_id", "client identifier invalid")
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        allowed = {self.sandbox.base_url, *JWT_AUDIENCES}
        if not any(isinstance(a, str) and a.rstrip("/") in allowed for a in audiences):
            raise _OAuthError("invalid_grant", "audience is invalid")
        if str(claims.get("sub", "")).lower() != creds.sf_username.lower():
            raise _OAuthError("invalid_grant", "invalid assertion")
        if not _unexpired(claims.get("exp")):
            raise _OAuthError("invalid_grant", "invalid assertion")

    def _issue_token(self) -> dict[str, str]:
        creds = self.sandbox.credentials
        token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(48)}"
        self._tokens.add(token)
        issued_at = str(int(self.sandbox.clock.now().timestamp() * 1000))
        identity = f"{self.sandbox.base_url}/id/{ORG_ID}/{self.store.integration_user_id}"
        digest = hmac.new(creds.sf_client_secret.encode(), (identity + issued_at).encode(),
                          hashlib.sha256).digest()
        return {
            "access_token": token,
            "instance_url": self.sandbox.base_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(digest).decode(),
            "scope": "api",
        }

    # --- versions, resources, limits -----------------------------------------------------
    def _versions(self, _: Request) -> Response:
        versions = [
            {"label": _version_label(major), "url": f"/services/data/v{major}.0",
             "version": f"{major}.0"}
            for major in range(MIN_VERSION, MAX_VERSION + 1)
        ]
        return _BareResponse.json(200, versions)

    def _resources(self, request: Request) -> Response:
        base = f"/services/data/v{request.params['version']}"
        names = ("sobjects", "query", "queryAll", "limits", "composite", "jobs")
        return Response.json(200, {name: f"{base}/{name}" for name in names})

    def _limits(self, _: Request) -> Response:
        maximum, remaining = self.sandbox.usage.salesforce_daily()
        used_mb = sum(self.store.count(obj) for obj in OBJECTS.values()) * 2 // 1024
        jobs_left = max(10_000 - self.bulk.created_total, 0)
        return Response.json(200, {
            "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
            "DailyApiRequests": {"Max": maximum, "Remaining": remaining},
            "DailyAsyncApexExecutions": {"Max": 250_000, "Remaining": 250_000},
            "DailyBulkApiBatches": {"Max": 15_000, "Remaining": 15_000},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976_562, "Remaining": 976_562},
            "DailyBulkV2QueryJobs": {"Max": 10_000, "Remaining": jobs_left},
            "DataStorageMB": {"Max": 10_240, "Remaining": max(10_240 - used_mb, 0)},
            "FileStorageMB": {"Max": 20_480, "Remaining": 20_480},
        })

    # --- query ---------------------------------------------------------------------------
    def _compile(self, text: str) -> tuple[SfObject, soql.CompiledQuery]:
        try:
            query = soql.parse(text)
            obj = self._effective(find_object(query.object_name))
            if obj is None:
                raise soql.invalid_type_error(query)
            compiled = soql.compile_query(query, object_name_canonical=obj.name,
                                          field_types=_field_types(obj),
                                          now=self.sandbox.clock.now())
        except soql.SoqlError as exc:
            raise _fail(400, exc.error_code, exc.message) from exc
        return obj, compiled

    def _query(self, request: Request) -> Response:
        text = request.arg("q")
        if not text:
            raise _fail(400, "MALFORMED_QUERY", "A query string has to be specified")
        scope = request.params["scope"]
        obj, compiled = self._compile(text)
        # Evaluated once, here; later pages read this snapshot.
        rows = compiled.run(self.store.rows(obj, include_deleted=scope == "queryAll"))
        if compiled.count_only:
            return Response.json(200, {"totalSize": len(rows), "done": True, "records": []})
        cursor = Cursor(obj.name, compiled.select_fields, rows, _batch_size(request))
        return self._page(request, cursor, None, 0)

    def _query_more(self, request: Request) -> Response:
        locator = request.params["locator"]
        offset = int(request.params["offset"])
        cursor = self.cursors.get(locator)
        if cursor is None or offset > len(cursor.rows):
            raise _fail(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(request, cursor, locator, offset)

    def _page(
        self, request: Request, cursor: Cursor, locator: str | None, offset: int
    ) -> Response:
        version, scope = request.params["version"], request.params["scope"]
        end = offset + cursor.batch_size
        done = end >= len(cursor.rows)
        body: dict[str, Any] = {"totalSize": len(cursor.rows), "done": done}
        if not done:
            locator = locator or self.cursors.open(cursor)
            body["nextRecordsUrl"] = f"/services/data/v{version}/{scope}/{locator}-{end}"
        body["records"] = [_record_json(version, cursor.object_name, row, cursor.fields)
                           for row in cursor.rows[offset:end]]
        return Response.json(200, body)

    # --- describe ------------------------------------------------------------------------
    def _effective(self, obj: SfObject | None) -> SfObject | None:
        """``obj`` as the integration user sees it under the schema overlay."""
        return None if obj is None else self.overlay.apply(obj)

    def _object(self, request: Request) -> SfObject:
        obj = self._effective(find_object(request.params["object"]))
        if obj is None:
            raise _not_found()
        return obj

    def _describe_global(self, request: Request) -> Response:
        return Response.json(200, describe_global(request.params["version"]))

    def _describe(self, request: Request) -> Response:
        return Response.json(200, describe_object(self._object(request),
                                                  request.params["version"]))

    def _sobject_info(self, request: Request) -> Response:
        obj, version = self._object(request), request.params["version"]
        name_field = ("Name",) if obj.field("Name") is not None else ()
        recent = [_record_json(version, obj.name, r, ("Id", *name_field))
                  for r in self.store.recent(obj, 5)]
        return Response.json(200, {"objectDescribe": object_summary(obj, version),
                                   "recentItems": recent})

    # --- single records ------------------------------------------------------------------
    def _path_id(self, request: Request, obj: SfObject) -> str:
        """The record id in the path, as Salesforce reads it: else an external-id field name."""
        raw = request.params["record_id"]
        if len(raw) not in (15, 18) or not raw.isalnum():
            raise _fail(404, "NOT_FOUND",
                        f"Provided external ID field does not exist or is not accessible: {raw}")
        record_id = normalize_id(raw)
        if record_id is None or record_id[:3] != obj.key_prefix:
            raise _fail(400, "MALFORMED_ID", f"{obj.name} ID: id value of incorrect type: {raw}")
        return record_id

    def _fetch(self, obj: SfObject, record_id: str) -> Record:
        try:
            return self.store.fetch(obj, record_id)
        except RecordError as exc:
            raise _record_failure(exc) from exc

    def _selected_fields(self, request: Request, obj: SfObject) -> tuple[str, ...]:
        """``?fields=`` as canonical names; every field when absent."""
        wanted = request.args("fields")
        return _resolve_fields(obj, wanted) if wanted else tuple(f.name for f in obj.fields)

    def _changes(self, request: Request, obj: SfObject) -> Changes:
        try:
            return parse_changes(obj, _json_object(request, obj.name))
        except JsonTypeError as exc:
            raise _json_type_failure(request, exc) from exc

    def _get(self, request: Request) -> Response:
        obj = self._object(request)
        record = self._fetch(obj, self._path_id(request, obj))
        fields = self._selected_fields(request, obj)
        return Response.json(200, _record_json(request.params["version"], obj.name, record,
                                               fields))

    def _create(self, request: Request) -> Response:
        obj = self._object(request)
        changes = self._changes(request, obj)
        try:
            record = self.store.create(obj, changes)
        except RecordError as exc:
            raise _record_failure(exc) from exc
        return Response.json(201, {"id": record["Id"], "success": True, "errors": []})

    def _update(self, request: Request) -> Response:
        obj = self._object(request)
        record_id = self._path_id(request, obj)
        changes = self._changes(request, obj)
        try:
            self.store.update(obj, record_id, changes)
        except RecordError as exc:
            raise _record_failure(exc) from exc
        return Response.empty(204)

    def _delete(self, request: Request) -> Response:
        obj = self._object(request)
        record_id = self._path_id(request, obj)
        self._require_deletable(obj)
        try:
            self.store.delete(obj, record_id)
        except RecordError as exc:
            raise _record_failure(exc) from exc
        return Response.empty(204)

    @staticmethod
    def _require_deletable(obj: SfObject) -> None:
        if not obj.deletable:
            raise _fail(405, "METHOD_NOT_ALLOWED",
                        "HTTP Method 'DELETE' not allowed. Allowed are HEAD,GET,PATCH")

    # --- external ids --------------------------------------------------------------------
    @staticmethod
    def _external_field(obj: SfObject, name: str) -> SfField:
        fld = obj.field(name)
        if fld is None:
            raise _fail(404, "NOT_FOUND",
                        f"Provided external ID field does not exist or is not accessible: {name}")
        if not (fld.external_id or fld.name == "Id"):
            raise _fail(400, "INVALID_FIELD", f"Field name provided, {fld.name} is not an "
                                              f"External ID or indexed field for {obj.name}")
        return fld

    def _get_by_external_id(self, request: Request) -> Response:
        obj = self._object(request)
        fld = self._external_field(obj, request.params["field"])
        version = request.params["version"]
        matches = self.store.lookup(obj, fld, unquote_plus(request.params["value"]))
        if not matches:
            raise _not_found()
        if len(matches) > 1:
            raise _multiple_choices(version, obj, [r["Id"] for r in matches])
        fields = self._selected_fields(request, obj)
        return Response.json(200, _record_json(version, obj.name, matches[0], fields))

    def _upsert(self, request: Request) -> Response:
        obj = self._object(request)
        fld = self._external_field(obj, request.params["field"])
        version = request.params["version"]
        changes = self._changes(request, obj)
        try:
            record, created = self.store.upsert(obj, fld, unquote_plus(request.params["value"]),
                                                changes)
        except MultipleMatches as exc:
            raise _multiple_choices(version, obj, exc.ids) from exc
        except RecordError as exc:
            raise _record_failure(exc) from exc
        if not created and float(version) < 46:
            return Response.empty(204)  # before API 46 an upsert that updated said nothing
        body = {"id": record["Id"], "success": True, "errors": [], "created": created}
        return Response.json(201 if created else 200, body)

    def _delete_by_external_id(self, request: Request) -> Response:
        obj = self._object(request)
        fld = self._external_field(obj, request.params["field"])
        self._require_deletable(obj)
        matches = self.store.lookup(obj, fld, unquote_plus(request.params["value"]))
        if not matches:
            raise _not_found()
        if len(matches) > 1:
            raise _multiple_choices(request.params["version"], obj, [r["Id"] for r in matches])
        self.store.delete(obj, matches[0]["Id"])
        return Response.empty(204)

    # --- sObject Collections -------------------------------------------------------------
    def _collection_records(self, request: Request) -> tuple[list[Any], bool]:
        body = _json_object(request, "SObjectCollection")
        records = body.get("records")
        if not isinstance(records, list):
            raise _fail(400, "INVALID_FIELD", "The records field is required and must be a list")
        if len(records) > MAX_COLLECTION:
            raise _fail(400, "EXCEEDED_ID_LIMIT", _TOO_MANY)
        return records, _flag(body.get("allOrNone"))

    def _item_changes(self, request: Request, obj: SfObject, raw: Any) -> Changes:
        if not isinstance(raw, dict):
            raise _fail(400, "JSON_PARSER_ERROR",
                        "Cannot deserialize instance of SObject from VALUE_STRING value "
                        "[line:1, column:1]")
        try:
            return parse_changes(obj, raw)
        except JsonTypeError as exc:
            raise _json_type_failure(request, exc) from exc

    def _collection_create(self, request: Request) -> Response:
        records, all_or_none = self._collection_records(request)
        items = [self._plan_create(request, raw) for raw in records]
        return Response.json(200, self._run_batch(items, all_or_none, upsert=False))

    def _plan_create(self, request: Request, raw: Any) -> _Item:
        kind = _declared_type(raw)
        obj = self._effective(find_object(kind)) if kind else None
        if obj is None:
            message = (f"sObject type '{kind}' is not supported." if kind
                       else "Must send a concrete entity type.")
            return _Item(error=RecordError("INVALID_TYPE", message))
        changes = self._item_changes(request, obj, raw)
        return _Item(run=lambda: (self.store.create(obj, changes)["Id"], None))

    def _collection_update(self, request: Request) -> Response:
        records, all_or_none = self._collection_records(request)
        items = [self._plan_update(request, raw) for raw in records]
        return Response.json(200, self._run_batch(items, all_or_none, upsert=False))

    def _plan_update(self, request: Request, raw: Any) -> _Item:
        given = (raw.get("id") or raw.get("Id")) if isinstance(raw, dict) else None
        if not given:
            return _Item(error=RecordError("MISSING_ARGUMENT",
                                           "Id not specified in an update call"))
        record_id = normalize_id(given)
        obj = self._effective(self.store.object_for_id(record_id)) if record_id else None
        kind = _declared_type(raw)
        if record_id is None or obj is None or (kind and kind.lower() != obj.name.lower()):
            return _Item(record_id=str(given),
                         error=RecordError("MALFORMED_ID", f"malformed id {given}", ["Id"]))
        body = {k: v for k, v in raw.items() if k.lower() != "id"}
        changes = self._item_changes(request, obj, body)
        return _Item(record_id=record_id,
                     run=lambda: (self.store.update(obj, record_id, changes)["Id"], None))

    def _collection_upsert(self, request: Request) -> Response:
        obj = self._object(request)
        fld = self._external_field(obj, request.params["field"])
        records, all_or_none = self._collection_records(request)
        keys = [_key_of(raw, fld) for raw in records]
        counts: dict[str, int] = {}
        for key in keys:
            if key is not None:
                counts[key.lower()] = counts.get(key.lower(), 0) + 1
        items = [self._plan_upsert(request, obj, fld, raw, key, counts)
                 for raw, key in zip(records, keys, strict=True)]
        return Response.json(200, self._run_batch(items, all_or_none, upsert=True))

    def _plan_upsert(
        self, request: Request, obj: SfObject, fld: SfField, raw: Any, key: str | None,
        counts: Mapping[str, int],
    ) -> _Item:
        if key is None:
            return _Item(error=RecordError("MISSING_ARGUMENT", f"{fld.name} not specified",
                                           [fld.name]))
        if counts[key.lower()] > 1:
            return _Item(error=RecordError("DUPLICATE_EXTERNAL_ID",
                                           f"Duplicate external id specified: {key}", [fld.name]))
        changes = self._item_changes(request, obj, raw)

        def run() -> tuple[str, bool | None]:
            try:
                record, created = self.store.upsert(obj, fld, key, changes)
            except MultipleMatches as exc:
                raise RecordError(
                    "DUPLICATE_EXTERNAL_ID",
                    f"{fld.name}: more than one record found for external id field: {exc.ids}",
                    [fld.name],
                ) from exc
            return record["Id"], created

        return _Item(run=run)

    def _collection_delete(self, request: Request) -> Response:
        ids = request.args("ids")
        if len(ids) > MAX_COLLECTION:
            raise _fail(400, "EXCEEDED_ID_LIMIT", _TOO_MANY)
        items = [self._plan_delete(raw) for raw in ids]
        all_or_none = _flag(request.arg("allOrNone", "false"))
        return Response.json(200, self._run_batch(items, all_or_none, upsert=False))

    def _plan_delete(self, raw: str) -> _Item:
        record_id = normalize_id(raw)
        obj = self.store.object_for_id(record_id) if record_id else None
        if record_id is None:
            return _Item(record_id=raw, error=RecordError("MALFORMED_ID", f"malformed id {raw}"))
        if obj is None:
            return _Item(record_id=record_id, error=RecordError(
                "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"))
        if not obj.deletable:
            return _Item(record_id=record_id, error=RecordError(
                "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id"))

        def run() -> tuple[str, bool | None]:
            self.store.delete(obj, record_id)
            return record_id, None

        return _Item(record_id=record_id, run=run)

    def _run_batch(self, items: list[_Item], all_or_none: bool, *, upsert: bool) -> list[Any]:
        """Run each write in input order; allOrNone undoes them all when any one failed."""
        self.store.begin()
        try:
            outcomes = [self._run_item(item) for item in items]
        except Exception:
            self.store.rollback()  # a sandbox bug answers 500 but never leaves half a batch
            raise
        if all_or_none and any(error for _, error, _ in outcomes):
            self.store.rollback()
            outcomes = [(item.record_id, error or rolled_back_error(), None)
                        for item, (_, error, _) in zip(items, outcomes, strict=True)]
        else:
            self.store.commit()
        return [_result(record_id, error, created, upsert)
                for record_id, error, created in outcomes]

    @staticmethod
    def _run_item(item: _Item) -> tuple[str | None, RecordError | None, bool | None]:
        if item.error is not None or item.run is None:
            return item.record_id, item.error, None
        try:
            record_id, created = item.run()
        except RecordError as exc:
            if exc.code == "NOT_FOUND":  # collections name a missing row differently
                exc = RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
            return item.record_id, exc, None
        return record_id, None, created

    def _collection_retrieve(self, request: Request) -> Response:
        obj = self._object(request)
        if request.method == "POST":
            body = _json_object(request, "SObjectCollectionRetrieve")
            ids = [str(i) for i in body.get("ids") or []]
            wanted = [str(f) for f in body.get("fields") or []]
        else:
            ids, wanted = request.args("ids"), request.args("fields")
        if len(ids) > MAX_RETRIEVE:
            raise _fail(400, "EXCEEDED_ID_LIMIT", "Maximum number of ids is 2000")
        if not wanted:
            raise _fail(400, "MISSING_ARGUMENT", "The fields parameter is required")
        fields = _resolve_fields(obj, wanted)
        version = request.params["version"]
        out: list[dict[str, Any] | None] = []
        for raw in ids:
            record_id = normalize_id(raw)
            record = self._live(obj, record_id) if record_id else None
            out.append(_record_json(version, obj.name, record, fields) if record else None)
        return Response.json(200, out)

    def _live(self, obj: SfObject, record_id: str) -> Record | None:
        try:
            return self.store.fetch(obj, record_id)
        except RecordError:
            return None

    # --- Bulk API 2.0 query --------------------------------------------------------------
    def _bulk_create(self, request: Request) -> Response:
        body = _json_object(request, "QueryJobInfo")
        operation = body.get("operation")
        delimiter = body.get("columnDelimiter") or "COMMA"
        line_ending = body.get("lineEnding") or "LF"
        if operation not in OPERATIONS:
            raise _fail(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        if delimiter not in DELIMITERS or line_ending not in LINE_ENDINGS:
            raise _fail(400, "INVALIDJOB", "InvalidJob : Invalid columnDelimiter or lineEnding")
        obj, compiled = self._compile(str(body.get("query") or ""))
        if compiled.count_only:
            raise _fail(400, "INVALIDJOB", "InvalidJob : Aggregate queries are not supported")
        rows = compiled.run(self.store.rows(obj, include_deleted=operation == "queryAll"))
        job = self.bulk.create(
            operation=operation, object_name=obj.name, column_delimiter=delimiter,
            line_ending=line_ending, api_version=request.params["version"],
            created_by=self.store.integration_user_id, created=self.store.stamp(),
            fields=compiled.select_fields, rows=rows,
        )
        return Response.json(200, job.info())

    def _job(self, request: Request) -> QueryJob:
        job = self.bulk.get(request.params["job_id"])
        if job is None:
            raise _not_found()
        return job

    def _bulk_status(self, request: Request) -> Response:
        return Response.json(200, self._job(request).status())

    def _bulk_abort(self, request: Request) -> Response:
        job = self._job(request)
        body = _json_object(request, "QueryJobInfo")
        if body.get("state") != "Aborted":
            raise _fail(400, "INVALIDJOB", "InvalidJob : a query job can only be Aborted")
        if job.state in ("JobComplete", "Failed"):
            raise _fail(400, "INVALIDJOB", f"InvalidJob : job is already {job.state}")
        job.state = "Aborted"
        return Response.json(200, job.info())

    def _bulk_delete(self, request: Request) -> Response:
        self.bulk.delete(self._job(request).id)
        return Response.empty(204)

    def _bulk_results(self, request: Request) -> Response:
        job = self._job(request)
        if job.state == "Aborted":
            raise _fail(400, "INVALIDJOB", "InvalidJob : job was aborted")
        raw_max = request.arg("maxRecords")
        if raw_max is not None and not raw_max.isdigit():
            raise _fail(400, "INVALIDREQUEST", f"Invalid maxRecords: {raw_max}")
        try:
            text, count, locator = job.results(request.arg("locator") or None,
                                               int(raw_max) if raw_max else None)
        except LocatorError as exc:
            raise _fail(400, "INVALID_QUERY_LOCATOR", "invalid query locator") from exc
        response = Response.text(200, text, "text/csv")
        response.headers.update({"Sforce-NumberOfRecords": str(count), "Sforce-Locator": locator})
        return response


def _resolve_fields(obj: SfObject, names: list[str]) -> tuple[str, ...]:
    resolved = []
    for name in names:
        fld = obj.field(name)
        if fld is None:
            raise _fail(400, "INVALID_FIELD",
                        f"No such column '{name}' on entity '{obj.name}'. If you are attempting "
                        "to use a custom field, be sure to append the '__c' after the custom "
                        "field name. Please reference your WSDL or the describe call for the "
                        "appropriate names.")
        resolved.append(fld.name)
    return tuple(dict.fromkeys(resolved))


def _key_of(raw: Any, fld: SfField) -> str | None:
    """An upsert record's external id value, whatever case its key is written in."""
    if not isinstance(raw, dict):
        return None
    for name, value in raw.items():
        if name.lower() == fld.name.lower() and value is not None and value != "":
            return value if isinstance(value, str) else str(value)
    return None


def _unexpired(exp: Any) -> bool:
    """JWT exp in the future; numeric strings accepted (simple-salesforce sends one)."""
    try:
        return float(exp) > time.time()
    except (TypeError, ValueError):
        return False


def _result(
    record_id: str | None, error: RecordError | None, created: bool | None, upsert: bool
) -> dict[str, Any]:
    result: dict[str, Any] = {} if record_id is None else {"id": record_id}
    result["success"] = error is None
    result["errors"] = [] if error is None else [error.collection_error()]
    if upsert:
        result["created"] = bool(created)
    return result
