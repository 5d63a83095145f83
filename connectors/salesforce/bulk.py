"""The tail of a big pull through one Bulk API 2.0 query job: create it, wait for it, read
its CSV results page by page.

A pull switches here once its first REST page says more records match than the bulk
threshold (``SalesforceConnector.pull``). Each step is its own retried call through the
connector (``Calls``), so a transient failure repeats that step, not the job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any, Protocol, TypeVar

from simple_salesforce import Salesforce
from simple_salesforce.bulk2 import Operation

from connectors.base import Cursor, ObjectSchema, Page
from connectors.errors import RetriesExhausted, TransientError
from connectors.salesforce.errors import SYSTEM
from connectors.salesforce.records import csv_changes

T = TypeVar("T")


class Calls(Protocol):
    """The connector's retried call: ``fn(client)``, counted as ``kind``."""

    def __call__(self, kind: str, subject: str, fn: Callable[[Salesforce], T], *,
                 idempotent: bool = True) -> T: ...


class BulkQuery:
    """Bulk API 2.0 query jobs, polled and paged as the settings say."""

    def __init__(self, call: Calls, *, page_size: int, poll_seconds: float,
                 timeout_seconds: float, sleep: Callable[[float], None]) -> None:
        self._call = call
        self._page_size = page_size
        self._poll_seconds = poll_seconds
        self._timeout_seconds = timeout_seconds
        self._sleep = sleep

    def pages(self, obj: str, text: str, schema: ObjectSchema, select: Sequence[str], *,
              include_deleted: bool, safe: Cursor | None, handed: int = 0,
              expected: int | None = None) -> Iterator[Page]:
        """The records ``text`` (SOQL) matches, through one query job.

        Bulk results are unordered (ORDER BY disables Salesforce's chunking and risks
        timeouts), so the cursor cannot move until the last page is in: earlier pages
        carry ``safe`` (the cursor already reached), the last one the highest seen.

        Pages carry the pull's total: the ``handed`` records its REST pages held plus the
        job's numberRecordsProcessed once it is complete; ``expected`` (the REST estimate)
        if the job does not say.
        """
        operation = Operation.query_all if include_deleted else Operation.query
        job = self._call("bulk", f"bulk query {obj}",
                         lambda sf: _bulk(sf, obj).create_job(operation, text))
        job_id = str(job["id"])
        processed = self._await_job(obj, job_id).get("numberRecordsProcessed")
        total = expected
        if isinstance(processed, int) and not isinstance(processed, bool) and processed >= 0:
            total = handed + processed
        best, locator = safe, ""
        while True:
            result = self._call("bulk", f"bulk results {obj}",
                                partial(_bulk_results, obj, job_id, locator, self._page_size))
            changes = tuple(csv_changes(result["records"], schema, select))
            for change in changes:
                if change.modified_at is not None:
                    seen = Cursor(change.modified_at, change.id)
                    best = seen if best is None else max(best, seen)
            locator = result["locator"]
            if not locator:
                yield Page(changes, best, total)
                return
            yield Page(changes, safe, total)

    def _await_job(self, obj: str, job_id: str) -> dict[str, Any]:
        """The complete job's status (its record count among it)."""
        waited = 0.0
        while True:
            info = self._call("bulk", f"bulk job status {obj}",
                              lambda sf: _bulk(sf, obj).get_job(job_id, True))
            state = info.get("state")
            if state == "JobComplete":
                return info if isinstance(info, dict) else {}
            if state in ("Failed", "Aborted"):
                raise RetriesExhausted(
                    f"the Bulk API 2.0 query job {job_id} on {obj} ended {state}: "
                    f"{info.get('errorMessage') or 'no reason given'}; the next cycle tries "
                    "again", system=SYSTEM)
            if waited >= self._timeout_seconds:
                raise RetriesExhausted(
                    f"the Bulk API 2.0 query job {job_id} on {obj} was still {state} after "
                    f"{waited:.0f} s; the next cycle tries again", system=SYSTEM)
            self._sleep(self._poll_seconds)
            waited += self._poll_seconds


def _bulk(sf: Salesforce, obj: str) -> Any:
    """The Bulk API 2.0 client for ``obj``.

    Its private ``_client`` is used because the public ``query_all`` generator sleeps
    with ``time.sleep`` while polling and cannot resume a results page after a transient
    failure; the client's create/status/results steps let each be retried alone.
    Pinned by setup.cfg to simple-salesforce 1.12.x, where this is stable.
    """
    return getattr(sf.bulk2, obj)._client


def _bulk_results(obj: str, job_id: str, locator: str, max_records: int,
                  sf: Salesforce) -> Any:
    try:
        return _bulk(sf, obj).get_query_results(job_id, locator, max_records)
    except KeyError as exc:  # the client reads Sforce-NumberOfRecords without a default
        raise TransientError(
            f"the Bulk API 2.0 results for {obj} came without their Sforce-NumberOfRecords "
            "header (a proxy stripping headers?)", system=SYSTEM) from exc
