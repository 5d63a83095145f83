"""What the policy page remembers of its what-ifs apart from the jobs (jobs.py): the
proof a save needs, and each admin's one what-if still waiting.

The jobs keep 32 results, shared with the reports (a job per query per minute), so a
what-if an admin is reading may be forgotten there before the Save button is pressed.
The proof of a what-if shown is kept here instead, small and bounded (``KEPT``): its job,
pipeline, the candidate handoff.yaml's digest and the mappings folder's digest when it
was previewed. It is recorded when the finished what-if is rendered to an admin, so a
job id copied from a poll URL of a result nobody saw proves nothing.

Each admin's last what-if shown per pipeline is kept too (one per admin and pipeline: a
few), so a save refused for want of "Save anyway" shows it again with the box to tick.

An admin has at most one what-if waiting per pipeline: a newer draft's preview drops the
older job if it has not started (``waiting``), so one admin cannot fill the queue.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

KEPT = 256  # proofs of what-ifs shown, the oldest forgotten first


@dataclass(frozen=True)
class Proof:
    pipeline: str
    draft: str  # digest of the candidate handoff.yaml
    folder: str  # digest of the mappings folder when it was previewed


class WhatIfProofs:
    """Thread-safe; one per console (ConsoleContext.whatif_proofs)."""

    def __init__(self, kept: int = KEPT) -> None:
        self._lock = threading.Lock()
        self._kept = kept
        self._proofs: OrderedDict[str, Proof] = OrderedDict()  # job id -> proof
        self._last: dict[tuple[str, str], tuple[str, Any]] = {}  # (user, pipeline) ->
        self._waiting: dict[tuple[str, str], tuple[str, object]] = {}  # -> (job, key)

    def shown(self, user: str, job_id: str, proof: Proof, value: Any) -> None:
        """Record that the finished what-if ``job_id`` (``value``) was shown to ``user``."""
        with self._lock:
            self._proofs[job_id] = proof
            self._proofs.move_to_end(job_id)
            while len(self._proofs) > self._kept:
                self._proofs.popitem(last=False)
            self._last[(user, proof.pipeline)] = (job_id, value)

    def proof(self, job_id: str) -> Proof | None:
        with self._lock:
            return self._proofs.get(job_id)

    def last_shown(self, user: str, pipeline: str, job_id: str) -> Any | None:
        """The what-if ``job_id`` if it is the last one shown to ``user`` for ``pipeline``."""
        with self._lock:
            found = self._last.get((user, pipeline))
        return found[1] if found is not None and found[0] == job_id else None

    def waiting(self, user: str, pipeline: str, key: object) -> str | None:
        """Forget ``user``'s waiting what-if of ``pipeline`` unless it is ``key``; its
        job id, for the caller to cancel, when no other admin waits for it too."""
        with self._lock:
            old = self._waiting.pop((user, pipeline), None)
            if old is None or old[1] == key:
                return None
            shared = any(job == old[0] for job, _key in self._waiting.values())
            return None if shared else old[0]

    def started(self, user: str, pipeline: str, job_id: str, key: object) -> None:
        """``user`` now waits for ``job_id`` (the what-if ``key``) of ``pipeline``."""
        with self._lock:
            self._waiting[(user, pipeline)] = (job_id, key)
