"""One figure of the report with everything a reader needs next to it: its value, its n,
its target and where it stands against it, its 95% interval when it is a rate, and a
one-sentence definition.

Sections hold their figures as ``Figure`` fields and their group tables as rows with a
``Column`` list, so the definition reaches every format by itself: JSON and CSV serialise
the dataclasses (``definition`` next to ``value``), the table and HTML renderers print it
beside the number.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from handoff_sync.report.stats import Rate, versus

AT_LEAST = "at least"
AT_MOST = "at most"


@dataclass(frozen=True, slots=True)
class Figure:
    label: str  # what a person reads, e.g. "within SLA (finished clocks)"
    value: float | None  # None: no data (printed "n/a", with ``why``)
    definition: str  # how it is computed and what it counts, one sentence
    unit: str = ""  # "%", " h", " d", or "" for a count
    n: int | None = None  # what the figure is computed over; None for a plain count
    target: float | None = None
    target_kind: str = ""  # AT_LEAST, AT_MOST, or "" without a target
    status: str = ""  # stats.OK/BELOW/ABOVE/SMALL/NO_DATA, "" when nothing is judged
    low_pct: float | None = None  # Wilson 95% interval of a rate
    high_pct: float | None = None
    why: str = ""  # why there is no value, e.g. "no closed-won direct deal"
    signed: bool = False  # a change (+/-), printed with its sign: +12.5%


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a section's group table: the key in each row, its heading, what it
    means."""

    id: str
    label: str
    definition: str


def count(label: str, value: int, definition: str) -> Figure:
    return Figure(label, value, definition)


def measure(label: str, value: float | None, definition: str, *, unit: str = "",
            n: int | None = None, target: float | None = None, at_most: bool = False,
            min_sample: int = 1, why: str = "", signed: bool = False) -> Figure:
    """A mean, median or other value over ``n`` cases, judged against ``target`` when
    n reaches min_sample."""
    return Figure(label, value, definition, unit, n, target, _kind(target, at_most),
                  versus(value, target, at_most=at_most, n=n, min_sample=min_sample),
                  why=(why or "nothing to measure") if value is None else "",
                  signed=signed)


def share(label: str, rate: Rate, definition: str, *, target: float | None = None,
          at_most: bool = False, min_sample: int = 1, why: str = "") -> Figure:
    """A rate (``rate.part`` of ``rate.n``) with its Wilson interval, judged against
    ``target`` only when n reaches min_sample."""
    status = versus(rate.pct, target, at_most=at_most, n=rate.n, min_sample=min_sample)
    return Figure(label, rate.pct, definition, "%", rate.n, target, _kind(target, at_most),
                  status, rate.low_pct, rate.high_pct,
                  why=(why or "nothing to count") if rate.pct is None else "")


@dataclass(frozen=True, slots=True)
class Cell:
    """One group's value in a group table (a rate, a mean): the value with its n, its
    Wilson interval when it is a rate, and its status against the section's target."""

    value: float | None
    n: int
    status: str = ""  # as Figure.status
    part: int | None = None  # a rate's numerator
    low_pct: float | None = None
    high_pct: float | None = None


def rate_cell(rate: Rate, *, target: float | None = None, at_most: bool = False,
              min_sample: int = 1) -> Cell:
    return Cell(rate.pct, rate.n,
                versus(rate.pct, target, at_most=at_most, n=rate.n, min_sample=min_sample),
                rate.part, rate.low_pct, rate.high_pct)


def value_cell(value: float | None, n: int, *, target: float | None = None,
               at_most: bool = False, min_sample: int = 1) -> Cell:
    return Cell(value, n, versus(value, target, at_most=at_most, n=n, min_sample=min_sample))


def figures_of(section: Any) -> list[Figure]:
    """The section's Figure fields, in the order the dataclass declares them."""
    found = (getattr(section, f.name) for f in fields(section))
    return [value for value in found if isinstance(value, Figure)]


def _kind(target: float | None, at_most: bool) -> str:
    if target is None:
        return ""
    return AT_MOST if at_most else AT_LEAST
