"""The control plane under /__sandbox__/: reset, seed, faults, stats, clock, credentials.

Tools outside the test suite rely on this contract; keep it stable:
  GET    /__sandbox__/credentials  -> base_url, ca_pem, salesforce{...}, hubspot{...}
  POST   /__sandbox__/reset
  POST   /__sandbox__/seed         {deals, partners, random_seed}
  POST   /__sandbox__/faults       {rules: [...], quotas?: {...}, append?: bool}
  GET    /__sandbox__/faults       -> armed rules and quotas
  DELETE /__sandbox__/faults       clears rules and restores the quotas the server
                                   started with (as reset does)
  GET    /__sandbox__/stats        -> {salesforce: {calls, by_endpoint}, hubspot: {...}}
  POST   /__sandbox__/clock        {freeze_at | shift_seconds | reset: true}
  GET    /__sandbox__/clock
  POST   /__sandbox__/schema       {salesforce?: {Object: {hidden: [...], read_only: [...]}},
                                    hubspot?: {deals: {hidden: [...], read_only: [...]}}}
                                   replaces the schema overlay of both systems (simulated
                                   drift; a system left out has none). Salesforce: hidden
                                   fields leave describe and fail in SOQL and writes
                                   (INVALID_FIELD), read-only ones are not createable or
                                   updateable. HubSpot: hidden = archived custom properties
                                   (gone from /crm/v3/properties, listed with archived=true;
                                   omitted from reads, 400 in search filters and sorts,
                                   PROPERTY_DOESNT_EXIST in writes), read-only ones show
                                   readOnlyValue: true and fail writes with READ_ONLY_VALUE.
                                   Values are kept: a restored field comes back with them.
  GET    /__sandbox__/schema       -> the overlay: {salesforce: {...}, hubspot: {...}}
  DELETE /__sandbox__/schema       restores the full schema of both systems
  POST   /__sandbox__/validation-rules  {salesforce: [{object, field, value, message}]}
                                   replaces the org's validation rules: a create or update
                                   whose saved record holds ``value`` in ``field`` fails
                                   per record with FIELD_CUSTOM_VALIDATION_EXCEPTION,
                                   ``message`` and fields [field]; reset clears them
  POST   /__sandbox__/expire-sessions   every Salesforce session and HubSpot OAuth token
                                        expires (the next call gets a 401)
Errors are 400 with {"error": "..."} naming the key at fault. When the server has a
control token (required beyond loopback), every request here must carry it as
``Authorization: Bearer <token>``; without it the answer is 401. From Python, drive it
with the typed client in :mod:`.control_client`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from handoff_sync.sandbox.core.faults import FaultRuleError
from handoff_sync.sandbox.core.http import ApiError, Request, Response, Router
from handoff_sync.sandbox.hubspot.overlay import HubSpotOverlayError
from handoff_sync.sandbox.hubspot.overlay import parse as parse_hubspot_overlay
from handoff_sync.sandbox.salesforce.overlay import OverlayError
from handoff_sync.sandbox.salesforce.schema import find_object
from handoff_sync.sandbox.salesforce.store import ValidationRule

if TYPE_CHECKING:
    from handoff_sync.sandbox.app import Sandbox

MAX_SEED_DEALS = 1_000_000
MAX_SEED_PARTNERS = 10_000
MAX_RANDOM_SEED = 2**63 - 1


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as exc:
        raise ApiError(400, {"error": f"body is not valid JSON: {exc}"}) from exc
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, {"error": "body must be a JSON object"})
    return body


def _int(body: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(400, {"error": f"{key}: expected a whole number from {low} to {high}"})
    return value


def register(router: Router, sandbox: Sandbox) -> None:
    def add(method: str, path: str, handler: Any) -> None:
        router.add("control", method, f"/__sandbox__/{path}", handler, f"{method} /{path}",
                   auth=False)

    def credentials(_: Request) -> Response:
        return Response.json(200, sandbox.credentials.to_json(sandbox.ca_pem))

    def reset(_: Request) -> Response:
        sandbox.reset()
        return Response.json(200, {"status": "reset"})

    def seed(request: Request) -> Response:
        body = _body(request)
        unknown = sorted(set(body) - {"deals", "partners", "random_seed"})
        if unknown:
            raise ApiError(400, {"error": f"unknown key(s) {unknown}; "
                                          "known: deals, partners, random_seed"})
        counts = sandbox.seed(
            deals=_int(body, "deals", 500, 0, MAX_SEED_DEALS),
            partners=_int(body, "partners", 12, 1, MAX_SEED_PARTNERS),
            random_seed=_int(body, "random_seed", 42, 0, MAX_RANDOM_SEED),
        )
        return Response.json(200, {"status": "seeded", "counts": counts})

    def faults_get(_: Request) -> Response:
        return Response.json(
            200, {"rules": sandbox.faults.rules(), "quotas": sandbox.usage.quotas.to_json()}
        )

    def faults_post(request: Request) -> Response:
        body = _body(request)
        unknown = sorted(set(body) - {"rules", "quotas", "append"})
        if unknown:
            raise ApiError(
                400, {"error": f"unknown key(s) {unknown}; known: rules, quotas, append"}
            )
        try:
            if "quotas" in body:
                sandbox.usage.quotas.update(body["quotas"])
            if "rules" in body:
                sandbox.faults.set_rules(body["rules"], append=bool(body.get("append")))
        except (FaultRuleError, ValueError) as exc:
            raise ApiError(400, {"error": str(exc)}) from exc
        return faults_get(request)

    def faults_delete(request: Request) -> Response:
        sandbox.faults.clear()
        sandbox.usage.restore_quotas()
        return faults_get(request)

    def stats(_: Request) -> Response:
        return Response.json(200, sandbox.usage.stats())

    def clock_get(_: Request) -> Response:
        return Response.json(200, sandbox.clock.describe())

    def clock_post(request: Request) -> Response:
        body = _body(request)
        unknown = sorted(set(body) - {"freeze_at", "shift_seconds", "reset"})
        if unknown or not body:
            raise ApiError(400, {"error": "give one of freeze_at (ISO-8601 with timezone), "
                                          "shift_seconds (number) or reset: true"})
        if body.get("reset"):
            sandbox.clock.reset()
        if "freeze_at" in body:
            try:
                at = datetime.fromisoformat(str(body["freeze_at"]).replace("Z", "+00:00"))
                sandbox.clock.freeze(at)
            except ValueError as exc:
                raise ApiError(400, {"error": f"freeze_at: {exc}"}) from exc
        if "shift_seconds" in body:
            shift = body["shift_seconds"]
            if isinstance(shift, bool) or not isinstance(shift, int | float):
                raise ApiError(400, {"error": "shift_seconds: expected a number"})
            sandbox.clock.shift(float(shift))
        return clock_get(request)

    def schema_get(_: Request) -> Response:
        return Response.json(200, {"salesforce": sandbox.salesforce.overlay.to_json(),
                                   "hubspot": sandbox.hubspot.overlay.to_json()})

    def schema_post(request: Request) -> Response:
        body = _body(request)
        unknown = sorted(set(body) - {"salesforce", "hubspot"})
        if unknown:
            raise ApiError(400, {"error": f"unknown key(s) {unknown}; "
                                          "known: salesforce, hubspot"})
        hubspot = sandbox.hubspot.store.properties
        try:
            # Check both bodies before changing either: a refused body changes nothing.
            hs_spec = parse_hubspot_overlay(body.get("hubspot", {}), hubspot.is_hubspot_defined)
            sandbox.salesforce.overlay.set(body.get("salesforce", {}))
        except (OverlayError, HubSpotOverlayError) as exc:
            raise ApiError(400, {"error": str(exc)}) from exc
        sandbox.hubspot.overlay.replace(hs_spec)
        return schema_get(request)

    def schema_delete(request: Request) -> Response:
        sandbox.salesforce.overlay.clear()
        sandbox.hubspot.overlay.clear()
        return schema_get(request)

    def validation_rules(request: Request) -> Response:
        raw = _body(request).get("salesforce", [])
        if not isinstance(raw, list):
            raise ApiError(400, {"error": "salesforce: expected a list of rules"})
        rules = []
        for n, rule in enumerate(raw):
            obj = find_object(str(rule.get("object"))) if isinstance(rule, dict) else None
            name = str(rule.get("field")) if isinstance(rule, dict) else ""
            fld = obj.field(name) if obj is not None else None
            if obj is None or fld is None or "value" not in rule:
                raise ApiError(400, {"error": f"salesforce[{n}]: expected {{object, field, "
                                              "value, message}} naming a known field"})
            rules.append(ValidationRule(obj.name, fld.name, rule["value"],
                                        str(rule.get("message") or "Validation failed")))
        sandbox.salesforce.store.validation_rules = rules
        return Response.json(200, {"salesforce": len(rules)})

    def expire_sessions(_: Request) -> Response:
        sandbox.expire_sessions()
        return Response.json(200, {"status": "expired"})

    add("GET", "credentials", credentials)
    add("POST", "reset", reset)
    add("POST", "seed", seed)
    add("GET", "faults", faults_get)
    add("POST", "faults", faults_post)
    add("DELETE", "faults", faults_delete)
    add("GET", "stats", stats)
    add("GET", "clock", clock_get)
    add("POST", "clock", clock_post)
    add("GET", "schema", schema_get)
    add("POST", "schema", schema_post)
    add("DELETE", "schema", schema_delete)
    add("POST", "validation-rules", validation_rules)
    add("POST", "expire-sessions", expire_sessions)
