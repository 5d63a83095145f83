"""Linking PRM deal registrations to CRM opportunities: the first step of engine.plan.

A registration is linked to an opportunity by, in this order:

1. The stored link. It goes only when the input reports one of its two records deleted
   (REMOVE, plus a linked_record_deleted review). An id field that names another record
   never relinks: the stored link stays and a link_conflict review asks a person -
   unless the field is stale (below).
2. An explicit id field: the registration's ``crm_id`` or the opportunity's ``prm_id``
   names the other record. Every claim touching either record - the stored links, both
   id fields, any other record naming one of them - must point at the same counterpart,
   or no link is made and each registration involved gets a link_conflict review. A claim on
   a record missing from the input links nothing yet, and keeps both records out of
   matching: an explicit id is never overruled by a look-alike. Claims on records the
   input reports deleted are void.
3. Matching rules (handoff.yaml ``matching``), between in-scope, live records that
   nothing links or claims. A pair is a candidate when every ``exact`` field is equal
   after normalisation, every ``fuzzy`` field scores at least ``fuzzy_min_score``, the
   amounts are within ``amount_tolerance_pct`` and the close dates within
   ``close_date_window_days`` - each test applying only when both records have the
   value. Each compared component scores 0..1:

       fuzzy field   token-sort similarity / 100 (see engine.match)      weight 2
       its numbers   1 if both carry the same numbers, else 0            weight 1
       exact field   1 (unequal values are no candidate at all)          weight 1
       amount        1 - 0.5 * (% difference / tolerance) ** 2           weight 1
       close date    1 - 0.5 * (days apart / window) ** 2                weight 1

       confidence = sum(weight * score) / sum(weight), over compared components only

   so a value missing on either side is neutral: it neither counts as agreement nor as
   disagreement. Amount and date fall from 1 to 0.5 at the edge of their window, on a
   square so that small drifts (rounding, a slipped week) cost little and differences
   near the edge cost most. The amount difference is a percentage of the larger amount;
   amounts in two different currencies are not compared. Only pairs sharing a name word
   or an exact-field value are looked at (see Speed), so amount and date alone never
   make a candidate. Names weigh double because the name is what says *which*
   deal of an account this is; amount and date confirm it.

   The best candidate is linked when it reaches ``auto_link_min_confidence`` and every
   other candidate is both below that level and at least ``AUTO_LINK_MARGIN`` behind.
   Otherwise the candidates at or above ``review_min_confidence`` go to an
   ambiguous_link review, best first: never a guess. An opportunity that is the
   automatic choice of several registrations is linked to none of them. Decisions are
   repeated until nothing changes: once a sure registration takes an opportunity,
   one that hesitated between it and another may be sure of the other, and the next
   cycle must find nothing left to link. Numbers in a name (years, phases, seat counts)
   are a component of their own because they tell apart deals that text similarity
   rates nearly equal: "Acme Expansion 2024" and "Acme Expansion 2025" score 95. They
   are compared only when both names carry numbers (one side's alone is neutral).
   Names are compared without the registration's account-name words and without
   fiscal-period tags (FY27, Q3), which sales ops add and partners leave out.

Stale id fields: an id field left naming the record its holder was paired with before
(``former``: the link just removed, else the pair of the registration's base snapshot),
after that pair broke up. The registration was re-linked by hand to another opportunity,
so the old opportunity's ``prm_id`` still names it; or one record of the pair was deleted
(or is gone from the input), so the survivor's id field names a record that is no more.
Such a claim is void - no link_conflict, no waiting for the named record - and, when the
holder ends up unlinked, it is returned in ``stale`` for the plan to blank it. Only for
sides in ``clearable`` (whose mapping lets the engine write the id field): elsewhere the
claim stands as before and a person sorts it out. A former pair whose two records are
both live and unlinked is no stale claim: the id fields link them again (an undelete).

Channel conflicts: two partners registering the same deal. Registrations are the same
deal when they are on the same opportunity (linked, named by an id field, or the
contested automatic choice), or are for the same customer (account domain, else account
name, normalised) with deal names scoring at least ``fuzzy_min_score`` without the
customer's words - a missing name, or one that is only the customer, can't be told apart
and counts as the same. A customer's other deals, registered by other partners for other
products, are no conflict. Every connected group with two or more partners is one
channel_conflict review. Only in-scope, undeleted registrations with a partner take part,
and not those whose registration_status is rejected, expired or closed_lost: a dead
registration claims nothing.

Speed: stored links and id fields cost set and dictionary operations per record.
Matching never compares every pair: opportunities are indexed by their normalised name
tokens and exact-field values; keys held by more than
``max(COMMON_KEY_MIN, COMMON_KEY_SHARE * pool)`` opportunities are ignored (a
registration whose keys are all that common uses its rarest one), and the names of the
remaining candidates are scored in one rapidfuzz call with a score cutoff. A true match
sharing no word with its registration is not found; at a name similarity of 85 or more
that takes a misspelling in every word. Channel conflicts compare names only within a
customer that two partners hold, every pair of its live registrations. Between cycles
(``memo``, engine.memo) a registration is matched again only when it or an opportunity
sharing a blocking key with it changed, and a customer's pairs are compared again only
when its registrations did: a quiet cycle matches nothing.

The outcome does not depend on input order: records are keyed by id (a record listed
twice counts once, the most recently modified), decisions depend on whole candidate
sets, and changes and reviews are returned sorted by id and key.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from types import MappingProxyType
from typing import Any, NamedTuple

from handoff_sync.engine.channel_conflicts import channel_conflicts
from handoff_sync.engine.link_state import LinkState, connected, drop_deleted, partner_of, scan
from handoff_sync.engine.match import Candidate, auto_choice
from handoff_sync.engine.memo import PlanMemo, find_candidates, normaliser
from handoff_sync.engine.normalise import Normaliser
from handoff_sync.engine.types import (
    Link,
    LinkChange,
    LinkChangeKind,
    LinkMethod,
    ReviewItem,
    ReviewKind,
    deal_key,
)
from handoff_sync.mapping.policy.file_model import Matching
from handoff_sync.mapping.system.convert import MappedRecord
from handoff_sync.model import Role

AUTO_LINK_MARGIN = 0.05  # how far the runner-up must trail before the best is trusted
_CHANNEL_FIELDS = ("partner_account", "account_domain", "account_name",
                   "registration_status", "deal_name")


class StaleId(NamedTuple):
    """An unlinked record whose id field still names its former counterpart."""

    role: Role  # the side of the record holding the field (PRM: crm_id, CRM: prm_id)
    record_id: str
    names: str  # the id it holds


# Registration id -> the opportunity it was last paired with (None: not known).
Former = Callable[[str], str | None]


@dataclass(frozen=True)
class LinkOutcome:
    """The links in force after this step, what changed, and what a person must decide."""

    links: Mapping[str, Link]  # prm id -> link (stored ones kept, new ones added)
    changes: tuple[LinkChange, ...]  # removals first, then creations, each by ids
    reviews: tuple[ReviewItem, ...]  # sorted by key
    stale: tuple[StaleId, ...] = ()  # id fields to blank, sorted


def link_records(prm: Sequence[MappedRecord], crm: Sequence[MappedRecord],
                 stored: Mapping[str, Link], matching: Matching, *,
                 former: Former | None = None,
                 clearable: Collection[Role] = (), memo: PlanMemo | None = None,
                 reuse: bool = False) -> LinkOutcome:
    """Link registrations to opportunities: stored link, id field, then matching rules.

    ``former`` and ``clearable``: see stale id fields in the module docstring. ``memo``:
    last plan's candidates and same-customer pairs, refilled here; used if ``reuse``
    (engine.memo: the outcome is the same either way).
    """
    state = LinkState(scan(prm, "crm_id", _CHANNEL_FIELDS), scan(crm, "prm_id"), stored)
    drop_deleted(state)
    stale = _stale_claims(state, former, clearable)
    claims = _Claims(state, stale)
    claims.resolve()
    norm = normaliser(matching, memo, reuse)
    contested = _match(state, claims, matching, norm, memo, reuse)
    channel_conflicts(state, claims.edges, claims.torn_crm, contested, norm,
                      matching.fuzzy_min_score, memo, reuse)
    changes = sorted(state.changes, key=lambda change: (
        change.kind is not LinkChangeKind.REMOVE, change.link.prm_id, change.link.crm_id))
    return LinkOutcome(MappingProxyType(state.links), tuple(changes),
                       tuple(state.reviews[key] for key in sorted(state.reviews)),
                       _still_unlinked(state, stale))


# --- stale id fields ---------------------------------------------------------------------


class _Stale(NamedTuple):
    """Live records whose id field is stale: record id -> the id it names."""

    prm: dict[str, str]
    crm: dict[str, str]


def _stale_claims(state: LinkState, former: Former | None,
                  clearable: Collection[Role]) -> _Stale:
    """The id fields naming a former counterpart that has moved on or is gone."""
    stale = _Stale({}, {})
    if former is None or not clearable:
        return stale
    removed = {change.link.prm_id: change.link.crm_id for change in state.changes}
    links = state.links

    def was_paired(prm_id: str, crm_id: str) -> bool:
        return removed.get(prm_id) == crm_id or former(prm_id) == crm_id

    # Most id fields agree with the stored link: one lookup each settles them.
    if Role.CRM in clearable:
        prm = state.prm
        for crm_id, prm_id in state.crm.names.items():
            link = links.get(prm_id)
            if (link is None or link.crm_id != crm_id) and was_paired(prm_id, crm_id) and (
                    link is not None or prm_id in prm.deleted or prm_id not in prm.records):
                stale.crm[crm_id] = prm_id
    if Role.PRM in clearable:
        crm, linked_crm = state.crm, None
        for prm_id, crm_id in state.prm.names.items():
            link = links.get(prm_id)
            if (link is not None and link.crm_id == crm_id) or not was_paired(prm_id, crm_id):
                continue
            if linked_crm is None:
                linked_crm = {link.crm_id for link in links.values()}
            if (link is not None or crm_id in crm.deleted or crm_id not in crm.records
                    or crm_id in linked_crm):
                stale.prm[prm_id] = crm_id
    return stale


def _still_unlinked(state: LinkState, stale: _Stale) -> tuple[StaleId, ...]:
    """The stale id fields of records no link holds once linking is done: a linked
    record's field is rewritten by its own pair anyway."""
    if not (stale.prm or stale.crm):
        return ()
    linked_crm = {link.crm_id for link in state.links.values()}
    found = [StaleId(Role.PRM, prm_id, named) for prm_id, named in stale.prm.items()
             if prm_id not in state.links]
    found += [StaleId(Role.CRM, crm_id, named) for crm_id, named in stale.crm.items()
              if crm_id not in linked_crm]
    return tuple(sorted(found))


# --- explicit id fields -----------------------------------------------------------------


class _Claims:
    """Who names whom: every stored link and id field as a (prm id, crm id) edge.

    A record with one distinct edge (however many sources agree on it) is settled; a
    record with two is in conflict, and so is everything connected to it. Counting
    distinct edges per record finds that without walking the graph.
    """

    def __init__(self, state: LinkState, stale: _Stale) -> None:
        self.state = state
        gone_crm, gone_prm = state.crm.deleted, state.prm.deleted
        # A claim on a record the input reports deleted is void, and so is a stale one.
        self.prm_field = {prm_id: crm_id for prm_id, crm_id in state.prm.names.items()
                          if crm_id not in gone_crm and prm_id not in stale.prm}
        self.crm_field = {crm_id: prm_id for crm_id, prm_id in state.crm.names.items()
                          if prm_id not in gone_prm and crm_id not in stale.crm}
        self.stored = {(prm_id, link.crm_id) for prm_id, link in state.links.items()}
        self.edges = self.stored.union(
            self.prm_field.items(),
            zip(self.crm_field.values(), self.crm_field.keys(), strict=True))
        self.prm_degree = Counter(map(itemgetter(0), self.edges))
        self.crm_degree = Counter(map(itemgetter(1), self.edges))
        # Opportunities more than one registration is linked to or named by.
        self.torn_crm = {crm_id for crm_id, count in self.crm_degree.items() if count > 1}

    def resolve(self) -> None:
        """Create the links id fields agree on; review every disagreement."""
        prm_degree, crm_degree = self.prm_degree, self.crm_degree
        torn_prm = {prm_id for prm_id, count in prm_degree.items() if count > 1}
        torn_crm = self.torn_crm
        if torn_prm or torn_crm:
            # Every edge of a conflicting group touches a record with two edges: an edge
            # whose two ends have no other edge is a group of its own.
            self._review_conflicts([edge for edge in self.edges
                                    if edge[0] in torn_prm or edge[1] in torn_crm])
        state = self.state
        prm_live, crm_live = state.prm.live, state.crm.live
        for prm_id, crm_id in self.edges - self.stored:
            if (prm_degree[prm_id] > 1 or crm_degree[crm_id] > 1
                    or prm_id not in prm_live or crm_id not in crm_live):
                continue  # in conflict, or waiting for the named record to show up
            from_prm = self.prm_field.get(prm_id) == crm_id
            from_crm = self.crm_field.get(crm_id) == prm_id
            state.create(Link(prm_id, crm_id, LinkMethod.ID_FIELD, 1.0),
                         _ID_FIELD_REASONS[from_prm, from_crm])

    def _review_conflicts(self, edges: list[tuple[str, str]]) -> None:
        """One link_conflict review per registration of each disagreeing group."""
        named: dict[str, list[str]] = defaultdict(list)
        for prm_id, crm_id in edges:
            named[prm_id].append(crm_id)
        for group in connected((f"p{prm_id}", f"c{crm_id}") for prm_id, crm_id in edges):
            prm_ids = sorted(node[1:] for node in group if node[0] == "p")
            lines = tuple(sorted(self._describe(prm_id, crm_id)
                                 for prm_id in prm_ids for crm_id in named[prm_id]))
            for prm_id in prm_ids:
                link = self.state.links.get(prm_id)
                if link is not None:
                    summary = (f"registration {prm_id} stays linked to opportunity "
                               f"{link.crm_id}, but an id field or another link "
                               "disagrees; a person must decide")
                else:
                    summary = (f"registration {prm_id} is not linked: the id fields of it "
                               "and of the records it names disagree; a person must decide")
                self.state.review(ReviewItem(
                    key=f"link_conflict:prm:{prm_id}",
                    kind=ReviewKind.LINK_CONFLICT,
                    deal=deal_key(prm_id, None),
                    summary=summary,
                    candidates=tuple((crm_id, 1.0) for crm_id in sorted(named[prm_id])),
                    details=MappingProxyType({
                        "linked_crm_id": link.crm_id if link is not None else None,
                        "claims": lines})))

    def _describe(self, prm_id: str, crm_id: str) -> str:
        sources = [label for label, present in (
            ("stored link", (prm_id, crm_id) in self.stored),
            (f"registration {prm_id} crm_id", self.prm_field.get(prm_id) == crm_id),
            (f"opportunity {crm_id} prm_id", self.crm_field.get(crm_id) == prm_id))
            if present]
        return f"registration {prm_id} <-> opportunity {crm_id} ({', '.join(sources)})"


_ID_FIELD_REASONS = {
    (True, False): "id field crm_id on the registration",
    (False, True): "id field prm_id on the opportunity",
    (True, True): "id fields crm_id and prm_id on both records",
}


def _match(state: LinkState, claims: _Claims, matching: Matching, norm: Normaliser,
           memo: PlanMemo | None, reuse: bool) -> list[tuple[str, list[str]]]:
    """Link what the rules are sure of and review the rest; return the opportunities that
    registrations of different partners both picked (channel conflicts).

    Decisions go in rounds: an opportunity linked in one round leaves the other
    registrations' candidate lists, which can make one of them sure. Stopping after one
    round would leave that to the next cycle, and a plan must leave nothing to do.
    """
    queries = [prm_id for prm_id in state.prm.live if prm_id not in claims.prm_degree]
    pool = [state.crm.records[crm_id] for crm_id in state.crm.live
            if crm_id not in claims.crm_degree]
    if not queries or not pool:
        return []
    found = find_candidates(matching, norm, [state.prm.records[prm_id] for prm_id in queries],
                            pool, memo.matches if memo is not None else None, reuse)
    listed_by: dict[str, list[str]] = defaultdict(list)  # crm id -> registrations
    for prm_id, candidates in found.items():
        for candidate in candidates:
            listed_by[candidate.crm_id].append(prm_id)
    choices: dict[str, Candidate] = {}  # registration -> its automatic choice
    undecided = list(found)
    while True:
        for prm_id in undecided:
            # Lists only shrink, and never lose their owner's choice (another registration
            # can't be sure of it), so a choice once made stands.
            choice = auto_choice(found[prm_id], matching, AUTO_LINK_MARGIN)
            if choice is not None:
                choices[prm_id] = choice
        chosen_by = _chosen_by(choices)
        sure = [(crm_id, prm_ids[0]) for crm_id, prm_ids in chosen_by.items()
                if len(prm_ids) == 1]
        if not sure:
            break
        touched: set[str] = set()
        for crm_id, prm_id in sure:
            choice = choices.pop(prm_id)
            del found[prm_id]
            state.create(Link(prm_id, crm_id, LinkMethod.MATCHED, choice.confidence),
                         choice.reason)
            for other in listed_by[crm_id]:
                if other in found:
                    found[other] = [item for item in found[other] if item.crm_id != crm_id]
                    touched.add(other)
        undecided = [prm_id for prm_id in touched if found.get(prm_id)]
    contested: list[tuple[str, list[str]]] = []
    for crm_id, prm_ids in chosen_by.items():  # several registrations each
        partners = {partner_of(state.prm.records[prm_id], norm) for prm_id in prm_ids}
        if len(partners - {None}) > 1:
            contested.append((crm_id, prm_ids))
            continue
        for prm_id in prm_ids:
            _review_ambiguous(state, prm_id, found[prm_id], matching,
                              tuple(other for other in prm_ids if other != prm_id))
    for prm_id, candidates in found.items():
        if prm_id not in choices and candidates:
            _review_ambiguous(state, prm_id, candidates, matching, ())
    return contested


def _chosen_by(choices: Mapping[str, Candidate]) -> dict[str, list[str]]:
    """Opportunity -> the registrations whose automatic choice it is, sorted."""
    chosen_by: dict[str, list[str]] = defaultdict(list)
    for prm_id, choice in choices.items():
        chosen_by[choice.crm_id].append(prm_id)
    for prm_ids in chosen_by.values():
        prm_ids.sort()
    return chosen_by


def _review_ambiguous(state: LinkState, prm_id: str, candidates: list[Candidate],
                      matching: Matching, rivals: tuple[str, ...]) -> None:
    floor = min(matching.review_min_confidence, matching.auto_link_min_confidence)
    listed = [candidate for candidate in candidates if candidate.confidence >= floor]
    if not listed:
        return
    best = listed[0]
    if rivals:
        why = "contested"
        summary = (f"registration {prm_id}: its best match, opportunity {best.crm_id} "
                   f"({best.confidence:.2f}), is also the best match of registration "
                   f"{', '.join(rivals)}; none is linked until a person decides")
    elif best.confidence >= matching.auto_link_min_confidence:
        why = "several_candidates"
        summary = (f"registration {prm_id}: {len(listed)} opportunities match about equally "
                   f"well (best {best.crm_id} at {best.confidence:.2f}); none is linked "
                   "until a person decides")
    else:
        why = "below_auto_link"
        summary = (f"registration {prm_id}: the best match, opportunity {best.crm_id} at "
                   f"{best.confidence:.2f}, is below the auto-link level "
                   f"{matching.auto_link_min_confidence:.2f}")
    details: dict[str, Any] = {
        "why": why,
        "evidence": MappingProxyType({candidate.crm_id: candidate.reason
                                      for candidate in listed})}
    if rivals:
        details["rivals"] = rivals
    state.review(ReviewItem(
        key=f"ambiguous_link:prm:{prm_id}", kind=ReviewKind.AMBIGUOUS_LINK,
        deal=deal_key(prm_id, None), summary=summary,
        candidates=tuple((candidate.crm_id, candidate.confidence) for candidate in listed),
        details=MappingProxyType(details)))


