"""report/stats.py: Wilson intervals against published values, the min-sample rule, and
no NaN anywhere (n = 0 is "no data")."""

from __future__ import annotations

import math

import pytest

from handoff_sync.report.stats import (
    ABOVE,
    BELOW,
    NO_DATA,
    OK,
    SMALL,
    enough,
    mean,
    median,
    pct,
    ranked,
    rate,
    round1,
    versus,
    wilson,
)


@pytest.mark.parametrize(("successes", "n", "low", "high"), [
    # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (Wilson score,
    # no continuity correction), published to four decimals.
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
    # n = 1: the interval says how little one handoff tells.
    (1, 1, 0.2065, 1.0),
    (0, 1, 0.0, 0.7935),
])
def test_wilson_interval_matches_published_values(successes: int, n: int, low: float,
                                                  high: float) -> None:
    found = wilson(successes, n)
    assert found is not None
    # Percent with one decimal: within half a tenth of a point of the published value.
    assert found[0] == pytest.approx(100 * low, abs=0.051)
    assert found[1] == pytest.approx(100 * high, abs=0.051)


def test_no_sample_is_no_data_never_nan() -> None:
    assert wilson(0, 0) is None and pct(0, 0) is None
    assert mean([]) is None and median([]) is None
    assert round1(math.nan) is None and round1(None) is None
    empty = rate(0, 0, min_sample=5)
    assert (empty.pct, empty.low_pct, empty.high_pct, empty.enough) == (None, None, None,
                                                                        False)
    assert versus(None, 90) == NO_DATA


def test_a_rate_carries_n_its_interval_and_whether_it_may_be_judged() -> None:
    small = rate(1, 1, min_sample=5)
    assert (small.part, small.n, small.pct, small.enough) == (1, 1, 100.0, False)
    assert (small.low_pct, small.high_pct) == (20.7, 100.0)
    assert rate(4, 5, min_sample=5).enough  # at min_sample: judged
    assert not enough(4, 5) and enough(5, 5) and not enough(0, 1)


def test_versus_judges_only_samples_large_enough() -> None:
    assert versus(95.0, 90) == OK
    assert versus(80.0, 90) == BELOW
    assert versus(12.0, 10, at_most=True) == ABOVE
    assert versus(10.0, 10, at_most=True) == OK
    assert versus(100.0, 90, n=1, min_sample=5) == SMALL  # one handoff out of one
    assert versus(50.0, None, n=10, min_sample=5) == ""  # nothing to judge by


def test_ranked_ranks_only_groups_at_min_sample_with_a_score() -> None:
    groups = [("solo", 100.0, 1), ("big", 70.0, 40), ("mid", 80.0, 6), ("none", None, 9),
              ("tie", 70.0, 12)]
    ranks, rest = ranked(groups, score=lambda g: g[1], n=lambda g: g[2], min_sample=5,
                         name=lambda g: g[0])
    assert [(rank, g[0]) for rank, g in ranks] == [(1, "mid"), (2, "big"), (3, "tie")]
    assert [g[0] for g in rest] == ["none", "solo"]  # unranked: largest n first
