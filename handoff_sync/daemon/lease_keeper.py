"""Keep a pipeline's lease alive while its cycle runs, whatever the cycle is doing.

The cycle renews its lease between pages and batches (its heartbeat), but planning a
large org is one long pure computation with no such points. A lease that lapses there
would let another replica start the same pipeline. This thread renews the lease every
third of its lifetime for as long as the cycle runs; when the process dies the thread dies
with it, and the lease expires as it should.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import structlog

log = structlog.get_logger("handoff_sync.lease")


@contextmanager
def lease_kept(renew: Callable[[], bool], every_seconds: float) -> Iterator[None]:
    """Call ``renew`` every ``every_seconds`` until the block ends.

    A failed renewal is only logged: the cycle's own heartbeat and the lease check in the
    store's final transaction are what stop a replica that lost its lease."""
    stop = threading.Event()

    def keep() -> None:
        while not stop.wait(every_seconds):
            try:
                if not renew():
                    log.warning("lease_renewal_refused")
            except Exception as exc:  # a database hiccup: the next tick tries again
                log.warning("lease_renewal_failed", error=type(exc).__name__)

    thread = threading.Thread(target=keep, name="lease-keeper", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
