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

A value that cannot be trusted is never synced: a field a side's record could not convert
(``MappedRecord.issues``: 1e400, NaN, a date that is no date) counts as unknown on that
side, as if the side had not been read, and is not written there either (we would
overwrite a value we cannot see); a value the other side's field cannot hold (longer or
larger than its describe allows) is not written and comes back in ``Reconciled.rejected``.
Either way that side keeps what it held in the base, so fixing the value at its source
syncs it like any other edit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from connectors.reading import is_blank
from handoff_sync.engine.stored import Form, StoredForms
from handoff_sync.engine.types import BaseSnapshot, Conflict
from handoff_sync.mapping.system.conflicts import ConflictPolicy, Decision, FieldSync, decide
from handoff_sync.mapping.system.convert import MappedRecord
from handoff_sync.model import Role, Value

# (side, canonical field, value) -> the value as that side would hold it once written.
Stored = Callable[[Role, str, Value], Value]

_ROLES = (Role.PRM, Role.CRM)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A write left out because the side's field cannot hold the value."""

    role: Role
    field: str  # canonical field
    value: Value
    message: str  # why, e.g. "is 300 characters long; Name holds at most 120"


@dataclass(frozen=True)
class Reconciled:
    """The merge of one pair: the agreed values, the writes that reach them, and why."""

    merged: Mapping[str, Value]  # canonical field -> agreed value
    writes: Mapping[Role, Mapping[str, Value]]  # per side: field -> value to write (stored form)
    conflicts: tuple[Conflict, ...]  # sorted by field
    base: BaseSnapshot  # what to remember if every write succeeds
    rejected: tuple[Rejected, ...] = ()  # writes left out: the value does not fit the side
    # Per side (PRM, CRM): field -> what it holds before the writes (stored form), when
    # known. Kept so ``Reconciler.redecide`` merges only the decided fields again.
    held: tuple[Mapping[str, Value], Mapping[str, Value]] = dataclasses.field(
        default=(MappingProxyType({}), MappingProxyType({})), compare=False, repr=False)


def reconcile(deal: str, prm: MappedRecord | None, crm: MappedRecord | None,
              base: BaseSnapshot | None, sync: Mapping[str, FieldSync], *,
              stored: Stored, identity: Mapping[str, Value] | None = None) -> Reconciled:
    """Merge the two records of ``deal`` field by field (see the module docstring).

    ``identity`` holds the link's ids (``prm_id``, ``crm_id``): they are not merged, and a
    side that writes one gets it when it holds something else (a None id is ignored).
    A side whose record is None gets no writes; if there is a base it is taken to still
    hold what it held then (its record was not read this cycle), otherwise it contributes
    nothing. Planning many deals, build one ``Reconciler`` and call it instead.
    """
    return Reconciler(sync, stored=stored)(deal, prm, crm, base, identity=identity)


@dataclass(frozen=True, slots=True)
class _Field:
    """One field's sync rule, flattened per side (PRM, CRM) for the merge loop."""

    name: str
    rule: FieldSync | None  # None: an identity field no side syncs
    reads: tuple[bool, bool]
    writes: tuple[bool, bool]
    written: bool  # the policy lets the engine write it at all (not read_only)
    forms: tuple[Form | None, Form | None]  # per side, its stored form; None: as given
    # Per side: its stored form holds any non-blank text as given (StoredForms.keeps_text),
    # so the merge loop need not call it for one.
    texts: tuple[bool, bool] = (False, False)
    blanks: tuple[Value, Value] = (None, None)  # per side, a blank (None) in stored form


# A side that holds nothing we know of for a field. Typed Any: it stands where a Value
# would, and every use tests for it by identity first.
_MISSING: Any = object()
_EMPTY: Mapping[str, Value] = MappingProxyType({})
_NONE: frozenset[str] = frozenset()
IDENTITY_FIELDS = ("crm_id", "prm_id")
_IDENTITY_SET = frozenset(IDENTITY_FIELDS)


class Reconciler:
    """``reconcile`` with the field rules flattened once, for a cycle's thousands of pairs.

    The merge runs about 40 fields x 2 sides per deal, so the rules are looked up once
    here and the loop works on plain tuples and dicts (it is the engine's hottest path).
    """

    def __init__(self, sync: Mapping[str, FieldSync], *,
                 stored: Stored | StoredForms) -> None:
        self._sync = sync
        self._stored = stored
        self._check = stored.problem if isinstance(stored, StoredForms) else None
        self._fields = self._table(IDENTITY_FIELDS)
        self._by_name = {field.name: field for field in self._fields}

    def _table(self, identity: Iterable[str]) -> tuple[_Field, ...]:
        names = sorted(set(self._sync) | set(identity))
        return tuple(self._field(name, self._sync.get(name)) for name in names)

    def _field(self, name: str, rule: FieldSync | None) -> _Field:
        if rule is None:
            return _Field(name, None, (False, False), (False, False), False, (None, None))
        forms = tuple(self._form(role, name) for role in _ROLES)
        stored = self._stored
        texts = tuple(isinstance(stored, StoredForms) and stored.keeps_text(role, name)
                      for role in _ROLES)
        return _Field(name, rule, (rule.prm_reads, rule.crm_reads),
                      (rule.prm_writes, rule.crm_writes),
                      rule.policy != ConflictPolicy.READ_ONLY,
                      (forms[0], forms[1]), (texts[0], texts[1]),
                      (_blank(forms[0]), _blank(forms[1])))

    def _form(self, role: Role, name: str) -> Form | None:
        stored = self._stored
        if isinstance(stored, StoredForms):
            return stored.form(role, name)
        return lambda value: stored(role, name, value)

    def __call__(self, deal: str, prm: MappedRecord | None, crm: MappedRecord | None,
                 base: BaseSnapshot | None,
                 identity: Mapping[str, Value] | None = None,
                 decided: Mapping[str, Value] | None = None) -> Reconciled:
        """The merge (see ``reconcile``). ``decided``: values the engine itself set for
        this deal (the stage autopilot's position), agreed in place of the merge's and
        written to every side that writes the field."""
        ids = {name: value for name, value in (identity or {}).items() if value is not None}
        fields = (self._fields if ids.keys() <= _IDENTITY_SET
                  else self._table([*IDENTITY_FIELDS, *ids]))
        records = (prm, crm)
        read = (prm.values if prm is not None else None, crm.values if crm is not None else None)
        unknown = (_unknown(prm), _unknown(crm))
        rejected: list[Rejected] = []
        lasts = (base.prm, base.crm) if base is not None else (_EMPTY, _EMPTY)
        agreed = base.agreed if base is not None else _EMPTY
        writes: tuple[dict[str, Value], dict[str, Value]] = ({}, {})
        # What each side holds before the writes land; absent: we do not know.
        holds: tuple[dict[str, Value], dict[str, Value]] = ({}, {})
        merged: dict[str, Value] = {}
        conflicts: list[Conflict] = []
        write = self._write
        for field in fields:
            name = field.name
            rule = field.rule
            if rule is None and name not in ids:
                continue
            reads, forms, texts = field.reads, field.forms, field.texts
            held = [_MISSING, _MISSING]  # per side, what it holds now (when known)
            was = [_MISSING, _MISSING]  # per side, the base's value in the form held has
            for side in (0, 1):
                values, last = read[side], lasts[side]
                if values is not None and reads[side] and name not in unknown[side]:
                    value = values.get(name)
                    form = forms[side]
                    # Always in stored form, even when equal to the base's value: a base
                    # need not hold stored forms (kept before the field's mapping or an
                    # owner changed), and a read left as given would differ from the
                    # agreed value it stands for and plan an echo write.
                    if form is None or (texts[side] and value.__class__ is str
                                        and value.strip()):
                        now = held[side] = value
                    elif value is None:
                        now = held[side] = field.blanks[side]
                    else:
                        now = held[side] = form(value)
                    if name in last:  # compared in the same form: unchanged stays unchanged
                        before = last[name]
                        same = type(before) is type(value) and before == value
                        was[side] = (now if same  # its stored form: computed once
                                     else before if form is None else form(before))
                elif (reads[side] or field.writes[side]) and name in last:
                    # Unread this cycle, or write-only: it holds what we last saw or wrote.
                    now = held[side] = last[name]
                else:
                    continue
                holds[side][name] = now
            if name in ids:
                agreed_value: Value = ids[name]
            else:
                assert rule is not None
                prm_seen = held[0] if reads[0] else _MISSING
                crm_seen = held[1] if reads[1] else _MISSING
                if prm_seen is _MISSING:
                    agreed_value = agreed.get(name) if crm_seen is _MISSING else crm_seen
                elif crm_seen is _MISSING or (prm_seen == crm_seen and base is None):
                    agreed_value = prm_seen
                else:
                    agreed_value, conflict = _three_way(deal, name, rule, prm_seen,
                                                        crm_seen, base, records, was)
                    if conflict is not None:
                        conflicts.append(conflict)
            if decided is not None and name in decided:
                agreed_value = decided[name]
            merged[name] = agreed_value
            if not field.written:
                continue
            for side in (0, 1):
                if field.writes[side] and records[side] is not None \
                        and name not in unknown[side]:
                    now = held[side]
                    if now is not _MISSING and agreed_value == now:
                        continue  # held values are stored forms: nothing to write
                    write(side, field, agreed_value, now, writes[side], rejected)
        # The fields come sorted by name (_table), and so do the dicts filled from them.
        return _reconciled(deal, merged, writes, holds, conflicts, rejected, ordered=True)

    def redecide(self, first: Reconciled, prm: MappedRecord | None, crm: MappedRecord | None,
                 decided: Mapping[str, Value]) -> Reconciled:
        """``self(deal, prm, crm, base, identity, decided=decided)`` given ``first``, that
        same call's result without ``decided``: each field merges on its own, from the
        same reads, so only the decided fields' agreed values and writes change (their
        conflicts are those of the merge underneath)."""
        names = [name for name in decided if name in first.merged]
        if not names:
            return first
        records = (prm, crm)
        unknown = (_unknown(prm), _unknown(crm))
        merged = dict(first.merged)
        writes = (dict(first.writes.get(Role.PRM, _EMPTY)),
                  dict(first.writes.get(Role.CRM, _EMPTY)))
        redone = set()
        added: list[Rejected] = []
        for name in names:
            merged[name] = agreed_value = decided[name]
            field = self._by_name.get(name)
            if field is None or not field.written:
                continue
            redone.add(name)
            for side in (0, 1):
                writes[side].pop(name, None)
                if field.writes[side] and records[side] is not None \
                        and name not in unknown[side]:
                    self._write(side, field, agreed_value,
                                first.held[side].get(name, _MISSING), writes[side], added)
        rejected = [r for r in first.rejected if r.field not in redone] + added
        rejected.sort(key=lambda r: (r.field, _ROLES.index(r.role)))  # as a merge lists them
        return _reconciled(first.base.deal, merged, writes,
                           (dict(first.held[0]), dict(first.held[1])),
                           list(first.conflicts), rejected, ordered=False)

    def _write(self, side: int, field: _Field, agreed_value: Value, now: Any,
               writes: dict[str, Value], rejected: list[Rejected]) -> None:
        """Plan the write of one field to one side that may take it, into ``writes`` (or
        ``rejected``); ``now``: what the side holds (stored form), or _MISSING."""
        if now is not _MISSING and agreed_value == now:
            return  # held values are stored forms, and storing one changes nothing
        form = field.forms[side]
        desired = agreed_value if form is None else form(agreed_value)
        # Never written and not readable: write it once, but never blank out a value
        # someone may have put there that we cannot see.
        if desired != now if now is not _MISSING else not is_blank(agreed_value):
            problem = self._check(_ROLES[side], field.name, agreed_value) \
                if self._check is not None else None
            if problem is not None:  # the side keeps what it holds
                rejected.append(Rejected(_ROLES[side], field.name, agreed_value, problem))
                return
            writes[field.name] = desired


def _blank(form: Form | None) -> Value:
    """A blank read (None) in the stored form (forms are pure: asked once per table)."""
    return None if form is None else form(None)


def _unknown(record: MappedRecord | None) -> frozenset[str]:
    """Fields a side could not convert: unknown there (see the module docstring)."""
    if record is None or not record.issues:
        return _NONE
    return frozenset(issue.name for issue in record.issues)


def _reconciled(deal: str, merged: dict[str, Value],
                writes: tuple[dict[str, Value], dict[str, Value]],
                holds: tuple[dict[str, Value], dict[str, Value]],
                conflicts: list[Conflict], rejected: list[Rejected], *,
                ordered: bool) -> Reconciled:
    """The merge's result; each side holds afterwards what it held, with the writes.
    ``ordered``: ``writes`` and ``holds`` were filled in field name order already."""
    planned = MappingProxyType({role: MappingProxyType(values if ordered else _by_name(values))
                                for role, values in zip(_ROLES, writes, strict=True)
                                if values})
    prm_after, crm_after = (
        MappingProxyType({**held, **written} if ordered and written.keys() <= held.keys()
                         else _by_name({**held, **written}))
        for held, written in zip(holds, writes, strict=True))
    return Reconciled(MappingProxyType(merged), planned, tuple(conflicts),
                      BaseSnapshot(deal, prm_after, crm_after, MappingProxyType(dict(merged))),
                      tuple(rejected), (MappingProxyType(holds[0]), MappingProxyType(holds[1])))


def _by_name(values: Mapping[str, Value]) -> dict[str, Value]:
    return dict(sorted(values.items()))


def _three_way(deal: str, name: str, rule: FieldSync, prm: Value, crm: Value,
               base: BaseSnapshot | None,
               records: tuple[MappedRecord | None, MappedRecord | None],
               was: list[Any],
               ) -> tuple[Value, Conflict | None]:
    if base is None or not (name in base.agreed and name in base.prm and name in base.crm):
        # First cycle of this pair (or of this field): nothing to conflict with.
        return (prm if prm == crm else _decide(rule, prm, crm, records).value), None
    before = tuple(base_value if seen is _MISSING else seen
                   for seen, base_value in zip(was, (base.prm[name], base.crm[name]),
                                               strict=True))
    prm_changed, crm_changed = prm != before[0], crm != before[1]
    both_moved_apart = prm_changed and crm_changed and prm != crm
    # read_only is never written, so its sides may differ for good: it always shows
    # the policy's view rather than whichever side moved last.
    if rule.policy != ConflictPolicy.READ_ONLY and not both_moved_apart:
        if prm_changed != crm_changed:
            return (prm if prm_changed else crm), None
        # Neither moved: keep what was agreed. Both moved to the same value: take it.
        return (prm if prm_changed else base.agreed[name]), None
    decision = _decide(rule, prm, crm, records)
    if not both_moved_apart:
        return decision.value, None
    return decision.value, Conflict(
        deal=deal, field=name, policy=rule.policy, base=base.agreed[name], prm=prm,
        crm=crm, winner=decision.winner, kept=decision.value,
        lost=prm if decision.value == crm else crm)


def _decide(rule: FieldSync, prm: Value, crm: Value,
            records: tuple[MappedRecord | None, MappedRecord | None]) -> Decision:
    prm_record, crm_record = records
    return decide(rule.policy, prm, crm,
                  prm_modified=prm_record.modified_at if prm_record else None,
                  crm_modified=crm_record.modified_at if crm_record else None)


__all__ = ["Reconciled", "Reconciler", "Rejected", "Stored", "reconcile"]
