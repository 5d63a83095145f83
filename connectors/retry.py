"""The one retry policy: exponential backoff with jitter on transient failures, bounded.

Connectors translate vendor exceptions into ``connectors.errors`` first (their own
error tables), then call through ``call_with_retry``. Only ``TransientError`` is retried;
a server's ``retry_after`` hint replaces the computed backoff when it is longer. When the
next wait would pass ``give_up_after`` seconds since the first attempt, the last error is
re-raised as ``RetriesExhausted``, chained to it, keeping its endpoint and cause.

A call that could not connect at all (``CannotConnect``: the host name does not resolve,
nothing listens, the connect timed out) is retried only with ``retry_connect``: the daemon
rides out a server restarting, while a one-shot command reports at once (seconds, not
two minutes of backoff) so the person who ran it can fix the URL or start the server.
Whether anyone tries again later is the caller's to say, not the connector's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from connectors.errors import CannotConnect, ConnectorError, RetriesExhausted, TransientError

T = TypeVar("T")
log = structlog.get_logger("connectors.retry")


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """How hard a connector tries before it gives up on a call."""

    max_attempts: int = 8
    """Attempts per call, the first included."""
    initial_wait: float = 0.5
    """Base of the exponential backoff, in seconds."""
    max_wait: float = 30.0
    """Longest single wait, in seconds (a longer Retry-After is honoured up to give_up_after)."""
    give_up_after: float = 120.0
    """Total seconds after the first attempt beyond which no retry is started."""
    retry_connect: bool = True
    """Retry a call that could not connect (``CannotConnect``); False raises it at once
    (one-shot commands: the person running them is waiting)."""


class _Wait:
    """Random exponential backoff, or the server's Retry-After when that is longer."""

    def __init__(self, settings: RetrySettings) -> None:
        self._backoff = wait_random_exponential(multiplier=settings.initial_wait,
                                                max=settings.max_wait)

    def __call__(self, state: RetryCallState) -> float:
        wait = float(self._backoff(state))
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, TransientError) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return wait


def call_with_retry(call: Callable[[], T], *, settings: RetrySettings, what: str,
                    sleep: Callable[[float], None] = time.sleep,
                    clock: Callable[[], float] = time.monotonic) -> T:
    """``call()``, retried on ``TransientError`` under ``settings``; ``what`` names the
    call in logs and in the give-up message ("salesforce query Opportunity")."""
    started = clock()
    wait = _Wait(settings)

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        if clock() - started + delay > settings.give_up_after:
            raise _exhausted(f"{what} still failing after {clock() - started:.0f} s and "
                             f"{state.attempt_number} attempts", error) from error
        log.warning("retrying", call=what, attempt=state.attempt_number,
                    wait_s=round(delay, 2), error=str(error))

    def worth_retrying(error: BaseException) -> bool:
        return isinstance(error, TransientError) and (
            settings.retry_connect or not isinstance(error, CannotConnect))

    retrying = Retrying(
        retry=retry_if_exception(worth_retrying),
        stop=stop_after_attempt(settings.max_attempts),
        wait=wait,
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(call)
    except TransientError as exc:
        if not worth_retrying(exc):
            raise  # not retried at all: the error itself says what failed
        raise _exhausted(f"{what} failed {settings.max_attempts} times", exc) from exc


def _exhausted(summary: str, error: BaseException | None) -> RetriesExhausted:
    """Giving up after ``error``: its words (without its system prefix), endpoint and
    cause, so the caller can say what to check as it would for the error itself."""
    if not isinstance(error, ConnectorError):
        return RetriesExhausted(f"{summary}: {error}")
    return RetriesExhausted(f"{summary}: {error.message}", system=error.system,
                            status=error.status, code=error.code, endpoint=error.endpoint,
                            cause=error.cause)
