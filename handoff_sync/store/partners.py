"""Partner accounts in the store: the PRM's partner companies as the last cycle mapped them.

A cycle pulls the accounts the PRM file's ``partners:`` section selects and stores them
mapped (name, owner's email, ``partner.*`` values), in the cycle's transaction and before
the partners' checkpoint moves past them. A partner deleted or archived in the PRM is
deleted here; a full pull replaces the pipeline's partners with what it returned, so one
that left the scope (no longer Type = Partner) goes at the next full reconcile.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from handoff_sync.model import PartnerAccount
from handoff_sync.store import bulk
from handoff_sync.store.codec import encode_map, frozen_map
from handoff_sync.store.schema import PartnerRow, table
from handoff_sync.store.types import PartnerChanges, PartnerRecord


def load_partners(connection: Connection, pipeline: str) -> dict[str, PartnerAccount]:
    """The pipeline's live partner accounts by id."""
    rows = table(PartnerRow)
    query = select(rows).where(rows.c.pipeline == pipeline).order_by(rows.c.account_id)
    return {row.account_id: partner_from(row) for row in connection.execute(query)}


def record_partners(connection: Connection, pipeline: str, changes: PartnerChanges,
                    now: datetime) -> None:
    """Store what a cycle pulled: upserts, deletions and, for a full pull, the rest gone."""
    rows = table(PartnerRow)
    gone = set(changes.deleted) - set(changes.upserts)
    if changes.replace:
        stored = connection.execute(select(rows.c.account_id).where(
            rows.c.pipeline == pipeline)).scalars()
        gone |= {account_id for account_id in stored if account_id not in changes.upserts}
    bulk.delete_ids(connection, rows, {"pipeline": pipeline}, "account_id", gone)
    bulk.upsert(connection, rows, [partner_row(pipeline, record, now)
                                   for record in changes.upserts.values()],
                ["pipeline", "account_id"])


def partner_row(pipeline: str, record: PartnerRecord, now: datetime) -> dict[str, Any]:
    account = record.account
    return {"pipeline": pipeline, "account_id": account.id, "name": account.name,
            "owner_email": account.owner_email, "values": encode_map(account.values),
            "issues": list(record.issues), "modified_at": record.modified_at,
            "updated_at": now}


def partner_from(row: Any) -> PartnerAccount:
    return PartnerAccount(row.account_id, row.name, row.owner_email, frozen_map(row.values))
