"""Deal scenarios: status and outcome, how each links (explicit, fuzzy, ambiguous,
in conflict), its stage and timeline, amount, close date and people."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import date, timedelta
from itertools import accumulate

from handoff_sync.sandbox.salesforce.schema import REGIONS
from handoff_sync.sandbox.seed.draw import DAY_MS, between, one_of, pick, utc_day, weighted
from handoff_sync.sandbox.seed.model import Customer, Partner, Person, Scenario, Staff
from handoff_sync.sandbox.seed.qualification import (
    crm_qualification,
    fiscal_year_of,
    prm_qualification,
)
from handoff_sync.sandbox.seed.rules import (
    APPROVED,
    CLOSED_WON_TO_CS,
    CONVERTED,
    EXPIRED,
    HAS_CRM,
    PARTNER_TO_DIRECT,
    REJECTED,
    STAGE_WINDOW_DAYS,
    SUBMITTED,
)
from handoff_sync.sandbox.seed.words import COUNTRIES, INITIATIVES

_STATUSES = weighted([(SUBMITTED, 12), (APPROVED, 14), (REJECTED, 6), (EXPIRED, 6),
                      (CONVERTED, 62)])
_OUTCOMES = weighted([("open", 72), ("won", 16), ("lost", 12)])


def skeletons(rng: random.Random, deals: int, partners: list[Partner],
              customers: list[Customer]) -> list[Scenario]:
    if not deals:
        return []
    r = rng.random
    picks = rng.choices(partners, cum_weights=list(accumulate(p.weight for p in partners)),
                        k=deals)
    # Every account gets a deal; the rest land on random accounts (several per some).
    accounts = list(range(len(customers)))
    accounts += [int(r() * len(customers)) for _ in range(deals - len(customers))]
    rng.shuffle(accounts)
    scenarios = []
    for i in range(deals):
        status = pick(_STATUSES, r())
        outcome = ("none" if status not in HAS_CRM
                   else "open" if status == APPROVED else pick(_OUTCOMES, r()))
        scenarios.append(Scenario(i, picks[i], customers[accounts[i]], status, outcome,
                                  has_crm=status in HAS_CRM))
    return scenarios


def _share(eligible: int, rate: float, deals: int) -> int:
    """How many of ``eligible`` get a rare kind: at least one in any seed of 100+ deals."""
    count = round(eligible * rate)
    return max(count, 1) if deals >= 100 and eligible else count


def assign_links(rng: random.Random, scenarios: list[Scenario],
                 partners: list[Partner]) -> None:
    """Mark which registrations link explicitly, fuzzily, ambiguously or in conflict."""
    linked = [s for s in scenarios if s.has_crm]
    submitted = [s for s in scenarios if s.status == SUBMITTED]
    # About 1% of registrations each are ambiguous or in conflict (a pair counts twice).
    n_ambiguous = min(_share(len(scenarios), 0.01, len(scenarios)), len(linked))
    n_conflict = min(_share(len(scenarios), 0.005, len(scenarios)), len(submitted))
    if len(partners) < 2:
        n_conflict = 0  # a conflict needs a second partner
    n_fuzzy = round(len(linked) * 0.10)
    originals: list[Scenario] = []
    for s in rng.sample(linked, len(linked)):
        if len(originals) < n_conflict and s.outcome == "open":
            s.link = "conflict"
            originals.append(s)
        elif n_ambiguous:
            s.link, n_ambiguous = "ambiguous", n_ambiguous - 1
        elif n_fuzzy:
            s.link, n_fuzzy = "fuzzy", n_fuzzy - 1
        else:
            s.link = "explicit"
    for original, rival in zip(originals, rng.sample(submitted, len(originals)), strict=True):
        _make_rival(rng, original, rival, partners)


def _make_rival(rng: random.Random, original: Scenario, rival: Scenario,
                partners: list[Partner]) -> None:
    """A second partner registers the customer and deal the first one already owns."""
    rival.customer = original.customer
    if rival.partner is original.partner:
        step = 1 + int(rng.random() * (len(partners) - 1))
        rival.partner = partners[(original.partner.index + step) % len(partners)]
    rival.link = "conflict"
    rival.conflicts_with = original
    original.conflicts_with = rival


_OPEN_STAGES = weighted([(1, 14), (2, 22), (3, 26), (4, 23), (5, 15)])
_LOST_STAGES = weighted([(1, 30), (2, 30), (3, 25), (4, 15)])
_CRM_STAGES = {
    1: ("Prospecting", "Qualification"),
    2: ("Qualification", "Needs Analysis"),
    3: ("Needs Analysis", "Value Proposition"),
    4: ("Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote"),
    5: ("Proposal/Price Quote", "Negotiation/Review"),
}
# Time spent in the current stage as a share of its window: most on track, some at risk,
# some breached so SLA escalations have something to do.
_WINDOW_USE = weighted([((0.05, 0.75), 62), ((0.75, 1.0), 20), ((1.0, 3.0), 18)])


def _choose_stage(r: Callable[[], float], s: Scenario) -> None:
    if s.status == APPROVED:
        s.stage = 1 if r() < 0.6 else 2
    elif s.status != CONVERTED:
        s.stage = 1
    elif s.outcome == "open":
        s.stage = pick(_OPEN_STAGES, r())
    elif s.outcome == "won":
        s.stage = 5
        if r() < 0.6:
            s.handoff_type = CLOSED_WON_TO_CS
    else:
        s.stage = pick(_LOST_STAGES, r())
    if s.outcome == "won":
        s.crm_stage = "Closed Won"
    elif s.outcome == "lost":
        s.crm_stage = "Closed Lost"
    elif s.has_crm:
        s.crm_stage = one_of(r, _CRM_STAGES[s.stage])


def _stage_entered(r: Callable[[], float], s: Scenario, now_ms: int) -> tuple[int, int | None]:
    """When the current handoff stage began, and when the deal closed (closed deals only)."""
    days: float
    if s.outcome == "won":
        if s.handoff_type == CLOSED_WON_TO_CS:
            # Freshly signed: the 48-hour CS handoff clock is running now.
            closed_ms = now_ms - int(between(r, 0.05, 6) * DAY_MS)
            return closed_ms, closed_ms
        # Older wins: the partner handoff reached its last stage around signature.
        closed_ms = now_ms - int(between(r, 7, 150) * DAY_MS)
        return closed_ms - int(between(r, 0, 10) * DAY_MS), closed_ms
    if s.outcome == "lost":
        closed_ms = now_ms - int(between(r, 1, 150) * DAY_MS)
        return closed_ms - int(between(r, 2, 40) * DAY_MS), closed_ms
    if s.status == REJECTED:
        days = between(r, 8, 120)
    elif s.status == EXPIRED:
        days = between(r, 95, 220)
    else:
        low, high = pick(_WINDOW_USE, r())
        days = STAGE_WINDOW_DAYS[s.stage - 1] * between(r, low, high)
    return now_ms - int(days * DAY_MS), None


def _timeline(r: Callable[[], float], s: Scenario, now_ms: int) -> int | None:
    """Stage starts, approval and creation, walking back from the current stage."""
    entered, closed_ms = _stage_entered(r, s, now_ms)
    starts = [entered]
    for window in reversed(STAGE_WINDOW_DAYS[:s.stage - 1]):
        starts.append(starts[-1] - int(window * between(r, 0.5, 1.3) * DAY_MS))
    starts.reverse()
    s.stage_starts = starts
    if s.has_crm:
        s.approved_ms = starts[0] - int(between(r, 0, 1.5) * DAY_MS)
        s.created_ms = s.approved_ms - int(between(r, 1, 10) * DAY_MS)
    else:
        s.created_ms = starts[0]
    return closed_ms


def draw_amount(rng: random.Random) -> float:
    """Log-normal around 51k: about a quarter at or above the 100k handoff threshold."""
    value = min(900_000.0, max(5_000.0, math.exp(rng.gauss(10.84, 1.0))))
    return round(value, 2) if rng.random() < 0.1 else float(round(value / 500) * 500)


def _name_forms(customer: Customer, initiative: str, fiscal_year: str) -> tuple[str, ...]:
    """How people write one deal's name: partners use the first two, ops the third."""
    return (_partner_name(customer, initiative, 0), _partner_name(customer, initiative, 1),
            f"{customer.short} - {initiative}", f"{customer.short} {initiative} FY{fiscal_year}")


def _partner_name(customer: Customer, initiative: str, form: int) -> str:
    if form:
        return f"{customer.name} {initiative.lower()}"
    return f"{customer.name} - {initiative}"


def _close_date(r: Callable[[], float], s: Scenario, closed_ms: int | None,
                today: date) -> date:
    if closed_ms is not None:
        return utc_day(closed_ms)
    if s.status == APPROVED or (s.status == CONVERTED and r() >= 0.07):
        return today + timedelta(days=7 + int(r() * 144))
    if s.status == CONVERTED:
        return today - timedelta(days=1 + int(r() * 30))  # past due, still open
    return utc_day(s.created_ms) + timedelta(days=30 + int(r() * 151))


def _choose_ae(r: Callable[[], float], s: Scenario, staff: Staff) -> Person:
    x = r()
    if x < 0.02:
        return staff.sf_only_ae
    if x < 0.04:
        return staff.hs_only_ae
    if x < 0.05:
        return staff.inactive_ae  # left the company; deals not yet reassigned
    return one_of(r, staff.ae_by_region[s.region])


def _assign_people(r: Callable[[], float], s: Scenario, staff: Staff) -> None:
    reps = s.partner.reps
    if r() >= 0.15 * (1 - s.partner.diligence):
        s.rep_email = one_of(r, reps)[2]
    if s.has_crm:
        s.ae = _choose_ae(r, s, staff)
        late = s.outcome == "open" and s.stage >= 4
        if (s.outcome == "won" and r() < 0.9) or (late and r() < 0.6):
            s.cs = one_of(r, staff.cs)


def _note_account(s: Scenario, r: Callable[[], float]) -> None:
    customer = s.customer
    customer.deals += 1
    if not customer.region:
        customer.region = s.region
        customer.country = one_of(r, COUNTRIES[s.region])
    if customer.owner is None and s.ae is not None:
        customer.owner = s.ae
    customer.won = customer.won or s.outcome == "won"
    if not customer.created_ms or s.created_ms < customer.created_ms:
        customer.created_ms = s.created_ms


def _plan(rng: random.Random, s: Scenario, staff: Staff, now_ms: int, today: date) -> None:
    r = rng.random
    _choose_stage(r, s)
    closed_ms = s.closed_ms = _timeline(r, s, now_ms)
    s.amount = draw_amount(rng)
    s.region = s.partner.region if r() < 0.85 else one_of(r, REGIONS)
    s.close_date = _close_date(r, s, closed_ms, today)
    customer = s.customer
    s.initiative = INITIATIVES[(customer.initiative_offset + customer.deals) % len(INITIATIVES)]
    s.prm_name = _partner_name(customer, s.initiative, int(r() * 2))
    _assign_people(r, s, staff)
    _note_account(s, r)
    s.prm_quals = prm_qualification(r, s, now_ms)
    if s.has_crm:
        _plan_crm(r, s, now_ms)


def _plan_crm(r: Callable[[], float], s: Scenario, now_ms: int) -> None:
    """The CRM copy: equal when linked explicitly, recognisably close when not."""
    assert s.close_date is not None and s.approved_ms is not None
    s.crm_name, s.crm_amount, s.crm_close_date = s.prm_name, s.amount, s.close_date
    if s.link in ("fuzzy", "ambiguous"):
        forms = _name_forms(s.customer, s.initiative, fiscal_year_of(s))
        s.crm_name = one_of(r, [form for form in forms if form != s.prm_name])
        s.crm_amount = float(round(s.amount * between(r, 0.97, 1.03), -2))
        shift = 1 + int(r() * 6)
        s.crm_close_date = s.close_date + timedelta(days=shift if r() < 0.5 else -shift)
    else:
        if r() < 0.3:
            s.crm_name = f"{s.customer.short} - {s.initiative}"  # ops' naming convention
        if r() < 0.08:
            s.crm_amount = float(round(s.amount * between(r, 0.85, 1.2), -3))  # re-scoped
        if s.outcome == "open" and r() < 0.15:
            s.crm_close_date = s.close_date + timedelta(days=7 + int(r() * 24))  # AE slipped
    s.crm_created_ms = min(now_ms, s.approved_ms + int(between(r, 0, 1) * DAY_MS))
    s.crm_quals = crm_qualification(r, s, now_ms)


def _plan_rival(rng: random.Random, s: Scenario, staff: Staff, now_ms: int) -> None:
    """A later, unlinked registration of the same deal by a second partner."""
    r = rng.random
    original = s.conflicts_with
    assert original is not None and original.close_date is not None
    s.stage, s.handoff_type = 1, PARTNER_TO_DIRECT
    s.created_ms = original.created_ms + int((now_ms - original.created_ms)
                                             * between(r, 0.3, 0.95))
    s.stage_starts = [s.created_ms]
    s.initiative = original.initiative
    s.prm_name = _partner_name(s.customer, s.initiative, int(r() * 2))
    s.amount = max(5_000.0, float(round(original.amount * between(r, 0.95, 1.05), -2)))
    s.close_date = original.close_date + timedelta(days=int(r() * 21) - 10)
    s.region = original.region
    _assign_people(r, s, staff)  # only the partner rep: no AE before approval
    _note_account(s, r)
    s.prm_quals = prm_qualification(r, s, now_ms)


def plan_all(rng: random.Random, scenarios: list[Scenario], staff: Staff, now_ms: int,
             today: date) -> None:
    rivals = [s for s in scenarios if s.conflicts_with is not None and not s.has_crm]
    for s in scenarios:
        if s.conflicts_with is None or s.has_crm:
            _plan(rng, s, staff, now_ms, today)
    for s in rivals:  # after their originals, whose deal they copy
        _plan_rival(rng, s, staff, now_ms)


def is_overdue(s: Scenario, now_ms: int) -> bool:
    return now_ms - s.stage_starts[-1] > STAGE_WINDOW_DAYS[s.stage - 1] * DAY_MS
