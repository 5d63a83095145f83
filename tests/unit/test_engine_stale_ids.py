"""Id fields left naming a record their holder is no longer linked to are blanked.

Two ways a record is left with a stale id: a person re-links registration P from
opportunity O1 to O2 (O1's Partner_Registration_Id__c, a unique external id, still holds
P), or one record of a linked pair is deleted (the survivor's id field names a record that
is no more). The plan blanks the field on the record left over - only when its side may
write the field and the record holds exactly the stale id - and those writes come first,
so a unique field never holds one value twice. Then the next plan has nothing to do.

Raw records are written the way the APIs return them and mapped with the default pack
(PRM = HubSpot partner registrations, CRM = Salesforce opportunities).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from connectors.base import Owner
from handoff_sync.engine.link import StaleId, link_records
from handoff_sync.engine.plan import Dirty, EngineInput, plan
from handoff_sync.engine.serialise import dumps
from handoff_sync.engine.types import (
    EngineState,
    FieldWrite,
    Link,
    LinkChangeKind,
    LinkMethod,
    Plan,
    ReviewKind,
)
from handoff_sync.mapping.system.convert import MappedRecord, to_canonical
from handoff_sync.model import OwnerDirectory, Role
from handoff_sync.sync.write import advancing_deals
from handoff_sync.testing.builders import apply_plan, default_mappings
from tests.property_support import examples
from tests.unit.test_engine_link import RULES, opp, reg, stored

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
MAPPINGS = default_mappings()
AE = "005000000000001AAA"
CRM_OWNERS = OwnerDirectory([Owner(AE, "ava.ae@vendor.example", True)])
PRM_OWNERS = OwnerDirectory()
P, P2, P3 = "501", "502", "503"
O1, O2, O3 = "006000000000001AAA", "006000000000002AAA", "006000000000003AAA"


def registration(prm_id: str, crm_id: str | None, name: str) -> MappedRecord:
    return to_canonical(MAPPINGS.prm, {
        "hs_object_id": prm_id, "pipeline": "9004451", "dealname": name,
        "dealstage": "9004453", "amount": "150000", "crm_opportunity_id": crm_id or "",
        "partner_account_name": "Bluebird", "partner_rep_email": "pat@bluebird.example",
        "customer_domain": f"{prm_id}.example",
        "hs_lastmodifieddate": "2026-11-18T10:00:00Z"}, PRM_OWNERS)


def opportunity(crm_id: str, prm_id: str | None, name: str) -> MappedRecord:
    return to_canonical(MAPPINGS.crm, {
        "Id": crm_id, "Name": name, "Amount": 150000.0, "IsClosed": False, "IsWon": False,
        "StageName": "Qualification", "OwnerId": AE, "CloseDate": date(2027, 1, 15),
        "Partner_Registration_Id__c": prm_id, "Partner_Prepared_Prospect__c": False,
        "SystemModstamp": datetime(2026, 11, 18, 11, 0, tzinfo=UTC)}, CRM_OWNERS)


def settled_world() -> EngineInput:
    """P linked to O1 by both id fields, P2 to O3; P3 a registration of no opportunity
    yet, O2 a direct deal nobody claims; every plan applied, so planning again finds
    nothing. The pipeline grades only (create off): P3 keeps having no opportunity, so
    these worlds are about ids alone (engine.create has its own tests)."""
    inputs = EngineInput(
        "partners", MAPPINGS,
        (registration(P, O1, "Acme data platform"),
         registration(P2, O3, "Initech analytics"), registration(P3, None, "Hooli search")),
        (opportunity(O1, P, "Acme data platform"), opportunity(O2, None, "Globex rollout"),
         opportunity(O3, P2, "Initech analytics")),
        EngineState(), NOW, CRM_OWNERS, PRM_OWNERS, create=False)
    inputs = apply_plan(inputs, plan(inputs))
    assert plan(inputs).is_empty()
    assert {prm_id: link.crm_id for prm_id, link in inputs.state.links.items()} == {
        P: O1, P2: O3}
    return inputs


# --- changes made outside the engine after the world settled ------------------------------

Change = Callable[[EngineInput], EngineInput]


def relink(prm_id: str, crm_id: str) -> Change:
    """A person resolves a review: `handoff-sync review link KEY CRM_ID`."""
    def change(inputs: EngineInput) -> EngineInput:
        links = {**inputs.state.links, prm_id: Link(prm_id, crm_id, LinkMethod.MANUAL, 1.0)}
        return dataclasses.replace(inputs, state=dataclasses.replace(
            inputs.state, links=MappingProxyType(links)))
    return change


def edit(role: Role, record_id: str, **values: Any) -> Change:
    def change(inputs: EngineInput) -> EngineInput:
        return _each(inputs, role, record_id, lambda record: dataclasses.replace(
            record, values=MappingProxyType({**record.values, **values})))
    return change


def delete(role: Role, record_id: str) -> Change:
    def change(inputs: EngineInput) -> EngineInput:
        return _each(inputs, role, record_id,
                     lambda record: dataclasses.replace(record, deleted=True))
    return change


def forget(role: Role, record_id: str) -> Change:
    """The record is gone from the input altogether (a full pull purged its tombstone)."""
    def change(inputs: EngineInput) -> EngineInput:
        kept = tuple(r for r in _records(inputs, role) if r.record_id != record_id)
        return _with(inputs, role, kept)
    return change


def may_not_write(name: str, role: Role) -> Change:
    """The field rules no longer let the engine write ``name`` on ``role``'s side."""
    def change(inputs: EngineInput) -> EngineInput:
        rule = inputs.mappings.sync[name]
        rule = (dataclasses.replace(rule, prm_writes=False) if role is Role.PRM
                else dataclasses.replace(rule, crm_writes=False))
        mappings = dataclasses.replace(inputs.mappings, sync=MappingProxyType(
            {**inputs.mappings.sync, name: rule}))
        return dataclasses.replace(inputs, mappings=mappings)
    return change


def _records(inputs: EngineInput, role: Role) -> Sequence[MappedRecord]:
    return inputs.prm if role is Role.PRM else inputs.crm


def _with(inputs: EngineInput, role: Role, records: tuple[MappedRecord, ...]) -> EngineInput:
    return (dataclasses.replace(inputs, prm=records) if role is Role.PRM
            else dataclasses.replace(inputs, crm=records))


def _each(inputs: EngineInput, role: Role, record_id: str,
          how: Callable[[MappedRecord], MappedRecord]) -> EngineInput:
    records = tuple(how(r) if r.record_id == record_id else r for r in _records(inputs, role))
    return _with(inputs, role, records)


def clears(result: Plan) -> list[tuple[str, str, str]]:
    return [(write.role.value, write.record_id, name) for write in result.writes
            for name, value in write.values.items()
            if name in ("prm_id", "crm_id") and value is None]


def link_reviews(result: Plan) -> set[ReviewKind]:
    """The kinds of the linking step's review items (owner items are beside the point)."""
    return {item.kind for item in result.reviews if item.kind not in (
            ReviewKind.UNRESOLVED_OWNER, ReviewKind.UNRESOLVED_PRM_OWNER,
            ReviewKind.ROUTING_OWNER)}


def write_to(result: Plan, role: Role, record_id: str) -> FieldWrite | None:
    return next((w for w in result.writes if w.role is role and w.record_id == record_id),
                None)


# --- through engine.plan ------------------------------------------------------------------

CASES: list[tuple[str, list[Change], list[tuple[str, str, str]], set[ReviewKind]]] = [
    ("a re-link blanks the old opportunity's prm_id",
     [relink(P, O2)], [("crm", O1, "prm_id")], set()),
    ("a re-link to an opportunity the registration already names",
     [edit(Role.PRM, P, crm_id=O2), relink(P, O2)], [("crm", O1, "prm_id")], set()),
    ("a deleted opportunity's survivor loses its crm_id",
     [delete(Role.CRM, O1)], [("prm", P, "crm_id")], {ReviewKind.LINKED_RECORD_DELETED}),
    ("a deleted registration's survivor loses its prm_id",
     [delete(Role.PRM, P)], [("crm", O1, "prm_id")], {ReviewKind.LINKED_RECORD_DELETED}),
    ("both deleted: nothing left to blank",
     [delete(Role.PRM, P), delete(Role.CRM, O1)], [], {ReviewKind.LINKED_RECORD_DELETED}),
    ("an old opportunity holding another id is left alone",
     [relink(P, O2), edit(Role.CRM, O1, prm_id="777")], [], set()),
    ("a survivor holding another id is left alone",
     [delete(Role.CRM, O1), edit(Role.PRM, P, crm_id=O2)], [], {
         ReviewKind.LINKED_RECORD_DELETED}),
    ("a side that may not write prm_id keeps it, and a person is asked",
     [may_not_write("prm_id", Role.CRM), relink(P, O2)], [], {ReviewKind.LINK_CONFLICT}),
    ("a side that may not write crm_id keeps it",
     [may_not_write("crm_id", Role.PRM), delete(Role.CRM, O1)], [],
     {ReviewKind.LINKED_RECORD_DELETED}),
]


@pytest.mark.parametrize(("changes", "expected", "review_kinds"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_stale_id_fields_are_blanked_once(changes: list[Change],
                                          expected: list[tuple[str, str, str]],
                                          review_kinds: set[ReviewKind]) -> None:
    inputs = settled_world()
    for change in changes:
        inputs = change(inputs)
    result = plan(inputs)
    assert clears(result) == expected, dumps(result)
    assert link_reviews(result) == review_kinds
    # The writes letting go of an id lead the plan; planning again finds nothing to do.
    ranks = [w.rank for w in result.writes]
    assert ranks == sorted(ranks)
    assert all(w.rank == 0 for w in result.writes if (w.role.value, w.record_id) in {
        (role, record_id) for role, record_id, _ in expected})
    again = plan(apply_plan(inputs, result))
    assert again.is_empty(), dumps(again)
    # A removal is reported once; a conflict nobody may fix stands until a person does.
    assert link_reviews(again) == review_kinds - {ReviewKind.LINKED_RECORD_DELETED}


def test_a_relink_moves_the_id_from_the_old_opportunity_to_the_new_one() -> None:
    inputs = relink(P, O2)(settled_world())
    result = plan(inputs)
    # O1 lets go of P first, then P's crm_id moves to O2, then O2 takes P.
    assert [(w.role, w.record_id, w.rank, w.releases) for w in result.writes] == [
        (Role.CRM, O1, 0, ("prm_id",)), (Role.PRM, P, 1, ("crm_id",)),
        (Role.CRM, O2, 2, ())]
    first, moved, new = result.writes
    assert dict(first.values) == {"prm_id": None} and first.deal == f"crm:{O1}"
    assert moved.values["crm_id"] == O2 and new.values["prm_id"] == P
    assert not result.links  # a manual link is stored already: no link change
    # O1 is planned as the direct deal it now is: no partner handoff, no id.
    verdict = next(v for v in result.verdicts if v.deal == f"crm:{O1}")
    assert verdict.prm_id is None and not verdict.required
    assert '"releases": [' in dumps(result)


def carried_out_but(inputs: EngineInput, result: Plan, failed: tuple[Role, str]) -> EngineInput:
    """The inputs after ``result`` was carried out but for the write to ``failed``, the
    bases advancing as the sync layer lets them (sync_write.advancing_deals)."""
    kept = tuple(w for w in result.writes if (w.role, w.record_id) != failed)
    done: Counter[str] = Counter()
    for write in kept:
        done.update((write.deal, *write.holds))
    advancing = advancing_deals(result, done)
    return apply_plan(inputs, dataclasses.replace(
        result, writes=kept, bases=tuple(b for b in result.bases if b.deal in advancing)))


def test_a_failed_blank_is_planned_again_next_cycle() -> None:
    """The old opportunity's blanking fails while the new one takes the id (an id field
    that is not unique, as on a HubSpot deal): the registration's base, which remembers
    the old pair, waits for the blank, so the next cycle still knows O1's claim is stale
    and blanks it again instead of raising a link conflict nobody can act on."""
    inputs = relink(P, O2)(settled_world())
    result = plan(inputs)
    first = write_to(result, Role.CRM, O1)
    assert first is not None and first.holds == (f"prm:{P}",)
    assert '"holds": [' in dumps(result)

    failed = carried_out_but(inputs, result, (Role.CRM, O1))
    assert inputs.state.bases[f"prm:{P}"] == failed.state.bases[f"prm:{P}"]
    # Incrementally too (nothing changed): O1, and P whose base waits on it, are planned.
    for again in (plan(failed), plan(dataclasses.replace(failed, dirty=Dirty()))):
        assert clears(again) == [("crm", O1, "prm_id")], dumps(again)
        assert not link_reviews(again)
        assert again.planned_deals is None or f"prm:{P}" in again.planned_deals
        settled = apply_plan(failed, again)
        assert settled.state.bases[f"prm:{P}"].agreed["crm_id"] == O2
        assert plan(settled).is_empty()

    # Had the registration's base moved on, O1's claim would look like a person's edit.
    moved_on = dataclasses.replace(failed, state=dataclasses.replace(
        failed.state, bases=MappingProxyType({**failed.state.bases, **{
            b.deal: b for b in result.bases}})))
    assert link_reviews(plan(moved_on)) == {ReviewKind.LINK_CONFLICT}


def test_an_old_opportunity_another_registration_names_is_linked_to_it_first() -> None:
    """O1 is re-linked in the same cycle: its write replaces P with P3 rather than blanking
    it, and still goes before O2 takes P."""
    inputs = relink(P, O2)(edit(Role.PRM, P3, crm_id=O1)(settled_world()))
    result = plan(inputs)
    assert [(c.kind, c.link.prm_id, c.link.crm_id) for c in result.links] == [
        (LinkChangeKind.CREATE, P3, O1)]
    assert not clears(result) and not link_reviews(result)
    old, new = write_to(result, Role.CRM, O1), write_to(result, Role.CRM, O2)
    assert old is not None and new is not None
    assert (old.values["prm_id"], old.rank, new.values["prm_id"], new.rank) == (P3, 1, P, 2)
    assert result.writes.index(old) < result.writes.index(new)
    assert plan(apply_plan(inputs, result)).is_empty()


def takes_held_ids(inputs: EngineInput, result: Plan) -> list[tuple[int, str, str, str]]:
    """Writes that would take an id another record still holds as their pass starts: a
    unique id field (Salesforce's external id) refuses them with DUPLICATE_VALUE, in
    whatever order a pass's writes reach the system. Empty when the passes are safe."""
    held = {role: {r.record_id: dict(r.values) for r in records if not r.deleted}
            for role, records in ((Role.PRM, inputs.prm), (Role.CRM, inputs.crm))}
    taken: list[tuple[int, str, str, str]] = []
    for rank in sorted({w.rank for w in result.writes}):
        writes = [w for w in result.writes if w.rank == rank]
        for write in writes:
            for name in ("prm_id", "crm_id"):
                value = write.values.get(name)
                holders = {i for i, values in held[write.role].items()
                           if values.get(name) == value and i != write.record_id}
                if value is not None and holders:
                    taken.append((rank, write.record_id, name, value))
        for write in writes:
            held[write.role][write.record_id].update(write.values)
    return taken


def test_a_swap_of_two_opportunities_lets_go_of_both_ids_first() -> None:
    """Two registrations swap opportunities by hand (P: O1 -> O3, P2: O3 -> O1). Each
    opportunity takes the id the other holds, so neither replacement can go first: both
    let go of their id in the first pass and take the new one in the last."""
    inputs = relink(P2, O1)(relink(P, O3)(settled_world()))
    result = plan(inputs)
    assert not takes_held_ids(inputs, result), dumps(result)
    crm_writes = [(w.record_id, w.rank, dict(w.values).get("prm_id", "-"))
                  for w in result.writes if w.role is Role.CRM and "prm_id" in w.values]
    assert crm_writes == [(O1, 0, None), (O3, 0, None), (O1, 2, P2), (O3, 2, P)]
    assert not link_reviews(result)
    settled = apply_plan(inputs, result)
    assert {r.record_id: r.values["prm_id"] for r in settled.crm} == {
        O1: P2, O2: None, O3: P}
    assert plan(settled).is_empty()


def test_a_chain_of_relinks_takes_each_id_after_its_holder_let_go() -> None:
    """P moves to O3, whose registration P2 moves to O2: O3 takes P only after it let go
    of P2, and O1 (left over) blanks P."""
    inputs = relink(P2, O2)(relink(P, O3)(settled_world()))
    result = plan(inputs)
    assert not takes_held_ids(inputs, result), dumps(result)
    settled = apply_plan(inputs, result)
    assert {r.record_id: r.values["prm_id"] for r in settled.crm} == {
        O1: None, O2: P2, O3: P}
    assert plan(settled).is_empty()


NAMES = ("Acme data platform", "Globex rollout", "Initech analytics", "Hooli search",
         "Umbrella billing", "Stark support desk")


def paired_world(pairs: int, spare: int) -> EngineInput:
    """``pairs`` registrations each linked to its opportunity by both id fields, and
    ``spare`` direct opportunities; settled."""
    prm = tuple(registration(f"6{i:02d}", f"0060000000001{i:02d}AAA", NAMES[i])
                for i in range(pairs))
    crm = tuple(opportunity(f"0060000000001{i:02d}AAA", f"6{i:02d}" if i < pairs else None,
                            NAMES[i]) for i in range(pairs + spare))
    inputs = EngineInput("partners", MAPPINGS, prm, crm, EngineState(), NOW, CRM_OWNERS,
                         PRM_OWNERS)
    return apply_plan(inputs, plan(inputs))


@settings(max_examples=examples(100), deadline=None)
@given(st.integers(2, 4).flatmap(lambda pairs: st.tuples(
    st.just(pairs), st.integers(0, 2), st.permutations(range(pairs + 2)),
    st.lists(st.tuples(st.sampled_from(Role), st.integers(0, 5)), max_size=2))))
def test_any_reshuffle_of_links_settles_in_one_plan_without_taking_a_held_id(
        case: tuple[int, int, list[int], list[tuple[Role, int]]]) -> None:
    """People re-link registrations to any other opportunities at once (swaps, chains,
    rotations, moves to a direct deal) and records get deleted: every id is taken only
    once its holder let go of it, and one plan settles the ids."""
    pairs, spare, order, deletes = case
    inputs = paired_world(pairs, spare)
    opportunities = [r.record_id for r in inputs.crm]
    for i in range(pairs):
        target = opportunities[order[i] % len(opportunities)]
        if order[i] < len(opportunities) and target != opportunities[i]:
            inputs = relink(f"6{i:02d}", target)(inputs)
    targets = [link.crm_id for link in inputs.state.links.values()]
    assume(len(set(targets)) == len(targets))  # one opportunity, one registration
    for role, i in deletes:
        records = inputs.prm if role is Role.PRM else inputs.crm
        if i < len(records):
            inputs = delete(role, records[i].record_id)(inputs)
    result = plan(inputs)
    assert not takes_held_ids(inputs, result), dumps(result)
    settled = apply_plan(inputs, result)
    assert plan(settled).is_empty(), dumps(plan(settled))
    # Every live opportunity names the registration linked to it, or nothing.
    linked = {link.crm_id: link.prm_id for link in settled.state.links.values()}
    assert {r.record_id: r.values["prm_id"] for r in settled.crm if not r.deleted} == {
        r.record_id: linked.get(r.record_id) for r in settled.crm if not r.deleted}


def test_a_plan_that_moves_no_id_prints_as_before() -> None:
    result = plan(edit(Role.CRM, O1, need="Replace the legacy ETL")(settled_world()))
    assert result.writes and all(w.rank == 2 for w in result.writes)
    assert '"releases"' not in dumps(result)


def test_a_survivor_whose_counterpart_is_gone_from_the_input_is_blanked() -> None:
    world = settled_world()
    after_removal = apply_plan(delete(Role.CRM, O1)(world), plan(delete(Role.CRM, O1)(world)))
    # Suppose the clear did not go through, and a full pull then dropped the tombstone.
    unblanked = forget(Role.CRM, O1)(edit(Role.PRM, P, crm_id=O1)(after_removal))
    result = plan(unblanked)
    assert clears(result) == [("prm", P, "crm_id")]
    assert not link_reviews(result)
    assert plan(apply_plan(unblanked, result)).is_empty()


def test_an_undeleted_registration_is_linked_again_by_the_id_fields() -> None:
    world = settled_world()
    gone = delete(Role.PRM, P)(world)
    after = apply_plan(gone, plan(gone))  # O1's prm_id is blanked
    # Restored from the recycle bin: P is back, and its crm_id still names O1.
    restored = dataclasses.replace(after, prm=world.prm)
    result = plan(restored)
    assert [(c.kind, c.link.prm_id, c.link.crm_id) for c in result.links] == [
        (LinkChangeKind.CREATE, P, O1)]
    assert not clears(result)


@pytest.mark.parametrize(("changes", "dirty"), [
    ([relink(P, O2)], Dirty(prm=frozenset({P}))),  # the sync layer's view of a re-link
    ([delete(Role.CRM, O1)], Dirty(crm=frozenset({O1}))),
    ([delete(Role.PRM, P)], Dirty(prm=frozenset({P}))),
], ids=["relink", "deleted opportunity", "deleted registration"])
def test_incremental_planning_plans_the_record_left_over(changes: list[Change],
                                                         dirty: Dirty) -> None:
    inputs = settled_world()
    for change in changes:
        inputs = change(inputs)
    full = plan(inputs)
    incremental = plan(dataclasses.replace(inputs, dirty=dirty))
    assert clears(incremental) == clears(full) != []
    assert incremental.writes == full.writes
    assert incremental.verdicts == full.verdicts and incremental.tasks == full.tasks
    # The next cycle reads back what it wrote (the echo), and has nothing to do.
    after = apply_plan(inputs, incremental)
    echo = Dirty(prm=frozenset(w.record_id for w in incremental.writes if w.role is Role.PRM),
                 crm=frozenset(w.record_id for w in incremental.writes if w.role is Role.CRM))
    assert plan(dataclasses.replace(after, dirty=echo)).is_empty()


# --- the linking step on its own ----------------------------------------------------------

BOTH = frozenset(Role)
LINK_CASES: list[tuple[str, list[MappedRecord], list[MappedRecord], dict[str, Link],
                       dict[str, str], frozenset[Role], dict[str, str], list[StaleId],
                       list[str]]] = [
    ("re-linked: the old opportunity's claim is stale, no conflict",
     [reg("1", crm_id="A")], [opp("A", prm_id="1"), opp("B")], stored(**{"1": "B"}),
     {"1": "A"}, BOTH, {"1": "B"}, [StaleId(Role.CRM, "A", "1")], []),
    ("re-linked, but the CRM side may not blank it: a conflict as before",
     [reg("1", crm_id="B")], [opp("A", prm_id="1"), opp("B")], stored(**{"1": "B"}),
     {"1": "A"}, frozenset({Role.PRM}), {"1": "B"}, [], ["link_conflict:prm:1"]),
    ("no former pairing: an opportunity naming a linked registration is a conflict",
     [reg("1", crm_id="B")], [opp("A", prm_id="1"), opp("B")], stored(**{"1": "B"}),
     {}, BOTH, {"1": "B"}, [], ["link_conflict:prm:1"]),
    ("the old opportunity was linked to another registration since",
     [reg("1", crm_id="B"), reg("2", crm_id="A")], [opp("A", prm_id="1"), opp("B")],
     stored(**{"1": "B", "2": "A"}), {"1": "A"}, BOTH, {"1": "B", "2": "A"}, [], []),
    ("a former registration gone from the input",
     [], [opp("A", prm_id="1")], {}, {"1": "A"}, BOTH, {}, [StaleId(Role.CRM, "A", "1")],
     []),
    ("a former opportunity linked to another registration",
     [reg("1", crm_id="A"), reg("2", crm_id="A")], [opp("A", prm_id="2")],
     stored(**{"2": "A"}), {"1": "A"}, BOTH, {"2": "A"}, [StaleId(Role.PRM, "1", "A")], []),
    ("both former records live and unlinked: the id fields link them again",
     [reg("1", crm_id="A")], [opp("A", prm_id="1")], {}, {"1": "A"}, BOTH, {"1": "A"}, [],
     []),
    ("a former registration out of scope is not stale",
     [reg("1", in_scope=False)], [opp("A", prm_id="1")], {}, {"1": "A"}, BOTH, {}, [], []),
]


@pytest.mark.parametrize(("prm", "crm", "links", "former", "clearable", "expected_links",
                          "expected", "expected_reviews"),
                         [case[1:] for case in LINK_CASES],
                         ids=[case[0] for case in LINK_CASES])
def test_stale_claims_in_the_linking_step(prm: list[MappedRecord], crm: list[MappedRecord],
                                          links: dict[str, Link], former: dict[str, str],
                                          clearable: frozenset[Role],
                                          expected_links: dict[str, str],
                                          expected: list[StaleId],
                                          expected_reviews: list[str]) -> None:
    outcome = link_records(prm, crm, links, RULES, former=former.get, clearable=clearable)
    assert list(outcome.stale) == expected
    assert [item.key for item in outcome.reviews] == expected_reviews
    assert {prm_id: link.crm_id for prm_id, link in outcome.links.items()} == expected_links


def test_a_stale_record_matched_in_the_same_step_is_not_blanked() -> None:
    """Its new pair writes the id field anyway."""
    outcome = link_records([reg("1", crm_id="A"), reg("2", deal_name="Acme data platform")],
                           [opp("A", prm_id="1", deal_name="Acme Data Platform"), opp("B")],
                           stored(**{"1": "B"}), RULES, former={"1": "A"}.get,
                           clearable=BOTH)
    assert {prm_id: link.crm_id for prm_id, link in outcome.links.items()} == {
        "1": "B", "2": "A"}
    assert outcome.stale == ()
