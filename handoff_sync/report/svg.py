"""Static inline SVG charts: horizontal bars, a column histogram, a line (no script).

Every chart is a complete ``<svg>`` element with a viewBox, so it scales with the page;
labels are escaped text. Colours come from PALETTE so the HTML legend and the screenshot
test agree on them.
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
    "target": "#718096",
    "in_flight": "#90cdf4",  # funnel: deals still at a step
    "lost": "#c53030",  # funnel: deals that died at a step
}
Segment = tuple[float, str]  # (value, colour)


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
            f'<title>{escape(title)}</title>{"".join(body)}</svg>')


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12,
          fill: str = "#2d3748") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}">{escape(text)}</text>')


def _rect(x: float, y: float, width: float, height: float, fill: str) -> str:
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0):.1f}" '
            f'height="{max(height, 0):.1f}" fill="{fill}"/>')


def hbars(title: str, rows: Sequence[tuple[str, Sequence[Segment], str]], *,
          scale: float | None = None, width: int = 640, label_width: int = 220,
          target: float | None = None) -> str:
    """One stacked horizontal bar per row: (label, segments, value text)."""
    bar_h, gap, top = 18, 6, 6
    height = top + len(rows) * (bar_h + gap) + 6
    longest = max((sum(v for v, _ in segments) for _, segments, _ in rows), default=0)
    full = scale if scale is not None else (longest or 1)
    room = width - label_width - 70
    body: list[str] = []
    for index, (label, segments, value) in enumerate(rows):
        y = top + index * (bar_h + gap)
        fits = label_width // 7  # about 7 px a character at 12 px
        short = label if len(label) <= fits else label[:fits - 1] + "\u2026"
        body.append(_text(label_width - 8, y + 13, short, anchor="end"))
        x = float(label_width)
        for amount, colour in segments:
            w = room * amount / full if full else 0
            body.append(_rect(x, y, w, bar_h, colour))
            x += w
        body.append(_text(x + 6, y + 13, value))
    if target is not None and full:
        tx = label_width + room * target / full
        body.append(f'<line x1="{tx:.1f}" y1="0" x2="{tx:.1f}" y2="{height}" '
                    f'stroke="{PALETTE["target"]}" stroke-dasharray="4 3"/>')
    return _svg(width, height, body, title)


def columns(title: str, bars: Sequence[tuple[str, float]], *, width: int = 640,
            height: int = 220, colour: str = PALETTE["bar"]) -> str:
    """A column chart (the histogram): one column per (label, count)."""
    left, bottom, top = 36, 30, 14
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
    return _svg(width, height, body, title)


def line(title: str, points: Sequence[tuple[datetime, float]], *, width: int = 640,
         height: int = 220, low: float = 0, high: float = 100,
         target: float | None = None) -> str:
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
                    'stroke-dasharray="4 3"/>')
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


def funnel(title: str, steps: Sequence[tuple[str, Sequence[Segment], str]], *,
           width: int = 1000, label_width: int = 260, text_width: int = 330) -> str:
    """A funnel: one bar per step, centred and as long as its count against the longest
    step, stacked from its segments (e.g. moved on, in flight, lost), the step's name on
    the left and its figures (``text``) on the right."""
    bar_h, gap, top = 24, 6, 6
    height = top + len(steps) * (bar_h + gap) + 6
    room = width - label_width - text_width
    most = max((sum(v for v, _ in segments) for _, segments, _ in steps), default=0) or 1
    centre = label_width + room / 2
    body: list[str] = []
    for index, (label, segments, text) in enumerate(steps):
        y = top + index * (bar_h + gap)
        fits = label_width // 7
        short = label if len(label) <= fits else label[:fits - 1] + "\u2026"
        body.append(_text(label_width - 8, y + 16, short, anchor="end"))
        x = centre - room * sum(v for v, _ in segments) / most / 2
        for amount, colour in segments:
            w = room * amount / most
            body.append(_rect(x, y, w, bar_h, colour))
            x += w
        body.append(_text(label_width + room + 8, y + 16, text))
    return _svg(width, height, body, title)
