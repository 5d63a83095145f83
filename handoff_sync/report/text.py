"""How figures read in the table and HTML reports (one place, so both say the same)."""

from __future__ import annotations

from datetime import datetime

from handoff_sync.report.figures import Report


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    text = f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    return f"{text}{unit}"


def signed(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:+.1f}{unit}"


def when(value: datetime | None) -> str:
    return "the first cycle" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def subtitle(report: Report) -> str:
    return (f"pipeline {report.pipeline}, since {when(report.since)}, generated "
            f"{when(report.generated_at)}, {report.runs} sync cycles, volume by {report.by}")


def weights(report: Report) -> str:
    parts = ", ".join(f"{name} {weight:.0%}"
                      for name, weight in report.scorecard.weights.items())
    return (f"readiness = weighted mean of {parts} (weights re-normalised over the parts "
            "a partner has data for)")


def target_mark(value: float | None, target: float, *, below: bool = False) -> str:
    """"ok" when the figure meets its target, "below target" (or "above") otherwise."""
    if value is None:
        return ""
    if below:
        return "ok" if value <= target else "above target"
    return "ok" if value >= target else "below target"
