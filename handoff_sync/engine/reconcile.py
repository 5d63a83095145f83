"""Three-way merge of one linked PRM/CRM pair against what each side held last cycle.

A two-way sync cannot tell "the CRM changed" from "the PRM changed", so it overwrites
people's edits or ping-pongs values between the systems. Comparing each side with what
it held after the last cycle (``BaseSnapshot``) tells who moved: one side moved, it wins;
both moved to different values, the field's conflict policy (``mapping.conflicts.decide``)
picks one and the loser's value is kept in a ``Conflict``. Nobody moved, the last agreed
value stands, so an edit in a side we may not write is not undone the next cycle.

Every comparison is made in the form a side would hold a value once written and read back
(``Stored``), so a value the engine wrote earlier comes back equal and plans nothing, and
a write is never planned for a value the side already holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from handoff_sync.engine.types import BaseSnapshot, Conflict
from handoff_sync.mapping.conflicts import Decision, FieldSync, decide
from handoff_sync.mapping.convert import MappedRecord
from handoff_sync.model import Role, Value, is_blank

# (side, canonical field, value) -> the value as that side would hold it once written.
Stored = Callable[[Role, str, Value], Value]

READ_ONLY = "read_only"
_ROLES = (Role.PRM, Role.CRM)


@dataclass(frozen=True)
class Reconciled:
    """The merge of one pair: the agreed values, the writes that reach them, and why."""

    merged: Mapping[str, Value]  # canonical field -> agreed value
    writes: Mapping[Role, Mapping[str, Value]]  # per side: field -> value to write (stored form)
    conflicts: tuple[Conflict, ...]  # sorted by field
    base: BaseSnapshot  # what to remember if every write succeeds


def reconcile(deal: str, prm: MappedRecord | None, crm: MappedRecord | None,
              base: BaseSnapshot | None, sync: Mapping[str, FieldSync], *,
              stored: Stored, identity: Mapping[str, Value] | None = None) -> Reconciled:
    """Merge the two records of ``deal`` field by field (see the module docstring).

    ``identity`` holds the link's ids (``prm_id``, ``crm_id``): they are not merged, and a
    side that writes one gets it when it holds something else (a None id is ignored).
    A side whose record is None gets no writes; if there is a base it is taken to still
    hold what it held then (its record was not read this cycle), otherwise it contributes
    nothing.
    """
    merge = _Merge(deal, {Role.PRM: prm, Role.CRM: crm}, base, stored)
    ids = {name: value for name, value in (identity or {}).items() if value is not None}
    merged: dict[str, Value] = {}
    conflicts: list[Conflict] = []
    for name in sorted(set(sync) | set(ids)):
        rule = sync.get(name)
        held = merge.held(name, rule)
        if name in ids:
            value: Value = ids[name]
        else:
            assert rule is not None
            value, conflict = merge.merge(name, rule, held)
            if conflict is not None:
                conflicts.append(conflict)
        merged[name] = value
        if rule is not None and rule.policy != READ_ONLY:
            merge.write(name, rule, value, held)
    return Reconciled(MappingProxyType(merged), merge.planned_writes(), tuple(conflicts),
                      merge.new_base(merged))


def _reads(rule: FieldSync | None, role: Role) -> bool:
    if rule is None:
        return False
    return rule.prm_reads if role is Role.PRM else rule.crm_reads


def _writes(rule: FieldSync | None, role: Role) -> bool:
    if rule is None:
        return False
    return rule.prm_writes if role is Role.PRM else rule.crm_writes


class _Merge:
    """One reconcile call's inputs and the writes and base values it accumulates."""

    def __init__(self, deal: str, records: Mapping[Role, MappedRecord | None],
                 base: BaseSnapshot | None, stored: Stored) -> None:
        self.deal = deal
        self.records = records
        self.base = base
        self.stored = stored
        self.writes: dict[Role, dict[str, Value]] = {role: {} for role in _ROLES}
        # What each side will hold once the writes land; absent: we do not know.
        self.after: dict[Role, dict[str, Value]] = {role: {} for role in _ROLES}

    def _last(self, role: Role) -> Mapping[str, Value]:
        if self.base is None:
            return MappingProxyType({})
        return self.base.prm if role is Role.PRM else self.base.crm

    def held(self, name: str, rule: FieldSync | None) -> dict[Role, Value]:
        """Per side that takes part in the field, what it holds now (when known)."""
        known: dict[Role, Value] = {}
        for role in _ROLES:
            record = self.records[role]
            if record is not None and _reads(rule, role):
                value = record.values.get(name)
                last = self._last(role)
                # Equal to what the base holds (a stored form already): no round trip.
                known[role] = value if name in last and value == last[name] else self.stored(
                    role, name, value)
            elif (_reads(rule, role) or _writes(rule, role)) and name in self._last(role):
                # Unread this cycle, or write-only: it holds what we last saw or wrote.
                known[role] = self._last(role)[name]
        for role, value in known.items():
            self.after[role][name] = value
        return known

    def merge(self, name: str, rule: FieldSync,
              held: Mapping[Role, Value]) -> tuple[Value, Conflict | None]:
        seen = {role: value for role, value in held.items() if _reads(rule, role)}
        if not seen:
            return (self.base.agreed.get(name) if self.base is not None else None), None
        if len(seen) == 1:
            return next(iter(seen.values())), None
        return self._three_way(name, rule, seen[Role.PRM], seen[Role.CRM])

    def _three_way(self, name: str, rule: FieldSync, prm: Value,
                   crm: Value) -> tuple[Value, Conflict | None]:
        base = self.base
        if base is None or not (name in base.agreed and name in base.prm and name in base.crm):
            # First cycle of this pair (or of this field): nothing to conflict with.
            return (prm if prm == crm else self._decide(rule, prm, crm).value), None
        prm_changed, crm_changed = prm != base.prm[name], crm != base.crm[name]
        both_moved_apart = prm_changed and crm_changed and prm != crm
        # read_only is never written, so its sides may differ for good: it always shows
        # the policy's view rather than whichever side moved last.
        if rule.policy != READ_ONLY and not both_moved_apart:
            if prm_changed != crm_changed:
                return (prm if prm_changed else crm), None
            # Neither moved: keep what was agreed. Both moved to the same value: take it.
            return (prm if prm_changed else base.agreed[name]), None
        decision = self._decide(rule, prm, crm)
        if not both_moved_apart:
            return decision.value, None
        return decision.value, Conflict(
            deal=self.deal, field=name, policy=rule.policy, base=base.agreed[name], prm=prm,
            crm=crm, winner=decision.winner, kept=decision.value,
            lost=prm if decision.value == crm else crm)

    def _decide(self, rule: FieldSync, prm: Value, crm: Value) -> Decision:
        prm_record, crm_record = self.records[Role.PRM], self.records[Role.CRM]
        return decide(rule.policy, prm, crm,
                      prm_modified=prm_record.modified_at if prm_record else None,
                      crm_modified=crm_record.modified_at if crm_record else None)

    def write(self, name: str, rule: FieldSync, value: Value,
              held: Mapping[Role, Value]) -> None:
        for role in _ROLES:
            if not _writes(rule, role) or self.records[role] is None:
                continue
            if role in held and value == held[role]:
                continue  # held values are stored forms, and storing one changes nothing
            desired = self.stored(role, name, value)
            # Never written and not readable: write it once, but never blank out a value
            # someone may have put there that we cannot see.
            needed = desired != held[role] if role in held else not is_blank(value)
            if needed:
                self.writes[role][name] = desired
                self.after[role][name] = desired

    def planned_writes(self) -> Mapping[Role, Mapping[str, Value]]:
        return MappingProxyType({role: MappingProxyType(dict(sorted(values.items())))
                                 for role, values in self.writes.items() if values})

    def new_base(self, merged: Mapping[str, Value]) -> BaseSnapshot:
        prm, crm = (MappingProxyType(dict(sorted(self.after[role].items()))) for role in _ROLES)
        return BaseSnapshot(self.deal, prm, crm, MappingProxyType(dict(merged)))


__all__ = ["Reconciled", "Stored", "reconcile"]
