"""Bounds a mappings folder can know without seeing any data: percentages are 0-100.

A value written in the files (a constant, a default, a value-map target, a condition's
operand) that a percentage field can never hold is a typo (150 for 15, -5 for 5), and the
engine would carry it into every deal: it is refused when the folder is validated. The
values the systems send are data, checked per record when they are read, not here.
"""

from __future__ import annotations

from decimal import Decimal

# Canonical fields and engine outputs that hold a percentage (0-100).
PERCENT_FIELDS = frozenset({"partner_split_pct"})
PERCENT_OUTPUTS = frozenset({"completeness"})


def percent_problem(value: object) -> str:
    """Why ``value`` cannot be a percentage, or "" when it can (blanks are not checked)."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return ""
    if 0 <= value <= 100:
        return ""
    return f"{value} is not a percentage: expected 0 to 100"
