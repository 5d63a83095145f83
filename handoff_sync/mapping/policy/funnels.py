"""``measures.funnels`` of mappings/handoff.yaml: the chains of steps a deal goes through.

A funnel is a chain of steps (registration -> approved -> opportunity created -> ...).
Each step is reached when a declared condition holds on the deal's canonical values, and
a deal that reached a later step counts at every earlier one (a won deal whose intro call
was never recorded still passed the intro). ``lost_when`` says when a deal has died: it
is lost at the furthest step it reached. The report's "Leakage funnel" section computes
the figures (report/funnel.py); policy/funnel_checks.py checks the fields the steps name.
"""

from __future__ import annotations

from pydantic import Field

from handoff_sync.mapping.policy.condition import Condition
from handoff_sync.mapping.system.file_model import FileModel


class FunnelStep(FileModel):
    """One step of a funnel."""

    id: str
    """Short id, unique within the funnel (lower-case letters, digits, underscores)."""
    label: str
    """The step's name, for people."""
    reached_when: Condition
    """The deal has reached this step when this holds (or when it reached a later one)."""
    at: str | None = None
    """A date or datetime field holding when the deal reached the step, for the time
    between steps (and, on the first step, the weekly cohorts); read only from deals for
    which ``reached_when`` itself holds (a deal counted here because it reached a later
    step may have moved the field on, e.g. stage_entered_at)."""


class Funnel(FileModel):
    """A chain of steps whose conversion, timing and losses the report measures."""

    id: str
    """Short id, unique among the funnels."""
    label: str
    """The funnel's name, for people."""
    applies_when: Condition | None = None
    """Which deals enter the funnel (none: every deal), e.g. registered ones."""
    lost_when: Condition | None = None
    """The deal has died (closed lost, registration rejected...): it is lost at the
    furthest step it reached. Deals that are not lost and have not reached the last step
    are in flight, never lost. None: no deal is counted as lost."""
    steps: list[FunnelStep] = Field(default_factory=list)
    """The chain, in order; at least two steps."""
