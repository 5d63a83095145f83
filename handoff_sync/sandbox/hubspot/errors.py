"""HubSpot's error bodies, as the CRM v3/v4 APIs and the OAuth endpoint send them.

Every error is ``{"status": "error", "message", "correlationId", "category", ...}``; the
OAuth token endpoint is the odd one out (``{"status": "BAD_REFRESH_TOKEN", "message"}``),
and a 429 carries ``errorType``/``policyName`` instead of a category. Property validation
failures put the per-property list into ``message`` as JSON text, the way HubSpot does,
and also into ``errors[]`` so a client need not parse the message.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from handoff_sync.sandbox.core.http import ApiError

# The category HubSpot sends with each status; statuses without one send none.
CATEGORY_BY_STATUS: dict[int, str] = {
    400: "VALIDATION_ERROR",
    401: "INVALID_AUTHENTICATION",
    403: "MISSING_SCOPES",
    404: "OBJECT_NOT_FOUND",
    409: "CONFLICT",
}

MISSING_CREDENTIALS = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
    "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)

# usage.Verdict -> (policyName, the word HubSpot puts in "You have reached your ... limit.")
RATE_LIMIT_POLICIES: dict[str, tuple[str, str]] = {
    "ten_secondly": ("TEN_SECONDLY_ROLLING", "ten_secondly_rolling"),
    "daily": ("DAILY", "daily"),
    "secondly": ("SECONDLY", "secondly"),
}

MAX_BATCH_INPUTS = 100


def correlation_id() -> str:
    return str(uuid.uuid4())


def error_body(message: str, category: str | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "error", "message": message,
                            "correlationId": correlation_id()}
    if category is not None:
        body["category"] = category
    body.update({key: value for key, value in extra.items() if value is not None})
    return body


def hs_error(status: int, message: str, **extra: Any) -> ApiError:
    """An ApiError whose body has the category HubSpot uses for ``status``."""
    return ApiError(status, error_body(message, CATEGORY_BY_STATUS.get(status), **extra))


def bad_request(message: str, **extra: Any) -> ApiError:
    return hs_error(400, message, **extra)


def not_found(message: str = "resource not found", **extra: Any) -> ApiError:
    return hs_error(404, message, **extra)


def conflict(message: str, **extra: Any) -> ApiError:
    return hs_error(409, message, **extra)


def unknown_object_type(name: str) -> ApiError:
    return bad_request(f"Unable to infer object type from: {name}")


def invalid_json(exc: ValueError) -> ApiError:
    return bad_request(f"Invalid input JSON on line 1, column 1: {exc}")


def too_many_inputs(count: int) -> ApiError:
    return bad_request(
        f"The maximum number of inputs supported in a batch request is {MAX_BATCH_INPUTS}. "
        f"Please reduce the number of items ({count}) and try again",
    )


def missing_credentials() -> ApiError:
    return ApiError(401, error_body(MISSING_CREDENTIALS, "INVALID_AUTHENTICATION"))


def expired_token(seconds_ago: float, expired_at_iso: str) -> ApiError:
    message = f"The OAuth token used to make this call expired {_ago(seconds_ago)} ago."
    return ApiError(401, error_body(message, "EXPIRED_AUTHENTICATION",
                                    context={"expire time": [expired_at_iso]}))


def _ago(seconds: float) -> str:
    """HubSpot's coarse wording: '0 second(s)', '5 minute(s)', '2 hour(s)', '3 day(s)'."""
    whole = max(int(seconds), 0)
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if whole >= size:
            return f"{whole // size} {unit}(s)"
    return f"{whole} second(s)"


def rate_limited(verdict: str) -> ApiError:
    return ApiError(429, rate_limit_body(verdict))


def rate_limit_body(verdict: str) -> dict[str, Any]:
    policy, word = RATE_LIMIT_POLICIES[verdict]
    return {
        "status": "error",
        "message": f"You have reached your {word} limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id(),
        "policyName": policy,
    }


def oauth_error(status: str, message: str) -> ApiError:
    """The token endpoint's own shape: the error code sits in ``status``."""
    return ApiError(400, {"status": status, "message": message,
                          "correlationId": correlation_id()})


@dataclass(frozen=True)
class PropertyError:
    """One failed property of a write (HubSpot's propertyValidationResult)."""

    name: str
    code: str  # PROPERTY_DOESNT_EXIST, READ_ONLY_VALUE, INVALID_OPTION, INVALID_DATE, ...
    message: str

    def legacy(self) -> dict[str, Any]:
        return {"isValid": False, "message": self.message, "error": self.code,
                "name": self.name, "localizedErrorMessage": self.message}

    def detail(self) -> dict[str, Any]:
        return {"message": self.message, "code": self.code,
                "context": {"propertyName": [self.name]}}


def invalid_properties_message(errors: list[PropertyError]) -> str:
    legacy = json.dumps([error.legacy() for error in errors], separators=(",", ":"))
    return f"Property values were not valid: {legacy}"


def invalid_properties(errors: list[PropertyError]) -> ApiError:
    return bad_request(invalid_properties_message(errors),
                       errors=[error.detail() for error in errors])


def standard_error(category: str, message: str, context: dict[str, list[str]],
                   sub_category: str | None = None) -> dict[str, Any]:
    """One entry of a batch response's ``errors[]`` (the client's StandardError model)."""
    entry: dict[str, Any] = {"status": "error", "category": category, "message": message,
                             "context": context, "errors": [], "links": {}}
    if sub_category is not None:
        entry["subCategory"] = sub_category
    return entry
