"""Honest rates: a share always travels with its n, a Wilson 95% interval, and whether n
reaches the policy's ``min_sample`` (handoff.yaml ``measures.min_sample``).

The one rule every section follows (issue 19): a rate shows n always; a group whose n is
under ``min_sample`` is shown, but neither ranked nor marked against a target, because
one handoff out of one is "100%" and says nothing. The Wilson score interval is used
rather than the normal approximation because it stays inside 0-100% and is still
meaningful at n = 1 or at 0 or n successes, which is exactly where small groups live.

Everything here is pure and returns ``None`` for "no data" (n = 0, no values): the
renderers print "n/a", never NaN.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

Z95 = 1.959963984540054  # two-sided 95% normal quantile

T = TypeVar("T")

# Status words a figure carries against its target (the renderers print them as-is).
OK = "ok"
BELOW = "below target"
ABOVE = "above target"
SMALL = "small sample"
NO_DATA = "no data"


def pct(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent, one decimal; None when ``whole`` is 0."""
    return None if whole <= 0 else round(100 * part / whole, 1)


def mean(values: Sequence[float]) -> float | None:
    return float(statistics.fmean(values)) if values else None


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def round1(value: float | None) -> float | None:
    """One decimal; None stays None, and a non-finite value (never expected) is None."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, 1)


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes`` out of ``n``, in percent (one decimal);
    None when n is 0."""
    if n <= 0:
        return None
    successes = min(max(successes, 0), n)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low, high = max(0.0, centre - spread), min(1.0, centre + spread)
    return round(100 * low, 1), round(100 * high, 1)


def enough(n: int | None, min_sample: int) -> bool:
    """Whether a sample of ``n`` may be ranked and marked against a target."""
    return n is not None and n > 0 and n >= min_sample


@dataclass(frozen=True, slots=True)
class Rate:
    """``part`` of ``n`` as a percentage with its Wilson 95% interval.

    ``enough`` is False when n is under the policy's min_sample: show it (with n), but do
    not rank it or mark it against a target.
    """

    part: int
    n: int
    pct: float | None  # None when n is 0
    low_pct: float | None  # Wilson 95% interval, None when n is 0
    high_pct: float | None
    enough: bool


def rate(part: int, n: int, min_sample: int) -> Rate:
    interval = wilson(part, n)
    return Rate(part, n, pct(part, n), interval[0] if interval else None,
                interval[1] if interval else None, enough(n, min_sample))


def versus(value: float | None, target: float | None, *, at_most: bool = False,
           n: int | None = None, min_sample: int = 1) -> str:
    """The status of ``value`` against ``target``: OK, BELOW or ABOVE (the wrong side of
    an at-least or an at-most target), SMALL when n is under min_sample (not judged),
    NO_DATA without a value; "" when there is no target to judge by."""
    if value is None:
        return NO_DATA
    if n is not None and not enough(n, min_sample):
        return SMALL
    if target is None:
        return ""
    if at_most:
        return OK if value <= target else ABOVE
    return OK if value >= target else BELOW


def ranked(items: Iterable[T], *, score: Callable[[T], float | None],
           n: Callable[[T], int], min_sample: int,
           name: Callable[[T], str]) -> tuple[list[tuple[int, T]], list[T]]:
    """Rank the items whose n reaches ``min_sample`` and that have a score, best (highest)
    first, ties by name: [(rank, item)]; the rest (small samples, no score) come back
    unranked, largest n first, then by name."""
    pool = list(items)
    judged = [i for i in pool if enough(n(i), min_sample) and score(i) is not None]
    rest = [i for i in pool if not (enough(n(i), min_sample) and score(i) is not None)]
    judged.sort(key=lambda i: (-(score(i) or 0.0), name(i)))
    rest.sort(key=lambda i: (-n(i), name(i)))
    return [(index + 1, item) for index, item in enumerate(judged)], rest
