"""Lossless JSON for the values the store keeps in JSON columns.

Canonical values (``model.Value``) include types JSON has no word for: dates, instants,
decimals and tuples (multi-select lists). They are tagged, so a base snapshot read back
holds exactly what was written (``Decimal("12.50")`` stays a Decimal, a date stays a
date, a tuple stays a tuple), which the three-way merge relies on: a value that changed
type would look changed and be written again every cycle.

    date       {"$date": "2026-11-18"}
    datetime   {"$dt": "2026-11-18T15:30:00+00:00"}
    Decimal    {"$dec": "12.50"}
    tuple      {"$tuple": [...]}
    float      {"$float": "nan"}        only for NaN and infinities
    a mapping whose only key starts with "$"   {"$map": {...}}   (so it is not read as a tag)

Lists and other mappings stay JSON arrays and objects; enums are stored as their value.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from types import MappingProxyType
from typing import Any, TypeVar

from handoff_sync.errors import StoreError

T = TypeVar("T")

# Values that need no work on the way in or out (the common case, kept cheap: the
# mirror stores every field of every record it has seen).
_PLAIN_IN = frozenset({str, int, bool, type(None)})
_PLAIN_OUT = frozenset({str, int, bool, float, type(None)})


def encode(value: Any) -> Any:
    """``value`` as plain JSON data (dict, list, str, int, float, bool, None)."""
    kind = type(value)
    if kind in _PLAIN_IN:
        return value
    if isinstance(value, Enum):
        return encode(value.value)
    if isinstance(value, (str, int)):  # str/int subclasses that are not enums
        return str(value) if isinstance(value, str) else int(value)
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, tuple):
        return {"$tuple": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, Mapping):
        data = encode_map(value)
        if len(data) == 1 and next(iter(data)).startswith("$"):
            return {"$map": data}
        return data
    raise TypeError(f"cannot store a {kind.__name__} value in a JSON column")


def encode_map(values: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping with text keys (field name -> value) as a JSON object."""
    return {str(key.value if isinstance(key, Enum) else key):
            (value if type(value) in _PLAIN_IN else encode(value))
            for key, value in values.items()}


def decode(data: Any) -> Any:
    """The value ``encode`` was given (tuples, dates, decimals and instants restored)."""
    kind = type(data)
    if kind in _PLAIN_OUT:
        return data
    if kind is list:
        return [decode(item) for item in data]
    if kind is not dict:
        raise TypeError(f"not JSON data: {kind.__name__}")
    if len(data) == 1:
        tag, inner = next(iter(data.items()))
        if tag == "$dt":
            return datetime.fromisoformat(inner)
        if tag == "$date":
            return date.fromisoformat(inner)
        if tag == "$dec":
            return Decimal(inner)
        if tag == "$tuple":
            return tuple(decode(item) for item in inner)
        if tag == "$float":
            return float(inner)
        if tag == "$map":
            return decode_map(inner)
    return decode_map(data)


def decode_map(data: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping ``encode_map`` was given."""
    return {key: (value if type(value) in _PLAIN_OUT else decode(value))
            for key, value in data.items()}


def frozen_map(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """``decode_map`` as a read-only mapping, for the frozen types the store returns."""
    return MappingProxyType(decode_map(data or {}))


# Large JSON values (mirrored records, base snapshots) are stored packed in binary
# columns (``LargeBinary``: BLOB on SQLite, bytea on PostgreSQL): the JSON above, written
# without whitespace, compressed when that makes it smaller. The first byte says which
# form follows, so a form can be added without rewriting what is stored:
#
#     b"j" + compact JSON text (UTF-8)
#     b"z" + zlib(compact JSON text)
#     b"d" + a dictionary's id (4 bytes, big-endian) + zlib(compact JSON text) compressed
#            with that preset dictionary
#
# A record of a few KB compresses poorly alone (its field names are most of it and each
# appears once); against a dictionary of records like it (``train_dictionary``: the
# pipeline's first ones, kept in the ``pack_dictionaries`` table, never changed once
# written) it shrinks about twice as much again.
#
# ``migrations/versions/0012_store_footprint.py`` writes the same forms (its own copy).
PACKED_JSON = b"j"
PACKED_ZLIB = b"z"
PACKED_DICTIONARY = b"d"
PACK_LEVEL = 6  # zlib's default: level 9 saves under 1% more here, at twice the time
DICTIONARY_BYTES = 32 * 1024  # zlib uses at most the last 32 KB of a dictionary
DICTIONARY_SAMPLES = 50  # values a dictionary is trained on, at most
DICTIONARY_MIN_SAMPLES = 20  # fewer: no dictionary yet (values are packed without one)


@dataclass(frozen=True)
class PackDictionary:
    """A stored preset dictionary: its id (``pack_dictionaries.id``) and bytes."""

    id: int
    data: bytes


def _json_bytes(data: Any) -> bytes:
    # A lone surrogate (JSON's "\\ud800" reads as one) passes through as its UTF-8 bytes.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8", "surrogatepass")


def pack(data: Any, dictionary: PackDictionary | None = None) -> bytes:
    """Plain JSON data (``encode``'s output) as the bytes of a packed column: the
    smallest of the forms, with ``dictionary`` when one is given."""
    text = _json_bytes(data)
    if dictionary is not None:
        compressor = _primed(dictionary).copy()
        packed = (PACKED_DICTIONARY + dictionary.id.to_bytes(4, "big")
                  + compressor.compress(text) + compressor.flush())
    else:
        packed = PACKED_ZLIB + zlib.compress(text, PACK_LEVEL)
    return packed if len(packed) <= len(text) else PACKED_JSON + text


@lru_cache(maxsize=16)
def _primed(dictionary: PackDictionary) -> Any:
    """A compressor that has read ``dictionary``, to copy for each value: a copy costs
    about half what reading the dictionary again does."""
    return zlib.compressobj(PACK_LEVEL, zdict=dictionary.data)


def unpack(blob: bytes | memoryview, dictionaries: Mapping[int, bytes] | None = None) -> Any:
    """The JSON data ``pack`` was given; ``dictionaries`` by id, for the values packed
    with one (``store.packing.dictionaries`` reads a pipeline's)."""
    data = bytes(blob)
    form = data[:1]
    if form == PACKED_ZLIB:
        text = zlib.decompress(data[1:])
    elif form == PACKED_JSON:
        text = data[1:]
    elif form == PACKED_DICTIONARY:
        number = int.from_bytes(data[1:5], "big")
        dictionary = (dictionaries or {}).get(number)
        if dictionary is None:
            raise StoreError(
                f"a stored value was packed with compression dictionary {number}, which the "
                "table pack_dictionaries does not hold: the mirror and base rows packed "
                "with it cannot be read; restore that table from a backup of this "
                "database (its rows are never changed or deleted by handoff-sync)")
        decompressor = zlib.decompressobj(zdict=dictionary)
        text = decompressor.decompress(data[5:]) + decompressor.flush()
    else:
        raise ValueError(f"not a packed value: it starts with {form!r}, not b'j', b'z' "
                         "or b'd'")
    return json.loads(text.decode("utf-8", "surrogatepass"))


def dictionary_samples(values: Sequence[T]) -> Sequence[T]:
    """The values a dictionary is trained on: up to ``DICTIONARY_SAMPLES`` spread over
    ``values`` (so a caller encodes only those)."""
    step = max(1, len(values) // DICTIONARY_SAMPLES)
    return values[::step][:DICTIONARY_SAMPLES]


def train_dictionary(values: Sequence[Any]) -> bytes | None:
    """A preset dictionary for values like ``values`` (plain JSON data): their
    ``dictionary_samples``, as packed; None when there are fewer than
    ``DICTIONARY_MIN_SAMPLES``."""
    if len(values) < DICTIONARY_MIN_SAMPLES:
        return None
    return b"".join(map(_json_bytes, dictionary_samples(values)))[-DICTIONARY_BYTES:]


# A base snapshot holds the values both sides last agreed and each side's own values;
# nearly all of a side's values equal the agreed one, so the stored form keeps a side's
# values only where they differ, and the agreed fields the side does not have:
#
#     {"a": {agreed}, "p": {"d": {differing}, "x": [absent]}, "c": {...}}
#
# "d" and "x" are left out when empty. Values compare as stored (their JSON with type
# tags), strictly: 1, 1.0 and true differ, as do Decimal 12.5 and 12.50.
AGREED, PRM_SIDE, CRM_SIDE, DIFFERING, ABSENT = "a", "p", "c", "d", "x"


def same_data(left: Any, right: Any) -> bool:
    """Whether two pieces of JSON data are the same, types included (1 is not true)."""
    kind = type(left)
    if kind is not type(right):
        return False
    if kind is float:
        return bool(repr(left) == repr(right))  # -0.0 is not 0.0
    if kind is list:
        return len(left) == len(right) and all(map(same_data, left, right))
    if kind is dict:
        return (list(left) == list(right)
                and all(same_data(value, right[key]) for key, value in left.items()))
    return bool(left == right)


def side_delta(side: Mapping[str, Any], agreed: Mapping[str, Any]) -> dict[str, Any]:
    """A side's values (JSON data) as the stored form keeps them against ``agreed``."""
    differing = {key: value for key, value in side.items()
                 if key not in agreed or not same_data(value, agreed[key])}
    absent = [key for key in agreed if key not in side]
    delta: dict[str, Any] = {}
    if differing:
        delta[DIFFERING] = differing
    if absent:
        delta[ABSENT] = absent
    return delta


def side_values(delta: Mapping[str, Any], agreed: Mapping[str, Any]) -> dict[str, Any]:
    """The side's values (JSON data) ``side_delta`` was given."""
    differing: Mapping[str, Any] = delta.get(DIFFERING, {})
    absent = set(delta.get(ABSENT, ()))
    values = {key: differing.get(key, value) for key, value in agreed.items()
              if key not in absent}
    values.update((key, value) for key, value in differing.items() if key not in agreed)
    return values


def snapshot_data(prm: Mapping[str, Any], crm: Mapping[str, Any],
                  agreed: Mapping[str, Any]) -> dict[str, Any]:
    """A base snapshot's three value maps (JSON data) in their stored form."""
    return {AGREED: dict(agreed), PRM_SIDE: side_delta(prm, agreed),
            CRM_SIDE: side_delta(crm, agreed)}


def snapshot_maps(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any],
                                                    dict[str, Any]]:
    """(prm, crm, agreed) JSON data of a stored snapshot (``snapshot_data``)."""
    agreed: dict[str, Any] = data[AGREED]
    return (side_values(data[PRM_SIDE], agreed), side_values(data[CRM_SIDE], agreed),
            agreed)
