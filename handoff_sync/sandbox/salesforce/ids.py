"""Salesforce record ids: 15 case-sensitive characters plus a 3-character case checksum."""

from __future__ import annotations

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
POD = "5g0"  # instance/pod characters 4-6 of every id in this org


def case_suffix(id15: str) -> str:
    """The 3 characters Salesforce appends so ids survive case-insensitive systems."""
    out = []
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        out.append(_SUFFIX[bits])
    return "".join(out)


def salesforce_id(key_prefix: str, number: int) -> str:
    """The 18-character id of the ``number``-th record with this key prefix."""
    if number < 0:
        raise ValueError("record number must be >= 0")
    digits = []
    for _ in range(9):
        number, rest = divmod(number, 62)
        digits.append(_BASE62[rest])
    if number:
        raise ValueError("record number out of range for a 15-character id")
    id15 = key_prefix + POD + "".join(reversed(digits))
    return id15 + case_suffix(id15)


def is_valid_id(value: str) -> bool:
    """True for a well-formed 15- or 18-character id (checksum checked for 18)."""
    if len(value) not in (15, 18) or not all(ch in _BASE62 for ch in value):
        return False
    return len(value) == 15 or case_suffix(value[:15]) == value[15:]
