"""Channel conflicts: two partners registering the same deal (see engine.link's docstring
for when registrations count as the same deal)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from handoff_sync.engine.link_state import LinkState, connected
from handoff_sync.engine.match import customer_words, name_similarity, name_tokens
from handoff_sync.engine.memo import PlanMemo
from handoff_sync.engine.normalise import Normaliser
from handoff_sync.engine.types import ReviewItem, ReviewKind, deal_key

# Canonical registration statuses of a dead registration: it conflicts with nobody.
DEAD_STATUSES = frozenset({"rejected", "expired", "closed_lost"})


def channel_conflicts(state: LinkState, edges_named: Iterable[tuple[str, str]],
                      torn_crm: set[str], contested: list[tuple[str, list[str]]],
                      norm: Normaliser, min_score: float, memo: PlanMemo | None = None,
                      reuse: bool = False) -> None:
    """One channel_conflict review per connected group of registrations with 2+ partners.

    Two registrations are the same deal when they are on the same opportunity (named by a
    link or an id field: ``edges_named``, where ``torn_crm`` are those named by two or more;
    or the contested automatic choice), or are for the same customer
    with deal names alike (see _same_customer_pairs). Only customers that registrations of
    two partners hold are compared, and only among their own registrations: a customer
    held by one partner costs a dictionary entry and nothing more. ``memo``: each such
    customer's pairs last time, taken again (if ``reuse``) while its registrations' ids and
    names are the same (engine.memo).
    """
    partner_of: dict[str, str] = {}
    by_customer: dict[str, list[str]] = defaultdict(list)
    text, domain_of = norm.text, norm.domain
    for prm_id, (partner, domain, account, status, _name) in state.prm.also.items():
        if not isinstance(partner, str) or not (partner := text(partner)):
            continue
        if isinstance(status, str) and status.strip().lower() in DEAD_STATUSES:
            continue  # rejected, expired or lost: it no longer claims the customer
        partner_of[prm_id] = partner
        if isinstance(domain, str) and (host := domain_of(domain)):
            by_customer["domain " + host].append(prm_id)
        elif isinstance(account, str) and (name := text(account)):
            by_customer["account " + name].append(prm_id)
    edges: list[tuple[str, str, str]] = []  # (key, registration, registration)
    also = state.prm.also
    customers: dict[str, tuple[tuple[object, ...], list[tuple[str, str]]]] = {}
    held = memo.customers if memo is not None and reuse and memo.customers_rules == (
        min_score, norm) else {}
    for key, prm_ids in by_customer.items():
        if len({partner_of[prm_id] for prm_id in prm_ids}) > 1:
            ordered = sorted(prm_ids)
            # What the pairs are made of: ids, account names and deal names.
            made_of = tuple((prm_id, also[prm_id][2], also[prm_id][4]) for prm_id in ordered)
            hit = held.get(key)
            pairs = hit[1] if hit is not None and hit[0] == made_of else \
                _same_customer_pairs(state, ordered, norm, min_score)
            customers[key] = (made_of, pairs)
            edges.extend((key, *pair) for pair in pairs)
    if memo is not None:
        memo.customers, memo.customers_rules = customers, (min_score, norm)
    on_opportunity: dict[str, set[str]] = defaultdict(set)
    if torn_crm:
        for prm_id, crm_id in edges_named:
            if crm_id in torn_crm and prm_id in partner_of:
                on_opportunity[crm_id].add(prm_id)
    for crm_id, prm_ids in contested:
        on_opportunity[crm_id].update(prm_id for prm_id in prm_ids if prm_id in partner_of)
    for crm_id, holders in on_opportunity.items():
        ordered = sorted(holders)
        edges.extend(("opportunity " + crm_id, ordered[0], other) for other in ordered[1:])
    if not edges:
        return
    keys_of: dict[str, set[str]] = defaultdict(set)
    for key, one, other in edges:
        keys_of[one].add(key)
        keys_of[other].add(key)
    for group in connected((one, other) for _, one, other in edges):
        if len({partner_of[prm_id] for prm_id in group}) > 1:
            _review_channel_conflict(state, group, keys_of)


def _same_customer_pairs(state: LinkState, prm_ids: list[str], norm: Normaliser,
                         min_score: float) -> list[tuple[str, str]]:
    """Pairs of one customer's registrations that are the same deal.

    A customer often has several deals, registered by different partners for different
    products: those are no conflict. Two registrations are the same deal when their names,
    without the customer's words, score at least ``min_score``. A registration whose name
    is missing or is only the customer's name cannot be told apart from any of them.
    """
    also = state.prm.also
    customer = frozenset().union(*(customer_words(norm, also[prm_id][2]) for prm_id in prm_ids))
    named: list[tuple[str, tuple[str, ...]]] = []
    pairs: list[tuple[str, str]] = []
    for prm_id in prm_ids:
        tokens = name_tokens(norm, also[prm_id][4])
        if tokens and any(token not in customer for token in tokens):
            named.append((prm_id, tokens))
        else:
            pairs.extend((prm_id, other) for other in prm_ids if other != prm_id)
    for at, (prm_id, tokens) in enumerate(named):
        pairs.extend((prm_id, other) for other, theirs in named[at + 1:]
                     if name_similarity(tokens, theirs, customer, min_score))
    return pairs


def _review_channel_conflict(state: LinkState, group: set[str],
                             keys_of: Mapping[str, set[str]]) -> None:
    ordered = sorted(group)
    records = state.prm.records
    names = {prm_id: str(records[prm_id].values["partner_account"]).strip()
             for prm_id in ordered}
    shown = sorted(set(names.values()))
    shared = sorted(set().union(*(keys_of[prm_id] for prm_id in ordered)))
    state.review(ReviewItem(
        key="channel_conflict:" + ",".join(ordered),
        kind=ReviewKind.CHANNEL_CONFLICT,
        deal=deal_key(ordered[0], None),
        summary=(f"{len(ordered)} registrations from {len(shown)} partners "
                 f"({', '.join(shown)}) for the same customer or opportunity "
                 f"({'; '.join(shared)})"),
        details=MappingProxyType({
            "registrations": tuple(ordered),
            "partners": MappingProxyType(names),
            "shared": tuple(shared)})))
