"""The form of one mappings/<system>.yaml: its ``fields:`` and ``outputs:`` as rows, and
the rows an admin sent back turned into the smallest edit of the file.

A row is one entry (canonical field <- system field with its transform, value map,
default, direction and policy). The form carries each row's key as the file had it
(``original``), so a changed row edits its entry in place, key by key: untouched entries,
untouched keys of a changed entry, comments and the admin's wrapping stay as they were
(yaml_edit merges the result). A value is compared as the form shows it, so a value the
admin did not touch is never rewritten in another spelling (``"9004452"`` stays quoted).

Pure: text in, text out; the page (pages/mappings.py) does the IO.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from handoff_sync.console.yaml_edit import DELETE, EditError, load, plain, set_at, transform
from handoff_sync.mapping.system.conflicts import ConflictPolicy
from handoff_sync.mapping.system.file_model import Direction, OutputName, TransformName
from handoff_sync.problems.report import KeyPath, Problem, format_path

SECTIONS = ("fields", "outputs")
# The keys a row edits, in the order the file model lists them (new entries use it).
ROW_KEYS: Mapping[str, tuple[str, ...]] = {
    "fields": ("field", "constant", "transform", "values", "default", "direction", "policy"),
    "outputs": ("field", "transform", "values", "default"),
}
TRANSFORMS: tuple[str, ...] = TransformName.__args__  # type: ignore[attr-defined]
DIRECTIONS: tuple[str, ...] = Direction.__args__  # type: ignore[attr-defined]
OUTPUTS: tuple[str, ...] = OutputName.__args__  # type: ignore[attr-defined]
POLICIES: tuple[str, ...] = tuple(policy.value for policy in ConflictPolicy)
IMPLIED = {"direction": "read"}  # a key left out means this; the form shows it so
NEW_ROWS = 2  # empty rows offered for adding entries
_INT = re.compile(r"[-+]?[0-9]{1,18}")
_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")


@dataclass
class Row:
    """One entry as the form shows it: every value as text."""

    original: str  # the key in the file as read; "" for a new row
    key: str
    values: dict[str, str] = field(default_factory=dict)  # row key -> text
    remove: bool = False

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    @property
    def value_rows(self) -> int:
        """Lines the value map's textarea needs (long lines wrap in a narrow column)."""
        lines = self.get("values").splitlines()
        return max(1, sum(1 + len(line) // 34 for line in lines))

    @property
    def blank(self) -> bool:
        return not self.key and not any(text.strip() for text in self.values.values())


@dataclass
class FormError:
    """A mistake in the form itself (before the file is even built), at one row."""

    section: str
    row: int
    message: str


@dataclass
class Edit:
    """What the form changes: the new text and one line per change for the audit log."""

    text: str
    changes: list[str]
    errors: list[FormError]


# ---------------------------------------------------------------- showing values


def shown(value: Any) -> str:
    """A YAML scalar as the form shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parsed(text: str) -> Any:
    """Form text as a YAML scalar, the YAML 1.2 way (``yes``/``no`` stay text)."""
    text = text.strip()
    if text in ("", "null", "~"):
        return None
    if text in ("true", "false"):
        return text == "true"
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def shown_values(values: Any) -> str:
    """A value map as textarea lines ``system value: canonical value``."""
    if not isinstance(values, Mapping):
        return "" if values is None else shown(values)
    return "\n".join(f"{key}: {shown(value)}" for key, value in values.items())


def parsed_values(text: str) -> dict[str, Any] | str:
    """Textarea lines as a value map; the first line that is not ``a: b``, as an error."""
    result: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, colon, value = line.rpartition(": ") if ": " in line else line.partition(":")
        if not colon or not key.strip():
            return (f"line {number} of the value map ({line.strip()!r}) is not "
                    "'system value: canonical value'")
        result[key.strip()] = parsed(value)
    return result


def _normal_lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


# ---------------------------------------------------------------- rows


def entry_dict(entry: Any) -> dict[str, Any]:
    """An entry as a mapping (``amount: Amount`` is ``{field: Amount}``)."""
    if isinstance(entry, Mapping):
        return dict(entry)
    return {"field": entry}


def rows_of(text: str, section: str) -> list[Row]:
    """The section's entries as rows (the file's order)."""
    data = load(text)
    entries = data.get(section) if isinstance(data, Mapping) else None
    rows: list[Row] = []
    for key, entry in (entries or {}).items():
        values = entry_dict(entry)
        row = Row(str(key), str(key))
        for name in ROW_KEYS[section]:
            value = values.get(name)
            row.values[name] = shown_values(value) if name == "values" else shown(value)
        rows.append(row)
    return rows


def rows_from_form(form: Mapping[str, str], section: str) -> list[Row]:
    """The rows a form sent: ``<section>-<i>-original``, ``-key``, ``-<row key>``,
    ``-remove``, for i = 0, 1, ... until a row has no key field."""
    rows: list[Row] = []
    index = 0
    while f"{section}-{index}-key" in form:
        prefix = f"{section}-{index}-"
        row = Row(form.get(prefix + "original", "").strip(), form[prefix + "key"].strip(),
                  remove=form.get(prefix + "remove") == "on")
        for name in ROW_KEYS[section]:
            row.values[name] = form.get(prefix + name, "")
        rows.append(row)
        index += 1
    return rows


def with_new_rows(rows: Sequence[Row], section: str, count: int = NEW_ROWS) -> list[Row]:
    """``rows`` and ``count`` empty rows to add entries with (blank ones dropped first)."""
    kept = [row for row in rows if row.original or not row.blank]
    return kept + [Row("", "", {name: "" for name in ROW_KEYS[section]})
                   for _ in range(count)]


# ---------------------------------------------------------------- the edit


def edit(text: str, name: str, sections: Mapping[str, Sequence[Row]]) -> Edit:
    """``text`` with the rows' changes made (only what differs from the file as read)."""
    before = {section: {row.original: row for row in rows_of(text, section)}
              for section in sections}
    errors: list[FormError] = []
    plans: list[tuple[str, list[_Step]]] = []
    for section, rows in sections.items():
        steps, section_errors = _plan(section, rows, before[section])
        plans.append((section, steps))
        errors += section_errors
    changes = [f"{name}: {step.said}" for _section, steps in plans for step in steps
               if step.said]
    if errors or not changes:
        return Edit(text, changes, errors)

    def apply_steps(data: Any) -> None:
        for section, steps in plans:
            for step in steps:
                step.apply(data, section)

    return Edit(transform(text, apply_steps), changes, errors)


@dataclass
class _Step:
    """One change to one entry."""

    said: str  # e.g. "competitors policy prm_unless_blank -> crm_wins"
    key: str
    path: KeyPath = ()  # inside the entry; () = the entry itself
    value: Any = None
    rename_to: str | None = None

    def apply(self, data: Any, section: str) -> None:
        if self.rename_to is not None:
            _rename(data[section], self.key, self.rename_to)
            return
        set_at(data, (section, self.key, *self.path), self.value)


def _rename(entries: Any, old: str, new: str) -> None:
    """Rename a key in place (its position and the comments after it kept)."""
    position = list(entries).index(old)
    comments = getattr(entries, "ca", None)
    after = comments.items.pop(old, None) if comments is not None else None
    value = entries.pop(old)
    entries.insert(position, new, value)
    if comments is not None and after is not None:
        comments.items[new] = after


def _plan(section: str, rows: Sequence[Row], before: Mapping[str, Row],
          ) -> tuple[list[_Step], list[FormError]]:
    steps: list[_Step] = []
    errors: list[FormError] = []
    seen: dict[str, int] = {}
    keep = {row.original for row in rows if row.original and not row.remove}
    for index, row in enumerate(rows):
        if row.blank and not row.original:
            continue
        old = before.get(row.original) if row.original else None
        if row.original and old is None:
            errors.append(FormError(section, index, f"{section}.{row.original} is no longer "
                                    "in the file: reload the page"))
            continue
        if row.remove:
            if old is not None:
                steps.append(_Step(f"removed {_named(section, row.original)}", row.original,
                                   value=DELETE))
            continue
        if not row.key:
            errors.append(FormError(section, index, "name the field this row maps (or "
                                    "tick Remove)"))
            continue
        if row.key in seen or (row.key != row.original and row.key in keep):
            errors.append(FormError(section, index, f"{row.key} has two rows: keep one"))
            continue
        seen[row.key] = index
        wanted, error = _wanted(section, row)
        if error:
            errors.append(FormError(section, index, error))
            continue
        if old is None:
            steps.append(_Step(f"added {_named(section, row.key)} <- {_short(wanted)}", row.key,
                               value=_entry_value(wanted)))
            continue
        if row.key != row.original:
            steps.append(_Step(f"renamed {_named(section, row.original)} to {row.key}",
                               row.original, rename_to=row.key))
        steps += _entry_steps(section, row.key, old, row, wanted)
    return steps, errors


def _wanted(section: str, row: Row) -> tuple[dict[str, Any], str | None]:
    """The row as entry values (blank ones left out)."""
    wanted: dict[str, Any] = {}
    for name in ROW_KEYS[section]:
        text = row.get(name)
        if not text.strip():
            continue
        if name == "values":
            values = parsed_values(text)
            if isinstance(values, str):
                return {}, values
            if values:
                wanted[name] = values
        elif name in ("field", "transform", "direction", "policy"):
            wanted[name] = text.strip()
        else:
            wanted[name] = parsed(text)
    if wanted.get("direction") == IMPLIED["direction"]:
        del wanted["direction"]  # read is what leaving it out means: do not add it
    return wanted, None


def _entry_value(wanted: Mapping[str, Any]) -> Any:
    """A new entry: the shorthand when it is only a field (as the packs write them)."""
    if set(wanted) == {"field"}:
        return wanted["field"]
    return dict(wanted)


def _short(wanted: Mapping[str, Any]) -> str:
    return str(wanted.get("field") or f"constant {shown(wanted.get('constant'))}")


def _entry_steps(section: str, key: str, old: Row, row: Row,
                 wanted: Mapping[str, Any]) -> list[_Step]:
    """Key-by-key changes of an existing entry (a value map item by item, so the comments
    on its other items stay); a shorthand entry that gains more than a field becomes a
    mapping."""
    differs = [name for name in ROW_KEYS[section] if _differs(name, old, row)]
    if not differs:
        return []
    if _is_shorthand(old):
        said = "; ".join(_said(section, key, name, old, row) for name in differs)
        return [_Step(said, key, value=_entry_value(wanted))]
    steps: list[_Step] = []
    for name in differs:
        said = _said(section, key, name, old, row)
        before = parsed_values(old.get("values")) if name == "values" else None
        after = wanted.get(name, DELETE)
        if isinstance(before, dict) and before and isinstance(after, dict):
            items = [(item, after.get(item, DELETE)) for item in before
                     if item not in after or after[item] != before[item]]
            items += [(item, value) for item, value in after.items() if item not in before]
            steps += [_Step(said if n == 0 else "", key, (name, item), value)
                      for n, (item, value) in enumerate(items)]
        else:
            steps.append(_Step(said, key, (name,), after))
    return steps


def _is_shorthand(old: Row) -> bool:
    """Whether the file wrote the entry as a bare field name (only field is shown)."""
    return bool(old.get("field")) and not any(
        old.get(name) for name in old.values if name != "field")


def _differs(name: str, old: Row, new: Row) -> bool:
    if name == "values":
        return _normal_lines(old.get(name)) != _normal_lines(new.get(name))
    before, after = old.get(name).strip(), new.get(name).strip()
    implied = IMPLIED.get(name)
    if implied is not None:
        before, after = before or implied, after or implied
    return before != after


def _said(section: str, key: str, name: str, old: Row, new: Row) -> str:
    """``fields.competitors policy prm_unless_blank -> crm_wins`` (a value map: what came
    and went)."""
    if name != "values":
        implied = IMPLIED.get(name, "(none)")
        return (f"{_named(section, key)} {name} {old.get(name).strip() or implied} -> "
                f"{new.get(name).strip() or implied}")
    before, after = set(_normal_lines(old.get(name))), set(_normal_lines(new.get(name)))
    parts = [f"+{line!r}" for line in _normal_lines(new.get(name)) if line not in before]
    parts += [f"-{line!r}" for line in _normal_lines(old.get(name)) if line not in after]
    return f"{_named(section, key)} values " + ", ".join(parts)


def _named(section: str, key: str) -> str:
    """A canonical field by its name, anything else with its section (outputs.brief)."""
    return key if section == "fields" else f"{section}.{key}"


def summary(changes: Sequence[str], limit: int = 3) -> str:
    """The audit log's one line: the first changes, then how many more."""
    if len(changes) <= limit:
        return "; ".join(changes)
    return "; ".join(changes[:limit]) + f"; and {len(changes) - limit} more"


# ---------------------------------------------------------------- problems at fields


@dataclass
class Placed:
    """Problems sorted to where the form shows them."""

    at: dict[tuple[str, str, str], list[Problem]] = field(default_factory=dict)
    """(section, entry key, row key or "key") -> the problems of that cell."""
    rest: list[Problem] = field(default_factory=list)
    """Problems of this file no row shows, and of other files: shown at the top."""


def place(problems: Iterable[Problem], name: str,
          sections: Mapping[str, Sequence[Row]]) -> Placed:
    """Each problem of file ``name`` whose key path is a row's entry at that row's cell
    (an unknown sub-key at the row's key); the others in ``rest``."""
    placed = Placed()
    keys = {section: {row.key for row in rows if not row.remove}
            for section, rows in sections.items()}
    for problem in problems:
        cell = _cell(problem.path, keys) if problem.file.name == name else None
        if cell is None:
            placed.rest.append(problem)
        else:
            placed.at.setdefault(cell, []).append(problem)
    return placed


def _cell(path: KeyPath, keys: Mapping[str, set[str]]) -> tuple[str, str, str] | None:
    if len(path) < 2 or path[0] not in keys or path[1] not in keys[str(path[0])]:
        return None
    section, key = str(path[0]), str(path[1])
    column = str(path[2]) if len(path) > 2 else "key"
    if column not in ROW_KEYS[section]:
        column = "key"
    return section, key, column


def where(problem: Problem) -> str:
    """``salesforce.yaml:87: fields.competitorz``: where a problem shown at the top is."""
    return f"{problem.file.name}:{problem.line}: {format_path(problem.path)}"


# ---------------------------------------------------------------- the raw editor


def described(old: str, new: str, name: str) -> list[str]:
    """What a raw YAML edit changed, said as the form's changes would say it (entries
    added, removed and changed key by key), plus the other top-level keys it touched."""
    try:
        old_data, new_data = load(old), load(new)
    except EditError:
        return [f"{name}: edited as YAML"]
    if not isinstance(old_data, Mapping) or not isinstance(new_data, Mapping):
        return [f"{name}: edited as YAML"]
    changes: list[str] = []
    for section in SECTIONS:
        before = {row.key: row for row in rows_of(old, section)}
        after = rows_of(new, section)
        rows = [replace(row, original=row.key if row.key in before else "")
                for row in after]
        kept = {row.key for row in after}
        rows += [replace(row, remove=True) for key, row in before.items() if key not in kept]
        steps, _errors = _plan(section, rows, before)
        changes += [f"{name}: {step.said}" for step in steps if step.said]
    others = [str(key) for key in dict.fromkeys([*old_data, *new_data])
              if key not in SECTIONS and plain(old_data.get(key)) != plain(new_data.get(key))]
    if others:
        changes.append(f"{name}: {', '.join(others)} edited as YAML")
    return changes or [f"{name}: comments or layout edited as YAML"]


def facts(text: str) -> dict[str, Any]:
    """The file's top-level settings the form does not edit (shown for orientation):
    role, object, modified field, scope, and which other sections it has; ``broken``
    when the text is not a YAML mapping."""
    try:
        data = load(text)
    except EditError:
        data = None
    if not isinstance(data, Mapping):
        return {"broken": True, "role": "", "object": "", "modified_field": "", "scope": "",
                "other": []}
    scope = data.get("scope")
    return {"broken": False, "role": shown(data.get("role")), "object": shown(data.get("object")),
            "modified_field": shown(data.get("modified_field")),
            "scope": ", ".join(f"{key} = {shown(value)}" for key, value in scope.items())
            if isinstance(scope, Mapping) else "",
            "other": [str(key) for key in data if key not in (*SECTIONS, "version", "role",
                                                               "object", "modified_field",
                                                               "scope")]}
