"""SIGTERM/SIGINT as a stop request, for the daemon (`run`) and `sync --once` alike.

The first signal only sets a flag that the cycle in hand polls (between batches, and
in a budget wait once a second); a second exits at once with code 130, for an operator
who will not wait for the batch. Handlers are installed only from the main thread (the
only one Python lets set them; an embedder calls its own stop instead) and restored
on exit.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType
from typing import Any

EXIT_INTERRUPTED = 130
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """A context manager: inside it, SIGTERM/SIGINT ask to stop; ``requested()`` says so.

    ``command`` names the program in the second signal's line (``handoff-sync run``)."""

    def __init__(self, command: str) -> None:
        self.count = 0  # signals received
        self.name = ""  # the first one's name, e.g. SIGTERM
        self._second = f"{command}: second signal, exiting without waiting\n".encode()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.signal(sig, self._on_signal) for sig in SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def requested(self) -> bool:
        return self.count > 0

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Only plain assignments and a raw write: the main thread may hold a lock (a log
        # write, an Event) when the handler runs, and taking it again would deadlock.
        self.count += 1
        if self.count > 1:
            os.write(2, self._second)
            os._exit(EXIT_INTERRUPTED)
        self.name = signal.Signals(signum).name


__all__ = ["EXIT_INTERRUPTED", "StopSignals"]
