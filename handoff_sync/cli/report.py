"""`handoff-sync report`: the handoff scorecards from the store (thin: parse, call, print)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DEFAULT_HTML = Path("handoff-report.html")
SINCE_FORMAT = "an ISO date or instant, e.g. 2026-11-01 or 2026-11-01T09:00:00+00:00"
UNTIL_FORMAT = "an ISO date (that day included) or instant, e.g. 2026-12-31"


def since_value(text: str) -> datetime:
    """--since: an ISO date (midnight UTC) or an ISO instant (UTC when it has no offset)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {SINCE_FORMAT}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def until_value(text: str) -> datetime:
    """--until: an ISO date (the day is in the period: it ends at the next midnight UTC)
    or an ISO instant (the period ends there)."""
    from handoff_sync.report.period import parse_end

    try:
        return parse_end(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {UNTIL_FORMAT}") from None


def add_report_command(commands: Any) -> None:
    from handoff_sync.cli.completion import FILE, complete
    from handoff_sync.cli.sync import config_argument
    from handoff_sync.report import DIMENSIONS, FORMATS

    # The sections in the report's order (report.figures.SECTIONS, SECTION_TITLES).
    report = commands.add_parser(
        "report", help="the handoff report: governance maturity, volume, key figures by "
        "group, completeness, SLA, acceptance, preservation, handoff quality, leakage "
        "funnel, review queue, partner scorecard and partner readiness",
        description="Report from the store, in this order. Governance maturity: level "
        "1-3 per dimension, with what the next level takes. Handoff volume. Key figures "
        "by group (--by): volume, completeness, within SLA, preservation, rejection rate. "
        "Handoff completeness: its distribution and the most-missing fields. SLA "
        "compliance and first touch: finished clocks (running ones apart), time to first "
        "touch. Handoff acceptance and rejections: rejection rate by partner. Deal "
        "preservation and cycle length, against direct deals. Handoff quality: asks for "
        "missing context, recycled deals, time to kickoff, attribution accuracy, the "
        "on-time bonus. Leakage funnel: deals reaching each step, conversion, time "
        "between steps, dollars lost where deals died, by group and weekly cohort. "
        "Review queue and conflicts. Partner scorecard: handoff outcome score. Partner "
        "readiness: each partner's score, its breakdown per dimension and the open "
        "training tasks. Every figure is printed with its definition, its n and its "
        "target from handoff.yaml measures; groups under measures.min_sample are not "
        "ranked or judged.")
    config_argument(report)
    report.add_argument("--pipeline", metavar="NAME",
                        help="the pipeline (default: the first enabled one)")
    report.add_argument("--since", type=since_value, metavar="ISO-DATE",
                        help=f"start of the period: {SINCE_FORMAT} (default: everything)")
    report.add_argument("--until", type=until_value, metavar="ISO-DATE",
                        help=f"end of the period: {UNTIL_FORMAT}; the figures are as they "
                        "stood then: what came later is left out and running clocks are "
                        "aged to the end (default: now)")
    report.add_argument("--by", choices=DIMENSIONS, default="partner",
                        help="group the volume and the key figures (completeness, within "
                        "SLA, preservation, rejection rate) by this; owner is the AE "
                        "(default: partner)")
    report.add_argument("--format", choices=FORMATS, default="table", dest="fmt",
                        help="table (default), csv, json or html")
    complete(report.add_argument("--out", type=Path, metavar="PATH",
                                 help=f"write to this file (html: default {DEFAULT_HTML}; "
                                 "others: stdout)"), FILE)
    report.set_defaults(func=run_report)


def run_report(args: argparse.Namespace) -> int:
    from handoff_sync.cli.sync import opened
    from handoff_sync.report import build_report, print_report, render

    now = datetime.now(UTC)
    if args.since is not None and args.since > now:
        print(f"handoff-sync report: --since {args.since.isoformat()} is in the future",
              file=sys.stderr)
        return 1
    if args.since is not None and args.until is not None and args.until <= args.since:
        print("handoff-sync report: --until ends the period before --since starts it: "
              "pick an end day on or after the start day", file=sys.stderr)
        return 1
    out = args.out if args.out is not None or args.fmt != "html" else DEFAULT_HTML
    with opened(args.config) as (config, store):
        report = build_report(store, config, now=now, since=args.since, until=args.until,
                              by=args.by, pipeline=args.pipeline)
    if out is None:
        print_report(report, args.fmt)
        return 0
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render(report, args.fmt), encoding="utf-8")
    except OSError as exc:
        print(f"handoff-sync report: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"wrote {out} ({args.fmt})")
    return 0
