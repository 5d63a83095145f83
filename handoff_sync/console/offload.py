"""The console's blocking work, off the event loop that also answers /healthz and /readyz.

With ``console.enabled`` the daemon serves the console on its own uvicorn server: one
event loop answers the probes and the pages. A page that reads files, validates mappings,
queries the store or renders on that loop stalls every probe behind it (a Kubernetes
probe with a 1 s timeout would restart the daemon mid-cycle). So every page's work runs
in the console's own worker threads (``off_loop``, ``posted``, ``run``): a crowd of page
loads queues there, never in Starlette's default thread pool, which /readyz uses.

What-if runs take seconds of CPU each: ``EXPENSIVE`` lets a few run at a time; a request
that waits longer than its ``wait`` gets "busy, try again" (429, with Retry-After)
instead of hanging. (Reports, which take longer still, are background jobs: jobs.py.)
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

T = TypeVar("T")
Endpoint = Callable[[Request], Awaitable[Response]]

WORKERS = 4  # few: CPU-bound threads share the GIL with the loop (more would slow probes)
_POOL = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="console")
POLL_SECONDS = 0.05
BUSY = ("The console is busy with other reports and what-ifs right now: try again in a "
        "few seconds.")


async def run(work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` in a console worker thread (with this request's context vars)."""
    future = _POOL.submit(contextvars.copy_context().run, work, *args)
    return await asyncio.wrap_future(future)


def off_loop(handler: Callable[[Request], Response]) -> Endpoint:
    """An endpoint running the plain ``handler`` in a console worker thread."""

    async def endpoint(request: Request) -> Response:
        return await run(handler, request)

    return endpoint


def posted(handler: Callable[[Request, FormData], Response], *,
           gate: Gate | None = None,
           busy: Callable[[Request, FormData, Busy], Response] | None = None) -> Endpoint:
    """An endpoint reading the form on the loop (it awaits the body), then running
    ``handler(request, form)`` in a console worker thread; with ``gate``, once one of its
    slots is free (the waiting is done on the loop, holding no thread), and answering
    ``busy(request, form, exc)`` (or the Busy error page) when none comes free."""

    async def endpoint(request: Request) -> Response:
        try:
            form = await request.form()
        except HTTPException as exc:  # Starlette's own limits, e.g. a field over 1 MB
            raise HTTPException(exc.status_code, f"The form was refused: {exc.detail} A "
                                "mappings file is a few KB: paste the file alone.") from None
        if gate is None:
            return await run(handler, request, form)
        try:
            return await gate.run(handler, request, form)
        except Busy as exc:
            if busy is None:
                raise
            return busy(request, form, exc)

    return endpoint


class Busy(HTTPException):
    """No slot for expensive work came free in time."""

    def __init__(self, retry_after: int = 5) -> None:
        super().__init__(429, BUSY, headers={"Retry-After": str(retry_after)})


class Gate:
    """At most ``slots`` runs at a time, process-wide (a threading semaphore: the live
    server and each test client have their own event loops). Waiters poll from the loop
    rather than block a thread, so they cannot fill the worker pool."""

    def __init__(self, slots: int, *, wait: float) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self.wait = wait

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` in a worker thread once a slot is free; Busy after ``wait``."""
        deadline = time.monotonic() + self.wait
        while not self._slots.acquire(blocking=False):
            if time.monotonic() >= deadline:
                raise Busy()
            await asyncio.sleep(POLL_SECONDS)
        try:
            future = _POOL.submit(contextvars.copy_context().run, work, *args)
        except BaseException:
            self._slots.release()
            raise
        # Freed when the work ends (or is cancelled before it starts), not when this
        # request stops waiting: a client that hangs up does not free a busy slot.
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def _release(self, _future: Future[Any]) -> None:
        self._slots.release()


EXPENSIVE = Gate(2, wait=20.0)
