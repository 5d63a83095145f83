"""Config problems as an operator reads them: ``file:line: key.path: what is wrong``.

Pydantic says where (a ``loc``) and what (an error type); this module finds the line of
that place in the YAML, names the key the way the file writes it (union tags and other
pydantic markers are dropped: ``connections.crm.login_url``, not
``connections.crm.salesforce.login_url``) and rewrites the message in the file's terms.
Secrets are never repeated: messages only describe values of non-secret keys.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from handoff_sync.errors import ConfigError
from handoff_sync.problems.pydantic_errors import describe_value
from handoff_sync.problems.report import KeyPath, did_you_mean, format_path, one_of
from handoff_sync.problems.yaml_source import SourceMap

__all__ = ["ConfigError", "ConfigProblem", "KeyProblems", "line_of", "validation_problems"]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with the config file."""

    file: Path
    line: int  # 1-based
    path: KeyPath
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {format_path(self.path)}: {self.message}"

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return (self.line, format_path(self.path), self.message)


class KeyProblems(ValueError):
    """Raised by a model validator to report problems at keys below the model, e.g.
    ``(("private_key",), "auth jwt_bearer needs private_key")``."""

    def __init__(self, problems: Sequence[tuple[KeyPath, str]]) -> None:
        super().__init__("; ".join(f"{format_path(p)}: {m}" for p, m in problems))
        self.problems = tuple(problems)

    @classmethod
    def one(cls, key: str | KeyPath, message: str) -> KeyProblems:
        return cls([((key,) if isinstance(key, str) else key, message)])


def line_of(source: SourceMap, path: KeyPath) -> int:
    """The 1-based line of the key at ``path`` (or its value, for list items), else of the
    nearest ancestor that is written in the file."""
    probe = tuple(path)
    while True:
        for table in (source.keys, source.values):
            if probe in table:
                return table[probe][0] + 1
        if not probe:
            return 1
        probe = probe[:-1]


def validation_problems(model: type[BaseModel], error: ValidationError, file: Path,
                        source: SourceMap) -> list[ConfigProblem]:
    """Every pydantic error of ``error`` as a ConfigProblem at its key and line."""
    problems: list[ConfigProblem] = []
    for item in error.errors(include_url=False):
        path, holder, annotation = _walk(model, tuple(item["loc"]))
        for where, message in _explain(item, path, holder, annotation):
            problems.append(ConfigProblem(file, line_of(source, where), where, message))
    return problems


def _strip(annotation: Any) -> Any:
    """Annotated[X, ...] -> X and X | None -> X."""
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _union_member(annotation: Any, tag: Any) -> Any:
    """The model of a tagged union whose Literal field accepts ``tag``, or None."""
    if get_origin(annotation) not in (Union, types.UnionType):
        return None
    for member in get_args(annotation):
        if not _is_model(member):
            continue
        for info in member.model_fields.values():
            inner = _strip(info.annotation)
            if get_origin(inner) is Literal and tag in get_args(inner):
                return member
    return None


def _walk(model: type[BaseModel],
          loc: tuple[Any, ...]) -> tuple[KeyPath, type[BaseModel] | None, Any]:
    """The key path the file writes for ``loc``, the model holding its last key, and the
    annotation of that key."""
    path: list[str | int] = []
    holder: type[BaseModel] | None = None
    current: Any = model
    for part in loc:
        current = _strip(current)
        if part == "[key]":
            continue
        member = _union_member(current, part)
        if member is not None:  # pydantic's union tag: the file does not write it
            current = member
            continue
        path.append(part)
        if _is_model(current):
            holder = current
            info = current.model_fields.get(str(part))
            current = info.annotation if info is not None else Any
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) in (list, tuple):
            current = get_args(current)[0]
        else:
            current = Any
    return tuple(path), holder, _strip(current)


def _tags(annotation: Any, key: str) -> list[str]:
    """The values a tagged union's ``key`` accepts, in declaration order."""
    tags: list[str] = []
    for member in get_args(annotation):
        info = member.model_fields.get(key) if _is_model(member) else None
        if info is not None and get_origin(_strip(info.annotation)) is Literal:
            tags.extend(str(t) for t in get_args(_strip(info.annotation)))
    return tags


def _allowed(holder: type[BaseModel] | None) -> list[str]:
    return list(holder.model_fields) if holder is not None else []


def _doc(holder: type[BaseModel] | None, name: str) -> str:
    info = holder.model_fields.get(name) if holder is not None else None
    text = (info.description or "").strip().rstrip(".") if info is not None else ""
    return text[:1].lower() + text[1:]


def _explain(item: Any, path: KeyPath, holder: type[BaseModel] | None,
             annotation: Any) -> list[tuple[KeyPath, str]]:
    kind: str = item["type"]
    value = item.get("input")
    got = describe_value(value)
    ctx = item.get("ctx") or {}
    name = str(path[-1]) if path else ""
    if kind == "value_error" and isinstance(ctx.get("error"), KeyProblems):
        return [((*path, *sub), message) for sub, message in ctx["error"].problems]
    if kind in ("value_error", "assertion_error"):
        return [(path, str(ctx.get("error", item["msg"])))]
    if kind == "missing":
        doc = _doc(holder, name)
        return [(path, f"missing required key '{name}'" + (f": {doc}" if doc else ""))]
    if kind == "extra_forbidden":
        allowed = _allowed(holder)
        near = did_you_mean(name, allowed)
        return [(path, f"unknown key '{name}'" + (f" ({near})" if near else "")
                 + (f"; allowed keys here: {', '.join(allowed)}" if allowed else ""))]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = str(ctx.get("discriminator", "system")).strip("'\"")
        tags = _tags(annotation, key)
        if kind == "union_tag_not_found":
            if not isinstance(value, dict):
                return [(path, f"expected a mapping (indented 'key: value' lines), got {got}")]
            return [((*path, key), f"missing required key '{key}' ({one_of(tags)})")]
        near = did_you_mean(str(ctx.get("tag")), tags)
        return [((*path, key), f"expected {one_of(tags)}, got "
                 f"{describe_value(ctx.get('tag'))}" + (f" ({near})" if near else ""))]
    if kind == "literal_error":
        choices = [str(c) for c in get_args(annotation)] if get_origin(annotation) is Literal \
            else []
        near = did_you_mean(value, choices) if isinstance(value, str) else ""
        expected = one_of(choices) if choices else str(ctx.get("expected", "?"))
        return [(path, f"expected {expected}, got {got}" + (f" ({near})" if near else ""))]
    return [(path, _type_message(kind, item, value, got, ctx))]


def _type_message(kind: str, item: Any, value: Any, got: str, ctx: dict[str, Any]) -> str:
    if kind == "string_type":
        quote = " (put the value in quotes)" if isinstance(value, (int, float, bool)) else ""
        return f"expected text, got {got}{quote}"
    if kind == "string_pattern_mismatch":
        return f"{got} is not allowed here: use lowercase letters, digits, '_' and '-'"
    if kind == "string_too_short":
        return "must not be empty"
    if kind in ("string_too_long", "too_long") and ctx.get("max_length") == 1:
        return f"must be one character, got {got}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected a whole number, got {got}"
    if kind in ("float_type", "float_parsing"):
        return f"expected a number, got {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}"
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return f"expected a mapping (indented 'key: value' lines), got {got}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list ('- item' lines or [a, b]), got {got}"
    if kind in ("is_instance_of", "path_type"):
        return f"expected a path (text), got {got}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = next(iter(ctx.values()), "?")
        bound = f"{bound:g}" if isinstance(bound, float) else bound
        words = {"greater_than": "greater than", "greater_than_equal": "at least",
                 "less_than": "less than", "less_than_equal": "at most"}[kind]
        return f"must be {words} {bound}, got {got}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length', 1)} item(s)"
    if kind == "frozen_instance":
        return "cannot be changed"
    return str(item["msg"])
