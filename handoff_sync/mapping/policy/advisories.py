"""What validates in handoff.yaml but deserves a second look: warnings, not problems.

A stage with no gate is one. It is allowed on purpose: a stage can be a time window with
an owner and nothing to check (a measurement stage, a grace period), and the report's
maturity meter grades a policy whose stages are partly gated (level 2) rather than
refusing it. Making it an error would stop a daemon that runs such a policy today. So
`mappings validate` prints it as a warning (exit 0), and the console shows the same
words at the stage's gate and asks for an explicit "save anyway" before a change that
ungates a stage is written.
"""

from __future__ import annotations

from handoff_sync.mapping.policy.file_model import HandoffPolicy
from handoff_sync.problems.report import Problem
from handoff_sync.problems.yaml_source import YamlDocument

UNGATED_HINT = ("add a gate requirement, or leave it so on purpose: the report's maturity "
                "meter counts ungated stages")


def ungated(stage_id: str, label: str) -> str:
    """The words for a stage with no gate, wherever they are shown."""
    return f"stage '{stage_id}' ({label}) has no gate: deals pass it at once"


def policy_warnings(document: YamlDocument, policy: HandoffPolicy) -> list[Problem]:
    """The warnings of a handoff.yaml that validated, each at its key path."""
    return [document.problem(("handoff_types", type_id, "stages", index, "gate"),
                             ungated(stage.id, stage.label), UNGATED_HINT)
            for type_id, handoff in policy.handoff_types.items()
            for index, stage in enumerate(handoff.stages) if not stage.gate]
