"""The gate verdict for one deal: which handoff, which stage, required or not, what is missing.

A small pure function over the policy, used by `mappings explain` now and by the engine
(issue 4) as its gate step; the engine adds history, "stage ahead of its gate", tasks
and clocks on top.
"""

from __future__ import annotations

from handoff_sync.mapping.policy.conditions import evaluate
from handoff_sync.mapping.policy.file_model import (
    GateRequirement,
    HandoffPolicy,
    HandoffType,
    Stage,
)
from handoff_sync.model import (
    CANONICAL_FIELDS,
    Acceptance,
    Deal,
    GateResult,
    GateStatus,
    MissingRequirement,
)


def handoff_type_of(policy: HandoffPolicy, deal: Deal) -> str | None:
    """The deal's own handoff_type when the policy knows it and its applies_when (if any)
    still holds, else the first type whose applies_when holds (types without
    applies_when never claim a deal by themselves). A type that no longer applies (a
    partner handoff on a deal whose registration was re-linked elsewhere) is not graded."""
    own = policy.handoff_types.get(deal.handoff_type) if deal.handoff_type else None
    if own is not None and (own.applies_when is None or evaluate(own.applies_when, deal.get)):
        return deal.handoff_type
    for type_id, handoff in policy.handoff_types.items():
        if handoff.applies_when is not None and evaluate(handoff.applies_when, deal.get):
            return type_id
    return None


def stage_of(handoff: HandoffType, deal: Deal) -> Stage:
    """The deal's handoff_stage when it is a stage of this type, else the first stage."""
    for stage in handoff.stages:
        if stage.id == deal.handoff_stage:
            return stage
    return handoff.stages[0]


def requirement_label(requirement: GateRequirement) -> str:
    if requirement.label:
        return requirement.label
    assert requirement.field is not None  # checks.py insists on a label otherwise
    spec = CANONICAL_FIELDS.get(requirement.field)
    return spec.label if spec else requirement.field


def requirement_met(requirement: GateRequirement, deal: Deal) -> bool:
    if requirement.field is not None and deal.get(requirement.field) is None:
        return False
    return requirement.check is None or evaluate(requirement.check, deal.get)


def evaluate_gate(policy: HandoffPolicy, deal: Deal) -> GateResult:
    """The deal's current gate: passed, blocked or not required, with a weighted
    completeness score and the unmet requirements in policy order."""
    type_id = handoff_type_of(policy, deal)
    if type_id is None:
        return GateResult(None, None, False, GateStatus.NOT_REQUIRED, 100, ())
    handoff = policy.handoff_types[type_id]
    required = handoff.required_when is None or evaluate(handoff.required_when, deal.get)
    if is_rejected(handoff, deal):
        # A rejected handoff goes back to the reopened stage's gate, with the rejection
        # itself missing until the sender re-submits (engine.acceptance).
        return evaluate_stage(type_id, reopened_stage(handoff), deal, required=required,
                              rejection=rejection_label(deal))
    return evaluate_stage(type_id, stage_of(handoff, deal), deal, required=required)


def is_rejected(handoff: HandoffType, deal: Deal) -> bool:
    """The receiving owner rejected the handoff (and the type lets them)."""
    return handoff.acceptance is not None and deal.handoff_acceptance == Acceptance.REJECTED


def reopened_stage(handoff: HandoffType) -> Stage:
    """The stage a rejection sends the deal back to: the acceptance section's, else the
    first."""
    wanted = handoff.acceptance.reopens if handoff.acceptance is not None else None
    return next((s for s in handoff.stages if s.id == wanted), handoff.stages[0])


def rejection_label(deal: Deal) -> str:
    """The missing requirement a rejection adds to the reopened gate: its reason."""
    reason = (deal.handoff_rejection_reason or "").strip() or "no reason given"
    return f"Handoff rejected: {reason} (re-submit when fixed)"


def evaluate_stage(type_id: str, stage: Stage, deal: Deal, *, required: bool,
                   earlier: tuple[tuple[int, Stage], ...] = (),
                   rejection: str | None = None) -> GateResult:
    """The gate of one given stage for the deal, whatever stage the deal is in (the
    engine asks this of earlier stages and of stages SLA clocks watch).

    ``earlier``: (stage number, stage) of stages the deal has moved past whose gates still
    fail; their unmet requirements come first, labelled "Stage 1 incomplete: ...", and
    count in the score, so a deal ahead of its gate never shows as passed. ``rejection``:
    the label of a rejected handoff, an unmet requirement of weight 1 listed first of all."""
    total = met = 0.0
    missing: list[MissingRequirement] = []
    if rejection is not None:
        total += 1
        missing.append(MissingRequirement(rejection, "handoff_resubmit"))
    for number, gate_stage in (*earlier, (0, stage)):
        prefix = f"Stage {number} incomplete: " if number else ""
        for requirement in gate_stage.gate:
            if requirement.when is not None and not evaluate(requirement.when, deal.get):
                continue
            total += requirement.weight
            # requirement_met, inlined: ~25 requirements per deal, several gates each.
            if (requirement.field is None or deal.get(requirement.field) is not None) and (
                    requirement.check is None or evaluate(requirement.check, deal.get)):
                met += requirement.weight
            else:
                missing.append(MissingRequirement(prefix + requirement_label(requirement),
                                                  requirement.field))
    completeness = 100 if total == 0 else int(100 * met / total)  # floor: 99.9 is not done
    if not required:
        status = GateStatus.NOT_REQUIRED
    else:
        status = GateStatus.BLOCKED if missing else GateStatus.PASSED
    return GateResult(type_id, stage.id, required, status, completeness, tuple(missing))
