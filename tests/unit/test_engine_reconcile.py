"""The three-way merge of a linked pair: who moved wins, conflicts keep the loser, no echo."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from connectors.base import Owner
from handoff_sync.engine.reconcile import Reconciled, reconcile
from handoff_sync.engine.types import BaseSnapshot, Conflict
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.system.conflicts import ConflictPolicy, FieldSync
from handoff_sync.mapping.system.convert import MappedRecord, as_stored, to_canonical, to_system
from handoff_sync.model import FieldType, OwnerDirectory, Role, SystemName, Value
from tests.property_support import examples

DEAL = "prm:123"
EARLY = datetime(2026, 3, 1, 9, tzinfo=UTC)
LATE = datetime(2026, 3, 1, 10, tzinfo=UTC)
CENT = Decimal("0.01")


def fake_stored(role: Role, name: str, value: Value) -> Value:
    """A CRM that rounds money to cents and holds an unset checkbox as false."""
    if role is Role.CRM and name == "flag" and value is None:
        return False
    if role is Role.CRM and name == "amount" and isinstance(value, Decimal):
        return value.quantize(CENT)
    return value


def field(name: str = "f", policy: str = "prm_wins", prm: str = "both", crm: str = "both",
          type_: FieldType = FieldType.TEXT) -> FieldSync:
    return FieldSync(name, type_, ConflictPolicy(policy), prm_reads=prm in ("read", "both"),
                     prm_writes=prm in ("write", "both"), crm_reads=crm in ("read", "both"),
                     crm_writes=crm in ("write", "both"))


def record(role: Role, values: Mapping[str, Value], modified: datetime | None = None
           ) -> MappedRecord:
    system = SystemName.HUBSPOT if role is Role.PRM else SystemName.SALESFORCE
    return MappedRecord(system, role, f"{role.value}-1", modified, True, dict(values))


def snapshot(prm: Mapping[str, Value], crm: Mapping[str, Value],
             agreed: Mapping[str, Value]) -> BaseSnapshot:
    return BaseSnapshot(DEAL, dict(prm), dict(crm), dict(agreed))


def run(sync: Mapping[str, FieldSync], prm: Mapping[str, Value] | None,
        crm: Mapping[str, Value] | None, base: BaseSnapshot | None = None, *,
        prm_time: datetime | None = None, crm_time: datetime | None = None,
        identity: Mapping[str, Value] | None = None) -> Reconciled:
    return reconcile(DEAL, None if prm is None else record(Role.PRM, prm, prm_time),
                     None if crm is None else record(Role.CRM, crm, crm_time), base, sync,
                     stored=fake_stored, identity=identity)


def writes_of(result: Reconciled) -> dict[Role, dict[str, Value]]:
    return {role: dict(values) for role, values in result.writes.items()}


# --------------------------------------------------------------- one field, both sides


OLD = snapshot({"f": "old"}, {"f": "old"}, {"f": "old"})


@pytest.mark.parametrize(
    ("policy", "prm", "crm", "times", "merged", "writes", "conflict"), [
        # nobody moved
        ("prm_wins", "old", "old", (None, None), "old", {}, None),
        # one side moved: it wins whatever the policy says
        ("crm_wins", "new", "old", (None, None), "new", {Role.CRM: {"f": "new"}}, None),
        ("prm_wins", "old", "edit", (None, None), "edit", {Role.PRM: {"f": "edit"}}, None),
        ("prm_unless_blank", None, "old", (None, None), None, {Role.CRM: {"f": None}}, None),
        # both moved to the same value: agreed, nothing to write, no conflict
        ("prm_wins", "same", "same", (None, None), "same", {}, None),
        # both moved apart: the policy decides and the loser is kept in the conflict
        ("prm_wins", "p", "c", (None, None), "p", {Role.CRM: {"f": "p"}}, (Role.PRM, "c")),
        ("crm_wins", "p", "c", (None, None), "c", {Role.PRM: {"f": "c"}}, (Role.CRM, "p")),
        ("newest_wins", "p", "c", (LATE, EARLY), "p", {Role.CRM: {"f": "p"}},
         (Role.PRM, "c")),
        ("newest_wins", "p", "c", (EARLY, LATE), "c", {Role.PRM: {"f": "c"}},
         (Role.CRM, "p")),
        ("newest_wins", "p", "c", (EARLY, EARLY), "c", {Role.PRM: {"f": "c"}},
         (Role.CRM, "p")),
        ("prm_unless_blank", None, "c", (None, None), "c", {Role.PRM: {"f": "c"}},
         (Role.CRM, None)),
        ("prm_unless_blank", "p", "c", (None, None), "p", {Role.CRM: {"f": "p"}},
         (Role.PRM, "c")),
        ("crm_unless_blank", "p", None, (None, None), "p", {Role.CRM: {"f": "p"}},
         (Role.PRM, None)),
        ("crm_unless_blank", "p", "c", (None, None), "c", {Role.PRM: {"f": "c"}},
         (Role.CRM, "p")),
        ("read_only", "p", "c", (None, None), "c", {}, (None, "p")),
        ("read_only", "p", None, (None, None), "p", {}, (None, None)),
    ])
def test_three_way_merge_of_one_field(policy, prm, crm, times, merged, writes, conflict):
    sync = {"f": field(policy=policy)}
    result = run(sync, {"f": prm}, {"f": crm}, OLD, prm_time=times[0], crm_time=times[1])
    assert result.merged == {"f": merged}
    assert writes_of(result) == writes
    if conflict is None:
        assert result.conflicts == ()
    else:
        winner, lost = conflict
        assert result.conflicts == (Conflict(DEAL, "f", policy, "old", prm, crm, winner,
                                             merged, lost),)
    assert result.base == snapshot({"f": writes.get(Role.PRM, {}).get("f", prm)},
                                   {"f": writes.get(Role.CRM, {}).get("f", crm)},
                                   {"f": merged})


def test_read_only_never_writes_even_to_a_side_that_could():
    result = run({"f": field(policy="read_only")}, {"f": "p"}, {"f": None}, None)
    assert result.merged == {"f": "p"}
    assert result.writes == {}


@pytest.mark.parametrize(("prm", "crm", "policy", "merged", "writes"), [
    ("same", "same", "prm_wins", "same", {}),
    ("p", "c", "prm_wins", "p", {Role.CRM: {"f": "p"}}),
    ("p", "c", "crm_wins", "c", {Role.PRM: {"f": "c"}}),
    (None, "c", "prm_unless_blank", "c", {Role.PRM: {"f": "c"}}),
])
def test_first_cycle_without_a_base_decides_by_policy_without_a_conflict(
        prm, crm, policy, merged, writes):
    result = run({"f": field(policy=policy)}, {"f": prm}, {"f": crm}, None)
    assert result.merged == {"f": merged}
    assert writes_of(result) == writes
    assert result.conflicts == ()


def test_a_field_new_since_the_base_is_merged_like_a_first_cycle():
    base = snapshot({"g": "x"}, {"g": "x"}, {"g": "x"})
    sync = {"f": field(policy="prm_wins"), "g": field()}
    result = run(sync, {"f": "p", "g": "x"}, {"f": "c", "g": "x"}, base)
    assert result.merged == {"f": "p", "g": "x"}
    assert result.conflicts == ()
    assert writes_of(result) == {Role.CRM: {"f": "p"}}


def test_a_human_edit_in_a_side_we_may_not_write_is_not_undone_next_cycle():
    # close_date in the default pack: the CRM reads it (crm_wins) but is never written.
    sync = {"f": field(policy="crm_wins", prm="both", crm="read")}
    first = run(sync, {"f": "partner-edit"}, {"f": "old"}, OLD)
    assert first.merged == {"f": "partner-edit"}
    assert first.writes == {}
    again = run(sync, {"f": "partner-edit"}, {"f": "old"}, first.base)
    assert again.merged == {"f": "partner-edit"}
    assert again.writes == {}, "the partner's edit must not be overwritten by crm_wins"
    # When the AE later changes it, that lone change wins and reaches the PRM.
    later = run(sync, {"f": "partner-edit"}, {"f": "ae-edit"}, again.base)
    assert later.merged == {"f": "ae-edit"}
    assert writes_of(later) == {Role.PRM: {"f": "ae-edit"}}


# ---------------------------------------------------------------- one side reads


def test_field_only_one_side_reads_is_written_to_the_other_once():
    sync = {"f": field(policy="prm_wins", prm="read", crm="write")}
    first = run(sync, {"f": "p"}, {}, None)
    assert first.merged == {"f": "p"}
    assert writes_of(first) == {Role.CRM: {"f": "p"}}
    assert first.base.crm == {"f": "p"}
    again = run(sync, {"f": "p"}, {}, first.base)
    assert again.writes == {}
    changed = run(sync, {"f": "p2"}, {}, again.base)
    assert writes_of(changed) == {Role.CRM: {"f": "p2"}}


def test_a_blank_is_never_written_over_a_value_we_cannot_see():
    sync = {"f": field(policy="prm_wins", prm="read", crm="write")}
    result = run(sync, {"f": None}, {}, None)
    assert result.merged == {"f": None}
    assert result.writes == {}
    # Once we have written a value, clearing it at the source clears it in the CRM.
    written = run(sync, {"f": "p"}, {}, None)
    cleared = run(sync, {"f": None}, {}, written.base)
    assert writes_of(cleared) == {Role.CRM: {"f": None}}


def test_field_only_the_crm_reads_feeds_merged_without_writes():
    sync = {"ae_email": field("ae_email", policy="crm_wins", prm="none", crm="read")}
    result = run(sync, {}, {"ae_email": "ann@example.com"}, None)
    assert result.merged == {"ae_email": "ann@example.com"}
    assert result.writes == {}


# ---------------------------------------------------------------- stored form, identity


def test_an_unset_checkbox_the_crm_holds_as_false_causes_no_write():
    sync = {"flag": field("flag", policy="prm_wins", type_=FieldType.BOOL)}
    first = run(sync, {"flag": None}, {"flag": False}, None)
    assert first.writes == {}
    assert first.conflicts == ()
    assert run(sync, {"flag": None}, {"flag": False}, first.base).writes == {}


def test_a_value_the_crm_rounds_is_not_written_again():
    sync = {"amount": field("amount", policy="newest_wins", type_=FieldType.NUMBER)}
    first = run(sync, {"amount": Decimal("10.004")}, {"amount": Decimal("10.00")}, None,
                prm_time=LATE, crm_time=EARLY)
    assert first.merged == {"amount": Decimal("10.004")}
    assert first.writes == {}
    moved = run(sync, {"amount": Decimal("12.345")}, {"amount": Decimal("10.00")}, first.base)
    assert writes_of(moved) == {Role.CRM: {"amount": Decimal("12.34")}}
    assert moved.base.crm == {"amount": Decimal("12.34")}


IDS = {"prm_id": field("prm_id", policy="prm_wins", prm="read", crm="both"),
       "crm_id": field("crm_id", policy="crm_wins", prm="both", crm="read")}


def test_identity_ids_are_written_to_the_side_that_lacks_them():
    result = run(IDS, {"prm_id": "123", "crm_id": None}, {"crm_id": "006X", "prm_id": None},
                 None, identity={"prm_id": "123", "crm_id": "006X"})
    assert result.merged == {"crm_id": "006X", "prm_id": "123"}
    assert writes_of(result) == {Role.PRM: {"crm_id": "006X"}, Role.CRM: {"prm_id": "123"}}
    assert result.conflicts == ()


def test_identity_overrides_a_lone_change_to_an_id_field():
    base = snapshot({"prm_id": "123", "crm_id": "006X"}, {"prm_id": "123", "crm_id": "006X"},
                    {"prm_id": "123", "crm_id": "006X"})
    prm = {"prm_id": "123", "crm_id": "006TYPO"}
    crm = {"prm_id": "123", "crm_id": "006X"}
    without = run(IDS, prm, crm, base)
    assert without.merged["crm_id"] == "006TYPO"  # an ordinary field: the lone edit wins
    linked = run(IDS, prm, crm, base, identity={"prm_id": "123", "crm_id": "006X"})
    assert linked.merged["crm_id"] == "006X"
    assert writes_of(linked) == {Role.PRM: {"crm_id": "006X"}}


# ---------------------------------------------------------------- missing records


def test_an_unlinked_prm_only_deal_gets_no_writes_and_merges_its_own_values():
    sync = {"f": field(), "g": field(prm="none", crm="read"), "h": field(prm="read",
                                                                         crm="write")}
    result = run(sync, {"f": "p", "h": "hp"}, None, None)
    assert result.merged == {"f": "p", "g": None, "h": "hp"}
    assert result.writes == {}
    assert result.base.crm == {}


def test_a_side_not_read_this_cycle_is_taken_to_hold_what_it_held():
    # g: the CRM won it last time and the PRM may not be written, so the sides differ.
    base = snapshot({"f": "old", "g": "g0"}, {"f": "old", "g": "g1"}, {"f": "old", "g": "g1"})
    sync = {"f": field(), "g": field(policy="crm_wins", prm="read")}
    result = run(sync, {"f": "new", "g": "g0"}, None, base)
    assert result.merged == {"f": "new", "g": "g1"}
    assert result.writes == {}
    assert result.base.crm == base.crm


# ---------------------------------------------------------------- order and determinism


def test_conflicts_are_sorted_by_field_and_output_ignores_input_order():
    names = ["zeta", "alpha", "mid", "beta"]
    sync = {name: field(name, policy="crm_wins") for name in names}
    base = snapshot({n: "o" for n in names}, {n: "o" for n in names}, {n: "o" for n in names})
    prm, crm = {n: f"p-{n}" for n in names}, {n: f"c-{n}" for n in names}
    result = run(sync, prm, crm, base)
    assert [c.field for c in result.conflicts] == sorted(names)
    shuffled = dict(random.Random(7).sample(list(sync.items()), len(sync)))
    assert run(shuffled, dict(reversed(prm.items())), crm, base) == result
    assert list(result.merged) == sorted(names)


# ---------------------------------------------------------------- properties

TEXTS = st.sampled_from([None, "a", "b"])
AMOUNTS = st.sampled_from([None, Decimal("1.004"), Decimal("1.00"), Decimal("2.5")])
FLAGS = st.sampled_from([None, True, False])
VALUES = {"f": TEXTS, "g": TEXTS, "amount": AMOUNTS, "flag": FLAGS, "prm_id": TEXTS,
          "crm_id": TEXTS}
DIRECTIONS = st.sampled_from(["read", "write", "both", "none"])
TIMES = st.sampled_from([None, EARLY, LATE])


@st.composite
def field_syncs(draw: Any, name: str) -> FieldSync:
    prm, crm = draw(DIRECTIONS), draw(DIRECTIONS)
    if prm not in ("read", "both") and crm not in ("read", "both"):
        prm = "read"  # the loader refuses fields no side reads
    return field(name, draw(st.sampled_from(list(ConflictPolicy))), prm, crm)


def side_values(draw: Any, names: list[str]) -> dict[str, Value]:
    return {name: draw(VALUES[name]) for name in names}


@st.composite
def cases(draw: Any) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(sorted(VALUES)), min_size=1, unique=True))
    sync = {name: draw(field_syncs(name)) for name in names}
    prm = side_values(draw, names) if draw(st.booleans()) else None  # None: no record
    crm = side_values(draw, names) if draw(st.booleans()) else None
    base = None
    if draw(st.booleans()):
        parts = [side_values(draw, draw(st.lists(st.sampled_from(names), unique=True)))
                 for _ in range(3)]
        base = snapshot(*parts)
    identity = draw(st.none() | st.fixed_dictionaries({}, optional={
        "prm_id": st.just("123"), "crm_id": st.just("006X")}))
    return {"sync": sync, "prm": prm, "crm": crm, "base": base, "identity": identity,
            "prm_time": draw(TIMES), "crm_time": draw(TIMES)}


def held(sync: Mapping[str, FieldSync], role: Role,
         values: Mapping[str, Value] | None) -> dict[str, Value]:
    reads = {n for n, s in sync.items() if (s.prm_reads if role is Role.PRM else s.crm_reads)}
    return {n: fake_stored(role, n, v) for n, v in (values or {}).items() if n in reads}


def apply(sync: Mapping[str, FieldSync], role: Role, values: Mapping[str, Value] | None,
          result: Reconciled) -> dict[str, Value] | None:
    """The record as read back after the writes landed (write-only fields stay unseen)."""
    if values is None:
        return None
    written = held(sync, role, result.writes.get(role, {}))
    return {**values, **written}


# Found by a random seed (issue #15): the CRM reads an unset checkbox (held as false) and
# its base holds the unset form; the PRM's false wins the first merge of the field. The
# read value, equal to the base's, was taken as held without its stored form, so false
# was written where the CRM already held false.
ECHO_OF_AN_UNSTORED_BASE = {
    "sync": {"flag": field("flag", "prm_wins", prm="read", crm="both")},
    "prm": {"flag": False}, "crm": {"flag": None},
    "base": snapshot({}, {"flag": None}, {}), "identity": None,
    "prm_time": None, "crm_time": None}


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
@example(ECHO_OF_AN_UNSTORED_BASE)
def test_applying_the_writes_and_reconciling_again_plans_nothing(case):
    sync, identity = case["sync"], case["identity"]
    times = {"prm_time": case["prm_time"], "crm_time": case["crm_time"]}
    first = run(sync, case["prm"], case["crm"], case["base"], identity=identity, **times)
    for role, side in ((Role.PRM, case["prm"]), (Role.CRM, case["crm"])):
        holds = held(sync, role, side)
        for name, value in first.writes.get(role, {}).items():
            assert name not in holds or holds[name] != value, "an echo write"
        assert side is not None or role not in first.writes
    prm = apply(sync, Role.PRM, case["prm"], first)
    crm = apply(sync, Role.CRM, case["crm"], first)
    again = run(sync, prm, crm, first.base, identity=identity, **times)
    assert again.writes == {}
    assert again.conflicts == ()
    assert again.merged == first.merged
    assert again.base == first.base
    assert run(sync, case["prm"], case["crm"], case["base"], identity=identity,
               **times) == first


# Found in review (issue #15): a base kept in an older stored form (the CRM side holds an
# unset checkbox as None; the CRM now holds it as false). Nothing changed in the CRM; the
# partner ticked the box. Compared in different forms the CRM looked moved too, so the
# partner's edit lost to crm_wins and a false conflict was recorded.
LONE_EDIT_OVER_AN_UNSTORED_BASE = {
    "sync": {"flag": field("flag", "crm_wins", type_=FieldType.BOOL)},
    "prm": {"flag": True}, "crm": {"flag": None},
    "base": snapshot({"flag": False}, {"flag": None}, {"flag": False}), "identity": None,
    "prm_time": None, "crm_time": None}


def test_a_lone_edit_wins_over_a_base_kept_in_an_older_stored_form():
    case = LONE_EDIT_OVER_AN_UNSTORED_BASE
    result = run(case["sync"], case["prm"], case["crm"], case["base"])
    assert result.merged == {"flag": True}
    assert writes_of(result) == {Role.CRM: {"flag": True}}
    assert result.conflicts == ()


@settings(max_examples=examples(200), deadline=None)
@given(cases())
@example(LONE_EDIT_OVER_AN_UNSTORED_BASE)
def test_a_lone_change_since_the_base_is_never_overwritten(case):
    sync, base = case["sync"], case["base"]
    if base is None or case["prm"] is None or case["crm"] is None:
        return
    result = run(sync, case["prm"], case["crm"], base, **{k: case[k] for k in
                                                          ("prm_time", "crm_time")})
    # A side moved when what it holds differs from the base in the same (stored) form.
    sides = {Role.PRM: (held(sync, Role.PRM, case["prm"]), held(sync, Role.PRM, base.prm)),
             Role.CRM: (held(sync, Role.CRM, case["crm"]), held(sync, Role.CRM, base.crm))}
    for name in sync:
        moved = [role for role, (now, last) in sides.items()
                 if name in now and name in last and now[name] != last[name]]
        history = name in base.agreed and all(name in now and name in last
                                              for now, last in sides.values())
        if history and len(moved) == 1:
            assert name not in result.writes.get(moved[0], {})
            assert result.merged[name] == sides[moved[0]][0][name] or (
                sync[name].policy == "read_only")


# ---------------------------------------------------------------- the default pack

PACK = load_mappings(Path(__file__).resolve().parents[2] / "mappings")
OWNERS = OwnerDirectory([Owner("005A", "ann@example.com"), Owner("71", "cm@example.com")])


def pack_stored(role: Role, name: str, value: Value) -> Value:
    return as_stored(PACK.side(role), name, value, OWNERS)


def pack_reconcile(hs: dict[str, Any], sf: dict[str, Any],
                   base: BaseSnapshot | None) -> Reconciled:
    prm = to_canonical(PACK.prm, hs, OWNERS)
    crm = to_canonical(PACK.crm, sf, OWNERS)
    assert prm.issues == () and crm.issues == ()
    return reconcile(DEAL, prm, crm, base, PACK.sync, stored=pack_stored,
                     identity={"prm_id": "123", "crm_id": "006X"})


def test_default_pack_first_cycle_then_quiet():
    hs = {"hs_object_id": "123", "pipeline": "9004451", "dealname": "Acme renewal",
          "amount": "1500.004", "closedate": "2026-06-30T00:00:00Z",
          "hs_lastmodifieddate": "2026-03-02T00:00:00Z", "need": "faster onboarding",
          "partner_rep_email": "Rep@Partner.example", "partner_prepared_prospect": ""}
    sf = {"Id": "006X", "Name": "Acme", "Amount": 1500.0, "CloseDate": "2026-07-31",
          "OwnerId": "005A", "Partner_Prepared_Prospect__c": False,
          "Stakeholder_Map__c": "CFO signs", "SystemModstamp": "2026-03-01T00:00:00.000+0000"}
    first = pack_reconcile(hs, sf, None)
    assert first.conflicts == ()
    merged = first.merged
    assert merged["amount"] == Decimal("1500.00")  # both hold it to the cent: agreed
    assert merged["close_date"] == date(2026, 7, 31)  # crm_wins
    assert merged["deal_name"] == "Acme"  # read_only: the CRM's view, never written
    assert merged["ae_email"] == "ann@example.com"
    prm_writes, crm_writes = first.writes[Role.PRM], first.writes[Role.CRM]
    assert prm_writes == {"close_date": date(2026, 7, 31), "crm_id": "006X",
                          "stakeholder_map": "CFO signs"}
    assert crm_writes == {"need": "faster onboarding", "partner_rep_email": "rep@partner.example",
                          "prm_id": "123"}
    # No amount (rounds to what Salesforce holds) and no checkbox (false == unset) writes.
    hs2 = {**hs, **to_system(PACK.prm, prm_writes, OWNERS).values}
    sf2 = {**sf, **to_system(PACK.crm, crm_writes, OWNERS).values}
    again = pack_reconcile(hs2, sf2, first.base)
    assert again.writes == {}
    assert again.conflicts == ()
    assert again.merged == first.merged
    # A partner edits close_date in HubSpot, which Salesforce never takes: it stays.
    hs3 = {**hs2, "closedate": "2026-08-15T00:00:00Z"}
    edited = pack_reconcile(hs3, sf2, again.base)
    assert edited.merged["close_date"] == date(2026, 8, 15)
    assert edited.writes == {}
    assert pack_reconcile(hs3, sf2, edited.base).writes == {}


# ---------------------------------------------------------------- values that cannot be synced


def unreadable(role: Role, values: Mapping[str, Value], name: str, raw: str) -> MappedRecord:
    """A record whose ``name`` could not be converted (it reads as None, with an issue)."""
    from handoff_sync.mapping.system.convert import ValueIssue

    base = record(role, {**values, name: None})
    return MappedRecord(base.system, role, base.record_id, None, True, base.values,
                        (ValueIssue(name, name, raw, "too large to sync"),))


def test_a_value_a_side_could_not_read_is_unknown_not_blank():
    # The partner's amount became 1e400: it must not blank the CRM's amount (nor win).
    sync = {"amount": field("amount", policy="newest_wins", type_=FieldType.NUMBER),
            "f": field()}
    agreed = {"amount": Decimal("5000.00"), "f": "old"}
    base = snapshot(agreed, agreed, agreed)
    result = reconcile(DEAL, unreadable(Role.PRM, {"f": "new"}, "amount", "1e400"),
                       record(Role.CRM, agreed), base, sync, stored=fake_stored)
    assert writes_of(result) == {Role.CRM: {"f": "new"}}  # the rest of the record syncs
    assert result.merged["amount"] == Decimal("5000.00")
    assert result.base.prm["amount"] == Decimal("5000.00")  # still what it held before
    # The AE moves the amount meanwhile: the partner's unreadable value is not overwritten.
    moved = reconcile(DEAL, unreadable(Role.PRM, {"f": "new"}, "amount", "1e400"),
                      record(Role.CRM, {**agreed, "f": "new", "amount": Decimal("7000.00")}),
                      result.base, sync, stored=fake_stored)
    assert moved.writes == {}
    assert moved.merged["amount"] == Decimal("7000.00")
    # Fixed at the source: an ordinary edit again, synced and agreed.
    fixed = run(sync, {"f": "new", "amount": Decimal("6000")},
                {"f": "new", "amount": Decimal("7000.00")}, moved.base,
                prm_time=LATE, crm_time=EARLY)
    assert writes_of(fixed) == {Role.CRM: {"amount": Decimal("6000.00")}}


def test_a_first_cycle_with_an_unreadable_value_writes_nothing_to_that_side():
    sync = {"amount": field("amount", type_=FieldType.NUMBER)}
    result = reconcile(DEAL, unreadable(Role.PRM, {}, "amount", "nan"),
                       record(Role.CRM, {"amount": Decimal("10.00")}), None, sync,
                       stored=fake_stored)
    assert result.writes == {}
    assert result.merged == {"amount": Decimal("10.00")}
    assert "amount" not in result.base.prm


# ---------------------------------------------------------------- merging decided values again


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.data())
def test_redeciding_a_merge_equals_merging_with_the_decided_values(case, data):
    """The planner merges a deal, then (the stage autopilot moved it) merges it again with
    decided values: ``redecide`` redoes only the decided fields, with the same result."""
    from handoff_sync.engine.reconcile import Reconciler
    from handoff_sync.mapping.system.convert import ValueIssue

    sync, identity = case["sync"], case["identity"]
    names = sorted({*sync, "prm_id", "crm_id", "not_mapped"})
    decided = data.draw(st.dictionaries(st.sampled_from(names), TEXTS | AMOUNTS | FLAGS))
    records = []
    for role, values, modified in ((Role.PRM, case["prm"], case["prm_time"]),
                                   (Role.CRM, case["crm"], case["crm_time"])):
        if values is None:
            records.append(None)
            continue
        plain = record(role, values, modified)
        bad = data.draw(st.lists(st.sampled_from(sorted(values)), unique=True)) if values \
            else []
        records.append(MappedRecord(plain.system, role, plain.record_id, modified, True,
                                    plain.values, tuple(ValueIssue(n, n, "?", "unreadable")
                                                        for n in bad)))
    merge = Reconciler(sync, stored=fake_stored)
    prm, crm = records
    first = merge(DEAL, prm, crm, case["base"], identity=identity)
    again = merge(DEAL, prm, crm, case["base"], identity=identity, decided=decided)
    redone = merge.redecide(first, prm, crm, decided)
    assert redone == again
    assert redone.base == again.base
    assert [dict(held) for held in redone.held] == [dict(held) for held in again.held]
    assert list(redone.merged) == list(again.merged)  # the same field order


# Canonical texts per field type (readers clean them: trimmed, emails and domains in
# lower case).
TEXT_SAMPLES = {FieldType.TEXT: ("Acme renewal", "x" * 250),
                FieldType.EMAIL: ("ann@example.com",), FieldType.DOMAIN: ("acme.example",)}


@pytest.mark.parametrize("role", [Role.PRM, Role.CRM])
def test_the_merge_tables_shortcuts_equal_the_stored_forms_of_the_shipped_mappings(role):
    """The merge table answers two questions without calling a field's stored form: a
    blank's form (asked once), and a non-blank text where the side holds text as given."""
    from handoff_sync.engine.reconcile import Reconciler
    from handoff_sync.engine.stored import StoredForms

    stored = StoredForms({Role.PRM: PACK.prm, Role.CRM: PACK.crm},
                         {Role.PRM: OWNERS, Role.CRM: OWNERS})
    side = 0 if role is Role.PRM else 1
    table = Reconciler(PACK.sync, stored=stored)._fields
    assert any(field.texts[side] for field in table)  # the shortcut is taken at all
    mapping = PACK.side(role)
    for field in table:  # each compared with the write-and-read-back round trip itself
        assert field.blanks[side] == as_stored(mapping, field.name, None, OWNERS), field.name
        if field.texts[side]:
            assert field.rule is not None
            for text in TEXT_SAMPLES[field.rule.type]:
                assert as_stored(mapping, field.name, text, OWNERS) == text, (field.name, text)
