"""The preset dictionaries packed values are compressed against (``codec.pack``).

One per pipeline and kind of value (``MIRROR_KINDS`` per role, ``BASES``), trained on
the first values of that kind a cycle records (``codec.train_dictionary``) and never
changed after: every value packed with it names it by id, so it must stay readable. A
pipeline whose first cycles record too few values packs them without one until a cycle
records enough.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from handoff_sync.model import Role
from handoff_sync.store.codec import PackDictionary, train_dictionary
from handoff_sync.store.schema import PackDictionaryRow, table

BASES = "bases"
MIRROR_KINDS = {role: f"mirror:{role.value}" for role in Role}


def dictionaries(connection: Connection, pipeline: str) -> dict[int, bytes]:
    """A pipeline's dictionaries by id (what ``codec.unpack`` needs to read its values)."""
    rows = table(PackDictionaryRow)
    return {int(row.id): bytes(row.data) for row in connection.execute(
        select(rows.c.id, rows.c.data).where(rows.c.pipeline == pipeline))}


def dictionary_for(connection: Connection, pipeline: str, kind: str,
                   values: Callable[[], Sequence[Any]], now: datetime) -> PackDictionary | None:
    """The pipeline's dictionary for ``kind``: the stored one, else one trained on
    ``values()`` (plain JSON data) and stored now; None while there are too few."""
    rows = table(PackDictionaryRow)
    found = connection.execute(
        select(rows.c.id, rows.c.data)
        .where(rows.c.pipeline == pipeline, rows.c.kind == kind)
        .order_by(rows.c.id.desc()).limit(1)).first()
    if found is not None:
        return PackDictionary(int(found.id), bytes(found.data))
    data = train_dictionary(values())
    if data is None:
        return None
    number = connection.execute(rows.insert().values(
        pipeline=pipeline, kind=kind, data=data, created_at=now)
        .returning(rows.c.id)).scalar_one()
    return PackDictionary(int(number), data)
