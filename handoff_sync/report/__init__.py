"""Handoff reports from the store: volume, the key figures by group, completeness, SLA,
acceptance, preservation, handoff quality, reviews and a partner scorecard, each figure
with its definition, n and target, as a terminal table, CSV, JSON or one self-contained
HTML file.

``source`` reads the store into plain rows, ``figures`` computes (pure), ``render_*``
format. ``write_report`` is the entry point for other commands (the demo).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from handoff_sync.report.figures import DIMENSIONS, SECTIONS, Report, compute
from handoff_sync.report.selection import FILTERS, Selection
from handoff_sync.report.source import ReportError, read_report_data

FORMATS = ("table", "csv", "json", "html")

__all__ = ["DIMENSIONS", "FILTERS", "FORMATS", "SECTIONS", "Report", "ReportError",
           "Selection", "build_report", "render", "save_report", "write_report"]


def pick_pipeline(config: Any, name: str | None) -> Any:
    """The named pipeline, else the only (or first enabled) one."""
    pipelines = list(config.pipelines)
    if name is not None:
        for pipeline in pipelines:
            if pipeline.name == name:
                return pipeline
        known = ", ".join(p.name for p in pipelines)
        raise ReportError(f"{config.path}: no pipeline named {name!r} (known: {known})")
    enabled = [p for p in pipelines if p.enabled] or pipelines
    return enabled[0]


def build_report(store: Any, config: Any, *, now: datetime, since: datetime | None = None,
                 until: datetime | None = None, by: str = "partner",
                 pipeline: str | None = None, selection: Selection | None = None) -> Report:
    from handoff_sync.mapping.loader import load_mappings

    chosen = pick_pipeline(config, pipeline)
    data = read_report_data(store, chosen.name, load_mappings(Path(chosen.mappings)))
    return compute(data, now=now, since=since, until=until, by=by, selection=selection)


def render(report: Report, fmt: str) -> str:
    """The report as text in one of FORMATS."""
    if fmt == "table":
        import io

        from handoff_sync.report.render_table import render_table

        out = io.StringIO()
        render_table(report, out)
        return out.getvalue()
    if fmt == "csv":
        from handoff_sync.report.render_csv import render_csv

        return render_csv(report)
    if fmt == "json":
        from handoff_sync.report.render_json import render_json

        return render_json(report)
    if fmt == "html":
        from handoff_sync.report.render_html import render_html

        return render_html(report)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def write_report(store: Any, config: Any, out: Path, *, fmt: str = "html",
                 since: datetime | None = None, by: str = "partner", now: datetime,
                 pipeline: str | None = None) -> Path:
    """Compute the report of ``pipeline`` (default: the first enabled one) and write it to
    ``out`` in ``fmt``; the path written. ReportError when the store has nothing yet."""
    report = build_report(store, config, now=now, since=since, by=by, pipeline=pipeline)
    return save_report(report, out, fmt=fmt)


def save_report(report: Report, out: Path, *, fmt: str = "html") -> Path:
    """``report`` written to ``out`` in ``fmt``; the path written."""
    text = render(report, fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out


def print_report(report: Report, fmt: str) -> None:
    """The report on stdout (the table keeps colour when stdout is a terminal)."""
    if fmt == "table":
        from handoff_sync.report.render_table import render_table

        render_table(report, sys.stdout)
    else:
        sys.stdout.write(render(report, fmt))
