"""Read one YAML file into plain data plus the line and column of every key and value.

Built on the YAML parser's event stream rather than its object constructor, for four
reasons: every key and value keeps its position (for file:line:column messages);
duplicate keys are reported instead of silently overwritten; sizes are bounded (file
bytes, nesting depth, and values after alias expansion, so an alias bomb is refused in
linear time instead of hanging the caller); and scalars resolve the YAML 1.2 way, so
``on``/``yes``/``no``/``NO`` stay text (a picklist value "No" must not become False).
Keys are always the text as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from handoff_sync.problems.report import KeyPath, Problem

MAX_FILE_BYTES = 1_000_000  # the default packs are ~20 KB; a mappings file is never this big
MAX_DEPTH = 40  # deepest nesting a mappings file needs is about 12
MAX_VALUES = 100_000  # values after expanding aliases

_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present

_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = {"true": True, "True": True, "TRUE": True,
         "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]{1,30}")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SPECIAL_FLOAT = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"),
                  ".nan": float("nan"), ".Inf": float("inf"), ".NaN": float("nan")}
_CORE = "tag:yaml.org,2002:"


@dataclass
class SourceMap:
    """Where each value and each mapping key starts (0-based line, column)."""

    values: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: KeyPath, *, at_key: bool = False) -> tuple[int, int]:
        """1-based line and column of ``path``, or of its nearest recorded ancestor."""
        probe = tuple(path)
        if at_key and probe in self.keys:
            line, column = self.keys[probe]
            return line + 1, column + 1
        while probe:
            if probe in self.values:
                line, column = self.values[probe]
                return line + 1, column + 1
            probe = probe[:-1]
        line, column = self.values.get((), (0, 0))
        return line + 1, column + 1


@dataclass
class YamlDocument:
    file: Path
    data: Any
    source: SourceMap

    def problem(self, path: KeyPath, message: str, hint: str = "", *,
                at_key: bool = False) -> Problem:
        line, column = self.source.position(path, at_key=at_key)
        return Problem(self.file, line, column, path, message, hint)


class _Fatal(Exception):
    def __init__(self, line: int, column: int, path: KeyPath, message: str, hint: str = ""):
        super().__init__(message)
        self.where = (line, column, path, message, hint)


class _Limit(_Fatal):
    """A size limit (values after aliases, nesting): the text is refused outright."""


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    path: KeyPath
    size: int = 1
    key: str | None = None  # mapping frames: the key whose value comes next
    key_mark: tuple[int, int] = (0, 0)
    anchor: str | None = None


def read_yaml_file(file: Path) -> tuple[YamlDocument | None, list[Problem]]:
    """The file as data with positions, or the problems that stop it being read."""
    try:
        with file.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, [Problem(file, 1, 1, (), f"cannot read the file: {exc.strerror}",
                              "check the path and its permissions")]
    if len(raw) > MAX_FILE_BYTES:
        return None, [Problem(file, 1, 1, (),
                              f"the file is larger than {MAX_FILE_BYTES // 1000} KB",
                              "a mappings file is a few KB; is this the right file?")]
    return parse_yaml_bytes(raw, file)


def parse_yaml_bytes(raw: bytes, file: Path) -> tuple[YamlDocument | None, list[Problem]]:
    if len(raw) > MAX_FILE_BYTES:
        return None, [Problem(file, 1, 1, (),
                              f"the file is larger than {MAX_FILE_BYTES // 1000} KB",
                              "a mappings file is a few KB; is this the right file?")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [Problem(file, line, column, (),
                              f"byte 0x{raw[exc.start]:02x} is not valid UTF-8",
                              "save the file as UTF-8 (most editors: File > Save with "
                              "encoding)")]
    return parse_yaml_text(text, file)


def parse_yaml_text(text: str, file: Path) -> tuple[YamlDocument | None, list[Problem]]:
    source = SourceMap()
    problems: list[Problem] = []
    try:
        data = _build(_events(text), source, problems, file)
    except _Fatal as fatal:
        line, column, path, message, hint = fatal.where
        return None, [*problems, Problem(file, line + 1, column + 1, path, message, hint)]
    except yaml.YAMLError as exc:
        return None, [*problems, _syntax_problem(exc, text, file)]
    if problems:
        return None, problems
    document = YamlDocument(file, data, source)
    if data is None:
        return None, [document.problem((), "the file is empty",
                                       "start it with 'version: 1'; see docs/admin-guide.md")]
    if not isinstance(data, dict):
        return None, [document.problem((), "expected a mapping of keys (key: value) at the "
                                       "top of the file", "start it with 'version: 1'")]
    return document, []


def limit_problem(text: str, file: Path) -> Problem | None:
    """The size limit ``text`` breaks (bytes, nesting depth, values after expanding
    aliases), or None. Check text with this before another YAML library builds or walks
    it: an alias bomb is refused here in linear time, where a full load would hang."""
    if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8")) > MAX_FILE_BYTES:
        return Problem(file, 1, 1, (), f"the file is larger than {MAX_FILE_BYTES // 1000} KB",
                       "a mappings file is a few KB; is this the right file?")
    try:
        _build(_events(text), SourceMap(), [], file)
    except _Limit as fatal:
        line, column, path, message, hint = fatal.where
        return Problem(file, line + 1, column + 1, path, message, hint)
    except _Fatal:  # not a size limit: the caller's own loader reports it
        return None
    except yaml.YAMLError as exc:  # PyYAML's scanner may stop runaway nesting first
        problem = _syntax_problem(exc, text, file)
        return problem if problem.message.startswith("nesting deeper") else None
    return None


def _events(text: str) -> Iterator[Any]:
    loader = _LOADER(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()


def _syntax_problem(exc: yaml.YAMLError, text: str, file: Path) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        line, column = mark.line, mark.column
    else:  # ReaderError: a character position
        position = min(getattr(exc, "position", 0), len(text))
        line = text.count("\n", 0, position)
        column = position - (text.rfind("\n", 0, position) + 1)
    if isinstance(exc, yaml.reader.ReaderError):
        character = exc.character if isinstance(exc.character, int) else ord(exc.character)
        problem = f"the character U+{character:04X} is not allowed in YAML"
    else:
        problem = str(getattr(exc, "problem", None) or exc).strip()
    context = str(getattr(exc, "context", None) or "").strip()
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    at = _char_at(text, line, column)
    hint = "check the indentation and the quotes around this point"
    if "nesting depth" in problem:
        # PyYAML 6.0.3+ stops runaway nesting in its scanner, before our own depth check.
        message = f"nesting deeper than {MAX_DEPTH} levels"
        hint = "a mappings file is never this deep; check the indentation and brackets"
    if "\t" in problem or at == "\t" or "\\t" in problem:
        hint = "YAML indentation must be spaces; replace the tab here with spaces"
    elif isinstance(exc, yaml.reader.ReaderError):
        hint = "remove the control character; a mappings file is plain text"
    return Problem(file, line + 1, column + 1, (), message, hint)


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    if 0 <= line < len(lines) and 0 <= column < len(lines[line]):
        return lines[line][column]
    return ""


def _scalar(event: Any, path: KeyPath, problems: list[Problem], file: Path) -> Any:
    value: str = event.value
    tag = event.tag
    plain = event.implicit[0] and event.style in (None, "")
    if tag in (None, "!"):
        return _resolve_plain(value) if plain else value
    if tag == _CORE + "str":
        return value
    resolved = _resolve_plain(value)
    expected = {_CORE + "int": int, _CORE + "float": float, _CORE + "bool": bool,
                _CORE + "null": type(None)}.get(tag)
    mark = event.start_mark
    if expected is None:
        problems.append(Problem(file, mark.line + 1, mark.column + 1, path,
                                f"YAML tag {tag!r} is not supported here",
                                "remove the tag; write the value as plain text"))
        return value
    if expected is float and isinstance(resolved, int):
        return float(resolved)
    if not isinstance(resolved, expected) or (expected is int and isinstance(resolved, bool)):
        problems.append(Problem(file, mark.line + 1, mark.column + 1, path,
                                f"{value!r} is not a valid {tag.rsplit(':', 1)[-1]}",
                                "remove the tag or fix the value"))
        return value
    return resolved


def _resolve_plain(value: str) -> Any:
    if _NULL.fullmatch(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT.fullmatch(value):
        return int(value)
    if value in _SPECIAL_FLOAT:
        return _SPECIAL_FLOAT[value]
    if len(value) <= 60 and _FLOAT.fullmatch(value):
        return float(value)
    return value


def _build(events: Iterator[Any], source: SourceMap, problems: list[Problem],
           file: Path) -> Any:
    stack: list[_Frame] = []
    anchors: dict[str, tuple[Any, int]] = {}
    total = 0
    documents = 0
    result: Any = None

    def child_path() -> KeyPath:
        top = stack[-1]
        if isinstance(top.container, list):
            return (*top.path, len(top.container))
        assert top.key is not None
        return (*top.path, top.key)

    def place(value: Any, size: int, mark: Any) -> None:
        nonlocal result
        if not stack:
            result = value
            return
        top = stack[-1]
        top.size += size
        if isinstance(top.container, list):
            top.container.append(value)
            return
        key = top.key
        assert key is not None
        if key in top.container:
            first_line, _ = source.keys[(*top.path, key)]
            problems.append(Problem(file, top.key_mark[0] + 1, top.key_mark[1] + 1,
                                    (*top.path, key),
                                    f"duplicate key '{key}' (first written on line "
                                    f"{first_line + 1})",
                                    "keep one of them; YAML would silently use the last"))
        else:
            top.container[key] = value
            source.keys[(*top.path, key)] = top.key_mark
        top.key = None

    def expecting_key() -> bool:
        return bool(stack) and isinstance(stack[-1].container, dict) and stack[-1].key is None

    for event in events:
        kind = type(event).__name__
        mark = event.start_mark
        if kind == "DocumentStartEvent":
            documents += 1
            if documents > 1:
                raise _Fatal(mark.line, mark.column, (), "the file holds more than one YAML "
                             "document ('---')", "keep one document per file")
            continue
        if kind in ("StreamStartEvent", "StreamEndEvent", "DocumentEndEvent"):
            continue
        if kind in ("MappingEndEvent", "SequenceEndEvent"):
            frame = stack.pop()
            if frame.anchor is not None:
                anchors[frame.anchor] = (frame.container, frame.size)
            place(frame.container, frame.size, mark)
            continue
        total += 1
        if total > MAX_VALUES:
            raise _Limit(mark.line, mark.column, (), f"more than {MAX_VALUES} values "
                         "(after expanding aliases)", "a mappings file is small; remove "
                         "the repetition or the aliases (*name)")
        if expecting_key():
            top = stack[-1]
            if kind != "ScalarEvent":
                raise _Fatal(mark.line, mark.column, top.path, "a key must be plain text, "
                             "not a list, a mapping or an alias",
                             "write the key as a plain word")
            key = event.value
            if key == "<<":
                problems.append(Problem(file, mark.line + 1, mark.column + 1,
                                        (*top.path, key), "YAML merge keys (<<) are not "
                                        "supported", "write the keys out in full"))
            top.key = key
            top.key_mark = (mark.line, mark.column)
            continue
        path: KeyPath = child_path() if stack else ()
        source.values[path] = (mark.line, mark.column)
        if kind == "ScalarEvent":
            value = _scalar(event, path, problems, file)
            if event.anchor:
                anchors[event.anchor] = (value, 1)
            place(value, 1, mark)
        elif kind == "AliasEvent":
            if event.anchor not in anchors:
                raise _Fatal(mark.line, mark.column, path, f"alias *{event.anchor} refers "
                             "to an anchor that is not defined (or not finished) above it",
                             f"define &{event.anchor} before using *{event.anchor}")
            value, size = anchors[event.anchor]
            total += size
            if total > MAX_VALUES:
                raise _Limit(mark.line, mark.column, path, f"more than {MAX_VALUES} values "
                             "after expanding aliases", "remove the nested aliases")
            place(value, size, mark)
        elif kind in ("MappingStartEvent", "SequenceStartEvent"):
            if len(stack) >= MAX_DEPTH:
                raise _Limit(mark.line, mark.column, path, f"nesting deeper than {MAX_DEPTH} "
                             "levels", "a mappings file is never this deep; check the "
                             "indentation and brackets")
            tag = event.tag
            if tag not in (None, "!", _CORE + "map", _CORE + "seq"):
                problems.append(Problem(file, mark.line + 1, mark.column + 1, path,
                                        f"YAML tag {tag!r} is not supported here",
                                        "remove the tag"))
            container: dict[str, Any] | list[Any] = {} if kind == "MappingStartEvent" else []
            stack.append(_Frame(container, path, anchor=event.anchor or None))
    return result
