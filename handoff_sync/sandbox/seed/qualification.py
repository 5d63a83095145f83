"""Qualification facts: which gate asks for each, how a partner and the CRM fill
them, and their values as Salesforce fields and HubSpot properties."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from handoff_sync.sandbox.hubspot.schema import PARTNER_ROLES as HS_PARTNER_ROLES
from handoff_sync.sandbox.salesforce.schema import COMPETITORS, PARTNER_ROLES
from handoff_sync.sandbox.seed.draw import (
    DAY_MS,
    between,
    hubspot_number,
    moment,
    one_of,
    pick,
    weighted,
)
from handoff_sync.sandbox.seed.model import Scenario
from handoff_sync.sandbox.seed.rules import EXPIRED, REJECTED
from handoff_sync.sandbox.seed.words import (
    BLOCKERS,
    BUYER_TITLES,
    CHAMPION_TITLES,
    COMMITMENTS,
    DECISION_PROCESSES,
    EVALUATION_TEAMS,
    FEEDBACK,
    FIRST_NAMES,
    LAST_NAMES,
    NEEDS,
    OPEN_RISKS,
    PROTOCOLS,
    SUCCESS_CRITERIA,
    TECH_REQUIREMENTS,
)

# (Salesforce field, HubSpot property, value kind, stage whose exit gate asks for it).
# Success criteria and open risks are also what the closed-won-to-CS document needs.
QUALIFICATION: tuple[tuple[str, str, str, int], ...] = (
    ("Budget__c", "budget", "number", 1),
    ("Economic_Buyer__c", "economic_buyer", "text", 1),
    ("Need__c", "need", "text", 1),
    ("Decision_Date__c", "decision_date", "date", 1),
    ("Decision_Process__c", "decision_process", "text", 1),
    ("Technical_Requirements__c", "technical_requirements", "text", 1),
    ("Competitors__c", "competitors", "text", 1),
    ("Partner_Prepared_Prospect__c", "partner_prepared_prospect", "bool", 1),
    ("Intro_Call_At__c", "intro_call_at", "datetime", 2),
    ("Joint_Discovery_At__c", "joint_discovery_at", "datetime", 2),
    ("Communication_Protocol__c", "communication_protocol", "text", 2),
    ("Stakeholder_Map__c", "stakeholder_map", "text", 3),
    ("Commitments__c", "commitments", "text", 3),
    ("Open_Risks__c", "open_risks", "text", 3),
    ("Co_Led_Meetings__c", "co_led_meetings", "number", 4),
    ("Success_Criteria__c", "success_criteria", "text", 4),
    ("Partner_Feedback__c", "partner_feedback", "text", 5),
    ("Partner_Ongoing_Role__c", "partner_ongoing_role", "role", 5),
    ("Partner_Split_Pct__c", "partner_split_pct", "number", 5),
)
_COMPETITOR_SETS = weighted([
    *((c, 10.0) for c in COMPETITORS),
    *((f"{a};{b}", 2.0) for i, a in enumerate(COMPETITORS) for b in COMPETITORS[i + 1:]),
    *((f"{a};{b};{c}", 0.5) for i, a in enumerate(COMPETITORS)
      for j, b in enumerate(COMPETITORS[i + 1:], i + 1) for c in COMPETITORS[j + 1:]),
])
_ROLES = weighted([(PARTNER_ROLES[0], 20), (PARTNER_ROLES[1], 40), (PARTNER_ROLES[2], 30),
                   (PARTNER_ROLES[3], 10)])
_SPLITS = (10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 12.5)
_BUDGET_FACTORS = (0.9, 1.0, 1.0, 1.1, 1.25)
_Maker = Callable[[Callable[[], float], Scenario, list[Any], int], Any]


def fiscal_year_of(s: Scenario) -> str:
    year = s.close_date.year if s.close_date else 2000
    return f"{(year + 1) % 100:02d}"


def _q_budget(r: Callable[[], float], s: Scenario, q: list[Any], now_ms: int) -> float:
    return max(1000.0, float(round(s.amount * one_of(r, _BUDGET_FACTORS), -3)))


def _q_buyer(r: Callable[[], float], s: Scenario, q: list[Any], now_ms: int) -> str:
    return f"{one_of(r, FIRST_NAMES)} {one_of(r, LAST_NAMES)}, {one_of(r, BUYER_TITLES)}"


def _q_need(r: Callable[[], float], s: Scenario, q: list[Any], now_ms: int) -> str:
    return one_of(r, NEEDS).format(fy=fiscal_year_of(s))


def _q_decision_date(r: Callable[[], float], s: Scenario, q: list[Any], now_ms: int) -> date:
    assert s.close_date is not None
    return s.close_date - timedelta(days=int(r() * 15))


def _q_competitors(r: Callable[[], float], s: Scenario, q: list[Any], now_ms: int) -> str:
    return pick(_COMPETITOR_SETS, r())


def _q_prepared(r: Callable[[], float], s: Scenario, q: list[Any], now_ms: int) -> bool:
    return True


def _q_intro_call(r: Callable[[], float], s: Scenario, q: list[Any], now_ms: int) -> int | None:
    if s.stage < 2:
        return None
    at = s.stage_starts[1] + int(between(r, 0.1, 1.5) * DAY_MS)
    return at if at <= now_ms else None  # not held yet


def _q_joint_discovery(r: Callable[[], float], s: Scenario, q: list[Any],
                       now_ms: int) -> int | None:
    if s.stage < 2:
        return None
    at = s.stage_starts[1] + int(between(r, 1.6, 3.0) * DAY_MS)  # after the intro call
    return at if at <= now_ms else None


def _q_stakeholders(r: Callable[[], float], s: Scenario, q: list[Any], now_ms: int) -> str:
    buyer = q[1] or _q_buyer(r, s, q, now_ms)
    name, title = buyer.split(", ", 1)
    return (f"EB: {name} ({title}); champion: {one_of(r, FIRST_NAMES)} {one_of(r, LAST_NAMES)} "
            f"({one_of(r, CHAMPION_TITLES)}); blocker: {one_of(r, BLOCKERS)}; "
            f"evaluators: {2 + int(r() * 5)} from {one_of(r, EVALUATION_TEAMS)}")


def _q_co_led(r: Callable[[], float], s: Scenario, q: list[Any], now_ms: int) -> float:
    if s.stage >= 5:
        return one_of(r, (2.0, 3.0))
    return one_of(r, (1.0, 2.0, 2.0, 3.0)) if s.stage == 4 else 1.0


def _q_role(r: Callable[[], float], s: Scenario, q: list[Any], now_ms: int) -> str:
    return pick(_ROLES, r())


def _q_split(r: Callable[[], float], s: Scenario, q: list[Any], now_ms: int) -> float:
    return one_of(r, _SPLITS)


# One maker per QUALIFICATION row, in the same order: a function, or a tuple of texts to
# pick from (a plain pick costs half as much as a call, and text facts are the commonest).
_MAKERS: tuple[_Maker | tuple[str, ...], ...] = (
    _q_budget, _q_buyer, _q_need, _q_decision_date, DECISION_PROCESSES, TECH_REQUIREMENTS,
    _q_competitors, _q_prepared, _q_intro_call, _q_joint_discovery, PROTOCOLS,
    _q_stakeholders, COMMITMENTS, OPEN_RISKS, _q_co_led, SUCCESS_CRITERIA, FEEDBACK,
    _q_role, _q_split,
)


def _make_fact(k: int, r: Callable[[], float], s: Scenario, values: list[Any],
               now_ms: int) -> Any:
    maker = _MAKERS[k]
    if isinstance(maker, tuple):
        return maker[int(r() * len(maker))]
    return maker(r, s, values, now_ms)


def prm_qualification(r: Callable[[], float], s: Scenario, now_ms: int) -> list[Any]:
    """The facts the partner entered: gaps depend on stage and the partner's diligence."""
    # Dead registrations were abandoned half-way, so they are sparser still.
    scale = 0.6 if s.status in (REJECTED, EXPIRED) else 1.0
    values: list[Any] = [None] * len(_MAKERS)
    for k, chance in s.partner.fill[s.stage - 1]:
        if r() < chance * scale:
            maker = _MAKERS[k]  # _make_fact inlined: this loop is the generator's hottest
            values[k] = (maker[int(r() * len(maker))] if isinstance(maker, tuple)
                         else maker(r, s, values, now_ms))
    return values


def crm_qualification(r: Callable[[], float], s: Scenario, now_ms: int) -> list[Any]:
    """The CRM copy: mostly in step, sometimes one fact the AE added or that never arrived."""
    if r() >= 0.3:
        return s.prm_quals  # the same list, so the records convert it only once
    values = list(s.prm_quals)
    k = int(r() * len(values))
    if values[k] is not None:
        values[k] = None
    elif QUALIFICATION[k][3] <= s.stage:
        values[k] = _make_fact(k, r, s, values, now_ms)
    return values


_HS_ROLE = {label: value for value, label in HS_PARTNER_ROLES.items()}


def facts_of(values: list[Any]) -> tuple[dict[str, Any], dict[str, str | None]]:
    """The filled qualification facts as Salesforce fields and as HubSpot properties."""
    sf: dict[str, Any] = {}
    hs: dict[str, str | None] = {}
    for (sf_name, hs_name, kind, _), value in zip(QUALIFICATION, values, strict=True):
        if value is None:
            continue
        if kind == "text":
            sf[sf_name] = hs[hs_name] = value
        elif kind == "number":
            sf[sf_name], hs[hs_name] = value, hubspot_number(value)
        elif kind == "date":
            sf[sf_name], hs[hs_name] = value, value.isoformat()
        elif kind == "datetime":
            sf[sf_name], hs[hs_name] = moment(value)
        elif kind == "bool":
            sf[sf_name], hs[hs_name] = value, "true" if value else "false"
        else:
            sf[sf_name], hs[hs_name] = value, _HS_ROLE[value]
    return sf, hs
