"""A length of time in handoff.yaml: SLA durations, task due offsets, training due dates.

Its own module because both the handoff types (file_model) and the measures section
(measures: the readiness training task) name one, and file_model imports measures.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from handoff_sync.mapping.system.file_model import FileModel


class Duration(FileModel):
    """A length of time: exactly one of hours, business_hours, days, business_days."""

    hours: float | None = Field(default=None, gt=0)
    """Clock hours."""
    business_hours: float | None = Field(default=None, gt=0)
    """Working hours of the handoff type's calendar."""
    days: float | None = Field(default=None, gt=0)
    """Calendar days."""
    business_days: float | None = Field(default=None, gt=0)
    """Working days of the handoff type's calendar."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Duration:
        given = [k for k in ("hours", "business_hours", "days", "business_days")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of hours, business_hours, days, business_days"
                             + (f" (found: {', '.join(given)})" if given else ""))
        return self

    # Plain attribute tests rather than a scan: SLA arithmetic asks these of every running
    # clock of every deal each cycle. (Not cached_property: model_copy would copy a stale
    # cache along with an updated amount.)
    @property
    def unit(self) -> str:
        if self.hours is not None:
            return "hours"
        if self.business_hours is not None:
            return "business_hours"
        return "days" if self.days is not None else "business_days"

    @property
    def amount(self) -> float:
        value: float = getattr(self, self.unit)
        return value

    @property
    def uses_calendar(self) -> bool:
        return self.hours is None and self.days is None
