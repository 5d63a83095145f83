"""How the HubSpot connector slices work, tested without a server.

The search cursor (connectors.hubspot.search) runs against an in-memory search index that
behaves the way the plan must assume HubSpot does: OR'ed groups of AND'ed filters, offset
paging, a cap on results per query, and an order among equal timestamps that is arbitrary
(and, in one test, different on every request). Small pages and caps make the slicing
paths run on small data; one test runs the real sizes.

Batch writes (connectors.hubspot.batch) are sliced too: into calls of at most 100, and,
when HubSpot refuses a whole batch, into smaller batches until the records at fault stand
alone. A fake ``send`` plays HubSpot there.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import RecordError
from connectors.hubspot.batch import Input, chunks, isolate, outcomes
from connectors.hubspot.errors import BatchRejected, OutcomeUnknown
from connectors.hubspot.search import (
    MODIFIED,
    NO_TIES,
    RECORD_ID,
    Condition,
    Hit,
    Lower,
    Position,
    SearchRequest,
    SlicedSearch,
)
from tests.property_support import examples


class CapExceeded(AssertionError):
    """The plan asked past the result cap: HubSpot would answer 400."""


@dataclass
class FakeIndex:
    """id -> modified ms of live records, searched like HubSpot's CRM search."""

    records: dict[int, int]
    cap: int
    tie_seed: int = 0
    reshuffle_ties: bool = False  # a new order among equal timestamps on every request
    requests: list[SearchRequest] = field(default_factory=list)

    def search(self, request: SearchRequest) -> tuple[list[Hit], bool, int]:
        self.requests.append(request)
        seed = len(self.requests) if self.reshuffle_ties else self.tie_seed
        tie = random.Random(seed)
        tie_key = {record_id: tie.random() for record_id in sorted(self.records)}
        bounds = [_bounds(group) for group in request.groups] or [_bounds(())]
        matched = [i for i, ms in self.records.items()
                   if any(lo <= ms <= hi and i > floor for lo, hi, floor in bounds)]
        if request.sort == MODIFIED:
            matched.sort(key=lambda i: (self.records[i], tie_key[i]))
        else:
            matched.sort()
        offset = int(request.after or 0)
        if offset + request.limit > self.cap:
            raise CapExceeded(f"after={offset} limit={request.limit} cap={self.cap}")
        page = matched[offset:offset + request.limit]
        hits = [Hit(i, self.records[i]) for i in page]
        return hits, offset + request.limit < len(matched), len(matched)


def _bounds(group: tuple[Condition, ...]) -> tuple[float, float, float]:
    """A filter group as (lowest ms, highest ms, id floor); scope conditions match all."""
    low, high, floor = -math.inf, math.inf, -math.inf
    for condition in group:
        if condition.property not in (MODIFIED, RECORD_ID):
            continue
        value = int(condition.value)
        if condition.property == MODIFIED:
            if condition.operator in ("EQ", "GTE"):
                low = max(low, value)
            if condition.operator == "GT":
                low = max(low, value + 1)
            if condition.operator == "EQ":
                high = min(high, value)
        elif condition.property == RECORD_ID:
            assert condition.operator == "GT"
            floor = max(floor, value)
    return low, high, floor


@dataclass
class Run:
    hits: list[Hit]
    positions: list[Position | None]
    yielded_before: list[set[int]]  # ids yielded up to and including each step


def run(plan: SlicedSearch, index: FakeIndex, *, max_calls: int = 10_000,
        between: Callable[[int], None] | None = None, stop_after: int | None = None) -> Run:
    out = Run([], [], [])
    seen: set[int] = set()
    while (request := plan.next_request()) is not None:
        assert len(index.requests) < max_calls, "the plan does not terminate"
        if stop_after is not None and len(out.positions) == stop_after:
            break
        hits, has_more, total = index.search(request)
        step = plan.accept(hits, has_more=has_more, total=total)
        out.hits.extend(step.hits)
        seen |= {hit.id for hit in step.hits}
        out.positions.append(step.position)
        out.yielded_before.append(set(seen))
        if between is not None:
            between(len(out.positions))
    return out


def assert_positions_exact(result: Run, records: dict[int, int]) -> None:
    """After every step, what was handed over is exactly what the position claims (the
    records up to it), and positions never go back."""
    last: Position | None = None
    for position, yielded in zip(result.positions, result.yielded_before, strict=True):
        if position is None:
            assert yielded == set()
            continue
        assert last is None or position >= last
        last = position
        claimed = {i for i, ms in records.items() if (ms, i) <= (position.modified_ms,
                                                               position.last_id)}
        assert claimed == yielded


def test_twelve_thousand_records_at_one_instant_at_real_sizes() -> None:
    records = {1_000_000 + i: 1_700_000_000_000 for i in range(12_000)}
    index = FakeIndex(records, cap=10_000, tie_seed=3)
    plan = SlicedSearch(None)
    result = run(plan, index)
    ids = [hit.id for hit in result.hits]
    assert sorted(ids) == sorted(records)  # complete and no duplicates
    assert len(index.requests) <= 61  # one page read twice at most; 60 is the minimum
    assert plan.slices == 1
    assert result.positions[-1] == Position(1_700_000_000_000, 1_011_999)
    assert_positions_exact(result, records)


def test_slices_are_keyset_pages_sorted_by_id_and_never_pass_the_cap() -> None:
    records = {100 + i: 5 for i in range(57)}
    index = FakeIndex(records, cap=20)
    run(SlicedSearch(None, page_size=10, result_cap=20), index)
    by_id = [r for r in index.requests if r.sort == RECORD_ID]
    assert by_id and all(r.after is None for r in by_id)
    assert all(any(c.property == MODIFIED and c.operator == "EQ" for c in r.groups[0])
               for r in by_id)


def test_distinct_timestamps_cost_about_one_call_per_page() -> None:
    records = {i: 1_000 + i for i in range(1, 10_001)}
    index = FakeIndex(records, cap=1_000)
    result = run(SlicedSearch(None, page_size=100, result_cap=1_000), index)
    assert sorted(hit.id for hit in result.hits) == sorted(records)
    # 100 pages are the minimum; overlapping one record per page and re-anchoring every
    # ~10 pages costs about 1%.
    assert len(index.requests) <= 102


def test_groups_of_a_batch_write_do_not_trigger_slicing() -> None:
    """Batch writes stamp 100 records with one instant; reading them costs no extra call."""
    records = {i: 1_000 + i // 100 for i in range(1, 2_001)}
    index = FakeIndex(records, cap=10_000, tie_seed=9)
    plan = SlicedSearch(None)
    result = run(plan, index)
    assert sorted(hit.id for hit in result.hits) == sorted(records)
    assert plan.slices == 0 and len(index.requests) == 11


@settings(max_examples=examples(60), deadline=None)
@given(
    instants=st.lists(st.integers(min_value=0, max_value=6), min_size=0, max_size=180),
    page=st.integers(min_value=2, max_value=12),
    pages_per_query=st.integers(min_value=1, max_value=5),
    tie_seed=st.integers(min_value=0, max_value=1_000),
)
def test_any_distribution_of_timestamps_is_read_completely_once(
    instants: list[int], page: int, pages_per_query: int, tie_seed: int
) -> None:
    records = {10 + 3 * n: ms for n, ms in enumerate(instants)}
    index = FakeIndex(records, cap=page * pages_per_query, tie_seed=tie_seed)
    result = run(SlicedSearch(None, page_size=page, result_cap=page * pages_per_query), index)
    ids = [hit.id for hit in result.hits]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(records)
    assert_positions_exact(result, records)
    if records:
        last = max(records.items(), key=lambda item: (item[1], item[0]))
        assert result.positions[-1] == Position(last[1], last[0])


def test_ties_in_a_new_order_on_every_request_lose_nothing() -> None:
    """Groups of 2-6 records straddle page edges; their order changes on every request."""
    sizes = [2, 3, 4, 5, 6] * 30
    records: dict[int, int] = {}
    for group, size in enumerate(sizes):
        for _ in range(size):
            records[len(records) + 1] = 1_000 + group
    index = FakeIndex(records, cap=60, reshuffle_ties=True)
    plan = SlicedSearch(None, page_size=10, result_cap=60)
    result = run(plan, index)
    ids = [hit.id for hit in result.hits]
    assert set(ids) == set(records) and len(ids) == len(set(ids))
    assert_positions_exact(result, records)
    assert plan.slices == 0


@pytest.mark.parametrize("stop_after", [1, 3, 7, 12])
def test_resuming_from_any_position_without_overlap_reads_the_rest(stop_after: int) -> None:
    rng = random.Random(stop_after)
    records = {i: rng.choice([1, 2, 2, 2, 3, 5]) for i in range(1, 150)}
    first = run(SlicedSearch(None, page_size=8, result_cap=40), FakeIndex(records, cap=40),
                stop_after=stop_after)
    position = next((p for p in reversed(first.positions) if p is not None), None)
    start = Lower(position.modified_ms, position.last_id) if position else None
    second = run(SlicedSearch(start, page_size=8, result_cap=40), FakeIndex(records, cap=40))
    handled = {i for i, ms in records.items()
               if position is not None and (ms, i) <= (position.modified_ms, position.last_id)}
    assert handled <= {hit.id for hit in first.hits}
    assert not handled & {hit.id for hit in second.hits}  # the cursor is exact
    assert {hit.id for hit in first.hits} | {hit.id for hit in second.hits} == set(records)


@pytest.mark.parametrize("seed", range(5))
def test_records_modified_or_archived_behind_the_scan_do_not_hide_their_neighbours(
    seed: int,
) -> None:
    """Between pages, three records the scan already passed are modified (they move to
    the end) or archived (they leave): offset paging alone would skip records at the next
    page edge."""
    records = {i: 1_000 + i for i in range(1, 301)}
    original = dict(records)
    index = FakeIndex(records, cap=10_000)
    rng = random.Random(seed)
    yielded_so_far: set[int] = set()
    plan = SlicedSearch(None, page_size=10)

    while (request := plan.next_request()) is not None:
        hits, has_more, total = index.search(request)
        step = plan.accept(hits, has_more=has_more, total=total)
        yielded_so_far |= {hit.id for hit in step.hits}
        for _ in range(3):
            passed = sorted(i for i in records if i in yielded_so_far and records[i] < 2_000)
            if not passed:
                break
            victim = rng.choice(passed)
            if rng.random() < 0.5:
                records[victim] = 2_000 + len(index.requests)
            else:
                del records[victim]
    untouched = {i for i in original if records.get(i) == original[i]}
    assert untouched <= yielded_so_far
    assert set(records) <= yielded_so_far  # modified records are read in some version
    assert plan.reanchors > 0


def test_a_resumed_tie_floor_and_scope_shape_the_first_query() -> None:
    plan = SlicedSearch(Lower(1_000, 42), scope={"pipeline": "9004451"})
    request = plan.next_request()
    assert request == SearchRequest(
        groups=(
            (Condition(MODIFIED, "GT", "1000"), Condition("pipeline", "EQ", "9004451")),
            (Condition(MODIFIED, "EQ", "1000"), Condition(RECORD_ID, "GT", "42"),
             Condition("pipeline", "EQ", "9004451")),
        ),
        sort=MODIFIED, limit=200, after=None)
    assert SlicedSearch(Lower(1_000, NO_TIES)).next_request().groups == (
        (Condition(MODIFIED, "GT", "1000"),),)
    assert SlicedSearch(Lower(1_000)).next_request().groups == (
        (Condition(MODIFIED, "GTE", "1000"),),)
    assert SlicedSearch(None).next_request().groups == ()


def test_an_empty_result_ends_the_pull_without_a_position() -> None:
    plan = SlicedSearch(Lower(5))
    step = plan.accept([], has_more=False, total=0)
    assert step.hits == () and step.position is None and plan.next_request() is None


# --- batches ------------------------------------------------------------------------------
BAD = RecordError("INVALID_OPTION", "bad stage", ("dealstage",))


@dataclass
class FakeBatchApi:
    """Refuses any batch holding a bad input as a whole (naming it or not), else writes it."""

    bad: set[int]
    names_culprits: bool = False
    calls: list[list[int]] = field(default_factory=list)
    written: Counter[int] = field(default_factory=Counter)

    def send(self, batch: list[Input]) -> dict[str, object]:
        self.calls.append([item.index for item in batch])
        culprits = [item for item in batch if item.index in self.bad]
        if culprits:
            named = frozenset(f"id:{item.key}" for item in culprits) if self.names_culprits \
                else frozenset()
            raise BatchRejected("refused", error=BAD, named=named,
                                properties=frozenset({"dealstage"}))
        self.written.update(item.index for item in batch)
        return {"results": [{"id": item.key, "properties": {}} for item in batch]}


def update_inputs(count: int, bad: set[int]) -> list[Input]:
    return [Input(i, str(1000 + i), {"dealstage": "x"} if i in bad else {"amount": str(i)})
            for i in range(count)]


@pytest.mark.parametrize("names_culprits", [False, True])
def test_a_refused_batch_is_narrowed_to_its_bad_records_writing_each_good_one_once(
    names_culprits: bool,
) -> None:
    bad = {17, 64}
    api = FakeBatchApi(bad, names_culprits)
    result = isolate(update_inputs(100, bad), api.send, match="id")
    assert {i for i, o in result.items() if o.error is not None} == bad
    assert all(result[i].error == BAD for i in bad)
    assert set(api.written) == set(range(100)) - bad
    assert max(api.written.values()) == 1
    # Named culprits: the rest goes again in one call. Unnamed: the 98 records not setting
    # the property the answer mentions go in one call, the two suspects are halved.
    assert len(api.calls) == (2 if names_culprits else 5)


def test_a_refused_batch_without_clues_is_halved() -> None:
    api = FakeBatchApi({5})
    inputs = [Input(i, str(i), {"amount": "1"}) for i in range(8)]

    def send(batch: list[Input]) -> dict[str, object]:
        if any(item.index == 5 for item in batch):
            api.calls.append([item.index for item in batch])
            raise BatchRejected("refused", error=BAD, named=frozenset(),
                                properties=frozenset())
        return api.send(batch)

    result = isolate(inputs, send, match="id")
    assert [i for i, o in result.items() if o.error] == [5]
    assert set(api.written) == {0, 1, 2, 3, 4, 6, 7} and max(api.written.values()) == 1


def test_a_create_of_unknown_fate_is_reported_not_repeated() -> None:
    calls: list[int] = []

    def send(batch: list[Input]) -> dict[str, object]:
        calls.append(len(batch))
        raise OutcomeUnknown("the connection broke during batch create deals")

    result = isolate([Input(i, "", {"dealname": "x"}) for i in range(3)], send, match="order")
    assert calls == [3]
    assert {o.error.code for o in result.values() if o.error} == {"OUTCOME_UNKNOWN"}
    assert not any(o.error.retriable for o in result.values() if o.error)


def test_a_multi_status_answer_maps_errors_by_trace_id_key_or_id_and_results_in_order() -> None:
    creates = [Input(i, "", {"dealname": str(i)}) for i in range(4)]
    body = {"results": [{"id": "71"}, {"id": "72"}],
            "errors": [{"category": "VALIDATION_ERROR", "message": "bad",
                        "context": {"objectWriteTraceId": ["1"]},
                        "errors": [{"code": "INVALID_DATE", "message": "not a date",
                                    "context": {"propertyName": ["closedate"]}}]},
                       {"category": "VALIDATION_ERROR", "message": "bad",
                        "context": {"objectWriteTraceId": ["3"]}}]}
    got = outcomes(creates, body, match="order")
    assert [got[i].record["id"] if got[i].record else got[i].error.code for i in range(4)] == [
        "71", "INVALID_DATE", "72", "VALIDATION_ERROR"]
    assert got[1].error.fields == ("closedate",)

    upserts = [Input(0, "key-a", {}), Input(1, "key-b", {}), Input(2, "key-c", {})]
    body = {"results": [{"id": "9", "properties": {"k": "key-c"}, "new": True}],
            "errors": [{"category": "CONFLICT", "message": "taken",
                        "context": {"ids": ["key-a"]}}]}
    got = outcomes(upserts, body, match="key", key_property="k")
    assert got[0].error.code == "CONFLICT" and got[2].record["id"] == "9"
    assert got[1].error.code == "NO_RESULT" and got[1].error.retriable


def test_chunks_hold_at_most_100_and_never_one_record_twice() -> None:
    inputs = [Input(i, str(i % 120), {}) for i in range(250)]
    batches = list(chunks(inputs))
    assert all(len(b) <= 100 for b in batches)
    assert all(len({i.key for i in b}) == len(b) for b in batches)
    assert sorted(i.index for b in batches for i in b) == list(range(250))
    # Two writes to one record keep their input order: the later one goes in a later call.
    positions = {i.index: n for n, b in enumerate(batches) for i in b}
    assert all(positions[i] < positions[i + 120] for i in range(130))
