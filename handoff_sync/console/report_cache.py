"""The reports page's memory: each pipeline's report rows, read once per version.

Reading the rows is most of a report's cost (the whole pipeline state and mirror, mapped
again: about 15 s at 100,000 deals), while they change only when a cycle is recorded, a
review item is decided or a mapping is saved. So the rows are kept per pipeline with
their version (``Store.state_version`` plus the mappings files' stamps); the page reads
them again, in a background job (pages/reports.py), only when the version moves. A
filter, a period or a grouping then costs computing the figures alone, and the funnels
(which do not depend on ``now``) come from the rows' memo after the first report.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from handoff_sync.mapping.loader import load_mappings
from handoff_sync.report import Report, Selection
from handoff_sync.report.facts import ReportData
from handoff_sync.report.figures import compute
from handoff_sync.report.funnel import FunnelMemo
from handoff_sync.report.selection import options
from handoff_sync.report.source import read_report_data

VERSIONS_KEPT = 2  # per pipeline: the one in use, and a newer one read beside it


@dataclass(frozen=True)
class Rows:
    """One pipeline's report rows as read at ``version``, with the filter choices."""

    version: tuple[Any, ...]
    data: ReportData
    options: dict[str, tuple[str, ...]]  # report.selection.options of ``data``
    memo: FunnelMemo = field(default_factory=FunnelMemo, compare=False)


class ReportCache:
    """Shared by the page's requests and jobs (thread-safe). The lock guards the
    dictionaries only, never a read: the jobs (one per version) keep two visitors from
    reading the same rows twice."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._rows: dict[str, list[Rows]] = {}  # pipeline -> newest read last

    def version(self, pipeline: str, mappings: Path) -> tuple[Any, ...]:
        """What the rows of ``pipeline`` depend on, as it stands (three small queries)."""
        return (*self._store.state_version(pipeline), *_stamps(mappings))

    def kept(self, pipeline: str, version: tuple[Any, ...] | None = None) -> Rows | None:
        """The rows read at ``version`` if kept; without one, the last rows read."""
        with self._lock:
            found = self._rows.get(pipeline, [])
            if version is None:
                return found[-1] if found else None
            return next((rows for rows in found if rows.version == version), None)

    def read(self, pipeline: str, mappings: Path, version: tuple[Any, ...]) -> Rows:
        """The rows of ``pipeline`` read now (labelled ``version``, taken just before);
        ReportError when no cycle has recorded anything yet."""
        data = read_report_data(self._store, pipeline, load_mappings(mappings))
        rows = Rows(version, data, options(data))
        with self._lock:
            kept = [r for r in self._rows.get(pipeline, []) if r.version != version]
            self._rows[pipeline] = [*kept, rows][-VERSIONS_KEPT:]
        return rows

    def report(self, rows: Rows, *, now: datetime, since: datetime | None, by: str,
               selection: Selection, until: datetime | None = None) -> Report:
        """The report of ``rows``; ``now`` to the minute, as the page shows it."""
        return compute(rows.data, now=now.replace(second=0, microsecond=0), since=since,
                       until=until, by=by, selection=selection, memo=rows.memo)


def _stamps(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Each mappings file's name, modification time and size: a saved edit moves them."""
    try:
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError:
        return ()
