"""The search's indexes and filtered views answer exactly what a plain scan answers.

Every page of every query shape the connector sends (and some it does not) is compared
with a reference that tests every live record and sorts them, while records are written
between the pages: created, modified in and out of the filter, re-stamped at tied
instants, archived. The views that make a filtered page O(page) must never show a record
the filter no longer accepts, miss one it now accepts, or count ``total`` differently.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from connectors.hubspot.search import Hit, Lower, SlicedSearch
from handoff_sync.sandbox.hubspot.properties import PropertyRegistry
from handoff_sync.sandbox.hubspot.search import SearchPage, run
from handoff_sync.sandbox.hubspot.search_query import (
    SearchQuery,
    compile_filter,
    parse_query,
    record_value,
    text_predicate,
)
from handoff_sync.sandbox.hubspot.store import HsObject, ObjectTable

T0 = 1_767_600_000_000  # epoch ms
PIPELINES = ("partners", "sales", "other")
WORDS = ("alpha", "beta", "gamma", "delta")
REGISTRY = PropertyRegistry()


def record(object_id: int, rng: random.Random) -> HsObject:
    values = {"pipeline": rng.choice(PIPELINES), "dealname": " ".join(rng.sample(WORDS, 2))}
    if rng.random() < 0.8:
        values["amount"] = str(rng.randrange(0, 1000))
    # Few distinct instants: large groups of ties, as imports and workflows make them.
    return HsObject(object_id, values, T0, T0 + rng.randrange(0, 40) * 1000)


def table_of(rng: random.Random, size: int) -> ObjectTable:
    table = ObjectTable("deals")
    objects = [record(5_000 + i * rng.choice((1, 2)), rng) for i in range(size)]
    for obj in rng.sample(objects, size // 10):
        obj.archived, obj.archived_at = True, T0
    table.load(objects, [])
    return table


def write_something(table: ObjectTable, rng: random.Random, now: int) -> None:
    live = [obj for obj in table.objects.values() if not obj.archived]
    action = rng.random()
    if action < 0.15 or not live:
        table.insert(record(0, rng).properties, now, [])
    elif action < 0.25:
        table.archive(rng.choice(live), now, [])
    else:
        # ``now`` repeats across writes, and may lie before stamps already held.
        table.modify(rng.choice(live), {"pipeline": rng.choice(PIPELINES),
                                        "amount": rng.choice((None, "5", "500"))}, now, [])


def reference(table: ObjectTable, query: SearchQuery, visible_until: int | None
              ) -> tuple[int, list[int]]:
    """Every live record tested, matches sorted: (total, ids of the requested page)."""
    groups = [[compile_filter(f) for f in group] for group in query.groups]
    text = text_predicate("deals", query.text) if query.text else None
    found = [obj for obj in table.objects.values()
             if not obj.archived and (visible_until is None or obj.updated_at <= visible_until)
             and any(all(p(obj) for p in group) for group in groups)
             and (text is None or text(obj))]
    read = record_value(query.sort) if query.sort else (lambda obj: obj.id)
    present = sorted((obj for obj in found if read(obj) is not None),
                     key=lambda obj: (read(obj), obj.id), reverse=query.descending)
    missing = sorted((obj for obj in found if read(obj) is None),
                     key=lambda obj: obj.id, reverse=query.descending)
    ordered = present + missing
    return len(found), [obj.id for obj in ordered[query.offset:query.offset + query.limit]]


def ts(name: str, operator: str, value: int) -> dict[str, Any]:
    return {"propertyName": name, "operator": operator, "value": str(value)}


def body(rng: random.Random) -> dict[str, Any]:
    """A random query: the connector's shapes and others the planner handles."""
    scope = {"propertyName": "pipeline", "operator": "EQ", "value": rng.choice(PIPELINES)}
    at = T0 + rng.randrange(0, 40) * 1000
    shapes: list[list[list[dict[str, Any]]]] = [
        [[scope]],
        [[ts("hs_lastmodifieddate", "GTE", at), scope]],
        [[ts("hs_lastmodifieddate", "GT", at), scope],
         [ts("hs_lastmodifieddate", "EQ", at), ts("hs_object_id", "GT", 5_000 + rng.randrange(40)),
          scope]],
        [[ts("hs_lastmodifieddate", "EQ", at), ts("hs_object_id", "GT", 5_010), scope]],
        [[ts("hs_lastmodifieddate", "LT", at), {"propertyName": "amount", "operator": "GT",
                                                 "value": "300"}]],
        [[scope], [{"propertyName": "amount", "operator": "NOT_HAS_PROPERTY"}]],
        [[ts("hs_object_id", "GTE", 5_020), scope]],
        [],
    ]
    sort = rng.choice(("hs_lastmodifieddate", "hs_object_id", "amount", None))
    out: dict[str, Any] = {
        "filterGroups": [{"filters": group} for group in rng.choice(shapes)],
        "limit": rng.choice((3, 7, 50)),
    }
    if sort is not None:
        out["sorts"] = [{"propertyName": sort,
                         "direction": rng.choice(("ASCENDING", "DESCENDING"))}]
    if rng.random() < 0.1:
        out["query"] = rng.choice(WORDS)
    return out


@pytest.mark.parametrize("seed", range(12))
def test_every_page_matches_a_full_scan_while_records_change(seed: int) -> None:
    rng = random.Random(seed)
    table = table_of(rng, rng.choice((60, 300)))
    for _ in range(25):
        request = body(rng)
        visible = T0 + rng.randrange(20, 45) * 1000 if rng.random() < 0.2 else None
        offset = 0
        while True:
            query = parse_query({**request, "after": str(offset)}, "deals", REGISTRY)
            page: SearchPage = run(query, table, "deals", visible)
            total, ids = reference(table, query, visible)
            assert (page.total, [obj.id for obj in page.objects]) == (total, ids), \
                (request, offset, visible)
            if page.next_offset is None:
                assert offset + query.limit >= total
                break
            offset = page.next_offset
            if rng.random() < 0.5:
                write_something(table, rng, T0 + rng.randrange(0, 45) * 1000)
    assert table.views.built > 0  # the filtered shapes were served from views


def pull_ids(table: ObjectTable, start: Lower | None, scope: dict[str, str]) -> list[int]:
    """The connector's own plan over the search code, as the pull drives it."""
    plan = SlicedSearch(start, scope=scope, page_size=20, result_cap=100)
    out: list[int] = []
    while (request := plan.next_request()) is not None:
        raw = {"filterGroups": [{"filters": [{"propertyName": c.property, "operator": c.operator,
                                              "value": c.value} for c in group]}
                                for group in request.groups],
               "sorts": [{"propertyName": request.sort, "direction": "ASCENDING"}],
               "limit": request.limit, "after": request.after}
        page = run(parse_query(raw, "deals", REGISTRY), table, "deals", None)
        hits = [Hit(obj.id, obj.updated_at) for obj in page.objects]
        step = plan.accept(hits, has_more=page.next_offset is not None, total=page.total)
        out += [hit.id for hit in step.hits]
    return out


def test_a_scoped_pull_reads_each_record_once_from_one_view() -> None:
    rng = random.Random(7)
    table = table_of(rng, 1_500)  # about 500 per pipeline: five re-anchored queries each
    pulled = pull_ids(table, None, {"pipeline": "partners"})
    wanted = {obj.id for obj in table.objects.values()
              if not obj.archived and obj.properties["pipeline"] == "partners"}
    assert sorted(pulled) == sorted(wanted)
    assert table.views.built == 1  # every page and re-anchor after the first reuses it
    # The view follows writes: a record moved into the scope is pulled, one moved out not.
    moved_in = next(obj for obj in table.objects.values()
                    if not obj.archived and obj.properties["pipeline"] == "sales")
    moved_out = next(obj for obj in table.objects.values()
                     if not obj.archived and obj.properties["pipeline"] == "partners")
    later = T0 + 100_000
    table.modify(moved_in, {"pipeline": "partners"}, later, [])
    table.modify(moved_out, {"pipeline": "sales"}, later, [])
    assert pull_ids(table, Lower(later), {"pipeline": "partners"}) == [moved_in.id]
    assert table.views.built == 1
