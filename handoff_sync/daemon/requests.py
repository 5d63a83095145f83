"""The daemon's side of "sync now": claim a pipeline's pending requests for the cycle
about to run, and record its outcome on them (or give them back when it could not run).

Claiming happens under the pipeline's lock and lease (``scheduler.Daemon``), which is why
this replica's own running requests of that pipeline found there are leftovers: a cycle of
it claimed them, then could not record the outcome (``close_abandoned_sync_requests``).
A store failure only delays requests: the cycle runs, and a later one serves them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import structlog

from handoff_sync.store.types import RunOutcome, StoreError

log = structlog.get_logger(__name__)


class RequestStore(Protocol):
    def pending_sync_pipelines(self) -> list[str]: ...

    def claim_sync_requests(self, pipeline: str, *, holder: str, token: str,
                            now: datetime) -> list[dict[str, Any]]: ...

    def finish_sync_requests(self, token: str, *, now: datetime, outcome: str,
                             run_id: str | None, message: str | None) -> None: ...

    def close_abandoned_sync_requests(self, now: datetime, *, pipeline: str | None = None,
                                      holder: str | None = None) -> int: ...

    def unclaim_sync_requests(self, token: str) -> None: ...


@dataclass(frozen=True)
class Claim:
    """The sync requests one cycle serves: the claim's token, and whether any asked for
    a full reconcile."""

    token: str
    full: bool


@dataclass(frozen=True)
class Requests:
    store: RequestStore
    holder: str
    clock: Callable[[], datetime]

    def claim(self, name: str, *, pending_known: bool) -> Claim | None:
        """Claim the pipeline's pending requests; None when there are none."""
        try:
            self.store.close_abandoned_sync_requests(self.clock(), pipeline=name,
                                                     holder=self.holder)
            if not pending_known and name not in self.store.pending_sync_pipelines():
                return None
            token = uuid.uuid4().hex
            claimed = self.store.claim_sync_requests(name, holder=self.holder, token=token,
                                                     now=self.clock())
        except StoreError as exc:
            log.warning("sync_requests_not_claimed", error=type(exc).__name__)
            return None
        if not claimed:
            return None
        log.info("sync_requested", requests=[row["id"] for row in claimed],
                 by=sorted({str(row["requested_by"]) for row in claimed}))
        return Claim(token, any(bool(row["full"]) for row in claimed))

    def finish(self, claim: Claim | None, outcome: RunOutcome, run_id: str | None,
               message: str | None) -> None:
        if claim is None:
            return
        try:
            self.store.finish_sync_requests(claim.token, now=self.clock(),
                                            outcome=RunOutcome(outcome).value,
                                            run_id=run_id, message=message)
        except StoreError as exc:
            log.warning("sync_requests_not_finished", error=type(exc).__name__)

    def give_back(self, claim: Claim | None) -> None:
        """Make the claim's requests pending again (its cycle did not run to the end)."""
        if claim is None:
            return
        try:
            self.store.unclaim_sync_requests(claim.token)
        except StoreError as exc:
            log.warning("sync_requests_not_returned", error=type(exc).__name__)
