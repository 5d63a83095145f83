"""The report as long-format CSV: section, group, metric, value (one figure a row)."""

from __future__ import annotations

import csv
import io

from handoff_sync.report.figures import Report
from handoff_sync.report.serialise import CSV_HEADER, csv_rows


def render_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for section, group, metric, value in csv_rows(report):
        writer.writerow((section, group, metric, "" if value is None else value))
    return out.getvalue()
