"""The report as one JSON document (sections in SECTIONS order, stable keys)."""

from __future__ import annotations

import json

from handoff_sync.report.figures import Report
from handoff_sync.report.serialise import report_data


def render_json(report: Report) -> str:
    return json.dumps(report_data(report), indent=2) + "\n"
