"""Salesforce ids typed by people are checked for shape before anything is stored."""

import pytest

from connectors.salesforce.ids import case_suffix, full_id, id_problem
from handoff_sync.sandbox.salesforce.ids import salesforce_id


def test_the_checksum_matches_the_ids_the_sandbox_mints():
    for number in (0, 1, 61, 62, 3_843, 10**12):
        minted = salesforce_id("006", number)
        assert case_suffix(minted[:15]) == minted[15:]
        assert id_problem(minted, "006", object_name="Opportunity") is None
        assert id_problem(minted[:15], "006", object_name="Opportunity") is None


@pytest.mark.parametrize(("value", "says"), [
    ("0065g00000ABCDE' OR Name != '", "15 or 18 characters, this has 29"),
    ("006X", "this has 4"),
    ("", "this has 0"),
    ("0065g00000ABC'E", "only letters and digits, this holds \"'\""),
    ("0065g00000AB DE", "only letters and digits"),
    ("0065g0000001AbcAAA", "not the checksum of the first 15 (expected AAE)"),
    ("0015g0000000AbcAAE", "not an id of Opportunity: Opportunity ids start with 006, "
                           "this one with 001"),
])
def test_a_malformed_id_is_refused_with_the_reason(value, says):
    problem = id_problem(value, "006", object_name="Opportunity")
    assert problem is not None and says in problem
    assert "\n" not in problem


def test_a_long_value_is_quoted_short():
    problem = id_problem("x" * 5000, "006")
    assert problem is not None and len(problem) < 200


def test_a_short_id_gets_its_checksum_and_anything_else_stays():
    minted = salesforce_id("006", 4_242)
    assert full_id(minted[:15]) == minted
    assert full_id(minted) == minted
    assert full_id("006'x") == "006'x"
