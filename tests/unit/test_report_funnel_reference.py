"""The leakage funnel equals its definition, computed the slow way, on random deals.

report/funnel.py tallies each group of deals in one pass and works out each deal's step
times once (at 100,000 deals the figures went over every deal again for each group and
step). The reference below is that earlier, literal form of the definition: for every
step and every group it counts the deals again. Both must give the same figures, to the
last float, for a few hundred random deals: random partners, regions, amounts, steps held
out of order, times missing, lost and won deals, a funnel without ``lost_when``.
"""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from handoff_sync.mapping.policy.conditions import evaluate
from handoff_sync.mapping.policy.funnels import Funnel
from handoff_sync.report import funnel as fast
from handoff_sync.report.basis import group_of
from handoff_sync.report.facts import DIRECT, PARTNER, PRM_ONLY, DealFact
from handoff_sync.report.stats import pct, wilson

FUNNEL = {
    "id": "chain", "label": "Random chain",
    "applies_when": {"field": "prm_id", "op": "is_filled"},
    "lost_when": {"any": [
        {"field": "registration_status", "op": "==", "value": "rejected"},
        {"all": [{"field": "is_closed", "op": "is_true"}, {"field": "is_won", "op": "is_false"}]}]},
    "steps": [
        {"id": "registered", "label": "Registered",
         "reached_when": {"field": "prm_id", "op": "is_filled"}, "at": "custom.registered_at"},
        {"id": "approved", "label": "Approved",
         "reached_when": {"field": "approved_at", "op": "is_filled"}, "at": "approved_at"},
        {"id": "intro", "label": "Intro held",
         "reached_when": {"field": "intro_call_at", "op": "is_filled"}, "at": "intro_call_at"},
        {"id": "untimed", "label": "Stage 5",
         "reached_when": {"field": "stage", "op": "==", "value": "five"}},
        {"id": "won", "label": "Won", "reached_when": {"field": "is_won", "op": "is_true"},
         "at": "close_date"},
    ],
}
NO_LOSS = {**FUNNEL, "id": "no_loss", "lost_when": None, "applies_when": None}
START = datetime(2026, 9, 1, tzinfo=UTC)


def random_deals(count: int, seed: int) -> list[DealFact]:
    rng = random.Random(seed)
    deals = []
    for i in range(count):
        kind = rng.choice((PARTNER, PARTNER, PARTNER, DIRECT, PRM_ONLY))
        registered = START + timedelta(hours=rng.randint(0, 24 * 90))

        def later(at: datetime) -> datetime | None:
            if rng.random() < 0.15:
                return None  # reached, but no time recorded
            return at + timedelta(hours=rng.randint(-30, 24 * 20))  # sometimes before it

        values: dict[str, Any] = {}
        if kind != DIRECT:
            values["prm_id"] = f"{i}"
            values["custom.registered_at"] = registered if rng.random() < 0.9 else None
        if rng.random() < 0.7:
            values["approved_at"] = later(registered) or registered
        if rng.random() < 0.4:
            values["intro_call_at"] = later(registered)
        if rng.random() < 0.3:
            values["stage"] = "five"
        closed = rng.random() < 0.4
        won = closed and rng.random() < 0.5
        if closed:
            values["close_date"] = (registered + timedelta(days=rng.randint(0, 120))).date()
        if rng.random() < 0.1:
            values["registration_status"] = "rejected"
        values["is_closed"], values["is_won"] = closed, won
        amount = rng.choice((None, 1000, 2500, 12_345, 99_999)) if rng.random() < 0.95 else 7
        cents = Decimal(amount) + Decimal(rng.randint(0, 99)) / 100 if amount else None
        deals.append(DealFact(
            f"prm:{i}" if kind != DIRECT else f"crm:{i}", kind,
            partner=rng.choice(("Acme", "Globex", "Initech", None)),
            region=rng.choice(("EMEA", "NA", None)), segment=rng.choice(("SMB", "Enterprise")),
            owner=rng.choice(("a@v.example", "b@v.example")),
            handoff_type=rng.choice(("partner_to_direct", None)), amount=cents,
            is_closed=closed, is_won=won, values=values))
    return deals


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("shape", [FUNNEL, NO_LOSS], ids=["lost_when", "no_lost_when"])
@pytest.mark.parametrize("min_sample", [1, 5, 30])
def test_the_funnel_equals_its_definition_counted_step_by_step(
        seed: int, shape: dict[str, Any], min_sample: int) -> None:
    funnel = Funnel.model_validate(shape)
    deals = random_deals(400, seed)
    assert fast.compute_funnel(deals, funnel, min_sample) == reference(deals, funnel,
                                                                       min_sample)


# --- the reference: the definition, literally (report/funnel.py before it was tallied) ---

def reference(deals: Sequence[DealFact], funnel: Funnel, min_sample: int) -> Any:
    paths = [_path(deal, funnel) for deal in deals
             if funnel.applies_when is None or evaluate(funnel.applies_when, _lookup(deal))]
    steps = _steps(paths, funnel)
    last = len(funnel.steps) - 1
    lost = [p for p in paths if p["lost"] and p["furthest"] >= 0]
    flying = [p for p in paths if _in_flight(p, last)]
    return fast.FunnelFigures(
        funnel=funnel.id, label=funnel.label, definition=fast._funnel_definition(funnel),
        currency=None, entered=len(paths),
        completed=sum(1 for p in paths if p["furthest"] == last >= 0),
        lost=len(lost), lost_amount=_money(p["amount"] for p in lost),
        in_flight=len(flying), in_flight_amount=_money(p["amount"] for p in flying),
        biggest_loss=fast._biggest_loss(steps),
        weakest_step=fast._weakest(funnel, steps, min_sample), steps=steps,
        by=tuple(fast.Breakdown(dimension, fast.DIMENSION_LABELS[dimension],
                                _groups(paths, funnel, min_sample,
                                        lambda p, d=dimension: group_of(p["deal"], d)))
                 for dimension in fast.DIMENSIONS),
        weekly=tuple(sorted(_groups(paths, funnel, min_sample,
                                    lambda p: fast._week(p["times"][0])),
                            key=lambda r: (r.group == fast.NO_DATE, r.group))),
        weekly_note=None)


def _lookup(deal: DealFact) -> Callable[[str], Any]:
    return lambda name: deal.values.get(name)


def _path(deal: DealFact, funnel: Funnel) -> dict[str, Any]:
    lookup = _lookup(deal)
    own = [evaluate(step.reached_when, lookup) for step in funnel.steps]
    furthest = max((i for i, holds in enumerate(own) if holds), default=-1)
    times = [fast._instant(lookup(step.at)) if held and step.at else None
             for step, held in zip(funnel.steps, own, strict=True)]
    lost = funnel.lost_when is not None and evaluate(funnel.lost_when, lookup)
    return {"deal": deal, "furthest": furthest, "times": times, "lost": lost,
            "amount": float(deal.amount) if deal.amount is not None else 0.0}


def _in_flight(path: dict[str, Any], last: int) -> bool:
    return not path["lost"] and 0 <= path["furthest"] < last


def _days(path: dict[str, Any], step: int) -> float | None:
    start, end = path["times"][step - 1], path["times"][step]
    if start is None or end is None or end < start:
        return None
    return (end - start).total_seconds() / 86_400


def _steps(paths: Sequence[dict[str, Any]], funnel: Funnel) -> tuple[Any, ...]:
    last = len(funnel.steps) - 1
    reached = [sum(1 for p in paths if p["furthest"] >= i) for i in range(len(funnel.steps))]
    figures = []
    for i, step in enumerate(funnel.steps):
        days = [gap for p in paths if i and (gap := _days(p, i)) is not None]
        lost = [p for p in paths if p["lost"] and p["furthest"] == i]
        flying = [p for p in paths if p["furthest"] == i and _in_flight(p, last)]
        moved_on = reached[i + 1] if i < last else 0
        settled = moved_on + len(lost) if i < last else 0
        figures.append(fast.StepFigures(
            step=step.id, label=step.label, definition=fast._step_definition(funnel, i),
            reached=reached[i],
            from_previous_pct=pct(reached[i], reached[i - 1]) if i else None,
            from_start_pct=pct(reached[i], reached[0]),
            median_days=round(statistics.median(days), 1) if days else None,
            timed=len(days), lost=len(lost), lost_amount=_money(p["amount"] for p in lost),
            in_flight=len(flying), in_flight_amount=_money(p["amount"] for p in flying),
            survived_pct=pct(moved_on, settled), settled=settled))
    return tuple(figures)


def _groups(paths: Sequence[dict[str, Any]], funnel: Funnel, min_sample: int,
            key: Callable[[dict[str, Any]], str]) -> tuple[Any, ...]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in paths:
        grouped[key(path)].append(path)
    rows = []
    last = len(funnel.steps) - 1
    for name, mine in grouped.items():
        steps = _steps(mine, funnel)
        reached = tuple(step.reached for step in steps)
        first, final = reached[0], reached[last]
        interval = wilson(final, first)
        lost = [p for p in mine if p["lost"] and p["furthest"] >= 0]
        small = first < min_sample
        rows.append(fast.GroupFunnel(
            group=name, entered=len(mine), reached=reached, to_last_pct=pct(final, first),
            to_last_low_pct=interval[0] if interval else None,
            to_last_high_pct=interval[1] if interval else None, lost=len(lost),
            lost_amount=_money(p["amount"] for p in lost),
            in_flight=sum(1 for p in mine if _in_flight(p, last)),
            weakest_step=None if small else fast._weakest(funnel, steps, min_sample),
            small=small))
    return tuple(sorted(rows, key=lambda r: (-r.entered, r.group)))


def _money(amounts: Any) -> float:
    return round(sum(amounts), 2)


def test_the_random_deals_exercise_every_case() -> None:
    """The reference is only worth comparing with on deals that reach every branch."""
    funnel = Funnel.model_validate(FUNNEL)
    figures = fast.compute_funnel(random_deals(400, 1), funnel, 30)
    assert figures.lost and figures.in_flight and figures.completed
    assert all(s.timed for s in figures.steps[1:3]) and figures.steps[3].timed == 0
    assert any(g.small for g in figures.by[0].groups) or any(
        g.small for g in figures.weekly)
    assert any(s.lost_amount != int(s.lost_amount) for s in figures.steps)  # cents add up
    assert {g.group for g in figures.weekly} >= {fast.NO_DATE}


def test_a_memo_gives_the_same_funnels_for_each_subset_of_the_same_deals() -> None:
    """The console keeps one memo per rows read (the minute tick and other groupings
    reuse the section, other filters the deals' paths): same figures as without it,
    with a period end too (a step timed after it is not reached)."""
    funnels = [Funnel.model_validate(FUNNEL), Funnel.model_validate(NO_LOSS)]
    deals = random_deals(300, seed=11)
    memo = fast.FunnelMemo()
    partner_a = [d for d in deals if d.partner == deals[0].partner]
    end = START + timedelta(days=45)
    for subset, until in ((deals, None), (partner_a, None), (deals, end), (deals, None),
                          (deals[:40], end), (partner_a, end), (partner_a, None)):
        assert fast.compute_funnels(subset, funnels, 5, until, memo) == \
            fast.compute_funnels(subset, funnels, 5, until), until
    assert fast.compute_funnels(deals, funnels, 5, memo=memo) is \
        fast.compute_funnels(deals, funnels, 5, memo=memo)  # the section itself, kept
    assert fast.compute_funnels(deals, funnels, 5, end, memo) != \
        fast.compute_funnels(deals, funnels, 5, memo=memo)
