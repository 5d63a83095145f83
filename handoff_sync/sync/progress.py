"""How far a cycle has come: its phases as events, for a terminal, the logs and the metrics.

A cycle runs describe, pull (one step per side), plan, write and record. Each step
reports ``ProgressEvent``s to a ``Progress`` callback: one when it starts (done 0), one
as its count moves (after each page read, each batch sent) and one when it ends. ``done``
is cumulative, so a listener that drops events (a display drawing ten times a second)
loses nothing. ``total`` is given where the cycle knows it before the step ends: the
writes and tasks a plan holds, and a pull's records where the system said how many its
query matches (the connectors' ``Page.total``: HubSpot's search total, Salesforce's
totalSize or bulk job count). A pull's total is an estimate (records change while it
runs, deletions come on top), so it never falls below ``done`` (``estimated_total``):
no display shows more than 100% or a negative ETA. Without one, a pull has no ETA.

Nothing here draws or logs: the CLI turns events into a rich display, the daemon into
``cycle_progress`` log lines and gauges. ``PhaseMeter`` is the arithmetic both may share:
rate and ETA from a step's events and the readings of a clock the caller owns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    DESCRIBE = "describe"  # object schemas, when the schema may have moved
    PULL = "pull"  # records changed since the checkpoint, per side
    PLAN = "plan"  # the engine's plan over every (or every changed) deal
    WRITE = "write"  # creations, field writes and task upserts, in batches
    RECORD = "record"  # the one transaction that stores what the cycle did


PHASES = tuple(Phase)


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """Where one step of a cycle stands: ``done`` so far (records, deals, writes) of
    ``total`` when known."""

    phase: Phase
    done: int = 0
    total: int | None = None
    side: str | None = None  # pull: "prm" or "crm"
    ended: bool = False

    @property
    def step(self) -> str:
        """The step's name: the phase, with its side for a pull (``pull_prm``)."""
        return f"{self.phase.value}_{self.side}" if self.side else self.phase.value


Progress = Callable[[ProgressEvent], None]


def no_progress(event: ProgressEvent) -> None:
    """The default listener: nobody is watching."""


STEPS = ("describe", "pull_prm", "pull_crm", "plan", "write", "record")


def estimated_total(done: int, estimate: int | None) -> int | None:
    """An estimated total as an event may carry it: never below what is ``done`` (records
    that arrived after the estimate was made), so the step shows at most 100% and no
    negative time left; None when there is no estimate."""
    if estimate is None:
        return None
    return max(estimate, done, 0)


@dataclass
class PhaseMeter:
    """One step's rate and ETA, from its events and the readings (seconds, any origin:
    ``time.monotonic``) of a clock the caller owns."""

    started: float
    done: int = 0
    total: int | None = None
    at: float | None = None  # the reading of the latest update

    def update(self, event: ProgressEvent, now: float) -> None:
        self.done = max(0, event.done)
        if event.total is not None:
            self.total = estimated_total(self.done, event.total)
        elif self.total is not None:  # a total kept from an earlier event, overtaken
            self.total = estimated_total(self.done, self.total)
        self.at = now

    @property
    def elapsed(self) -> float:
        return max(0.0, (self.at if self.at is not None else self.started) - self.started)

    @property
    def rate(self) -> float | None:
        """Items per second so far; None before any time has passed."""
        elapsed = self.elapsed
        return self.done / elapsed if elapsed > 0 else None

    @property
    def eta(self) -> float | None:
        """Seconds left at the rate so far: None without a total or a rate yet, 0 once
        ``done`` reached ``total``."""
        if self.total is None:
            return None
        left = self.total - self.done
        if left <= 0:
            return 0.0
        rate = self.rate
        if not rate:
            return None
        return left / rate
