"""Reading one pipeline's deals as a report needs them, without the cycle's whole state.

``load_pipeline`` gives a cycle everything: every mirrored record decoded, every base
with both sides' values. A report needs much less: each deal's verdict, its link, the
values both sides last agreed, its clocks, and the raw record only of the deals no agreed
values stand for (direct deals, unlinked registrations). At 100,000 deals decoding the
whole mirror was most of a report's first view, so this reads just those rows, plus one
field of each linked CRM record (its owner id, to name the owners of direct deals), the
only value decoded of that record. One read transaction, as ``load_pipeline``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, func, select

from handoff_sync.engine.types import ClockState, Link, Verdict
from handoff_sync.model import Role, Value
from handoff_sync.store.codec import decode, unpack
from handoff_sync.store.packing import dictionaries
from handoff_sync.store.rows import agreed_from, clock_from, link_from, mirror_from, verdict_from
from handoff_sync.store.schema import BaseRow, ClockRow, LinkRow, MirrorRow, VerdictRow, table
from handoff_sync.store.types import MirrorRecord

CHUNK = 500  # ids per IN list


@dataclass(frozen=True)
class DealRows:
    """One pipeline's deals, as a report reads them (``Store.load_deals``)."""

    verdicts: Mapping[str, Verdict]  # deal key -> its current verdict
    links: Mapping[str, Link]  # PRM record id -> link
    agreed: Mapping[str, Mapping[str, Value]]  # deal key -> the values both sides agreed
    clocks: tuple[ClockState, ...]
    # Role -> record id -> record, only for the deals without agreed values: the PRM
    # record of a registration (linked or not), the CRM record of a direct deal or of a
    # linked one.
    mirror: Mapping[Role, Mapping[str, MirrorRecord]]
    # CRM record id -> the raw value of the field asked for, for linked records.
    crm_field: Mapping[str, Any]


def load_deals(connection: Connection, pipeline: str, crm_field: str | None) -> DealRows:
    verdicts = {v.deal: v for v in map(verdict_from, _rows(connection, VerdictRow, pipeline))}
    links = {link.prm_id: link for link in map(link_from, _rows(connection, LinkRow, pipeline))}
    bases = table(BaseRow)
    packed = dictionaries(connection, pipeline)
    agreed = {row.deal: agreed_from(row.snapshot, packed) for row in connection.execute(
        select(bases.c.deal, bases.c.snapshot).where(bases.c.pipeline == pipeline))}
    clocks = tuple(map(clock_from, _rows(connection, ClockRow, pipeline)))
    wanted: dict[Role, set[str]] = {Role.PRM: set(), Role.CRM: set()}
    for key, verdict in verdicts.items():
        if verdict.prm_id is not None:
            link = links.get(verdict.prm_id)
            if link is None or key not in agreed:
                wanted[Role.PRM].add(verdict.prm_id)
            if link is not None and key not in agreed:
                wanted[Role.CRM].add(link.crm_id)
        elif verdict.crm_id is not None:
            wanted[Role.CRM].add(verdict.crm_id)
    mirror = {role: MappingProxyType(_records(connection, pipeline, role, ids, packed))
              for role, ids in wanted.items()}
    fields = (_field(connection, pipeline, crm_field, {link.crm_id for link in links.values()},
                     packed)
              if crm_field is not None else {})
    return DealRows(MappingProxyType(verdicts), MappingProxyType(links),
                    MappingProxyType(agreed), clocks, MappingProxyType(mirror),
                    MappingProxyType(fields))


def count_deals(connection: Connection, pipeline: str) -> int:
    """How many deals the pipeline's last cycles judged (one verdict row each)."""
    verdicts = table(VerdictRow)
    return int(connection.execute(select(func.count()).select_from(verdicts).where(
        verdicts.c.pipeline == pipeline)).scalar_one())


def _rows(connection: Connection, model: type[Any], pipeline: str) -> Any:
    rows = table(model)
    return connection.execute(select(rows).where(rows.c.pipeline == pipeline))


def _records(connection: Connection, pipeline: str, role: Role, ids: Collection[str],
             packed: Mapping[int, bytes]) -> dict[str, MirrorRecord]:
    rows = table(MirrorRow)
    ordered = sorted(ids)
    found: dict[str, MirrorRecord] = {}
    for start in range(0, len(ordered), CHUNK):
        query = select(rows).where(rows.c.pipeline == pipeline, rows.c.role == role.value,
                                   rows.c.record_id.in_(ordered[start:start + CHUNK]))
        for row in connection.execute(query):
            found[row.record_id] = mirror_from(row, packed)
    return found


def _field(connection: Connection, pipeline: str, name: str, ids: Collection[str],
           packed: Mapping[int, bytes]) -> dict[str, Any]:
    """Record id -> the decoded value of field ``name`` of CRM records ``ids`` (those
    that have it): each record's packed fields are unpacked, but only that value decoded."""
    rows = table(MirrorRow)
    query = select(rows.c.record_id, rows.c.packed).where(rows.c.pipeline == pipeline,
                                                         rows.c.role == Role.CRM.value)
    found: dict[str, Any] = {}
    for record_id, fields in connection.execute(query):
        if record_id in ids and (value := unpack(fields, packed).get(name)) is not None:
            found[record_id] = decode(value)
    return found
