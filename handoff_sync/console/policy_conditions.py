"""A condition of handoff.yaml (policy/condition.py: field/op/value, all/any/not) as a
form edits it: three boxes for the common case (one field, an operator, a value) and a
small YAML box for nested all/any/not.

A condition's inputs are ``f:cfield:<path>``, ``f:cop:<path>`` and ``f:cvalue:<path>``
(the boxes) and ``f:cond:<path>`` (the YAML box). The boxes show a value as YAML writes
it in a flow list (``'123'`` stays a text, ``2026-11-01`` a date) and read it back the
same way, so an untouched condition compares equal to the file and changes no line. A
value left as typed when it does not parse: the check then says what is wrong with it,
with `mappings validate`'s message, at the condition.

Pure: texts in, plain data (or None: no condition) out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from handoff_sync.console.yaml_edit import EditError, block_text, flow_text, load, plain
from handoff_sync.errors import UserError
from handoff_sync.mapping.policy.condition import UNARY_OPERATORS, Operator

UNARY = UNARY_OPERATORS  # the value box stays empty for these

OPERATORS: tuple[str, ...] = get_args(Operator)
LIST_OPERATORS = frozenset({"in", "not_in"})
BOX_KEYS = ("cfield", "cop", "cvalue")
MAX_CONDITION_CHARS = 20_000  # a condition box; the whole file's limits apply as well


class ConditionTextError(UserError):
    """A condition's YAML box that is not YAML (said at the condition, before any check)."""

    hint = "write the condition as YAML, or in the three boxes"


def is_simple(condition: Any) -> bool:
    """Whether the three boxes can show ``condition`` (none, or one field test)."""
    if condition is None:
        return True
    if not isinstance(condition, dict) or not set(condition) <= {"field", "op", "value"}:
        return False
    value = condition.get("value")
    if isinstance(value, list):
        return all(not isinstance(item, dict | list) for item in value)
    return not isinstance(value, dict)


def value_text(condition: Any) -> str:
    """The value box's text for a simple condition (a list as comma-separated items)."""
    if not isinstance(condition, dict) or "value" not in condition:
        return ""
    value = condition["value"]
    if isinstance(value, list):
        return ", ".join(flow_text(item) for item in value)
    return flow_text(value)


def condition_text(condition: Any) -> str:
    """The YAML box's text."""
    return block_text(condition)


def from_boxes(parts: Mapping[str, str]) -> dict[str, Any] | None:
    """The condition the three boxes make; None when they are all blank."""
    field = parts.get("cfield", "").strip()
    op = parts.get("cop", "").strip()
    text = parts.get("cvalue", "").strip()
    if not (field or op or text):
        return None
    condition: dict[str, Any] = {}
    if field:
        condition["field"] = field
    if op:
        condition["op"] = op
    if text:  # none typed for ==: the check says the operator needs one
        condition["value"] = _value(text, op)
    return condition


def from_yaml(text: str) -> Any:
    """The condition the YAML box holds; None when blank."""
    text = text.replace("\r\n", "\n")
    if not text.strip():
        return None
    if len(text) > MAX_CONDITION_CHARS:
        raise ConditionTextError(f"the condition is longer than {MAX_CONDITION_CHARS} "
                                 "characters: edit it in the raw YAML view")
    try:
        return plain(load(text))
    except EditError as exc:
        raise ConditionTextError(f"not a condition in YAML ({exc}): write "
                                 "{field: ..., op: ..., value: ...}, or all:/any: with a "
                                 "list of conditions, or not: with one") from None


def _value(text: str, op: str) -> Any:
    if op in LIST_OPERATORS and not text.startswith("["):
        text = f"[{text}]"  # the box shows a list without brackets
    try:
        value = plain(load(text))
    except EditError:
        return text
    return text if isinstance(value, dict) else value
