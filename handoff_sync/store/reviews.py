"""The review queue: one row per key, opened, refreshed and closed as cycles re-state it.

Every cycle states all standing problems (``Plan.reviews``). Against the stored rows:

    new key                        -> open
    open, stated again             -> stays open; last seen, summary, candidates refreshed
    dismissed by a person          -> stays dismissed (refreshed, never reopened)
    resolved by a person           -> stays resolved (e.g. linked by hand)
    resolved automatically         -> reopened: the problem came back
    open, no longer stated         -> resolved automatically ("auto: no longer applies")

People act on items with ``resolve``: dismiss any item, or link an ambiguous or
conflicting registration to the CRM opportunity they choose (never a guess: an item naming
several registrations needs the one, and an opportunity another registration holds moves
only when the caller says so).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, RowMapping, Select, bindparam, delete, select, update

from handoff_sync.engine.serialise import to_jsonable
from handoff_sync.engine.types import Link, LinkMethod, ReviewItem, ReviewKind
from handoff_sync.store import bulk
from handoff_sync.store.codec import decode_map, encode_map
from handoff_sync.store.rows import link_row
from handoff_sync.store.schema import LinkRow, ReviewRow, table
from handoff_sync.store.serial import bump_serial
from handoff_sync.store.types import ReviewChanges, ReviewNames, StoreError

AUTO_RESOLUTION = "auto: no longer applies"
_AUTO_PREFIX = "auto:"
LINKABLE = frozenset({ReviewKind.AMBIGUOUS_LINK, ReviewKind.CHANNEL_CONFLICT,
                      ReviewKind.NO_OPPORTUNITY})
# Items the linking step raises: it looks at every record every cycle, so they are
# restated whenever they still apply, however few deals the cycle planned.
LINKING_KINDS = frozenset(kind.value for kind in (
    ReviewKind.AMBIGUOUS_LINK, ReviewKind.CHANNEL_CONFLICT, ReviewKind.LINK_CONFLICT,
    ReviewKind.LINKED_RECORD_DELETED))
# Items every plan states whatever it planned: linking's, the owner directories',
# routing's per-email items (engine.routing.Router.reviews), and the PRM owner items,
# grouped per person from the whole task ledger every cycle, and the creation step's
# items about registrations left without an opportunity (it looks at every one).
EVERY_CYCLE_KINDS = LINKING_KINDS | {ReviewKind.DUPLICATE_OWNER_EMAIL.value,
                                     ReviewKind.ROUTING_OWNER.value,
                                     ReviewKind.UNRESOLVED_PRM_OWNER.value,
                                     ReviewKind.NO_OPPORTUNITY.value}
Row = dict[str, Any]


class ReviewStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


def merge_reviews(pipeline: str, stored: Mapping[str, Row], items: Iterable[ReviewItem],
                  now: datetime, planned: frozenset[str] | None = None) -> list[Row]:
    """The rows to write, given the stored rows (every open one, and any with a key in
    ``items``) and the items this cycle stated. ``planned``: the deals the cycle planned
    when it planned only some; an open item of another deal was not restated because
    its deal was not looked at, not because it stopped applying."""
    changed: dict[str, Row] = {}
    for item in items:
        old = stored.get(item.key)
        fresh = {"pipeline": pipeline, "key": item.key, "kind": item.kind.value,
                 "deal": item.deal, "summary": item.summary,
                 "candidates": [[crm_id, float(score)] for crm_id, score in item.candidates],
                 "details": encode_map(item.details), "last_seen": now}
        if old is None or _reopens(old):
            changed[item.key] = {**fresh, "status": ReviewStatus.OPEN.value, "first_seen": now,
                                 "resolved_at": None, "resolved_by": None, "resolution": None}
        else:
            changed[item.key] = {**old, **fresh}
    for key, old in stored.items():
        if (old["status"] == ReviewStatus.OPEN and key not in changed
                and _looked_at(old, planned)):
            changed[key] = {**old, "status": ReviewStatus.RESOLVED.value, "resolved_at": now,
                            "resolved_by": None, "resolution": AUTO_RESOLUTION}
    return list(changed.values())


def _looked_at(old: Mapping[str, Any], planned: frozenset[str] | None) -> bool:
    """Whether this cycle would have restated the item if it still applied."""
    return planned is None or old["kind"] in EVERY_CYCLE_KINDS or old["deal"] in planned


def _reopens(old: Mapping[str, Any]) -> bool:
    return (old["status"] == ReviewStatus.RESOLVED
            and str(old["resolution"] or "").startswith(_AUTO_PREFIX))


def record_reviews(connection: Connection, pipeline: str, items: Sequence[ReviewItem],
                   now: datetime, planned: frozenset[str] | None = None,
                   names: Mapping[str, ReviewNames] | None = None) -> ReviewChanges:
    """Merge the items a cycle stated into the queue (``merge_reviews``). ``names``: the
    names of the stated items and of stored rows that had none; a stated item without
    names gets NULL ones (the console then names its pipeline's items itself)."""
    queue = table(ReviewRow)
    keys = sorted({item.key for item in items})
    wanted = [queue.c.status == ReviewStatus.OPEN.value]
    wanted += [queue.c.key.in_(list(chunk)) for chunk in bulk.chunks(keys, bulk.DELETE_CHUNK)]
    stored: dict[str, Row] = {}
    for condition in wanted:
        # Locked until the cycle commits, so a person's concurrent decision is applied
        # after it, not overwritten by it.
        query = _locked(connection, select(queue).where(queue.c.pipeline == pipeline,
                                                        condition))
        stored.update((row["key"], dict(row)) for row in connection.execute(query).mappings())
    rows = merge_reviews(pipeline, stored, items, now, planned)
    given = names or {}
    stated = {item.key for item in items}
    for row in rows:
        if row["key"] in stated or row["key"] in given:
            found = given.get(row["key"])
            row["partners"] = found.partners if found is not None else None
            row["search_text"] = found.text if found is not None else None
    bulk.upsert(connection, queue, rows, ["pipeline", "key"])
    written = {row["key"] for row in rows}
    _name(connection, pipeline, {key: found for key, found in given.items()
                                 if key not in written})
    return ReviewChanges(
        opened=tuple(row for row in rows if row["status"] == ReviewStatus.OPEN
                     and row["first_seen"] == now),
        resolved=tuple(row["key"] for row in rows if row["status"] == ReviewStatus.RESOLVED
                       and row["resolved_at"] == now and row["resolution"] == AUTO_RESOLUTION))


def _name(connection: Connection, pipeline: str, names: Mapping[str, ReviewNames]) -> None:
    """Set the names of rows the cycle did not otherwise write (named late)."""
    if not names:
        return
    queue = table(ReviewRow)
    statement = (update(queue).where(queue.c.pipeline == pipeline,
                                     queue.c.key == bindparam("row_key"))
                 .values(partners=bindparam("row_partners"),
                         search_text=bindparam("row_text")))
    for chunk in bulk.chunks(sorted(names.items()), bulk.CHUNK):
        connection.execute(statement, [{"row_key": key, "row_partners": found.partners,
                                        "row_text": found.text} for key, found in chunk])


def unnamed_reviews(connection: Connection, pipeline: str, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` of the pipeline's items (any status) without names: recorded
    before names were kept, or by a caller that gave none."""
    queue = table(ReviewRow)
    query = (select(queue).where(queue.c.pipeline == pipeline, queue.c.search_text.is_(None))
             .order_by(queue.c.key).limit(limit))
    return [review_dict(row) for row in connection.execute(query).mappings()]


def has_unnamed(connection: Connection, pipeline: str | None, status: str | None) -> bool:
    """Whether any item of the pipeline (every pipeline: None) and status (any: None) has
    no names yet."""
    queue = table(ReviewRow)
    query = select(queue.c.key).where(queue.c.search_text.is_(None))
    if pipeline is not None:
        query = query.where(queue.c.pipeline == pipeline)
    if status is not None:
        query = query.where(queue.c.status == _status(status))
    return connection.execute(query.limit(1)).first() is not None


def _locked(connection: Connection, query: Select[Any]) -> Select[Any]:
    """FOR UPDATE on PostgreSQL (SQLite's write transactions exclude each other anyway)."""
    return query.with_for_update() if connection.dialect.name == "postgresql" else query


def review_dict(row: RowMapping | Mapping[str, Any]) -> dict[str, Any]:
    """A review row as JSON-safe data for the CLI."""
    return to_jsonable({
        "pipeline": row["pipeline"], "key": row["key"], "kind": row["kind"],
        "deal": row["deal"], "summary": row["summary"],
        "candidates": [[crm_id, score] for crm_id, score in row["candidates"]],
        "details": decode_map(row["details"] or {}), "status": row["status"],
        "first_seen": row["first_seen"], "last_seen": row["last_seen"],
        "resolved_at": row["resolved_at"], "resolved_by": row["resolved_by"],
        "resolution": row["resolution"]})


def list_reviews(connection: Connection, pipeline: str | None,
                 status: str | None) -> list[dict[str, Any]]:
    queue = table(ReviewRow)
    query = select(queue).order_by(queue.c.pipeline, queue.c.first_seen, queue.c.key)
    if pipeline is not None:
        query = query.where(queue.c.pipeline == pipeline)
    if status is not None:
        query = query.where(queue.c.status == _status(status))
    return [review_dict(row) for row in connection.execute(query).mappings()]


def _status(status: str) -> str:
    try:
        return ReviewStatus(status).value
    except ValueError:
        raise StoreError(f"unknown review status {status!r}: use "
                         f"{', '.join(s.value for s in ReviewStatus)}") from None


def resolve(connection: Connection, pipeline: str, key: str, *, action: str,
            crm_id: str | None, by: str, now: datetime, registration: str | None = None,
            displace: Collection[str] = ()) -> dict[str, Any]:
    """Apply a person's decision to one open item; the item as it stands afterwards."""
    queue = table(ReviewRow)
    found = connection.execute(_locked(connection, select(queue).where(
        queue.c.pipeline == pipeline, queue.c.key == key))).mappings().first()
    if found is None:
        raise StoreError(f"no review item {key!r} in pipeline {pipeline!r}; "
                         "`handoff-sync review` lists the open ones")
    row = dict(found)
    if row["status"] != ReviewStatus.OPEN:
        raise StoreError(f"review item {key!r} is already {row['status']}"
                         + (f" ({row['resolution']})" if row["resolution"] else ""))
    changes: dict[str, Any]
    if action == "dismiss":
        changes = {"status": ReviewStatus.DISMISSED.value, "resolution": "dismissed"}
    elif action == "link":
        linked = _link(connection, pipeline, row, crm_id, now, registration, displace)
        changes = {"status": ReviewStatus.RESOLVED.value, "resolution": f"linked to {linked}"}
    else:
        raise StoreError(f"unknown review action {action!r}: use dismiss, or link with a "
                         "CRM id")
    changes.update(resolved_at=now, resolved_by=by)
    connection.execute(update(queue).where(queue.c.pipeline == pipeline, queue.c.key == key)
                       .values(**changes))
    bump_serial(connection, pipeline)  # links and dismissals are cycle state
    return review_dict({**row, **changes})


def dismiss_owner(connection: Connection, pipeline: str, email: str, *, by: str,
                  now: datetime) -> list[dict[str, Any]]:
    """Dismiss every open unresolved_owner item naming ``email`` (any case) in the
    pipeline, and the person's unresolved_prm_owner item: the fix is per person, the
    CRM's items are per deal. The items afterwards."""
    queue = table(ReviewRow)
    wanted = email.strip().casefold()
    rows = connection.execute(_locked(connection, select(queue).where(
        queue.c.pipeline == pipeline, queue.c.status == ReviewStatus.OPEN.value,
        queue.c.kind.in_([ReviewKind.UNRESOLVED_OWNER.value,
                          ReviewKind.UNRESOLVED_PRM_OWNER.value])))).mappings()
    matching = [dict(row) for row in rows
                if str(decode_map(row["details"] or {}).get("email") or "").casefold()
                == wanted]
    if not wanted or not matching:
        raise StoreError(f"no open unresolved_owner item names {email!r} in pipeline "
                         f"{pipeline!r}; `handoff-sync review` lists them by person")
    changes = {"status": ReviewStatus.DISMISSED.value, "resolution": "dismissed",
               "resolved_at": now, "resolved_by": by}
    for chunk in bulk.chunks([row["key"] for row in matching], bulk.DELETE_CHUNK):
        connection.execute(update(queue).where(queue.c.pipeline == pipeline,
                                               queue.c.key.in_(list(chunk)))
                           .values(**changes))
    bump_serial(connection, pipeline)
    return [review_dict({**row, **changes}) for row in matching]


def dismiss_many(connection: Connection, pipeline: str, keys: Collection[str], *, by: str,
                 now: datetime) -> list[dict[str, Any]]:
    """Dismiss the open items among ``keys``: a person's decision about several items of
    one cause. Items a cycle or someone else closed meanwhile stay as they are (and are
    returned as they stand); an unknown key refuses the lot. The items afterwards."""
    queue = table(ReviewRow)
    wanted = sorted({key.strip() for key in keys if key.strip()})
    if not wanted:
        raise StoreError("no review items to dismiss: select at least one")
    found: dict[str, Row] = {}
    for chunk in bulk.chunks(wanted, bulk.DELETE_CHUNK):
        rows = connection.execute(_locked(connection, select(queue).where(
            queue.c.pipeline == pipeline, queue.c.key.in_(list(chunk))))).mappings()
        found.update((row["key"], dict(row)) for row in rows)
    missing = [key for key in wanted if key not in found]
    if missing:
        raise StoreError(f"no review item {missing[0]!r} in pipeline {pipeline!r}"
                         + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                         + "; nothing was dismissed")
    changes = {"status": ReviewStatus.DISMISSED.value, "resolution": "dismissed",
               "resolved_at": now, "resolved_by": by}
    open_keys = [key for key in wanted if found[key]["status"] == ReviewStatus.OPEN]
    for chunk in bulk.chunks(open_keys, bulk.DELETE_CHUNK):
        connection.execute(update(queue).where(queue.c.pipeline == pipeline,
                                               queue.c.key.in_(list(chunk)))
                           .values(**changes))
    bump_serial(connection, pipeline)
    return [review_dict({**found[key], **changes} if key in open_keys else found[key])
            for key in wanted]


def partner_token(partner: str) -> str:
    """How one partner stands in a row's ``partners`` (``ReviewNames``): casefolded,
    between line breaks, so a filter matches whole names only."""
    return f"\n{partner.casefold()}\n"


def registrations_of(item: Mapping[str, Any]) -> list[str]:
    """The registrations a linkable item is about: a channel conflict's every one, else
    the item's own."""
    details = item.get("details") or {}
    named = details.get("registrations") if isinstance(details, Mapping) else None
    if named:
        return [str(prm_id) for prm_id in named]
    deal = str(item["deal"])
    return [deal.removeprefix("prm:")] if deal.startswith("prm:") else []


def _link(connection: Connection, pipeline: str, row: Mapping[str, Any], crm_id: str | None,
          now: datetime, registration: str | None, displace: Collection[str]) -> str:
    """Store the link a person chose for the item's registration; the CRM id linked.

    Never a guess: an item naming several registrations needs ``registration``, and an
    opportunity another registration holds moves only when the caller listed that
    registration in ``displace`` (`review link --force` after showing the move)."""
    kind = ReviewKind(row["kind"])
    if kind not in LINKABLE:
        raise StoreError(f"review item {row['key']!r} ({kind.value}) cannot be linked: "
                         "only ambiguous_link and channel_conflict items link; fix the "
                         "records in the source system and the item resolves itself, or "
                         "dismiss it")
    named = registrations_of({**row, "details": decode_map(row["details"] or {})})
    if not named:
        raise StoreError(f"review item {row['key']!r} is about {row['deal']}, which has no "
                         "PRM registration to link; dismiss it instead")
    if registration is None and len(named) > 1:
        raise StoreError(f"review item {row['key']!r} names {len(named)} registrations "
                         f"({', '.join(named)}): say which one to link with "
                         "--registration ID")
    prm_id = named[0] if registration is None else registration.strip()
    if prm_id not in named:
        raise StoreError(f"registration {prm_id!r} is not one of review item "
                         f"{row['key']!r}'s ({', '.join(named)})")
    candidates = [str(candidate[0]) for candidate in row["candidates"]]
    if not crm_id or not crm_id.strip():
        hint = f" (candidates: {', '.join(candidates)})" if candidates else ""
        raise StoreError(f"linking review item {row['key']!r} needs the CRM opportunity id "
                         f"to link it to{hint}")
    crm_id = crm_id.strip()
    links = table(LinkRow)
    holders = sorted(holder for holder in connection.execute(select(links.c.prm_id).where(
        links.c.pipeline == pipeline, links.c.crm_id == crm_id)).scalars() if holder != prm_id)
    kept = [holder for holder in holders if holder not in displace]
    if kept:
        raise StoreError(f"opportunity {crm_id} is linked to registration "
                         f"{', '.join(kept)}: linking it to {prm_id} takes it from them; "
                         "`handoff-sync review link` shows the move and does it with --force")
    if holders:
        connection.execute(delete(links).where(links.c.pipeline == pipeline,
                                               links.c.prm_id.in_(holders)))
    link = Link(prm_id, crm_id, LinkMethod.MANUAL, 1.0)
    bulk.upsert(connection, links, [link_row(pipeline, link, now)], ["pipeline", "prm_id"])
    return crm_id
