"""Leases: one replica per pipeline, taken over when its holder stops renewing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from handoff_sync.store import Store, StoreError

T0 = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
TTL = timedelta(seconds=60)


def test_a_lease_is_held_renewed_taken_over_when_expired_and_released(store: Store) -> None:
    name = "pipeline:partners"
    assert store.lease(name) is None
    assert store.try_lease(name, "a", TTL, T0)
    assert store.lease(name) == ("a", T0 + TTL)
    assert not store.try_lease(name, "b", TTL, T0 + timedelta(seconds=30))
    assert store.try_lease(name, "a", TTL, T0 + timedelta(seconds=30))  # renewed
    assert store.lease(name) == ("a", T0 + timedelta(seconds=90))
    assert not store.try_lease(name, "b", TTL, T0 + timedelta(seconds=89))
    # "a" stopped renewing: at expiry "b" takes over, and "a" cannot take it back.
    assert store.try_lease(name, "b", TTL, T0 + timedelta(seconds=90))
    assert not store.try_lease(name, "a", TTL, T0 + timedelta(seconds=100))
    store.release_lease(name, "a")  # not the holder: nothing happens
    assert store.lease(name) == ("b", T0 + timedelta(seconds=150))
    store.release_lease(name, "b")
    assert store.lease(name) is None
    assert store.try_lease(name, "a", TTL, T0 + timedelta(seconds=101))
    with pytest.raises(StoreError, match="positive time to live"):
        store.try_lease(name, "a", timedelta(0), T0)


def test_two_replicas_racing_for_a_lease_exactly_one_wins(store_url: str) -> None:
    replicas = [Store.connect(store_url) for _ in range(2)]
    try:
        replicas[0].migrate()
        for round_ in range(12):
            name = f"race-{round_}"
            if round_ % 2:  # half the rounds race for a dead replica's expired lease
                assert replicas[0].try_lease(name, "dead", TTL, T0 - 2 * TTL)
            barrier = threading.Barrier(2)
            won: dict[str, bool] = {}

            def race(store: Store, holder: str, name: str = name,
                     barrier: threading.Barrier = barrier,
                     won: dict[str, bool] = won) -> None:
                barrier.wait()
                won[holder] = store.try_lease(name, holder, TTL, T0)

            threads = [threading.Thread(target=race, args=(store, f"replica-{n}"))
                       for n, store in enumerate(replicas)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
            assert sorted(won.values()) == [False, True], won
            [winner] = [holder for holder, ok in won.items() if ok]
            assert replicas[1].lease(name) == (winner, T0 + TTL)
    finally:
        for replica in replicas:
            replica.close()
