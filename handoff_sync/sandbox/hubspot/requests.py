"""Reading HubSpot requests: JSON bodies, query flags and numbers, batch inputs."""

from __future__ import annotations

from typing import Any

from handoff_sync.sandbox.core.http import Request
from handoff_sync.sandbox.hubspot.errors import (
    MAX_BATCH_INPUTS,
    bad_request,
    invalid_json,
    too_many_inputs,
)
from handoff_sync.sandbox.hubspot.store import resolve_type


def json_body(request: Request) -> Any:
    try:
        return request.json()
    except ValueError as exc:  # also UnicodeDecodeError
        raise invalid_json(exc) from exc


def object_body(request: Request) -> dict[str, Any]:
    body = json_body(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise bad_request("Invalid input JSON: expected an object")
    return body


def flag(request: Request, name: str) -> bool:
    """Booleans arrive as 'True'/'False' from the Python client, 'true' from others."""
    return (request.arg(name) or "false").strip().lower() == "true"


def int_arg(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.arg(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name} must be a whole number; got {raw!r}.") from None
    if value < low:
        raise bad_request(f"{name} must be at least {low}; got {value}.")
    return min(value, high)


def path_type(request: Request, key: str = "object_type") -> str:
    return resolve_type(request.params[key])


def batch_inputs(body: dict[str, Any]) -> list[Any]:
    """``inputs`` of a batch body: a list of at most 100 entries."""
    inputs = body.get("inputs")
    if inputs is None:
        inputs = []
    if not isinstance(inputs, list):
        raise bad_request("inputs: expected a list")
    if len(inputs) > MAX_BATCH_INPUTS:
        raise too_many_inputs(len(inputs))
    return inputs


def input_id(entry: Any, key: str = "id") -> str:
    value = entry.get(key) if isinstance(entry, dict) else None
    if value is None or isinstance(value, dict | list | bool):
        raise bad_request(f"inputs[]: each input needs an '{key}'.")
    return str(value)


def name_list(raw: Any) -> list[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise bad_request("properties: expected a list of property names")
    return [str(name) for name in raw]
