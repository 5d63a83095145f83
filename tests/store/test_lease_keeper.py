"""A cycle longer than its lease keeps the lease: no other replica can start the pipeline."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from handoff_sync.daemon.lease_keeper import lease_kept
from handoff_sync.store import Store

TTL = timedelta(seconds=1.2)


def now() -> datetime:
    return datetime.now(UTC)


def test_a_long_cycle_keeps_its_lease_and_lets_it_lapse_afterwards(store: Store) -> None:
    assert store.try_lease("pipeline:p", "replica-a", TTL, now())
    with lease_kept(lambda: store.try_lease("pipeline:p", "replica-a", TTL, now()),
                    TTL.total_seconds() / 3):
        deadline = time.monotonic() + 3 * TTL.total_seconds()
        while time.monotonic() < deadline:  # planning: no heartbeat from the cycle itself
            assert not store.try_lease("pipeline:p", "replica-b", TTL, now())
            time.sleep(0.1)
    time.sleep(TTL.total_seconds() + 0.2)
    assert store.try_lease("pipeline:p", "replica-b", TTL, now())  # a dead holder's lapses


def test_without_the_keeper_the_lease_lapses_mid_cycle(store: Store) -> None:
    assert store.try_lease("pipeline:p", "replica-a", TTL, now())
    time.sleep(TTL.total_seconds() + 0.2)
    assert store.try_lease("pipeline:p", "replica-b", TTL, now())
