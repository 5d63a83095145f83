"""The sandbox's SOQL subset: what a connector sends through simple-salesforce, and the
errors Salesforce would answer with (crm-api-reference.md 2.2, 2.5)."""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce import format_soql

from handoff_sync.sandbox.salesforce import soql
from tests.property_support import examples

NOW = datetime(2024, 6, 15, 12, 30, tzinfo=UTC)  # "today" is 2024-06-15 (UTC)
PLUS_TWO = timezone(timedelta(hours=2))
MINUS_FIVE = timezone(timedelta(hours=-5))

TYPES: dict[str, str] = {
    "Id": "id",
    "Name": "string",
    "Amount": "currency",
    "Probability": "percent",
    "CloseDate": "date",
    "SystemModstamp": "datetime",
    "IsWon": "boolean",
    "StageName": "picklist",
    "OwnerId": "reference",
    "Description": "textarea",
    "Location__c": "location",  # a type the emulator cannot filter on
}


def _dt(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# A..G; F has nulls and None booleans, G lacks every key but Id (missing reads as null).
RECORDS: tuple[dict[str, Any], ...] = (
    {"Id": "006A", "Name": "Acme Deal", "Amount": 1000.0, "Probability": 100,
     "CloseDate": date(2024, 6, 15), "SystemModstamp": _dt(2024, 6, 15, 8),
     "IsWon": True, "StageName": "Closed Won", "OwnerId": "005aA1", "Description": "Big one"},
    {"Id": "006B", "Name": "acme deal", "Amount": 250, "Probability": 10,
     "CloseDate": date(2024, 6, 14), "SystemModstamp": _dt(2024, 6, 14, 23, 59, 59, 999999),
     "IsWon": False, "StageName": "Prospecting", "OwnerId": "005Aa1", "Description": None},
    {"Id": "006C", "Name": "O'Brien & Co", "Amount": None, "Probability": None,
     "CloseDate": None, "SystemModstamp": _dt(2024, 6, 16),
     "IsWon": False, "StageName": "Negotiation/Review", "OwnerId": "005aA1",
     "Description": "it's"},
    {"Id": "006D", "Name": 'Back\\slash "quoted"', "Amount": 5000.5, "Probability": 50,
     "CloseDate": date(2024, 7, 1), "SystemModstamp": _dt(2024, 1, 1, 5),
     "IsWon": True, "StageName": "closed won", "OwnerId": "005bB2",
     "Description": "Line\nBreak\tTab"},
    {"Id": "006E", "Name": "100% off_sale", "Amount": -10, "Probability": 0,
     "CloseDate": date(2024, 6, 1), "SystemModstamp": _dt(2024, 6, 10),
     "IsWon": False, "StageName": "Closed Lost", "OwnerId": "005bB2", "Description": "x"},
    {"Id": "006F", "Name": "Ünïcødé ✓ 日本 😀", "Amount": 1e-05, "Probability": 99.5,
     "CloseDate": date(2024, 6, 16), "SystemModstamp": _dt(2024, 6, 15),
     "IsWon": None, "StageName": None, "OwnerId": None, "Description": ""},
    {"Id": "006G"},
)  # fmt: skip


def compiled(text: str, types: Mapping[str, str] = TYPES) -> soql.CompiledQuery:
    return soql.compile_query(
        soql.parse(text), object_name_canonical="Opportunity", field_types=types, now=NOW
    )


def run(text: str, records: Sequence[Mapping[str, Any]] = RECORDS) -> str:
    """Matching ids as one string of letters, e.g. "ABE", in result order."""
    return "".join(r["Id"][-1] for r in compiled(text).run(records))


def where(clause: str) -> str:
    return run("SELECT Id FROM Opportunity WHERE " + clause)


def error_of(text: str) -> soql.SoqlError:
    with pytest.raises(soql.SoqlError) as info:
        compiled(text)
    return info.value


# --------------------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        # numbers (currency/percent; int and float mixed)
        ("Amount = 1000", "A"),
        ("Amount = 1000.0", "A"),
        ("Amount = +250", "B"),
        ("Amount != 1000", "BCDEFG"),
        ("Amount <> 1000", "BCDEFG"),
        ("Amount < 250", "EF"),
        ("Amount <= 250", "BEF"),
        ("Amount > 250", "AD"),
        ("Amount >= 250", "ABD"),
        ("Amount > -10.5", "ABDEF"),
        ("Amount > .5", "ABD"),
        ("Amount > 1e-6", "ABDF"),
        ("Amount IN (250, 5000.5)", "BD"),
        ("Amount NOT IN (250, 5000.5)", "ACEFG"),
        ("Probability > 99", "AF"),
        ("Probability = 99.5", "F"),
        # null: only = null / != null see nulls (missing keys count as null)
        ("Amount = null", "CG"),
        ("Amount != null", "ABDEF"),
        ("Amount <> NULL", "ABDEF"),
        ("Amount IN (250, null)", "BCG"),
        ("Amount NOT IN (250, null)", "ADEF"),
        # text: case-insensitive
        ("Name = 'acme deal'", "AB"),
        ("Name = 'ACME DEAL'", "AB"),
        ("Name != 'acme deal'", "CDEFG"),
        ("Name < 'b'", "ABE"),
        ("Name > 'o'", "CF"),
        ("Name >= 'O\\'BRIEN & CO'", "CF"),
        ("Name <= '100% OFF_SALE'", "E"),
        ("Name IN ('ACME DEAL', 'o\\'brien & co')", "ABC"),
        ("Name NOT IN ('acme deal')", "CDEFG"),
        ("StageName = 'CLOSED WON'", "AD"),
        ("StageName IN ('closed won', 'Closed Lost')", "ADE"),
        ("Description = ''", "F"),
        ("Description = 'line\\nbreak\\ttab'", "D"),
        ("Description = 'IT\\'S'", "C"),
        # LIKE: case-insensitive, whole value, % and _ wildcards, \% and \_ literal
        ("Name LIKE 'acme%'", "AB"),
        ("Name LIKE '%DEAL'", "AB"),
        ("Name LIKE 'a_me deal'", "AB"),
        ("Name LIKE 'acme'", ""),
        ("Name LIKE '%'", "ABCDEF"),
        ("Name LIKE '%%'", "ABCDEF"),
        ("Name LIKE '_'", ""),
        ("Name LIKE '%o%'", "CDE"),
        ("Name LIKE '%o%co'", "C"),
        ("Name LIKE '%a%e%'", "ABDE"),
        ("Name LIKE '100\\%%'", "E"),
        ("Name LIKE '100\\% off\\_sale'", "E"),
        ("Name LIKE '100_ off_sale'", "E"),
        ("Name LIKE '100\\_%'", ""),
        ("Name LIKE '%\\_sale'", "E"),
        ("Name LIKE '%日本%'", "F"),
        ("Name LIKE 'ünïcødé ✓ 日本 _'", "F"),
        ("Name LIKE '%\\\\slash%'", "D"),
        ("Name LIKE '%\\\"quoted\\\"'", "D"),
        ("Description LIKE '%\\n%'", "D"),
        ("Description LIKE 'line_break_tab'", "D"),
        ("NOT Name LIKE 'acme%'", "CDEFG"),
        # id/reference: case-sensitive, except LIKE
        ("Id = '006A'", "A"),
        ("Id = '006a'", ""),
        ("OwnerId = '005aA1'", "AC"),
        ("OwnerId = '005AA1'", ""),
        ("OwnerId != '005aA1'", "BDEFG"),
        ("OwnerId IN ('005Aa1', '005bB2')", "BDE"),
        ("OwnerId LIKE '005aa%'", "ABC"),
        # booleans: null reads as false, as Salesforce documents
        ("IsWon = true", "AD"),
        ("IsWon = TRUE", "AD"),
        ("IsWon = false", "BCEFG"),
        ("IsWon != true", "BCEFG"),
        ("IsWon != false", "AD"),
        ("IsWon = null", "BCEFG"),
        ("IsWon != null", "AD"),
        ("IsWon IN (true)", "AD"),
        ("IsWon NOT IN (true)", "BCEFG"),
        # dates
        ("CloseDate = 2024-06-15", "A"),
        ("CloseDate != 2024-06-15", "BCDEFG"),
        ("CloseDate < 2024-06-15", "BE"),
        ("CloseDate >= 2024-06-15", "ADF"),
        ("CloseDate IN (2024-06-14, 2024-07-01)", "BD"),
        ("CloseDate = null", "CG"),
        # datetimes, with offsets and fractions
        ("SystemModstamp = 2024-06-15T08:00:00Z", "A"),
        ("SystemModstamp = 2024-06-15T08:00:00.000Z", "A"),
        ("SystemModstamp = 2024-06-15T10:00:00+02:00", "A"),
        ("SystemModstamp = 2024-06-15T03:00:00-05:00", "A"),
        ("SystemModstamp = 2024-06-15T08:00:00+00:00", "A"),
        ("SystemModstamp = 2024-06-14T23:59:59.999999+00:00", "B"),
        ("SystemModstamp = 2024-06-14T23:59:59.9999999Z", "B"),  # past micro: dropped
        ("SystemModstamp > 2024-06-14T23:59:59.999Z", "ABCF"),
        ("SystemModstamp > 2024-06-15T00:00:00Z", "AC"),
        ("SystemModstamp >= 2024-06-15T00:00:00Z", "ACF"),
        ("SystemModstamp IN (2024-01-01T05:00:00Z, 2024-06-10T00:00:00Z)", "DE"),
    ],
)
def test_operators_and_literals(clause: str, expected: str) -> None:
    assert where(clause) == expected


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        # date fields: the literal is a day range; today is 2024-06-15
        ("CloseDate = TODAY", "A"),
        ("CloseDate = today", "A"),
        ("CloseDate = YESTERDAY", "B"),
        ("CloseDate = TOMORROW", "F"),
        ("CloseDate != TODAY", "BCDEFG"),
        ("CloseDate > TODAY", "DF"),
        ("CloseDate >= TODAY", "ADF"),
        ("CloseDate < TODAY", "BE"),
        ("CloseDate <= TODAY", "ABE"),
        ("CloseDate = LAST_N_DAYS:0", "A"),
        ("CloseDate = LAST_N_DAYS:1", "AB"),  # includes today
        ("CloseDate = LAST_N_DAYS:14", "ABE"),
        ("CloseDate < LAST_N_DAYS:1", "E"),
        ("CloseDate = NEXT_N_DAYS:1", "F"),  # starts tomorrow
        ("CloseDate = NEXT_N_DAYS:16", "DF"),
        ("CloseDate > NEXT_N_DAYS:1", "D"),
        ("CloseDate = LAST_90_DAYS", "ABE"),
        ("CloseDate = NEXT_90_DAYS", "DF"),
        ("CloseDate IN (TODAY, TOMORROW)", "AF"),
        ("CloseDate NOT IN (TODAY, 2024-06-01)", "BCDFG"),
        ("CloseDate = LAST_N_DAYS:100000000", "ABE"),  # clamps instead of overflowing
        # datetime fields: whole UTC days, "> TODAY" is after the end of today
        ("SystemModstamp = TODAY", "AF"),
        ("SystemModstamp != TODAY", "BCDEG"),
        ("SystemModstamp > TODAY", "C"),
        ("SystemModstamp >= TODAY", "ACF"),
        ("SystemModstamp < TODAY", "BDE"),
        ("SystemModstamp <= TODAY", "ABDEF"),
        ("SystemModstamp = YESTERDAY", "B"),
        ("SystemModstamp = TOMORROW", "C"),
        ("SystemModstamp = LAST_N_DAYS:5", "ABEF"),
        ("SystemModstamp IN (YESTERDAY, TOMORROW)", "BC"),
    ],
)
def test_relative_date_literals(clause: str, expected: str) -> None:
    assert where(clause) == expected


def test_relative_dates_follow_now_in_utc() -> None:
    query = soql.parse("SELECT Id FROM Opportunity WHERE CloseDate = TODAY")
    # 01:00 on the 16th at +02:00 is still the 15th in UTC.
    plus_two = datetime(2024, 6, 16, 1, 0, tzinfo=PLUS_TWO)
    naive_utc = datetime(2024, 6, 16, 9, 0)
    for now, expected in ((plus_two, "A"), (naive_utc, "F")):
        cq = soql.compile_query(
            query, object_name_canonical="Opportunity", field_types=TYPES, now=now
        )
        assert "".join(r["Id"][-1] for r in cq.run(RECORDS)) == expected


# --------------------------------------------------------------------------- string literals


@pytest.mark.parametrize(
    ("literal", "decoded"),
    [
        ("''", ""),
        ("'plain'", "plain"),
        ("'it\\'s'", "it's"),
        ("'say \\\"hi\\\"'", 'say "hi"'),
        ("'say \"hi\"'", 'say "hi"'),
        ("'back\\\\slash'", "back\\slash"),
        ("'trailing\\\\'", "trailing\\"),
        ("'a\\nb\\rc\\td\\be\\ff'", "a\nb\rc\td\be\ff"),
        ("'\\u00e9t\\u00C9'", "étÉ"),
        ("'\\uD83D\\uDE00'", "😀"),
        ("'日本 😀'", "日本 😀"),
        ("'raw\nnewline'", "raw\nnewline"),
        ("'100%_'", "100%_"),  # outside LIKE, % and _ are plain characters
        ("'WHERE Name != '", "WHERE Name != "),
    ],
)
def test_string_escapes(literal: str, decoded: str) -> None:
    query = soql.parse(f"SELECT Id FROM Opportunity WHERE Name = {literal}")
    assert isinstance(query.where, soql.Condition)
    assert query.where.value == soql.Literal("string", decoded)


def test_like_pattern_keeps_escaped_wildcards_literal() -> None:
    query = soql.parse("SELECT Id FROM Opportunity WHERE Name LIKE 'a\\%b%c\\_d_'")
    assert isinstance(query.where, soql.Condition)
    assert query.where.value.kind == "pattern"
    assert query.where.value.value == (
        (False, "a%b"), (True, "%"), (False, "c_d"), (True, "_"),
    )  # fmt: skip


# --------------------------------------------------------------------------- format_soql


@pytest.mark.parametrize(
    ("template", "value", "expected"),
    [
        ("Name = {}", "Acme Deal", "AB"),
        ("Name = {}", "O'Brien & Co", "C"),
        ("Name = {}", 'Back\\slash "quoted"', "D"),
        ("Name = {}", "100% off_sale", "E"),
        ("Name = {}", "Ünïcødé ✓ 日本 😀", "F"),
        ("Description = {}", "Line\nBreak\tTab", "D"),
        ("Description = {}", "", "F"),
        # injection attempts stay one literal and match nothing extra
        ("Name = {}", "' OR Name != '", ""),
        ("Name = {}", "\\' OR Name != \\'", ""),
        ("Name = {}", "x') OR (Name != 'y", ""),
        ("Name = {} AND IsWon = true", "' OR IsWon = false OR Name = '", ""),
        ("Name != {}", "' OR Name = '", "ABCDEFG"),
        # {:like} escapes % and _ as well
        ("Name LIKE '{:like}%'", "100%", "E"),
        ("Name LIKE '{:like}%'", "100_", ""),
        ("Name LIKE '{:like}%'", "acme", "AB"),
        ("Name LIKE '%{:like}%'", "o'b", "C"),
        ("Name LIKE '%{:like}%'", '\\slash "', "D"),
        ("Name LIKE '{:like}'", "%", ""),
        ("Description LIKE '{:like}%'", "line\nbreak\t", "D"),
        # lists, None, booleans, numbers
        ("Id IN {}", ["006A", "006C"], "AC"),
        ("Id IN {}", ("006B",), "B"),
        ("Id NOT IN {}", {"006A"}, "BCDEFG"),
        ("Name IN {}", ["o'brien & co", "' OR Name != '"], "C"),
        ("Amount IN {}", [250, None], "BCG"),
        ("Amount = {}", None, "CG"),
        ("Amount != {}", None, "ABDEF"),
        ("IsWon = {}", True, "AD"),
        ("IsWon = {}", False, "BCEFG"),
        ("Amount = {}", 250, "B"),
        ("Amount = {}", 5000.5, "D"),
        ("Amount = {}", -10, "E"),
        ("Amount = {}", 1e-05, "F"),  # str(1e-05) == "1e-05"
        ("Amount < {}", 1e20, "ABDEF"),  # str(1e20) == "1e+20"
        # dates and aware datetimes (format_soql drops microseconds, renders UTC +00:00)
        ("CloseDate = {}", date(2024, 6, 15), "A"),
        ("CloseDate IN {}", [date(2024, 6, 14), date(2024, 7, 1)], "BD"),
        ("SystemModstamp = {}", _dt(2024, 6, 15, 8), "A"),
        ("SystemModstamp >= {}", _dt(2024, 6, 15, 8, 0, 0, 123456), "AC"),
        ("SystemModstamp = {}", datetime(2024, 6, 15, 10, tzinfo=PLUS_TWO), "A"),
        ("SystemModstamp > {}", datetime(2024, 6, 14, 19, tzinfo=MINUS_FIVE), "AC"),
        ("SystemModstamp > {:literal}", "2024-06-14T23:59:59.5+00:00", "ABCF"),
    ],
)  # fmt: skip
def test_format_soql_interop(template: str, value: object, expected: str) -> None:
    text = format_soql("SELECT Id FROM Opportunity WHERE " + template, value)
    assert run(text) == expected


def test_injection_is_a_single_literal() -> None:
    payload = "' OR Name != '"
    query = soql.parse(format_soql("SELECT Id FROM Opportunity WHERE Name = {}", payload))
    assert query.where == soql.Condition("Name", "=", soql.Literal("string", payload))


@pytest.mark.parametrize(
    "name",
    ["O'Brien", 'say "hi"', "back\\slash", "trailing\\", "\\'", "a\nb\rc\td\be\ff",
     "\x00nul\x1f", "\u2028sep", "\ud7ff\ue000", "日本語 😀", "%_", "' OR Name != '",
     "'; DELETE FROM Opportunity", "x') OR (Name != 'y", "\\\\' OR 'a' = 'a"],
)  # fmt: skip
def test_format_soql_round_trips_awkward_strings(name: str) -> None:
    records = ({"Id": "00X", "Name": name}, {"Id": "00Y", "Name": "other"}, {"Id": "00Z"})
    text = format_soql("SELECT Id FROM Opportunity WHERE Name = {}", name)
    assert run(text, records) == "X"
    like = format_soql("SELECT Id FROM Opportunity WHERE Name LIKE '{:like}'", name)
    assert run(like, records) == "X"


@settings(max_examples=examples(150), deadline=None)
@given(st.text(max_size=40))
def test_format_soql_equality_matches_exactly_the_case_insensitive_equal(s: str) -> None:
    records = (
        {"Id": "1", "Name": s},
        {"Id": "2", "Name": s.upper()},
        {"Id": "3", "Name": s + "x"},
        {"Id": "4", "Name": "' OR Name != '"},
        {"Id": "5", "Name": None},
        {"Id": "6", "Name": "other"},
    )
    text = format_soql("SELECT Id FROM Account WHERE Name = {}", s)
    query = soql.parse(text)
    assert query.where == soql.Condition("Name", "=", soql.Literal("string", s))
    cq = soql.compile_query(
        query, object_name_canonical="Account", field_types={"Id": "id", "Name": "string"}, now=NOW
    )
    got = {r["Id"] for r in cq.run(records)}
    wanted = {r["Id"] for r in records if r["Name"] is not None and r["Name"].lower() == s.lower()}
    assert got == wanted
    assert "1" in got


@settings(max_examples=examples(150), deadline=None)
@given(st.text(max_size=20), st.text(max_size=20))
def test_format_soql_like_contains(needle: str, hay: str) -> None:
    records = ({"Id": "1", "Name": hay}, {"Id": "2", "Name": needle})
    text = format_soql("SELECT Id FROM Account WHERE Name LIKE '%{:like}%'", needle)
    cq = soql.compile_query(
        soql.parse(text),
        object_name_canonical="Account",
        field_types={"Id": "id", "Name": "string"},
        now=NOW,
    )
    got = {r["Id"] for r in cq.run(records)}
    assert got == {r["Id"] for r in records if needle.lower() in r["Name"].lower()}


def _like_oracle(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value.lower(), re.DOTALL) is not None


@settings(max_examples=examples(300), deadline=None)
@given(st.text(alphabet="aAb%_", max_size=8), st.text(alphabet="aAb", max_size=8))
def test_like_agrees_with_a_regex_oracle(pattern: str, value: str) -> None:
    cq = compiled(f"SELECT Id FROM Opportunity WHERE Name LIKE '{pattern}'")
    assert cq.matches({"Name": value}) is _like_oracle(pattern.lower(), value)


_SOQLISH = st.lists(
    st.sampled_from(
        ["SELECT", "Id", "Name", ",", "FROM", "Account", "WHERE", "=", "!=", "<", "LIKE", "IN",
         "NOT", "AND", "OR", "(", ")", "'a'", "'b\\'c'", "5", "-1.5", "null", "true",
         "TODAY", "LAST_N_DAYS:3", "2024-01-01", "2024-01-01T00:00:00Z", "ORDER", "BY",
         "DESC", "NULLS", "LAST", "LIMIT", "OFFSET", "COUNT()", ".", "'", "\\", ":"]
    ),
    max_size=14,
).map(" ".join)  # fmt: skip


@settings(max_examples=examples(300), deadline=None)
@given(st.one_of(st.text(max_size=60), _SOQLISH))
def test_parse_and_compile_raise_only_soql_errors(text: str) -> None:
    try:
        cq = soql.compile_query(
            soql.parse(text),
            object_name_canonical="Account",
            field_types={"Id": "id", "Name": "string"},
            now=NOW,
        )
    except soql.SoqlError as exc:
        assert exc.error_code in {soql.MALFORMED_QUERY, soql.INVALID_FIELD}
        assert str(exc) == exc.message
    else:
        cq.run([{"Id": "1", "Name": "a"}, {"Id": "2", "Name": None}, {"Id": "3"}])


# --------------------------------------------------------------------------- boolean logic


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("NOT Name = 'acme deal'", "CDEFG"),  # NOT is plain negation, nulls included
        ("NOT (Amount > 250 OR IsWon = true)", "BCEFG"),
        ("NOT Amount > 250 AND IsWon = false", "BCEFG"),
        ("IsWon = true AND (Amount > 2000 OR Amount < 0)", "D"),
        ("(IsWon = true AND Amount > 2000) OR Amount < 0", "DE"),
        ("Amount < 0 OR Amount > 2000 OR Name = 'acme deal'", "ABDE"),
        ("Name = 'acme deal' AND Amount > 500 AND IsWon = true", "A"),
        ("Amount != null AND IsWon = false AND Probability >= 0 AND StageName != null", "BE"),
        ("Id = '006A' OR Id = '006B' OR Id = '006C' OR Id = '006G'", "ABCG"),
        ("((Amount = 250))", "B"),
        ("NOT NOT Amount = 250", "B"),
        ("NOT (NOT (Amount = 250) AND NOT (Amount = 1000))", "AB"),
        ("(Amount = 250 OR Amount = 1000) AND (IsWon = true OR Name LIKE 'a%')", "AB"),
    ],
)
def test_not_and_or(clause: str, expected: str) -> None:
    assert where(clause) == expected


@pytest.mark.parametrize(
    "clause",
    [
        "Amount = 1 AND Amount = 2 OR Amount = 3",
        "Amount = 1 OR Amount = 2 AND Amount = 3",
        "NOT Amount = 1 AND Amount = 2 OR Amount = 3",
        "(Amount = 1 OR Amount = 2) AND Amount = 3 OR Amount = 4",
    ],
)
def test_mixing_and_or_without_parentheses_is_malformed(clause: str) -> None:
    exc = error_of("SELECT Id FROM Opportunity WHERE " + clause)
    assert exc.error_code == "MALFORMED_QUERY"
    assert "mixing AND and OR" in exc.message


def test_where_tree_shape() -> None:
    query = soql.parse(
        "SELECT Id FROM Opportunity WHERE Name = 'a' AND (Amount > 1 OR NOT IsWon = true)"
    )
    assert query.where == soql.BoolOp(
        "AND",
        (
            soql.Condition("Name", "=", soql.Literal("string", "a")),
            soql.BoolOp(
                "OR",
                (
                    soql.Condition("Amount", ">", soql.Literal("number", 1)),
                    soql.Not(soql.Condition("IsWon", "=", soql.Literal("boolean", True))),
                ),
            ),
        ),
    )


# --------------------------------------------------------------------------- ORDER BY, paging


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("", "ABCDEFG"),
        ("ORDER BY Amount", "CGEFBAD"),  # ASC defaults to NULLS FIRST
        ("ORDER BY Amount ASC", "CGEFBAD"),
        ("ORDER BY Amount DESC", "DABFECG"),  # DESC defaults to NULLS LAST
        ("ORDER BY Amount ASC NULLS LAST", "EFBADCG"),
        ("ORDER BY Amount DESC NULLS FIRST", "CGDABFE"),
        ("order by amount desc nulls first", "CGDABFE"),
        ("ORDER BY Name", "GEABDCF"),  # case-insensitive, ties keep input order
        ("ORDER BY Name DESC", "FCDABEG"),
        ("ORDER BY OwnerId, Id DESC", "GFBCAED"),  # ids sort case-sensitively
        ("ORDER BY IsWon DESC, Amount", "ADCGEFB"),  # boolean null sorts as false
        ("ORDER BY StageName, Name DESC", "FGEDACB"),
        ("ORDER BY CloseDate DESC NULLS FIRST, SystemModstamp", "GCDFABE"),
        ("ORDER BY SystemModstamp DESC", "CAFBEDG"),
        ("LIMIT 3", "ABC"),
        ("LIMIT 0", ""),
        ("OFFSET 5", "FG"),
        ("LIMIT 2 OFFSET 1", "BC"),
        ("OFFSET 100", ""),
        ("OFFSET 2000", ""),
        ("ORDER BY Amount DESC LIMIT 2", "DA"),
        ("ORDER BY Amount DESC LIMIT 2 OFFSET 1", "AB"),
        ("ORDER BY Amount DESC OFFSET 5", "CG"),
    ],
)
def test_order_limit_offset(tail: str, expected: str) -> None:
    assert run("SELECT Id FROM Opportunity " + tail) == expected


def test_where_order_limit_offset_together() -> None:
    text = "SELECT Id FROM Opportunity WHERE Amount != null ORDER BY Amount DESC LIMIT 3 OFFSET 1"
    assert run(text) == "ABF"


def test_run_returns_the_given_objects_and_reads_any_iterable() -> None:
    rows = compiled("SELECT Id FROM Opportunity WHERE IsWon = true ORDER BY Amount").run(
        iter(RECORDS)
    )
    assert [id(r) for r in rows] == [id(RECORDS[0]), id(RECORDS[3])]


def test_matches() -> None:
    cq = compiled("SELECT Id FROM Opportunity WHERE Name LIKE 'acme%'")
    assert [cq.matches(r) for r in RECORDS] == [True, True] + [False] * 5
    assert compiled("SELECT Id FROM Opportunity").matches({}) is True


# --------------------------------------------------------------------------- SELECT, COUNT()


def test_select_fields_are_canonical_deduplicated_and_ordered() -> None:
    query = soql.parse("select name, ID, Name, amount from opportunity")
    assert query.object_name == "opportunity"
    assert query.fields == ("name", "ID", "Name", "amount")
    assert query.count_only is False
    cq = compiled("select name, ID, Name, amount from opportunity")
    assert cq.select_fields == ("Name", "Id", "Amount")
    assert cq.count_only is False


def test_parsed_query_fields() -> None:
    query = soql.parse(
        "SELECT Id FROM Opportunity ORDER BY Amount DESC, Name NULLS LAST LIMIT 10 OFFSET 20"
    )
    assert query.order_by == (("Amount", True, None), ("Name", False, False))
    assert (query.limit, query.offset, query.where) == (10, 20, None)


def test_whitespace_and_keyword_case() -> None:
    text = "select\n\tId\r\nfrom Opportunity\nwhere\n  Name = 'acme deal'\norder\nby Name limit 5"
    assert run(text) == "AB"


def test_object_names_that_look_like_keywords() -> None:
    assert soql.parse("SELECT Id FROM Order ORDER BY Id").object_name == "Order"
    assert soql.parse("SELECT Id FROM Group").object_name == "Group"


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("SELECT COUNT() FROM Opportunity", 7),
        ("select count() from Opportunity where IsWon = true", 2),
        ("SELECT COUNT() FROM Opportunity WHERE Amount > 0 LIMIT 2", 2),
    ],
)
def test_count(text: str, count: int) -> None:
    cq = compiled(text)
    assert cq.count_only is True
    assert cq.select_fields == ()
    assert len(cq.run(RECORDS)) == count


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("SELECT Id FORM Opportunity", "unexpected token: 'FORM'"),
        ("SELECT FROM Opportunity", "unexpected token: 'FROM'"),
        ("SELECT Id, FROM Opportunity", "unexpected token: 'FROM'"),
        ("SELECT Id Name FROM Opportunity", "unexpected token: 'Name'"),
        ("", "unexpected end of query"),
        ("SELECT Id", "unexpected end of query"),
        ("SELECT Id FROM", "unexpected end of query"),
        ("SELECT Id FROM Opportunity WHERE", "unexpected end of query"),
        ("SELECT Id FROM Opportunity WHERE Name = 'a' AND", "unexpected end of query"),
        ("SELECT Id FROM Opportunity WHERE (Name = 'a'", "unexpected end of query"),
        ("SELECT Id FROM Opportunity garbage", "unexpected token: 'garbage'"),
        ("SELECT Id FROM Opportunity LIMIT 5 extra", "unexpected token: 'extra'"),
        ("SELECT Id FROM Opportunity;", "unexpected token: ';'"),
        ("SELECT Id FROM Opportunity OFFSET 5 LIMIT 2", "unexpected token: 'LIMIT'"),
        ("SELECT Id FROM Opportunity LIMIT -1", "non-negative integer"),
        ("SELECT Id FROM Opportunity LIMIT 1.5", "non-negative integer"),
        ("SELECT Id FROM Opportunity LIMIT x", "unexpected token: 'x'"),
        ("SELECT Id FROM Opportunity OFFSET 2001", "Maximum SOQL offset allowed is 2000"),
        ("SELECT Id FROM Opportunity ORDER BY", "unexpected end of query"),
        ("SELECT Id FROM Opportunity ORDER BY Name NULLS", "expected FIRST or LAST"),
        ("SELECT Id FROM Opportunity WHERE Name = 'x", "unterminated string literal"),
        ("SELECT Id FROM Opportunity WHERE Name = 'x\\'", "unterminated string literal"),
        ("SELECT Id FROM Opportunity WHERE Name = 'a\\qb'", "invalid escape sequence '\\q'"),
        ("SELECT Id FROM Opportunity WHERE Name = '100\\%'", "only valid in LIKE"),
        ("SELECT Id FROM Opportunity WHERE Name IN ('a\\_')", "only valid in LIKE"),
        ("SELECT Id FROM Opportunity WHERE Name = '\\u12'", "four hex digits"),
        ("SELECT Id FROM Opportunity WHERE Name = '\\uZZZZ'", "four hex digits"),
        ("SELECT Id FROM Opportunity WHERE Name = '\\uD83D'", "unpaired surrogate"),
        ("SELECT Id FROM Opportunity WHERE Name IN ()", "must not be empty"),
        ("SELECT Id FROM Opportunity WHERE Name IN 'a'", "expected '('"),
        ("SELECT Id FROM Opportunity WHERE Name IN ('a',)", "unexpected token: ')'"),
        ("SELECT Id FROM Opportunity WHERE Amount > null", "null can only be compared"),
        ("SELECT Id FROM Opportunity WHERE Name LIKE null", "LIKE needs a quoted string"),
        ("SELECT Id FROM Opportunity WHERE Name LIKE 5", "LIKE needs a quoted string"),
        ("SELECT Id FROM Opportunity WHERE Name NOT LIKE 'a'", "NOT field LIKE"),
        ("SELECT Id FROM Opportunity WHERE Name = Bob", "unexpected token: 'Bob'"),
        ("SELECT Id FROM Opportunity WHERE Name == 'a'", "unexpected token: '='"),
        ("SELECT Id FROM Opportunity WHERE Name 'a'", "unexpected token: ''a''"),
        ("SELECT Id FROM Opportunity WHERE Amount = 5abc", "unexpected token: '5abc'"),
        ("SELECT Id FROM Opportunity WHERE Amount = 1e999", "out of range"),
        ("SELECT Id FROM Opportunity WHERE Amount = nan", "unexpected token: 'nan'"),
        ("SELECT Id FROM Opportunity WHERE SystemModstamp > 2024-01-01T00:00:00", "time zone"),
        ("SELECT Id FROM Opportunity WHERE SystemModstamp > 2024-01-01T00:00:00+0000", "+hh:mm"),
        ("SELECT Id FROM Opportunity WHERE SystemModstamp > 2024-01-01T25:00:00Z", "invalid"),
        ("SELECT Id FROM Opportunity WHERE SystemModstamp > 2024-01-01T00:00Z", "invalid"),
        ("SELECT Id FROM Opportunity WHERE CloseDate = 2024-13-01", "invalid date literal"),
        ("SELECT Id FROM Opportunity WHERE CloseDate = 2024-1-01", "invalid date/time"),
        ("SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS", "LAST_N_DAYS:7"),
        ("SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS:-1", "LAST_N_DAYS:7"),
        ("SELECT Id FROM Opportunity WHERE CloseDate = NEXT_N_DAYS: 3", "NEXT_N_DAYS:7"),
        ("SELECT Id FROM Opportunity WHERE " + "(" * 200 + "Name = 'a'", "nested too deeply"),
        ("SELECT COUNT(), Id FROM Opportunity", "COUNT() must be the only item"),
        ("SELECT Id, COUNT() FROM Opportunity", "COUNT() must be the only item"),
    ],
)  # fmt: skip
def test_syntax_errors(text: str, words: str) -> None:
    exc = error_of(text)
    assert exc.error_code == "MALFORMED_QUERY"
    assert words in exc.message
    assert str(exc) == exc.message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("SELECT Owner.Email FROM Opportunity", "relationship field 'Owner.Email'"),
        ("SELECT Id FROM Opportunity WHERE Owner.Email = 'x'", "relationship field"),
        ("SELECT Id FROM Opportunity ORDER BY Owner.Name", "relationship field"),
        ("SELECT Id, (SELECT Id FROM OpportunityLineItems) FROM Opportunity", "subquery"),
        ("SELECT Id FROM Opportunity WHERE Id IN (SELECT OpportunityId FROM X)", "subquery"),
        ("SELECT StageName, COUNT(Id) FROM Opportunity GROUP BY StageName", "COUNT()"),
        ("SELECT SUM(Amount) FROM Opportunity", "aggregate function SUM()"),
        ("SELECT FIELDS(ALL) FROM Opportunity LIMIT 200", "function FIELDS()"),
        ("SELECT toLabel(StageName) FROM Opportunity", "function toLabel()"),
        ("SELECT Id FROM Opportunity GROUP BY StageName", "GROUP BY"),
        ("SELECT Id FROM Opportunity WHERE IsWon = true GROUP BY Id", "GROUP BY"),
        ("SELECT Id FROM Opportunity HAVING COUNT(Id) > 1", "HAVING"),
        ("SELECT TYPEOF What WHEN Account THEN Name END FROM Task", "TYPEOF"),
        ("SELECT Id FROM Opportunity WITH SECURITY_ENFORCED", "WITH"),
        ("SELECT Id FROM Opportunity LIMIT 1 FOR UPDATE", "FOR"),
        ("SELECT Id FROM Opportunity FOR VIEW", "FOR"),
        ("SELECT Id FROM Opportunity USING SCOPE mine", "USING SCOPE"),
        ("SELECT Id FROM Opportunity ALL ROWS", "ALL ROWS"),
        ("SELECT Id FROM Opportunity WHERE CALENDAR_YEAR(CloseDate) = 2024", "CALENDAR_YEAR()"),
        ("SELECT Id FROM Opportunity WHERE Name INCLUDES ('a')", "INCLUDES"),
        ("SELECT Id FROM Opportunity WHERE Id IN :ids", "bind variable"),
        ("SELECT Id FROM Opportunity WHERE Id = :id", "bind variable"),
        ("SELECT Id FROM Opportunity WHERE CloseDate = THIS_MONTH", "date literal THIS_MONTH"),
        ("SELECT Id FROM Opportunity WHERE CloseDate = N_DAYS_AGO:3", "date literal"),
    ],
)  # fmt: skip
def test_unsupported_soql_is_refused_not_ignored(text: str, words: str) -> None:
    exc = error_of(text)
    assert exc.error_code == "MALFORMED_QUERY"
    assert words in exc.message
    assert "not supported by the SOQL emulator" in exc.message


@pytest.mark.parametrize(
    ("clause", "words"),
    [
        ("CloseDate = '2024-01-01'", "field 'CloseDate' must be of type date and should not"),
        ("CloseDate = 2024-01-01T00:00:00Z", "must be of type date and should not"),
        ("CloseDate = 5", "must be of type date"),
        ("SystemModstamp > 2024-01-01", "field 'SystemModstamp' must be of type dateTime"),
        ("SystemModstamp > '2024-01-01T00:00:00Z'", "must be of type dateTime"),
        ("Amount = '5'", "field 'Amount' must be of type currency and should not be enclosed"),
        ("Amount = TODAY", "must be of type currency"),
        ("Amount IN (1, '2')", "must be of type currency"),
        ("Probability > true", "must be of type percent"),
        ("IsWon = 'true'", "must be of type boolean and should not be enclosed in quotes"),
        ("IsWon = 1", "must be of type boolean"),
        ("Name = 5", "field 'Name' must be of type string and should be enclosed in quotes"),
        ("Name = 2024-01-01", "must be of type string and should be enclosed"),
        ("Name IN ('a', 5)", "must be of type string"),
        ("StageName = TODAY", "must be of type string"),
        ("Id = 5", "must be of type id and should be enclosed in quotes"),
        ("Amount LIKE '5%'", "LIKE only works on text fields"),
        ("CloseDate LIKE '2024%'", "LIKE only works on text fields"),
        ("IsWon > true", "only = and != are allowed"),
        ("Location__c = 'x'", "cannot be used in WHERE"),
    ],
)
def test_literal_type_mismatches(clause: str, words: str) -> None:
    exc = error_of("SELECT Id FROM Opportunity WHERE " + clause)
    assert exc.error_code == "INVALID_FIELD"
    assert words in exc.message


def test_no_such_column_message_matches_salesforce() -> None:
    exc = error_of("SELECT Id, Nam FROM Opportunity")
    assert exc.error_code == "INVALID_FIELD"
    assert exc.message == (
        "\nSELECT Id, Nam FROM Opportunity\n           ^\nERROR at Row:1:Column:12\n"
        "No such column 'Nam' on entity 'Opportunity'. If you are attempting to use a custom"
        " field, be sure to append the '__c' after the custom field name. Please reference"
        " your WSDL or the describe call for the appropriate names."
    )


@pytest.mark.parametrize(
    ("text", "row", "column", "name"),
    [
        ("SELECT Id FROM Opportunity WHERE Stage = 'x'", 1, 34, "Stage"),
        ("SELECT Id FROM Opportunity ORDER BY Amt", 1, 37, "Amt"),
        ("SELECT Id\nFROM Opportunity\nWHERE Name = 'a' AND Nme = 'b'", 3, 22, "Nme"),
    ],
)
def test_unknown_columns_everywhere(text: str, row: int, column: int, name: str) -> None:
    exc = error_of(text)
    assert exc.error_code == "INVALID_FIELD"
    assert f"No such column '{name}' on entity 'Opportunity'" in exc.message
    assert f"ERROR at Row:{row}:Column:{column}" in exc.message


def test_location_of_syntax_error() -> None:
    exc = error_of("SELECT Id\nFROM Opportunity\nWHERE Name = 'a' AND b = 2 OR c = 3")
    assert exc.message.startswith("\nWHERE Name = 'a' AND b = 2 OR c = 3\n")
    assert "ERROR at Row:3:Column:28\n" in exc.message


def test_invalid_type_helper() -> None:
    exc = soql.invalid_type_error(soql.parse("SELECT Id FROM Opp"))
    assert exc.error_code == "INVALID_TYPE"
    assert "sObject type 'Opp' is not supported" in exc.message
    assert "ERROR at Row:1:Column:16" in exc.message


def test_soql_error_pickles() -> None:
    exc = error_of("SELECT Id FORM Opportunity")
    copy = pickle.loads(pickle.dumps(exc))
    assert (copy.error_code, copy.message, str(copy)) == (exc.error_code, exc.message, str(exc))
