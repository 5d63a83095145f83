"""The store's pure parts: lossless JSON for canonical values, and the retry backoff."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handoff_sync.model import TaskStatus
from handoff_sync.store import backoff
from handoff_sync.store.codec import decode, decode_map, encode, encode_map

# Every kind of canonical value (model.Value), plus what raw API values add.
canonical = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(timezones=st.just(UTC)),
    st.tuples(st.text()) | st.lists(st.text(), max_size=4).map(tuple),
)
values = st.recursive(
    canonical | st.floats(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=12)


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (1 == True and 5 == Decimal(5) are not
    good enough: the merge would see a change)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, Decimal):
        return str(a) == str(b)  # precision too: 12.50 stays 12.50
    return a == b


@given(st.dictionaries(st.text(), values, max_size=6))
def test_any_value_map_survives_json_unchanged_in_type_and_value(data: dict[str, object]) -> None:
    text = json.dumps(encode_map(data), allow_nan=False)
    assert same(decode_map(json.loads(text)), data)


def test_tags_are_readable_and_a_mapping_that_looks_like_a_tag_is_not_mistaken() -> None:
    assert encode(Decimal("12.50")) == {"$dec": "12.50"}
    assert encode(date(2026, 11, 18)) == {"$date": "2026-11-18"}
    assert encode(datetime(2026, 11, 18, 15, 30, tzinfo=UTC)) == {
        "$dt": "2026-11-18T15:30:00+00:00"}
    assert encode(("a", "b")) == {"$tuple": ["a", "b"]}
    lookalike = {"$dt": "not an instant"}
    assert encode(lookalike) == {"$map": lookalike}
    assert decode(encode(lookalike)) == lookalike
    assert encode(TaskStatus.DONE) == "done"
    assert encode(float("inf")) == {"$float": "inf"}


def test_a_value_json_cannot_hold_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot store a set"):
        encode({"a"})


def test_backoff_doubles_from_a_minute_up_to_six_hours() -> None:
    minutes = [backoff(attempts) / timedelta(minutes=1) for attempts in range(1, 12)]
    assert minutes == [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360]
    assert backoff(10_000) == timedelta(hours=6)
    with pytest.raises(ValueError, match="from 1"):
        backoff(0)
