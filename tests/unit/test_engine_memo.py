"""engine.memo's matching cache: candidates found again only where the pool moved.

The blocking threshold (engine.match: keys held by too many opportunities are ignored)
grows with the pool, so a pool that grows or shrinks changes which keys a registration
blocks on. Made tiny here (a key is common above a fifth of the pool) so that small
pools cross it often.
"""

from __future__ import annotations

from types import MappingProxyType

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from handoff_sync.engine import match, memo
from handoff_sync.engine.memo import MatchMemo, find_candidates
from handoff_sync.engine.normalise import Normaliser
from handoff_sync.mapping.policy.file_model import Matching
from handoff_sync.mapping.system.convert import MappedRecord
from handoff_sync.model import Role, SystemName

MATCHING = Matching()
# "platform" and "platforms" make names alike that share no word but the customer's.
WORDS = ("acme", "cloud", "data", "platform", "renewal", "north", "suite", "platforms")


def record(role: Role, record_id: str, words: tuple[int, ...]) -> MappedRecord:
    name = " ".join(WORDS[index % len(WORDS)] for index in words) or None
    return MappedRecord(SystemName("salesforce" if role is Role.CRM else "hubspot"), role,
                        record_id, None, True, MappingProxyType({"deal_name": name}))


names = st.lists(st.integers(0, len(WORDS) - 1), min_size=1, max_size=3).map(tuple)
pools = st.dictionaries(st.integers(0, 30), names, max_size=25)


@pytest.fixture(autouse=True)
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (match, memo):
        monkeypatch.setattr(module, "COMMON_KEY_MIN", 1)
        monkeypatch.setattr(module, "COMMON_KEY_SHARE", 0.2)


@given(queries=st.lists(names, min_size=1, max_size=8),
       pool_states=st.lists(pools, min_size=2, max_size=5))
@settings(max_examples=150, deadline=None)
# Ten opportunities more move the threshold from 1 to 3: "acme" (held by 3) is no longer
# too common, and "acme platforms" becomes a candidate of "acme platform".
@example(queries=[(0, 3)], pool_states=[
    {1: (0, 7), 2: (0,), 3: (0,), 4: (3,), 5: (2,)},
    {1: (0, 7), 2: (0,), 3: (0,), 4: (3,), 5: (2,), 6: (1,), 7: (2,), 8: (4,), 9: (5,),
     10: (6,), 11: (1, 2), 12: (4, 5), 13: (5, 6), 14: (1, 6), 15: (2, 4)}])
def test_candidates_from_the_memo_are_those_found_afresh(
        queries: list[tuple[int, ...]], pool_states: list[dict[int, tuple[int, ...]]]) -> None:
    registrations = [record(Role.PRM, f"p{index}", words)
                     for index, words in enumerate(queries)]
    held = MatchMemo()
    kept: dict[str, MappedRecord] = {}  # an unchanged opportunity stays the same object
    for state in pool_states:
        pool = []
        for number, words in sorted(state.items()):
            fresh = record(Role.CRM, f"c{number}", words)
            if kept.get(fresh.record_id or "") != fresh:
                kept[fresh.record_id or ""] = fresh
            pool.append(kept[fresh.record_id or ""])
        norm = Normaliser(MATCHING.normalise)
        afresh = find_candidates(MATCHING, norm, registrations, pool, None, False)
        assert find_candidates(MATCHING, norm, registrations, pool, held, True) == afresh
