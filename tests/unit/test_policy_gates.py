from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.policy.gates import evaluate_gate
from handoff_sync.model import Deal, GateStatus

ROOT = Path(__file__).resolve().parents[2]

STAGE1_FACTS = {
    "budget": Decimal(200000), "economic_buyer": "Dana", "need": "faster onboarding",
    "decision_process": "CFO signs", "technical_requirements": "SSO integration",
    "competitors": ("Acme",), "stakeholder_map": "Dana (CFO), Lee (IT)",
    "partner_prepared_prospect": True, "registration_status": "approved",
}


@pytest.fixture(scope="module")
def policy():
    return load_mappings(ROOT / "mappings").policy


def gate(policy, **values):
    return evaluate_gate(policy, Deal.from_values(values))


def test_deal_without_registration_has_no_handoff(policy):
    result = gate(policy, amount=Decimal(500000))
    assert (result.handoff_type, result.status) == (None, GateStatus.NOT_REQUIRED)


def test_below_threshold_partner_deal_is_not_required(policy):
    result = gate(policy, prm_id="1", amount=Decimal(50000))
    assert result.handoff_type == "partner_to_direct"
    assert (result.required, result.status) == (False, GateStatus.NOT_REQUIRED)


@pytest.mark.parametrize("status", ["rejected", "expired", "closed_lost"])
def test_a_lost_or_refused_registration_needs_no_handoff_however_large(policy, status):
    result = gate(policy, prm_id="1", amount=Decimal(900000), registration_status=status)
    assert (result.required, result.status) == (False, GateStatus.NOT_REQUIRED)


def test_integration_needs_make_a_small_deal_required(policy):
    result = gate(policy, prm_id="1", amount=Decimal(5000),
                  technical_requirements="ERP integration")
    assert result.required and result.status is GateStatus.BLOCKED


def test_blocked_gate_lists_missing_labels_in_policy_order_with_weighted_score(policy):
    from datetime import date
    result = gate(policy, prm_id="1", amount=Decimal(150000), budget=Decimal(1),
                  economic_buyer="Dana", decision_date=date(2026, 6, 1))
    assert result.stage == "pre_handoff_assessment"
    assert result.missing_labels[:2] == ("Need documented (BANT)", "Decision process confirmed")
    assert result.missing_labels[-1] == "Registration approved"
    # budget 2 + economic buyer 2 + decision date 1 of 12 weight points
    assert result.completeness_pct == int(100 * 5 / 12)


def test_complete_stage_one_passes(policy):
    from datetime import date
    result = gate(policy, prm_id="1", amount=Decimal(150000), decision_date=date(2026, 6, 1),
                  **STAGE1_FACTS)
    assert (result.status, result.completeness_pct, result.missing) == (GateStatus.PASSED, 100, ())


def test_the_deals_own_stage_and_conditional_requirements(policy):
    small = gate(policy, prm_id="1", amount=Decimal(150000), handoff_stage="knowledge_transfer")
    big = gate(policy, prm_id="1", amount=Decimal(300000), handoff_stage="knowledge_transfer")
    assert small.stage == "knowledge_transfer"
    assert "cs_owner_email" not in [m.field for m in small.missing]  # only >= 250,000
    assert "cs_owner_email" in [m.field for m in big.missing]


def test_check_requirements_and_won_deals_go_to_customer_success(policy):
    meetings = gate(policy, prm_id="1", amount=Decimal(150000),
                    handoff_stage="responsibility_transition", co_led_meetings=1)
    assert meetings.missing_labels == ("Two or more co-led meetings held",)
    won = gate(policy, prm_id="1", is_won=True, amount=Decimal(10),
               close_date=date(2026, 11, 10))
    assert (won.handoff_type, won.stage, won.required) == ("closed_won_to_cs", "kickoff", True)


def test_deals_won_before_go_live_and_lost_deals_need_no_handoff(policy):
    # The first sync must not open kickoff tasks for every deal ever won.
    old_win = gate(policy, is_won=True, close_date=date(2024, 3, 1))
    assert (old_win.handoff_type, old_win.required) == ("closed_won_to_cs", False)
    lost = gate(policy, prm_id="1", amount=Decimal(150000), is_closed=True, is_won=False)
    assert (lost.handoff_type, lost.required) == ("partner_to_direct", False)
    open_deal = gate(policy, prm_id="1", amount=Decimal(150000), is_closed=False)
    assert open_deal.required


def test_an_unknown_stage_value_falls_back_to_the_first_stage(policy):
    result = gate(policy, prm_id="1", amount=Decimal(150000), handoff_stage="nonsense")
    assert result.stage == "pre_handoff_assessment"
