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
from datetime import datetime
from types import MappingProxyType
from typing import Any

from connectors.reading import is_blank
from handoff_sync.engine.stored import Form, StoredForms
from handoff_sync.engine.types import BaseSnapshot, Conflict
from handoff_sync.mapping.system.conflicts import Choose, ConflictPolicy, FieldSync, chooser
from handoff_sync.mapping.system.convert import MappedRecord
from handoff_sync.model import Role, Value, quick_init

# (side, canonical field, value) -> the value as that side would hold it once written.
Stored = Callable[[Role, str, Value], Value]

_ROLES = (Role.PRM, Role.CRM)


@quick_init
@dataclass(frozen=True, slots=True)
class Rejected:
    """A write left out because the side's field cannot hold the value."""

    role: Role
    field: str  # canonical field
    value: Value
    message: str  # why, e.g. "is 300 characters long; Name holds at most 120"


@quick_init
@dataclass(frozen=True, slots=True)
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
        self._plans = tuple(map(_plan, self._fields))
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
        plans = (self._plans if ids.keys() <= _IDENTITY_SET
                 else tuple(map(_plan, self._table([*IDENTITY_FIELDS, *ids]))))
        modified = (prm.modified_at if prm is not None else None,
                    crm.modified_at if crm is not None else None)
        # Per side: its values when its record was read (else None), the fields it could
        # not convert, what it held after the last cycle. Unrolled (p_*, c_*): this loop
        # runs ~45 fields x 2 sides per deal, and indexing per side cost a tenth of it.
        p_values = prm.values if prm is not None else None
        c_values = crm.values if crm is not None else None
        p_unknown, c_unknown = _unknown(prm), _unknown(crm)
        rejected: list[Rejected] = []
        p_last, c_last = (base.prm, base.crm) if base is not None else (_EMPTY, _EMPTY)
        agreed = base.agreed if base is not None else _EMPTY
        writes: tuple[dict[str, Value], dict[str, Value]] = ({}, {})
        # What each side holds before the writes land; absent: we do not know.
        p_holds: dict[str, Value] = {}
        c_holds: dict[str, Value] = {}
        merged: dict[str, Value] = {}
        conflicts: list[Conflict] = []
        write = self._write
        for (field, name, rule, p_reads, c_reads, p_writes, c_writes, p_form, c_form, p_text,
             c_text, p_blank, c_blank, choose) in plans:
            if rule is None and name not in ids:
                continue
            # Per side: what it holds now (when known), and the base's value in the form
            # held has (see _was); _MISSING: unknown. Always in stored form, even when
            # equal to the base's value: a base need not hold stored forms (kept before
            # the field's mapping or an owner changed), and a read left as given would
            # differ from the agreed value it stands for and plan an echo write.
            # The two sides are written out, not a helper called per side: this is the
            # merge's innermost loop (a field of a deal), and the call cost showed.
            p_held = p_was = c_held = c_was = _MISSING
            if p_values is not None and p_reads and name not in p_unknown:
                value = p_values.get(name)
                if p_form is None or (p_text and value.__class__ is str and value.strip()):
                    p_held = value
                elif value is None:
                    p_held = p_blank
                else:
                    p_held = p_form(value)
                if name in p_last:
                    p_was = _was(p_last[name], value, p_held, p_form)
                p_holds[name] = p_held
            elif (p_reads or p_writes) and name in p_last:
                # Unread this cycle, or write-only: it holds what we last saw or wrote.
                p_held = p_holds[name] = p_last[name]
            if c_values is not None and c_reads and name not in c_unknown:
                value = c_values.get(name)
                if c_form is None or (c_text and value.__class__ is str and value.strip()):
                    c_held = value
                elif value is None:
                    c_held = c_blank
                else:
                    c_held = c_form(value)
                if name in c_last:
                    c_was = _was(c_last[name], value, c_held, c_form)
                c_holds[name] = c_held
            elif (c_reads or c_writes) and name in c_last:
                c_held = c_holds[name] = c_last[name]
            if name in ids:
                agreed_value: Value = ids[name]
            else:
                assert rule is not None and choose is not None
                prm_seen = p_held if p_reads else _MISSING
                crm_seen = c_held if c_reads else _MISSING
                if prm_seen is _MISSING:
                    agreed_value = agreed.get(name) if crm_seen is _MISSING else crm_seen
                elif crm_seen is _MISSING or (prm_seen == crm_seen and base is None):
                    agreed_value = prm_seen
                elif base is None:  # first cycle of this pair: nothing to conflict with
                    agreed_value = prm_seen if prm_seen == crm_seen else \
                        choose(prm_seen, crm_seen, modified[0], modified[1])[1]
                else:
                    agreed_value, conflict = _three_way(deal, name, rule, choose, prm_seen,
                                                        crm_seen, base, modified,
                                                        (p_was, c_was))
                    if conflict is not None:
                        conflicts.append(conflict)
            if decided is not None and name in decided:
                agreed_value = decided[name]
            merged[name] = agreed_value
            if not field.written:
                continue
            # Held values are stored forms: one equal to the agreed value needs no write.
            if p_writes and prm is not None and name not in p_unknown and (
                    p_held is _MISSING or agreed_value != p_held):
                write(0, field, agreed_value, p_held, writes[0], rejected)
            if c_writes and crm is not None and name not in c_unknown and (
                    c_held is _MISSING or agreed_value != c_held):
                write(1, field, agreed_value, c_held, writes[1], rejected)
        # The fields come sorted by name (_table), and so do the dicts filled from them.
        return _reconciled(deal, merged, writes, (p_holds, c_holds), conflicts, rejected,
                           ordered=True)

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
        # Per side: its writes changed (else its base stands); a field joined them (they
        # are sorted again: in place, the others keep their field name order).
        touched, joined = [False, False], [False, False]
        for name in names:
            merged[name] = agreed_value = decided[name]
            field = self._by_name.get(name)
            if field is None or not field.written:
                continue
            redone.add(name)
            for side in (0, 1):
                planned = writes[side]
                fresh: dict[str, Value] = {}
                if field.writes[side] and records[side] is not None \
                        and name not in unknown[side]:
                    self._write(side, field, agreed_value,
                                first.held[side].get(name, _MISSING), fresh, added)
                if name in fresh:
                    joined[side] = joined[side] or name not in planned
                    planned[name] = fresh[name]
                    touched[side] = True
                elif planned.pop(name, _MISSING) is not _MISSING:
                    touched[side] = True
        rejected = [r for r in first.rejected if r.field not in redone] + added
        rejected.sort(key=lambda r: (r.field, _ROLES.index(r.role)))  # as a merge lists them
        # The held values come from the merge underneath, in field name order; a side
        # whose writes did not change holds afterwards what it held in that merge.
        writes = (_by_name(writes[0]) if joined[0] else writes[0],
                  _by_name(writes[1]) if joined[1] else writes[1])
        return _reconciled(first.base.deal, merged, writes, first.held,
                           list(first.conflicts), rejected, ordered=True,
                           afters=(None if touched[0] else first.base.prm,
                                   None if touched[1] else first.base.crm))

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


# One field's merge plan, flattened for the loop: (field, name, rule, reads, writes and
# forms per side, text-keeping per side, blanks per side, the policy's chooser).
_Plan = tuple[_Field, str, FieldSync | None, bool, bool, bool, bool, Form | None, Form | None,
              bool, bool, Value, Value, Choose | None]


def _plan(field: _Field) -> _Plan:
    return (field, field.name, field.rule, *field.reads, *field.writes, *field.forms,
            *field.texts, *field.blanks,
            chooser(field.rule.policy) if field.rule is not None else None)


def _was(before: Value, value: Value, now: Value, form: Form | None) -> Value:
    """The base's value in the stored form ``now`` has: ``now`` itself when the base holds
    the value read (its stored form is computed once), else the base's own stored form.
    Compared in the same form, unchanged stays unchanged."""
    if type(before) is type(value) and before == value:
        return now
    return before if form is None else form(before)


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
                holds: tuple[Mapping[str, Value], Mapping[str, Value]],
                conflicts: list[Conflict], rejected: list[Rejected], *,
                ordered: bool,
                afters: tuple[Mapping[str, Value] | None, Mapping[str, Value] | None]
                = (None, None)) -> Reconciled:
    """The merge's result; each side holds afterwards what it held, with the writes
    (``afters``: per side, that mapping when known already). ``ordered``: ``writes`` and
    ``holds`` were filled in field name order already."""
    planned = MappingProxyType({role: MappingProxyType(values if ordered else _by_name(values))
                                for role, values in zip(_ROLES, writes, strict=True)
                                if values})
    prm_after, crm_after = (
        after if after is not None else _proxy(held) if not written else MappingProxyType(
            {**held, **written} if ordered and written.keys() <= held.keys()
            else _by_name({**held, **written}))
        for held, written, after in zip(holds, writes, afters, strict=True))
    agreed = MappingProxyType(merged)  # nobody holds ``merged`` to change it: one view
    return Reconciled(agreed, planned, tuple(conflicts),
                      BaseSnapshot(deal, prm_after, crm_after, agreed),
                      tuple(rejected), (_proxy(holds[0]), _proxy(holds[1])))


def _proxy(values: Mapping[str, Value]) -> Mapping[str, Value]:
    """A read-only view; the dicts given are the merge's own, never changed once made."""
    return values if isinstance(values, MappingProxyType) else MappingProxyType(values)


def _by_name(values: Mapping[str, Value]) -> dict[str, Value]:
    return dict(sorted(values.items()))


def _three_way(deal: str, name: str, rule: FieldSync, choose: Choose, prm: Value,
               crm: Value, base: BaseSnapshot,
               modified: tuple[datetime | None, datetime | None],
               was: tuple[Any, Any]) -> tuple[Value, Conflict | None]:
    if not (name in base.agreed and name in base.prm and name in base.crm):
        # First cycle of this field: nothing to conflict with.
        return (prm if prm == crm else choose(prm, crm, modified[0], modified[1])[1]), None
    before = (base.prm[name] if was[0] is _MISSING else was[0],
              base.crm[name] if was[1] is _MISSING else was[1])
    prm_changed, crm_changed = prm != before[0], crm != before[1]
    both_moved_apart = prm_changed and crm_changed and prm != crm
    # read_only is never written, so its sides may differ for good: it always shows
    # the policy's view rather than whichever side moved last.
    if rule.policy != ConflictPolicy.READ_ONLY and not both_moved_apart:
        if prm_changed != crm_changed:
            return (prm if prm_changed else crm), None
        # Neither moved: keep what was agreed. Both moved to the same value: take it.
        return (prm if prm_changed else base.agreed[name]), None
    winner, value = choose(prm, crm, modified[0], modified[1])
    if not both_moved_apart:
        return value, None
    return value, Conflict(
        deal=deal, field=name, policy=rule.policy, base=base.agreed[name], prm=prm,
        crm=crm, winner=winner, kept=value, lost=prm if value == crm else crm)


__all__ = ["Reconciled", "Reconciler", "Rejected", "Stored", "reconcile"]
