"""Governance maturity: where a team stands, per dimension, judged on what the store and
the policy show (docs/domain.md, "Governance maturity").

Levels: 1 ad hoc (ownership in inboxes, no SLAs, problems found after churn), 2 defined
but inconsistent (some handoffs tracked, SLAs for some), 3 orchestrated and measured
(every handoff's owner, dates and SLA instrumented, outcomes measured, named owners for
improvement). Each dimension states its rule for each level in its ``definition``, the
evidence it was judged on, and what it takes to reach the next level. The overall level
is the lowest: a team is as mature as its weakest habit.

"Every" handoff means at least ``EVERY_PCT`` of the deals needing one, so a few records
in flux (an owner who left yesterday) do not drop a level; the evidence shows the count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from handoff_sync.mapping.policy.measures import IMPROVABLE_FIGURES, TARGETED_FIGURES
from handoff_sync.model import ROLE_FIELDS, PersonRole
from handoff_sync.report.basis import cycle_days
from handoff_sync.report.facts import DIRECT, PARTNER, DealFact, HandoffTypeFacts, ReportData
from handoff_sync.report.stats import mean, round1

LEVEL_NAMES = {1: "ad hoc", 2: "defined but inconsistent", 3: "orchestrated and measured"}
TOP = 3
EVERY_PCT = 95.0  # "every handoff": this share of the deals needing one, at least
MOST_PCT = 50.0  # below this share a practice is not defined yet, only occasional
OWNERSHIP, SLAS, GATES, OUTCOMES, OWNERS = ("ownership", "slas", "gates", "outcomes",
                                            "improvement_owners")

DEFINITION = (f"Governance maturity, level 1 ({LEVEL_NAMES[1]}), 2 ({LEVEL_NAMES[2]}) or 3 "
              f"({LEVEL_NAMES[3]}), per dimension by the rule next to it, judged on the deals "
              "in the period and on handoff.yaml; overall = the lowest dimension. 'Every' "
              f"handoff means at least {EVERY_PCT:g}% of the deals needing one.")
DEFINITIONS = {
    OWNERSHIP: (
        "Deals needing a handoff whose current stage's owner (handoff.yaml stage owner: "
        "partner rep, AE, CS owner or the AE's manager) is named on the deal and has a user "
        "(no open unresolved-owner review item for that role). Level 1: under "
        f"{MOST_PCT:g}% of them; 2: {MOST_PCT:g}% or more; 3: {EVERY_PCT:g}% or more."),
    SLAS: (
        "Deals needing a handoff on which at least one SLA clock has run. Level 1: no "
        "handoff type in use has an SLA clock, or none has run; 2: clocks run on some "
        f"deals; 3: clocks run on {EVERY_PCT:g}% or more of them, every handoff type in use "
        "has a clock and every clock escalates a breach to a person (escalate_to)."),
    GATES: (
        "Gate requirements on the stages of the handoff types in use, and the mean "
        "completeness of the deals needing a handoff. Level 1: no stage has a gate; 2: some "
        "stages are gated; 3: every stage is gated and the mean completeness meets the "
        "target (measures.targets.completeness_pct)."),
    OUTCOMES: (
        "Outcomes measured on closed deals: deal preservation (partner deals closed won / "
        "closed) and cycle-length impact (won partner against won direct deals, which "
        "needs the CRM record's creation date), and conversion through each handoff step "
        "(a leakage funnel in measures.funnels). Level 1: no partner deal closed in the "
        "period; 2: preservation measured on fewer than min_sample closed partner deals, or "
        "cycle-length impact on fewer than min_sample won deals a side, or no funnel "
        "declared; 3: both on at least min_sample (measures.min_sample) and a funnel "
        "declared."),
    OWNERS: (
        "Figures held to a target ("
        + ", ".join(IMPROVABLE_FIGURES[f] for f in TARGETED_FIGURES)
        + ", and Handoff rejection rate when a handoff type takes accept/reject) with "
        "a person named in measures.improvement_owners. Level 1: none named; 2: some; 3: "
        "every one."),
}
LABELS = {OWNERSHIP: "Ownership defined", SLAS: "SLAs instrumented",
          GATES: "Completeness gated", OUTCOMES: "Measured outcomes",
          OWNERS: "Named improvement owners"}


@dataclass(frozen=True, slots=True)
class MaturityDimension:
    id: str
    label: str
    level: int  # 1, 2 or 3
    level_name: str
    evidence: str  # what the store and the policy show
    next_steps: tuple[str, ...]  # what it takes to reach the next level; () at level 3
    definition: str  # the rule for each level


@dataclass(frozen=True, slots=True)
class ImprovementOwner:
    figure: str  # measures.improvement_owners key
    label: str
    owner: str | None  # the person's email; None: nobody named
    targeted: bool  # held to a target (counts for the level)


@dataclass(frozen=True, slots=True)
class Maturity:
    level: int  # the lowest dimension's
    level_name: str
    held_back_by: tuple[str, ...]  # labels of the dimensions at the overall level (< 3)
    dimensions: tuple[MaturityDimension, ...]
    improvement_owners: tuple[ImprovementOwner, ...]
    definition: str


def assess(data: ReportData, deals: Sequence[DealFact]) -> Maturity:
    """The maturity meter of the period's ``deals`` (figures.in_period)."""
    handoffs = [d for d in deals if d.required]
    types = {t.id: t for t in data.policy.governance.types}
    in_use = [types[name] for name in sorted({d.handoff_type or "" for d in handoffs})
              if name in types]
    owners = improvement_owners(data)
    dimensions = (ownership(data, handoffs, types), slas(data, handoffs, in_use),
                  gates(in_use, handoffs, data.policy.targets.completeness_pct),
                  outcomes(deals, data.policy.min_sample, len(data.policy.funnels)),
                  named_owners(owners))
    level = min(d.level for d in dimensions)
    held = tuple(d.label for d in dimensions if d.level == level) if level < TOP else ()
    return Maturity(level, LEVEL_NAMES[level], held, dimensions, owners, DEFINITION)


def _dimension(key: str, level: int, evidence: str, steps: Sequence[str]) -> MaturityDimension:
    return MaturityDimension(key, LABELS[key], level, LEVEL_NAMES[level], evidence,
                             tuple(steps) if level < TOP else (), DEFINITIONS[key])


def _share(part: int, whole: int) -> float:
    return 100 * part / whole if whole else 0.0


def _of(part: int, whole: int) -> str:
    return f"{part} of {whole} ({_share(part, whole):.1f}%)"


def _level_by_share(share: float) -> int:
    return 3 if share >= EVERY_PCT else 2 if share >= MOST_PCT else 1


def _no_handoffs(key: str) -> MaturityDimension:
    return _dimension(key, 1, "no deal needs a handoff in the period: nothing shows it yet",
                      ["sync deals that need a handoff (handoff.yaml required_when), or "
                       "widen the period (--since, --until)"])


def stage_owner(deal: DealFact, kind: HandoffTypeFacts | None) -> str | None:
    """The role owning the deal's current stage (its first stage before one is set)."""
    if kind is None or not kind.stage_owners:
        return None
    if deal.stage is not None and deal.stage in kind.stage_owners:
        return kind.stage_owners[deal.stage]
    return next(iter(kind.stage_owners.values()))


def ownership(data: ReportData, handoffs: Sequence[DealFact],
              types: dict[str, HandoffTypeFacts]) -> MaturityDimension:
    if not handoffs:
        return _no_handoffs(OWNERSHIP)
    unresolved = {(r.deal, r.role) for r in data.reviews
                  if r.kind == "unresolved_owner" and r.status == "open"}
    blank = no_user = 0
    for deal in handoffs:
        role = stage_owner(deal, types.get(deal.handoff_type or ""))
        person = deal.values.get(ROLE_FIELDS[PersonRole(role)]) if role else None
        if not (isinstance(person, str) and person.strip()):
            blank += 1
        elif (deal.key, role) in unresolved:
            no_user += 1
    owned = len(handoffs) - blank - no_user
    share = _share(owned, len(handoffs))
    level = _level_by_share(share)
    steps = []
    if level < TOP:
        need = _needed(len(handoffs), owned, MOST_PCT if level == 1 else EVERY_PCT)
        steps.append(f"{need} more deal{_s(need)} needing a handoff with a named owner who "
                     f"has a user ({MOST_PCT if level == 1 else EVERY_PCT:g}% of "
                     f"{len(handoffs)})")
    if blank:
        steps.append(f"fill the stage owner (AE, CS owner or partner rep) on {blank} "
                     f"deal{_s(blank)} where it is blank")
    if no_user:
        steps.append(f"give the owner of {no_user} deal{_s(no_user)} a CRM user, or correct "
                     "the owner (the open unresolved-owner review items name them)")
    return _dimension(OWNERSHIP, level,
                      f"{_of(owned, len(handoffs))} deals needing a handoff have a named "
                      f"stage owner with a user; {blank} name nobody, {no_user} name a "
                      "person without a user", steps)


def slas(data: ReportData, handoffs: Sequence[DealFact],
         in_use: Sequence[HandoffTypeFacts]) -> MaturityDimension:
    if not handoffs:
        return _no_handoffs(SLAS)
    keys = {d.key for d in handoffs}
    clocked = len({c.deal for c in data.clocks if c.deal in keys})
    unclocked_types = [t.label for t in in_use if not t.slas]
    silent = [f"{label} ({t.label})" for t in in_use for label in t.silent_slas]
    share = _share(clocked, len(handoffs))
    evidence = (f"SLA clocks have run on {_of(clocked, len(handoffs))} deals needing a "
                f"handoff; {sum(len(t.slas) for t in in_use)} clocks in the "
                f"{len(in_use)} handoff type{_s(len(in_use))} in use")
    if clocked == 0 or len(unclocked_types) == len(in_use):
        level = 1
    elif share >= EVERY_PCT and not unclocked_types and not silent:
        level = 3
    else:
        level = 2
    steps = [f"add an SLA clock to {label} (handoff.yaml slas)" for label in unclocked_types]
    if share < EVERY_PCT:
        need = _needed(len(handoffs), clocked, EVERY_PCT)
        steps.append(f"start a clock on {need} more deal{_s(need)} needing a handoff (a "
                     "clock starting on handoff_required covers every one)")
    steps += [f"escalate breaches of {label} to a person (escalate_to)" for label in silent]
    return _dimension(SLAS, level, evidence, steps)


def gates(in_use: Sequence[HandoffTypeFacts], handoffs: Sequence[DealFact],
          target: float) -> MaturityDimension:
    if not handoffs:
        return _no_handoffs(GATES)
    stages = sum(len(t.stage_owners) for t in in_use)
    ungated = [f"{label} ({t.label})" for t in in_use for label in t.ungated_stages]
    # The completeness section's mean, over the same deals.
    average = round1(mean([d.completeness_pct for d in handoffs]))
    meets = average is not None and average >= target
    evidence = (f"{stages - len(ungated)} of {stages} stages gated; mean completeness "
                f"{_pct(average)} of {len(handoffs)} deals needing a handoff (target "
                f"{target:g}%)")
    level = 1 if len(ungated) == stages else 3 if not ungated and meets else 2
    steps = [f"add gate requirements to {name}" for name in ungated]
    if not meets:
        steps.append(f"raise the mean completeness from {_pct(average)} to {target:g}% (the "
                     "open gate tasks name the missing fields, and the report's most-missing "
                     "fields which to chase first)")
    return _dimension(GATES, level, evidence, steps)


def won_with_cycle(deals: Sequence[DealFact], kind: str) -> int:
    """Won deals of ``kind`` whose cycle length the preservation section measures."""
    found = (cycle_days(d) for d in deals if d.kind == kind and d.is_closed and d.is_won)
    return sum(1 for days in found if days is not None and days >= 0)


def outcomes(deals: Sequence[DealFact], min_sample: int, funnels: int) -> MaturityDimension:
    closed = sum(1 for d in deals if d.kind == PARTNER and d.is_closed)
    partner, direct = won_with_cycle(deals, PARTNER), won_with_cycle(deals, DIRECT)
    evidence = (f"preservation measured on {closed} closed partner deal{_s(closed)}; cycle "
                f"length on {partner} won partner and {direct} won direct deal{_s(direct)} "
                f"(min_sample {min_sample}); {funnels} leakage funnel{_s(funnels)} declared")
    if closed == 0:
        return _dimension(OUTCOMES, 1, evidence, [
            "close partner deals in the CRM (is_closed, is_won mapped) so preservation "
            "can be measured"])
    steps = []
    if closed < min_sample:
        steps.append(f"{min_sample - closed} more closed partner deal"
                     f"{_s(min_sample - closed)} for preservation to reach min_sample")
    if partner < min_sample or direct < min_sample:
        if partner == 0 and direct == 0:
            steps.append("map the CRM record's creation date (custom.created_at) so cycle "
                         "length can be measured")
        for side, count in (("partner", partner), ("direct", direct)):
            if count < min_sample:
                steps.append(f"{min_sample - count} more won {side} deal"
                             f"{_s(min_sample - count)} with a cycle length for the "
                             "cycle-length impact to reach min_sample")
    if not funnels:
        steps.append("declare a leakage funnel (handoff.yaml measures.funnels) so conversion "
                     "through each handoff step, and the dollars lost at it, are measured")
    return _dimension(OUTCOMES, 2 if steps else 3, evidence, steps)


def improvement_owners(data: ReportData) -> tuple[ImprovementOwner, ...]:
    """Every figure held to a target, then every other figure someone owns."""
    named = data.policy.governance.improvement_owners
    targeted = targeted_figures(data)
    return tuple(ImprovementOwner(figure, label, named.get(figure), figure in targeted)
                 for figure, label in IMPROVABLE_FIGURES.items()
                 if figure in targeted or figure in named)


def targeted_figures(data: ReportData) -> tuple[str, ...]:
    accepts = any(t.acceptance for t in data.policy.governance.types)
    return (*TARGETED_FIGURES, *(("rejection_rate",) if accepts else ()))


def named_owners(owners: Sequence[ImprovementOwner]) -> MaturityDimension:
    targeted = [o for o in owners if o.targeted]
    named = [o for o in targeted if o.owner]
    missing = [o.figure for o in targeted if not o.owner]
    level = 3 if not missing else 2 if named else 1
    steps = ([f"name who owns improving {', '.join(missing)} in handoff.yaml "
              "measures.improvement_owners (figure: email)"] if missing else [])
    return _dimension(OWNERS, level, f"{len(named)} of {len(targeted)} figures held to a "
                      "target have a named improvement owner", steps)


def _needed(whole: int, have: int, pct: float) -> int:
    """How many more of ``whole`` it takes for ``pct`` percent of them."""
    return max(0, math.ceil(whole * pct / 100 - 1e-9) - have)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}%"


def _s(count: int, plural: str = "s", singular: str = "") -> str:
    return singular if count == 1 else plural
