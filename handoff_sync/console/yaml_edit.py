"""Change values in a YAML file's text and keep everything else as the admin wrote it:
comments, key order, quoting, and the line wrapping of flow mappings.

ruamel.yaml's round trip keeps comments and order but re-wraps long flow mappings, so a
one-field change would rewrite dozens of lines. We therefore dump twice (the file as
loaded, and the file changed) and carry over only the lines that differ between those
two dumps: a three-way merge with the loaded dump as the base, the file as written as
"ours" and the changed dump as "theirs". Where the change touches a line ruamel would
re-wrap, the changed dump's lines win for that region only. The result is parsed again
and must equal the changed data; if not, the whole changed dump is used (correct, if
noisier).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import pairwise
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.tokens import CommentToken

from handoff_sync.errors import UserError
from handoff_sync.problems.report import KeyPath, format_path
from handoff_sync.problems.yaml_source import MAX_FILE_BYTES, limit_problem


class _Delete:
    def __repr__(self) -> str:
        return "DELETE"


MAX_POSTED_CHARS = MAX_FILE_BYTES  # of a raw YAML editor's text (a mappings file is KBs)

DELETE: Any = _Delete()
"""A ``Change`` value that removes the key (or list item) at its path."""


@dataclass(frozen=True)
class Change:
    """Set (or, with ``DELETE``, remove) the value at ``path`` in one file's document.
    A list index equal to the list's length appends; with ``insert`` the value goes in
    before the item at that index (a routing rule added above another: order matters)."""

    path: KeyPath
    value: Any
    insert: bool = False


class EditError(UserError):
    """A change that does not fit the document (a path that is not there)."""

    hint = "reload the page: the file may have changed since the form was shown"


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # our merge keeps the admin's wrapping; never wrap what we write
    yaml.indent(mapping=2, sequence=4, offset=2)  # the shipped packs' style
    return yaml


def posted_yaml_refusal(text: str, name: str) -> str | None:
    """Why YAML text (a posted raw editor, or a file) must not be loaded at all: larger
    than a mappings file can be, nested too deep, or an alias bomb. Checked by the
    bounded parser (problems/yaml_source.py) in linear time, before ruamel builds the
    document (ruamel would expand the aliases while a form walks it, and hang)."""
    problem = limit_problem(text, Path(name))
    if problem is None:
        return None
    return (f"The YAML of {name} is refused: {problem.message} (line {problem.line}); "
            f"{problem.hint}. Nothing was saved.")


def load(text: str) -> Any:
    """The document as ruamel's round-trip data (CommentedMap/CommentedSeq); EditError
    for text over the size limits (see ``posted_yaml_refusal``)."""
    refused = posted_yaml_refusal(text, "the file")
    if refused is not None:
        raise EditError(refused)
    try:
        return _yaml().load(text)
    except YAMLError as exc:
        raise EditError(f"the file is not valid YAML: {exc}") from None


def dump(data: Any) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def apply(text: str, changes: Sequence[Change]) -> str:
    """``text`` with ``changes`` made, every other line as it was."""
    return transform(text, lambda data: _apply_all(data, changes))


def transform(text: str, edit: Callable[[Any], None]) -> str:
    """``text`` after ``edit`` changed its loaded document in place (for edits that are
    easier as code than as paths, e.g. renaming a key)."""
    base_data = load(text)
    base = dump(base_data)
    changed_data = load(text)
    edit(changed_data)
    theirs = dump(changed_data)
    merged = merge(base, text, theirs)
    try:
        if plain(load(merged)) == plain(changed_data):
            return merged
    except EditError:
        pass
    return theirs


def _apply_all(data: Any, changes: Sequence[Change]) -> None:
    for change in changes:
        set_at(data, change.path, change.value, insert=change.insert)


def set_at(data: Any, path: KeyPath, value: Any, *, insert: bool = False) -> None:
    """Set (or DELETE) ``path`` in round-trip data; missing mappings on the way are made.
    ``insert``: at a list index, put the value before the item there."""
    if not path:
        raise EditError("a change needs a path inside the file")
    parent, holder, held = data, None, None  # holder[held] is parent
    for depth, key in enumerate(path[:-1]):
        following = path[depth + 1]
        holder, held = parent, key
        parent = _child(parent, key, path[:depth + 1], make=type(following) is int)
    last = path[-1]
    if isinstance(parent, list):
        if not isinstance(last, int) or last > len(parent) or last < 0:
            raise EditError(f"{format_path(path)}: no such list item")
        if value is DELETE:
            if last < len(parent):
                _delete_item(parent, last, holder, held)
        elif last == len(parent):
            parent.append(_round_trip(value))
        elif insert:
            parent.insert(last, _round_trip(value))
        else:
            parent[last] = _round_trip(value)
        return
    if not isinstance(parent, dict):
        raise EditError(f"{format_path(path[:-1])} is not a mapping")
    if value is not DELETE and isinstance(parent, CommentedMap) and \
            parent.fa.flow_style() and not _scalars(plain(value)):
        parent.fa.set_block_style()  # nested all/any/not on one line would be unreadable
    if value is DELETE:
        parent.pop(last, None)
    elif last in parent:
        parent[last] = _round_trip(value)
    else:
        trailing = _trailing_comment(parent)
        parent[last] = _round_trip(value)
        if trailing is not None and isinstance(parent, CommentedMap):
            parent.ca.items[last] = [None, None, trailing, None]


def _delete_item(items: list[Any], index: int, holder: Any, held: Any) -> None:
    """Delete ``items[index]`` with the comment lines above it (they introduced it) but
    not those below it (they introduce the next item, or close the list). ruamel keeps
    the lines between two items with the one above (a block mapping's last entry, or a
    scalar's own comment), and those above the first item with the key holding the list
    (``holder[held]``)."""
    if isinstance(items, CommentedSeq) and items.fa.flow_style():
        del items[index]  # one line: the comments around it are the key's
        return
    below = _detach_after(items, index)
    if index > 0:
        _detach_after(items, index - 1)  # the lines above the item go with it
    elif _replace_leading(items, holder, held, below):
        below = None
    del items[index]
    if below is None:
        return
    if index > 0:
        _attach_after(items, index - 1, below)
    elif items and isinstance(items, CommentedSeq):  # a document's or a list's list
        slots = items.ca.items.setdefault(0, [None, None, None, None])
        slots[1] = _comment_lines(below)


def _detach_after(items: list[Any], index: int) -> CommentToken | None:
    """Detach the lines between ``items[index]`` and the next item (as
    ``_trailing_comment`` does for a mapping)."""
    item = items[index]
    if _is_block(item):
        return _trailing_comment(item)
    if not isinstance(items, CommentedSeq) or isinstance(item, list):
        return None
    own = items.ca.items.get(index)
    return _split_off(own[0] if own else None)


def _attach_after(items: list[Any], index: int, token: CommentToken) -> None:
    item = items[index]
    if _is_block(item):
        _attach_trailing(item, token)
    elif isinstance(items, CommentedSeq) and not isinstance(item, list):
        own = items.ca.items.get(index)
        if own and isinstance(own[0], CommentToken):
            own[0].value = own[0].value.rstrip("\n") + token.value
        else:
            items.ca.items[index] = [token, None, None, None]


def _replace_leading(items: list[Any], holder: Any, held: Any,
                     below: CommentToken | None) -> bool:
    """Put ``below`` (or nothing) where the lines above a list's first item are kept: on
    the holding key, after the comment on its own line (which stays: it is the key's).
    False when the list is not a mapping's value (those lines are the list's then)."""
    if not isinstance(holder, CommentedMap):
        return False
    slots = holder.ca.items.setdefault(held, [None, None, None, None])
    while len(slots) < 4:
        slots.append(None)
    key_line = slots[2]
    if isinstance(key_line, CommentToken) and "\n" in key_line.value.rstrip("\n"):
        key_line.value = key_line.value.split("\n", 1)[0] + "\n"
    slots[3] = _comment_lines(below) or None  # an empty list would break the dump
    if isinstance(items, CommentedSeq) and items.ca.comment:
        items.ca.comment[1] = slots[3]  # ruamel keeps the same lines there too
    return True


def _comment_lines(token: CommentToken | None) -> list[CommentToken]:
    """Detached lines (a newline, then lines: as ``_split_off`` returns them) as ruamel keeps
    the lines above an item: a token per blank line, then the comment lines, indented."""
    if token is None:
        return []
    lines = token.value[1:]
    blanks = len(lines) - len(lines.lstrip("\n"))
    rest = lines[blanks:]
    result = [CommentToken("\n", CommentMark(0), None) for _ in range(blanks)]
    if rest:
        indent = len(rest) - len(rest.lstrip(" "))
        result.append(CommentToken(rest.lstrip(" "), CommentMark(indent), None))
    return result


def _is_block(value: Any) -> bool:
    return isinstance(value, CommentedMap) and len(value) > 0 and not value.fa.flow_style()


def _attach_trailing(parent: CommentedMap, token: CommentToken) -> None:
    """Put comment lines (``token``, as ``_trailing_comment`` detached them) after the
    mapping's last entry."""
    node = parent
    while True:
        last = list(node)[-1]
        if _is_block(node[last]):
            node = node[last]
            continue
        items = node.ca.items.get(last)
        own = items[2] if items and len(items) > 2 else None
        if isinstance(own, CommentToken):
            own.value = own.value.rstrip("\n") + token.value
        else:
            node.ca.items[last] = [None, None, token, None]
        return


def _trailing_comment(parent: Any) -> CommentToken | None:
    """Detach what follows the mapping's last entry beyond its own line (blank lines and
    the comment of the next section, which ruamel keeps with that entry) and return it,
    so a key appended goes before it rather than after the next section's comment."""
    node = parent
    while isinstance(node, CommentedMap) and len(node):
        last = list(node)[-1]
        value = node[last]
        if isinstance(value, CommentedMap) and len(value) and not value.fa.flow_style():
            node = value  # a block mapping: its last entry holds the comment
            continue
        items = node.ca.items.get(last)
        return _split_off(items[2] if items and len(items) > 2 else None)
    return None


def _split_off(token: Any) -> CommentToken | None:
    """Cut a comment token after its first line; the rest (a newline, then the lines) or
    None."""
    if not isinstance(token, CommentToken) or "\n" not in token.value:
        return None
    head, rest = token.value.split("\n", 1)
    if not rest:
        return None
    token.value = head + "\n"
    return CommentToken("\n" + rest, token.start_mark, None)


def _child(parent: Any, key: str | int, where: KeyPath, *, make: bool) -> Any:
    if isinstance(parent, list):
        if not isinstance(key, int) or not 0 <= key < len(parent):
            raise EditError(f"{format_path(where)}: no such list item")
        return parent[key]
    if not isinstance(parent, dict):
        raise EditError(f"{format_path(where[:-1])} is not a mapping")
    if key not in parent or parent[key] is None:
        parent[key] = CommentedSeq() if make else CommentedMap()
    return parent[key]


def _round_trip(value: Any) -> Any:
    """Plain dicts and lists as ruamel's types (keeps their order; short ones in flow
    style, as the packs write them)."""
    if isinstance(value, dict) and not isinstance(value, CommentedMap):
        result = CommentedMap((key, _round_trip(item)) for key, item in value.items())
        if all(not isinstance(item, dict) and _scalars(item) for item in value.values()) \
                and len(value) <= 6:
            result.fa.set_flow_style()
        return result
    if isinstance(value, list) and not isinstance(value, CommentedSeq):
        result_list = CommentedSeq(_round_trip(item) for item in value)
        if all(not isinstance(item, dict | list) for item in value):
            result_list.fa.set_flow_style()
        return result_list
    return value


def flow_text(value: Any) -> str:
    """One value as YAML writes it inside a flow list (quoted where YAML would read it as
    something else: '123' stays a text), for a form's input."""
    text = dump(_round_trip([value])).strip()
    return text[1:-1] if text.startswith("[") and text.endswith("]") else text


def block_text(value: Any) -> str:
    """A value as YAML for a small editor box (innermost maps and lists in flow style)."""
    return "" if value is None else dump(_round_trip(value))


def _scalars(value: Any) -> bool:
    """A scalar, a list of scalars or a mapping of those: what a flow mapping holds
    readably on one line."""
    if isinstance(value, list):
        return all(not isinstance(item, dict | list) for item in value)
    if isinstance(value, dict):
        return all(not isinstance(item, dict) and _scalars(item) for item in value.values())
    return True


def plain(data: Any) -> Any:
    """Round-trip data as plain dicts (text keys) and lists, for comparing and reading."""
    if isinstance(data, dict):
        return {str(key): plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [plain(item) for item in data]
    return data


def merge(base: str, ours: str, theirs: str) -> str:
    """Three-way line merge: the changes base -> ours and base -> theirs both applied;
    where they touch the same lines, theirs wins."""
    a, o, b = base.splitlines(True), ours.splitlines(True), theirs.splitlines(True)
    ours_ops = _changes(a, o)
    theirs_ops = _changes(a, b)
    regions = _regions([(i1, i2, "o") for i1, i2 in ours_ops] +
                       [(i1, i2, "b") for i1, i2 in theirs_ops])
    to_o, to_b = _mapper(a, o), _mapper(a, b)
    out: list[str] = []
    at = 0
    for start, end, sources in regions:
        out += o[to_o(at, end=True):to_o(start)]  # unchanged by theirs: as written
        if "b" in sources:
            out += _rewrapped(b[to_b(start):to_b(end, end=True)],
                              o[to_o(start):to_o(end, end=True)])
        else:
            out += o[to_o(start):to_o(end, end=True)]
        at = end
    out += o[to_o(at, end=True):]
    return "".join(out)


_FLOW_ENTRY = re.compile(r"(?P<key>\s*[^\s#][^#]*?:)[ ]+(?P<flow>[{\[].*?[}\]])"
                         r"(?P<comment>[ ]+#.*)?(?P<eol>\n?)")
_KEY_LINE = re.compile(r"(?P<key>\s*[^\s#][^#]*?:)(?P<comment>[ ]+#.*)?\n?")
_VALUE_LINE = re.compile(r"(?P<indent>\s+)[{\[]")


def _rewrapped(theirs: list[str], ours: list[str]) -> list[str]:
    """``theirs`` with each one-line flow entry (``key: {...}``) that ``ours`` wrapped
    after its key (``key:  # note`` then ``    {...}``) wrapped the same way again: a
    changed value keeps the admin's layout, so its diff stays one line."""
    wrapped: dict[str, tuple[str, str]] = {}  # key line -> (key line as written, indent)
    for line, following in pairwise(ours):
        key, value = _KEY_LINE.fullmatch(line), _VALUE_LINE.match(following)
        if key and value and len(value["indent"]) > len(key["key"]) - len(
                key["key"].lstrip()):
            wrapped[key["key"]] = (line if line.endswith("\n") else line + "\n",
                                   value["indent"])
    result: list[str] = []
    for line in theirs:
        entry = _FLOW_ENTRY.fullmatch(line)
        if entry is None or entry["key"] not in wrapped:
            result.append(line)
            continue
        key_line, indent = wrapped[entry["key"]]
        comment = entry["comment"] or ""
        if comment.strip() and comment.strip() in key_line:
            comment = ""  # ruamel moved the key's comment to the end of the line
        result += [key_line, f"{indent}{entry['flow']}{comment}{entry['eol']}"]
    return result


Opcode = tuple[str, int, int, int, int]


def _opcodes(a: list[str], other: list[str]) -> list[Opcode]:
    """difflib's opcodes, with each replace block split per line of ``a`` where it can
    be: a line ruamel writes as one (``x: {...} # note``) the admin may have wrapped over
    two, and a change to the next line must not take the wrapped one with it."""
    result: list[Opcode] = []
    for opcode in SequenceMatcher(None, a, other, autojunk=False).get_opcodes():
        result += _split(opcode, a, other) if opcode[0] == "replace" else [opcode]
    return result


def _split(opcode: Opcode, a: list[str], other: list[str]) -> list[Opcode]:
    _tag, i1, i2, j1, j2 = opcode
    parts: list[Opcode] = []
    j = j1
    for i in range(i1, i2):
        wanted, taken, start = _signature(a[i]), Counter[str](), j
        while j < j2 and taken != wanted:
            taken += _signature(other[j])
            j += 1
        if taken != wanted:
            return [opcode]
        parts.append(("replace", i, i + 1, start, j))
    return parts if j == j2 else [opcode]


def _signature(line: str) -> Counter[str]:
    """The line's characters but whitespace: equal for a line and its re-wrapping."""
    return Counter(char for char in line if not char.isspace())


def _changes(a: list[str], other: list[str]) -> list[tuple[int, int]]:
    return [(i1, i2) for tag, i1, i2, _j1, _j2 in _opcodes(a, other) if tag != "equal"]


def _regions(blocks: list[tuple[int, int, str]]) -> list[tuple[int, int, set[str]]]:
    """Blocks merged where they overlap (or insert at the same place), in order; blocks
    that only touch stay apart, so a change next to a re-wrapped line leaves it alone."""
    merged: list[tuple[int, int, set[str]]] = []
    for i1, i2, source in sorted(blocks):
        if merged and (i1 < merged[-1][1] or i1 == merged[-1][0]):
            start, end, sources = merged[-1]
            merged[-1] = (start, max(end, i2), sources | {source})
        else:
            merged.append((i1, i2, {source}))
    return merged


def _mapper(a: list[str], other: list[str]) -> Callable[..., int]:
    """Line index in ``a`` -> the matching index in ``other``, at region edges: a
    region's start maps before, its end after, lines ``other`` inserted there."""
    opcodes = _opcodes(a, other)

    def at(position: int, *, end: bool = False) -> int:
        edges = [(j1, j2) for tag, i1, i2, j1, j2 in opcodes
                 if tag != "equal" and (i2 if end else i1) == position]
        if edges:
            return edges[-1][1] if end else edges[0][0]
        for tag, i1, i2, j1, j2 in opcodes:
            if tag == "equal" and i1 <= position <= i2:
                return j1 + (position - i1)
            if position == i1:
                return j1
            if position == i2:
                return j2
        return len(other)

    return at
