"""`--json` output: one JSON document on stdout that any parser reads.

Values come from the user's own files too (a record pasted into `mappings explain` may
hold NaN, which Python's JSON reader accepts and no other does), so a value JSON cannot
hold is written as its text rather than breaking the document.
"""

from __future__ import annotations

import json
import math
from typing import Any

from handoff_sync.engine.serialise import to_jsonable


def print_json(data: Any) -> None:
    """``data`` as indented JSON with sorted keys, ASCII only (no raw control or bidi
    character from a record reaches the terminal), on stdout."""
    print(json.dumps(plain(data), indent=2, sort_keys=True, allow_nan=False))


def plain(value: Any) -> Any:
    """``value`` in plain JSON types: as ``engine.serialise.to_jsonable`` puts it, and
    anything it cannot (an odd type, a non-finite number) as text."""
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    try:
        value = to_jsonable(value)
    except TypeError:
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict | list):
        return plain(value)
    return value
