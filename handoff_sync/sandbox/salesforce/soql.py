"""SOQL-subset parser and evaluator for the loopback Salesforce emulator.

The query endpoint calls :func:`parse` on the ``q`` parameter, looks the object up itself,
checks the query against that object's field types with :func:`compile_query`, then filters,
sorts and pages in-memory records with :meth:`CompiledQuery.run`. Every rejection is a
:class:`SoqlError` carrying Salesforce's ``errorCode`` and message wording, so connectors see
what the real API would send (crm-api-reference.md 2.2 and 2.5).

Grammar::

    SELECT (COUNT() | field [, field ...]) FROM Object
      [WHERE expr] [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST] [, ...]]
      [LIMIT n] [OFFSET n]

    expr := unary (AND unary)* | unary (OR unary)*     -- no AND/OR mix without parentheses
    unary := NOT unary | '(' expr ')' | field op value
    op := = != <> < <= > >= LIKE IN NOT IN

Semantics worth knowing:

* Text compares case-insensitively (``str.lower``), except id/reference fields, which compare
  case-sensitively; LIKE is always case-insensitive and matches the whole value.
* A null (or missing) field value fails every comparison except ``= null`` and the
  negative ones: unlike SQL, SOQL's ``Name != 'x'`` and ``Name NOT IN ('x')`` keep rows
  whose Name is null; ``NOT`` is plain negation.
* Boolean fields treat null as false, as Salesforce documents (``= null`` means ``= false``).
* Relative date literals cover whole UTC days; against datetime fields ``= TODAY`` means
  "within today" and ``> TODAY`` means "after the end of today".

Everything else real SOQL has (relationship fields, subqueries, GROUP BY, aggregates other
than COUNT(), TYPEOF, WITH, FOR, USING SCOPE, INCLUDES/EXCLUDES, functions, bind variables,
other date literals) is rejected with MALFORMED_QUERY rather than silently ignored.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, date, datetime, time, timedelta, timezone
from itertools import islice
from typing import Any, Final, NoReturn, TypeAlias, TypeVar

__all__ = [
    "INVALID_FIELD",
    "INVALID_TYPE",
    "MALFORMED_QUERY",
    "MAX_OFFSET",
    "BoolOp",
    "CompiledQuery",
    "Condition",
    "Expr",
    "Literal",
    "Not",
    "Query",
    "SoqlError",
    "compile_query",
    "invalid_type_error",
    "parse",
]

MALFORMED_QUERY: Final = "MALFORMED_QUERY"
INVALID_FIELD: Final = "INVALID_FIELD"
INVALID_TYPE: Final = "INVALID_TYPE"
MAX_OFFSET: Final = 2000  # Salesforce: NUMBER_OUTSIDE_VALID_RANGE above this
_MAX_DEPTH: Final = 100  # parentheses/NOT nesting; keeps hostile input off the C stack

_UTC: Final = UTC


class SoqlError(Exception):
    """A query Salesforce would reject; ``error_code`` and ``message`` go into the 400 body."""

    error_code: str
    message: str

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message

    def __reduce__(self) -> tuple[type[SoqlError], tuple[str, str]]:
        # Exception pickles as cls(*args); our constructor takes two arguments.
        return (type(self), (self.error_code, self.message))


def _located(text: str, pos: int, detail: str) -> str:
    """Salesforce's layout: the offending line, a caret, ``ERROR at Row:r:Column:c``, detail."""
    pos = max(0, min(pos, len(text)))
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    if line_end == -1:
        line_end = len(text)
    row = text.count("\n", 0, pos) + 1
    col = pos - line_start + 1
    line = text[line_start:line_end]
    return f"\n{line}\n{' ' * (col - 1)}^\nERROR at Row:{row}:Column:{col}\n{detail}"


def _error(code: str, text: str, pos: int, detail: str) -> SoqlError:
    return SoqlError(code, _located(text, pos, detail))


# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Literal:
    """A value in WHERE.

    ``kind`` and ``value``: ``string`` (decoded str), ``number`` (int or float), ``boolean``,
    ``null`` (None), ``date``, ``datetime`` (aware, UTC), ``relative`` ((first, last) day
    offsets from today, inclusive), ``pattern`` (LIKE: tuple of (is_wildcard, text) parts).
    """

    kind: str
    value: Any
    text: str = dc_field(default="", compare=False)
    pos: int = dc_field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Condition:
    """``field op value``; op is one of = != < <= > >= LIKE IN, NOT IN (``<>`` reads as !=)."""

    field: str
    op: str
    value: Literal | tuple[Literal, ...]
    pos: int = dc_field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class BoolOp:
    """Terms joined by one connective, ``AND`` or ``OR`` (SOQL forbids mixing them)."""

    op: str
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    operand: Expr


Expr: TypeAlias = "Condition | BoolOp | Not"


@dataclass(frozen=True)
class Query:
    """A parsed query; names are as written, resolution happens in :func:`compile_query`.

    ``order_by`` items are ``(field, descending, nulls_first)``; ``nulls_first`` is None when
    the query did not say (ASC defaults to NULLS FIRST, DESC to NULLS LAST).
    """

    object_name: str
    fields: tuple[str, ...]
    count_only: bool
    where: Expr | None
    order_by: tuple[tuple[str, bool, bool | None], ...]
    limit: int | None
    offset: int | None
    # Source positions, kept for Salesforce-style carets in compile-time errors.
    text: str = dc_field(default="", compare=False, repr=False)
    object_pos: int = dc_field(default=0, compare=False, repr=False)
    field_positions: tuple[int, ...] = dc_field(default=(), compare=False, repr=False)
    order_by_positions: tuple[int, ...] = dc_field(default=(), compare=False, repr=False)


def invalid_type_error(query: Query) -> SoqlError:
    """The INVALID_TYPE error Salesforce sends for an unknown object, for the endpoint to raise."""
    name = query.object_name
    return _error(
        INVALID_TYPE,
        query.text,
        query.object_pos,
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object,"
        " be sure to append the '__c' after the entity name. Please reference your WSDL or the"
        " describe call for the appropriate names.",
    )


# --------------------------------------------------------------------------- lexer

_IDENT: Final = "ident"
_STRING: Final = "string"
_NUMBER: Final = "number"
_DATE: Final = "date"
_DATETIME: Final = "datetime"
_OP: Final = "op"
_PUNCT: Final = "punct"
_EOF: Final = "eof"


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    text: str  # as written
    pos: int
    value: Any = None  # ident: upper-cased; string: raw body; number/date/datetime: parsed


_TOKEN_RE: Final = re.compile(
    r"""
    (?P<ws>[ \t\r\n\f\v]+)
    |(?P<string>'(?:[^'\\]|\\.)*')
    |(?P<temporal>\d{4}-\d{2}-\d{2}
        (?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?)(?![A-Za-z0-9_:.+-])
    |(?P<badtemporal>\d{4}-[A-Za-z0-9_:.+-]*)
    |(?P<number>[+-]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)(?![A-Za-z0-9_.])
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>!=|<>|<=|>=|=|<|>)
    |(?P<punct>[(),.:])
    """,
    re.VERBOSE | re.DOTALL,
)
_TEMPORAL_RE: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?)?"
)
_JUNK_RE: Final = re.compile(r"[^ \t\r\n\f\v'(),]+")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    end = len(text)
    match = _TOKEN_RE.match
    while pos < end:
        m = match(text, pos)
        if m is None:
            if text[pos] == "'":
                raise _error(MALFORMED_QUERY, text, pos, "unterminated string literal")
            junk = _JUNK_RE.match(text, pos)
            shown = junk.group() if junk else text[pos]
            raise _error(MALFORMED_QUERY, text, pos, f"unexpected token: '{shown}'")
        kind = m.lastgroup
        s = m.group()
        if kind == "ident":
            tokens.append(_Token(_IDENT, s, pos, s.upper()))
        elif kind == "string":
            tokens.append(_Token(_STRING, s, pos, s[1:-1]))
        elif kind == "number":
            tokens.append(_Token(_NUMBER, s, pos, _number_value(text, pos, s)))
        elif kind == "temporal":
            tokens.append(_temporal_token(text, pos, s))
        elif kind == "badtemporal":
            raise _error(
                MALFORMED_QUERY,
                text,
                pos,
                f"invalid date/time literal '{s}': use YYYY-MM-DD or"
                " YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm), unquoted",
            )
        elif kind == "op":
            tokens.append(_Token(_OP, s, pos, "!=" if s == "<>" else s))
        elif kind == "punct":
            tokens.append(_Token(_PUNCT, s, pos, s))
        pos = m.end()
    tokens.append(_Token(_EOF, "", end))
    return tokens


def _number_value(text: str, pos: int, s: str) -> int | float:
    if "." not in s and "e" not in s and "E" not in s:
        return int(s)
    value = float(s)
    if value in (float("inf"), float("-inf")):
        raise _error(MALFORMED_QUERY, text, pos, f"number out of range: '{s}'")
    return value


def _temporal_token(text: str, pos: int, s: str) -> _Token:
    m = _TEMPORAL_RE.fullmatch(s)
    if m is None:  # the lexer pattern and this one describe the same shape
        raise _error(MALFORMED_QUERY, text, pos, f"invalid date/time literal '{s}'")
    year, month, day, hh, mm, ss, frac, zone = m.groups()
    try:
        day_value = date(int(year), int(month), int(day))
    except ValueError:
        raise _error(MALFORMED_QUERY, text, pos, f"invalid date literal '{s}'") from None
    if hh is None:
        return _Token(_DATE, s, pos, day_value)
    if zone is None:
        raise _error(
            MALFORMED_QUERY,
            text,
            pos,
            f"invalid datetime literal '{s}': it needs a time zone, Z or an offset like +00:00",
        )
    if zone != "Z" and ":" not in zone:
        raise _error(
            MALFORMED_QUERY,
            text,
            pos,
            f"invalid datetime literal '{s}': write the offset as +hh:mm or -hh:mm",
        )
    try:
        if zone == "Z":
            tz = _UTC
        else:
            off_h, off_m = int(zone[1:3]), int(zone[4:6])
            if off_m >= 60:
                raise ValueError(zone)
            offset = timedelta(hours=off_h, minutes=off_m)
            tz = timezone(offset if zone[0] == "+" else -offset)
        micro = int((frac or "").ljust(6, "0")[:6])  # digits past microseconds are dropped
        value = datetime(
            day_value.year,
            day_value.month,
            day_value.day,
            int(hh),
            int(mm),
            int(ss),
            micro,
            tzinfo=tz,
        ).astimezone(_UTC)
    except (ValueError, OverflowError):
        raise _error(MALFORMED_QUERY, text, pos, f"invalid datetime literal '{s}'") from None
    return _Token(_DATETIME, s, pos, value)


# --------------------------------------------------------------------------- parser

# Words that cannot be a field name (Salesforce's reserved list plus the literals).
_RESERVED_FIELD_WORDS: Final = frozenset(
    {
        "AND", "ASC", "BY", "DESC", "EXCLUDES", "FALSE", "FIRST", "FROM", "GROUP", "HAVING",
        "IN", "INCLUDES", "LAST", "LIKE", "LIMIT", "NOT", "NULL", "NULLS", "OFFSET", "OR",
        "SELECT", "TRUE", "TYPEOF", "WHERE", "WITH",
    }
)  # fmt: skip
# Object names may be words like Order or Group, so only a few clause words are refused.
_RESERVED_OBJECT_WORDS: Final = frozenset(
    {"AND", "FALSE", "FROM", "IN", "LIKE", "LIMIT", "NOT", "NULL", "OFFSET", "OR", "SELECT",
     "TRUE", "USING", "WHERE", "WITH"}
)  # fmt: skip
# Real SOQL that this emulator refuses: word -> what to call it in the message.
_UNSUPPORTED_WORDS: Final = {
    "GROUP": "GROUP BY",
    "HAVING": "HAVING",
    "WITH": "WITH clause",
    "FOR": "FOR VIEW/REFERENCE/UPDATE",
    "UPDATE": "UPDATE TRACKING/VIEWSTAT",
    "USING": "USING SCOPE",
    "ALL": "ALL ROWS",
    "TYPEOF": "TYPEOF",
    "INCLUDES": "INCLUDES",
    "EXCLUDES": "EXCLUDES",
}
_AGGREGATES: Final = frozenset({"AVG", "COUNT", "COUNT_DISTINCT", "MAX", "MIN", "SUM"})
# Relative date literals: name -> (first, last) day offsets from today, inclusive.
_FIXED_RELATIVE: Final = {
    "TODAY": (0, 0),
    "YESTERDAY": (-1, -1),
    "TOMORROW": (1, 1),
    "LAST_90_DAYS": (-90, 0),
    "NEXT_90_DAYS": (1, 90),
}
_N_DAYS_RELATIVE: Final = frozenset({"LAST_N_DAYS", "NEXT_N_DAYS"})
_OTHER_DATE_LITERAL_RE: Final = re.compile(r"(?:LAST|NEXT|THIS)_\w+|N_\w+_AGO")
_SIMPLE_ESCAPES: Final = {
    "'": "'", '"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f",
}  # fmt: skip
_HEX4_RE: Final = re.compile(r"[0-9a-fA-F]{4}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    # -- token helpers

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        if tok.kind != _EOF:
            self.i += 1
        return tok

    @staticmethod
    def is_word(tok: _Token, *words: str) -> bool:
        return tok.kind == _IDENT and tok.value in words

    @staticmethod
    def is_punct(tok: _Token, char: str) -> bool:
        return tok.kind == _PUNCT and tok.value == char

    def fail(self, pos: int, detail: str) -> NoReturn:
        raise _error(MALFORMED_QUERY, self.text, pos, detail)

    def unexpected(self, tok: _Token, expected: str | None = None) -> NoReturn:
        if tok.kind == _EOF:
            detail = "unexpected end of query"
        elif tok.kind == _IDENT and tok.value in _UNSUPPORTED_WORDS:
            self.unsupported(tok.pos, _UNSUPPORTED_WORDS[tok.value])
        else:
            detail = f"unexpected token: '{tok.text}'"
        if expected:
            detail += f" (expected {expected})"
        self.fail(tok.pos, detail)

    def unsupported(self, pos: int, what: str) -> NoReturn:
        self.fail(pos, f"{what} is not supported by the SOQL emulator")

    def expect_word(self, word: str) -> _Token:
        tok = self.advance()
        if not self.is_word(tok, word):
            self.unexpected(tok, word)
        return tok

    def expect_punct(self, char: str) -> _Token:
        tok = self.advance()
        if not self.is_punct(tok, char):
            self.unexpected(tok, f"'{char}'")
        return tok

    # -- query

    def parse_query(self) -> Query:
        self.expect_word("SELECT")
        fields, positions, count_only = self.parse_select_list()
        self.expect_word("FROM")
        obj = self.advance()
        if obj.kind != _IDENT or obj.value in _RESERVED_OBJECT_WORDS:
            self.unexpected(obj, "an object name")
        if self.is_punct(self.peek(), "."):
            self.unexpected(self.peek())
        where = None
        if self.is_word(self.peek(), "WHERE"):
            self.advance()
            where = self.parse_expr()
        order_by: list[tuple[str, bool, bool | None]] = []
        order_positions: list[int] = []
        if self.is_word(self.peek(), "ORDER") and self.is_word(self.peek(1), "BY"):
            self.advance()
            self.advance()
            while True:
                name_tok = self.parse_field_name()
                order_by.append(self.parse_order_modifiers(name_tok.text))
                order_positions.append(name_tok.pos)
                if not self.is_punct(self.peek(), ","):
                    break
                self.advance()
        limit = self.parse_count_clause("LIMIT")
        offset = self.parse_count_clause("OFFSET")
        tok = self.peek()
        if tok.kind != _EOF:
            self.unexpected(tok)
        return Query(
            object_name=obj.text,
            fields=fields,
            count_only=count_only,
            where=where,
            order_by=tuple(order_by),
            limit=limit,
            offset=offset,
            text=self.text,
            object_pos=obj.pos,
            field_positions=positions,
            order_by_positions=tuple(order_positions),
        )

    def parse_select_list(self) -> tuple[tuple[str, ...], tuple[int, ...], bool]:
        fields: list[str] = []
        positions: list[int] = []
        while True:
            tok = self.peek()
            if self.is_punct(tok, "("):
                self.unsupported(tok.pos, "a subquery in SELECT")
            if tok.kind == _IDENT and self.is_punct(self.peek(1), "("):
                if (
                    tok.value == "COUNT"
                    and self.is_punct(self.peek(2), ")")
                    and not fields
                    and not self.is_punct(self.peek(3), ",")
                ):
                    self.i += 3
                    return (), (), True
                if tok.value == "COUNT" and self.is_punct(self.peek(2), ")"):
                    self.fail(tok.pos, "COUNT() must be the only item in the SELECT list")
                self.unsupported_function(tok)
            name_tok = self.parse_field_name()
            fields.append(name_tok.text)
            positions.append(name_tok.pos)
            if not self.is_punct(self.peek(), ","):
                break
            self.advance()
        nxt = self.peek()
        if not self.is_word(nxt, "FROM"):
            self.unexpected(nxt, "',' or FROM")
        return tuple(fields), tuple(positions), False

    def unsupported_function(self, tok: _Token) -> NoReturn:
        kind = "aggregate function" if tok.value in _AGGREGATES else "function"
        self.unsupported(tok.pos, f"{kind} {tok.text}()")

    def parse_field_name(self) -> _Token:
        tok = self.advance()
        if tok.kind != _IDENT or tok.value in _RESERVED_FIELD_WORDS:
            self.unexpected(tok, "a field name")
        nxt = self.peek()
        if self.is_punct(nxt, "."):
            path = [tok.text]
            while self.is_punct(self.peek(), ".") and self.peek(1).kind == _IDENT:
                path.append(self.peek(1).text)
                self.i += 2
            self.unsupported(tok.pos, f"relationship field '{'.'.join(path)}'")
        if self.is_punct(nxt, "("):
            self.unsupported_function(tok)
        return tok

    def parse_order_modifiers(self, name: str) -> tuple[str, bool, bool | None]:
        descending = False
        if self.is_word(self.peek(), "ASC", "DESC"):
            descending = self.advance().value == "DESC"
        nulls_first: bool | None = None
        if self.is_word(self.peek(), "NULLS"):
            self.advance()
            tok = self.advance()
            if not self.is_word(tok, "FIRST", "LAST"):
                self.unexpected(tok, "FIRST or LAST")
            nulls_first = tok.value == "FIRST"
        return (name, descending, nulls_first)

    def parse_count_clause(self, word: str) -> int | None:
        if not self.is_word(self.peek(), word):
            return None
        self.advance()
        tok = self.advance()
        if tok.kind != _NUMBER or not isinstance(tok.value, int) or tok.text[0] in "+-":
            if tok.kind == _NUMBER:
                self.fail(tok.pos, f"{word} must be a non-negative integer, got '{tok.text}'")
            self.unexpected(tok, "an integer")
        if word == "OFFSET" and tok.value > MAX_OFFSET:
            self.fail(
                tok.pos,
                f"NUMBER_OUTSIDE_VALID_RANGE: Maximum SOQL offset allowed is {MAX_OFFSET}",
            )
        return int(tok.value)

    # -- WHERE

    def parse_expr(self) -> Expr:
        terms = [self.parse_unary()]
        connective: str | None = None
        while self.is_word(self.peek(), "AND", "OR"):
            tok = self.advance()
            if connective is None:
                connective = tok.value
            elif tok.value != connective:
                self.fail(
                    tok.pos,
                    f"unexpected token: '{tok.text}' (SOQL does not allow mixing AND and OR"
                    " without parentheses)",
                )
            terms.append(self.parse_unary())
        if connective is None:
            return terms[0]
        return BoolOp(connective, tuple(terms))

    def parse_unary(self) -> Expr:
        tok = self.peek()
        if self.is_word(tok, "NOT") or self.is_punct(tok, "("):
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                self.fail(tok.pos, "query is nested too deeply")
            self.advance()
            if tok.kind == _IDENT:
                result: Expr = Not(self.parse_unary())
            else:
                result = self.parse_expr()
                self.expect_punct(")")
            self.depth -= 1
            return result
        return self.parse_condition()

    def parse_condition(self) -> Condition:
        name_tok = self.parse_field_name()
        op_tok = self.advance()
        if op_tok.kind == _OP or self.is_word(op_tok, "LIKE", "IN"):
            op = op_tok.value
        elif self.is_word(op_tok, "NOT"):
            nxt = self.advance()
            if self.is_word(nxt, "LIKE"):
                self.fail(nxt.pos, "unexpected token: 'LIKE' (write NOT field LIKE 'pattern')")
            if not self.is_word(nxt, "IN"):
                self.unexpected(nxt, "IN")
            op = "NOT IN"
        else:
            self.unexpected(op_tok, "a comparison operator")
        value: Literal | tuple[Literal, ...]
        if op in ("IN", "NOT IN"):
            value = self.parse_list()
        elif op == "LIKE":
            tok = self.advance()
            if tok.kind != _STRING:
                if tok.kind == _EOF:
                    self.unexpected(tok)
                self.fail(tok.pos, f"LIKE needs a quoted string pattern, got '{tok.text}'")
            value = Literal("pattern", self.decode_string(tok, like=True), tok.text, tok.pos)
        else:
            value = self.parse_value()
            if value.kind == "null" and op not in ("=", "!="):
                self.fail(value.pos, f"null can only be compared with = or !=, not {op_tok.text}")
        return Condition(name_tok.text, op, value, name_tok.pos)

    def parse_list(self) -> tuple[Literal, ...]:
        open_tok = self.advance()
        if self.is_punct(open_tok, ":"):
            self.unsupported(open_tok.pos, "a bind variable")
        if not self.is_punct(open_tok, "("):
            self.unexpected(open_tok, "'('")
        if self.is_word(self.peek(), "SELECT"):
            self.unsupported(self.peek().pos, "a subquery (semi-join) in IN")
        if self.is_punct(self.peek(), ")"):
            self.fail(self.peek().pos, "unexpected token: ')' (the IN list must not be empty)")
        values = [self.parse_value()]
        while self.is_punct(self.peek(), ","):
            self.advance()
            values.append(self.parse_value())
        self.expect_punct(")")
        return tuple(values)

    def parse_value(self) -> Literal:
        tok = self.advance()
        kind = tok.kind
        if kind == _STRING:
            return Literal("string", self.decode_string(tok, like=False), tok.text, tok.pos)
        if kind == _NUMBER:
            return Literal("number", tok.value, tok.text, tok.pos)
        if kind in (_DATE, _DATETIME):
            return Literal(kind, tok.value, tok.text, tok.pos)
        if kind == _PUNCT and tok.value == ":":
            self.unsupported(tok.pos, "a bind variable")
        if kind != _IDENT:
            self.unexpected(tok, "a value")
        word = tok.value
        if word in ("TRUE", "FALSE"):
            return Literal("boolean", word == "TRUE", tok.text, tok.pos)
        if word == "NULL":
            return Literal("null", None, tok.text, tok.pos)
        if word in _FIXED_RELATIVE:
            return Literal("relative", _FIXED_RELATIVE[word], tok.text, tok.pos)
        if word in _N_DAYS_RELATIVE:
            return self.parse_n_days(tok)
        if _OTHER_DATE_LITERAL_RE.fullmatch(word):
            self.unsupported(tok.pos, f"date literal {tok.text}")
        if self.is_punct(self.peek(), "("):
            self.unsupported_function(tok)
        self.unexpected(tok, "a value")

    def parse_n_days(self, tok: _Token) -> Literal:
        colon = self.advance()
        num = self.advance()
        # Salesforce writes these as one word: LAST_N_DAYS:7, no spaces.
        adjacent = colon.pos == tok.pos + len(tok.text) and num.pos == colon.pos + 1
        if (
            not self.is_punct(colon, ":")
            or num.kind != _NUMBER
            or not isinstance(num.value, int)
            or num.text[0] in "+-"
            or not adjacent
        ):
            self.fail(tok.pos, f"{tok.text} needs a day count, written like {tok.text}:7")
        n = int(num.value)
        days = (-n, 0) if tok.value == "LAST_N_DAYS" else (1, n)
        return Literal("relative", days, self.text[tok.pos : num.pos + len(num.text)], tok.pos)

    def decode_string(self, tok: _Token, *, like: bool) -> Any:
        """Undo SOQL escapes; for LIKE, return (is_wildcard, text) parts instead of a str."""
        raw: str = tok.value
        if "\\" not in raw and not like:
            return raw
        parts: list[tuple[bool, str]] = []
        buf: list[str] = []
        i = 0
        n = len(raw)
        while i < n:
            ch = raw[i]
            if ch == "\\":
                esc = raw[i + 1]  # the lexer guarantees a character after every backslash
                if esc in _SIMPLE_ESCAPES:
                    buf.append(_SIMPLE_ESCAPES[esc])
                    i += 2
                elif esc == "u":
                    char, i = self.decode_unicode(tok, raw, i)
                    buf.append(char)
                elif esc in "%_" and like:
                    buf.append(esc)
                    i += 2
                else:
                    hint = " (\\% and \\_ are only valid in LIKE patterns)" if esc in "%_" else ""
                    self.fail(tok.pos + 1 + i, f"invalid escape sequence '\\{esc}'{hint}")
            elif like and ch in "%_":
                if buf:
                    parts.append((False, "".join(buf)))
                    buf = []
                parts.append((True, ch))
                i += 1
            else:
                buf.append(ch)
                i += 1
        if not like:
            return "".join(buf)
        if buf:
            parts.append((False, "".join(buf)))
        return tuple(parts)

    def decode_unicode(self, tok: _Token, raw: str, i: int) -> tuple[str, int]:
        hex4 = raw[i + 2 : i + 6]
        if not _HEX4_RE.fullmatch(hex4):
            self.fail(tok.pos + 1 + i, "invalid unicode escape: \\u needs four hex digits")
        code = int(hex4, 16)
        i += 6
        if 0xD800 <= code <= 0xDBFF:  # Java-style surrogate pair: \uD83D\uDE00
            low = raw[i + 2 : i + 6] if raw[i : i + 2] == "\\u" else ""
            if _HEX4_RE.fullmatch(low) and 0xDC00 <= int(low, 16) <= 0xDFFF:
                code = 0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)
                return chr(code), i + 6
        if 0xD800 <= code <= 0xDFFF:
            self.fail(tok.pos + 1 + i - 6, "invalid unicode escape: unpaired surrogate")
        return chr(code), i


def parse(text: str) -> Query:
    """Parse a SOQL query; raises :class:`SoqlError` (MALFORMED_QUERY) on any syntax error."""
    return _Parser(text).parse_query()


# --------------------------------------------------------------------------- compiler

Record: TypeAlias = Mapping[str, Any]
Predicate: TypeAlias = Callable[[Record], bool]
R = TypeVar("R", bound=Record)  # run() hands back the caller's own record objects

_ID_TYPES: Final = frozenset({"id", "reference"})
_TEXT_TYPES: Final = frozenset(
    {"string", "textarea", "picklist", "multipicklist", "combobox", "email", "phone", "url",
     "encryptedstring"}
)  # fmt: skip
_NUMBER_TYPES: Final = frozenset({"double", "currency", "percent", "int", "integer", "long"})


def _category(field_type: str) -> str | None:
    if field_type in _TEXT_TYPES:
        return "text"
    if field_type in _ID_TYPES:
        return "id"
    if field_type in _NUMBER_TYPES:
        return "number"
    if field_type in ("boolean", "date", "datetime"):
        return field_type
    return None


# Literal kinds each field category accepts (null is checked separately).
_ACCEPTS: Final = {
    "text": frozenset({"string"}),
    "id": frozenset({"string"}),
    "number": frozenset({"number"}),
    "boolean": frozenset({"boolean"}),
    "date": frozenset({"date", "relative"}),
    "datetime": frozenset({"datetime", "relative"}),
}
_OPS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _lower(value: str) -> str:
    return value.lower()


class CompiledQuery:
    """A query bound to one object's fields; run it as often as you like."""

    __slots__ = ("_predicate", "_sorts", "count_only", "limit", "offset", "select_fields")

    select_fields: tuple[str, ...]
    count_only: bool
    limit: int | None
    offset: int | None

    def __init__(
        self,
        *,
        select_fields: tuple[str, ...],
        count_only: bool,
        limit: int | None,
        offset: int | None,
        predicate: Predicate | None,
        sorts: tuple[_Sort, ...],
    ) -> None:
        self.select_fields = select_fields
        self.count_only = count_only
        self.limit = limit
        self.offset = offset
        self._predicate = predicate
        self._sorts = sorts

    def matches(self, record: Record) -> bool:
        """Whether the WHERE clause accepts ``record`` (always true without WHERE)."""
        return True if self._predicate is None else bool(self._predicate(record))

    def run(self, records: Iterable[R]) -> list[R]:
        """Filter, ORDER BY, then OFFSET, then LIMIT; returns the given objects, not copies."""
        predicate = self._predicate
        start = self.offset or 0
        stop = None if self.limit is None else start + self.limit
        selected: Iterable[R] = records if predicate is None else filter(predicate, records)
        if not self._sorts:
            # No ORDER BY: stop reading as soon as the page is full.
            return list(islice(selected, start, stop))
        rows = list(selected)
        # Stable sorts from the last key to the first give a multi-key sort.
        for sort in reversed(self._sorts):
            rows = sort.apply(rows)
        return rows[start:stop]


@dataclass(frozen=True, slots=True)
class _Sort:
    field: str
    descending: bool
    nulls_first: bool
    key: Callable[[Any], Any] | None  # None: sort by the raw value
    null_is_false: bool  # booleans: null sorts as false, as Salesforce treats it

    def apply(self, rows: list[R]) -> list[R]:
        name = self.field
        key = self.key
        if self.null_is_false:
            return sorted(rows, key=lambda r: bool(r.get(name)), reverse=self.descending)
        present = [r for r in rows if r.get(name) is not None]
        if len(present) == len(rows):
            nulls: list[R] = []
        else:
            nulls = [r for r in rows if r.get(name) is None]
        if key is None:
            present.sort(key=lambda r: r[name], reverse=self.descending)
        else:
            present.sort(key=lambda r: key(r[name]), reverse=self.descending)
        return nulls + present if self.nulls_first else present + nulls


class _Compiler:
    def __init__(
        self, query: Query, object_name: str, field_types: Mapping[str, str], now: datetime
    ) -> None:
        self.query = query
        self.object_name = object_name
        self.by_lower = {name.lower(): name for name in field_types}
        self.types = {name: str(kind).lower() for name, kind in field_types.items()}
        now_utc = now.replace(tzinfo=_UTC) if now.tzinfo is None else now.astimezone(_UTC)
        self.today = now_utc.date()

    def fail(self, code: str, pos: int, detail: str) -> NoReturn:
        raise _error(code, self.query.text, pos, detail)

    def resolve(self, name: str, pos: int) -> str:
        canonical = self.by_lower.get(name.lower())
        if canonical is None:
            self.fail(
                INVALID_FIELD,
                pos,
                f"No such column '{name}' on entity '{self.object_name}'. If you are attempting"
                " to use a custom field, be sure to append the '__c' after the custom field"
                " name. Please reference your WSDL or the describe call for the appropriate"
                " names.",
            )
        return canonical

    def category(self, canonical: str, written: str, pos: int, use: str) -> str:
        cat = _category(self.types[canonical])
        if cat is None:
            self.fail(
                INVALID_FIELD,
                pos,
                f"field '{written}' of type {self.types[canonical]} cannot be used in {use}"
                " by the SOQL emulator",
            )
        return cat

    # -- query

    def compile(self) -> CompiledQuery:
        q = self.query
        positions = q.field_positions or (0,) * len(q.fields)
        select = dict.fromkeys(self.resolve(n, p) for n, p in zip(q.fields, positions, strict=True))
        predicate = None if q.where is None else self.expr(q.where)
        order_positions = q.order_by_positions or (0,) * len(q.order_by)
        sorts = tuple(
            self.sort(item, p) for item, p in zip(q.order_by, order_positions, strict=True)
        )
        return CompiledQuery(
            select_fields=tuple(select),
            count_only=q.count_only,
            limit=q.limit,
            offset=q.offset,
            predicate=predicate,
            sorts=sorts,
        )

    def sort(self, item: tuple[str, bool, bool | None], pos: int) -> _Sort:
        written, descending, nulls_first = item
        name = self.resolve(written, pos)
        cat = self.category(name, written, pos, "ORDER BY")
        return _Sort(
            field=name,
            descending=descending,
            nulls_first=(not descending) if nulls_first is None else nulls_first,
            key=_lower if cat == "text" else None,
            null_is_false=cat == "boolean",
        )

    # -- WHERE

    def expr(self, node: Expr) -> Predicate:
        if isinstance(node, Condition):
            return self.condition(node)
        if isinstance(node, Not):
            inner = self.expr(node.operand)
            return lambda r: not inner(r)
        terms = tuple(self.expr(t) for t in node.operands)
        # Two and three terms are unrolled: this runs once per record per query, and the
        # closures beat all()/any() over a generator by about 2x on 100,000 records.
        if node.op == "AND":
            if len(terms) == 2:
                a, b = terms
                return lambda r: a(r) and b(r)
            if len(terms) == 3:
                a, b, c = terms
                return lambda r: a(r) and b(r) and c(r)
            return lambda r: all(t(r) for t in terms)
        if len(terms) == 2:
            a, b = terms
            return lambda r: a(r) or b(r)
        if len(terms) == 3:
            a, b, c = terms
            return lambda r: a(r) or b(r) or c(r)
        return lambda r: any(t(r) for t in terms)

    def check_literal(self, cat: str, name: str, ftype: str, lit: Literal) -> None:
        if lit.kind == "null" or lit.kind in _ACCEPTS[cat]:
            return
        if cat in ("text", "id"):
            expected, quoting = ("id" if cat == "id" else "string"), "should"
        else:
            expected = {"datetime": "dateTime", "int": "integer"}.get(ftype, ftype)
            quoting = "should not"
        self.fail(
            INVALID_FIELD,
            lit.pos,
            f"value of filter criterion for field '{name}' must be of type {expected} and"
            f" {quoting} be enclosed in quotes",
        )

    def condition(self, cond: Condition) -> Predicate:
        name = self.resolve(cond.field, cond.pos)
        cat = self.category(name, cond.field, cond.pos, "WHERE")
        ftype = self.types[name]
        op = cond.op
        if op == "LIKE":
            if cat not in ("text", "id"):
                self.fail(
                    INVALID_FIELD,
                    cond.pos,
                    f"invalid operator on field '{cond.field}': LIKE only works on text fields",
                )
            assert isinstance(cond.value, Literal)
            return _like_predicate(name, cond.value.value)
        if op in ("IN", "NOT IN"):
            assert isinstance(cond.value, tuple)
            for lit in cond.value:
                self.check_literal(cat, cond.field, ftype, lit)
            return self.membership(name, cat, cond.value, negate=op == "NOT IN")
        assert isinstance(cond.value, Literal)
        lit = cond.value
        self.check_literal(cat, cond.field, ftype, lit)
        if cat == "boolean":
            if op not in ("=", "!="):
                self.fail(
                    INVALID_FIELD,
                    cond.pos,
                    f"invalid operator on boolean field '{cond.field}': only = and != are allowed",
                )
            want = bool(lit.value)  # null reads as false on boolean fields
            if op == "!=":
                want = not want
            return lambda r: bool(r.get(name)) is want
        if lit.kind == "null":
            if op == "=":
                return lambda r: r.get(name) is None
            return lambda r: r.get(name) is not None
        if lit.kind == "relative":
            return self.range_predicate(name, cat, op, lit)
        compare = _OPS[op]
        if op == "!=":  # SOQL, unlike SQL, counts a null as "not equal" to any value
            if cat == "text":
                unwanted = lit.value.lower()
                return lambda r: (v := r.get(name)) is None or v.lower() != unwanted
            return lambda r: (v := r.get(name)) is None or v != lit.value
        if cat == "text":
            wanted = lit.value.lower()
            if op == "=":  # the common case, without the operator call
                return lambda r: (v := r.get(name)) is not None and v.lower() == wanted
            return lambda r: (v := r.get(name)) is not None and compare(v.lower(), wanted)
        value = lit.value
        if op == "=":
            return lambda r: (v := r.get(name)) is not None and v == value
        return lambda r: (v := r.get(name)) is not None and compare(v, value)

    def bounds(self, cat: str, lit: Literal) -> tuple[Any, Any]:
        """Half-open [start, end) for a relative literal, in the field's own type."""
        first, last = lit.value
        start = _shift(self.today, first)
        end = _shift(self.today, last + 1)
        if cat == "datetime":
            return _midnight(start), _midnight(end)
        return start, end

    def range_predicate(self, name: str, cat: str, op: str, lit: Literal) -> Predicate:
        start, end = self.bounds(cat, lit)
        if op == "=":
            return lambda r: (v := r.get(name)) is not None and start <= v < end
        if op == "!=":
            return lambda r: (v := r.get(name)) is None or not start <= v < end
        if op == "<":
            return lambda r: (v := r.get(name)) is not None and v < start
        if op == "<=":
            return lambda r: (v := r.get(name)) is not None and v < end
        if op == ">":
            return lambda r: (v := r.get(name)) is not None and v >= end
        return lambda r: (v := r.get(name)) is not None and v >= start  # >=

    def membership(
        self, name: str, cat: str, lits: tuple[Literal, ...], *, negate: bool
    ) -> Predicate:
        if cat == "boolean":
            allowed = frozenset(bool(lit.value) for lit in lits)  # null reads as false
            if negate:
                return lambda r: bool(r.get(name)) not in allowed
            return lambda r: bool(r.get(name)) in allowed
        has_null = any(lit.kind == "null" for lit in lits)
        lower = cat == "text"
        values = frozenset(
            lit.value.lower() if lower else lit.value
            for lit in lits
            if lit.kind not in ("null", "relative")
        )
        ranges = tuple(self.bounds(cat, lit) for lit in lits if lit.kind == "relative")
        if not ranges:
            if lower:
                if negate:
                    return lambda r: (
                        not has_null if (v := r.get(name)) is None else v.lower() not in values
                    )
                if has_null:
                    return lambda r: (v := r.get(name)) is None or v.lower() in values
                return lambda r: (v := r.get(name)) is not None and v.lower() in values
            if negate:
                return lambda r: not has_null if (v := r.get(name)) is None else v not in values
            if has_null:
                return lambda r: (v := r.get(name)) is None or v in values
            return lambda r: (v := r.get(name)) is not None and v in values

        def inside(v: Any) -> bool:
            return v in values or any(start <= v < end for start, end in ranges)

        if negate:
            return lambda r: not has_null if (v := r.get(name)) is None else not inside(v)
        return lambda r: has_null if (v := r.get(name)) is None else inside(v)


def _shift(day: date, days: int) -> date:
    # Huge LAST_N_DAYS:n values clamp to the calendar instead of overflowing.
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=_UTC)


def _like_predicate(name: str, parts: tuple[tuple[bool, str], ...]) -> Predicate:
    """LIKE without a backtracking regex: split on %, then place each piece leftmost.

    Pieces between % signs hold literal text and _ only, so each has a fixed length and the
    leftmost placement is always a correct choice; that keeps hostile patterns linear.
    """
    pieces: list[tuple[str, int]] = [("", 0)]  # (regex source, length in characters)
    for wildcard, text in parts:
        source, length = pieces[-1]
        if wildcard and text == "%":
            pieces.append(("", 0))
        elif wildcard:
            pieces[-1] = (source + ".", length + 1)
        else:
            lowered = text.lower()
            pieces[-1] = (source + re.escape(lowered), length + len(lowered))
    if len(pieces) == 1:
        whole = re.compile(pieces[0][0], re.DOTALL).fullmatch
        return lambda r: (v := r.get(name)) is not None and whole(v.lower()) is not None
    head, head_len = re.compile(pieces[0][0], re.DOTALL), pieces[0][1]
    tail, tail_len = re.compile(pieces[-1][0], re.DOTALL), pieces[-1][1]
    middle = tuple(re.compile(src, re.DOTALL) for src, length in pieces[1:-1] if length)

    def matches(value: str) -> bool:
        s = value.lower()
        tail_at = len(s) - tail_len
        if tail_at < head_len or head.match(s) is None or tail.match(s, tail_at) is None:
            return False
        pos = head_len
        for piece in middle:
            found = piece.search(s, pos, tail_at)
            if found is None:
                return False
            pos = found.end()
        return True

    return lambda r: (v := r.get(name)) is not None and matches(v)


def compile_query(
    query: Query,
    *,
    object_name_canonical: str,
    field_types: Mapping[str, str],
    now: datetime,
) -> CompiledQuery:
    """Bind ``query`` to one object's fields (name -> describe type, e.g. "currency").

    Field names resolve case-insensitively; an unknown one raises INVALID_FIELD "No such
    column", a literal of the wrong type raises INVALID_FIELD with Salesforce's wording.
    ``now`` anchors TODAY and friends (a naive value is taken as UTC).
    """
    return _Compiler(query, object_name_canonical, field_types, now).compile()
