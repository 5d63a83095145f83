"""Validate a file's structure part by part, so the healthy parts can still be checked.

One wrong key must not hide every other problem of a mappings folder: a gate naming a
field the system files do not map should show up in the same run as a typo in a system
file. ``validate_document`` therefore reports every structural problem of the file and
also returns what could be made of the rest:

- a broken entry of a mapping or item of a list is left out and the remainder validated
  again (a field map with a misspelt key does not take its neighbours with it);
- a model the caller names in ``parts`` (the file's top level, a handoff type, a stage)
  is instead built from its keys validated one by one: a broken key is left out (its
  default applies, or the caller's stand-in for a required key), so ``tasks:`` being
  wrong keeps ``fields:`` usable and a stage's misspelt owner keeps its gate checked.

What was left out is returned as ``Gaps`` (paths as the file writes them). Checks that
need a part that did not load ask ``gaps.lost(path)`` and say nothing: a problem that
only follows from another one is noise, and often false ("no mapping provides 'amount'"
when amount's entry merely has a typo). A model built from parts skips its own model
validators and holds stand-ins: it is for those checks only, never for syncing.
"""

from __future__ import annotations

import copy
import functools
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from handoff_sync.problems.pydantic_errors import (
    MAPPINGS,
    Wording,
    data_path,
    explain_error,
    shape_fits,
    walk,
)
from handoff_sync.problems.report import KeyPath, Problem
from handoff_sync.problems.yaml_source import YamlDocument

M = typing.TypeVar("M", bound=BaseModel)

_MAX_PRUNE_ROUNDS = 6


@dataclass(frozen=True)
class Gaps:
    """The parts of a file left out because they are broken (paths as the file writes
    them, list items by their index in the file)."""

    paths: frozenset[KeyPath] = frozenset()

    def lost(self, path: KeyPath) -> bool:
        """``path``, or a part holding it, was left out: what is there is unknown."""
        return any(path[:len(gap)] == gap for gap in self.paths)

    def whole(self, path: KeyPath = ()) -> bool:
        """Nothing at or below ``path`` was left out (nor a part holding it)."""
        return not any(gap[:len(path)] == path or path[:len(gap)] == gap
                       for gap in self.paths)

    def in_file(self, path: KeyPath) -> KeyPath:
        """A path into the model built from the file as the file writes it: the model's
        lists hold only the items that loaded, so its indices can be smaller."""
        out: list[str | int] = []
        for part in path:
            if isinstance(part, int):
                index, left = -1, part
                while left >= 0:
                    index += 1
                    if (*out, index) not in self.paths:
                        left -= 1
                part = index
            out.append(part)
        return tuple(out)

    def __bool__(self) -> bool:
        return bool(self.paths)


NO_GAPS = Gaps()


@dataclass(frozen=True)
class Validated(Generic[M]):
    """What ``validate_document`` made of a file."""

    model: M | None  # None: not even a partial model (a required key with no stand-in)
    problems: list[Problem]  # every structural problem of the file
    gaps: Gaps = NO_GAPS  # what ``model`` leaves out


Parts = Mapping[type[BaseModel], Mapping[str, Any]]
"""Models built key by key when broken, each with stand-ins for its required keys (by
field name); a required key that is broken and has no stand-in leaves the entry out."""


def validate_document(model: type[M], document: YamlDocument, wording: Wording = MAPPINGS,
                      parts: Parts | None = None) -> Validated[M]:
    """The file validated as ``model``: every structural problem, and the model of the
    parts that are valid (see the module docstring); its model is None when it cannot
    be built (``model`` not in ``parts``, or a required key with no stand-in)."""
    try:
        return Validated(model.model_validate(document.data), [])
    except ValidationError as exc:
        errors = shape_fits(exc.errors(include_url=False))
    problems = [document.problem(e.path, e.message, e.hint, at_key=e.at_key)
                for error in errors for e in explain_error(model, error, document.data, wording)]
    pruner = _Pruner(parts or {})
    built = pruner.validate(model, document.data)
    if built is None and model in pruner.parts:
        pruner = _Pruner(pruner.parts)
        built = pruner.by_key(model, document.data)
    return Validated(built, problems, Gaps(frozenset(pruner.dropped)))


@functools.cache
def _one_key_model(model: type[BaseModel], name: str) -> type[BaseModel]:
    """A model holding only ``model``'s field ``name``, with the same settings."""
    config = ConfigDict(**model.model_config)
    config.pop("use_attribute_docstrings", None)  # reads source code; the docs are copied
    info = model.model_fields[name]
    fields: dict[str, Any] = {name: (info.annotation, info)}
    return create_model(f"{model.__name__}.{name}", __config__=config, **fields)


class _Pruner:
    """Validates copies of a file's data with broken entries and items removed (or built
    from parts); remembers what it left out, as paths of the file's data."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.dropped: set[KeyPath] = set()
        self._kept: dict[KeyPath, list[int]] = {}  # list (original path) -> items left

    def validate(self, model: type[M], data: Any, base: KeyPath = ()) -> M | None:
        """``data`` (found at ``base`` of the current data) as ``model``, leaving out
        broken entries and items; None if an error sits outside any entry or item."""
        for _ in range(_MAX_PRUNE_ROUNDS):
            try:
                return model.model_validate(data)
            except ValidationError as exc:
                errors = exc.errors(include_url=False)
            found = {_prune_point(model, data, tuple(error["loc"])) for error in errors}
            cuts = [cut for cut in found if cut is not None]
            if len(cuts) < len(found):
                return None
            data = copy.deepcopy(data)
            # Deepest and last first, so the indices of what is still to cut stay true.
            for path, entry_model in sorted(cuts, key=lambda c: _order(c[0]), reverse=True):
                built = (self.by_key(entry_model, _get(data, path), (*base, *path))
                         if entry_model in self.parts else None)
                if built is not None:
                    _set(data, path, built)
                else:
                    self._remove(data, path, base)
        return None

    def by_key(self, model: type[M], data: Any, base: KeyPath = ()) -> M | None:
        """``model`` built from its keys validated one at a time; a broken key is left
        out (its default applies, or a stand-in)."""
        if not isinstance(data, dict):
            return None
        stand_ins = self.parts.get(model, {})
        values: dict[str, Any] = {}
        for name, info in model.model_fields.items():
            key = info.alias or name
            if key in data:
                one = self.validate(_one_key_model(model, name), {key: data[key]}, base)
                if one is not None:
                    values[name] = getattr(one, name)
                    continue
            if key in data or info.is_required():
                self.dropped.add(self._original((*base, key)))
            if info.is_required():
                if name not in stand_ins:
                    return None
                values[name] = copy.copy(stand_ins[name])  # never shared
        return model.model_construct(**values)

    def _remove(self, data: Any, path: KeyPath, base: KeyPath) -> None:
        where = self._original((*base, *path))
        self.dropped.add(where)
        node = _get(data, path[:-1])
        last = path[-1]
        if isinstance(node, dict):
            node.pop(last, None)
        elif isinstance(node, list) and isinstance(last, int) and last < len(node):
            node.pop(last)
            kept = self._kept.get(where[:-1])
            if kept is None:
                kept = self._kept[where[:-1]] = list(range(len(node) + 1))
            kept.pop(last)

    def _original(self, path: KeyPath) -> KeyPath:
        """``path`` in the pruned data as a path in the file's data."""
        out: list[str | int] = []
        for part in path:
            if isinstance(part, int):
                kept = self._kept.get(tuple(out))
                part = kept[part] if kept is not None and part < len(kept) else part
            out.append(part)
        return tuple(out)


def _get(data: Any, path: KeyPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: KeyPath, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _order(path: KeyPath) -> tuple[tuple[bool, Any], ...]:
    return tuple((isinstance(part, int), part) for part in path)


def _prune_point(model: type[BaseModel], data: Any,
                 loc: tuple[Any, ...]) -> tuple[KeyPath, Any] | None:
    """The list item or mapping entry to leave out so the rest validates, and the type
    it should have been; None if the error sits outside every entry and item."""
    steps = walk(model, loc)
    cut = max((i for i, step in enumerate(steps) if step.how in ("entry", "item")),
              default=None)
    if cut is None:
        return None
    wanted = [step for step in steps[: cut + 1] if step.how not in ("key", "tag")]
    path, _ = data_path(data, steps[: cut + 1])
    return (path, steps[cut].annotation) if len(path) == len(wanted) else None
