"""Pieces every HTML report section is built from: the page's CSS, tables, KPI tiles,
legends and count charts. Everything CRM-supplied passes ``html.escape``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from handoff_sync.report import svg
from handoff_sync.report.figures import Count
from handoff_sync.report.svg import PALETTE

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
  background:#f7fafc;color:#1a202c}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}
.sub{color:#4a5568;margin:0 0 20px}
section{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:16px 20px;
  margin:0 0 18px}
h2{font-size:19px;margin:0 0 12px}
h3{font-size:14px;margin:14px 0 6px;color:#4a5568}
table{border-collapse:collapse;font-size:13px;margin:4px 0 10px}
th,td{padding:4px 10px;border-bottom:1px solid #edf2f7;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#edf2f7}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 10px}
.kpi{border:1px solid #e2e8f0;border-radius:6px;padding:8px 12px;min-width:150px}
.kpi b{display:block;font-size:22px}
.kpi span{font-size:12px;color:#4a5568}
.ok{color:#2f855a}.bad{color:#c53030}.alert{color:#c53030;font-weight:600}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;
  vertical-align:middle}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
svg{max-width:100%;height:auto}
footer{font-size:12px;color:#4a5568}
h4{font-size:13px;margin:12px 0 4px}
dl.defs{font-size:12px;display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}
dl.defs dt{font-weight:600}dl.defs dd{margin:0;color:#4a5568}
.textual th,.textual td{text-align:left}
.note{font-size:12px;color:#4a5568;margin:4px 0 8px}
.leak{margin:4px 0;font-size:15px}
"""


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    lines = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>"
                    for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"


def kpi(value: str, label: str, mark: str = "") -> str:
    cls = {"ok": ' class="ok"', "below target": ' class="bad"',
           "above target": ' class="bad"'}.get(mark, "")
    extra = f" ({escape(mark)})" if mark else ""
    return f'<div class="kpi"><b{cls}>{escape(value)}</b><span>{escape(label)}{extra}</span></div>'


def legend(*names: tuple[str, str]) -> str:
    return '<p class="legend">' + "".join(
        f'<span style="background:{PALETTE[key]}"></span>{escape(label)}'
        for key, label in names) + "</p>"


def counts_chart(title: str, counts: Sequence[Count], colour: str) -> str:
    if not counts:
        return "<p>none</p>"
    return svg.hbars(title, [(c.label, [(c.count, colour)], str(c.count)) for c in counts],
                     label_width=340)
