"""The store's pure parts: lossless JSON for canonical values, its packed forms (mirrored
records, base snapshots), and the retry backoff."""

from __future__ import annotations

import importlib.util
import json
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from handoff_sync.engine.types import BaseSnapshot
from handoff_sync.errors import StoreError
from handoff_sync.model import TaskStatus
from handoff_sync.store import backoff
from handoff_sync.store.codec import (
    DICTIONARY_BYTES,
    DICTIONARY_MIN_SAMPLES,
    PackDictionary,
    decode,
    decode_map,
    encode,
    encode_map,
    pack,
    same_data,
    snapshot_data,
    snapshot_maps,
    train_dictionary,
    unpack,
)
from handoff_sync.store.rows import agreed_from, base_data, base_from, base_row

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


def _migration() -> Any:
    """Migration 0012, which writes the packed forms with its own copy of the code."""
    path = Path(__file__).resolve().parents[2] / "migrations/versions/0012_store_footprint.py"
    spec = importlib.util.spec_from_file_location("migration_0012", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MIGRATION = _migration()
NOW = datetime(2026, 11, 18, tzinfo=UTC)
value_maps = st.dictionaries(st.text(max_size=8), values, max_size=6)


@given(value_maps)
@example({"lone surrogate": "\ud800", "non-ASCII": "Zoë 東京", "long": "abc" * 400})
@example({})
def test_packed_json_gives_back_exactly_what_went_in(data: dict[str, Any]) -> None:
    encoded = encode_map(data)
    packed = pack(encoded)
    assert packed[:1] in (b"j", b"z") and b" " not in packed[:2]
    assert same_data(unpack(packed), encoded)
    assert same(decode_map(unpack(packed)), data)
    assert unpack(memoryview(packed)) == unpack(packed)  # PostgreSQL's bytea may be one
    assert MIGRATION._pack(encoded) == packed  # the migration writes the same bytes
    assert same_data(MIGRATION._unpack(packed, {}), encoded)
    # With a preset dictionary (trained on values like it, as the store's are).
    trained = train_dictionary([encode_map({**data, "n": n}) for n in range(30)])
    assert trained is not None
    dictionary = PackDictionary(7, trained)
    packed = pack(encoded, dictionary)
    assert packed[:1] in (b"j", b"d") and len(packed) <= len(pack(encoded)) + 5
    assert same(decode_map(unpack(packed, {7: trained})), data)
    assert MIGRATION._pack(encoded, (7, trained)) == packed
    assert same_data(MIGRATION._unpack(packed, {7: trained}), encoded)


def test_a_dictionary_is_trained_only_on_enough_values_and_shrinks_records_like_them(
        ) -> None:
    records = [{"dealname": f"Deal {n}", "amount": str(n * 1000), "closedate": None,
                "hs_lastmodifieddate": f"2026-12-0{n % 9 + 1}T10:00:00.000Z",
                "partner_rep_email": f"rep{n}@partner.example", "pipeline": "9004451"}
               for n in range(60)]
    assert train_dictionary(records[:DICTIONARY_MIN_SAMPLES - 1]) is None
    trained = train_dictionary(records)
    assert trained is not None and len(trained) <= DICTIONARY_BYTES
    alone = len(pack(records[-1]))
    with_it = len(pack(records[-1], PackDictionary(1, trained)))
    assert with_it < alone * 0.6
    # A lost dictionary row is named, with what to do, not a bare decoding error.
    with pytest.raises(StoreError, match=r"compression dictionary 1, which the table "
                                         r"pack_dictionaries does not hold.*backup"):
        unpack(pack(records[-1], PackDictionary(1, trained)))


def test_small_values_stay_plain_json_and_large_ones_are_compressed() -> None:
    assert pack({"a": 1}) == b'j{"a":1}'
    large = {"text": "the same words again " * 100}
    assert pack(large)[:1] == b"z" and len(pack(large)) < 200
    assert unpack(pack(large)) == large
    with pytest.raises(ValueError, match=r"not a packed value: it starts with b'\{'"):
        unpack(b'{"a": 1}')


@st.composite
def snapshots(draw: st.DrawFn) -> BaseSnapshot:
    """A base snapshot whose sides mostly agree, as stored ones do: each side keeps an
    agreed value, lacks it, or holds another (often equal but of another type)."""
    agreed = draw(value_maps)
    sides = []
    for _ in range(2):
        side: dict[str, Any] = {}
        for key, value in agreed.items():
            choice = draw(st.sampled_from(("same", "same", "absent", "other")))
            if choice == "same":
                side[key] = value
            elif choice == "other":
                side[key] = draw(values)
        side.update(draw(st.dictionaries(st.text(max_size=8), values, max_size=2)))
        sides.append(side)
    return BaseSnapshot("prm:1", sides[0], sides[1], agreed)


LOOKALIKES = {"one": 1, "true": True, "float": 1.0, "dec": Decimal("12.50"), "zero": 0.0,
              "tuple": ("a",), "list": ["a"], "nan": float("nan")}


@given(snapshots())
@example(BaseSnapshot("prm:1", {"one": True, "true": 1, "float": 1, "dec": Decimal("12.5"),
                                "zero": -0.0, "tuple": ["a"], "list": ("a",),
                                "nan": float("nan")},
                      {**LOOKALIKES, "extra": None}, LOOKALIKES))
@example(BaseSnapshot("crm:2", {}, {}, {}))
def test_a_base_snapshot_stored_as_differences_reads_back_the_same(base: BaseSnapshot) -> None:
    stored = base_row("p", base, NOW)
    assert set(stored) == {"pipeline", "deal", "snapshot", "updated_at"}
    loaded = base_from(type("Row", (), {"deal": base.deal, "snapshot": stored["snapshot"]}),
                       {})
    for side in ("prm", "crm", "agreed"):
        assert same(dict(getattr(loaded, side)), dict(getattr(base, side))), side
    assert same(dict(agreed_from(stored["snapshot"], {})), dict(base.agreed))
    trained = train_dictionary([base_data(base)] * DICTIONARY_MIN_SAMPLES)
    assert trained is not None
    packed = base_row("p", base, NOW, PackDictionary(3, trained))["snapshot"]
    loaded = base_from(type("Row", (), {"deal": base.deal, "snapshot": packed}), {3: trained})
    for side in ("prm", "crm", "agreed"):
        assert same(dict(getattr(loaded, side)), dict(getattr(base, side))), side
    # The migration's copy writes and reads the same form.
    prm, crm, agreed = (encode_map(base.prm), encode_map(base.crm), encode_map(base.agreed))
    data = snapshot_data(prm, crm, agreed)
    assert same_data(MIGRATION._snapshot(prm, crm, agreed), data)
    assert all(map(same_data, MIGRATION._sides(data), snapshot_maps(data)))


def test_a_side_that_agrees_costs_nothing_but_its_differences() -> None:
    agreed = {"amount": {"$dec": "12.50"}, "name": "Acme", "stage": "won", "crm_only": 1}
    prm = {"amount": {"$dec": "12.5"}, "name": "Acme", "stage": "won", "prm_only": True}
    assert snapshot_data(prm, dict(agreed), agreed) == {
        "a": agreed, "p": {"d": {"amount": {"$dec": "12.5"}, "prm_only": True},
                           "x": ["crm_only"]}, "c": {}}


@pytest.mark.parametrize(("left", "right"), [
    (1, True), (1, 1.0), (0.0, -0.0), ([1], [True]), ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
    ({"$dec": "12.5"}, {"$dec": "12.50"}), (None, "")])
def test_values_that_compare_equal_in_python_are_not_the_same_data(left: Any,
                                                                   right: Any) -> None:
    assert not same_data(left, right) and not same_data(right, left)
    assert same_data(left, left) and same_data(right, right)
