"""Re-reading write targets before writing over them: no older value overwrites a newer one.

A plan is made from the mirror, the version of each record the pulls last saw. A pull
can miss a change: HubSpot's search index trails writes by seconds, and any record can
change between a cycle's pull and its writes. A plan made from the older version would
write the other side's older value over a person's newer one, and the three-way merge,
never shown the newer value, would record no conflict. So before a plan's field writes
are carried out, every record they target is read by id (a HubSpot batch read and a
Salesforce query by Id see a write at once, unlike search); a record that moved since
its mirrored version (a field changed, so ``sync_pull.merge`` gives it the system's newer
modification stamp) goes into the mirror, and the deals are planned
again from it (``fresh_plan``), so the merge sees both edits and the
field's conflict policy decides. Records that keep changing through every re-plan are
withheld: their writes wait for the next cycle, which plans every deal again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime

import structlog

from handoff_sync.engine.plan import Dirty
from handoff_sync.engine.types import Plan
from handoff_sync.model import Role
from handoff_sync.store.types import MirrorRecord, PipelineState, RetryHold
from handoff_sync.sync.drift import drifted_fields
from handoff_sync.sync.pull import merge, read_fields
from handoff_sync.sync.write import Side

log = structlog.get_logger("handoff_sync.sync")

REPLANS = 2  # a record edited again during a re-plan is re-read; beyond that it waits


def moved_targets(plan: Plan, sides: Mapping[Role, Side], *,
                  mirror: Mapping[Role, Mapping[str, MirrorRecord]],
                  holds: Mapping[tuple[Role, str], RetryHold], drift: Mapping[str, str],
                  now: datetime) -> dict[Role, dict[str, MirrorRecord]]:
    """The plan's write targets that changed since their mirrored version, as they are
    now (merged over the mirror like a pulled record); one read per batch of ids.

    Targets still backing off from a failed write are not read: nothing is sent to them
    this cycle. A record the system no longer has is left to the write to report.
    """
    moved: dict[Role, dict[str, MirrorRecord]] = {role: {} for role in Role}
    for role, side in sides.items():
        held = mirror.get(role, {})
        ids = sorted({write.record_id for write in plan.writes if write.role is role
                      and write.record_id in held
                      and not _backing_off(holds.get((role, write.record_id)), now)})
        if not ids:
            continue
        mapping = side.mapping
        skipped = drifted_fields(dict(drift), mapping.system.value, mapping.object)
        fields = sorted(mapping.system_fields() - skipped)
        read = read_fields(mapping)
        for change in side.connector.fetch(mapping.object, ids, fields):
            previous = held.get(change.id)
            if previous is None:
                continue
            fresh = merge(previous, change, read=read)
            if fresh != previous:
                moved[role][change.id] = fresh
    return moved


def _backing_off(hold: RetryHold | None, now: datetime) -> bool:
    return hold is not None and hold.next_retry_at > now


def fresh_plan(result: Plan, planned: Callable[[Dirty | None], Plan],
               dirty: Dirty | None, sides: Mapping[Role, Side],
               mirror: dict[Role, dict[str, MirrorRecord]], state: PipelineState,
               drift: Mapping[str, str], now: datetime
               ) -> tuple[Plan, dict[Role, dict[str, MirrorRecord]], frozenset[tuple[Role, str]]]:
    """The plan, made again while a record it writes to changed since it was mirrored
    (``sync_fresh``); the records read fresh (into ``mirror``, to be stored); and the
    records still changing after every re-plan, whose writes wait."""
    refreshed: dict[Role, dict[str, MirrorRecord]] = {role: {} for role in Role}
    for attempt in range(REPLANS + 1):
        moved = moved_targets(result, sides, mirror=mirror, holds=state.holds,
                              drift=drift, now=now)
        if not any(moved.values()):
            break
        for role in Role:
            mirror[role].update(moved[role])
            refreshed[role].update(moved[role])
        log.info("write_targets_changed_since_read", attempt=attempt + 1,
                 **{role.value: sorted(moved[role]) for role in Role})
        if attempt == REPLANS:
            return result, refreshed, frozenset(
                (role, record_id) for role in Role for record_id in moved[role])
        if dirty is not None:
            dirty = dataclasses.replace(
                dirty, prm=dirty.prm.union(moved[Role.PRM]),
                crm=dirty.crm.union(moved[Role.CRM]))
        result = planned(dirty)
    return result, refreshed, frozenset()
