"""Turn pydantic's validation errors into problems an admin can act on.

Pydantic reports where (a ``loc``) and what (an error type); this module finds the line
and column of that place, rewrites the message in the file's own terms ("unknown key
'polcy'; did you mean 'policy'?"), and prunes the broken entries so the rest of the file
can still be checked for meaning in the same run.
"""

from __future__ import annotations

import copy
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from handoff_sync.problems.report import KeyPath, Problem, did_you_mean, one_of
from handoff_sync.problems.yaml_source import YamlDocument

M = typing.TypeVar("M", bound=BaseModel)

_MAX_PRUNE_ROUNDS = 4


def validate_document(model: type[M], document: YamlDocument) -> tuple[M | None, list[Problem]]:
    """The validated model, or None; every structural problem of the file either way.

    When entries of lists or mappings are broken, they are dropped and the remainder is
    validated again, so the caller can still check the meaning of the healthy part.
    """
    data = document.data
    problems: list[Problem] = []
    for round_ in range(_MAX_PRUNE_ROUNDS):
        try:
            return model.model_validate(data), problems
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        if round_ == 0:
            problems = [_problem(model, document, error) for error in errors]
        prune = {_prune_point(model, data, error["loc"]) for error in errors}
        if None in prune:
            return None, problems
        data = copy.deepcopy(data)
        for path in sorted(prune, key=len, reverse=True):  # type: ignore[arg-type]
            _remove(data, path)  # type: ignore[arg-type]
    return None, problems


def _problem(model: type[BaseModel], document: YamlDocument, error: Any) -> Problem:
    loc: tuple[Any, ...] = tuple(error["loc"])
    kind: str = error["type"]
    path, at_key = _data_path(document.data, loc)
    annotation = _annotation_at(model, loc)
    value = error.get("input")
    message, hint = _explain(kind, error, loc, value, annotation, model)
    if kind == "extra_forbidden":
        at_key = True
        path = _data_path(document.data, loc)[0]
    return document.problem(path, message, hint, at_key=at_key)


def _explain(kind: str, error: Any, loc: tuple[Any, ...], value: Any, annotation: Any,
             model: type[BaseModel]) -> tuple[str, str]:
    got = describe_value(value)
    if kind == "missing":
        name = str(loc[-1])
        doc = _field_doc(model, loc)
        return (f"missing required key '{name}'" + (f" ({doc})" if doc else ""),
                f"add '{name}:' here; see docs/admin-guide.md")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        hint = did_you_mean(str(loc[-1]), allowed) or (
            f"allowed keys here: {', '.join(sorted(allowed))}" if allowed else "")
        return f"unknown key '{loc[-1]}'", hint
    if kind in ("literal_error", "enum"):
        choices = _choices(annotation)
        hint = did_you_mean(str(value), choices) if isinstance(value, str) else ""
        if "[key]" in loc:
            return (f"'{value}' is not allowed as a key here; expected {one_of(choices)}",
                    hint)
        return f"expected {one_of(choices)}, got {got}", hint
    if kind == "string_type":
        hint = "put the value in quotes" if isinstance(value, (int, float, bool)) else ""
        return f"expected text, got {got}", hint
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {got}", ""
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {got}", ""
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}", ""
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return f"expected a mapping (indented 'key: value' lines), got {got}", ""
    if kind in ("list_type", "tuple_type", "set_type", "frozen_set_type"):
        return f"expected a list ('- item' lines or [a, b]), got {got}", ""
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing",
                "date_from_datetime_inexact"):
        return f"expected a date written like 2026-03-31, got {got}", "put the date in quotes"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = next(iter(error.get("ctx", {}).values()), "?")
        words = {"greater_than": "greater than", "greater_than_equal": "at least",
                 "less_than": "less than", "less_than_equal": "at most"}[kind]
        return f"must be {words} {bound}, got {got}", ""
    if kind in ("too_short", "too_long"):
        ctx = error.get("ctx", {})
        if kind == "too_short":
            return f"needs at least {ctx.get('min_length', 1)} item(s)", ""
        return f"allows at most {ctx.get('max_length')} item(s)", ""
    if kind in ("value_error", "assertion_error"):
        return str(error.get("ctx", {}).get("error", error["msg"])), ""
    return str(error["msg"]), ""


def describe_value(value: Any) -> str:
    """How a YAML value reads to an admin: 'the text "x"', 'a list', 'nothing'."""
    if value is None:
        return "nothing (blank)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {shown!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[KeyPath, bool]:
    """Follow ``loc`` through the data, skipping pydantic's own markers (union tags,
    '[key]'); returns the deepest real path and whether the error is about a key."""
    path: list[str | int] = []
    at_key = False
    node = data
    for part in loc:
        if part == "[key]":
            at_key = True
            continue
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str):
            path.append(part)  # a missing or unknown key: point at it (or its parent)
            node = None
    return tuple(path), at_key


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated/Optional down to the type that holds the structure."""
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            structural = [a for a in options if _is_structural(a)]
            annotation = (structural or options)[0]
        else:
            return annotation


def _is_structural(annotation: Any) -> bool:
    origin = get_origin(annotation)
    return origin in (dict, list, tuple, Literal) or (
        isinstance(annotation, type) and issubclass(annotation, BaseModel))


def _model_field(model: type[BaseModel], key: Any) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def _walk(model: type[BaseModel], loc: tuple[Any, ...]) -> list[tuple[Any, str]]:
    """The annotation reached after each part of ``loc``, with how it was reached:
    'field' (a model key), 'entry' (a value of a dict), 'item' (a list item)."""
    steps: list[tuple[Any, str]] = []
    current: Any = model
    parent_dict: Any = None
    for part in loc:
        current = _unwrap(current)
        origin = get_origin(current)
        if part == "[key]":
            args = get_args(parent_dict) if parent_dict is not None else ()
            steps.append((args[0] if args else Any, "key"))
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = _model_field(current, part)
            if info is None:
                steps.append((Any, "field"))
                current = Any
                continue
            current = info.annotation
            steps.append((current, "field"))
        elif origin is dict:
            parent_dict = current
            current = get_args(current)[1]
            steps.append((current, "entry"))
        elif origin in (list, tuple):
            current = get_args(current)[0]
            steps.append((current, "item"))
        else:
            steps.append((current, "tag"))  # a union tag or function marker: stay put
    return steps


def _annotation_at(model: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    steps = _walk(model, loc)
    return steps[-1][0] if steps else model


def _choices(annotation: Any) -> list[str]:
    annotation = _unwrap(annotation)
    if get_origin(annotation) is Literal:
        return [str(a) for a in get_args(annotation)]
    return []


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    holder = _unwrap(_annotation_at(model, loc)) if loc else model
    if isinstance(holder, type) and issubclass(holder, BaseModel):
        return [info.alias or name for name, info in holder.model_fields.items()]
    return []


def _field_doc(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    holder = _unwrap(_annotation_at(model, loc[:-1])) if len(loc) > 1 else model
    if isinstance(holder, type) and issubclass(holder, BaseModel):
        info = _model_field(holder, loc[-1])
        if info is not None and info.description:
            text = info.description.rstrip(".")
            return text[:1].lower() + text[1:]
    return ""


def _prune_point(model: type[BaseModel], data: Any, loc: tuple[Any, ...]) -> KeyPath | None:
    """The list item or mapping entry to drop so the rest validates; None if the error
    sits in the file's own top-level keys."""
    steps = _walk(model, tuple(p for p in loc if p != "[key]"))
    parts = [p for p in loc if p != "[key]"]
    cut = None
    for index, (_, how) in enumerate(steps):
        if how in ("entry", "item"):
            cut = index
    if cut is None:
        return None
    path, _ = _data_path(data, tuple(parts[: cut + 1]))
    return path if len(path) == cut + 1 - _tags_before(steps, cut) else None


def _tags_before(steps: list[tuple[Any, str]], cut: int) -> int:
    return sum(1 for _, how in steps[: cut + 1] if how == "tag")


def _remove(data: Any, path: KeyPath) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    last = path[-1]
    if isinstance(node, dict):
        node.pop(last, None)
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node.pop(last)
