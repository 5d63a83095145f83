"""Fault injection: make chosen endpoints fail, stall or hang up, by chance or by script.

A rule (as posted to ``POST /__sandbox__/faults``)::

    {"api": "salesforce" | "hubspot" | "any",   # default "any"
     "method": "GET",                          # optional, any method when absent
     "path": "regex",                          # optional, searched in the request path
     "probability": 0.2  |  "count": 3,        # by chance, or the next N matching calls
     "effect": 503 | "drop" | {"delay": 2.5} | {"status": 429, "retry_after": 2}}

The flat keys ``status``, ``delay``, ``drop`` and ``retry_after`` are accepted in place of
``effect``. Rules are tried in order and the first one that fires wins, so a list of
``count`` rules is a scripted sequence (e.g. 429, 429, then 500). A delay stalls the call
and then lets it proceed normally; a status answers in the vendor's error format; a drop
closes the connection without a response.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass
from typing import Any, Literal

EffectKind = Literal["status", "delay", "drop"]


class FaultRuleError(ValueError):
    """A rule in a faults request is malformed; the message names the rule and key."""


@dataclass
class FaultRule:
    api: str
    method: str | None
    path: re.Pattern[str] | None
    probability: float | None
    remaining: int | None
    kind: EffectKind
    status: int = 0
    delay: float = 0.0
    retry_after: float | None = None

    def applies_to(self, api: str, method: str, path: str) -> bool:
        if self.api != "any" and self.api != api:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path is None or self.path.search(path) is not None

    def to_json(self) -> dict[str, Any]:
        effect: Any = {"drop": "drop", "delay": {"delay": self.delay}}.get(self.kind)
        if self.kind == "status":
            effect = {"status": self.status, "retry_after": self.retry_after}
        return {
            "api": self.api,
            "method": self.method,
            "path": self.path.pattern if self.path else None,
            "probability": self.probability,
            "count": self.remaining,
            "effect": effect,
        }


@dataclass(frozen=True)
class Fault:
    """What the server must do for one request."""

    kind: EffectKind
    status: int = 0
    delay: float = 0.0
    retry_after: float | None = None


def _effect(where: str, rule: dict[str, Any]) -> dict[str, Any]:
    effect = rule.get("effect")
    if effect is None:
        flat: dict[str, Any] = {k: rule[k] for k in ("status", "delay", "drop", "retry_after")
                                if k in rule}
        if not flat:
            raise FaultRuleError(f"{where}: give an effect (status code, {{'delay': s}} or 'drop')")
        return flat
    if isinstance(effect, bool):
        raise FaultRuleError(f"{where}.effect: expected a status code, 'drop' or {{'delay': s}}")
    if isinstance(effect, int):
        return {"status": effect, "retry_after": rule.get("retry_after")}
    if effect == "drop":
        return {"drop": True}
    if isinstance(effect, dict):
        return effect
    raise FaultRuleError(f"{where}.effect: expected a status code, 'drop' or {{'delay': s}}")


def parse_rule(index: int, rule: Any) -> FaultRule:
    where = f"rules[{index}]"
    if not isinstance(rule, dict):
        raise FaultRuleError(f"{where}: expected an object")
    known = {"api", "method", "path", "probability", "count", "effect",
             "status", "delay", "drop", "retry_after"}
    unknown = sorted(set(rule) - known)
    if unknown:
        raise FaultRuleError(f"{where}: unknown key(s) {unknown}; known keys: {sorted(known)}")
    api = rule.get("api", "any")
    if api not in ("salesforce", "hubspot", "any"):
        raise FaultRuleError(f"{where}.api: expected salesforce, hubspot or any, got {api!r}")
    try:
        path = re.compile(rule["path"]) if rule.get("path") else None
    except re.error as exc:
        raise FaultRuleError(f"{where}.path: not a valid regex: {exc}") from exc
    probability, count = rule.get("probability"), rule.get("count")
    if (probability is None) == (count is None):
        raise FaultRuleError(f"{where}: give exactly one of 'probability' or 'count'")
    if probability is not None and not (
        isinstance(probability, int | float) and 0 <= probability <= 1
    ):
        raise FaultRuleError(f"{where}.probability: expected a number from 0 to 1")
    if count is not None and not (isinstance(count, int) and count >= 1):
        raise FaultRuleError(f"{where}.count: expected a whole number >= 1")
    effect = _effect(where, rule)
    common = {
        "api": api,
        "method": rule["method"].upper() if rule.get("method") else None,
        "path": path,
        "probability": float(probability) if probability is not None else None,
        "remaining": count,
    }
    if effect.get("drop"):
        return FaultRule(kind="drop", **common)
    if "delay" in effect:
        delay = effect["delay"]
        if not isinstance(delay, int | float) or delay < 0 or delay > 600:
            raise FaultRuleError(f"{where}.effect.delay: expected seconds between 0 and 600")
        return FaultRule(kind="delay", delay=float(delay), **common)
    status = effect.get("status")
    if not isinstance(status, int) or not 400 <= status <= 599:
        raise FaultRuleError(f"{where}.effect.status: expected an HTTP error status 400-599")
    retry_after = effect.get("retry_after")
    if retry_after is not None and not isinstance(retry_after, int | float):
        raise FaultRuleError(f"{where}.retry_after: expected seconds")
    return FaultRule(kind="status", status=status, retry_after=retry_after, **common)


class FaultInjector:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._rng = rng or random.Random()

    def set_rules(self, raw_rules: Any, *, append: bool = False) -> list[FaultRule]:
        if not isinstance(raw_rules, list):
            raise FaultRuleError("rules: expected a list of rule objects")
        rules = [parse_rule(i, rule) for i, rule in enumerate(raw_rules)]
        with self._lock:
            self._rules = [*self._rules, *rules] if append else rules
        return rules

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def pick(self, api: str, method: str, path: str) -> Fault | None:
        """The fault for this call, consuming a scripted count when one fires."""
        fired: Fault | None = None
        with self._lock:
            for rule in self._rules:
                if not rule.applies_to(api, method, path):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                elif self._rng.random() >= (rule.probability or 0.0):
                    continue
                fired = Fault(rule.kind, rule.status, rule.delay, rule.retry_after)
                break
            # Spent scripted rules are dropped so `rules()` shows what is still armed.
            self._rules = [r for r in self._rules if r.remaining is None or r.remaining > 0]
        return fired
