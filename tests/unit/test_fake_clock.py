"""The kit's FakeClock: one instant read as monotonic seconds, epoch seconds and a datetime,
moved by sleeps (recorded) and by hand, all three together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff_sync.testing import FakeClock
from handoff_sync.testing.clock import START


def test_the_three_readings_move_together() -> None:
    fake = FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    monotonic, epoch, moment = fake.clock(), fake.time(), fake()

    fake.sleep(90)
    fake.advance(30)
    fake.now += 0.5

    assert fake.clock() - monotonic == fake.time() - epoch == fake.elapsed == 120.5
    assert fake() - moment == timedelta(seconds=120.5)
    assert epoch == datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp()


def test_only_sleeps_are_recorded() -> None:
    fake = FakeClock()
    fake.sleep(2)
    fake.advance(60)
    fake.sleep(0.25)
    assert fake.sleeps == [2, 0.25]
    assert fake() == START + timedelta(seconds=62.25)


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        FakeClock(datetime(2026, 1, 5, 9, 0))
