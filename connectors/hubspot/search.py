"""The incremental cursor over HubSpot's CRM search, sliced around the 10,000-result cap.

Pure planning, no IO: ``SlicedSearch`` says which search request to send next and digests
each answer into new records and the cursor position that is safe once they are handled.
``connectors.hubspot.connector`` does the HTTP.

Why it is shaped like this (HubSpot behaviour the plan must survive):

* Search pages by offset (``after``) and answers at most 10,000 results per query, so a
  long scan re-anchors: a new query starting at the last timestamp seen (``GTE``).
* Records sharing one ``hs_lastmodifieddate`` come back in an order HubSpot does not
  document, and which may change between requests. So a cursor never claims part of a
  timestamp group that was read in time order. The records of the newest group (the
  *open* one, which the next page may continue) are held back until a later timestamp
  closes it; a page then hands over exactly the records up to its position, so a pull
  resumed from any page's cursor continues exactly. Records of the open group that a
  re-anchored query reads again are de-duplicated by id.
* A group larger than a page (a workflow or import that stamped thousands of records with
  one instant) is read separately, sorted by ``hs_object_id`` with keyset paging (``EQ``
  that instant, ``hs_object_id GT`` the last id). Ids are unique and totally ordered, so
  more than 10,000 records at one instant are neither dropped nor looped, and the position
  after each of those pages is exact. Switching early (once the group fills a page) bounds
  what is read twice to one page.
* Offset paging shifts when a record the scan already passed is modified or archived
  meanwhile: everything behind it moves up one place and the record at the next page edge
  would be skipped; ties served in a new order hide records the same way. Each page
  therefore overlaps the previous one by one record and is checked (``_moved``); if the
  positions moved, the page is thrown away and the scan re-anchors at the open group's
  timestamp, so a shift costs one call instead of a lost record. The overlap costs about
  0.5% more pages than the minimum.
* A query's ``total`` says when nothing is left, which saves the closing query after a
  slice; stopping on it can only defer records modified meanwhile to the next pull (their
  timestamp lies after the cursor), never lose them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.hubspot.facts import MAX_PAGE, RECORD_ID

MODIFIED = "hs_lastmodifieddate"
RESULT_CAP = 10_000
NO_TIES = 2**63 - 1  # a tie floor above every id: nothing at the instant itself


@dataclass(frozen=True, slots=True)
class Condition:
    """One search filter: ``property operator value`` (values travel as strings)."""

    property: str
    operator: str
    value: str


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """One search call: OR'ed groups of AND'ed conditions, one ascending sort, a page."""

    groups: tuple[tuple[Condition, ...], ...]
    sort: str
    limit: int
    after: str | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: its id, its modification instant (epoch ms) and the raw record."""

    id: int
    modified_ms: int
    record: Any = None


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """Everything up to (modified_ms, last_id) in (instant, id) order has been read."""

    modified_ms: int
    last_id: int


@dataclass(frozen=True, slots=True)
class Lower:
    """Where a time-ordered query starts: records at ``ms`` with id above ``tie_floor``
    (None: all of them; ``NO_TIES``: none) and every record after ``ms``."""

    ms: int
    tie_floor: int | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """What one answer contributed: records not seen before and the safe position."""

    hits: tuple[Hit, ...]  # exactly the records up to ``position`` not handed over before
    position: Position | None  # None: no group is complete yet
    discarded: bool = False  # the page was thrown away (offset shift); it will be re-read


@dataclass(slots=True)
class _TimeQuery:
    lower: Lower | None
    offset: int = 0
    expect_first: int | None = None  # the overlap record that must open the next page
    total: int | None = None
    consumed: int = 0  # records handed over from this query's range


@dataclass(slots=True)
class _IdSlice:
    modified_ms: int
    floor: int | None  # ids above this one are still to read


@dataclass(slots=True)
class _Tail:
    """The newest timestamp group seen so far (it may still be incomplete)."""

    ms: int | None = None
    max_id: int = 0
    seen: set[int] = field(default_factory=set)  # its ids read (handed over or held)
    held: dict[int, Hit] = field(default_factory=dict)  # read, not handed over yet
    in_query: set[int] = field(default_factory=set)  # its ids the current query returned


class SlicedSearch:
    """Plans the search calls of one incremental pull; see the module docstring."""

    def __init__(self, start: Lower | None, *, scope: Mapping[str, str] | None = None,
                 page_size: int = MAX_PAGE, result_cap: int = RESULT_CAP,
                 slice_at: int | None = None) -> None:
        if not 2 <= page_size <= MAX_PAGE:
            raise ValueError(f"page_size must be 2..{MAX_PAGE}")
        if result_cap < page_size:
            raise ValueError("result_cap must hold at least one page")
        self._scope = tuple(Condition(name, "EQ", str(value))
                            for name, value in sorted((scope or {}).items()))
        self._page = page_size
        self._cap = result_cap
        self._slice_at = slice_at or page_size
        self._time: _TimeQuery | None = _TimeQuery(start)
        self._slice: _IdSlice | None = None
        self._tail = _Tail()
        self._complete: Position | None = None
        self._done = False
        self.calls = 0
        self.slices = 0  # times a timestamp group was read by id
        self.reanchors = 0  # times a time query was restarted (cap or shift)

    @property
    def done(self) -> bool:
        return self._done

    # --- requests ---------------------------------------------------------------------
    def next_request(self) -> SearchRequest | None:
        """The next call to make, or None when the pull is complete."""
        if self._done:
            return None
        if self._slice is not None:
            conditions = [Condition(MODIFIED, "EQ", str(self._slice.modified_ms))]
            if self._slice.floor is not None:
                conditions.append(Condition(RECORD_ID, "GT", str(self._slice.floor)))
            return SearchRequest(((*conditions, *self._scope),), RECORD_ID, self._page)
        query = self._time
        assert query is not None
        after = str(query.offset) if query.offset else None
        return SearchRequest(self._time_groups(query.lower), MODIFIED, self._page, after)

    def _time_groups(self, lower: Lower | None) -> tuple[tuple[Condition, ...], ...]:
        scope = self._scope
        if lower is None:
            return (scope,) if scope else ()
        ms = str(lower.ms)
        if lower.tie_floor is None:
            return ((Condition(MODIFIED, "GTE", ms), *scope),)
        after_ms = (Condition(MODIFIED, "GT", ms), *scope)
        if lower.tie_floor == NO_TIES:
            return (after_ms,)
        ties = (Condition(MODIFIED, "EQ", ms), Condition(RECORD_ID, "GT", str(lower.tie_floor)),
                *scope)
        return (after_ms, ties)

    # --- answers ----------------------------------------------------------------------
    def accept(self, hits: Sequence[Hit], *, has_more: bool, total: int | None = None) -> Step:
        """Digest the answer to the request ``next_request`` returned last."""
        self.calls += 1
        if self._slice is not None:
            return self._accept_slice(hits, has_more)
        return self._accept_time(hits, has_more, total)

    def _accept_time(self, hits: Sequence[Hit], has_more: bool, total: int | None) -> Step:
        query = self._time
        assert query is not None
        if query.total is None:
            query.total = total
        if query.expect_first is not None and self._moved(hits, query.expect_first):
            self._restart_time()
            return Step((), self._complete, discarded=True)
        out = self._take(hits)
        if not has_more or not hits:
            out += self._finish()
            query.consumed += len(out)
            return Step(tuple(out), self._complete)
        query.consumed += len(out)
        tail = self._tail
        if len(tail.in_query) >= self._slice_at:
            # A group as big as a page: read it by id, from its start unless a resumed
            # cursor already says which of its ids were handled. The slice reads the held
            # records again, in id order, and hands them over with exact positions.
            assert tail.ms is not None  # _take just opened or extended the group
            floor = None
            if query.lower is not None and query.lower.ms == tail.ms:
                floor = query.lower.tie_floor
            tail.seen.difference_update(tail.held)
            tail.held.clear()
            self._start_slice(tail.ms, floor)
            return Step(tuple(out), self._complete)
        if len(hits) > 1:
            query.offset += len(hits) - 1  # overlap by one record to detect shifts
            query.expect_first = hits[-1].id
        else:
            query.offset += len(hits)
            query.expect_first = None
        if query.offset + self._page > self._cap:
            if query.total is not None and query.consumed >= query.total:
                out += self._finish()  # what is left was modified during the scan: next pull
            else:
                self._restart_time()
        return Step(tuple(out), self._complete)

    def _accept_slice(self, hits: Sequence[Hit], has_more: bool) -> Step:
        current = self._slice
        assert current is not None
        fresh: list[Hit] = []
        tail = self._tail
        for hit in hits:
            if hit.modified_ms != current.modified_ms:
                continue  # cannot match EQ; a server quirk must not move the cursor
            current.floor = hit.id if current.floor is None else max(current.floor, hit.id)
            tail.max_id = max(tail.max_id, hit.id)
            if hit.id not in tail.seen:
                tail.seen.add(hit.id)
                fresh.append(hit)
        if self._time is not None:
            self._time.consumed += len(fresh)
        if current.floor is not None:
            self._complete = Position(current.modified_ms, current.floor)
        if has_more and len(hits) >= self._page:
            return Step(tuple(fresh), self._complete)
        # The whole group is read: continue after its instant, unless the time query that
        # led here already accounted for everything it matched.
        self._slice = None
        self._complete = Position(current.modified_ms, max(tail.max_id, current.floor or 0))
        query = self._time
        if query is not None and query.total is not None and query.consumed >= query.total:
            self._done = True
        else:
            self._time = _TimeQuery(Lower(current.modified_ms, NO_TIES))
            tail.in_query = set()
        return Step(tuple(fresh), self._complete)

    def _moved(self, hits: Sequence[Hit], expected: int) -> bool:
        """Whether the result set moved under the offsets since the last page.

        The page must open with the record that ended the last one, and no other record of
        the open group this query already returned may follow it. Together these prove the
        positions before the offset still hold exactly what was read: a record modified or
        archived behind the scan breaks the first, ties served in a new order break one of
        the two (the group's records read so far must still fill the slots before it)."""
        if not hits or hits[0].id != expected:
            return True
        tail = self._tail
        return any(hit.modified_ms == tail.ms and hit.id in tail.in_query for hit in hits[1:])

    def _take(self, hits: Sequence[Hit]) -> list[Hit]:
        """Hold hits of the open group; hand over groups a later timestamp has closed."""
        tail = self._tail
        out: list[Hit] = []
        for hit in hits:
            if tail.ms is None or hit.modified_ms > tail.ms:
                out += self._close_tail()
                tail.ms, tail.max_id, tail.seen, tail.in_query = hit.modified_ms, 0, set(), set()
            elif hit.modified_ms < tail.ms:
                # Older than the open group: only a record the index showed late. Hand it
                # over (it is new to us); it lies behind the position, which stays put.
                out.append(hit)
                continue
            tail.in_query.add(hit.id)
            tail.max_id = max(tail.max_id, hit.id)
            if hit.id not in tail.seen:
                tail.seen.add(hit.id)
                tail.held[hit.id] = hit
        return out

    def _close_tail(self) -> list[Hit]:
        """The open group is complete: hand over what it held and move the position."""
        tail = self._tail
        if tail.ms is None:
            return []
        released = list(tail.held.values())
        tail.held = {}
        end = Position(tail.ms, tail.max_id)
        if self._complete is None or end > self._complete:
            self._complete = end
        return released

    def _start_slice(self, modified_ms: int, floor: int | None) -> None:
        self.slices += 1
        self._slice = _IdSlice(modified_ms, floor)

    def _restart_time(self) -> None:
        """A new time query from the open group's timestamp (GTE: the group is re-read and
        de-duplicated), keeping the query's tie floor when it starts at that same instant."""
        self.reanchors += 1
        tail = self._tail
        previous = self._time.lower if self._time is not None else None
        lower = previous
        if tail.ms is not None:
            same = previous is not None and previous.ms == tail.ms
            lower = Lower(tail.ms, previous.tie_floor if same and previous else None)
        self._time = _TimeQuery(lower)
        tail.in_query = set()

    def _finish(self) -> list[Hit]:
        """Nothing follows: the open group is complete too."""
        self._done = True
        return self._close_tail()
