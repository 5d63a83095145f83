"""Named records for pages that show a few deals out of many: the mirrored records and
agreed values of just the deals asked for (the console's review page names the deals,
accounts, partners and people of the items it shows, its health page the records of the
errors, without loading a whole pipeline); and what the connectors learned about the
orgs a pipeline reaches, which pages need to link to those records."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import Connection, select

from handoff_sync.model import Role
from handoff_sync.store import bulk
from handoff_sync.store.codec import decode_map
from handoff_sync.store.packing import dictionaries
from handoff_sync.store.rows import agreed_from, mirror_from
from handoff_sync.store.schema import BaseRow, LinkRow, MirrorRow, SyncRun, table
from handoff_sync.store.types import DealRecords, MirrorRecord

RUNS_FOR_ORGS = 50  # run rows searched for what the connectors learned (newest first)


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
    packed = dictionaries(connection, pipeline)
    mirror = {Role.PRM: _mirror(connection, pipeline, Role.PRM, prm_ids, packed),
              Role.CRM: _mirror(connection, pipeline, Role.CRM, sorted(wanted_crm), packed)}
    bases = table(BaseRow)
    agreed: dict[str, Mapping[str, Any]] = {}
    keys = sorted({*deals, *(f"prm:{prm_id}" for prm_id in prm_ids)})
    for chunk in bulk.chunks(keys, bulk.DELETE_CHUNK):
        query = select(bases.c.deal, bases.c.snapshot).where(
            bases.c.pipeline == pipeline, bases.c.deal.in_(list(chunk)))
        agreed.update((str(deal), agreed_from(snapshot, packed))
                      for deal, snapshot in connection.execute(query))
    return DealRecords(prm=MappingProxyType(mirror[Role.PRM]),
                       crm=MappingProxyType(mirror[Role.CRM]),
                       links=MappingProxyType(links), agreed=MappingProxyType(agreed))


def _mirror(connection: Connection, pipeline: str, role: Role, ids: list[str],
            packed: Mapping[int, bytes]) -> dict[str, MirrorRecord]:
    rows = table(MirrorRow)
    found: dict[str, MirrorRecord] = {}
    for chunk in bulk.chunks(ids, bulk.DELETE_CHUNK):
        query = select(rows).where(rows.c.pipeline == pipeline, rows.c.role == role.value,
                                   rows.c.record_id.in_(list(chunk)))
        found.update((row.record_id, mirror_from(row, packed))
                     for row in connection.execute(query))
    return found


def learned_orgs(connection: Connection, pipeline: str) -> dict[str, dict[str, str]]:
    """System -> what its connector last learned about the org it reaches (``org`` in a
    run row's usage snapshot): the newest run that says, among the latest
    ``RUNS_FOR_ORGS`` (a cycle that failed before learning it keeps the older answer)."""
    runs = table(SyncRun)
    query = (select(runs.c.api_calls).where(runs.c.pipeline == pipeline)
             .order_by(runs.c.started_at.desc(), runs.c.run_id.desc()).limit(RUNS_FOR_ORGS))
    found: dict[str, dict[str, str]] = {}
    for (usage,) in connection.execute(query):
        for system, snapshot in decode_map(usage or {}).items():
            org = snapshot.get("org") if isinstance(snapshot, Mapping) else None
            if system not in found and isinstance(org, Mapping) and org:
                found[str(system)] = {str(key): str(value) for key, value in org.items()
                                      if isinstance(value, str) and value}
    return found
