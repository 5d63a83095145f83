"""The "Governance maturity" section as HTML: the overall level, a level meter per
dimension, what each dimension shows and what the next level takes, with its rule, and
who owns improving each figure."""

from __future__ import annotations

from html import escape

from handoff_sync.report import html_kit as kit
from handoff_sync.report import svg
from handoff_sync.report.figures import Report
from handoff_sync.report.maturity import LEVEL_NAMES, TOP
from handoff_sync.report.svg import PALETTE


def render(report: Report) -> str:
    m = report.maturity
    held = ", ".join(m.held_back_by)
    headline = (f'<p class="level">{_badge(m.level, f"Level {m.level} of {TOP}")}'
                f"{escape(m.level_name)}<small>the lowest of its {len(m.dimensions)} "
                "dimensions; " + (f"held back by {escape(held)}" if m.level < TOP
                                  else "every dimension at the top level") + "</small></p>")
    meter = svg.levels("Governance maturity by dimension",
                       [(d.label, d.level) for d in m.dimensions],
                       [LEVEL_NAMES[level] for level in range(1, TOP + 1)], width=svg.MAIN)
    owners = kit.table(("figure", "improvement owner", "held to a target"), [
        (o.label, o.owner or "nobody named", "yes" if o.targeted else "no")
        for o in m.improvement_owners], text=3)
    rows = "".join(
        f'<tr><td class="text"><b>{escape(d.label)}</b></td>'
        f'<td class="text">{_badge(d.level, str(d.level))}{escape(d.level_name)}</td>'
        f'<td class="text">{escape(d.evidence)}</td>'
        f'<td class="text">{_steps(d.next_steps, d.level)}</td>'
        f'<td class="text def">{escape(d.definition)}</td></tr>'
        for d in m.dimensions)
    table = ('<table class="wide maturity"><colgroup><col class="w14"><col class="w13">'
             '<col class="w24"><col class="w27"><col class="w22"></colgroup>'
             '<thead><tr><th>dimension</th>'
             '<th class="text">level</th><th class="text">what the store and handoff.yaml '
             'show</th><th class="text">to reach the next level</th>'
             f'<th class="text">rule</th></tr></thead><tbody>{rows}</tbody></table>')
    return (kit.cols(headline + meter, f"<h3>Who owns improving each figure</h3>{owners}")
            + f"{table}<p class=\"def\">{escape(m.definition)}</p>")


def _badge(level: int, text: str) -> str:
    key = f"level{level}" if f"level{level}" in PALETTE else "bar"
    return f'<span class="badge {kit.swatch(key)}">{escape(text)}</span>'


def _steps(steps: tuple[str, ...], level: int) -> str:
    if level >= TOP:
        return "at the top level"
    items = "".join(f"<li>{escape(step)}</li>" for step in steps)
    return f"<b>level {level + 1}:</b><ul>{items}</ul>"
