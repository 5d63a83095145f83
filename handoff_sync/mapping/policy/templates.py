"""Task and brief templates: text with {placeholders}, checked at load, filled per deal.

A placeholder names a canonical field (``{deal_name}``, ``{custom.region}``) or one of
the computed values in ``COMPUTED_PLACEHOLDERS``. ``{{`` and ``}}`` write literal braces.
Filling is plain substitution: no format specs, no attribute access, no code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from handoff_sync.mapping.policy.file_model import Brief
from handoff_sync.model import Value

COMPUTED_PLACEHOLDERS: Mapping[str, str] = {
    "handoff_label": "the handoff type's label",
    "stage_label": "the current stage's label",
    "missing_fields": "the gate requirements not met yet, one per line",
    "completeness_pct": "the gate's completeness score, 0-100",
    "sla_label": "the SLA clock's label (SLA tasks)",
    "sla_due_at": "when the SLA clock is due (SLA tasks)",
    "stage_due_at": "when the current stage's day window ends",
    "stage_window": "the current stage against its day window: on track, at risk, overdue",
}

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
BLANK = "(not captured)"


def placeholders(template: str) -> tuple[list[str], list[str]]:
    """(placeholder names, syntax problems) of a template, in order of appearance."""
    names: list[str] = []
    errors: list[str] = []
    for match in _TOKEN.finditer(template):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if token in ("{", "}"):
            errors.append(f"unmatched '{token}' at character {match.start() + 1}; write "
                          f"'{token}{token}' for a literal brace")
            continue
        name = match.group(1).strip()
        if not name:
            errors.append(f"empty placeholder '{{}}' at character {match.start() + 1}")
        else:
            names.append(name)
    return names, errors


_NUMBERS: dict[Decimal, str] = {}  # format_value's Decimals, by value
_NUMBERS_LIMIT = 4_096


def format_value(value: Value) -> str:
    """A canonical value as people read it."""
    if value is None:
        return BLANK
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        # Remembered: a deal's amounts are formatted for its brief and each task, and
        # Decimal arithmetic made this a fortieth of planning. Equal numbers read alike.
        try:
            return _NUMBERS[value]
        except (KeyError, TypeError):  # TypeError: a signalling NaN cannot be hashed
            pass
        text = f"{int(value):,}" if value == value.to_integral_value() else f"{value:,.2f}"
        if value.is_finite():
            if len(_NUMBERS) >= _NUMBERS_LIMIT:
                _NUMBERS.clear()
            _NUMBERS[value] = text
        return text
    if isinstance(value, datetime):
        if value.year >= 1000:  # isoformat pads years strftime leaves short; twice as fast
            return value.isoformat(" ", "minutes")[:16] + " UTC"
        return value.strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ", ".join(value) if value else BLANK
    return str(value)


def render(template: str, values: Mapping[str, Value]) -> str:
    """The template with each placeholder replaced; unknown names render as blank."""
    return "".join(part if name is None else format_value(values.get(name))
                   for part, name in _parts(template))


@lru_cache(maxsize=1024)
def _parts(template: str) -> tuple[tuple[str, str | None], ...]:
    """The template split once into (literal text, None) and ("", placeholder name):
    a cycle renders the same few templates for every deal."""
    parts: list[tuple[str, str | None]] = []
    at = 0
    for match in _TOKEN.finditer(template):
        parts.append((template[at:match.start()], None))
        token = match.group(0)
        if token in ("{{", "}}"):
            parts.append((token[0], None))
        elif match.group(1) is None:
            parts.append((token, None))  # an unmatched brace, as written
        else:
            parts.append(("", match.group(1).strip()))
        at = match.end()
    parts.append((template[at:], None))
    return tuple(part for part in parts if part != ("", None))


def render_brief(brief: Brief, values: Mapping[str, Value],
                 notes: Sequence[str] = ()) -> str:
    """The handoff brief as plain text: title, then each section (or its if_blank text),
    then ``notes`` (what the reader should know about the figures), one per line."""
    lines = [render(brief.title, values), ""]
    for section in brief.sections:
        names = [name for _, name in _parts(section.text) if name is not None]
        filled = any(values.get(name) is not None for name in names) or not names
        lines.append(section.heading)
        lines.append(render(section.text, values) if filled else section.if_blank)
        lines.append("")
    lines.extend(notes)
    return "\n".join(lines).rstrip() + "\n"
