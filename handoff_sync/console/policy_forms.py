"""The /policy forms as changes to handoff.yaml: each input names the key path it edits.

An input is named ``f:<kind>:<path>``, the path's keys joined by ``/`` (list indexes as
numbers), e.g. ``f:num:handoff_types/partner_to_direct/stages/0/gate/2/weight``. The kind
says how the text becomes a YAML value: text, num, list (comma separated), dates (comma
separated YYYY-MM-DD) and, for a duration, ``unit`` and ``amount`` inputs at its path.
Only values that differ from the file become changes, so an untouched form changes no
line; a blank optional input removes its key. ``remove`` names a path to delete (a gate
requirement) and ``add:<key>:<path>`` inputs make one new list item at ``path``.

Parsing is pure: the file's current data in, ``yaml_edit.Change``s and a one-line summary
for the audit log out. Input the YAML cannot hold (a word where a number goes) is left
as text: the check then reports it at its field with `mappings validate`'s own message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from handoff_sync.console.yaml_edit import DELETE, Change
from handoff_sync.errors import UserError
from handoff_sync.problems.report import KeyPath, Problem, format_path

DURATION_UNITS = ("hours", "business_hours", "days", "business_days")
KINDS = ("text", "num", "list", "dates", "unit", "amount")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FormError(UserError):
    """A form that names no path this page makes (tampered or out of date)."""

    hint = "reload the page: the form may be older than the file"


@dataclass
class FormChanges:
    changes: list[Change] = field(default_factory=list)
    described: list[str] = field(default_factory=list)  # one phrase per change
    fields: list[str] = field(default_factory=list)  # every input's path id, for errors

    @property
    def summary(self) -> str:
        return "handoff.yaml: " + "; ".join(self.described) if self.described else ""


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
    durations: dict[KeyPath, dict[str, str]] = {}
    added: dict[KeyPath, dict[str, str]] = {}
    for name, raw in form.items():
        if name.startswith("f:"):
            _, kind, where = name.split(":", 2)
            if kind not in KINDS:
                raise FormError(f"unknown input kind {kind!r}")
            path = parse_path(where)
            out.fields.append(path_id(path))
            if kind in ("unit", "amount"):
                durations.setdefault(path, {})[kind] = raw.strip()
            else:
                _set(out, data, path, _value(kind, raw))
        elif name.startswith("add:"):
            _, key, where = name.split(":", 2)
            added.setdefault(parse_path(where), {})[key] = raw.strip()
    for path, parts in sorted(durations.items(), key=lambda item: path_id(item[0])):
        unit = parts.get("unit", "")
        if unit not in DURATION_UNITS:
            raise FormError(f"{format_path(path)}: unknown duration unit {unit!r}")
        _set(out, data, path, {unit: _number(parts.get("amount", ""))})
    for path, parts in added.items():
        existing = at(data, path)
        index = len(existing) if isinstance(existing, list) else 0
        out.fields += [path_id((*path, index, key)) for key in parts]
        item = {key: _item_value(key, value) for key, value in parts.items() if value}
        if not item:
            continue
        out.changes.append(Change((*path, index), item))
        out.described.append(f"{format_path(path)}: added {_shown(item)}")
    if "remove" in form:
        path = parse_path(form["remove"])
        if at(data, path) is None:
            raise FormError(f"{format_path(path)} is not in the file (reload the page)")
        out.changes = [Change(path, DELETE)]
        out.described = [f"{format_path(path)}: removed {_shown(at(data, path))}"]
    return out


def _set(out: FormChanges, data: Any, path: KeyPath, value: Any) -> None:
    current = at(data, path)
    if value is None:
        if current is not None:
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


def _item_value(key: str, text: str) -> Any:
    return _number(text) if key == "weight" else text


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


def problems_by_field(problems: Iterable[Problem], fields: Iterable[str]
                      ) -> tuple[dict[str, list[Problem]], list[Problem]]:
    """Each problem at the input whose path is the longest prefix of the problem's (a
    duration's unit and amount share the duration's path); the rest for the form's top."""
    known = sorted(set(fields), key=len, reverse=True)
    placed: dict[str, list[Problem]] = {}
    rest: list[Problem] = []
    for problem in problems:
        where = path_id(problem.path)
        target = next((f for f in known if where == f or where.startswith(f + "/")), None)
        if target is None:
            rest.append(problem)
        else:
            placed.setdefault(target, []).append(problem)
    return placed, rest
