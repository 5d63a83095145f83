"""The report as long-format CSV: section, group, metric, value (one figure a row).

Every cell passes ``sanitise.csv_cell``: a partner named ``=HYPERLINK(...)`` is text in
a spreadsheet, not a formula. Figures stay numbers (a negative trend is -3.5, not
'-3.5), since a number cannot carry a formula and a quoted one would not sum."""

from __future__ import annotations

import csv
import io

from handoff_sync.report.figures import Report
from handoff_sync.report.serialise import CSV_HEADER, csv_rows
from handoff_sync.safety.sanitise import csv_cell


def render_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for section, group, metric, value in csv_rows(report):
        cells = (section, group, metric, "" if value is None else value)
        writer.writerow([csv_cell(cell) for cell in cells])
    return out.getvalue()
