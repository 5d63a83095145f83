"""The ``measures:`` section of mappings/handoff.yaml: what the report holds figures to.

Targets are the practitioners' numbers (docs/domain.md, "What operators measure") unless
the admin sets their own; ``min_sample`` keeps a partner with one handoff from ranking
first on a score of 100.
"""

from __future__ import annotations

from pydantic import Field

from handoff_sync.mapping.policy.funnels import Funnel
from handoff_sync.mapping.system.file_model import FileModel


class Targets(FileModel):
    """The targets the report marks each figure against."""

    completeness_pct: float = Field(default=90, ge=0, le=100)
    """Mean completeness of the deals needing a handoff, at least."""
    within_sla_pct: float = Field(default=90, ge=0, le=100)
    """Finished SLA clocks met in time, at least."""
    preservation_pct: float = Field(default=85, ge=0, le=100)
    """Partner deals closed won / partner deals closed, at least."""
    cycle_impact_pct: float = Field(default=10, ge=0, le=1000)
    """How much longer partner deals may take to close than direct ones, at most."""


class Measures(FileModel):
    """How handoffs are measured: targets, the smallest sample worth ranking, funnels."""

    targets: Targets = Field(default_factory=Targets)
    """Targets the report marks figures against."""
    min_sample: int = Field(default=5, ge=1, le=10_000)
    """A group (partner, region, ...) with fewer finished cases is shown with its n but
    neither ranked nor marked against a target."""
    funnels: list[Funnel] = Field(default_factory=list)
    """Leakage funnels: chains of steps whose counts, conversion, time between steps and
    dollars lost the report shows (none: no funnel section)."""
