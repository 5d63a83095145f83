"""Pieces every HTML report section is built from: the page's CSS, tables, KPI tiles,
figure tables (each figure with its n, target and definition), column definitions,
legends and count charts. Everything CRM-supplied passes ``html.escape``."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from html import escape
from typing import Any

from handoff_sync.report import svg
from handoff_sync.report.basis import Count
from handoff_sync.report.figure import Cell, Column, Figure
from handoff_sync.report.stats import ABOVE, BELOW, OK, SMALL
from handoff_sync.report.svg import PALETTE
from handoff_sync.report.text import (
    cell_mark,
    interval,
    n_text,
    num,
    pct,
    target_text,
    value_text,
)

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
.kpi span{font-size:12px;color:#4a5568;display:block}
.kpi small{font-size:11px;color:#718096;display:block;margin-top:2px}
.ok{color:#2f855a}.bad{color:#c53030}.small{color:#975a16}
.alert{color:#c53030;font-weight:600}
table.figures{width:100%}
table.figures td:nth-child(2){white-space:nowrap}
table.figures td:last-child,table.figures th:last-child{text-align:left;color:#4a5568;
  width:55%}
table.figures td:nth-child(4),table.figures th:nth-child(4){text-align:left}
dl.defs{font-size:12px;color:#4a5568;margin:0 0 10px;display:grid;
  grid-template-columns:max-content 1fr;gap:2px 10px}
dl.defs dt{font-weight:600}dl.defs dd{margin:0}
p.def{font-size:12px;color:#4a5568;margin:2px 0 10px}
td small{display:block;font-size:11px;color:#718096;white-space:nowrap}
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
table.readiness th:last-child{text-align:left}
table.maturity td{padding:8px 10px}table.maturity ul{margin:2px 0 0;padding-left:18px}
footer{font-size:12px;color:#4a5568}
h4{font-size:13px;margin:12px 0 4px}
.textual th,.textual td{text-align:left}
.note{font-size:12px;color:#4a5568;margin:4px 0 8px}
.leak{margin:4px 0;font-size:15px}
@media (max-width:900px){.grid,.grid3,.cols{grid-template-columns:minmax(0,1fr)}}
table.maturity col.w13{width:13%}table.maturity col.w14{width:14%}
table.maturity col.w22{width:22%}table.maturity col.w24{width:24%}
table.maturity col.w27{width:27%}
"""
# Colours by class, never by a style attribute: the console's Content-Security-Policy
# refuses inline styles (console/headers.py), and the HTML file renders the same.
CSS += "".join(f".swatch-{key}{{background:{colour}}}\n" for key, colour in PALETTE.items())


def scoped_css(scope: str, css: str = CSS) -> str:
    """``css`` for a page that shows the report inside its own layout (the console): each
    selector applies only under ``scope``; ``body`` becomes the scope itself, and ``*``
    and ``main`` rules are left to the host page. At-rules (@media) keep their
    condition, their rules scoped the same way."""
    out: list[str] = []
    at = 0
    while (opening := css.find("{", at)) >= 0:
        head = css[at:opening].strip()
        if head.startswith("@"):
            closing = _matching(css, opening)
            out.append(f"{head}{{{scoped_css(scope, css[opening + 1:closing])}}}")
        else:
            closing = css.index("}", opening)
            selectors = [s for s in (_scoped(part.strip(), scope) for part in head.split(","))
                         if s]
            if selectors:
                out.append(f"{','.join(selectors)}{{{css[opening + 1:closing].strip()}}}")
        at = closing + 1
    return "\n".join(out)


def _scoped(selector: str, scope: str) -> str:
    if selector in ("*", "main"):
        return ""
    return scope if selector == "body" else f"{scope} {selector}"


def _matching(css: str, opening: int) -> int:
    """The index of the brace that closes the one at ``opening``."""
    depth = 0
    for index in range(opening, len(css)):
        depth += {"{": 1, "}": -1}.get(css[index], 0)
        if depth == 0:
            return index
    raise ValueError("unbalanced braces in the report CSS")


class Html(str):
    """A table cell already rendered as HTML (built here from escaped parts)."""


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *,
          wide: bool = False, text: int | Collection[int] = 1) -> str:
    """A table of escaped cells (an ``Html`` cell is already a ``<td>``); ``wide``:
    across the section (a table of many columns). Text columns are left-aligned, figures
    right: ``text`` is how many leading columns are text, or the indexes of those that
    are."""
    words = range(text) if isinstance(text, int) else text

    def one(tag: str, index: int, value: Any) -> str:
        if isinstance(value, Html):
            return value
        cls = ' class="text"' if index in words else ""
        return f"<{tag}{cls}>{escape(str(value))}</{tag}>"

    head = "".join(one("th", i, h) for i, h in enumerate(headers))
    lines = "".join("<tr>" + "".join(one("td", i, c) for i, c in enumerate(row)) + "</tr>"
                    for row in rows)
    cls = ' class="wide"' if wide else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"


def cell(value: Cell, min_sample: int, unit: str = "%") -> Html:
    """A group's rate or mean: the value, then n (or part/n), the interval and the
    verdict in small print; coloured only when judged."""
    cls = STATUS_CLASS.get(value.status, "")
    attr = f' class="{cls}"' if cls else ""
    if value.value is None:
        return Html(f"<td{attr}>n/a<small>n={value.n}</small></td>")
    main = pct(value.value) if unit == "%" else num(value.value, unit)
    count = f"{value.part}/{value.n}" if value.part is not None else f"n={value.n}"
    detail = " ".join(p for p in (count, interval(value.low_pct, value.high_pct),
                                  cell_mark(value, min_sample)) if p)
    return Html(f"<td{attr}>{escape(main)}<small>{escape(detail)}</small></td>")


STATUS_CLASS = {OK: "ok", BELOW: "bad", ABOVE: "bad", SMALL: "small"}


def kpi(value: str, label: str, detail: str = "", status: str = "") -> str:
    cls = STATUS_CLASS.get(status, "")
    bold = f'<b class="{cls}">' if cls else "<b>"
    small = f"<small>{escape(detail)}</small>" if detail else ""
    return (f'<div class="kpi">{bold}{escape(value)}</b><span>{escape(label)}</span>'
            f"{small}</div>")


def figure_kpi(figure: Figure, min_sample: int) -> str:
    """A headline tile: the value, what it is, its n and its target with the verdict."""
    spread = interval(figure.low_pct, figure.high_pct)
    detail = " \u00b7 ".join(part for part in (
        n_text(figure), f"95% CI {spread}" if spread else "",
        target_text(figure, min_sample)) if part)
    if figure.value is None:  # the tile says n/a, and why, under the label
        value, detail = "n/a", " \u00b7 ".join(p for p in (figure.why, n_text(figure)) if p)
    else:
        value = value_text(replace(figure, low_pct=None, high_pct=None))
    return kpi(value, figure.label, detail, figure.status)


def kpis(figures: Sequence[Figure], min_sample: int) -> str:
    return '<div class="kpis">' + "".join(figure_kpi(f, min_sample) for f in figures) + \
        "</div>"


def figure_table(figures: Sequence[Figure], min_sample: int) -> str:
    """figure | value | n | target | definition: every figure of a section, defined."""
    rows = "".join(
        f"<tr><td>{escape(f.label)}</td>"
        f'<td class="{STATUS_CLASS.get(f.status, "")}">{escape(value_text(f, why=False))}</td>'
        f"<td>{escape(n_text(f))}</td><td>{escape(target_text(f, min_sample))}</td>"
        f"<td>{escape(f.definition)}</td></tr>" for f in figures)
    return ('<table class="figures"><thead><tr><th>figure</th><th>value</th><th>n</th>'
            f"<th>target</th><th>definition</th></tr></thead><tbody>{rows}</tbody></table>")


def definitions(columns: Sequence[Column]) -> str:
    """What each column of the table above means."""
    items = "".join(f"<dt>{escape(c.label)}</dt><dd>{escape(c.definition)}</dd>"
                    for c in columns if c.label)
    return f'<dl class="defs">{items}</dl>'


def note(text: str) -> str:
    return f'<p class="def">{escape(text)}</p>'


def swatch(key: str) -> str:
    """The class that colours an element as ``PALETTE[key]``."""
    if key not in PALETTE:
        raise KeyError(f"no colour {key!r} in the palette")
    return f"swatch-{key}"


def legend(*names: tuple[str, str]) -> str:
    return '<p class="legend">' + "".join(
        f'<span class="{swatch(key)}"></span>{escape(label)}'
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
