"""Evaluate declarative conditions against a deal; check them against the field types.

A condition is data (policy/file_model.Condition). Evaluation is a small interpreter over
the operators below; there is no eval and no expression language. A blank deal value
makes every comparison false except the negative ones (!=, not_in) and is_blank. Text
comparisons ignore case ("Partner to Direct" == "partner to direct").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from handoff_sync.mapping.policy.file_model import Condition
from handoff_sync.mapping.system.transforms import ValueProblem, canonical_literal
from handoff_sync.model import FieldType, Value

# Which operators make sense for which canonical type.
_EQUALITY = ("==", "!=", "in", "not_in", "is_blank", "is_filled")
_ORDERED = (*_EQUALITY, ">", ">=", "<", "<=")
OPERATORS_FOR: Mapping[FieldType, tuple[str, ...]] = {
    FieldType.TEXT: (*_EQUALITY, "contains"),
    FieldType.EMAIL: (*_EQUALITY, "contains"),
    FieldType.DOMAIN: (*_EQUALITY, "contains"),
    FieldType.NUMBER: _ORDERED,
    FieldType.INTEGER: _ORDERED,
    FieldType.DATE: _ORDERED,
    FieldType.DATETIME: _ORDERED,
    FieldType.BOOL: ("==", "!=", "is_true", "is_false", "is_blank", "is_filled"),
    FieldType.TEXT_LIST: ("contains", "is_blank", "is_filled"),
}

Lookup = Callable[[str], Value]


def type_of(value: Value) -> FieldType:
    """The canonical type of a (non-blank) canonical value."""
    if isinstance(value, bool):
        return FieldType.BOOL
    if isinstance(value, int):
        return FieldType.INTEGER
    if isinstance(value, Decimal):
        return FieldType.NUMBER
    if isinstance(value, datetime):
        return FieldType.DATETIME
    if isinstance(value, date):
        return FieldType.DATE
    if isinstance(value, tuple):
        return FieldType.TEXT_LIST
    return FieldType.TEXT


def operand(condition: Condition, field_type: FieldType) -> Any:
    """The condition's value as ``field_type`` (a tuple for in/not_in); raises
    ValueProblem when it cannot be one. Cached on the condition."""
    operands = _operands(condition)
    cached = operands.get(field_type.value, _MISSING)
    if cached is not _MISSING:
        return cached
    raw = condition.value
    item_type = FieldType.TEXT if field_type is FieldType.TEXT_LIST else field_type
    if condition.op in ("in", "not_in"):
        if not isinstance(raw, list) or not raw:
            raise ValueProblem(f"'{condition.op}' needs a non-empty list, e.g. [a, b]")
        result: Any = tuple(canonical_literal(item_type, item) for item in raw)
    elif isinstance(raw, (list, dict)):
        raise ValueProblem(f"'{condition.op}' compares with one value, not a list")
    elif raw is None:
        raise ValueProblem("the value is blank; use op: is_blank / is_filled instead")
    elif condition.op == "contains":
        result = str(canonical_literal(FieldType.TEXT, raw)).casefold()
    else:
        result = canonical_literal(item_type, raw)
    if field_type is FieldType.TEXT and condition.op != "contains":
        result = tuple(v.casefold() for v in result) if isinstance(result, tuple) \
            else result.casefold()
    operands[field_type.value] = result
    return result


def _operands(condition: Condition) -> dict[str, Any]:
    """``condition._operands``, read from the model's private values directly: the
    attribute goes through pydantic's ``__getattr__``, which cost 4% of planning (#20)."""
    private = condition.__pydantic_private__
    assert private is not None  # Condition declares a private attribute
    operands: dict[str, Any] = private["_operands"]
    return operands


_MISSING = object()


def evaluate(condition: Condition, lookup: Lookup) -> bool:
    """Whether the condition holds for the deal behind ``lookup`` (name -> value)."""
    private = condition.__pydantic_private__
    assert private is not None  # Condition declares private attributes
    test: Test | None = private["_compiled"]
    if test is None:
        test = private["_compiled"] = _compile(condition)
    return test(lookup)


# A compiled condition: the gates ask ~25 conditions per deal, and walking the model's
# all/any/not and operator chain each time cost more than the tests themselves.
Test = Callable[[Lookup], bool]


def _compile(condition: Condition) -> Test:
    """The condition as a function of the lookup, with the same answers as walking it."""
    if condition.all is not None or condition.any is not None:
        items = tuple(_compile(item) for item in condition.all or condition.any or ())
        # Loops, not all()/any() of a generator: half the cost on this path.
        if condition.all is not None:
            def every(lookup: Lookup) -> bool:
                for item in items:  # noqa: SIM110
                    if not item(lookup):
                        return False
                return True
            return every

        def some(lookup: Lookup) -> bool:
            for item in items:  # noqa: SIM110
                if item(lookup):
                    return True
            return False
        return some
    if condition.not_ is not None:
        inner = _compile(condition.not_)
        return lambda lookup: not inner(lookup)
    assert condition.field is not None and condition.op is not None
    return _compile_test(condition, condition.field, condition.op)


def _compile_test(condition: Condition, name: str, op: str) -> Test:
    """A field test: the unary operators inline, the others through ``_test``."""
    if op == "is_blank":
        return lambda lookup: lookup(name) is None
    if op == "is_filled":
        return lambda lookup: lookup(name) is not None
    if op == "is_true":
        return lambda lookup: lookup(name) is True
    if op == "is_false":
        return lambda lookup: lookup(name) is False
    return lambda lookup: _test(condition, lookup(name))


def _test(condition: Condition, value: Value) -> bool:
    op = condition.op
    if op == "is_blank":
        return value is None
    if op == "is_filled":
        return value is not None
    if op == "is_true":
        return value is True
    if op == "is_false":
        return value is False
    if value is None:
        return op in ("!=", "not_in")
    expected = operand(condition, type_of(value))
    if isinstance(value, str):
        value = value.casefold()
    if op == "contains":
        if isinstance(value, tuple):
            return any(item.casefold() == expected for item in value)
        # Only text contains text; checks.py allows contains on text types only anyway.
        return isinstance(value, str) and expected in value
    if op == "==":
        return bool(value == expected)
    if op == "!=":
        return bool(value != expected)
    if op == "in":
        return value in expected
    if op == "not_in":
        return value not in expected
    try:
        if op == ">":
            return bool(value > expected)  # type: ignore[operator]
        if op == ">=":
            return bool(value >= expected)  # type: ignore[operator]
        if op == "<":
            return bool(value < expected)  # type: ignore[operator]
        if op == "<=":
            return bool(value <= expected)  # type: ignore[operator]
    except TypeError:  # e.g. a custom field holding text compared with >: not true
        return False
    raise AssertionError(f"unhandled operator {op!r}")


def condition_fields(condition: Condition) -> list[str]:
    """Every canonical field the condition reads."""
    if condition.field is not None:
        return [condition.field]
    children = condition.all or condition.any or ([condition.not_] if condition.not_ else [])
    return [name for child in children for name in condition_fields(child)]


_SAID = {"==": "is", "!=": "is not", "in": "is one of", "not_in": "is none of",
         "contains": "contains", "is_blank": "is blank", "is_filled": "is filled",
         "is_true": "is true", "is_false": "is false"}


def describe_condition(condition: Condition) -> str:
    """The condition in words for people ("custom.region is EMEA and amount >= 100000")."""
    if condition.all is not None or condition.any is not None:
        parts = condition.all if condition.all is not None else condition.any
        joiner = " and " if condition.all is not None else " or "
        return joiner.join(_grouped(part) for part in parts or [])
    if condition.not_ is not None:
        return f"not {_grouped(condition.not_)}"
    assert condition.field is not None and condition.op is not None
    said = _SAID.get(condition.op, condition.op)
    if condition.op in ("is_blank", "is_filled", "is_true", "is_false"):
        return f"{condition.field} {said}"
    value = condition.value
    shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return f"{condition.field} {said} {shown}"


def _grouped(condition: Condition) -> str:
    text = describe_condition(condition)
    return f"({text})" if condition.all is not None or condition.any is not None else text
