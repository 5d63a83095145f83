"""`handoff-sync review link`: a link typed by a person, checked and shown before it is stored.

A manual link outranks every link the engine makes, and the next cycle writes it into
both systems' id fields, so a wrong one does real harm: a string that is no id ends in
the partner's record and fails every task write after it; an opportunity that another
partner's registration holds silently changes who gets the credit. So, before the store
records anything:

1. the registration: an item naming several (a channel conflict) names the chosen one
   with ``--registration``; nothing is picked for the person;
2. the opportunity id has the shape of an id of the mapped CRM object (the connector's
   ``id_problem``: length, characters, checksum, object prefix), and the record exists and
   is in the mapping's scope (one read by id through the connector). The id stored is the
   one the CRM answers with (Salesforce's 18-character form);
3. what the link changes is shown: both records' deal and account names, which
   registration the opportunity leaves and which opportunity the registration leaves, and
   the partner of record before -> after;
4. taking an opportunity from another partner's registration moves that partner's
   attribution and needs ``--force``.

Names come from the store's mirror (registrations) and from the fresh read (the
opportunity); the store re-checks the move under its lock, so a link made meanwhile by
a cycle is not overwritten unseen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.base import Connector
from connectors.errors import ConnectorError
from handoff_sync.errors import ConflictError
from handoff_sync.mapping.loader import validate_mappings
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.system.convert import MappedRecord, SystemMapping, in_scope, to_canonical
from handoff_sync.model import OwnerDirectory, Role
from handoff_sync.safety.sanitise import for_terminal, quoted
from handoff_sync.store.reviews import LINKABLE, registrations_of
from handoff_sync.store.types import MirrorRecord, PipelineState

USAGE = 2  # the command line must say more (exit code, as argparse's)
REFUSED = 1  # the link cannot or may not be made as asked


class LinkRefused(ConflictError):
    """Why the link was not made, as one paragraph for people, and the exit code."""

    hint = "`handoff-sync review` lists the items and their candidate opportunities"

    def __init__(self, message: str, code: int = REFUSED) -> None:
        super().__init__(message)
        self.code = self.exit_code = code  # USAGE when the command line must say more


@dataclass(frozen=True)
class Shown:
    """One record as the preview names it."""

    id: str
    name: str | None = None
    account: str | None = None
    partner: str | None = None  # registrations: the partner that registered it

    def label(self, noun: str) -> str:
        words = [f"{noun} {self.id}"]
        if self.name:
            words.append(quoted(self.name))
        if self.account:
            words.append(f"({quoted(self.account)})")
        if noun == "registration":
            words.append(f"by {_partner(self.partner)}")
        return " ".join(words)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "account": self.account,
                "partner": self.partner}


@dataclass(frozen=True)
class LinkPreview:
    """What linking ``registration`` to ``opportunity`` changes."""

    key: str
    registration: Shown
    opportunity: Shown
    leaves: Shown | None  # the opportunity the registration is linked to now (it loses it)
    taken_from: tuple[Shown, ...]  # registrations holding the opportunity now (they lose it)

    @property
    def partner_before(self) -> str | None:
        return next((r.partner for r in self.taken_from if r.partner), None)

    @property
    def moves_attribution(self) -> bool:
        """Whether the opportunity's credit goes from one partner to another."""
        mine = _partner_key(self.registration.partner)
        return any(_partner_key(other.partner) != mine for other in self.taken_from)

    def lines(self) -> list[str]:
        reg, opp = self.registration, self.opportunity
        out = [f"review link {self.key}:",
               f"  link   {reg.label('registration')}",
               f"  to     {opp.label('opportunity')}"]
        for other in self.taken_from:
            out.append(f"  opportunity {opp.id} loses {other.label('registration')}")
        if self.leaves is not None:
            out.append(f"  {self.leaves.label('opportunity')} loses registration {reg.id}")
        before = ", ".join(_partner(r.partner) for r in self.taken_from) or "none"
        after = _partner(reg.partner)
        out.append(f"  partner of record of opportunity {opp.id}: {before} -> {after}")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "registration": self.registration.as_dict(),
                "opportunity": self.opportunity.as_dict(),
                "registration_leaves": self.leaves.as_dict() if self.leaves else None,
                "opportunity_leaves": [r.as_dict() for r in self.taken_from],
                "partner_before": self.partner_before,
                "partner_after": self.registration.partner,
                "moves_attribution": self.moves_attribution}


def check_link(item: Mapping[str, Any], state: PipelineState, folder: Path,
               crm: Connector, crm_id: str | None, registration: str | None, *,
               force: bool, words: Callable[[ConnectorError], str] = str) -> LinkPreview:
    """The checked link of ``item`` (an open review item) as a preview; LinkRefused when
    it is incomplete, malformed, missing, or would move an attribution without force.
    ``words`` says what a CRM failure was (the caller knows the config's terms)."""
    mappings = _mappings(folder)
    prm_id = _registration(item, state, mappings.prm, registration)
    if not crm_id or not crm_id.strip():
        raise LinkRefused(_needs_opportunity(item, state, mappings.crm), USAGE)
    opportunity = _read_opportunity(crm, mappings.crm, crm_id.strip(), words)
    links = state.engine.links
    taken = sorted(p for p, link in links.items()
                   if link.crm_id == opportunity.id and p != prm_id)
    current = links.get(prm_id)
    leaves = None
    if current is not None and current.crm_id != opportunity.id:
        leaves = _shown(state, Role.CRM, mappings.crm, current.crm_id)
    preview = LinkPreview(str(item["key"]), _shown(state, Role.PRM, mappings.prm, prm_id),
                          opportunity,
                          leaves, tuple(_shown(state, Role.PRM, mappings.prm, p) for p in taken))
    if preview.moves_attribution and not force:
        raise LinkRefused("\n".join([
            *preview.lines(),
            f"opportunity {opportunity.id} is linked to another partner's registration: "
            f"linking it moves that partner's attribution; run it again with --force to "
            "do it"]))
    return preview


# --- the steps ---------------------------------------------------------------------------


def _mappings(folder: Path) -> MappingSet:
    mappings, problems = validate_mappings(folder)
    if mappings is None:
        listed = "; ".join(str(p) for p in problems[:3])
        raise LinkRefused(f"the mappings folder {folder} does not validate ({listed}): "
                          f"run `handoff-sync mappings validate --mappings {folder}` and fix "
                          "it first; a link is checked against the mapped objects")
    return mappings


def _registration(item: Mapping[str, Any], state: PipelineState, mapping: SystemMapping,
                  chosen: str | None) -> str:
    named = registrations_of(item)
    if str(item["kind"]) not in {kind.value for kind in LINKABLE} or not named:
        raise LinkRefused(f"review item {item['key']!r} is a {item['kind']} item and cannot "
                          "be linked: fix the records in the source system and the item "
                          "resolves itself, or dismiss it")
    if chosen is not None and chosen.strip() in named:
        return chosen.strip()
    listed = "\n".join(f"  {_shown(state, Role.PRM, mapping, p).label('registration')}"
                       for p in named)
    if chosen is not None:
        raise LinkRefused(f"registration {chosen!r} is not one of review item "
                          f"{item['key']!r}'s; it names:\n{listed}", USAGE)
    if len(named) > 1:
        raise LinkRefused(f"review item {item['key']!r} names {len(named)} registrations; "
                          f"say which one to link with --registration ID:\n{listed}", USAGE)
    return named[0]


def _needs_opportunity(item: Mapping[str, Any], state: PipelineState,
                       mapping: SystemMapping) -> str:
    candidates = [(str(c[0]), float(c[1])) for c in item.get("candidates") or ()]
    usage = (f"`handoff-sync review link {item['key']} OPPORTUNITY_ID` "
             "(or --opportunity OPPORTUNITY_ID)")
    if not candidates:
        return f"review link needs the CRM opportunity to link to: {usage}"
    listed = "\n".join(f"  {_shown(state, Role.CRM, mapping, crm_id).label('opportunity')}"
                       f" (match {score:.2f})" for crm_id, score in candidates)
    return (f"review item {item['key']!r} has {len(candidates)} candidate "
            f"opportunit{'y' if len(candidates) == 1 else 'ies'}; say which one: "
            f"{usage}\n{listed}")


def _read_opportunity(crm: Connector, mapping: SystemMapping, crm_id: str,
                      words: Callable[[ConnectorError], str]) -> Shown:
    """The opportunity as the CRM has it now; LinkRefused when it cannot be it."""
    what = f"{crm.system} {mapping.object}"
    try:
        problem = crm.id_problem(mapping.object, crm_id)
        if problem is not None:
            raise LinkRefused(f"{problem}; give the id of the {what} to link to "
                              "(`handoff-sync review` lists the candidates)", USAGE)
        fields = sorted(mapping.system_fields())
        found = crm.fetch(mapping.object, [crm_id], fields)
    except ConnectorError as exc:
        raise LinkRefused(f"could not check {what} {crm_id} in {crm.system}: "
                          f"{for_terminal(words(exc))}; nothing was linked") from None
    if not found:
        raise LinkRefused(f"no {what} {crm_id} exists (deleted, or never there): nothing "
                          "was linked; check the id in the CRM")
    record = found[0]
    if not in_scope(mapping, record.fields):
        scope = ", ".join(f"{name} = {value}" for name, value in mapping.scope.items())
        raise LinkRefused(f"{what} {record.id} is outside the pipeline's scope ({scope} in "
                          f"{mapping.file}): the pipeline never reads it, so a link to it "
                          "would do nothing")
    return _from_record(record.id, to_canonical(mapping, record.fields, OwnerDirectory()))


def _shown(state: PipelineState, role: Role, mapping: SystemMapping, record_id: str) -> Shown:
    """A record by the names its mirrored version holds (just the id when not mirrored)."""
    record: MirrorRecord | None = state.mirror.get(role, {}).get(record_id)
    if record is None:
        return Shown(record_id)
    return _from_record(record_id, to_canonical(mapping, record.fields, OwnerDirectory()))


def _from_record(record_id: str, mapped: MappedRecord) -> Shown:
    def text(name: str) -> str | None:
        value = mapped.values.get(name)
        return value.strip() or None if isinstance(value, str) else None

    return Shown(record_id, text("deal_name"), text("account_name"), text("partner_account"))


def _partner_key(partner: str | None) -> str:
    return " ".join((partner or "").split()).casefold()


def _partner(partner: str | None) -> str:
    """A partner's name as typed by outsiders (quoted: one line, controls escaped, short)."""
    return quoted(partner) if partner else "no partner"


__all__ = ["REFUSED", "USAGE", "LinkPreview", "LinkRefused", "Shown", "check_link"]

