"""Store footprint: mirrored records and base snapshots packed, a redundant index dropped.

The two largest tables held JSON text: every field of every mirrored record, and each
base snapshot's values three times (the agreed ones and each side's, which nearly always
equal them). From here they are binary columns (BLOB, bytea) holding that JSON packed
(``handoff_sync.store.codec.pack``): without whitespace and zlib-compressed against a
preset dictionary per pipeline and kind (``pack_dictionaries``, trained on its first
values: here the first ones by key), a base snapshot with each side's values only where
they differ from the agreed ones (``codec.snapshot_data``). ``gate_history``'s index by
deal goes: nothing reads the history by deal (the reports read a pipeline's in time
order, the other index).

Existing rows are converted in batches of ``BATCH`` (paged by primary key, so memory
stays bounded at any size), on SQLite and PostgreSQL alike. The downgrade converts them
back to the JSON columns, losslessly. The space freed returns to the operating system
after ``VACUUM`` (SQLite) or ``VACUUM FULL`` (PostgreSQL); until then the database
reuses it.

The packed forms are written out here (not imported from handoff_sync), so this revision
keeps converting to the forms it was written for when the store's code moves on; a test
checks that what it writes, the store reads back identically.

Revision ID: 0012_store_footprint
Revises: 0011_review_names
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012_store_footprint"
down_revision: str | Sequence[str] | None = "0011_review_names"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000  # rows read, converted and written at a time

MIRROR_KEY = ("pipeline", "role", "record_id")
BASES_KEY = ("pipeline", "deal")
SIDES = ("prm", "crm", "agreed")


DICTIONARY_BYTES = 32 * 1024
DICTIONARY_SAMPLES = 50
DICTIONARY_MIN_SAMPLES = 20

DICTIONARIES = sa.table("pack_dictionaries", sa.column("id", sa.Integer()),
                        sa.column("pipeline", sa.String()), sa.column("kind", sa.String()),
                        sa.column("data", sa.LargeBinary()),
                        sa.column("created_at", sa.DateTime(timezone=True)))


def upgrade() -> None:
    op.drop_index("ix_gate_history_pipeline_deal_recorded_at", table_name="gate_history")
    op.create_table(
        "pack_dictionaries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pipeline", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack_dictionaries")))
    mirror = _Dictionaries(lambda row: f"mirror:{row['role']}",
                           lambda row: row["fields"])
    _convert("mirror", MIRROR_KEY, ["fields"], [sa.Column("packed", sa.LargeBinary())],
             lambda row: {"packed": _pack(row["fields"], mirror.of(row))}, mirror.train)
    bases = _Dictionaries(lambda _row: "bases",
                          lambda row: _snapshot(row["prm"], row["crm"], row["agreed"]))
    _convert("bases", BASES_KEY, list(SIDES), [sa.Column("snapshot", sa.LargeBinary())],
             lambda row: {"snapshot": _pack(bases.value(row), bases.of(row))}, bases.train)


def downgrade() -> None:
    connection = op.get_bind()
    stored = {int(row.id): bytes(row.data) for row in connection.execute(
        sa.select(DICTIONARIES.c.id, DICTIONARIES.c.data))}
    _convert("bases", BASES_KEY, ["snapshot"],
             [sa.Column(name, sa.JSON()) for name in SIDES],
             lambda row: dict(zip(SIDES, _sides(_unpack(row["snapshot"], stored)),
                                  strict=True)))
    _convert("mirror", MIRROR_KEY, ["packed"], [sa.Column("fields", sa.JSON())],
             lambda row: {"fields": _unpack(row["packed"], stored)})
    op.drop_table("pack_dictionaries")
    op.create_index("ix_gate_history_pipeline_deal_recorded_at", "gate_history",
                    ["pipeline", "deal", "recorded_at"])


class _Dictionaries:
    """One dictionary per pipeline and kind, trained on its first rows (by key)."""

    def __init__(self, kind: Callable[[Mapping[str, Any]], str],
                 value: Callable[[Mapping[str, Any]], Any]) -> None:
        self.kind, self.value = kind, value
        self.found: dict[tuple[str, str], tuple[int, bytes] | None] = {}
        self.samples: dict[tuple[str, str], list[Any]] = {}

    def train(self, connection: sa.Connection, rows: Sequence[Mapping[str, Any]],
              final: bool) -> None:
        """Note a page's values; store a dictionary once a pipeline's kind has enough
        (and on the ``final`` page, whatever is left)."""
        for row in rows:
            key = (str(row["pipeline"]), self.kind(row))
            samples = self.samples.setdefault(key, []) if key not in self.found else None
            if samples is not None and len(samples) < DICTIONARY_SAMPLES:
                samples.append(self.value(row))
        last = (str(rows[-1]["pipeline"]), self.kind(rows[-1]))
        for key, samples in list(self.samples.items()):
            # Rows come in key order: a pipeline's kind before the page's last is done.
            if len(samples) >= DICTIONARY_SAMPLES or key != last:
                self._store(connection, key, self.samples.pop(key))
        if final:  # the last page: what is left too
            for key in list(self.samples):
                self._store(connection, key, self.samples.pop(key))

    def _store(self, connection: sa.Connection, key: tuple[str, str],
               samples: list[Any]) -> None:
        if len(samples) < DICTIONARY_MIN_SAMPLES:
            self.found[key] = None
            return
        data = b"".join(map(_json_bytes, samples))[-DICTIONARY_BYTES:]
        number = connection.execute(DICTIONARIES.insert().values(
            pipeline=key[0], kind=key[1], data=data, created_at=datetime.now(UTC))
            .returning(DICTIONARIES.c.id)).scalar_one()
        self.found[key] = (int(number), data)

    def of(self, row: Mapping[str, Any]) -> tuple[int, bytes] | None:
        return self.found.get((str(row["pipeline"]), self.kind(row)))


def _convert(name: str, key: Sequence[str], old: list[str], new: list[sa.Column[Any]],
             convert: Callable[[Mapping[str, Any]], dict[str, Any]],
             train: Callable[[sa.Connection, Sequence[Mapping[str, Any]], bool], None]
             | None = None,
             ) -> None:
    """Replace columns ``old`` of table ``name`` by ``new``, filled by ``convert``
    (after ``train`` has seen each page)."""
    types = {column.name: column.type for column in new}
    with op.batch_alter_table(name) as batch:
        for column in new:
            batch.add_column(sa.Column(column.name, column.type, nullable=True))
    source = sa.table(name, *(sa.column(k, sa.String()) for k in key),
                      *(sa.column(c, sa.LargeBinary() if c in ("packed", "snapshot")
                                  else sa.JSON()) for c in old))
    target = sa.table(name, *(sa.column(k, sa.String()) for k in key),
                      *(sa.column(c, t) for c, t in types.items()))
    write = (sa.update(target)
             .where(*(target.c[k] == sa.bindparam(f"k_{k}") for k in key))
             .values({c: sa.bindparam(f"v_{c}") for c in types}))
    connection = op.get_bind()
    pages = _pages(connection, source, key)
    rows = next(pages, None)
    while rows is not None:
        # One page ahead, so the last page is known even when it is a full one.
        following = next(pages, None)
        if train is not None:
            train(connection, rows, following is None)
        connection.execute(write, [
            {**{f"k_{k}": row[k] for k in key},
             **{f"v_{c}": value for c, value in convert(row).items()}} for row in rows])
        rows = following
    with op.batch_alter_table(name) as batch:
        for column in old:
            batch.drop_column(column)
        for column in new:
            batch.alter_column(column.name, existing_type=column.type, nullable=False)


def _pages(connection: sa.Connection, source: sa.TableClause,
           key: Sequence[str]) -> Iterator[list[Mapping[str, Any]]]:
    """The rows of ``source`` in primary key order, ``BATCH`` at a time."""
    columns = [source.c[k] for k in key]
    last: tuple[Any, ...] | None = None
    while True:
        query = sa.select(source).order_by(*columns).limit(BATCH)
        if last is not None:
            query = query.where(sa.tuple_(*columns) > sa.tuple_(*last))
        rows = [row._mapping for row in connection.execute(query)]
        if not rows:
            return
        yield rows
        last = tuple(rows[-1][k] for k in key)


# The packed forms, as handoff_sync.store.codec.pack writes them: a form byte, then
# compact JSON ("j"), zlib-compressed ("z"), or compressed with a preset dictionary ("d",
# the dictionary's id in 4 bytes first), whichever is smallest.
def _json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8", "surrogatepass")


def _pack(data: Any, dictionary: tuple[int, bytes] | None = None) -> bytes:
    text = _json_bytes(data)
    if dictionary is not None:
        compressor = zlib.compressobj(6, zdict=dictionary[1])
        packed = (b"d" + dictionary[0].to_bytes(4, "big") + compressor.compress(text)
                  + compressor.flush())
    else:
        packed = b"z" + zlib.compress(text, 6)
    return packed if len(packed) <= len(text) else b"j" + text


def _unpack(blob: bytes | memoryview, dictionaries: Mapping[int, bytes]) -> Any:
    data = bytes(blob)
    if data[:1] == b"d":
        decompressor = zlib.decompressobj(zdict=dictionaries[int.from_bytes(data[1:5], "big")])
        text = decompressor.decompress(data[5:]) + decompressor.flush()
    else:
        text = zlib.decompress(data[1:]) if data[:1] == b"z" else data[1:]
    return json.loads(text.decode("utf-8", "surrogatepass"))


# A base snapshot's stored form, as codec.snapshot_data writes it: the agreed values, and
# each side's only where they differ ("d") and the agreed fields it lacks ("x").
def _same(left: Any, right: Any) -> bool:
    if type(left) is not type(right):
        return False
    if isinstance(left, float):
        return repr(left) == repr(right)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(v, right[k]) for k, v in left.items())
    return bool(left == right)


def _delta(side: Mapping[str, Any], agreed: Mapping[str, Any]) -> dict[str, Any]:
    differing = {k: v for k, v in side.items() if k not in agreed or not _same(v, agreed[k])}
    absent = [k for k in agreed if k not in side]
    return {**({"d": differing} if differing else {}), **({"x": absent} if absent else {})}


def _snapshot(prm: Mapping[str, Any] | None, crm: Mapping[str, Any] | None,
              agreed: Mapping[str, Any] | None) -> dict[str, Any]:
    agreed = dict(agreed or {})
    return {"a": agreed, "p": _delta(prm or {}, agreed), "c": _delta(crm or {}, agreed)}


def _side(delta: Mapping[str, Any], agreed: Mapping[str, Any]) -> dict[str, Any]:
    differing: Mapping[str, Any] = delta.get("d", {})
    absent = set(delta.get("x", ()))
    values = {k: differing.get(k, v) for k, v in agreed.items() if k not in absent}
    values.update((k, v) for k, v in differing.items() if k not in agreed)
    return values


def _sides(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    agreed: dict[str, Any] = data["a"]
    return _side(data["p"], agreed), _side(data["c"], agreed), agreed
