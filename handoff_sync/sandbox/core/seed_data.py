"""The shape of a generated org pair, handed from the seed generator to both emulations.

Kept apart from the generator so the Salesforce and HubSpot stores can load it without
knowing how it was made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class HubSpotSeedObject:
    id: str  # numeric string, unique per object type
    properties: dict[str, str | None]  # HubSpot property values are strings
    created_at: datetime
    updated_at: datetime


@dataclass
class SeedData:
    # Salesforce object name -> records with typed Python values (str, float, bool, date,
    # aware datetime, None), each with its 18-char "Id" and the system fields set.
    salesforce: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # HubSpot object type (deals, tasks, companies, contacts) -> objects.
    hubspot: dict[str, list[HubSpotSeedObject]] = field(default_factory=dict)
    # (from type, from id, to type, to id, association type id), one direction each;
    # the store adds the reverse direction itself.
    hubspot_associations: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    # Owner objects exactly as GET /crm/v3/owners/ returns them.
    hubspot_owners: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {f"salesforce.{name}": len(rows) for name, rows in self.salesforce.items()}
        counts.update({f"hubspot.{name}": len(rows) for name, rows in self.hubspot.items()})
        counts["hubspot.owners"] = len(self.hubspot_owners)
        counts["hubspot.associations"] = len(self.hubspot_associations)
        return counts
