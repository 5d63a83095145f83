"""SOQL literals: every value reads back as itself and none can change a query's shape.

The round-trip checks parse the generated SOQL with the sandbox's SOQL parser, which
follows Salesforce's escaping rules (crm-api-reference.md 2.2) and rejects anything else.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.salesforce import soql_literals as soql
from handoff_sync.sandbox.salesforce.soql import Condition, Literal, SoqlError, parse


def where_of(literal_text: str, op: str = "=") -> Condition:
    query = parse(f"SELECT Id FROM Opportunity WHERE Name {op} {literal_text}")
    assert isinstance(query.where, Condition), "the literal changed the query's shape"
    return query.where


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("O'Brien", r"'O\'Brien'"),
        ("back\\slash", r"'back\\slash'"),
        ('say "hi"', r"'say \"hi\"'"),
        ("two\nlines\r\n", r"'two\nlines\r\n'"),
        ("tab\there\b\f", r"'tab\there\b\f'"),
        ("bell\x07 and nul\x00", r"'bell\u0007 and nul\u0000'"),
        ("Zoë 東京 😀", "'Zoë 東京 😀'"),
        ("100%_off", "'100%_off'"),
    ],
)
def test_quote_escapes_per_soql_rules(text: str, expected: str) -> None:
    assert soql.quote(text) == expected
    assert where_of(soql.quote(text)).value == Literal("string", text)


@pytest.mark.parametrize("attack", [
    "' OR Name != '",
    "x' OR Id != null OR Name = 'y",
    "\\' OR Name != \\'",
    "'); DELETE FROM Opportunity; --",
    "a' AND Amount > 0 AND Name LIKE '%",
])
def test_injection_attempts_stay_one_string_literal(attack: str) -> None:
    condition = where_of(soql.quote(attack))

    assert condition.field == "Name" and condition.op == "="
    assert condition.value == Literal("string", attack)


@given(st.text())
def test_any_text_reads_back_as_itself(text: str) -> None:
    assert where_of(soql.quote(text)).value == Literal("string", text)


@given(st.text())
def test_a_like_pattern_matches_its_text_literally(text: str) -> None:
    condition = where_of(soql.like_pattern(text), "LIKE")

    parts = condition.value.value  # type: ignore[union-attr]
    assert all(not wildcard for wildcard, _ in parts)
    assert "".join(piece for _, piece in parts) == text


def test_like_patterns_escape_wildcards_and_add_only_the_requested_ones() -> None:
    assert soql.like_pattern("50%_off", suffix=True) == r"'50\%\_off%'"
    assert soql.like_pattern("O'B", prefix=True) == r"'%O\'B'"
    parts = where_of(soql.like_pattern("a_b", prefix=True, suffix=True), "LIKE").value.value  # type: ignore[union-attr]
    assert parts == ((True, "%"), (False, "a_b"), (True, "%"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 5, 1, 12, 0, tzinfo=UTC), "2024-05-01T12:00:00Z"),
        (datetime(2024, 5, 1, 12, 0, 0, 250_999, tzinfo=UTC), "2024-05-01T12:00:00.250Z"),
        (datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
         "2024-05-01T12:00:00Z"),
        (datetime(2024, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=-5))),
         "2024-01-01T05:30:00Z"),
        (datetime(2024, 5, 1, 12, 0, 0, 999, tzinfo=UTC), "2024-05-01T12:00:00Z"),
    ],
)
def test_datetimes_are_utc_z_literals_with_milliseconds_only_when_present(
    value: datetime, expected: str
) -> None:
    assert soql.literal(value) == expected
    literal = where_of(expected, ">").value
    assert literal == Literal("datetime", value.replace(microsecond=value.microsecond
                                                        // 1000 * 1000).astimezone(UTC))


def test_naive_datetimes_are_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        soql.literal(datetime(2024, 5, 1, 12, 0))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (0, "0"),
        (-42, "-42"),
        (1.5, "1.5"),
        (1e-7, "0.0000001"),
        (1e21, "1000000000000000000000"),
        (Decimal("1234.50"), "1234.50"),
        (date(2024, 2, 29), "2024-02-29"),
        (["a", "b'c"], r"('a','b\'c')"),
        (("x",), "('x')"),
        ({"b", "a"}, "('a','b')"),
        ([1, 2.5, None, True], "(1,2.5,null,true)"),
    ],
)
def test_other_values_become_plain_soql_literals(value: object, expected: str) -> None:
    assert soql.literal(value) == expected


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN")])
def test_numbers_soql_cannot_compare_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        soql.literal(value)


def test_in_lists_need_a_value_and_values_need_a_known_type() -> None:
    with pytest.raises(ValueError, match="at least one"):
        soql.literal([])
    with pytest.raises(TypeError, match="bytes"):
        soql.literal(b"raw")


def test_in_list_literals_parse_as_one_list() -> None:
    query = parse(f"SELECT Id FROM Opportunity WHERE Id IN {soql.in_list(['a', 'b OR 1'])}")

    assert isinstance(query.where, Condition)
    assert query.where.value == (Literal("string", "a"), Literal("string", "b OR 1"))


@pytest.mark.parametrize("good", ["Name", "Partner_Account__c", "ns__Field__c", "Owner.Email",
                                  "CS_Owner__r.Email", "X1"])
def test_api_names_pass(good: str) -> None:
    assert soql.name(good) == good


@pytest.mark.parametrize("bad", ["", "Name, Id", "Name FROM User", "1Name", "Na me", "Name'",
                                 "Name--", "Field___c", "Name_", ".Name", "Owner.", "x" * 256,
                                 "Name\n", "Näme"])
def test_anything_else_is_not_an_api_name(bad: str) -> None:
    with pytest.raises(ValueError, match="not a Salesforce API name"):
        soql.name(bad)


def test_the_parser_used_as_judge_rejects_what_salesforce_rejects() -> None:
    # Guards the round-trip tests above: an unescaped quote or a bad escape must fail.
    with pytest.raises(SoqlError):
        parse("SELECT Id FROM Opportunity WHERE Name = 'O'Brien'")
    with pytest.raises(SoqlError):
        parse(r"SELECT Id FROM Opportunity WHERE Name = 'a\qb'")
