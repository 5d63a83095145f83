"""Pieces every HTML report section is built from: the page's CSS, tables, KPI tiles,
legends and count charts. Everything CRM-supplied passes ``html.escape``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from handoff_sync.report import svg
from handoff_sync.report.figures import Count
from handoff_sync.report.svg import PALETTE

# Laid out for a laptop screen (1280-1440 px): the page uses the width up to 1400 px,
# charts scale to their column (svg.FULL / svg.HALF are drawn for 1280 px), and a chart
# sits beside its table (.cols) instead of above a half-empty row.
CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
  background:#f7fafc;color:#1a202c;font-size:14px;line-height:1.4}
main{max-width:1400px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}
.sub{color:#4a5568;margin:0 0 20px}
section{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:16px 20px;
  margin:0 0 18px}
h2{font-size:20px;margin:0 0 12px}
h3{font-size:14px;margin:14px 0 6px;color:#4a5568}
table{border-collapse:collapse;font-size:13px;margin:4px 0 10px}
.cols table,.grid table,.grid3 table,table.wide{width:100%}
th,td{padding:4px 10px;border-bottom:1px solid #edf2f7;text-align:right;vertical-align:top;
  overflow-wrap:break-word}
th:first-child,td:first-child{text-align:left}
th{background:#edf2f7}
td.text,th.text{text-align:left}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;
  margin:0 0 12px}
.kpi{border:1px solid #e2e8f0;border-radius:6px;padding:8px 12px}
.kpi b{display:block;font-size:22px}
.kpi span{font-size:12px;color:#4a5568}
.ok{color:#2f855a}.bad{color:#c53030}.alert{color:#c53030;font-weight:600}
.legend{margin:4px 0}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;
  vertical-align:middle}
.legend span:first-child{margin-left:0}
.grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:24px}
.grid3{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:24px}
.cols{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:24px;
  align-items:start}
svg{display:block;width:100%;height:auto}
.def{font-size:12px;color:#4a5568}
.level{margin:0 0 10px;font-size:22px;font-weight:600}
.level small{display:block;font-size:14px;font-weight:400;color:#4a5568}
.badge{display:inline-block;color:#fff;border-radius:4px;padding:1px 8px;margin-right:6px}
table.maturity{table-layout:fixed}
table.maturity td{padding:8px 10px}table.maturity ul{margin:2px 0 0;padding-left:18px}
footer{font-size:12px;color:#4a5568}
@media (max-width:900px){.grid,.grid3,.cols{grid-template-columns:minmax(0,1fr)}}
"""


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
          wide: bool = False, text: int = 1) -> str:
    """A table of escaped cells; ``wide``: across the section (a table of many columns);
    the first ``text`` columns are text (left-aligned), the others figures (right)."""
    def cell(tag: str, index: int, value: Any) -> str:
        cls = ' class="text"' if index < text else ""
        return f"<{tag}{cls}>{escape(str(value))}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    lines = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>"
                    for row in rows)
    cls = ' class="wide"' if wide else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"


def kpi(value: str, label: str, mark: str = "") -> str:
    cls = {"ok": ' class="ok"', "below target": ' class="bad"',
           "above target": ' class="bad"'}.get(mark, "")
    extra = f" ({escape(mark)})" if mark else ""
    return f'<div class="kpi"><b{cls}>{escape(value)}</b><span>{escape(label)}{extra}</span></div>'


def legend(*names: tuple[str, str]) -> str:
    return '<p class="legend">' + "".join(
        f'<span style="background:{PALETTE[key]}"></span>{escape(label)}'
        for key, label in names) + "</p>"


def counts_chart(title: str, counts: Sequence[Count], colour: str, *,
                 width: int = svg.HALF, total: int | None = None, noun: str = "rows") -> str:
    """Bars of counts; ``total``: how many there are in all when ``counts`` is the top."""
    if not counts:
        return "<p>none</p>"
    return svg.hbars(title, [(c.label, [(c.count, colour)], str(c.count)) for c in counts],
                     width=width, total=total, noun=noun)


def cols(main: str, side: str) -> str:
    """A chart (wider, left) beside its table (right)."""
    return f'<div class="cols"><div>{main}</div><div>{side}</div></div>'


def grid(*parts: str) -> str:
    """Two (or three) equal columns."""
    kind = "grid3" if len(parts) == 3 else "grid"
    return f'<div class="{kind}">' + "".join(f"<div>{p}</div>" for p in parts) + "</div>"
