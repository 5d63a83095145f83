"""Conflict policies: who wins when both systems changed a field."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from handoff_sync.mapping.system.conflicts import ConflictPolicy, decide
from handoff_sync.model import Role

EARLY = datetime(2026, 1, 1, tzinfo=UTC)
LATE = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize(("policy", "prm", "crm", "winner", "value"), [
    ("prm_wins", "p", "c", Role.PRM, "p"),
    ("prm_wins", None, "c", Role.PRM, None),
    ("crm_wins", "p", "c", Role.CRM, "c"),
    ("prm_unless_blank", "p", "c", Role.PRM, "p"),
    ("prm_unless_blank", None, "c", Role.CRM, "c"),
    ("crm_unless_blank", "p", "c", Role.CRM, "c"),
    ("crm_unless_blank", "p", None, Role.PRM, "p"),
    ("read_only", "p", "c", None, "c"),
    ("read_only", "p", None, None, "p"),
])
def test_policies(policy, prm, crm, winner, value):
    decision = decide(policy, prm, crm)
    assert (decision.winner, decision.value) == (winner, value)


@pytest.mark.parametrize(("prm_time", "crm_time", "winner"), [
    (LATE, EARLY, Role.PRM), (EARLY, LATE, Role.CRM), (EARLY, EARLY, Role.CRM),
    (EARLY, None, Role.PRM), (None, EARLY, Role.CRM), (None, None, Role.CRM),
])
def test_newest_wins_uses_modification_times_and_ties_go_to_the_crm(prm_time, crm_time, winner):
    decision = decide("newest_wins", "p", "c", prm_modified=prm_time, crm_modified=crm_time)
    assert decision.winner is winner
    assert decision.value == ("p" if winner is Role.PRM else "c")


def test_every_policy_the_file_format_allows_is_decidable():
    from handoff_sync.mapping.system.file_model import FieldMap

    for policy in ConflictPolicy:
        assert FieldMap.model_validate({"field": "X", "policy": policy.value}).policy is policy
        decide(policy, "p", "c")
    with pytest.raises(ValueError, match="unknown conflict policy"):
        decide("prm_win", "p", "c")


def test_the_policies_are_named_in_one_enum_from_the_file_to_the_store(tmp_path):
    # The file's words are the enum's values; what the loader implies, the engine decides
    # by and the store reads back are its members, not loose strings.
    from pathlib import Path

    from handoff_sync.engine.types import Conflict
    from handoff_sync.mapping.loader import load_mappings
    from handoff_sync.store.rows import conflict_from, conflict_row

    assert [p.value for p in ConflictPolicy] == [
        "prm_wins", "crm_wins", "newest_wins", "prm_unless_blank", "crm_unless_blank",
        "read_only"]
    sync = load_mappings(Path(__file__).resolve().parents[2] / "mappings").sync
    assert {type(rule.policy) for rule in sync.values()} == {ConflictPolicy}
    assert sync["close_date"].policy is ConflictPolicy.CRM_WINS  # implied: only the CRM reads
    conflict = Conflict("d1", "amount", ConflictPolicy.NEWEST_WINS, 1, 2, 3, Role.CRM, 3, 2)
    row = conflict_row("p", "run", EARLY, conflict)
    assert row["policy"] == "newest_wins" and type(row["policy"]) is str

    class Row:
        def __init__(self, **values):
            self.__dict__.update(values)

    assert conflict_from(Row(**row)).policy is ConflictPolicy.NEWEST_WINS


def test_an_unknown_policy_in_a_file_lists_the_enum(tmp_path):
    from handoff_sync.mapping.system.file_model import FieldMap
    from handoff_sync.problems.pydantic_errors import explain_error

    with pytest.raises(ValidationError) as caught:
        FieldMap.model_validate({"field": "X", "policy": "newest_win"})
    [explained] = explain_error(FieldMap, caught.value.errors()[0], {"policy": "newest_win"})
    assert (explained.path, explained.text) == (("policy",), (
        "expected 'prm_wins', 'crm_wins', 'newest_wins', 'prm_unless_blank', "
        "'crm_unless_blank' or 'read_only', got the text 'newest_win' (did you mean "
        "'newest_wins'?)"))
