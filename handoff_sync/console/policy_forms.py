"""The /policy forms as changes to handoff.yaml: each input names the key path it edits.

An input is named ``f:<kind>:<path>``, the path's keys joined by ``/`` (list indexes as
numbers), e.g. ``f:num:handoff_types/partner_to_direct/stages/0/gate/2/weight``. The kind
says how the text becomes a YAML value: text, num, list (comma separated), dates (comma
separated YYYY-MM-DD), for a duration ``unit`` and ``amount`` inputs at its path, and for
a condition ``cfield``/``cop``/``cvalue`` boxes and a ``cond`` YAML box at its path
(policy_conditions.py). Only values that differ from the file become changes, so an
untouched form changes no line; a blank optional input removes its key.

A path through the index one past a list's end is a new item: its inputs together make
one item (left out when they are all blank), appended, or put before the item that
``at:<list path>`` names (routing rules: the first that routes a deal wins, so where a
rule goes matters). An ``anchor:<path>`` input changes nothing: it says the form
shows the messages about the thing at ``path`` (a rule with two owners, a stage with no
gate) at its placeholder. ``remove`` names a path to delete (a requirement, rule or task
template); the rest of the form is then ignored.

Parsing is pure: the file's current data in, ``yaml_edit.Change``s and a one-line summary
for the audit log out. Input the YAML cannot hold (a word where a number goes) is left
as text: the check then reports it at its field with `mappings validate`'s own message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from handoff_sync.console.policy_conditions import (
    BOX_KEYS,
    ConditionTextError,
    from_boxes,
    from_yaml,
)
from handoff_sync.console.yaml_edit import DELETE, Change
from handoff_sync.errors import UserError
from handoff_sync.problems.report import KeyPath, Problem, format_path

DURATION_UNITS = ("hours", "business_hours", "days", "business_days")
KINDS = ("text", "num", "list", "dates", "unit", "amount", *BOX_KEYS, "cond")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FormError(UserError):
    """A form that names no path this page makes (tampered or out of date)."""

    hint = "reload the page: the form may be older than the file"


@dataclass(frozen=True)
class _Renumbered:
    """A list whose items moved by this change: problems the check finds at the changed
    file's indexes go to the inputs of the form's (drawn from the file before)."""

    list_path: KeyPath
    index: int  # where an item went in, or the one removed
    end: int  # the list's length before: the new item's inputs are at this index
    inserted: bool

    def form_index(self, index: int) -> int:
        if not self.inserted:
            return index + 1 if index >= self.index else index
        if index == self.index:
            return self.end
        return index - 1 if index > self.index else index


@dataclass
class FormChanges:
    changes: list[Change] = field(default_factory=list)
    described: list[str] = field(default_factory=list)  # one phrase per change
    fields: list[str] = field(default_factory=list)  # every input's path id, for errors
    errors: dict[str, str] = field(default_factory=dict)  # path id -> what is wrong there
    renumbered: list[_Renumbered] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return "handoff.yaml: " + "; ".join(self.described) if self.described else ""

    def form_path(self, path: KeyPath) -> KeyPath:
        """The path of the input a problem at ``path`` of the changed file belongs to."""
        for moved in self.renumbered:
            size = len(moved.list_path)
            index = path[size] if len(path) > size else None
            if path[:size] == moved.list_path and isinstance(index, int):
                return (*moved.list_path, moved.form_index(index), *path[size + 1:])
        return path


def path_id(path: Iterable[str | int]) -> str:
    """A key path as inputs and error placeholders name it."""
    return "/".join(str(key) for key in path)


def element_id(path: str) -> str:
    """An HTML id for an input's path (letters, digits, _ and -, so CSS selectors work)."""
    return "p-" + re.sub(r"[^A-Za-z0-9_]", "-", path)


def parse_path(text: str) -> KeyPath:
    if not text or any(not part for part in text.split("/")):
        raise FormError(f"{text!r} is not a key path")
    return tuple(int(part) if part.isdigit() else part for part in text.split("/"))


def at(data: Any, path: KeyPath) -> Any:
    """The value at ``path`` in plain loaded data, None when absent."""
    node = data
    for key in path:
        in_list = isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)
        if in_list or (isinstance(node, dict) and key in node):
            node = node[key]
        else:
            return None
    return node


def form_changes(data: Any, form: Mapping[str, str]) -> FormChanges:
    """The changes one submitted form makes to the file's ``data``."""
    out = FormChanges()
    values: dict[KeyPath, Any] = {}
    durations: dict[KeyPath, dict[str, str]] = {}
    conditions: dict[KeyPath, dict[str, str]] = {}
    seen: dict[KeyPath, int] = {}  # a new item's keys go in the order of its inputs
    for name, raw in form.items():
        if name.startswith("f:"):
            _, kind, where = name.split(":", 2)
            if kind not in KINDS:
                raise FormError(f"unknown input kind {kind!r}")
            path = parse_path(where)
            if kind in ("unit", "amount"):
                durations.setdefault(path, {})[kind] = raw.strip()
            elif kind in (*BOX_KEYS, "cond"):
                conditions.setdefault(path, {})[kind] = raw
            else:
                values[path] = _value(kind, raw)
        elif name.startswith("anchor:"):
            path = parse_path(name.removeprefix("anchor:"))  # messages about a whole item
        else:
            continue
        out.fields.append(path_id(path))
        seen.setdefault(path, len(seen))
    for path, parts in sorted(durations.items(), key=lambda item: path_id(item[0])):
        unit = parts.get("unit", "")
        if unit not in DURATION_UNITS:
            raise FormError(f"{format_path(path)}: unknown duration unit {unit!r}")
        amount = _number(parts.get("amount", ""))
        values[path] = None if amount is None else {unit: amount}
    for path, parts in conditions.items():
        try:
            values.update(_condition(data, path, parts))
        except ConditionTextError as exc:
            out.errors[path_id(path)] = str(exc)
    items: dict[KeyPath, dict[str, Any]] = {}
    for path, value in sorted(values.items(), key=lambda item: seen.get(item[0], len(seen))):
        new = _new_item(data, path)
        if new is None:
            _set(out, data, path, value)
        elif value is not None:
            _put(items.setdefault(new[0], {}), new[1], value)
    for list_path, item in items.items():
        _add(out, data, list_path, item, form.get("at:" + path_id(list_path), ""))
    if "remove" in form:
        _remove(out, data, parse_path(form["remove"]))
    return out


def _new_item(data: Any, path: KeyPath) -> tuple[KeyPath, KeyPath] | None:
    """(the list's path, the path inside the new item) when ``path`` goes through the
    index one past a list's end (0 of a list not there yet); None for a path in the file."""
    node = data
    for depth, key in enumerate(path):
        if isinstance(key, int):
            size = len(node) if isinstance(node, list) else 0 if node is None else -1
            if key == size:
                return path[:depth], path[depth + 1:]
            if not isinstance(node, list) or not 0 <= key < len(node):
                raise FormError(f"{format_path(path[:depth + 1])} is not in the file")
            node = node[key]
        else:
            node = node.get(key) if isinstance(node, dict) else None
    return None


def _put(item: dict[str, Any], path: KeyPath, value: Any) -> None:
    if not path or any(not isinstance(key, str) for key in path):
        raise FormError(f"{format_path(path)} is not a key of a new item")
    for key in path[:-1]:
        item = item.setdefault(str(key), {})
    item[str(path[-1])] = value


def _add(out: FormChanges, data: Any, list_path: KeyPath, item: dict[str, Any],
         position: str) -> None:
    existing = at(data, list_path)
    end = len(existing) if isinstance(existing, list) else 0
    index = end
    if position.strip() and position.strip() != "end":
        if not position.strip().isdigit() or not 0 <= int(position) <= end:
            raise FormError(f"{format_path(list_path)}: no position {position!r}")
        index = int(position)
    out.changes.append(Change((*list_path, index), item, insert=index < end))
    where = f" as number {index + 1} of {end + 1}" if index < end else ""
    out.described.append(f"{format_path(list_path)}: added {_shown(item)}{where}")
    if index < end:
        out.renumbered.append(_Renumbered(list_path, index, end, inserted=True))


def _remove(out: FormChanges, data: Any, path: KeyPath) -> None:
    current = at(data, path)
    if current is None:
        raise FormError(f"{format_path(path)} is not in the file (reload the page)")
    out.changes = [Change(path, DELETE)]
    out.described = [f"{format_path(path)}: removed {_shown(current)}"]
    out.errors = {}
    if path and isinstance(path[-1], int):
        out.renumbered = [_Renumbered(path[:-1], path[-1], len(at(data, path[:-1])),
                                      inserted=False)]
    else:
        out.renumbered = []


def _condition(data: Any, path: KeyPath, parts: Mapping[str, str]
               ) -> dict[KeyPath, Any]:
    """The values a condition's boxes and YAML box set: the boxes' field test key by key
    over a field test in the file (its line keeps its layout), else the whole condition."""
    current = at(data, path) if _new_item(data, path) is None else None
    boxes = from_boxes(parts) if any(key in parts for key in BOX_KEYS) else current
    typed = from_yaml(parts["cond"]) if "cond" in parts else current
    boxes_changed, typed_changed = not _same(current, boxes), not _same(current, typed)
    if boxes_changed and typed_changed and not _same(boxes, typed):
        raise ConditionTextError("changed both in the boxes and as YAML: change it in one "
                                 "of them (reload the page to start again)")
    value = typed if typed_changed else boxes
    if not (boxes_changed or typed_changed):
        return {}
    keys = ("field", "op", "value")
    if isinstance(current, dict) and isinstance(value, dict) and current and value and \
            set(current) <= set(keys) and set(value) <= set(keys):
        return {(*path, key): value.get(key) for key in keys}
    return {path: value}


def _set(out: FormChanges, data: Any, path: KeyPath, value: Any) -> None:
    current = at(data, path)
    if value is None:
        if current is not None and current != []:
            out.changes.append(Change(path, DELETE))
            out.described.append(f"{format_path(path)}: removed {_shown(current)}")
        return
    if _same(current, value):
        return
    out.changes.append(Change(path, value))
    out.described.append(f"{format_path(path)}: {_shown(current)} -> {_shown(value)}")


def _value(kind: str, raw: str) -> Any:
    text = raw.replace("\r\n", "\n")
    if kind == "text":
        return text if text.strip() else None
    if kind == "num":
        return _number(text)
    items = [item.strip() for item in text.replace("\n", ",").split(",") if item.strip()]
    if not items:
        return None  # an empty list and no key are the same to the policy (a default)
    if kind == "dates":
        return [_date(item) for item in items]
    return items


def _number(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        return text  # the check names the field and says a number goes there
    return int(number) if number.is_integer() else number


def _date(text: str) -> Any:
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    return text  # the check reports it as `mappings validate` does


def _same(current: Any, value: Any) -> bool:
    if isinstance(current, dict) and isinstance(value, dict):
        return {str(k): _plain(v) for k, v in current.items()} == \
            {str(k): _plain(v) for k, v in value.items()}
    return _plain(current) == _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return value.replace("\r\n", "\n").rstrip("\n") if "\n" in value else value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return float(value)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_shown(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def problems_by_field(problems: Iterable[Problem], fields: Iterable[str],
                      form_path: Callable[[KeyPath], KeyPath] = lambda path: path,
                      ) -> tuple[dict[str, list[Problem]], list[Problem]]:
    """Each problem at the input whose path is the longest prefix of the problem's (a
    duration's unit and amount share the duration's path; ``form_path`` maps the changed
    file's list indexes to the form's); the rest for the form's top."""
    known = sorted(set(fields), key=len, reverse=True)
    placed: dict[str, list[Problem]] = {}
    rest: list[Problem] = []
    for problem in problems:
        where = path_id(form_path(problem.path))
        target = next((f for f in known if where == f or where.startswith(f + "/")), None)
        if target is None:
            rest.append(problem)
        else:
            placed.setdefault(target, []).append(problem)
    return placed, rest
