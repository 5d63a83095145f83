"""The gate as people see it: a deal's current gate, with the gates of stages it has moved
past that still fail, and the values its brief and task templates are filled from.

A deal in stage 4 whose stage-1 gate still fails (nobody named the economic buyer) is not
"Passed": the gate shown adds the earlier stage's unmet requirements, labelled "Stage 1
incomplete: ...", to its status, score and missing fields (gates.evaluate_stage).
"""

from __future__ import annotations

from datetime import datetime

from handoff_sync.engine.stages import WINDOW_WORDS, StageWindow
from handoff_sync.mapping.policy.file_model import HandoffPolicy, Stage
from handoff_sync.mapping.policy.gates import evaluate_stage
from handoff_sync.model import Deal, GateResult, Value

# Per deal: stage id -> whether its gate fails (None: the deal's current stage, unknown).
Fails = dict[str | None, bool]


def gate_fails(type_id: str, stage: Stage, deal: Deal, fails: Fails) -> bool:
    """Whether the stage's gate has unmet requirements, remembered in ``fails``."""
    known = fails.get(stage.id)
    if known is None:
        known = fails[stage.id] = bool(evaluate_stage(type_id, stage, deal,
                                                      required=True).missing)
    return known


def failing_earlier_gates(policy: HandoffPolicy, deal: Deal, gate: GateResult,
                          fails: Fails) -> tuple[str, ...]:
    """Stages the deal has moved past whose gates still fail ("ahead of its gate")."""
    if not gate.required or gate.handoff_type is None:
        return ()
    failing: list[str] = []
    for stage in policy.handoff_types[gate.handoff_type].stages:
        if stage.id == gate.stage:
            break
        if gate_fails(gate.handoff_type, stage, deal, fails):
            failing.append(stage.id)
    return tuple(failing)


def shown_gate(policy: HandoffPolicy, deal: Deal, gate: GateResult,
               ahead: tuple[str, ...]) -> GateResult:
    """The current gate with the unmet requirements of the failing earlier stages first."""
    if not ahead or gate.handoff_type is None:
        return gate
    stages = policy.handoff_types[gate.handoff_type].stages
    current = next(s for s in stages if s.id == gate.stage)
    earlier = tuple((number, s) for number, s in enumerate(stages, start=1) if s.id in ahead)
    return evaluate_stage(gate.handoff_type, current, deal, required=gate.required,
                          earlier=earlier)


def template_values(deal: Deal, gate: GateResult, handoff_label: str, stage_label: str,
                    window: tuple[datetime, StageWindow] | None) -> dict[str, Value]:
    """Canonical values plus the computed placeholders (templates.COMPUTED_PLACEHOLDERS)."""
    values = deal.canonical()
    values.update(deal.custom)
    values["handoff_label"] = handoff_label
    values["stage_label"] = stage_label
    values["missing_fields"] = "\n".join(f"- {label}" for label in gate.missing_labels) or None
    values["completeness_pct"] = gate.completeness_pct
    values["stage_due_at"] = window[0] if window else None
    values["stage_window"] = WINDOW_WORDS[window[1]] if window else None
    return values


__all__ = ["Fails", "failing_earlier_gates", "gate_fails", "shown_gate", "template_values"]
