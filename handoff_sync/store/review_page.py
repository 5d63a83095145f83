"""One page of the review queue as lists show it, read without reading the whole queue.

Lists show unresolved_owner items once per person (``sync.review_groups``): a queue of
16,000 such items is a few hundred entries. A page is a slice of entries, not of items,
so the grouping is done here, in SQL: each item gets its entry's id (its own key, or
pipeline, status, role and lowercased email for an unresolved_owner item), a window
ranks the items of an entry oldest first, and an entry stands at the place of its first
item. Only the page's items are read whole, and of a group only its oldest ``per_group``
(the page names those deals and counts the rest). Counts per kind are a GROUP BY.

The partner and search filters look at the names each row keeps (``partners`` and
``search_text``, written by the cycle that records the item: ``sync.review_names``), with
LIKE on casefolded text, before the entries are paged; a group matches as a whole.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    and_,
    case,
    false,
    func,
    literal,
    select,
    true,
    union_all,
)

from handoff_sync.engine.types import ReviewKind
from handoff_sync.store import bulk
from handoff_sync.store.codec import decode_map
from handoff_sync.store.reviews import ReviewStatus, partner_token, review_dict
from handoff_sync.store.schema import ReviewRow, table

OWNER = ReviewKind.UNRESOLVED_OWNER.value
SEPARATOR = "\n"
ENTRY, MEMBER, COUNT = 0, 1, 2  # what a row of the page's statement is


@dataclass(frozen=True)
class QueueEntry:
    """One entry of the page: an item, or one person's unresolved_owner items."""

    items: tuple[dict[str, Any], ...]  # oldest first; a group's first ``per_group``
    size: int  # the entry's items, all of them
    role: str | None = None  # a group's role and lowercased email ('' for none)
    email: str | None = None

    @property
    def grouped(self) -> bool:
        return self.role is not None


@dataclass(frozen=True)
class QueuePage:
    entries: tuple[QueueEntry, ...]
    counts: tuple[tuple[str, int], ...]  # items per kind, under every filter but the kind
    entry_total: int  # entries under every filter
    item_total: int  # items under every filter


def _role() -> ColumnElement[str]:
    return func.coalesce(table(ReviewRow).c.details["role"].as_string(), "")


def _email() -> ColumnElement[str]:
    return func.coalesce(func.lower(table(ReviewRow).c.details["email"].as_string()), "")


def _entry_id() -> ColumnElement[str]:
    """The entry an item belongs to (status and pipeline in it: groups never span them)."""
    queue = table(ReviewRow)
    owner = (queue.c.pipeline.concat(SEPARATOR).concat(queue.c.status).concat(SEPARATOR)
             .concat(_role()).concat(SEPARATOR).concat(_email()))
    return case((queue.c.kind == OWNER, owner),
                else_=literal("item" + SEPARATOR).concat(queue.c.key))


def _where(pipeline: str | None, status: str | None, kind: str | None) -> list[Any]:
    queue = table(ReviewRow)
    where: list[Any] = []
    if pipeline is not None:
        where.append(queue.c.pipeline == pipeline)
    if status is not None:
        where.append(queue.c.status == ReviewStatus(status).value)
    if kind:
        where.append(queue.c.kind == kind)
    return where


def _matches(partners: ColumnElement[Any], text: ColumnElement[Any], partner: str,
             words: Sequence[str]) -> list[ColumnElement[bool]]:
    """The name filters on one item's names (``ReviewNames``, casefolded): the partner
    one of its partners, every word in its text. LIKE's wildcards in them are escaped."""
    found = [partners.contains(partner_token(partner), autoescape=True)] if partner else []
    found += [text.contains(word.casefold(), autoescape=True) for word in words if word]
    return found


def review_page(connection: Connection, pipeline: str | None, status: str | None,
                kind: str | None, offset: int, limit: int, per_group: int, *,
                partner: str = "", words: Sequence[str] = ()) -> QueuePage:
    """Entries ``offset`` to ``offset + limit`` of the queue in list order (oldest first
    by their first item), with counts per kind and the totals.

    ``partner`` and ``words`` keep the entries whose names match (an item without names
    matches nothing). A person's group is one entry, kept whole when its items match
    together: one of them names the partner, and each word is in one of them (as the
    page's search looks at the entry's deals together)."""
    queue = table(ReviewRow)
    hits = _matches(queue.c.partners, queue.c.search_text, partner, words)
    named = bool(hits)
    # The owner items with their entry (the JSON read once) and, under name filters,
    # whether each matches each filter (ints, not the text: the CTE is materialized).
    # Then GROUP BYs, which cost little next to a window over all of them.
    owners = (select(queue.c.pipeline, queue.c.key, queue.c.first_seen,
                     _entry_id().label("entry"),
                     *(case((hit, 1), else_=0).label(f"hit{n}") for n, hit in enumerate(hits)))
              .where(*_where(pipeline, status, None if named else kind), queue.c.kind == OWNER)
              .cte("owners").prefix_with("MATERIALIZED"))
    grouped = (select(owners.c.entry, owners.c.pipeline,
                      func.min(owners.c.first_seen).label("first_seen"),
                      func.count().label("size"))
               .group_by(owners.c.entry, owners.c.pipeline))
    if named:  # a group matches as a whole: each filter by one of its items
        grouped = grouped.having(and_(*(func.max(owners.c[f"hit{n}"]) == 1
                                        for n in range(len(hits)))))
    groups = grouped.cte("groups").prefix_with("MATERIALIZED")
    # A group stands where its first item would: the least key of its oldest items.
    firsts = (select(groups.c.entry, groups.c.pipeline, groups.c.first_seen,
                     func.min(owners.c.key).label("key"), groups.c.size)
              .join_from(groups, owners, (owners.c.entry == groups.c.entry)
                         & (owners.c.first_seen == groups.c.first_seen))
              .where(true() if not kind or kind == OWNER else false())
              .group_by(groups.c.entry, groups.c.pipeline, groups.c.first_seen,
                        groups.c.size))
    singles = select(literal(None, String()).label("entry"), queue.c.pipeline,
                     queue.c.first_seen, queue.c.key, literal(1).label("size")).where(
        *_where(pipeline, status, kind), queue.c.kind != OWNER, *hits)
    entries = firsts.union_all(singles).subquery()
    page = (select(entries.c.entry, entries.c.pipeline, entries.c.key, entries.c.size,
                   func.count().over().label("entries"))
            .order_by(entries.c.pipeline, entries.c.first_seen, entries.c.key)
            .offset(max(0, offset)).limit(limit).cte("page"))
    # The page's groups' oldest items, in the same statement (one pass over the JSON).
    ranked = select(owners.c.pipeline, owners.c.key, owners.c.entry, func.row_number().over(
        partition_by=owners.c.entry, order_by=(owners.c.first_seen, owners.c.key)
    ).label("rank")).where(owners.c.entry.in_(select(page.c.entry))).subquery()
    members = select(literal(MEMBER).label("member"), ranked.c.entry, ranked.c.pipeline,
                     ranked.c.key,
                     ranked.c.rank.label("size"), literal(0).label("entries")).where(
        ranked.c.rank <= per_group)
    parts = [select(literal(ENTRY).label("member"), page), members]
    if named:  # the counts too, from the same groups (the owner items read once)
        counted = select(queue.c.kind.label("kind"), func.count().label("size")).where(
            *_where(pipeline, status, None), queue.c.kind != OWNER, *hits
        ).group_by(queue.c.kind).union_all(
            select(literal(OWNER, String()), func.coalesce(func.sum(groups.c.size), 0))
        ).subquery()
        parts.append(select(literal(COUNT).label("member"), counted.c.kind,
                            literal(None, String()), literal(None, String()),
                            counted.c.size, literal(0)))
        rows = connection.execute(union_all(*parts)).mappings().all()
        counts = tuple(sorted((str(row["entry"]), int(row["size"])) for row in rows
                              if row["member"] == COUNT and row["size"]))
        rows = [row for row in rows if row["member"] != COUNT]
    else:
        counts = tuple((str(name), int(count)) for name, count in connection.execute(
            select(queue.c.kind, func.count()).where(*_where(pipeline, status, None))
            .group_by(queue.c.kind).order_by(queue.c.kind)))
        rows = list(connection.execute(union_all(*parts)).mappings().all())
    item_total = sum(count for name, count in counts if not kind or name == kind)
    shown = [row for row in rows if row["member"] == ENTRY]
    if not shown:
        total = 0 if offset <= 0 else int(connection.execute(
            select(func.count()).select_from(entries)).scalar_one())
        return QueuePage((), counts, total, item_total)
    group_keys: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        if row["member"] == MEMBER:
            rank = int(row["size"])
            group_keys.setdefault(str(row["entry"]), []).append((rank, str(row["key"])))
    # Read by primary key, pipeline by pipeline.
    found: dict[str, dict[str, Any]] = {}
    for name in sorted({str(row["pipeline"]) for row in rows}):
        found.update(_items(connection, name, status,
                            [row["key"] for row in rows if row["pipeline"] == name]))
    result = []
    for row in sorted(shown, key=lambda row: _place(row, found)):
        if row["entry"] is None:
            result.append(QueueEntry((found[row["key"]],), 1))
            continue
        _pipeline, _status, role, email = str(row["entry"]).split(SEPARATOR, 3)
        members_of = [found[key] for _rank, key in sorted(group_keys[str(row["entry"])])]
        result.append(QueueEntry(tuple(members_of), int(row["size"]), role, email))
    return QueuePage(tuple(result), counts, int(shown[0]["entries"]), item_total)


def _place(row: Any, found: Mapping[str, Mapping[str, Any]]) -> tuple[str, str, str]:
    """An entry's place in the list (a union's rows come in no set order)."""
    item = found[row["key"]]
    return (str(item["pipeline"]), str(item["first_seen"]), str(item["key"]))


def _items(connection: Connection, pipeline: str, status: str | None,
           keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    queue = table(ReviewRow)
    found: dict[str, dict[str, Any]] = {}
    for chunk in bulk.chunks(sorted(set(keys)), bulk.DELETE_CHUNK):
        query = select(queue).where(*_where(pipeline, status, None),
                                    queue.c.key.in_(list(chunk)))
        found.update((row["key"], review_dict(row))
                     for row in connection.execute(query).mappings())
    return found


def review_items(connection: Connection, pipeline: str,
                 keys: Collection[str]) -> dict[str, dict[str, Any]]:
    """The pipeline's items of ``keys`` (any status) by key; unknown keys are left out."""
    return _items(connection, pipeline, None, list(keys))


def owner_group_keys(connection: Connection, pipeline: str, role: str,
                     email: str) -> list[str]:
    """The keys of one person's open unresolved_owner items in one role ('' for none),
    oldest first; the email in any case (matched casefolded, as ``dismiss_owner`` and
    ``sync.review_groups`` match it)."""
    queue = table(ReviewRow)
    wanted = email.strip().casefold()
    query = (select(queue.c.key, queue.c.details)
             .where(*_where(pipeline, ReviewStatus.OPEN.value, OWNER))
             .order_by(queue.c.first_seen, queue.c.key))
    found = []
    for key, details in connection.execute(query):
        values = decode_map(details or {})
        if (str(values.get("role") or "") == role
                and str(values.get("email") or "").casefold() == wanted):
            found.append(str(key))
    return found


__all__ = ["QueueEntry", "QueuePage", "owner_group_keys", "review_items", "review_page"]
