"""One entry of a system file, checked piece by piece: its transform, value map and the
literal values it writes (constants, defaults, value-map targets).

Shared by every section that maps a system field to a canonical one (``fields:``,
``outputs:``, task attributes, the PRM's ``partners:``); each piece reports its problems
with the entry's file position and returns None for what it could not make sense of.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from handoff_sync.mapping.system.transforms import (
    DEFAULT_TRANSFORM,
    TRANSFORMS,
    Transform,
    ValueProblem,
    canonical_literal,
)
from handoff_sync.model import FieldType, Value
from handoff_sync.problems.report import KeyPath, Problem, one_of
from handoff_sync.problems.yaml_source import YamlDocument


def entry_transform(document: YamlDocument, path: KeyPath, name: str | None,
                    values: Mapping[str, Any] | None, field_type: FieldType | None,
                    problems: list[Problem], *, write_only: bool = False) -> Transform | None:
    """The entry's transform (named, or the natural one for ``field_type``), if it suits
    the field and the value map; None, with a problem, if not."""
    if name is None:
        default_name = DEFAULT_TRANSFORM[field_type] if field_type else "text"
        if values is not None and field_type is not FieldType.TEXT_LIST:
            default_name = "text"
        return TRANSFORMS[default_name]
    transform = TRANSFORMS[name]
    if values is not None and name not in ("text", "multi_select"):
        problems.append(document.problem((*path, "transform"), f"transform '{name}' cannot "
                                         "be combined with a value map ('values')",
                                         "remove 'transform'; the value map decides"))
        return None
    if field_type is None or values is not None:
        return transform
    fits = transform.produces is field_type or (
        write_only and field_type is FieldType.DATETIME and name == "date")
    if not fits:
        suitable = [n for n, t in TRANSFORMS.items() if t.produces is field_type]
        problems.append(document.problem(
            (*path, "transform"), f"transform '{name}' produces {transform.produces.value}, "
            f"but this field holds {field_type.value}",
            f"use {one_of(suitable)}" if suitable else ""))
        return None
    return transform


def value_map(document: YamlDocument, path: KeyPath, values: Mapping[str, Any] | None,
              field_type: FieldType, *, writes: bool, problems: list[Problem],
              ) -> tuple[Mapping[str, Value] | None, Mapping[Value, str] | None]:
    """The value map typed (system value -> canonical value) and inverted for writing;
    a written field's map must not send two system values to one canonical value."""
    if values is None:
        return None, None
    if not values:
        problems.append(document.problem((*path, "values"), "the value map is empty",
                                         "list 'system value: canonical value' pairs, or "
                                         "remove 'values'"))
        return None, None
    item_type = FieldType.TEXT if field_type is FieldType.TEXT_LIST else field_type
    typed: dict[str, Value] = {}
    inverse: dict[Value, str] = {}
    for key, raw in values.items():
        target = literal(document, (*path, "values", key), item_type, raw, problems)
        if target is None:
            continue
        typed[key] = target
        if target in inverse and writes:
            problems.append(document.problem(
                (*path, "values", key), f"'{inverse[target]}' and '{key}' both map to "
                f"{target!r}, so handoff-sync cannot tell which to write back",
                "keep one, or make the field direction: read"))
        inverse.setdefault(target, key)
    return MappingProxyType(typed), MappingProxyType(inverse)


def literal(document: YamlDocument, path: KeyPath, field_type: FieldType, raw: Any,
            problems: list[Problem]) -> Value:
    """``raw`` as a canonical value of ``field_type``; None, with a problem, if it is not."""
    if raw is None:
        problems.append(document.problem(path, "a value is missing here",
                                         f"write a {field_type.value} value"))
        return None
    try:
        return canonical_literal(field_type, raw)
    except ValueProblem as exc:
        problems.append(document.problem(path, f"not a valid {field_type.value}: {exc}"))
        return None
