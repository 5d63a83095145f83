"""The API budget guard on a fake clock: the share, batching into a shared ledger, and
waits that a stop (SIGTERM) cuts short."""

from __future__ import annotations

import pytest

from connectors.budget import DAY, STOP_POLL_SECONDS, BudgetGuard, BudgetSettings, MemoryLedger
from connectors.errors import StopRequested
from handoff_sync.testing.clock import FakeClock


class CountingLedger(MemoryLedger):
    """A shared ledger that remembers how often it was reached (a database round trip)."""

    def __init__(self, time: FakeClock) -> None:
        super().__init__(time.clock)
        self.spends: list[int] = []

    def spend(self, calls: int) -> tuple[int, float | None]:
        self.spends.append(calls)
        return super().spend(calls)


def guard(time: FakeClock, *, ledger: MemoryLedger | None = None, stop: object = None,
          **settings: object) -> BudgetGuard:
    return BudgetGuard(BudgetSettings(daily_limit=100, **settings),  # type: ignore[arg-type]
                       sleep=time.sleep, clock=time.clock, ledger=ledger,
                       stop=stop)  # type: ignore[arg-type]


def test_alone_it_spends_the_share_then_waits_for_the_oldest_call_to_age_out() -> None:
    time = FakeClock()
    alone = guard(time, slow_down_at=1.0)  # share 20% of 100: 20 calls

    for _ in range(20):
        assert alone.before_call() == 0.0
        time.now += 1.0
    assert alone.used() == 20
    waited = alone.before_call()

    assert waited == pytest.approx(DAY - 20)  # until the first call leaves the day
    assert alone.used() == 20  # 19 left in the day, and this one


def test_two_guards_on_one_ledger_share_one_budget() -> None:
    time = FakeClock()
    org = MemoryLedger(time.clock)
    first, second = guard(time, ledger=org, slow_down_at=1.0), \
        guard(time, ledger=org, slow_down_at=1.0)

    for _ in range(10):
        first.before_call()
        second.before_call()

    assert org.spend(0)[0] == 20
    assert second.before_call() == pytest.approx(DAY)  # the org's share is spent
    assert time.sleeps == [pytest.approx(DAY)]


def test_a_shared_ledger_is_told_in_batches_far_from_the_share_and_every_call_near_it(
) -> None:
    time = FakeClock()
    ledger = CountingLedger(time)
    batched = guard(time, ledger=ledger, share=1.0, slow_down_at=0.5, flush_calls=10,
                    flush_seconds=60.0)

    for _ in range(40):
        batched.before_call()
        time.now += 1.0

    assert sum(ledger.spends) == 40 - batched._pending
    # Far below the soft limit (50 calls): one round trip per 10 calls, not per call.
    assert len(ledger.spends) <= 6
    before = len(ledger.spends)
    for _ in range(5):
        batched.before_call()
        time.now += 1.0
    for _ in range(10):
        batched.before_call()  # past 50: each call asks the ledger first
    assert len(ledger.spends) - before >= 10


def test_another_replica_spending_is_seen_within_one_batch() -> None:
    time = FakeClock()
    org = MemoryLedger(time.clock)
    ours = guard(time, ledger=org, slow_down_at=1.0, flush_calls=5, flush_seconds=30.0)
    ours.before_call()
    org.spend(19)  # another replica spent the rest of the share meanwhile

    time.now += 30.0  # at most flush_seconds later, the guard asks the ledger again
    assert ours.before_call() > 0


def test_a_stop_ends_a_budget_wait_within_one_poll_without_making_the_call() -> None:
    time = FakeClock()
    stopping = {"now": False}
    waiting = guard(time, slow_down_at=1.0, stop=lambda: stopping["now"])
    for _ in range(20):
        waiting.before_call()

    def sleep(seconds: float) -> None:
        time.sleep(seconds)
        stopping["now"] = True  # SIGTERM arrives during the first poll interval

    waiting._sleep = sleep
    with pytest.raises(StopRequested, match="stopped while waiting for the API budget"):
        waiting.before_call()

    assert sum(time.sleeps) <= STOP_POLL_SECONDS
    assert waiting.used() == 20  # the call was not made, so not counted


def test_without_a_stop_the_wait_is_one_sleep_as_before() -> None:
    time = FakeClock()
    plain = guard(time, slow_down_at=1.0)
    for _ in range(21):
        plain.before_call()
    assert time.sleeps == [pytest.approx(DAY)]


def test_calls_counted_before_the_org_was_known_move_into_its_ledger() -> None:
    time = FakeClock()
    early = guard(time)
    for _ in range(3):
        early.before_call()
    org = MemoryLedger(time.clock)
    org.spend(5)

    early.share(org)

    assert early.used() == 8
    assert org.spend(0)[0] == 8
