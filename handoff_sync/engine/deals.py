"""A deal's canonical values as the ``Deal`` the gates, clocks and routing read."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from handoff_sync.model import CANONICAL_FIELDS, CUSTOM_PREFIX, Deal, Value


def deal_from(values: Mapping[str, Value], pipeline: str) -> Deal:
    """The merged values as a Deal (ids and other non-catalogue names left out).

    Built directly rather than through Deal.from_values: it runs once per deal per cycle,
    and the merged names are known to be canonical or custom."""
    known: dict[str, Value] = {}
    custom: dict[str, Value] = {}
    for name, value in values.items():
        if name in CANONICAL_FIELDS:
            known[name] = value
        elif name.startswith(CUSTOM_PREFIX):
            custom[name] = value
    known["pipeline"] = pipeline
    return Deal(**known, custom=MappingProxyType(custom))  # type: ignore[arg-type]
