"""Turn pydantic's validation errors into problems an admin can act on: the one translator.

Pydantic reports where (a ``loc``) and what (an error type). ``explain_error`` turns one
error into the key path the file writes (pydantic's own markers dropped: union tags and
``[key]``, so ``connections.crm.login_url``, not ``connections.crm.salesforce.login_url``),
a message in the file's terms ("unknown key 'polcy'") and a hint, what to do ("did you
mean 'policy'?"). Both YAML files an admin edits go through it: the mappings loader
(``problems.partial.validate_document``, which places each problem at its line and column
and keeps the healthy parts of the file for the checks that follow) and the daemon's
config (``config.errors``, which places each at its line).

Messages describe values (``describe_value``) but a secret never reaches one: the config
parses secrets before pydantic sees a type, and words those errors itself.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from connectors.reading import did_you_mean
from handoff_sync.problems.report import KeyPath, format_path, one_of

ADMIN_GUIDE = "docs/admin-guide.md"


class KeyProblems(ValueError):
    """Raised by a model validator to report problems at keys below the model, e.g.
    ``(("private_key",), "auth jwt_bearer needs private_key")``."""

    def __init__(self, problems: Sequence[tuple[KeyPath, str]]) -> None:
        super().__init__("; ".join(f"{format_path(p)}: {m}" for p, m in problems))
        self.problems = tuple(problems)

    @classmethod
    def one(cls, key: str | KeyPath, message: str) -> KeyProblems:
        return cls([((key,) if isinstance(key, str) else key, message)])


@dataclass(frozen=True, slots=True)
class Explained:
    """One pydantic error in the file's terms."""

    path: KeyPath  # as the file writes it
    message: str  # what is wrong and what was expected
    hint: str = ""  # what to do
    at_key: bool = False  # the key itself is wrong: point at the key, not its value

    @property
    def text(self) -> str:
        """Message and hint as one line, the way a ``Problem`` prints them."""
        return f"{self.message} ({self.hint})" if self.hint else self.message


@dataclass(frozen=True, slots=True)
class Wording:
    """What a caller adds to the shared words: the guide a missing key points to, and
    what each ``pattern=`` of its models means in words."""

    guide: str | None = ADMIN_GUIDE
    patterns: Mapping[str, str] | None = None


MAPPINGS = Wording()
"""The mappings files' words: a missing key points to the admin guide."""


def explain_errors(model: type[BaseModel], error: ValidationError, data: Any,
                   wording: Wording = MAPPINGS) -> list[Explained]:
    """Every error of ``error`` (raised validating ``data`` as ``model``), explained."""
    return [explained for item in shape_fits(error.errors(include_url=False))
            for explained in explain_error(model, item, data, wording)]


_SHAPE_ERRORS = frozenset({"model_type", "model_attributes_type", "dict_type", "list_type"})


def shape_fits(errors: Sequence[Any]) -> list[Any]:
    """Without the errors of a union member the value is not even shaped like (``stop:``
    takes an event or a list of events; a list with a bad event is not "not a mapping"),
    when another member of that union got far enough to report something inside it."""
    def union_prefix(error: Any) -> tuple[Any, ...] | None:
        """Where the union is, for an error saying its value fits one member's shape not."""
        loc = tuple(error["loc"])
        shape = error["type"] in _SHAPE_ERRORS and loc and _is_union_tag(loc[-1])
        return loc[:-1] if shape else None

    deeper = [tuple(e["loc"]) for e in errors if e["type"] not in _SHAPE_ERRORS]
    kept = []
    said: set[tuple[Any, ...]] = set()  # unions whose value was already called misshapen
    for error in errors:
        prefix = union_prefix(error)
        if prefix is None:
            kept.append(error)
            continue
        tag = error["loc"][-1]
        if any(len(loc) > len(prefix) + 1 and loc[:len(prefix)] == prefix
               and _is_union_tag(loc[len(prefix)]) and loc[len(prefix)] != tag
               for loc in deeper):
            continue  # another member fits the shape and says what is wrong inside it
        if prefix not in said:  # fits no member: one message is enough
            said.add(prefix)
            kept.append(error)
    return kept


def _is_union_tag(part: Any) -> bool:
    """pydantic's name for a union member in a loc ("Event", "list[Event]"); our keys are
    lower-case."""
    return isinstance(part, str) and bool(part) and (part[0].isupper() or "[" in part)


def explain_error(model: type[BaseModel], error: Any, data: Any,
                  wording: Wording = MAPPINGS) -> list[Explained]:
    """One pydantic error (an item of ``ValidationError.errors()``) in the file's terms;
    several when a validator reported problems at several keys (``KeyProblems``)."""
    loc: tuple[Any, ...] = tuple(error["loc"])
    steps = walk(model, loc)
    path, at_key = data_path(data, steps)
    kind: str = error["type"]
    value = error.get("input")
    got = describe_value(value)
    ctx = error.get("ctx") or {}
    annotation = steps[-1].annotation if steps else model
    name = str(loc[-1]) if loc else ""
    if kind == "value_error" and isinstance(ctx.get("error"), KeyProblems):
        return [Explained((*path, *sub), message) for sub, message in ctx["error"].problems]
    if kind in ("value_error", "assertion_error"):
        return [Explained(path, str(ctx.get("error", error["msg"])))]
    if kind == "missing":
        doc = _field_doc(steps[-1].holder if steps else None, name)
        hint = f"add '{name}:' here; see {wording.guide}" if wording.guide else ""
        return [Explained(path, f"missing required key '{name}'" + (f": {doc}" if doc else ""),
                          hint)]
    if kind == "extra_forbidden":
        allowed = _keys(steps[-1].holder if steps else model)
        hint = did_you_mean(name, allowed) or (
            f"allowed keys here: {', '.join(allowed)}" if allowed else "")
        return [Explained(path, f"unknown key '{name}'", hint, at_key=True)]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = str(ctx.get("discriminator", "system")).strip("'\"")
        tags = _tags(annotation, key)
        if kind == "union_tag_not_found":
            if not isinstance(value, dict):
                return [Explained(path, "expected a mapping (indented 'key: value' lines), "
                                  f"got {got}")]
            return [Explained((*path, key), f"missing required key '{key}'", one_of(tags))]
        tag = ctx.get("tag")
        return [Explained((*path, key), f"expected {one_of(tags)}, got {describe_value(tag)}",
                          did_you_mean(str(tag), tags))]
    if kind in ("literal_error", "enum"):
        choices = _choices(annotation)
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        expected = one_of(choices) if choices else str(ctx.get("expected", "?"))
        if at_key:
            return [Explained(path, f"'{value}' is not allowed as a key here; expected "
                                    f"{expected}", hint, at_key=True)]
        return [Explained(path, f"expected {expected}, got {got}", hint, at_key=at_key)]
    message, hint = _type_words(kind, error, value, got, ctx, wording)
    return [Explained(path, message, hint, at_key=at_key)]


def _type_words(kind: str, error: Any, value: Any, got: str, ctx: Mapping[str, Any],
                wording: Wording) -> tuple[str, str]:
    """Message and hint for a value of the wrong type, size or shape."""
    if kind == "string_type":
        hint = "put the value in quotes" if isinstance(value, (int, float, bool)) else ""
        return f"expected text, got {got}", hint
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        words = (wording.patterns or {}).get(pattern, f"it must match {pattern}")
        return f"{got} is not allowed here: {words}", ""
    # A str constraint behind a validator function is reported as too_short/too_long.
    if kind == "string_too_short" or (kind == "too_short" and isinstance(value, str)):
        return "must not be empty", ""
    if kind in ("string_too_long", "too_long") and isinstance(value, str) \
            and ctx.get("max_length") == 1:
        return f"must be one character, got {got}", ""
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
    if kind in ("is_instance_of", "path_type"):
        return f"expected a path (text), got {got}", ""
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing",
                "date_from_datetime_inexact"):
        return f"expected a date written like 2026-03-31, got {got}", "put the date in quotes"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = next(iter(ctx.values()), "?")
        bound = f"{bound:g}" if isinstance(bound, float) else bound
        words = {"greater_than": "greater than", "greater_than_equal": "at least",
                 "less_than": "less than", "less_than_equal": "at most"}[kind]
        return f"must be {words} {bound}, got {got}", ""
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length', 1)} item(s)", ""
    if kind == "too_long":
        return f"allows at most {ctx.get('max_length')} item(s)", ""
    if kind == "frozen_instance":
        return "cannot be changed", ""
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


# --- following a loc through the models and the data ---------------------------------------

@dataclass(frozen=True, slots=True)
class Step:
    """One part of a ``loc``: how it was reached and the annotation it leads to."""

    part: Any
    how: Literal["field", "entry", "item", "key", "tag", "other"]
    annotation: Any  # after the part (Annotated and Optional stripped)
    holder: type[BaseModel] | None = None  # for "field": the model that holds the key


def walk(model: type[BaseModel], loc: tuple[Any, ...]) -> list[Step]:
    """Each part of ``loc`` as a step: a model key ("field"), a value of a dict ("entry"),
    a list item ("item"), pydantic's "[key]" marker ("key"), a union's tag ("tag"), or a
    part beyond the structure the models describe ("other")."""
    steps: list[Step] = []
    current: Any = model
    key_type: Any = Any
    for part in loc:
        current = _strip(current)
        origin = get_origin(current)
        if part == "[key]":
            steps.append(Step(part, "key", key_type))
        elif origin in (Union, types.UnionType):  # pydantic names the member it tried
            current = _union_member(current, part)
            steps.append(Step(part, "tag", current))
        elif _is_model(current):
            holder = current
            info = _model_field(holder, part)
            current = _strip(info.annotation) if info is not None else Any
            steps.append(Step(part, "field", current, holder))
        elif origin is dict or origin is Mapping:
            args = get_args(current)
            key_type, current = (args[0], _strip(args[1])) if args else (Any, Any)
            steps.append(Step(part, "entry", current))
        elif origin in (list, tuple, set, frozenset):
            args = get_args(current)
            current = _strip(args[0]) if args else Any
            steps.append(Step(part, "item", current))
        else:
            current = Any
            steps.append(Step(part, "other", current))
    return steps


def data_path(data: Any, steps: Sequence[Step]) -> tuple[KeyPath, bool]:
    """Follow the steps through the data, skipping pydantic's own markers; returns the
    deepest real path and whether the error is about a key."""
    path: list[str | int] = []
    at_key = False
    node = data
    for step in steps:
        part = step.part
        if step.how == "key":
            at_key = True
            continue
        if step.how == "tag":
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


def _strip(annotation: Any) -> Any:
    """Annotated[X, ...] -> X and X | None -> X; a union of several types stays one."""
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
    """The member of a union that pydantic's ``tag`` names: the model whose Literal field
    accepts it (a tagged union), or the model of that name; Any when none does."""
    for member in get_args(annotation):
        args = get_args(member)
        if get_origin(member) is list and args and _is_model(args[0]) \
                and tag == f"list[{args[0].__name__}]":
            return member  # a list of models (e.g. stop: one event or a list of them)
        if not _is_model(member):
            continue
        if member.__name__ == tag:
            return member
        for info in member.model_fields.values():
            inner = _strip(info.annotation)
            if get_origin(inner) is Literal and tag in get_args(inner):
                return member
    return Any


def _model_field(model: type[BaseModel], key: Any) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def _keys(holder: type[BaseModel] | None) -> list[str]:
    """The keys a model allows, as the file writes them, in the order the model (and the
    documentation) declares them."""
    if holder is None:
        return []
    return [info.alias or name for name, info in holder.model_fields.items()]


def _field_doc(holder: type[BaseModel] | None, key: str) -> str:
    info = _model_field(holder, key) if holder is not None else None
    text = (info.description or "").strip().rstrip(".") if info is not None else ""
    return text[:1].lower() + text[1:]


def _choices(annotation: Any) -> list[str]:
    annotation = _strip(annotation)
    if get_origin(annotation) is Literal:
        return [str(a) for a in get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [str(member.value) for member in annotation]
    return []


def _tags(annotation: Any, key: str) -> list[str]:
    """The values a tagged union's ``key`` accepts, in declaration order."""
    tags: list[str] = []
    for member in get_args(_strip(annotation)):
        info = member.model_fields.get(key) if _is_model(member) else None
        if info is not None and get_origin(_strip(info.annotation)) is Literal:
            tags.extend(str(t) for t in get_args(_strip(info.annotation)))
    return tags
