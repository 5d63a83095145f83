"""Bulk API 2.0 query jobs (crm-api-reference.md 2.6), as simple-salesforce's bulk2 drives them.

A job runs its query when it is created and keeps the matched rows (stored records are
never mutated, so that is a snapshot); ``GET`` on the job then reports ``JobComplete`` at
once, and ``/results`` pages through the rows as CSV with an opaque locator.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handoff_sync.sandbox.salesforce.ids import salesforce_id
from handoff_sync.sandbox.salesforce.store import Record
from handoff_sync.sandbox.salesforce.values import format_datetime, to_json

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^",
              "BACKQUOTE": "`"}
LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}
OPERATIONS = ("query", "queryAll")


class LocatorError(ValueError):
    """A results locator this job never handed out."""


@dataclass
class QueryJob:
    id: str
    operation: str
    object_name: str
    column_delimiter: str
    line_ending: str
    api_version: str
    created_by: str
    created: datetime
    fields: tuple[str, ...]
    rows: list[Record] = field(repr=False)
    state: str = "UploadComplete"

    def info(self) -> dict[str, Any]:
        """The job document create and state changes return."""
        return {
            "id": self.id,
            "operation": self.operation,
            "object": self.object_name,
            "createdById": self.created_by,
            "createdDate": format_datetime(self.created),
            "systemModstamp": format_datetime(self.created),
            "state": self.state,
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(self.api_version),
            "lineEnding": self.line_ending,
            "columnDelimiter": self.column_delimiter,
        }

    def status(self) -> dict[str, Any]:
        """GET on the job: the query ran at creation, so it is complete when first asked."""
        if self.state == "UploadComplete":
            self.state = "JobComplete"
        return {
            **self.info(),
            "jobType": "V2Query",
            "numberRecordsProcessed": len(self.rows),
            "retries": 0,
            "totalProcessingTime": 0,
            "isPkChunkingSupported": True,
        }

    def results(self, locator: str | None, max_records: int | None) -> tuple[str, int, str]:
        """(CSV page, rows in it, next locator or the literal ``null`` at the end)."""
        start = _offset(locator) if locator else 0
        if start > len(self.rows):
            raise LocatorError(locator)
        stop = len(self.rows) if max_records is None else min(start + max_records, len(self.rows))
        page = self.rows[start:stop]
        following = _locator(stop) if stop < len(self.rows) else "null"
        return self._csv(page), len(page), following

    def _csv(self, rows: list[Record]) -> str:
        out = io.StringIO()
        writer = csv.writer(out, delimiter=DELIMITERS[self.column_delimiter],
                            lineterminator=LINE_ENDINGS[self.line_ending],
                            quoting=csv.QUOTE_ALL)
        writer.writerow(self.fields)
        names = self.fields
        writer.writerows([_csv_value(row.get(name)) for name in names] for row in rows)
        return out.getvalue()


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(to_json(value))


def _locator(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).decode().rstrip("=")


def _offset(locator: str) -> int:
    try:
        text = base64.urlsafe_b64decode(locator + "=" * (-len(locator) % 4)).decode()
        return int(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise LocatorError(locator) from None


class BulkQueryJobs:
    """Every query job of the org, by id."""

    def __init__(self) -> None:
        self._jobs: dict[str, QueryJob] = {}
        self._counter = 0
        self.created_total = 0

    def create(self, **spec: Any) -> QueryJob:
        """A new job from QueryJob's fields except ``id`` and ``state``."""
        self._counter += 1
        self.created_total += 1
        job = QueryJob(id=salesforce_id("750", self._counter), **spec)
        self._jobs[job.id] = job
        return job

    def get(self, job_id: str) -> QueryJob | None:
        return self._jobs.get(job_id)

    def delete(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)

    def clear(self) -> None:
        self._jobs.clear()
        self.created_total = 0
