"""Partner readiness scoring (engine.readiness) on hand-built partners and histories: the
weighted score, its breakdown, and the edge cases a VP would trip over (no data, one
handoff, a value the scale does not know, a number past full_at)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from handoff_sync.engine.readiness import (
    DealHistory,
    PartnerHistory,
    histories,
    score_partner,
    score_partners,
)
from handoff_sync.mapping.policy.measures import Readiness
from handoff_sync.model import PartnerAccount

POLICY = Readiness.model_validate({
    "threshold": 60,
    "dimensions": [
        {"id": "technical_conversations", "label": "Runs technical conversations",
         "weight": 30, "source": "partner.technical_conversations",
         "scale": {"none": 0, "basic": 40, "proficient": 75, "expert": 100}},
        {"id": "approval_navigation", "label": "Navigates its own approvals", "weight": 20,
         "source": "partner.navigates_approvals"},
        {"id": "technical_depth", "label": "Technical depth beyond one person",
         "weight": 25, "source": "partner.certified_engineers", "full_at": 3,
         "threshold": 50},
        {"id": "handoff_quality", "label": "Past handoff quality", "weight": 25,
         "source": "history.completeness"},
    ],
}, strict=False)


def partner(**values: object) -> PartnerAccount:
    return PartnerAccount("p1", "Acme Partners", "cm@vendor.example",
                          {f"partner.{k}": v for k, v in values.items()})


def by_id(result):  # type: ignore[no-untyped-def]
    return {d.id: d for d in result.dimensions}


def test_every_dimension_scored_gives_the_weighted_mean_and_its_breakdown() -> None:
    result = score_partner(POLICY, partner(technical_conversations="basic",
                                           navigates_approvals=True, certified_engineers=2),
                           PartnerHistory(completeness=(80, 90, 100, 70, 60)), min_sample=5)
    dims = by_id(result)
    assert [dims[i].score for i in dims] == [40.0, 100.0, 66.7, 80.0]
    # 0.30 * 40 + 0.20 * 100 + 0.25 * 66.67 + 0.25 * 80 = 68.67
    assert result.score == 68.7
    assert [dims[i].applied_weight for i in dims] == [30.0, 20.0, 25.0, 25.0]
    assert [d.id for d in result.under] == ["technical_conversations"]  # 40 < 60
    assert dims["technical_depth"].threshold == 50 and not dims["technical_depth"].under
    assert dims["handoff_quality"].value == "80% of 5 handoffs"
    assert dims["handoff_quality"].n == 5
    assert "scored none = 0, basic = 40" in dims["technical_conversations"].definition
    assert "/ 3 x 100, capped at 100" in dims["technical_depth"].definition


def test_a_dimension_without_data_says_why_and_is_re_weighted_not_scored_zero() -> None:
    result = score_partner(POLICY, partner(technical_conversations="expert",
                                           navigates_approvals=None, certified_engineers=3),
                           PartnerHistory(completeness=(100,)), min_sample=5)
    dims = by_id(result)
    assert dims["approval_navigation"].score is None
    assert dims["approval_navigation"].no_data == ("navigates_approvals is not filled on "
                                                   "the partner account")
    # One handoff is no history: shown with its n, left out of the score.
    assert dims["handoff_quality"].score is None
    assert dims["handoff_quality"].no_data == "1 handoff, fewer than 5: not enough history"
    assert dims["handoff_quality"].value == "100% of 1 handoff"
    # Only expert (100, weight 30) and 3 engineers (100, weight 25) count: 100, not 55.
    assert result.score == 100.0
    assert dims["technical_conversations"].applied_weight == pytest.approx(54.5)
    assert dims["approval_navigation"].applied_weight is None
    assert not any(d.under for d in result.dimensions)


def test_no_dimension_with_data_gives_no_score_rather_than_zero() -> None:
    result = score_partner(POLICY, partner(), PartnerHistory(), min_sample=5)
    assert result.score is None
    assert {d.no_data for d in result.dimensions} == {
        "technical_conversations is not filled on the partner account",
        "navigates_approvals is not filled on the partner account",
        "certified_engineers is not filled on the partner account",
        "no handoffs yet"}
    assert result.under == ()


@pytest.mark.parametrize(("engineers", "score"), [
    (0, 0.0), (1, 33.3), (3, 100.0), (12, 100.0), (Decimal("1.5"), 50.0), (-2, 0.0)])
def test_a_number_scores_linearly_up_to_full_at_and_is_capped(engineers: object,
                                                               score: float) -> None:
    result = score_partner(POLICY, partner(certified_engineers=engineers), PartnerHistory(),
                           min_sample=5)
    assert by_id(result)["technical_depth"].score == score


def test_a_value_the_scale_does_not_know_is_not_scored() -> None:
    result = score_partner(POLICY, partner(technical_conversations="guru"),
                           PartnerHistory(), min_sample=5)
    dimension = by_id(result)["technical_conversations"]
    assert (dimension.score, dimension.no_data) == (None, "'guru' has no score in the scale")


def test_no_is_zero_and_under_the_threshold() -> None:
    result = score_partner(POLICY, partner(navigates_approvals=False), PartnerHistory(),
                           min_sample=5)
    dimension = by_id(result)["approval_navigation"]
    assert (dimension.score, dimension.value, dimension.under) == (0.0, "no", True)
    assert result.score == 0.0


def test_exactly_the_threshold_is_not_under_it() -> None:
    policy = POLICY.model_copy(update={"threshold": 40.0})
    result = score_partner(policy, partner(technical_conversations="basic"),
                           PartnerHistory(), min_sample=5)
    assert not by_id(result)["technical_conversations"].under


@pytest.mark.parametrize(("measure", "history", "figure", "n"), [
    ("within_sla", PartnerHistory(clocks_met=3, clocks_breached=1), 75.0, 4),
    ("acceptance", PartnerHistory(decided=4, accepted=1), 25.0, 4),
    ("preservation", PartnerHistory(closed=3, won=2), 66.7, 3),
    ("completeness", PartnerHistory(completeness=(50, 60, 70)), 60.0, 3),
])
def test_history_figures_count_only_finished_cases(measure: str, history: PartnerHistory,
                                                   figure: float, n: int) -> None:
    policy = Readiness.model_validate({"dimensions": [
        {"id": "quality", "label": "Past handoff quality", "weight": 100,
         "source": f"history.{measure}", "min_sample": 3}]}, strict=False)
    [dimension] = score_partner(policy, partner(), history, min_sample=50).dimensions
    assert (dimension.score, dimension.n) == (figure, n)


def test_histories_group_deals_by_partner_name_as_deals_write_it() -> None:
    deals = [
        DealHistory("Acme Partners", True, 80, clocks_met=1, decision="accepted",
                    closed=True, won=True),
        DealHistory(" acme  partners", False, 40, clocks_breached=2, decision="rejected",
                    closed=True),
        DealHistory("Acme Partners", True, 60, decision=None),
        DealHistory("Other", True, 10),
        DealHistory("  ", True, 0),
    ]
    found = histories(deals)
    assert set(found) == {"acme partners", "other"}
    acme = found["acme partners"]
    assert acme.completeness == (80, 60)  # the deal needing no handoff is not counted
    assert (acme.clocks_met, acme.clocks_breached) == (1, 2)
    assert (acme.decided, acme.accepted, acme.closed, acme.won) == (2, 1, 2, 1)


def test_partners_are_scored_on_their_own_history_only() -> None:
    policy = Readiness.model_validate({"dimensions": [
        {"id": "quality", "label": "Past handoff quality", "weight": 100,
         "source": "history.completeness"}]}, strict=False)
    partners = [PartnerAccount("p2", "Zeta", None, {}),
                PartnerAccount("p1", "Acme Partners", "cm@vendor.example", {})]
    deals = [DealHistory("ACME PARTNERS", True, 30), DealHistory("Acme Partners", True, 50)]
    scores = score_partners(policy, partners, deals, min_sample=2)
    assert [(s.name, s.score) for s in scores] == [("Acme Partners", 40.0), ("Zeta", None)]
    assert scores[1].dimensions[0].no_data == "no handoffs yet"
