"""The read half of a cycle: what changed on one side since its checkpoint, into the mirror.

A pull yields raw records; the mirror keeps the last version of every record, so the
cycle can plan every deal while the systems are asked only for what changed. A field
left out of a pull (schema drift) keeps its last mirrored value.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.base import Connector, Cursor, DropSource, RecordChange
from handoff_sync.mapping.system.convert import SystemMapping
from handoff_sync.store.types import MirrorRecord
from handoff_sync.sync.drift import drifted_fields
from handoff_sync.sync.progress import (
    Phase,
    Progress,
    ProgressEvent,
    estimated_total,
    no_progress,
)

FILE_CHECKPOINT_PREFIX = "sha256:"  # a drop folder: one checkpoint row per handled export


@dataclass
class SidePull:
    """What one side's pull returned this cycle."""

    records: dict[str, MirrorRecord] = field(default_factory=dict)  # id -> merged record
    checkpoints: dict[tuple[str, str], Cursor] = field(default_factory=dict)
    read: int = 0  # records (and deletions) the system returned
    problems: list[str] = field(default_factory=list)  # rows skipped, files rejected
    complete: bool = True  # saw every record (an API pull); a drop folder sees new files only


class PullStopped(Exception):
    """A stop was requested while pulling; nothing of this cycle is recorded."""


def pull_side(connector: Connector, mapping: SystemMapping, *,
              mirror: Mapping[str, MirrorRecord], since: Cursor | None,
              drift: Mapping[str, str], checkpoints: Mapping[tuple[str, str], Cursor],
              should_stop: Callable[[], bool], heartbeat: Callable[[], None],
              progress: Progress = no_progress) -> SidePull:
    """Pull one side and merge what came back into mirror records (not yet stored).
    ``progress`` hears the records read so far, after each page (or file), of the total
    the system estimated for the pull when its pages say (``estimated_total``); a pull
    that ended reports what it read as its total."""
    side = mapping.role.value
    expected: int | None = None  # the connector's estimate, from the latest page telling

    def read_so_far(read: int, ended: bool = False) -> None:
        total = estimated_total(read, expected)
        if ended and total is not None:
            total = read  # it ended: what it read was all of it
        progress(ProgressEvent(Phase.PULL, read, total, side=side, ended=ended))

    read_so_far(0)
    if isinstance(connector, DropSource):  # records arrive as files, not from a cursor
        pulled = _pull_files(connector, mapping.system.value, mirror, checkpoints,
                             should_stop, heartbeat, names=read_fields(mapping),
                             progress=read_so_far)
        read_so_far(pulled.read, ended=True)
        return pulled
    skipped = drifted_fields(dict(drift), mapping.system.value, mapping.object)
    fields = sorted(mapping.system_fields() - skipped)
    out = SidePull()
    key = (mapping.system.value, mapping.object)
    read = read_fields(mapping)
    for page in connector.pull(mapping.object, fields, since, scope=dict(mapping.scope)):
        for change in page.changes:
            out.records[change.id] = merge(mirror.get(change.id), change, read=read)
            out.read += 1
        if page.total is not None:
            expected = page.total
        if page.cursor is not None:
            out.checkpoints[key] = page.cursor
        read_so_far(out.read)
        heartbeat()
        if should_stop():
            raise PullStopped
    read_so_far(out.read, ended=True)
    return out


def merge(previous: MirrorRecord | None, change: RecordChange, *,
          read: Collection[str] = ()) -> MirrorRecord:
    """A pulled record over its mirrored version: fields not pulled keep their value.

    The record's stamp says when the fields the mapping ``read``s last changed: when
    none of them moved (only an output we wrote, or a field nobody syncs), the mirrored
    stamp stays. newest_wins compares these stamps, so an output the daemon wrote to a
    record never makes it look newer than a person's edit on the other side.
    """
    fields: dict[str, Any] = dict(previous.fields) if previous else {}
    fields.update({k: _json_safe(v) for k, v in change.fields.items()})
    modified_at = change.modified_at
    if previous is not None and (modified_at is None or (
            read and change.deleted == previous.deleted and previous.modified_at is not None
            and all(_same(fields.get(name), previous.fields.get(name)) for name in read))):
        modified_at = previous.modified_at
    return MirrorRecord(change.id, modified_at, fields, change.deleted)


def _same(value: Any, before: Any) -> bool:
    """Equal, or both blank: a field the daemon cleared by writing "" reads back as null
    (HubSpot), which is no one's newer edit."""
    return value == before or (value in ("", None) and before in ("", None))


def read_fields(mapping: SystemMapping) -> frozenset[str]:
    """The system fields whose values the engine reads (outputs are only written)."""
    return frozenset(rule.system_field for rule in mapping.fields.values()
                     if rule.system_field)


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool, dict)):
        return value
    return str(value)


def _pull_files(connector: DropSource, system: str, mirror: Mapping[str, MirrorRecord],
                checkpoints: Mapping[tuple[str, str], Cursor],
                should_stop: Callable[[], bool], heartbeat: Callable[[], None], *,
                names: Collection[str],
                progress: Callable[[int], None] = lambda read: None) -> SidePull:
    """A drop folder: every export not handled before, oldest first, rows as upserts.

    The connector's ``read`` merges a file: its records are kept only once the file has
    been read to the end without being rejected, and a later row of an id replaces an
    earlier one whole. Each row is merged over the record as it stood before this file.
    """
    seen = {obj[len(FILE_CHECKPOINT_PREFIX):] for kept_for, obj in checkpoints
            if kept_for == system and obj.startswith(FILE_CHECKPOINT_PREFIX)}
    out = SidePull(complete=False)
    merged = dict(mirror)

    def after_page() -> None:
        heartbeat()
        if should_stop():
            raise PullStopped

    for drop in connector.pending(seen):
        read = connector.read(drop, lambda change: merge(merged.get(change.id), change,
                                                          read=names),
                              after_page=after_page)
        out.problems.extend(str(p) for p in read.problems)
        if read.rejected:
            continue  # offered again once the file or the settings are fixed
        staged = {record.record_id: record for record in read.changes}
        merged.update(staged)
        out.records.update(staged)
        out.read += len(staged)
        out.checkpoints[(system, FILE_CHECKPOINT_PREFIX + drop.checksum)] = Cursor(
            drop.modified_at, drop.name)
        progress(out.read)
    return out


@dataclass
class TaskClosures:
    """Handoff tasks a person completed in the CRM since the last look."""

    keys: set[str] = field(default_factory=set)
    checkpoints: dict[tuple[str, str], Cursor] = field(default_factory=dict)


def pull_task_closures(connector: Connector, mapping: SystemMapping, *,
                       since: Cursor | None, open_keys: Collection[str],
                       now: datetime) -> TaskClosures:
    """Task keys of open ledger tasks that the CRM now holds as done.

    Only tasks modified since the last look are read (one query in a quiet cycle). The
    first look starts from now: before it, no task of ours existed.
    """
    rules = mapping.tasks
    out = TaskClosures()
    if rules is None:  # no tasks mapped (never, for a system handoff-sync cannot write)
        return out
    key = (mapping.system.value, rules.object)
    if since is None:
        out.checkpoints[key] = Cursor(now)
        return out
    status = rules.fields.get("status")
    if status is None or status.system_field is None:
        return out
    done_values = {raw for raw, value in (status.values or {}).items() if value == "done"}
    fields = [rules.key_field, status.system_field]
    for page in connector.pull(rules.object, fields, since):
        for change in page.changes:
            task_key = change.fields.get(rules.key_field)
            if (task_key in open_keys and not change.deleted
                    and change.fields.get(status.system_field) in done_values):
                out.keys.add(str(task_key))
        if page.cursor is not None:
            out.checkpoints[key] = page.cursor
    return out
