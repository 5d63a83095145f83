"""--now: an instant on the command line (`plan` from files, `mappings explain`)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime


def instant(text: str) -> datetime:
    """An ISO-8601 instant with a time zone, for --now."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 instant: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone; add Z or +hh:mm")
    return value.astimezone(UTC)
