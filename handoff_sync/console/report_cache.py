"""The reports page's memory: a pipeline's report rows, and the last reports computed.

Reading the rows is most of a report's cost (the whole pipeline state and mirror, mapped
again), while they change only when a cycle is recorded, a review item is decided or a
mapping is saved. So the rows are kept per pipeline with their version
(``Store.state_version`` plus the mappings files' stamps) and read again only
when it moves; a filter, a period or a grouping then costs computing the figures alone,
and a report already computed this minute for the same version and query costs nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from handoff_sync.mapping.loader import load_mappings
from handoff_sync.report import Report, Selection
from handoff_sync.report.facts import ReportData
from handoff_sync.report.figures import compute
from handoff_sync.report.selection import options
from handoff_sync.report.source import read_report_data

REPORTS_KEPT = 32


@dataclass(frozen=True)
class Rows:
    """One pipeline's report rows as read at ``version``, with the filter choices."""

    version: tuple[Any, ...]
    data: ReportData
    options: dict[str, tuple[str, ...]]  # report.selection.options of ``data``


class ReportCache:
    """Shared by the page's requests (each runs in a worker thread): one lock, held while
    rows are read, so two first visits after a cycle read them once."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._rows: dict[str, Rows] = {}
        self._reports: OrderedDict[tuple[Any, ...], Report] = OrderedDict()

    def rows(self, pipeline: str, mappings: Path) -> Rows:
        """The rows of ``pipeline`` as the store and ``mappings`` hold them now;
        ReportError when no cycle has recorded anything yet."""
        with self._lock:
            version = (*self._store.state_version(pipeline), *_stamps(mappings))
            kept = self._rows.get(pipeline)
            if kept is None or kept.version != version:
                data = read_report_data(self._store, pipeline, load_mappings(mappings))
                kept = self._rows[pipeline] = Rows(version, data, options(data))
            return kept

    def report(self, rows: Rows, *, now: datetime, since: datetime | None, by: str,
               selection: Selection, until: datetime | None = None) -> Report:
        """The report of ``rows``; ``now`` to the minute, as the page shows it."""
        now = now.replace(second=0, microsecond=0)
        key = (rows.data.pipeline, rows.version, now, since, until, by, selection)
        with self._lock:
            if (found := self._reports.get(key)) is not None:
                self._reports.move_to_end(key)
                return found
        report = compute(rows.data, now=now, since=since, until=until, by=by,
                         selection=selection)
        with self._lock:
            self._reports[key] = report
            while len(self._reports) > REPORTS_KEPT:
                self._reports.popitem(last=False)
        return report


def _stamps(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Each mappings file's name, modification time and size: a saved edit moves them."""
    try:
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    except OSError:
        return ()
