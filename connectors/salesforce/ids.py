"""Salesforce record ids: what a well-formed one looks like, checked before any query.

An id is 15 case-sensitive base-62 characters, the first three the object's key prefix
(006 Opportunity, 005 User, as describe's ``keyPrefix`` reports it), optionally followed
by a 3-character checksum of the letter case, so that the 18-character form survives
case-insensitive tools. A person types ids by hand (`handoff-sync review link`): a typo,
a pasted quote or a record of another object must be refused here, with the reason,
before it is stored anywhere or reaches a SOQL string.
"""

from __future__ import annotations

from connectors.quoting import quoted

_BASE62 = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def case_suffix(id15: str) -> str:
    """The 3 checksum characters of a 15-character id: one per 5-character chunk, a bit
    per upper-case letter."""
    out = []
    for start in (0, 5, 10):
        bits = sum(1 << i for i, ch in enumerate(id15[start:start + 5]) if "A" <= ch <= "Z")
        out.append(_SUFFIX[bits])
    return "".join(out)


def full_id(value: str) -> str:
    """The 18-character form of a 15-character id (anything else unchanged): the form
    the API answers with, so an id typed short finds its record everywhere."""
    if len(value) == 15 and all(ch in _BASE62 for ch in value):
        return value + case_suffix(value)
    return value


def id_problem(value: str, key_prefix: str | None = None, *,
               object_name: str = "record") -> str | None:
    """Why ``value`` is not a well-formed id of the object with ``key_prefix``; None
    when it is (whether the record exists is the server's answer, not this one's)."""
    shown = quoted(value)
    if len(value) not in (15, 18):
        return (f"{shown} is not a Salesforce id: ids are 15 or 18 characters, "
                f"this has {len(value)}")
    bad = sorted({ch for ch in value if ch not in _BASE62})
    if bad:
        return (f"{shown} is not a Salesforce id: ids hold only letters and digits, "
                f"this holds {' '.join(repr(ch) for ch in bad)}")
    if len(value) == 18 and case_suffix(value[:15]) != value[15:]:
        return (f"{shown} is not a Salesforce id: its last 3 characters are not the "
                f"checksum of the first 15 (expected {case_suffix(value[:15])}); "
                "was a letter's case changed?")
    if key_prefix and value[:3] != key_prefix:
        return (f"{shown} is not an id of {object_name}: {object_name} ids start with "
                f"{key_prefix}, this one with {value[:3]}")
    return None


__all__ = ["case_suffix", "full_id", "id_problem"]
