"""The partner accounts a cycle plans readiness training tasks for.

The plan needs every live partner account as it stands now: the stored ones (the last
cycles' pulls) with this cycle's pull applied. When that is not known - the PRM maps no
partners, or their read failed this cycle - the plan gets None and leaves the training
tasks as they are: nothing is closed on a read that did not happen. A dry run reads no
partners and plans from the stored ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from handoff_sync.mapping.system.convert import SystemMapping
from handoff_sync.model import PartnerAccount
from handoff_sync.store.types import PartnerChanges


def partners_to_plan(prm: SystemMapping, changes: PartnerChanges | None,
                     stored: Callable[[], Mapping[str, PartnerAccount]], *,
                     dry_run: bool = False) -> dict[str, PartnerAccount] | None:
    """The live partner accounts by id, or None when they are not known this cycle."""
    if prm.partners is None:
        return None
    if changes is None:
        return dict(stored()) if dry_run else None
    accounts = {} if changes.replace else dict(stored())
    for account_id in changes.deleted:
        accounts.pop(account_id, None)
    accounts.update({account_id: record.account
                     for account_id, record in changes.upserts.items()})
    return accounts
