from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from handoff_sync.mapping.policy.conditions import condition_fields, evaluate
from handoff_sync.mapping.policy.file_model import Condition
from handoff_sync.model import Deal

DEAL = Deal.from_values({
    "amount": Decimal("150000"), "deal_name": "Acme Rollout", "close_date": date(2026, 6, 30),
    "intro_call_at": datetime(2026, 3, 1, 10, tzinfo=UTC), "co_led_meetings": 2,
    "competitors": ("Acme", "Globex"), "partner_prepared_prospect": True,
    "is_won": False, "custom.region": "EMEA", "ae_email": "ann@example.com",
})


def holds(spec: dict) -> bool:
    return evaluate(Condition.model_validate(spec), DEAL.get)


@pytest.mark.parametrize(("spec", "expected"), [
    ({"field": "amount", "op": "==", "value": 150000}, True),
    ({"field": "amount", "op": "!=", "value": 150000}, False),
    ({"field": "amount", "op": ">", "value": 100000}, True),
    ({"field": "amount", "op": ">=", "value": 150000}, True),
    ({"field": "amount", "op": "<", "value": 150000}, False),
    ({"field": "amount", "op": "<=", "value": "150000.00"}, True),
    ({"field": "co_led_meetings", "op": ">=", "value": 2}, True),
    ({"field": "close_date", "op": "<", "value": "2026-07-01"}, True),
    ({"field": "intro_call_at", "op": ">", "value": "2026-03-01T09:00:00Z"}, True),
    ({"field": "custom.region", "op": "in", "value": ["EMEA", "APAC"]}, True),
    ({"field": "custom.region", "op": "not_in", "value": ["EMEA", "APAC"]}, False),
    ({"field": "deal_name", "op": "contains", "value": "rollout"}, True),
    ({"field": "competitors", "op": "contains", "value": "globex"}, True),
    ({"field": "competitors", "op": "contains", "value": "Hooli"}, False),
    ({"field": "ae_email", "op": "==", "value": "Ann@Example.com"}, True),
    ({"field": "need", "op": "is_blank"}, True),
    ({"field": "need", "op": "is_filled"}, False),
    ({"field": "partner_prepared_prospect", "op": "is_true"}, True),
    ({"field": "is_won", "op": "is_false"}, True),
    ({"field": "is_won", "op": "is_true"}, False),
])
def test_every_operator(spec, expected):
    assert holds(spec) is expected


@pytest.mark.parametrize(("op", "expected"), [("==", False), ("!=", True), (">", False),
                                              ("in", False), ("not_in", True),
                                              ("contains", False), ("is_true", False)])
def test_a_blank_value_only_satisfies_negative_tests(op, expected):
    value = ["x"] if op in ("in", "not_in") else "x"
    spec = {"field": "need", "op": op} if op == "is_true" else {"field": "need", "op": op,
                                                                 "value": value}
    assert holds(spec) is expected


def test_all_any_not_combine():
    big = {"field": "amount", "op": ">=", "value": 100000}
    small = {"field": "amount", "op": "<", "value": 1000}
    assert holds({"all": [big, {"not": small}]})
    assert not holds({"all": [big, small]})
    assert holds({"any": [small, big]})
    assert not holds({"any": [small, {"not": big}]})
    assert holds({"not": {"any": [small]}})


def test_operands_are_converted_once_and_cached():
    condition = Condition.model_validate({"field": "amount", "op": ">=", "value": 100000})
    evaluate(condition, DEAL.get)
    assert condition._operands == {"number": Decimal(100000)}


def test_condition_fields_lists_every_field_read():
    condition = Condition.model_validate(
        {"all": [{"field": "amount", "op": "is_filled"},
                 {"not": {"any": [{"field": "need", "op": "is_blank"}]}}]})
    assert condition_fields(condition) == ["amount", "need"]


@pytest.mark.parametrize(("spec", "message"), [
    ({"field": "amount"}, "needs both 'field' and 'op'"),
    ({"field": "amount", "op": "is_blank", "value": 1}, "takes no 'value'"),
    ({"field": "amount", "op": ">="}, "needs a 'value'"),
    ({}, "exactly one of"),
    ({"all": []}, "at least one condition"),
    ({"all": [{"field": "a", "op": "is_blank"}], "field": "b", "op": "is_blank"},
     "found: field, all"),
])
def test_malformed_conditions_are_rejected_with_a_reason(spec, message):
    with pytest.raises(ValueError, match=message):
        Condition.model_validate(spec)
