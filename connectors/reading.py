"""Reading raw values the way exports and APIs write them, and naming the nearest choice.

Vendor-neutral and pure: the file-drop connector reads its control columns with these,
and the product (the engine and mapping's blank test, the transforms, file:line problems)
uses the same functions, so a blank, a yes/no, an instant or a did-you-mean hint reads
the same wherever it comes from. It lives in connectors/ because connectors import
nothing of handoff_sync, while handoff_sync may import connectors.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

TRUE_WORDS = frozenset({"true", "yes", "1", "y", "on"})
FALSE_WORDS = frozenset({"false", "no", "0", "n", "off"})
_EPOCH_MS = re.compile(r"-?[0-9]{9,15}")


class Unreadable(ValueError):
    """A value that is not what was expected. ``str()`` says what it is not ("not true or
    false"); when ``about_value`` is False it says what was expected instead, and a caller
    that names the value ("'x' is not ...") must not put the value in front of it."""

    def __init__(self, reason: str, *, about_value: bool = True) -> None:
        super().__init__(reason)
        self.about_value = about_value


def is_blank(value: object) -> bool:
    """The one blank test: None, empty or whitespace text, or an empty list."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (tuple, list, set, frozenset)):
        return not value
    return False


def read_flag(raw: Any) -> bool:
    """Yes or no from true/false, yes/no, y/n, on/off, 1/0 (any case), or a JSON boolean."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
    raise Unreadable("not true or false")


def read_instant(raw: Any) -> datetime:
    """An instant in UTC from ISO 8601 text (no offset: UTC, as both CRM APIs and the
    exports mean it), epoch milliseconds, or a date or datetime already parsed."""
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, date):
        moment = datetime(raw.year, raw.month, raw.day)
    elif isinstance(raw, (int, str)) and not isinstance(raw, bool):
        text = str(raw).strip()
        if _EPOCH_MS.fullmatch(text):
            try:
                return datetime.fromtimestamp(int(text) / 1000, UTC)
            except (ValueError, OverflowError, OSError):  # beyond year 1 to 9999
                raise Unreadable("not a date and time between the years 1 and 9999") from None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise Unreadable("not a date and time") from None
    else:
        raise Unreadable(f"expected a date and time, got {type(raw).__name__}",
                         about_value=False)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is in the year 10000 in UTC
        raise Unreadable("not a date and time between the years 1 and 9999 in UTC") from None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest choice, or "" when nothing is close enough to suggest."""
    options = sorted(set(choices))
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return f"did you mean '{lowered[word.lower()]}'? Names are case-sensitive"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        close = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered),
                                                                n=1, cutoff=0.6)]
    return f"did you mean '{close[0]}'?" if close else ""
