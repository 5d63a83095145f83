"""Conflict policies: who wins when both systems changed a field."""

from datetime import UTC, datetime

import pytest

from handoff_sync.mapping.system.conflicts import POLICIES, decide
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
    from typing import get_args

    from handoff_sync.mapping.system.file_model import ConflictPolicyName

    assert set(get_args(ConflictPolicyName)) == set(POLICIES)
    for policy in POLICIES:
        decide(policy, "p", "c")
    with pytest.raises(ValueError, match="unknown conflict policy"):
        decide("prm_win", "p", "c")
