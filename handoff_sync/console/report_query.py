"""The reports page's query string: pipeline, period start and end, grouping and filters, read
and checked field by field, so a bad value gets its message at its field (and a shared
link keeps every choice in its URL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import urlencode

from handoff_sync.report import DIMENSIONS, FILTERS, Selection
from handoff_sync.report.basis import DIMENSION_LABELS
from handoff_sync.report.period import last_day, parse_end

FIELDS = ("pipeline", "since", "until", "by", *FILTERS)
DATE_EXAMPLE = "use a date as YYYY-MM-DD, e.g. 2026-11-01 (or leave it empty for everything)"
END_EXAMPLE = ("use a date as YYYY-MM-DD, e.g. 2026-12-31, the last day of the period (or "
               "leave it empty for up to now)")


@dataclass(frozen=True)
class ReportQuery:
    pipeline: str
    since: datetime | None
    until: datetime | None  # the first instant after the period (report/period.py)
    by: str
    selection: Selection
    text: dict[str, str]  # each field as asked (shown back in the form)
    errors: dict[str, str] = field(default_factory=dict)  # field -> what is wrong

    def query_string(self) -> str:
        """The fields that say something, as a URL query (for links to the same report)."""
        return urlencode([(name, value) for name, value in self.text.items() if value])

    def with_errors(self, errors: Mapping[str, str]) -> ReportQuery:
        return replace(self, errors={**self.errors, **errors})


def parse_query(params: Mapping[str, str], pipelines: Sequence[str], default: str, *,
                now: datetime) -> ReportQuery:
    """The query of ``params``; every field that cannot be used has a message in
    ``errors`` naming the field and what to do."""
    text = {name: params.get(name, "").strip() for name in FIELDS}
    errors: dict[str, str] = {}
    pipeline = text["pipeline"] or default
    if pipeline not in pipelines:
        errors["pipeline"] = (f"No pipeline {pipeline!r} in the config: pick one of "
                              f"{', '.join(pipelines)}.")
    since = None
    if text["since"]:
        try:
            since = since_of(text["since"])
        except ValueError:
            errors["since"] = f"{text['since']!r} is not a date: {DATE_EXAMPLE}."
        else:
            if since > now:
                errors["since"] = (f"{since.date().isoformat()} is in the future: pick a day "
                                   f"up to {now.date().isoformat()}.")
    until = None
    if text["until"]:
        try:
            until = parse_end(text["until"])
        except ValueError:
            errors["until"] = f"{text['until']!r} is not a date: {END_EXAMPLE}."
        else:
            if since is not None and until <= since:
                errors["until"] = (f"The period ends on {last_day(until).isoformat()}, "
                                   f"before it starts on {since.date().isoformat()}: pick "
                                   "an end on or after the start.")
    by = text["by"] or "partner"
    if by not in DIMENSIONS:
        errors["by"] = (f"Cannot group by {by!r}: pick one of "
                        f"{', '.join(DIMENSION_LABELS[d] for d in DIMENSIONS)}.")
    selection = Selection.of({name: [text[name]] for name in FILTERS})
    return ReportQuery(pipeline, since, until, by, selection, text, errors)


def since_of(text: str) -> datetime:
    """An ISO date (midnight UTC) or instant (UTC when it has no offset), as `report
    --since` reads it; ValueError otherwise."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def unknown_values(unknown: Mapping[str, Sequence[str]], pipeline: str) -> dict[str, str]:
    """Messages for filter values no deal of ``pipeline`` has (report.selection.unknown)."""
    return {name: (f"No deal of the {pipeline!r} pipeline has the {DIMENSION_LABELS[name]} "
                   f"{', '.join(repr(v) for v in values)}: pick one from the list, or "
                   "'all'.") for name, values in unknown.items()}
