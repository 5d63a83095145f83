"""A validated mappings folder as one value: the two system maps, the handoff policy and how
each canonical field moves between the systems. Pure data: the loader builds it from the
files, the engine and the sync cycle read it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from handoff_sync.mapping.policy.file_model import HandoffPolicy
from handoff_sync.mapping.system.conflicts import FieldSync
from handoff_sync.mapping.system.convert import SystemMapping
from handoff_sync.model import Role, SystemName
from handoff_sync.problems.report import Problem


@dataclass(frozen=True)
class MappingSet:
    """A validated mappings folder: what the engine and the connectors read."""

    folder: Path
    prm: SystemMapping
    crm: SystemMapping
    policy: HandoffPolicy
    sync: Mapping[str, FieldSync]  # canonical field -> how it moves between the systems
    warnings: tuple[Problem, ...] = ()  # valid but worth a look (policy/advisories.py)

    def side(self, role: Role) -> SystemMapping:
        return self.prm if role is Role.PRM else self.crm

    def for_system(self, system: SystemName) -> SystemMapping | None:
        return next((m for m in (self.prm, self.crm) if m.system is system), None)

    def counts(self) -> dict[str, int]:
        stages = [s for t in self.policy.handoff_types.values() for s in t.stages]
        return {
            "fields": len(self.sync),
            "outputs": len(self.prm.outputs) + len(self.crm.outputs),
            "handoff types": len(self.policy.handoff_types),
            "stages": len(stages),
            "gate requirements": sum(len(s.gate) for s in stages),
            "task templates": sum(len(t.tasks) for t in self.policy.handoff_types.values()),
            "SLA clocks": sum(len(t.slas) for t in self.policy.handoff_types.values()),
        }
