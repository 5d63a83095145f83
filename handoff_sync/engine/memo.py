"""What the steps over every record worked out in the last plan, kept to redo only what changed.

engine.plan plans only the deals ``Dirty`` names, but four steps look at every record each
cycle: matching (engine.link: every unlinked registration's candidates), channel conflicts
(every customer that two partners hold), creation (every unlinked registration's gate) and
partner readiness (every deal's history: engine.readiness_memo).
In a quiet cycle their results are last cycle's. A ``PlanMemo`` keeps them: the sync layer
holds one per pipeline and passes it in (``EngineInput.memo``); the steps read it only when
``dirty`` is given, and refill it on every plan, so a full cycle starts it afresh. It is
the one input a plan writes to: give a memo to one plan at a time.

The memo is a cache, never a source of truth. Every entry is checked against what it was
made from - the record (the same object, which the sync layer's mapping cache hands back
for an unchanged record, or an equal one) and the rules (matching, policy) - and recomputed
when that differs. So a plan never depends on the memo, only its cost does: links, reviews
and creations are what the full computation gives.

Candidates depend on the other side too. A registration's candidates are found again when
what matching compares of it (engine.match's features) changed, and when an opportunity
sharing one of its blocking keys (before or after the change) came, went, changed what
matching compares, or entered or left the pool (linked elsewhere, or freed): only such an
opportunity can enter its candidates, leave them, or change the size of a key it blocks on.
The pool's size sets which keys are too common to block on, so when that threshold moves,
registrations holding a key whose size lies between the old and the new threshold are
found again as well.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

from handoff_sync.engine.match import COMMON_KEY_MIN, COMMON_KEY_SHARE, Candidate, Features, Matcher
from handoff_sync.engine.normalise import Normaliser
from handoff_sync.engine.readiness_memo import ReadinessMemo
from handoff_sync.mapping.policy.file_model import Matching
from handoff_sync.mapping.system.convert import MappedRecord

T = TypeVar("T")


def same(held: MappedRecord, record: MappedRecord) -> bool:
    """Whether a memo entry made from ``held`` holds for ``record``."""
    return held is record or held == record


@dataclasses.dataclass
class PerRecord(Generic[T]):
    """One result per record id, with the record it was computed from, under one set of
    rules (``rules``: anything comparable). Only the records the last step looked at are
    kept, so records that left it (linked since) do not pile up."""

    rules: Hashable | None = None
    entries: dict[str, tuple[MappedRecord, T]] = dataclasses.field(default_factory=dict)
    last: dict[str, tuple[MappedRecord, T]] = dataclasses.field(default_factory=dict)

    def start(self, rules: Hashable) -> PerRecord[T]:
        """Begin a step under ``rules``: another set of rules drops every entry."""
        self.last = self.entries if rules == self.rules else {}
        self.rules, self.entries = rules, {}
        return self

    def get(self, record: MappedRecord, compute: Callable[[MappedRecord], T]) -> T:
        record_id = record.record_id or ""
        hit = self.last.get(record_id)
        if hit is None or not same(hit[0], record):
            hit = (record, compute(record))
        self.entries[record_id] = hit
        return hit[1]


@dataclasses.dataclass
class MatchMemo:
    """Last plan's matching: the pool it matched against and each registration's candidates."""

    matching: Matching | None = None
    norm: Normaliser | None = None  # its text cache kept too; a new one on every full plan
    pool: dict[str, tuple[MappedRecord, Features]] = dataclasses.field(default_factory=dict)
    common: int = 0  # the pool's common-key threshold (engine.match)
    found: dict[str, tuple[MappedRecord, Features, tuple[Candidate, ...]]] = dataclasses.field(
        default_factory=dict)


@dataclasses.dataclass
class PlanMemo:
    """Per pipeline, held by the sync layer between cycles (see the module docstring)."""

    matches: MatchMemo = dataclasses.field(default_factory=MatchMemo)
    # Registration id -> whether its gate and ``creation.when`` make it one to create for
    # (engine.create), under (pipeline, policy).
    creatable: PerRecord[bool] = dataclasses.field(default_factory=PerRecord)
    # Customer key -> (its registrations' (id, account name, deal name), same-deal pairs)
    # (engine.channel_conflicts), under (fuzzy_min_score, normalisation).
    customers: dict[str, tuple[tuple[object, ...], list[tuple[str, str]]]] = (
        dataclasses.field(default_factory=dict))
    customers_rules: Hashable | None = None
    readiness: ReadinessMemo = dataclasses.field(default_factory=ReadinessMemo)  # partners

    def creations(self, reuse: bool) -> PerRecord[bool]:
        """The creation step's memo, emptied first on a full plan."""
        if not reuse:
            self.creatable = PerRecord()
        return self.creatable


def normaliser(matching: Matching, memo: PlanMemo | None, reuse: bool) -> Normaliser:
    """The matching rules' Normaliser: last plan's (with its cache) when it may be reused."""
    if memo is None:
        return Normaliser(matching.normalise)
    held = memo.matches
    if not reuse or held.norm is None or held.matching != matching:
        held.norm = Normaliser(matching.normalise)
    return held.norm


def find_candidates(matching: Matching, norm: Normaliser, queries: Sequence[MappedRecord],
                    pool: Sequence[MappedRecord], memo: MatchMemo | None,
                    reuse: bool) -> dict[str, list[Candidate]]:
    """Each registration of ``queries`` -> its candidates in ``pool`` (engine.match), for
    those that have some. ``memo`` (refilled) supplies what cannot have changed, if
    ``reuse``."""
    if memo is None:
        whole = Matcher(matching, norm, pool)
        return {record.record_id or "": listed for record in queries
                if (listed := whole.candidates(record))}
    if memo.matching != matching:
        memo.matching, memo.pool, memo.found, reuse = matching, {}, {}, False
        memo.norm = norm
    featurer = Matcher(matching, norm, ())  # features only: an empty pool costs nothing
    old_pool = memo.pool
    new_pool: dict[str, tuple[MappedRecord, Features]] = {}
    moved: set[str] = set()  # blocking keys of opportunities that came, went or changed
    for record in pool:
        crm_id = record.record_id or ""
        held = old_pool.get(crm_id)
        if held is not None and same(held[0], record):
            new_pool[crm_id] = held
            continue
        features = featurer.features_of(record)
        new_pool[crm_id] = (record, features)
        if held is not None and held[1] == features:
            continue  # changed, but not in what matching compares
        moved.update(features.keys)
        if held is not None:
            moved.update(held[1].keys)
    for crm_id in old_pool.keys() - new_pool.keys():
        moved.update(old_pool[crm_id][1].keys)
    built: list[Matcher] = []

    def matcher() -> Matcher:
        if not built:
            ids = list(new_pool)
            built.append(Matcher(matching, norm, [new_pool[i][0] for i in ids],
                                 [new_pool[i][1] for i in ids]))
        return built[0]

    common = max(COMMON_KEY_MIN, int(len(new_pool) * COMMON_KEY_SHARE))
    if reuse and common != memo.common:
        low, high = sorted((common, memo.common))
        moved.update(key for key, size in matcher().key_sizes().items() if low < size <= high)
    old_found = memo.found
    found: dict[str, tuple[MappedRecord, Features, tuple[Candidate, ...]]] = {}
    out: dict[str, list[Candidate]] = {}
    for record in queries:
        prm_id = record.record_id or ""
        hit = old_found.get(prm_id)
        candidates: list[Candidate] | None = None
        if hit is None:
            features = featurer.features_of(record)
        else:
            features = hit[1] if same(hit[0], record) else featurer.features_of(record)
            # A change elsewhere in the record is none here; around its keys, the pool's is.
            if reuse and features == hit[1] and moved.isdisjoint(features.keys):
                candidates = list(hit[2])
        if candidates is None:
            candidates = matcher().candidates_of(features)
        found[prm_id] = (record, features, tuple(candidates))
        if candidates:
            out[prm_id] = candidates
    memo.pool, memo.found, memo.common = new_pool, found, common
    return out


__all__ = ["MatchMemo", "PerRecord", "PlanMemo", "find_candidates", "normaliser", "same"]
