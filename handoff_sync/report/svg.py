"""Static inline SVG charts: horizontal bars, a column histogram, a line, a level meter
(no script).

Every chart is a complete ``<svg>`` element with a viewBox, so it scales with the page;
labels are escaped text. Colours come from PALETTE so the HTML legend and the screenshot
test agree on them. Widths are drawn for a laptop screen: FULL for a chart across the
page, HALF for one of two side by side (the page's CSS scales them to their column, so
the text stays about 12-14 px from 1280 to 1440 px wide). A target is a dashed line with
its label; a chart given fewer rows than there are says so ("top 20 of 57") in the chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

PALETTE = {
    "partner": "#2b6cb0",
    "direct": "#dd6b20",
    "prm_only": "#805ad5",
    "within": "#2f855a",
    "breached": "#c53030",
    "bar": "#2b6cb0",
    "line": "#2b6cb0",
    "target": "#4a5568",
    "level1": "#c53030",
    "level2": "#d69e2e",
    "level3": "#2f855a",
    "empty": "#edf2f7",
    "in_flight": "#90cdf4",  # funnel: deals still at a step
    "lost": "#c53030",  # funnel: deals that died at a step
}
FULL = 1160  # a chart across a section at 1280 px (the section's inner width is ~1190)
MAIN = 690  # a chart beside its table (the wider of two columns, 3:2)
SIDE = 460  # a chart in the narrower of those two columns
HALF = 570  # one of two charts side by side
THIRD = 375  # one of three
CHAR_PX = 7.0  # about the width of a character at 12 px, to size label columns
Segment = tuple[float, str]  # (value, colour)


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>{"".join(body)}</svg>')


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12,
          fill: str = "#2d3748", halo: bool = False) -> str:
    """Text; ``halo``: outlined in white, so a value stays legible over a target line."""
    ring = ' stroke="#fff" stroke-width="3" paint-order="stroke"' if halo else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}"{ring}>{escape(text)}</text>')


def _rect(x: float, y: float, width: float, height: float, fill: str) -> str:
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" '
            f'height="{max(height, 0):.1f}" fill="{fill}"/>')


def _label(x: float, y: float, label: str, room: float, anchor: str = "end") -> str:
    """A row label at ``x``, cut to ``room`` px with its whole text in a tooltip (hover)
    when it does not fit."""
    fits = max(int(room / CHAR_PX), 4)
    if len(label) <= fits:
        return _text(x, y, label, anchor=anchor)
    short = label[:fits - 1] + "\u2026"
    return (f'<g><title>{escape(label)}</title>'
            f'{_text(x, y, short, anchor=anchor)}</g>')


def label_room(labels: Sequence[str], width: int, most: float = 0.4) -> int:
    """Width of the label column: the longest label, at most ``most`` of the chart."""
    longest = max((len(label) for label in labels), default=4)
    return int(min(max(longest * CHAR_PX + 24, 60), width * most))


def _fits_beside(labels: Sequence[str], width: int) -> bool:
    """Every label fits in a label column of at most 40% of the chart."""
    return max((len(label) for label in labels), default=0) * CHAR_PX + 24 <= width * 0.4


def target_line(x: float, y1: float, y2: float, label: str, width: float, *,
                label_y: float | None = None) -> list[str]:
    """A dashed vertical target line with its label above it (kept inside the chart)."""
    anchor = "end" if x > width - 60 else "start" if x < 60 else "middle"
    return [f'<line x1="{x:.1f}" y1="{y1:.1f}" x2="{x:.1f}" y2="{y2:.1f}" '
            f'stroke="{PALETTE["target"]}" stroke-width="1.5" stroke-dasharray="5 3"/>',
            _text(x, y1 - 4 if label_y is None else label_y, label, anchor=anchor, size=11,
                  fill=PALETTE["target"])]


def hbars(title: str, rows: Sequence[tuple[str, Sequence[Segment], str]], *,
          scale: float | None = None, width: int = FULL, label_width: int | None = None,
          target: float | None = None, target_label: str | None = None,
          total: int | None = None, noun: str = "rows") -> str:
    """One stacked horizontal bar per row: (label, segments, value text).

    Labels stand left of their bars, or above them when one would not fit in 40% of the
    chart (nothing is cut). ``target``: a labelled dashed line at that value
    (``target_label``, default "target <value>"). ``total``: how many rows there are in
    all when ``rows`` is the top of them; the chart then says "top N of M <noun> shown"."""
    labels = [label for label, _, _ in rows]
    above = label_width is None and not _fits_beside(labels, width)
    bar_h, gap = 18, 6
    row_h = bar_h + gap + (16 if above else 0)
    top = 22 if target is not None else 6
    capped = total is not None and total > len(rows)
    height = top + len(rows) * row_h + (24 if capped else 6)
    longest = max((sum(v for v, _ in segments) for _, segments, _ in rows), default=0)
    full = scale if scale is not None else (longest or 1)
    left = 0 if above else label_width if label_width is not None else label_room(labels,
                                                                                   width)
    # Room for the longest value text after its bar (e.g. "29.5 d (n=8)").
    room = width - left - max((len(value) for _, _, value in rows), default=4) * CHAR_PX - 14
    body: list[str] = []
    for index, (label, segments, value) in enumerate(rows):
        y = top + index * row_h
        if above:
            body.append(_label(0, y + 12, label, width - 8, anchor="start"))
            y += 16
        else:
            body.append(_label(left - 8, y + 13, label, left - 12))
        x = float(left)
        for amount, colour in segments:
            w = room * amount / full if full else 0
            body.append(_rect(x, y, w, bar_h, colour))
            x += w
        body.append(_text(x + 6, y + 13, value, halo=True))
    if target is not None and full:
        tx = left + room * min(target, full) / full
        body += target_line(tx, top - 2, top + len(rows) * row_h,
                            target_label or f"target {target:g}", width)
    if capped:
        body.append(_text(left, height - 8, f"top {len(rows)} of {total} {noun} shown",
                          size=11, fill=PALETTE["target"]))
    return _svg(width, height, body, title)


def columns(title: str, bars: Sequence[tuple[str, float]], *, width: int = FULL,
            height: int = 220, colour: str = PALETTE["bar"], target_at: float | None = None,
            target_label: str = "") -> str:
    """A column chart (the histogram): one column per (label, count). ``target_at``: a
    labelled dashed line at that column position (2.0 = the left edge of the third
    column), e.g. where the target band starts."""
    left, bottom, top = 36, 30, 14 if target_at is None else 32
    plot_h = height - bottom - top
    most = max((v for _, v in bars), default=0) or 1
    step = (width - left - 10) / max(len(bars), 1)
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" '
            f'y2="{height - bottom}" stroke="#a0aec0"/>',
            _text(left - 6, top + 4, f"{most:.0f}", anchor="end", size=10),
            _text(left - 6, height - bottom, "0", anchor="end", size=10)]
    for index, (label, value) in enumerate(bars):
        h = plot_h * value / most
        x = left + index * step + 3
        body.append(_rect(x, height - bottom - h, step - 6, h, colour))
        body.append(_text(x + (step - 6) / 2, height - bottom + 14, label, anchor="middle",
                          size=10))
        if value:
            body.append(_text(x + (step - 6) / 2, height - bottom - h - 3, f"{value:.0f}",
                              anchor="middle", size=10))
    if target_at is not None:
        body += target_line(left + target_at * step, 16, height - bottom, target_label,
                            width, label_y=12)
    return _svg(width, height, body, title)


def line(title: str, points: Sequence[tuple[datetime, float]], *, width: int = FULL,
         height: int = 220, low: float = 0, high: float = 100,
         target: float | None = None, target_label: str | None = None) -> str:
    """A line over time (y from ``low`` to ``high``), with dots and the end values."""
    left, right, bottom, top = 40, 16, 30, 14
    plot_w, plot_h = width - left - right, height - bottom - top
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" '
            f'y2="{height - bottom}" stroke="#a0aec0"/>',
            _text(left - 6, top + 4, f"{high:.0f}", anchor="end", size=10),
            _text(left - 6, height - bottom, f"{low:.0f}", anchor="end", size=10)]

    def y_of(value: float) -> float:
        return top + plot_h * (1 - (value - low) / ((high - low) or 1))

    if target is not None:
        body.append(f'<line x1="{left}" y1="{y_of(target):.1f}" x2="{width - right}" '
                    f'y2="{y_of(target):.1f}" stroke="{PALETTE["target"]}" '
                    'stroke-width="1.5" stroke-dasharray="5 3"/>')
        body.append(_text(width - right, y_of(target) - 4, target_label or
                          f"target {target:g}", anchor="end", size=11,
                          fill=PALETTE["target"]))
    if not points:
        body.append(_text(width / 2, height / 2, "no gate history in the period",
                          anchor="middle"))
        return _svg(width, height, body, title)
    first, last = points[0][0], points[-1][0]
    span = (last - first).total_seconds() or 1

    def x_of(at: datetime) -> float:
        if len(points) == 1:
            return left + plot_w / 2
        return left + plot_w * (at - first).total_seconds() / span

    coords = " ".join(f"{x_of(at):.1f},{y_of(v):.1f}" for at, v in points)
    body.append(f'<polyline points="{coords}" fill="none" stroke="{PALETTE["line"]}" '
                'stroke-width="3"/>')
    body.extend(f'<circle cx="{x_of(at):.1f}" cy="{y_of(v):.1f}" r="4" '
                f'fill="{PALETTE["line"]}"/>' for at, v in points)
    body.append(_text(left, height - 8, first.strftime("%Y-%m-%d %H:%M"), size=10))
    body.append(_text(width - right, height - 8, last.strftime("%Y-%m-%d %H:%M"),
                      anchor="end", size=10))
    return _svg(width, height, body, title)


def levels(title: str, rows: Sequence[tuple[str, int]], names: Sequence[str], *,
           width: int = HALF) -> str:
    """A level meter: one row per (label, level), one box per level in ``names`` (level
    1 first), filled up to the row's level in that level's colour (PALETTE levelN)."""
    left = label_room([label for label, _ in rows], width)
    top, box_h, gap = 34, 22, 8
    step = (width - left - 8) / max(len(names), 1)
    height = top + len(rows) * (box_h + gap)
    body = [_text(left + step * i + step / 2, 14, f"{i + 1}", anchor="middle", size=12,
                  fill=PALETTE["target"]) for i in range(len(names))]
    body += [_text(left + step * i + step / 2, 28, name, anchor="middle", size=10,
                   fill=PALETTE["target"]) for i, name in enumerate(names)]
    for index, (label, level) in enumerate(rows):
        y = top + index * (box_h + gap)
        body.append(_label(left - 8, y + 15, label, left - 12))
        colour = PALETTE.get(f"level{level}", PALETTE["bar"])
        for box in range(len(names)):
            fill = colour if box < level else PALETTE["empty"]
            body.append(_rect(left + step * box + 2, y, step - 4, box_h, fill))
    return _svg(width, height, body, title)


def funnel(title: str, steps: Sequence[tuple[str, Sequence[Segment], str]], *,
           width: int = 1000, label_width: int | None = None,
           text_width: int | None = None) -> str:
    """A funnel: one bar per step, centred and as long as its count against the longest
    step, stacked from its segments (e.g. moved on, in flight, lost), the step's name on
    the left and its figures (``text``) on the right. The name and figure columns are as
    wide as their longest text (a name cut to 40% of the chart keeps a tooltip)."""
    bar_h, gap, top = 24, 6, 6
    height = top + len(steps) * (bar_h + gap) + 6
    left = label_width if label_width is not None else label_room(
        [label for label, _, _ in steps], width)
    right = text_width if text_width is not None else int(
        max((len(text) for _, _, text in steps), default=10) * CHAR_PX + 16)
    room = width - left - right
    most = max((sum(v for v, _ in segments) for _, segments, _ in steps), default=0) or 1
    centre = left + room / 2
    body: list[str] = []
    for index, (label, segments, text) in enumerate(steps):
        y = top + index * (bar_h + gap)
        body.append(_label(left - 8, y + 16, label, left - 12))
        x = centre - room * sum(v for v, _ in segments) / most / 2
        for amount, colour in segments:
            w = room * amount / most
            body.append(_rect(x, y, w, bar_h, colour))
            x += w
        body.append(_text(left + room + 8, y + 16, text))
    return _svg(width, height, body, title)
