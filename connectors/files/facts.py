"""What handoff-sync knows about a file drop without reading one: it is read, never
written; its columns carry no types; a row is already flat. Pure data, read by
``connectors.registry``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SYSTEM = "files"  # the registry's name for it, and the connector's
PAGE_SIZE = 2000  # changes per page while a file is read (the settings' default)
READ_ONLY = "a file drop is read-only: handoff-sync cannot write back to files"
UNTYPED = "a drop folder's columns are whatever each export holds"


def flatten(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A row is already flat, and every key in it is a column (even one named
    "attributes")."""
    return dict(raw)
