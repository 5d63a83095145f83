"""The links step's working state: each side's records read in one pass, the links in force
as the step goes, and the changes and reviews decided so far (see engine.link)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from handoff_sync.engine.normalise import Normaliser
from handoff_sync.engine.types import (
    Link,
    LinkChange,
    LinkChangeKind,
    ReviewItem,
    ReviewKind,
    deal_key,
)
from handoff_sync.mapping.system.convert import MappedRecord
from handoff_sync.model import Value


class Side(NamedTuple):
    """One system's records, read in one pass: every later step works from these."""

    records: dict[str, MappedRecord]
    live: set[str]  # in scope and not deleted
    deleted: set[str]
    names: dict[str, str]  # live record -> the other side's id its id field names
    also: dict[str, tuple[Value, ...]]  # live record -> the values of the fields asked for


def scan(records: Sequence[MappedRecord], id_field: str, also: tuple[str, ...] = ()) -> Side:
    # One pass: with 100k records, each record's values are fetched from memory once.
    side = Side({}, set(), set(), {}, {})
    by_id, live, names, extra = side.records, side.live, side.names, side.also
    repeated = False
    for record in records:
        record_id = record.record_id
        if not record_id:
            continue
        if record_id in by_id:
            repeated = True
        by_id[record_id] = record
        if record.deleted:
            side.deleted.add(record_id)
        elif record.in_scope:
            live.add(record_id)
            get = record.values.get
            value = get(id_field)
            if value is not None and (named := str(value).strip()):
                names[record_id] = named
            if also:
                extra[record_id] = tuple(map(get, also))
    if repeated:
        return scan(list(by_rank(records).values()), id_field, also)
    return side


def by_rank(records: Sequence[MappedRecord]) -> dict[str, MappedRecord]:
    """Records by id when some are listed twice: the most recently modified copy counts."""
    out: dict[str, MappedRecord] = {}
    for record in records:
        if not record.record_id:
            continue
        held = out.get(record.record_id)
        if held is None or rank(record) > rank(held):
            out[record.record_id] = record
    return out


def rank(record: MappedRecord) -> tuple[Any, ...]:
    # Ties fall through to a deletion (it is final), then to the values themselves, so
    # the choice never depends on which copy came first.
    stamp = record.modified_at.timestamp() if record.modified_at else float("-inf")
    return (stamp, record.deleted, record.in_scope,
            repr(sorted(record.values.items(), key=lambda item: item[0])))


class LinkState:
    """The links in force as the step goes, and what it has decided so far."""

    def __init__(self, prm: Side, crm: Side, stored: Mapping[str, Link]) -> None:
        self.prm = prm
        self.crm = crm
        self.links: dict[str, Link] = dict(stored)
        self.changes: list[LinkChange] = []
        self.reviews: dict[str, ReviewItem] = {}

    def remove(self, prm_id: str, reason: str) -> None:
        link = self.links.pop(prm_id)
        self.changes.append(LinkChange(LinkChangeKind.REMOVE, link, reason))

    def create(self, link: Link, reason: str) -> None:
        self.links[link.prm_id] = link
        self.changes.append(LinkChange(LinkChangeKind.CREATE, link, reason))

    def review(self, item: ReviewItem) -> None:
        self.reviews.setdefault(item.key, item)


def drop_deleted(state: LinkState) -> None:
    """Remove every link the input shows a deleted record of."""
    deleted: dict[str, list[str]] = defaultdict(list)
    for prm_id in state.prm.deleted & state.links.keys():
        deleted[prm_id].append(f"registration {prm_id}")
    if state.crm.deleted:
        for prm_id, link in state.links.items():
            if link.crm_id in state.crm.deleted:
                deleted[prm_id].append(f"opportunity {link.crm_id}")
    for prm_id, sides in deleted.items():
        crm_id = state.links[prm_id].crm_id
        what = " and ".join(sides)
        state.remove(prm_id, f"{what} deleted")
        state.review(ReviewItem(
            key=f"linked_record_deleted:prm:{prm_id}",
            kind=ReviewKind.LINKED_RECORD_DELETED,
            deal=deal_key(prm_id, None),
            summary=f"{what} was deleted, so the link between registration {prm_id} and "
                    f"opportunity {crm_id} is removed",
            details=MappingProxyType({"crm_id": crm_id, "deleted": tuple(
                side.split(" ", 1)[0] for side in sides)})))


def connected(pairs: Iterable[tuple[str, str]]) -> list[set[str]]:
    """Connected groups of the graph these pairs are the edges of (union-find)."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while (up := parent.setdefault(node, node)) != node:
            parent[node] = parent.setdefault(up, up)  # path halving
            node = up
        return node

    for a, b in pairs:
        top_a, top_b = root(a), root(b)
        if top_a != top_b:
            parent[top_a] = top_b
    groups: dict[str, set[str]] = defaultdict(set)
    for node in parent:
        groups[root(node)].add(node)
    return list(groups.values())


def partner_of(record: MappedRecord, norm: Normaliser) -> str | None:
    value = record.values.get("partner_account")
    return (norm.text(value) or None) if isinstance(value, str) else None
