"""A deal's canonical values as the ``Deal`` the gates, clocks and routing read."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from handoff_sync.model import CANONICAL_FIELDS, CUSTOM_PREFIX, Deal, Value, read_deal


def deal_from(values: Mapping[str, Value], pipeline: str) -> Deal:
    """The merged values as a Deal (ids and other non-catalogue names left out).

    Built directly rather than through Deal.from_values: it runs once per deal per cycle,
    and the merged names are known to be canonical or custom."""
    # Names outside the catalogue are few (custom fields): found by a set difference.
    others = values.keys() - CANONICAL_FIELDS.keys()
    custom = {name: value for name, value in values.items()
              if name in others and name.startswith(CUSTOM_PREFIX)} if others else {}
    return read_deal(values, pipeline, MappingProxyType(custom))
