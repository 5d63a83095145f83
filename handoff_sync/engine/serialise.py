"""A Plan as stable JSON: what `handoff-sync plan` prints and tests compare.

Keys are sorted and every value has one textual form (decimals as strings, instants as
ISO 8601 in UTC with a Z, lists for tuples), so two equal plans print byte-identical.
``to_jsonable`` is the product's one conversion to plain JSON data: the plan, the store's
status and review items, and the report (which writes instants with their own offset).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from handoff_sync.engine.types import Plan


def utc_instant(value: datetime) -> str:
    """An instant as ISO 8601 in UTC with a Z: 2026-11-18T15:30:00Z."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_jsonable(value: Any, *, instant: Callable[[datetime], str] = utc_instant) -> Any:
    """Plain JSON types for any value the engine, the store or the report puts out:
    enums as their values, decimals as text, dates as ISO 8601, instants as ``instant``
    writes them, dataclasses and mappings as objects, sequences as lists (sets sorted).
    TypeError for anything else: a new kind of value needs its one form chosen here."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(
            value)
    if isinstance(value, datetime):
        return instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name), instant=instant)
                for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(to_jsonable(k, instant=instant)): to_jsonable(v, instant=instant)
                for k, v in value.items()}
    if isinstance(value, (tuple, list, set, frozenset)):
        items = [to_jsonable(item, instant=instant) for item in value]
        return sorted(items, key=json.dumps) if isinstance(value, (set, frozenset)) else items
    raise TypeError(f"cannot put {type(value).__name__} in JSON")


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    data: dict[str, Any] = to_jsonable(plan)
    if plan.planned_deals is None:
        del data["planned_deals"]  # every deal was planned: nothing to say
    if not plan.creations:
        del data["creations"]  # nothing to create (grading only): the plan reads as before
    for write in data["writes"]:
        for said_when_an_id_moves in ("releases", "holds"):  # the common case: empty
            if not write[said_when_an_id_moves]:
                del write[said_when_an_id_moves]
    data["counts"] = plan.counts()
    return data


def dumps(plan: Plan, *, indent: int | None = 2) -> str:
    # ASCII only: partner text may hold C1 controls or bidi overrides, which JSON leaves
    # raw otherwise and a terminal would act on; \uXXXX reads back the same.
    return json.dumps(plan_to_dict(plan), indent=indent, sort_keys=True)
