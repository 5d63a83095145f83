"""The Salesforce REST wire format every endpoint group shares: the versioned data path,
error bodies (always a JSON array, crm-api-reference.md 4.2), record JSON, request
bodies read as Salesforce's Jackson deserializer reads them, and route labels."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from handoff_sync.sandbox.core.http import ApiError, Handler, Request, Response, Router
from handoff_sync.sandbox.salesforce.errors import RecordError
from handoff_sync.sandbox.salesforce.schema import SfObject
from handoff_sync.sandbox.salesforce.store import Record
from handoff_sync.sandbox.salesforce.values import JsonTypeError, to_json

MIN_VERSION = 31
MAX_VERSION = 66
DATA = r"/services/data/v(?P<version>\d{2}\.\d)"
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
STATUS_CODES = {
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
NOT_FOUND = "The requested resource does not exist"


class BareResponse(Response):
    """A response Salesforce sends without Sforce-Limit-Info (token endpoint, versions root)."""


def fail(status: int, code: str, message: str, fields: list[str] | None = None) -> ApiError:
    """A REST error: always a JSON array (crm-api-reference.md 4.2)."""
    item: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        item["fields"] = fields
    return ApiError(status, [item])


def record_failure(exc: RecordError) -> ApiError:
    return ApiError(exc.status, [exc.rest_error()])


def not_found() -> ApiError:
    return fail(404, "NOT_FOUND", NOT_FOUND)


@cache
def field_types(obj: SfObject) -> dict[str, str]:
    return {fld.name: fld.type for fld in obj.fields}


def route_label(method: str, pattern: str) -> str:
    """A readable stats label: ``GET /services/data/{version}/sobjects/{object}``."""
    path = _GROUP.sub(r"{\1}", pattern).replace("/?", "")
    return f"{method} {path}"


def record_url(version: str, object_name: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{object_name}/{record_id}"


def record_json(
    version: str, object_name: str, record: Record, fields: tuple[str, ...]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "attributes": {"type": object_name,
                       "url": record_url(version, object_name, record["Id"])},
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


def json_type_failure(request: Request, exc: JsonTypeError) -> ApiError:
    line, column = _position(request.body.decode("utf-8", "replace"), exc.field_name)
    where = f"[line:{line}, column:{column}]"
    if exc.token.startswith("START_"):
        message = f"Cannot deserialize instance of {exc.field_type} from {exc.token} value {where}"
    else:
        message = (f"Cannot deserialize instance of {exc.field_type} from {exc.token} value "
                   f"{exc.text} or request may be missing a required field at {where}")
    return fail(400, "JSON_PARSER_ERROR", message)


def _json_body(request: Request) -> Any:
    try:
        return request.json()
    except UnicodeDecodeError as exc:
        raise fail(400, "JSON_PARSER_ERROR", f"Invalid UTF-8 in request body: {exc}") from exc
    except ValueError as exc:
        line, column = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
        raise fail(400, "JSON_PARSER_ERROR",
                   f"Unexpected character in request body at [line:{line}, column:{column}]"
                   ) from exc


def json_object(request: Request, what: str) -> dict[str, Any]:
    body = _json_body(request)
    if not isinstance(body, dict):
        token = "START_ARRAY" if isinstance(body, list) else "VALUE_STRING"
        raise fail(400, "JSON_PARSER_ERROR",
                   f"Cannot deserialize instance of {what} from {token} value [line:1, column:1]")
    return body


def multiple_choices(version: str, obj: SfObject, ids: list[str]) -> ApiError:
    """300 Multiple Choices: the URLs of every matching record."""
    return ApiError(300, [record_url(version, obj.name, i) for i in ids])


def resolve_fields(obj: SfObject, names: list[str]) -> tuple[str, ...]:
    resolved = []
    for name in names:
        fld = obj.field(name)
        if fld is None:
            raise fail(400, "INVALID_FIELD",
                       f"No such column '{name}' on entity '{obj.name}'. If you are attempting "
                       "to use a custom field, be sure to append the '__c' after the custom "
                       "field name. Please reference your WSDL or the describe call for the "
                       "appropriate names.")
        resolved.append(fld.name)
    return tuple(dict.fromkeys(resolved))


def add_routes(router: Router, routes: list[tuple[str, str, Handler, bool]]) -> None:
    """Register (method, pattern, handler, auth) routes under their readable labels."""
    for method, pattern, handler, auth in routes:
        router.add("salesforce", method, pattern, handler, route_label(method, pattern),
                   auth=auth)
