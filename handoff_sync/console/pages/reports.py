"""/reports: the scorecards and charts of `handoff-sync report`, live from the store,
narrowed by partner, segment, region and handoff type, to a period (start, end), grouped
by any dimension.

The filters are a GET form: its URL is the report (shareable, works without script);
with htmx, a change swaps the view in place and pushes the URL. The sections are
``report.render_html``'s own, under a scoped copy of the report's CSS, so the page and the
HTML file show the same figures the same way. CSV and JSON links give the same report.

The report is computed in background jobs (console/jobs.py), never inside the request:
first the pipeline's rows (one "rows" job per store version, shared by every query of the
pipeline: about 15 s at 100,000 deals), then the query's figures (one job per query,
version and minute). The page waits ``WAIT`` seconds for both, so a small store's report
shows at once; past that it shows the query's last report, labelled with its age, or that it is
being computed, and htmx asks again every two seconds (a Refresh link and a meta refresh
to the page's own address without script) until the fresh report is there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from handoff_sync.console.context import ConsoleContext
from handoff_sync.console.jobs import Done, Failed, Pending
from handoff_sync.console.offload import run
from handoff_sync.console.pages import Page
from handoff_sync.console.report_cache import ReportCache, Rows
from handoff_sync.console.report_query import ReportQuery, parse_query, unknown_values
from handoff_sync.console.templating import render
from handoff_sync.errors import UserError
from handoff_sync.report import SECTIONS, Report
from handoff_sync.report import render as render_report
from handoff_sync.report.basis import DIMENSION_LABELS, DIMENSIONS
from handoff_sync.report.figures import SECTION_TITLES
from handoff_sync.report.html_kit import scoped_css
from handoff_sync.report.render_html import notes_html, section_html
from handoff_sync.report.selection import FILTER_LABELS, FILTERS, unknown
from handoff_sync.report.text import subtitle

SCOPE = ".report"
DOWNLOADS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
WAIT = 0.25  # seconds a page view waits for its jobs: small stores never see "computing"
WAIT_WITH_OLDER = 0.1  # ... when it has the query's older figures to show meanwhile
POLL_SECONDS = 2  # htmx asks again this often while a job runs (the meta refresh: 5)
DOWNLOAD_WAIT = 45.0  # a download waits this long for fresh figures: under a proxy's 60 s
DOWNLOAD_RETRY = 15  # then 429 with this Retry-After


@dataclass(frozen=True)
class Built:
    """A report job's result: the report, the rows version it is of, and when it was
    computed (the console's clock)."""

    report: Report
    version: tuple[Any, ...]
    computed_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What a view of the page knows: the query, the rows for the form's choices, and
    the fresh report, or the job computing it (with the query's last report, if any),
    or what stopped it (one line)."""

    query: ReportQuery
    rows: Rows | None = None
    built: Built | None = None
    pending: Pending[Any] | None = None
    previous: Built | None = None
    stale: bool = False  # ``previous`` is of an older store version, not just a minute
    problem: str = ""


def routes(context: ConsoleContext) -> list[BaseRoute]:
    cache = ReportCache(context.store)
    stylesheet = scoped_css(SCOPE)
    jobs = context.jobs

    def outcome(request: Request, wait: float, polled: str) -> Outcome:
        """The page's state for ``request``; ``polled``: the job a poll follows (its
        failure is shown, not run again)."""
        deadline = time.monotonic() + wait  # for the rows and the report together
        names = [p.name for p in context.pipelines]
        enabled = [p.name for p in context.pipelines if p.enabled] or names
        query = parse_query(request.query_params, names, enabled[0] if enabled else "",
                            now=context.clock())
        if "pipeline" in query.errors:
            return Outcome(query)
        if isinstance(failed := jobs.status(polled) if polled else None, Failed):
            return Outcome(query, cache.kept(query.pipeline), problem=failed.message)
        folder = context.mappings_folder(query.pipeline)
        # Everything a report of this query shows but the store version and the minute
        # (the query string holds every field as asked).
        family: Hashable = ("report", query.pipeline, query.by, query.query_string())
        previous = jobs.latest(family)
        if previous is not None:  # older figures to show: wait less for fresh ones
            deadline = min(deadline, time.monotonic() + WAIT_WITH_OLDER)
        try:
            version = cache.version(query.pipeline, folder)
        except UserError as exc:
            return Outcome(query, cache.kept(query.pipeline), problem=str(exc))
        pipeline = query.pipeline
        rows = cache.kept(pipeline, version)
        # One rows job per pipeline and version, whichever query asked first: report
        # jobs start once it is done, so none holds a job thread waiting for it.
        key: Hashable = ("rows", pipeline, version)
        for _ in range(2):
            if rows is not None:
                break
            status = jobs.get(("rows", pipeline), key,
                              lambda: cache.read(pipeline, folder, version).version,
                              wait=max(0.0, deadline - time.monotonic()))
            if isinstance(status, Failed):
                return Outcome(query, cache.kept(pipeline), problem=status.message)
            if isinstance(status, Pending):
                return _waiting(query, cache.kept(pipeline), status, previous, version)
            rows = cache.kept(pipeline, version)
            # Read, then dropped by reads of other versions that finished after it (out
            # of order): the last rows kept may be older, and would be shown as fresh.
            # Read this version again, once per dropped read.
            key = ("rows", pipeline, version, status.id)
        if rows is None:  # read again and dropped again: the store changes fast
            return Outcome(query, cache.kept(pipeline), problem="The store changed while "
                           "the report was read: reload the page.")
        query = query.with_errors(unknown_values(
            unknown(rows.data, query.selection, rows.options), query.pipeline))
        if query.errors:
            return Outcome(query, rows)
        now = context.clock().replace(second=0, microsecond=0)
        ready = rows

        def build() -> Built:
            report = cache.report(ready, now=now, since=query.since, by=query.by,
                                  selection=query.selection, until=query.until)
            return Built(report, ready.version, context.clock())

        built = jobs.get(family, (family, rows.version, now), build,
                         wait=max(0.0, deadline - time.monotonic()))
        if isinstance(built, Failed):
            return Outcome(query, rows, problem=built.message)
        if isinstance(built, Pending):
            return _waiting(query, rows, built, previous, rows.version)
        return Outcome(query, rows, built=built.value)

    def page(request: Request, found: Outcome) -> Response:
        # htmx asks for the view alone; a history restore (back button) for the page.
        fragment = (request.headers.get("HX-Request") == "true"
                    and request.headers.get("HX-History-Restore-Request") != "true")
        values = _view(context, found)
        return render(request, "reports_view.html" if fragment else "reports.html",
                      status_code=400 if found.query.errors else 200,
                      headers={"Vary": "HX-Request"}, **values)

    def view(request: Request) -> Response:
        # Only htmx's poll follows its job (to show its failure once): a reload of the
        # address bar asks again, so a failure is retried once the cause is fixed.
        polled = (request.query_params.get("job", "")
                  if request.headers.get("HX-Request") == "true" else "")
        return page(request, outcome(request, WAIT, polled))

    async def reports(request: Request) -> Response:
        # In a console worker thread, waiting at most WAIT for the jobs doing the work.
        return await run(view, request)

    async def download(request: Request) -> Response:
        """The fresh report as a file. A download is a file the user keeps, so never the
        older figures the page may show meanwhile: it waits for the fresh ones (polling
        from the event loop, holding no thread), then answers 429 with Retry-After."""
        fmt = request.path_params["fmt"]
        if fmt not in DOWNLOADS:
            raise HTTPException(404, f"No report as {fmt!r}: CSV or JSON.")
        deadline, polled = time.monotonic() + DOWNLOAD_WAIT, ""
        while True:
            found = await run(outcome, request, WAIT, polled)
            if found.pending is None or time.monotonic() >= deadline:
                break
            polled = found.pending.id
            await asyncio.sleep(0.5)
        if found.pending is not None:
            started = jobs.age(found.pending.started_at)
            return PlainTextResponse(
                f"The report is still being computed (started {started:.0f} s ago; the "
                "first report after a cycle takes longer on a large store): try again in "
                f"{DOWNLOAD_RETRY} s.\n", status_code=429,
                headers={"Retry-After": str(DOWNLOAD_RETRY)})
        if found.built is None:
            lines = [f"{name}: {message}" for name, message in found.query.errors.items()]
            return PlainTextResponse("\n".join(lines or [found.problem]) + "\n",
                                     status_code=400)
        report = found.built.report
        name = f"handoff-report-{report.pipeline}.{fmt}"
        body = await run(render_report, report, fmt)
        return Response(body, media_type=DOWNLOADS[fmt], headers={
            "Content-Disposition": f'attachment; filename="{name}"'})

    async def css(request: Request) -> Response:
        return Response(stylesheet, media_type="text/css",
                        headers={"Cache-Control": "private, max-age=3600"})

    return [Route("/reports", reports), Route("/reports/report.css", css),
            Route("/reports/report.{fmt:str}", download)]


def _waiting(query: ReportQuery, rows: Rows | None, pending: Pending[Any],
             previous: Done[Any] | None, version: tuple[Any, ...]) -> Outcome:
    """A job still running: the query's last report, if there is one, meanwhile."""
    last = previous.value if previous is not None else None
    return Outcome(query, rows, pending=pending, previous=last,
                   stale=last is not None and last.version != version)


def _view(context: ConsoleContext, found: Outcome) -> dict[str, Any]:
    """What the templates show: the form's fields and choices, and the report (fresh,
    or the last one while the fresh one is computed)."""
    query, rows = found.query, found.rows
    choices = rows.options if rows is not None else {name: () for name in FILTERS}
    types = ({t.id: t.label for t in rows.data.policy.governance.types}
             if rows is not None else {})
    shown = found.built or found.previous
    report = shown.report if shown is not None else None
    body = None
    if report is not None:
        # html_kit escapes every CRM-supplied string the sections carry: this is markup
        # the report built, not data (test_reports_page checks a hostile name).
        body = Markup("".join(section_html(report, s) for s in SECTIONS)
                      + notes_html(report))
    pending = None
    if found.pending is not None:
        fields = [(name, value) for name, value in query.text.items() if value]
        pending = {
            "poll": "/reports?" + urlencode([*fields, ("job", found.pending.id)]),
            # Without script (the Refresh link, the meta refresh): the page itself.
            "refresh": "/reports?" + urlencode(fields),
            "seconds": round(context.jobs.age(found.pending.started_at)),
            "running": found.pending.running,
            "stale": found.stale,
            "as_of": (f"{found.previous.report.generated_at:%H:%M} UTC"
                      if found.previous is not None else ""),
            "computed": (f"{found.previous.computed_at:%Y-%m-%d %H:%M:%S} UTC"
                         if found.previous is not None else ""),
            "poll_seconds": POLL_SECONDS,
        }
    return {
        "query": query, "problem": found.problem, "report": report, "body": body,
        "pending": pending,
        "subtitle": subtitle(report) if report is not None else "",
        "pipelines": [p.name for p in context.pipelines],
        "filters": [(name, FILTER_LABELS[name], choices[name]) for name in FILTERS],
        "type_labels": types,
        "dimensions": [(d, DIMENSION_LABELS[d]) for d in DIMENSIONS],
        "sections": [(s, SECTION_TITLES[s]) for s in SECTIONS],
        "downloads": [(fmt.upper(), f"/reports/report.{fmt}?{query.query_string()}")
                      for fmt in DOWNLOADS],
    }


PAGE = Page("/reports", "Reports", routes)
