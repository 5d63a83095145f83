"""Partner readiness between plans: only the deals whose inputs changed are read again.

engine.readiness_tasks scores every partner on the history of every deal (its partner,
verdict, clocks, decision and agreed values, this plan's changes applied). A quiet cycle
changes none of that, or a few deals'. ``ReadinessMemo`` keeps the maps the last scoring
read (records, links, bases, verdicts, clocks, decisions), each deal's history row, each
partner's summed history and score. The next scoring compares each map with the one kept,
entry by entry - the same object is the same entry, so a state the sync layer keeps
between cycles (store.kept) costs a pointer comparison per entry - reads again only the
deals an entry of which differs, sums again only their partners' histories, and scores
again only partners whose history or account differs. When a map holds other objects
for more than a quarter as many entries as there are registrations (a state loaded afresh,
a busy cycle), every deal is read again: that costs less than comparing them. What it
returns is what engine.readiness's ``score_partners`` gives over all deals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import Any

from handoff_sync.engine.readiness import (
    NO_HISTORY,
    DealHistory,
    PartnerHistory,
    PartnerReadiness,
    engine_histories,
    histories,
    score_partner,
)
from handoff_sync.engine.types import (
    BaseSnapshot,
    ClockState,
    HandoffDecision,
    Verdict,
    deal_key,
)
from handoff_sync.mapping.policy.measures import Readiness
from handoff_sync.mapping.system.convert import MappedRecord
from handoff_sync.model import PartnerAccount, SlaStatus, Value, partner_key

_MISSING: Any = object()
_PREFIX = "prm:"  # deal_key of a registration


def changed_keys(old: Mapping[Any, Any], new: Mapping[Any, Any],
                 limit: int | None = None) -> set[Any] | None:
    """Keys whose entry differs between two maps (added, removed or unequal); None when
    more than ``limit`` entries are other objects (reading everything again is cheaper)."""
    other = [key for key, value in new.items() if old.get(key, _MISSING) is not value]
    if limit is not None and len(other) > limit:
        return None
    out = {key for key in other if old.get(key, _MISSING) != new[key]}
    out.update(old.keys() - new.keys())
    return out


@dataclasses.dataclass
class ReadinessMemo:
    """The last scoring's inputs and results (see the module docstring)."""

    rules: Any = None
    sources: tuple[Mapping[Any, Any], ...] = ()
    partner_of: dict[str, str] = dataclasses.field(default_factory=dict)  # deal -> name
    clocks: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)  # met, breached
    groups: dict[str, dict[str, DealHistory]] = dataclasses.field(default_factory=dict)
    histories: dict[str, PartnerHistory] = dataclasses.field(default_factory=dict)
    scores: dict[str, tuple[PartnerAccount, PartnerHistory, PartnerReadiness]] = (
        dataclasses.field(default_factory=dict))


def readiness_scores(memo: ReadinessMemo, reuse: bool, readiness: Readiness, min_sample: int,
                     partners: Mapping[str, PartnerAccount],
                     registrations: Mapping[str, MappedRecord],
                     crm_records: Mapping[str, MappedRecord], links: Mapping[str, str],
                     bases: Mapping[str, BaseSnapshot], verdicts: Mapping[str, Verdict],
                     clocks: Mapping[Any, ClockState],
                     decisions: Mapping[str, HandoffDecision]) -> dict[str, PartnerReadiness]:
    """Partner id -> its readiness, as score_partners gives it; ``memo`` refilled."""
    sources = (registrations, crm_records, links, bases, verdicts, clocks, decisions)
    rules = (readiness, min_sample)
    limit = len(registrations) // 4  # more changed than that: read every deal again
    changes = [changed_keys(old, new, limit) for old, new in zip(memo.sources, sources,
                                                                  strict=True)] if (
        reuse and memo.rules == rules and memo.sources) else [None]
    if any(found is None for found in changes):
        fresh = ReadinessMemo(rules, sources)
        _read(fresh, set(registrations), *sources)
        _sum(fresh, set(fresh.groups))
        for field in dataclasses.fields(ReadinessMemo):
            setattr(memo, field.name, getattr(fresh, field.name))
    else:
        old_links, old_clocks = memo.sources[2], memo.sources[5]
        moved_prm, moved_crm, moved_links, moved_bases, moved_verdicts, moved_clocks, \
            moved_decisions = (found or set() for found in changes)
        touched = moved_prm | moved_links
        if moved_crm:
            touched.update(prm_id for held in (old_links, links)
                           for prm_id, crm_id in held.items() if crm_id in moved_crm)
        for key in moved_bases | moved_verdicts | moved_decisions:
            if key.startswith(_PREFIX):
                touched.add(key.removeprefix(_PREFIX))
        for key in moved_clocks:
            for clock, sign in ((old_clocks.get(key), -1), (clocks.get(key), 1)):
                if clock is not None:
                    _count(memo.clocks, clock, sign)
                    if clock.deal.startswith(_PREFIX):
                        touched.add(clock.deal.removeprefix(_PREFIX))
        memo.sources = sources
        before = {memo.partner_of.get(_PREFIX + prm_id) for prm_id in touched}
        _read(memo, touched, *sources, recount=False)
        after = {memo.partner_of.get(_PREFIX + prm_id) for prm_id in touched}
        _sum(memo, {partner_key(name) for name in (before | after) - {None} if name})
    out: dict[str, PartnerReadiness] = {}
    scores: dict[str, tuple[PartnerAccount, PartnerHistory, PartnerReadiness]] = {}
    for partner_id, account in partners.items():
        history = memo.histories.get(partner_key(account.name), NO_HISTORY)
        held = memo.scores.get(partner_id)
        if held is not None and held[0] == account and held[1] == history:
            scores[partner_id] = held
        else:
            scores[partner_id] = (account, history, score_partner(
                readiness, account, history, min_sample=min_sample))
        out[account.id] = scores[partner_id][2]
    memo.scores = scores
    return out


def partner_names(registrations: Mapping[str, MappedRecord],
                  crm_records: Mapping[str, MappedRecord], links: Mapping[str, str],
                  bases: Mapping[str, BaseSnapshot]) -> dict[str, str]:
    """Deal key -> the partner_account of each registration's deal, read as the report
    reads it (report.source): a linked deal's agreed values (else both records, the CRM's
    over the PRM's), a registration alone its own. The partner's name may live on either
    side: the reversed pack's Salesforce registrations hold only the partner account's
    id, and the name comes from the HubSpot deal."""
    names: dict[str, str] = {}
    for prm_id, record in registrations.items():
        key = deal_key(prm_id, None)
        values: Mapping[str, Value] = record.values
        crm_id = links.get(prm_id)
        if crm_id is not None:
            base = bases.get(key)
            crm = crm_records.get(crm_id)
            values = base.agreed if base is not None else {
                **record.values, **(crm.values if crm is not None else {})}
        name = values.get("partner_account")
        if isinstance(name, str):
            names[key] = name
    return names


def _count(counts: dict[str, tuple[int, int]], clock: ClockState, sign: int) -> None:
    met, breached = counts.get(clock.deal, (0, 0))
    if clock.status is SlaStatus.MET:
        met += sign
    elif clock.status is SlaStatus.BREACHED:
        breached += sign
    counts[clock.deal] = (met, breached)


def _read(memo: ReadinessMemo, prm_ids: Collection[str],
          registrations: Mapping[str, MappedRecord], crm_records: Mapping[str, MappedRecord],
          links: Mapping[str, str], bases: Mapping[str, BaseSnapshot],
          verdicts: Mapping[str, Verdict], clocks: Mapping[Any, ClockState],
          decisions: Mapping[str, HandoffDecision], recount: bool = True) -> None:
    """Read the deals of ``prm_ids`` again into ``memo`` (partner, row, group)."""
    if recount:
        for clock in clocks.values():
            _count(memo.clocks, clock, 1)
    found = partner_names({prm_id: registrations[prm_id] for prm_id in prm_ids
                           if prm_id in registrations}, crm_records, links, bases)
    for prm_id in prm_ids:
        key = _PREFIX + prm_id
        old = memo.partner_of.pop(key, None)
        if old is not None:
            memo.groups.get(partner_key(old), {}).pop(key, None)
    memo.partner_of.update(found)
    # engine_histories gives a row per deal with a verdict, in key order.
    rows = engine_histories(found, verdicts, (), decisions, bases)
    listed = sorted(key for key in found if verdicts.get(key) is not None)
    for key, row in zip(listed, rows, strict=True):
        if row.partner.strip():
            met, breached = memo.clocks.get(key, (0, 0))
            memo.groups.setdefault(partner_key(row.partner), {})[key] = dataclasses.replace(
                row, clocks_met=met, clocks_breached=breached)


def _sum(memo: ReadinessMemo, partners: Collection[str]) -> None:
    """Sum the histories of ``partners`` (partner keys) again, deals in key order."""
    for key in partners:
        group = memo.groups.get(key)
        if not group:
            memo.histories.pop(key, None)
            memo.groups.pop(key, None)
            continue
        memo.histories[key] = histories([group[deal] for deal in sorted(group)])[key]
