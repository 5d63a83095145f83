"""Named records for pages that show a few deals out of many: the mirrored records and
agreed values of just the deals asked for (the console's review page names the deals,
accounts, partners and people of the items it shows without loading a whole pipeline)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, select

from handoff_sync.model import Role
from handoff_sync.store import bulk
from handoff_sync.store.codec import decode_map
from handoff_sync.store.rows import mirror_from
from handoff_sync.store.schema import BaseRow, LinkRow, MirrorRow, table
from handoff_sync.store.types import DealRecords, MirrorRecord


def deal_records(connection: Connection, pipeline: str, deals: Collection[str],
                 crm_ids: Collection[str] = ()) -> DealRecords:
    """The records of ``deals`` (deal keys ``prm:ID`` / ``crm:ID``; other keys are
    ignored), the opportunities their registrations are linked to, and ``crm_ids``."""
    prm_ids = sorted({deal.removeprefix("prm:") for deal in deals if deal.startswith("prm:")})
    wanted_crm = {deal.removeprefix("crm:") for deal in deals if deal.startswith("crm:")}
    wanted_crm |= set(crm_ids)
    links_table = table(LinkRow)
    links: dict[str, str] = {}
    for chunk in bulk.chunks(prm_ids, bulk.DELETE_CHUNK):
        query = select(links_table.c.prm_id, links_table.c.crm_id).where(
            links_table.c.pipeline == pipeline, links_table.c.prm_id.in_(list(chunk)))
        links.update((str(prm_id), str(crm_id))
                     for prm_id, crm_id in connection.execute(query))
    wanted_crm |= set(links.values())
    mirror = {Role.PRM: _mirror(connection, pipeline, Role.PRM, prm_ids),
              Role.CRM: _mirror(connection, pipeline, Role.CRM, sorted(wanted_crm))}
    bases = table(BaseRow)
    agreed: dict[str, Mapping[str, Any]] = {}
    keys = sorted({*deals, *(f"prm:{prm_id}" for prm_id in prm_ids)})
    for chunk in bulk.chunks(keys, bulk.DELETE_CHUNK):
        query = select(bases.c.deal, bases.c.agreed).where(
            bases.c.pipeline == pipeline, bases.c.deal.in_(list(chunk)))
        agreed.update((str(deal), MappingProxyType(decode_map(values or {})))
                      for deal, values in connection.execute(query))
    return DealRecords(prm=MappingProxyType(mirror[Role.PRM]),
                       crm=MappingProxyType(mirror[Role.CRM]),
                       links=MappingProxyType(links), agreed=MappingProxyType(agreed))


def _mirror(connection: Connection, pipeline: str, role: Role,
            ids: list[str]) -> dict[str, MirrorRecord]:
    rows = table(MirrorRow)
    found: dict[str, MirrorRecord] = {}
    for chunk in bulk.chunks(ids, bulk.DELETE_CHUNK):
        query = select(rows).where(rows.c.pipeline == pipeline, rows.c.role == role.value,
                                   rows.c.record_id.in_(list(chunk)))
        found.update((row.record_id, mirror_from(row)) for row in connection.execute(query))
    return found
