from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from handoff_sync.mapping.system.transforms import TRANSFORMS, ValueProblem, canonical_literal
from handoff_sync.model import FieldType, SystemName

SF, HS = SystemName.SALESFORCE, SystemName.HUBSPOT


def read(name, raw):
    return TRANSFORMS[name].read(raw)


def write(name, value, system):
    return TRANSFORMS[name].write(value, system)


def test_text():
    assert read("text", "  x ") == "  x "
    assert read("text", 5) == "5"
    assert write("text", "x", HS) == "x"
    with pytest.raises(ValueProblem):
        read("text", {"a": 1})


def test_email():
    assert read("email", " Ann@Example.COM ") == "ann@example.com"
    for bad in ("ann", "@x.com", "a b@x.com", "a@b@c"):
        with pytest.raises(ValueProblem):
            read("email", bad)


@pytest.mark.parametrize("raw", ["example.com", "https://www.Example.com/path?q=1",
                                 "ann@example.com", "http://user@example.com:8080/",
                                 "WWW.EXAMPLE.COM."])
def test_domain(raw):
    assert read("domain", raw) == "example.com"


def test_domain_rejects_text_without_a_domain():
    with pytest.raises(ValueProblem):
        read("domain", "Acme Corp")


def test_number_and_currency_read_every_api_shape():
    assert read("number", 100000) == Decimal(100000)
    assert read("number", 1234.5) == Decimal("1234.5")
    assert read("number", " 99.90 ") == Decimal("99.90")
    assert read("currency", "100000") == Decimal(100000)
    for bad in (True, "abc", float("nan"), "Infinity", [1]):
        with pytest.raises(ValueProblem):
            read("number", bad)


def test_number_and_currency_write_each_system_format():
    assert write("number", Decimal("100000"), SF) == 100000
    assert write("number", Decimal("12.5"), SF) == 12.5
    assert write("number", Decimal("100000.50"), HS) == "100000.50"
    assert write("number", Decimal("1E+3"), HS) == "1000"
    assert write("currency", Decimal("10.005"), HS) == "10.00"  # banker's rounding to cents
    assert write("currency", Decimal("10.015"), SF) == 10.02


def test_integer():
    assert read("integer", "3") == 3
    assert read("integer", 3.0) == 3
    assert write("integer", 3, HS) == "3" and write("integer", 3, SF) == 3
    with pytest.raises(ValueProblem):
        read("integer", "2.5")


@pytest.mark.parametrize(("raw", "value"), [(True, True), ("true", True), ("False", False),
                                            ("yes", True), ("0", False), (1, True)])
def test_bool_read(raw, value):
    assert read("bool", raw) is value


def test_bool_write_and_bad_values():
    assert write("bool", True, HS) == "true" and write("bool", False, SF) is False
    with pytest.raises(ValueProblem):
        read("bool", "maybe")


def test_date_reads_dates_datetimes_and_epoch_ms():
    assert read("date", "2026-03-31") == date(2026, 3, 31)
    assert read("date", "2026-03-31T23:30:00.000Z") == date(2026, 3, 31)
    assert read("date", "1774915200000") == date(2026, 3, 31)
    assert write("date", date(2026, 3, 31), HS) == "2026-03-31"
    assert write("date", datetime(2026, 3, 31, 8, tzinfo=UTC), SF) == "2026-03-31"
    with pytest.raises(ValueProblem):
        read("date", "31/03/2026")


def test_datetime_reads_salesforce_hubspot_and_epoch_and_writes_each_format():
    moment = datetime(2026, 3, 31, 12, 0, 0, 250000, tzinfo=UTC)
    assert read("datetime", "2026-03-31T12:00:00.250+0000") == moment
    assert read("datetime", "2026-03-31T14:00:00.250+02:00") == moment
    assert read("datetime", "2026-03-31T12:00:00.250Z") == moment
    assert read("datetime", "1774958400250") == moment
    assert read("datetime", "2026-03-31T12:00:00") == moment.replace(microsecond=0)
    assert write("datetime", moment, SF) == "2026-03-31T12:00:00.250+0000"
    assert write("datetime", moment, HS) == "2026-03-31T12:00:00.250Z"
    with pytest.raises(ValueProblem):
        read("datetime", "soon")


def test_multi_select_and_lines():
    assert read("multi_select", "Acme; Globex;;Acme") == ("Acme", "Globex")
    assert read("multi_select", ["Acme", "Hooli"]) == ("Acme", "Hooli")
    assert write("multi_select", ("Acme", "Globex"), SF) == "Acme;Globex"
    assert read("lines", "Budget\n\nNeed\n") == ("Budget", "Need")
    assert write("lines", ("Budget", "Need"), HS) == "Budget\nNeed"


def test_owner_email_declares_an_email_type():
    assert TRANSFORMS["owner_email"].produces is FieldType.EMAIL


def test_canonical_literal_types_yaml_values():
    assert canonical_literal(FieldType.NUMBER, 100000) == Decimal(100000)
    assert canonical_literal(FieldType.DATE, "2026-01-01") == date(2026, 1, 1)
    assert canonical_literal(FieldType.TEXT_LIST, ["a", "b"]) == ("a", "b")
    for field_type, raw in ((FieldType.BOOL, "yes"), (FieldType.TEXT, 5),
                            (FieldType.DATE, 20260101)):
        with pytest.raises(ValueProblem):
            canonical_literal(field_type, raw)


@pytest.mark.parametrize("raw", ["1e400", "-1e400", "1" * 5000, 10 ** 400, Decimal("1E+309")])
def test_a_number_beyond_the_double_range_is_a_problem_not_a_huge_number(raw):
    # Both systems hold doubles: 1e400 would become infinity (or a 401-digit JSON number).
    with pytest.raises(ValueProblem, match="too large to sync"):
        read("currency", raw)
    with pytest.raises(ValueProblem, match="too large to sync"):
        read("integer", raw)


@pytest.mark.parametrize("raw", ["1e-400", "-2.5e-330", Decimal("1E-400")])
def test_a_number_a_double_rounds_to_zero_is_a_problem_not_zero(raw):
    with pytest.raises(ValueProblem, match="too small to sync"):
        read("number", raw)


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "Infinity", "-Infinity", "sNaN",
                                 float("inf"), float("-inf"), float("nan"), Decimal("NaN")])
def test_non_finite_numbers_are_problems(raw):
    with pytest.raises(ValueProblem, match="not a finite number"):
        read("number", raw)


def test_numbers_at_the_edges_of_the_double_range_still_read():
    assert read("number", "1.7976931348623157e308") == Decimal("1.7976931348623157e308")
    assert read("number", 5e-324) == Decimal("5E-324")
    assert read("number", "0e-500") == 0  # a zero is zero whatever its exponent


def test_a_bad_value_is_quoted_short_and_without_control_characters():
    with pytest.raises(ValueProblem) as caught:
        read("number", "\x1b[2J" + "9" * 100_000 + "x")
    message = str(caught.value)
    assert len(message) < 200 and "\x1b" not in message
    assert "100,005 characters" in message and "\\x1b[2J" in message


@pytest.mark.parametrize("raw", ["999999999999999", -999999999999999,
                                 "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00"])
def test_an_instant_beyond_the_calendar_is_a_problem_not_a_crash(raw):
    # Epoch ms of year 33658 raised a bare ValueError, which no reader caught.
    with pytest.raises(ValueProblem, match="between the years 1 and 9999"):
        read("datetime", raw)
    with pytest.raises(ValueProblem):
        read("date", raw)
