"""Creating the opportunity a registration lacks: the step after linking in engine.plan.

An approved registration that needs a handoff and that no opportunity matches is a dead
end when nobody creates its opportunity: no AE owns it and its clocks breach unseen. So
the plan creates one in the CRM for every registration that

1. no stored link, id field or matching rule linked (engine.link ran first), and that is
   in scope, live, names no opportunity in its own id field, and was never linked
   (a base snapshot: its opportunity was deleted or re-linked on purpose; not re-made,
   but a ``no_opportunity`` item stands while it is approved and has none);
2. needs a handoff (the handoff type's required_when) and meets handoff.yaml's
   ``creation.when`` (e.g. registration_status approved);
3. is in no review the linking step raised: an opportunity it may be (ambiguous_link),
   one two partners registered (channel_conflict), disagreeing id fields (link_conflict).
   A registration that resembles an unlinked opportunity - a direct deal nobody
   registered - gets no second opportunity: its ambiguous_link item becomes a
   channel_conflict item with the same candidates, which a person resolves by linking
   one of them (`handoff-sync review link`) or dismissing it (not that deal: the
   opportunity is created).

Each creation is keyed by ``creation_key`` (pipeline + registration id), written to a
unique field of the created record: the sync layer creates by that key, so a repeat -
after a crash before the link was recorded, from a second replica, or while the new
record is not yet visible to the pull - finds the first record instead of making another.

The owner comes from routing (engine.routing): who gets it, by which rule and why, said
in the plan and on the created record (its mapped ``custom.routing`` field, which the
brief shows). A deal no rule routes goes to the fallback owner with an ``unrouted`` review
item, restated (``unrouted_reviews``) while the opportunity created for it is still
the fallback owner's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from connectors.reading import is_blank
from handoff_sync.engine.deals import deal_from
from handoff_sync.engine.link import LinkOutcome
from handoff_sync.engine.memo import PlanMemo
from handoff_sync.engine.routing import RouteDecision, Router, open_handoffs
from handoff_sync.engine.types import (
    BaseSnapshot,
    DealCreation,
    EngineState,
    Link,
    LinkMethod,
    ReviewItem,
    ReviewKind,
    creation_key,
    deal_key,
)
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.policy.condition import Condition
from handoff_sync.mapping.policy.conditions import evaluate
from handoff_sync.mapping.policy.file_model import HandoffPolicy
from handoff_sync.mapping.policy.gates import evaluate_gate
from handoff_sync.mapping.system.convert import MappedRecord, SystemMapping
from handoff_sync.model import Deal, OwnerDirectory, Value

# The canonical field a created opportunity keeps its routing in (when the CRM maps it):
# the brief shows it, so the AE reads why the deal is theirs long after the cycle.
ROUTING_FIELD = "custom.routing"

# The key prefix of the channel_conflict item a direct-deal look-alike gets.
DIRECT_DEAL_PREFIX = "channel_conflict:direct:"

# Review kinds of the linking step that hold a registration back from creation.
_HOLDING = frozenset({ReviewKind.AMBIGUOUS_LINK, ReviewKind.CHANNEL_CONFLICT,
                      ReviewKind.LINK_CONFLICT})


# Who gets a registration's new opportunity (engine.routing.Router.route).
RouteFn = Callable[[Deal, str], RouteDecision]


@dataclass(frozen=True)
class CreationOutcome:
    creations: tuple[DealCreation, ...]  # by registration id
    reviews: tuple[ReviewItem, ...]  # new items (direct-deal conflicts, routing)
    replaced: frozenset[str]  # keys of linking's items these stand in for


def creation_step(pipeline: str, mappings: MappingSet,
                  prm_by_id: Mapping[str, MappedRecord], crm_by_id: Mapping[str, MappedRecord],
                  linked: LinkOutcome, state: EngineState, owners: OwnerDirectory, *,
                  create: bool, dismissed: frozenset[str] = frozenset(),
                  memo: PlanMemo | None = None, reuse: bool = False) -> CreationOutcome:
    """engine.plan's creation step, after linking: the creations (none when the pipeline's
    switch is off), routing's standing items, and the ``unrouted`` items restated for
    opportunities created earlier. ``memo``: whether each registration is one to create for,
    kept per record (engine.memo; afresh unless ``reuse``), so only those are looked at
    again."""
    policy, crm = mappings.policy, mappings.crm

    def deal_of(record: MappedRecord) -> Deal:
        return deal_from(record.values, pipeline)

    # Loads matter only to routing rules (round robin, caps): no rules, no count.
    # An opportunity created last cycle counts for its owner as the CRM holds it.
    created_owners = {link.crm_id: crm_by_id[link.crm_id].values.get("ae_email")
                      for link in state.links.values()
                      if link.method is LinkMethod.CREATED and link.crm_id in crm_by_id}
    loads = open_handoffs(state, policy, created_owners) if policy.routing else {}
    router = Router(policy.routing, owners, loads, policy.ownership.fallback_owner_email)
    unlinked: Iterable[MappedRecord] = (record for prm_id, record in prm_by_id.items()
                                        if prm_id not in linked.links)
    if memo is not None and policy.creation is not None:
        wanted = creatable(pipeline, policy, policy.creation.when)
        kept = memo.creations(reuse).start((pipeline, policy))
        unlinked = [record for record in unlinked if kept.get(record, wanted)]
    outcome = plan_creations(
        pipeline, policy, crm, ((record, deal_of(record)) for record in unlinked),
        linked.reviews, state.bases, router.route, owners, dismissed) if create else \
        CreationOutcome((), (), frozenset())
    # The loads as the cycle found them (not as this cycle's creations left them): a
    # deal that fell back because its team was full stays unrouted while it still is.
    again = Router(policy.routing, owners, loads, policy.ownership.fallback_owner_email)
    restated = unrouted_reviews(linked.links, prm_by_id, crm_by_id, deal_of, again.route,
                                owners)
    # router.reviews(): emails routing names that are no active user (every cycle).
    return CreationOutcome(outcome.creations,
                           (*outcome.reviews, *router.reviews(), *restated),
                           outcome.replaced)


def creatable(pipeline: str, policy: HandoffPolicy,
              when: Condition) -> Callable[[MappedRecord], bool]:
    """Whether an unlinked registration passes plan_creations' tests of the record alone
    (in scope, live, no id field, needs a handoff, meets ``when``): only those can get an
    opportunity or an item from it."""
    def test(record: MappedRecord) -> bool:
        if (not record.in_scope or record.deleted
                or not is_blank(record.values.get("crm_id"))):
            return False
        deal = deal_from(record.values, pipeline)
        gate = evaluate_gate(policy, deal)
        return bool(gate.required and gate.handoff_type is not None
                    and evaluate(when, deal.get))

    return test


def plan_creations(pipeline: str, policy: HandoffPolicy, crm: SystemMapping,
                   registrations: Iterable[tuple[MappedRecord, Deal]],
                   link_reviews: Iterable[ReviewItem],
                   bases: Mapping[str, BaseSnapshot], route: RouteFn,
                   owners: OwnerDirectory,
                   dismissed: frozenset[str] = frozenset()) -> CreationOutcome:
    """The opportunities to create for the unlinked ``registrations`` (record, deal).

    An owner routing chose who is no active CRM user (only when even the fallback owner
    is none) is not written: the CRM gives the record its default owner, and an
    ``unrouted`` item says so, rather than a creation that fails every cycle."""
    creation = policy.creation
    if creation is None or crm.create is None:
        return CreationOutcome((), (), frozenset())
    held: dict[str, ReviewItem] = {}  # registration id -> a linking item about it
    for item in link_reviews:
        if item.kind not in _HOLDING:
            continue
        named = item.details.get("registrations") if item.details else None
        for prm_id in named or (item.deal.removeprefix("prm:"),):
            held.setdefault(str(prm_id), item)
    creations: list[DealCreation] = []
    reviews: list[ReviewItem] = []
    replaced: set[str] = set()
    for record, deal in sorted(registrations, key=lambda pair: pair[0].record_id or ""):
        prm_id = record.record_id
        if (prm_id is None or not record.in_scope or record.deleted
                or not is_blank(record.values.get("crm_id"))):
            continue
        key = deal_key(prm_id, None)
        gate = evaluate_gate(policy, deal)
        if not gate.required or gate.handoff_type is None or not evaluate(creation.when,
                                                                         deal.get):
            continue
        holding = held.get(prm_id)
        former = bases.get(key)
        if former is not None:
            # It had an opportunity once: a person removed or moved it, so none is made,
            # but an approved registration with no opportunity must not sit unseen.
            if holding is None:
                reviews.append(_no_opportunity(key, prm_id, former))
            continue
        if holding is not None:
            if holding.kind is ReviewKind.AMBIGUOUS_LINK:
                replaced.add(holding.key)
                direct = _direct_deal(key, prm_id, holding)
                reviews.append(direct)
                if direct.key in dismissed:  # a person said it is not that deal
                    holding = None
            if holding is not None:
                continue
        owner = route(deal, key)
        if owner.review is not None:
            reviews.append(owner.review)
        values = _values(crm, deal, prm_id, owner.email, gate.handoff_type, gate.stage)
        if owners.id_for(owner.email) is None:
            values.pop("ae_email", None)
            reviews.append(_no_owner(key, owner))
        if ROUTING_FIELD in crm.fields:
            values[ROUTING_FIELD] = f"{owner.rule}: {owner.reason}"
        creations.append(DealCreation(
            key, prm_id, creation_key(pipeline, prm_id), MappingProxyType(values),
            deal.account_name, deal.account_domain, owner.email, owner.rule, owner.reason))
    return CreationOutcome(tuple(creations), tuple(reviews), frozenset(replaced))


def unrouted_reviews(links: Mapping[str, Link], registrations: Mapping[str, MappedRecord],
                     opportunities: Mapping[str, MappedRecord],
                     deal_of: Callable[[MappedRecord], Deal],
                     route: RouteFn, owners: OwnerDirectory | None = None
                     ) -> Iterator[ReviewItem]:
    """The ``unrouted`` items of opportunities created for deals no rule could route,
    restated while the fallback owner still owns them: each such deal is routed again
    (with a router of its own, from the loads the cycle started with) and its item holds
    as long as routing still falls back to the opportunity's owner. Reassigning the
    opportunity, or a rule that now routes the deal, ends it. With ``owners``, a deal
    whose routed owner is no CRM user (it was created with the CRM's default owner)
    keeps its item until routing names one who is."""
    for prm_id, link in sorted(links.items()):
        if link.method is not LinkMethod.CREATED:
            continue
        record = registrations.get(prm_id)
        held = opportunities.get(link.crm_id)
        if record is None or held is None:
            continue
        key = deal_key(prm_id, None)
        decision = route(deal_of(record), key)
        if owners is not None and owners.id_for(decision.email) is None:
            # Still nobody routing could give it to: created with the CRM's default owner.
            yield decision.review or _no_owner(key, decision)
        elif decision.review is not None and held.values.get("ae_email") == decision.email:
            yield decision.review


def _values(crm: SystemMapping, deal: Deal, prm_id: str, owner: str, handoff_type: str,
            stage: str | None) -> dict[str, Value]:
    """The canonical values the new opportunity starts with: what the registration holds
    of the fields the CRM mapping maps, its id, the owner, and where the handoff stands."""
    values: dict[str, Value] = {}
    for name in crm.fields:
        if name in ("crm_id", "prm_id"):
            continue
        value = deal.get(name)
        if value is not None:
            values[name] = value
    values.update({"prm_id": prm_id, "ae_email": owner, "handoff_type": handoff_type})
    if stage is not None:
        values["handoff_stage"] = stage
    return {name: value for name, value in values.items() if name in crm.fields}


def _no_owner(key: str, owner: RouteDecision) -> ReviewItem:
    return ReviewItem(
        key=f"unrouted:{key}", kind=ReviewKind.UNROUTED, deal=key,
        summary=(f"{owner.email}, whom routing chose ({owner.rule}), is no active CRM user, "
                 "so the opportunity is created with the CRM's default owner: reassign it, "
                 "and fix routing or ownership.fallback_owner_email in handoff.yaml"),
        details=MappingProxyType({"fallback": owner.email, "rule": owner.rule}))


def _no_opportunity(key: str, prm_id: str, former: BaseSnapshot) -> ReviewItem:
    """The standing item of an approved registration whose opportunity is gone."""
    crm_id = former.agreed.get("crm_id")
    was = f"opportunity {crm_id}" if isinstance(crm_id, str) else "its opportunity"
    return ReviewItem(
        key=f"{ReviewKind.NO_OPPORTUNITY.value}:{key}", kind=ReviewKind.NO_OPPORTUNITY,
        deal=key,
        summary=(f"registration {prm_id} is approved and needs a handoff, but {was} is gone "
                 "(deleted, or linked to another registration) and handoff-sync does not "
                 "re-create what a person removed: link it to an opportunity (`handoff-sync "
                 "review link KEY OPPORTUNITY_ID`) or dismiss this"),
        details=MappingProxyType({"former_crm_id": crm_id, "registrations": (prm_id,)}))


def _direct_deal(key: str, prm_id: str, item: ReviewItem) -> ReviewItem:
    """The channel_conflict item standing in for a registration's ambiguous_link item."""
    best, confidence = item.candidates[0] if item.candidates else ("?", 0.0)
    others = len(item.candidates) - 1
    more = f" and {others} more" if others > 0 else ""
    return ReviewItem(
        key=f"{DIRECT_DEAL_PREFIX}{key}", kind=ReviewKind.CHANNEL_CONFLICT, deal=key,
        summary=(f"registration {prm_id} looks like opportunity {best} ({confidence:.2f})"
                 f"{more}, which no registration claims (a direct deal?): no opportunity is "
                 "created for it until a person links it to one of them or dismisses this"),
        candidates=item.candidates,
        details=MappingProxyType({"why": "direct_deal", "registrations": (prm_id,),
                                  "evidence": item.details.get("evidence")}))


__all__ = ["DIRECT_DEAL_PREFIX", "CreationOutcome", "RouteFn", "creation_step", "plan_creations",
           "unrouted_reviews"]
