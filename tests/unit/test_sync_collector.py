"""The garbage collector pause around planning and recording (sync.collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from handoff_sync.sync.collector import collector_paused, paused


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_inside_and_back_on_after_even_when_the_body_raises():
    gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("planning failed")
    assert gc.isenabled()


def test_nested_pauses_switch_it_back_on_only_when_the_last_one_leaves():
    gc.enable()
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off():
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_paused_calls_with_the_collector_off_and_returns_its_result():
    gc.enable()
    assert paused(lambda a, *, b: (a, b, gc.isenabled()), 1, b=2) == (1, 2, False)
    assert gc.isenabled()
