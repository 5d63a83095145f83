"""The cyclic garbage collector paused while a cycle plans and records.

Planning builds a few objects per field of every deal and frees almost none of them in
cycles, so each of the collector's full passes scans the whole (growing) plan and the
cycle's input for nothing: 1.5 s at 10,000 deals, 14.8 s at 100,000 (issue #20), more
than linearly. Reference counting still frees everything that is not in a cycle.

The collector is process-wide and pipelines may plan in threads, so the pause counts its
holders: the first to enter switches it off (when it was on), the last to leave switches
it back on, also when the body raised.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the body with the cyclic garbage collector off (see the module docstring)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()


def paused(call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``call(*args, **kwargs)`` with the collector paused."""
    with collector_paused():
        return call(*args, **kwargs)
