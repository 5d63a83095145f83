"""connectors.reading: one way to read a yes/no and an instant, worded the same by the
file drop's control columns and by the mapping's transforms."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connectors.files import columns
from connectors.reading import Unreadable, read_flag, read_instant
from handoff_sync.mapping.system.transforms import ValueProblem, read_bool, read_datetime


@pytest.mark.parametrize(("raw", "expected"), [
    ("Yes", True), (" off ", False), (1, True), (0, False), (True, True)])
def test_flags_read_the_words_exports_write(raw: object, expected: bool) -> None:
    assert read_flag(raw) is expected
    assert read_bool(raw) is expected and columns.flag(raw) is expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-03-01T09:00:00Z", datetime(2026, 3, 1, 9, tzinfo=UTC)),
    ("2026-03-01T09:00:00", datetime(2026, 3, 1, 9, tzinfo=UTC)),  # no offset: UTC
    ("1772355600000", datetime(2026, 3, 1, 9, tzinfo=UTC)),  # epoch milliseconds
    (date(2026, 3, 1), datetime(2026, 3, 1, tzinfo=UTC))])
def test_instants_are_utc(raw: object, expected: datetime) -> None:
    assert read_instant(raw) == expected == read_datetime(raw)


@pytest.mark.parametrize(("raw", "reader", "transform", "words"), [
    ("maybe", read_flag, read_bool, "'maybe' is not true or false"),
    ("31/02/2026", read_instant, read_datetime, "'31/02/2026' is not a date and time"),
    ("999999999999999", read_instant, read_datetime,
     "'999999999999999' is not a date and time between the years 1 and 9999"),
    (1.5, read_instant, read_datetime, "expected a date and time, got float")])
def test_the_transforms_name_the_value_the_reader_refused(
        raw: object, reader: object, transform: object, words: str) -> None:
    with pytest.raises(Unreadable):
        reader(raw)  # type: ignore[operator]
    with pytest.raises(ValueProblem) as refused:
        transform(raw)  # type: ignore[operator]
    assert str(refused.value) == words


def test_a_cell_is_never_taken_as_an_already_parsed_instant() -> None:
    with pytest.raises(Unreadable, match="expected a date and time, got date"):
        columns.instant(date(2026, 3, 1))
