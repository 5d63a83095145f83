"""Who owns an opportunity handoff-sync creates: handoff.yaml's routing rules, in order.

The first rule that can route the deal wins: a named owner, the least-loaded member of a
team under its cap (round robin), or the partner's assigned AE read from a field. A rule
whose condition does not hold, whose person is no active CRM user, whose team has nobody
under the cap or whose AE field is blank is passed over and the next rule applies. When
none routes, the fallback queue owner takes the deal and a review item says why, so the
queue stays the exception. Every decision carries a one-line reason for the brief and
`plan`.

Deterministic by construction (the engine is pure and incremental plans must equal full
ones): a team's member is the one with the fewest open handoffs, ties to the one listed
first; loads start from what the store knows (``open_handoffs``) and grow as the Router
hands out deals, so the caller routes a cycle's deals in a stable order (by deal key).

An email routing would give deals to that is no active CRM user (deactivated, never
added, or shared by two users) is one review item per email, not one per deal:
``Router.reviews``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from connectors.reading import is_blank
from handoff_sync.engine.types import (
    EngineState,
    LinkMethod,
    ReviewItem,
    ReviewKind,
    deal_key,
)
from handoff_sync.mapping.policy.conditions import describe_condition, evaluate
from handoff_sync.mapping.policy.file_model import HandoffPolicy, Routing, RoutingRule
from handoff_sync.mapping.system.transforms import ValueProblem
from handoff_sync.model import Deal, GateStatus, OwnerDirectory, Value

FALLBACK = "fallback"


@dataclass(frozen=True)
class RouteDecision:
    """Who gets a new opportunity, by which rule, and why (for the brief and `plan`)."""

    email: str  # the CRM user who gets the new opportunity
    rule: str  # "rule 2 (EMEA territory)", "rule 3 (round robin emea_direct)", "fallback"
    reason: str  # one line, e.g. "custom.region is EMEA -> dana@... (handoff.yaml rule 1)"
    # Set when rules exist but none could route and the fallback owner took the deal:
    # one item per deal (key "unrouted:<deal key>"), saying why each rule passed.
    review: ReviewItem | None = None


@dataclass(frozen=True)
class _Pass:
    """A rule that matched the deal but could not route it, and why."""

    rule: int  # 1-based
    why: str
    email: str | None = None  # the person it would have routed to, if one


class Router:
    """Routes the deals of one cycle; remembers whom it gave deals to (their load).

    ``owners`` is the CRM's owner directory; ``open_load`` the open handoffs per email
    before this cycle (``open_handoffs``); ``fallback_email`` the policy's
    ownership.fallback_owner_email, used when routing names no active fallback_owner.
    """

    def __init__(self, routing: Routing | None, owners: OwnerDirectory,
                 open_load: Mapping[str, int], fallback_email: str) -> None:
        self._routing = routing
        self._owners = owners
        self._load: dict[str, int] = {}
        for email, count in open_load.items():
            key = email.strip().lower()
            self._load[key] = self._load.get(key, 0) + count
        self._fallback, self._fallback_source = _fallback(routing, owners, fallback_email)
        # Emails the file names that are no active user: stated every cycle (standing).
        self._reviews: dict[str, ReviewItem] = {
            item.key: item for item in _named_email_reviews(routing, owners, self._fallback)}

    def route(self, deal: Deal, deal_key: str) -> RouteDecision:
        """The deal's owner; counts the deal in that person's load for later deals."""
        decision = self._decide(deal, deal_key)
        self._load[decision.email] = self._load.get(decision.email, 0) + 1
        return decision

    def reviews(self) -> tuple[ReviewItem, ...]:
        """One item per email routing would give deals to that is no active CRM user: the
        ones handoff.yaml names (every cycle while they stand) and partner AEs the deals
        routed so far named. By key."""
        return tuple(self._reviews[key] for key in sorted(self._reviews))

    def load(self, email: str) -> int:
        """Open handoffs of ``email``, counting this cycle's deals routed so far."""
        return self._load.get(email.strip().lower(), 0)

    def _decide(self, deal: Deal, deal_key: str) -> RouteDecision:
        routing = self._routing
        if routing is None or not routing.rules:
            where = "no routing: section" if routing is None else "routing: has no rules"
            return RouteDecision(self._fallback, FALLBACK, f"{where} in handoff.yaml -> "
                                 f"{self._fallback} ({self._fallback_source})")
        passes: list[_Pass] = []
        for number, rule in enumerate(routing.rules, 1):
            if rule.when is not None and not _holds(rule, deal):
                continue
            routed = self._try(rule, number, deal, passes)
            if routed is not None:
                email, label, how = routed
                skipped = "".join(f"; rule {p.rule} passed: {p.why}" for p in passes)
                return RouteDecision(email, f"rule {number} ({rule.name or label})",
                                     f"{how} (handoff.yaml rule {number}{skipped})")
        return self._fell_back(deal_key, passes)

    def _try(self, rule: RoutingRule, number: int, deal: Deal,
             passes: list[_Pass]) -> tuple[str, str, str] | None:
        """(email, default label, reason) when the rule routes the deal, else None after
        noting why in ``passes``."""
        assert self._routing is not None
        matched = describe_condition(rule.when) if rule.when is not None else "every deal"
        if rule.owner is not None:
            email = rule.owner.strip().lower()
            if self._owners.id_for(email) is None:
                passes.append(_Pass(number, f"{email} is no active CRM user", email))
                return None
            return email, "owner", f"{matched} -> {email}"
        if rule.team is not None:
            return self._round_robin(rule.team, number, matched, passes)
        if rule.partner_ae is not None:
            value = _value(deal, rule.partner_ae)
            if not isinstance(value, str) or is_blank(value):
                passes.append(_Pass(number, f"{rule.partner_ae} is blank"))
                return None
            email = value.strip().lower()
            if self._owners.id_for(email) is None:
                passes.append(_Pass(number, f"partner AE {email} ({rule.partner_ae}) is no "
                                            "active CRM user", email))
                self._note_partner_ae(email, rule.partner_ae, number)
                return None
            prefix = "" if rule.when is None else f"{matched} and "
            return email, "partner_ae", f"{prefix}{rule.partner_ae} names the partner's " \
                                        f"AE -> {email}"
        passes.append(_Pass(number, "the rule names nobody"))
        return None

    def _round_robin(self, team_id: str, number: int, matched: str,
                     passes: list[_Pass]) -> tuple[str, str, str] | None:
        assert self._routing is not None
        team = self._routing.teams.get(team_id)
        if team is None:
            passes.append(_Pass(number, f"no team '{team_id}'"))
            return None
        cap = team.cap
        best: tuple[int, int, str] | None = None  # (load, position in the file, email)
        inactive = at_cap = 0
        for position, member in enumerate(team.members):
            email = member.strip().lower()
            if self._owners.id_for(email) is None:
                inactive += 1
                continue
            load = self._load.get(email, 0)
            if cap is not None and load >= cap:
                at_cap += 1
                continue
            if best is None or (load, position) < best[:2]:
                best = (load, position, email)
        label = f"round robin {team_id}"
        if best is None:
            if at_cap and not inactive:
                why = f"every member of team {team_id} is at the cap of {cap} open handoffs"
            elif inactive and not at_cap:
                why = f"nobody in team {team_id} is an active CRM user"
            else:
                why = (f"team {team_id}: {at_cap} at the cap of {cap} open handoffs, "
                       f"{inactive} no active CRM user")
            passes.append(_Pass(number, why))
            return None
        load, _, email = best
        under = f" under the cap of {cap}" if cap is not None else ""
        return email, label, (f"{matched} -> {email}, round robin in team {team_id}: "
                              f"fewest open handoffs ({load}){under}")

    def _note_partner_ae(self, email: str, field: str, number: int) -> None:
        key = f"routing_owner:{email}"
        if key in self._reviews:
            return
        self._reviews[key] = ReviewItem(
            key=key, kind=ReviewKind.ROUTING_OWNER, deal=f"routing:{email}",
            summary=(f"Partner AE {email} (from {field}, handoff.yaml routing rule {number}) "
                     "has no active CRM user, so their deals go to the next routing rule or "
                     f"the fallback owner {self._fallback}: add or reactivate the user in the "
                     f"CRM, or correct {field}"),
            details=MappingProxyType({"email": email, "named_in": (f"rule {number} "
                                                                   f"partner_ae {field}",),
                                      "fallback": self._fallback}))

    def _fell_back(self, deal_key: str, passes: list[_Pass]) -> RouteDecision:
        why = "; ".join(f"rule {p.rule}: {p.why}" for p in passes) or "no rule matched"
        email = self._fallback
        review = ReviewItem(
            key=f"unrouted:{deal_key}", kind=ReviewKind.UNROUTED, deal=deal_key,
            summary=(f"No routing rule could route this deal ({why}), so its opportunity "
                     f"goes to the fallback owner {email}: reassign it, and add a rule or a "
                     "team member in handoff.yaml's routing if deals like it recur"),
            details=MappingProxyType({
                "fallback": email, "source": self._fallback_source,
                "passed": tuple(MappingProxyType({"rule": p.rule, "why": p.why,
                                                  "email": p.email}) for p in passes)}))
        return RouteDecision(email, FALLBACK, f"{why} -> {email} ({self._fallback_source})",
                             review)


def _holds(rule: RoutingRule, deal: Deal) -> bool:
    """The rule's condition; a condition the policy checks let through but that cannot be
    evaluated (never with validated mappings) does not hold rather than crash the cycle."""
    assert rule.when is not None
    try:
        return evaluate(rule.when, deal.get)
    except (KeyError, ValueProblem):
        return False


def _value(deal: Deal, name: str) -> object:
    try:
        return deal.get(name)
    except KeyError:  # not a canonical field (validate says so): a blank AE field
        return None


def _fallback(routing: Routing | None, owners: OwnerDirectory,
              fallback_email: str) -> tuple[str, str]:
    """The queue owner and where it comes from: routing's fallback_owner when it is an
    active CRM user, else the policy's ownership.fallback_owner_email."""
    if routing is not None and routing.fallback_owner is not None:
        email = routing.fallback_owner.strip().lower()
        if owners.id_for(email) is not None:
            return email, "routing.fallback_owner"
    return fallback_email.strip().lower(), "ownership.fallback_owner_email"


def _named_email_reviews(routing: Routing | None, owners: OwnerDirectory,
                         fallback: str) -> list[ReviewItem]:
    """One routing_owner item per email handoff.yaml's routing names (rule owners, team
    members, fallback_owner) that is not exactly one active CRM user."""
    if routing is None:
        return []
    named: dict[str, list[str]] = {}
    if routing.fallback_owner is not None:
        named.setdefault(routing.fallback_owner.strip().lower(), []).append("fallback_owner")
    for number, rule in enumerate(routing.rules, 1):
        if rule.owner is not None:
            named.setdefault(rule.owner.strip().lower(), []).append(f"rule {number} owner")
    for team_id, team in routing.teams.items():
        for member in team.members:
            named.setdefault(member.strip().lower(), []).append(f"team {team_id}")
    items = []
    for email in sorted(named):
        if owners.id_for(email) is not None:
            continue
        holders = owners.active_holders(email)
        state = (f"is shared by {len(holders)} active CRM users" if len(holders) > 1
                 else "has no active CRM user")
        where = ", ".join(dict.fromkeys(named[email]))
        items.append(ReviewItem(
            key=f"routing_owner:{email}", kind=ReviewKind.ROUTING_OWNER,
            deal=f"routing:{email}",
            summary=(f"{email} ({where} in handoff.yaml routing) {state}, so deals routed to "
                     f"them go to the next routing rule or the fallback owner {fallback}: "
                     "add or reactivate the user in the CRM, or correct handoff.yaml"),
            details=MappingProxyType({"email": email, "named_in": tuple(named[email]),
                                      "fallback": fallback})))
    return items


def open_handoffs(state: EngineState, policy: HandoffPolicy,
                  created_owners: Mapping[str, Value] | None = None) -> dict[str, int]:
    """Open handoffs per AE email, from what the store keeps (verdicts and base snapshots).

    A deal counts for the AE who owns its opportunity when its last verdict says the
    handoff is required (passed or blocked), its handoff type has a stage the CRM owner
    owns (a customer-success handoff is not an AE's load), and its opportunity is not
    closed. The AE is ``ae_email`` as the CRM side held it after the last cycle (else the
    agreed value); a deal with no opportunity or no AE counts for nobody.

    An opportunity created last cycle has no such verdict yet (it was planned before it
    existed): it counts for ``created_owners[its id]`` (its owner as the CRM holds it), so
    a cap holds from the cycle after the creation, not from the one after that.
    """
    ae_types = {type_id for type_id, handoff in policy.handoff_types.items()
                if any(stage.owner == "crm_owner" for stage in handoff.stages)}
    load: dict[str, int] = {}
    for key, verdict in state.verdicts.items():
        if (not verdict.required or verdict.status is GateStatus.NOT_REQUIRED
                or verdict.crm_id is None or verdict.handoff_type not in ae_types):
            continue
        base = state.bases.get(key)
        if base is None or base.crm.get("is_closed") is True \
                or base.agreed.get("is_closed") is True:
            continue
        ae = base.crm.get("ae_email") or base.agreed.get("ae_email")
        if isinstance(ae, str) and not is_blank(ae):
            email = ae.strip().lower()
            load[email] = load.get(email, 0) + 1
    for prm_id, link in state.links.items():
        made = state.verdicts.get(deal_key(prm_id, None))
        if (link.method is not LinkMethod.CREATED or made is None
                or made.crm_id is not None or not made.required
                or made.handoff_type not in ae_types):
            continue
        ae = (created_owners or {}).get(link.crm_id)
        if isinstance(ae, str) and not is_blank(ae):
            email = ae.strip().lower()
            load[email] = load.get(email, 0) + 1
    return dict(sorted(load.items()))


__all__ = ["FALLBACK", "RouteDecision", "Router", "open_handoffs"]
