"""How figures read in the table and HTML reports (one place, so both say the same)."""

from __future__ import annotations

from datetime import datetime, time

from handoff_sync.report.basis import DIMENSION_LABELS
from handoff_sync.report.figure import AT_MOST, Cell, Figure
from handoff_sync.report.figures import Report
from handoff_sync.report.period import last_day
from handoff_sync.report.stats import ABOVE, BELOW, NO_DATA, OK, SMALL


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


def day(value: datetime) -> str:
    """"1 Jul 2026"."""
    return f"{value.day} {value:%b %Y}"


def period(since: datetime | None, until: datetime | None) -> str:
    """The period as a reader says it: "1 Jul 2026 – 30 Sep 2026" (the end day included:
    ``until`` is the first instant after the period), "since 1 Jul 2026", "up to 30 Sep
    2026", "since the first cycle"; a bound that is no midnight shows its time (an end
    instant is the first one after the period)."""
    def start(value: datetime) -> str:
        return day(value) if value.time() == time() else when(value)

    def end(value: datetime) -> str:
        if value.time() == time():
            return day(datetime.combine(last_day(value), time()))
        return when(value)  # the instant the period ends

    if until is None:
        return "since the first cycle" if since is None else f"since {start(since)}"
    return f"up to {end(until)}" if since is None else f"{start(since)} – {end(until)}"


def subtitle(report: Report) -> str:
    only = "".join(f", only {DIMENSION_LABELS[name]} {', '.join(values)}"
                   for name, values in report.filters.items())
    return (f"pipeline {report.pipeline}{only}, "
            f"{period(report.since, report.until)}, generated "
            f"{when(report.generated_at)}, {report.runs} sync cycles, groups by "
            f"{DIMENSION_LABELS[report.by]}, min sample {report.min_sample}")


def interval(low: float | None, high: float | None) -> str:
    """The Wilson 95% interval as [low-high] in points (no decimals when whole)."""
    if low is None or high is None:
        return ""
    return f"[{num(low)}-{num(high)}]"


def value_text(figure: Figure, *, why: bool = True) -> str:
    """The value with its unit and interval ("57.0% [51-63]", "77.4 h", "130"), or
    "n/a (why)" (just "n/a" where the status beside it says why)."""
    if figure.value is None:
        return f"n/a ({figure.why})" if figure.why and why else "n/a"
    if figure.signed:
        text = signed(figure.value, figure.unit)
    elif figure.unit == "%":
        text = pct(figure.value)
    elif figure.unit:
        text = num(figure.value, figure.unit)
    else:
        text = f"{figure.value:,.0f}" if float(figure.value).is_integer() else \
            f"{figure.value:,.1f}"
    if figure.unit == "%" and figure.low_pct is not None:
        text += f" {interval(figure.low_pct, figure.high_pct)}"
    return text


def n_text(figure: Figure) -> str:
    return "" if figure.n is None else f"n={figure.n}"


def status_text(status: str, min_sample: int) -> str:
    return {OK: "ok", BELOW: "below target", ABOVE: "above target",
            SMALL: f"not judged: n < {min_sample}", NO_DATA: "no data"}.get(status, status)


def target_text(figure: Figure, min_sample: int) -> str:
    """">= 90%: below target", "<= 10%: ok", or the status alone; "no data: why" for a
    figure without a value."""
    status = status_text(figure.status, min_sample)
    if figure.status == NO_DATA and figure.why:
        status = f"no data: {figure.why}"
    if figure.target is None:
        return status if figure.status in (SMALL, NO_DATA) else ""
    unit = "%" if figure.unit in ("%", "") else figure.unit
    plus = "+" if figure.signed and figure.target > 0 else ""
    aim = f"{'<=' if figure.target_kind == AT_MOST else '>='} {plus}{figure.target:g}{unit}"
    return f"{aim}: {status}" if status else aim


def cell_text(cell: Cell, unit: str = "%") -> str:
    """A group's value: "66.7% (8/12) [39-86]" for a rate, "72.5% (n=12)" for a mean."""
    if cell.value is None:
        return "n/a (n=0)" if cell.n == 0 else "n/a"
    value = pct(cell.value) if unit == "%" else num(cell.value, unit)
    if cell.part is not None:
        return f"{value} ({cell.part}/{cell.n}) {interval(cell.low_pct, cell.high_pct)}"
    return f"{value} (n={cell.n})"


def cell_mark(cell: Cell, min_sample: int) -> str:
    """A short mark for a group's cell: "ok", "below", "above", "n<5", or ""."""
    return {OK: "ok", BELOW: "below", ABOVE: "above", SMALL: f"n<{min_sample}"}.get(
        cell.status, "")


def cell_with_mark(cell: Cell, min_sample: int, unit: str = "%") -> str:
    mark = cell_mark(cell, min_sample)
    return f"{cell_text(cell, unit)} {mark}".rstrip()


def shown(count: int, total: int, rest: str = "") -> str:
    """" (top 20 of 57)" when a chart or list shows the top of a longer one, else ""."""
    return "" if count >= total else f" (top {count} of {total}{rest})"
