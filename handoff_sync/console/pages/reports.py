"""/reports: the scorecards and charts of `handoff-sync report`, live from the store,
narrowed by partner, segment, region and handoff type, to a period (start, end), grouped
by any dimension.

The filters are a GET form: its URL is the report (shareable, works without script);
with htmx, a change swaps the view in place and pushes the URL. The sections are
``report.render_html``'s own, under a scoped copy of the report's CSS, so the page and the
HTML file show the same figures the same way. CSV and JSON links give the same report.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from handoff_sync.console.context import ConsoleContext
from handoff_sync.console.offload import EXPENSIVE, run
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


def routes(context: ConsoleContext) -> list[BaseRoute]:
    cache = ReportCache(context.store)
    stylesheet = scoped_css(SCOPE)

    def outcome(request: Request) -> tuple[ReportQuery, Rows | None, Report | None, str]:
        """The query, the rows, the report, and what stopped it (one line) if anything."""
        names = [p.name for p in context.pipelines]
        enabled = [p.name for p in context.pipelines if p.enabled] or names
        query = parse_query(request.query_params, names, enabled[0] if enabled else "",
                            now=context.clock())
        if "pipeline" in query.errors:
            return query, None, None, ""
        try:
            rows = cache.rows(query.pipeline, context.mappings_folder(query.pipeline))
        except UserError as exc:  # no cycle yet, or mappings that do not load
            return query, None, None, str(exc)
        query = query.with_errors(unknown_values(unknown(rows.data, query.selection),
                                                 query.pipeline))
        if query.errors:
            return query, rows, None, ""
        report = cache.report(rows, now=context.clock(), since=query.since, by=query.by,
                              selection=query.selection, until=query.until)
        return query, rows, report, ""

    def page(request: Request, query: ReportQuery, rows: Rows | None,
             report: Report | None, problem: str) -> Response:
        # htmx asks for the view alone; a history restore (back button) for the page.
        fragment = (request.headers.get("HX-Request") == "true"
                    and request.headers.get("HX-History-Restore-Request") != "true")
        values = _view(context, query, rows, report, problem)
        return render(request, "reports_view.html" if fragment else "reports.html",
                      status_code=400 if query.errors else 200,
                      headers={"Vary": "HX-Request"}, **values)

    async def reports(request: Request) -> Response:
        # Building is the expensive part (a few at a time; "busy" past the wait); the
        # page's HTML is made in a worker thread too: never on the event loop.
        built = await EXPENSIVE.run(outcome, request)
        return await run(page, request, *built)

    async def download(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in DOWNLOADS:
            raise HTTPException(404, f"No report as {fmt!r}: CSV or JSON.")
        query, _, report, problem = await EXPENSIVE.run(outcome, request)
        if report is None:
            lines = [f"{name}: {message}" for name, message in query.errors.items()]
            return PlainTextResponse("\n".join(lines or [problem]) + "\n", status_code=400)
        name = f"handoff-report-{report.pipeline}.{fmt}"
        body = await run(render_report, report, fmt)
        return Response(body, media_type=DOWNLOADS[fmt], headers={
            "Content-Disposition": f'attachment; filename="{name}"'})

    async def css(request: Request) -> Response:
        return Response(stylesheet, media_type="text/css",
                        headers={"Cache-Control": "private, max-age=3600"})

    return [Route("/reports", reports), Route("/reports/report.css", css),
            Route("/reports/report.{fmt:str}", download)]


def _view(context: ConsoleContext, query: ReportQuery, rows: Rows | None,
          report: Report | None, problem: str) -> dict[str, Any]:
    """What the templates show: the form's fields and choices, and the report."""
    choices = rows.options if rows is not None else {name: () for name in FILTERS}
    types = ({t.id: t.label for t in rows.data.policy.governance.types}
             if rows is not None else {})
    body = None
    if report is not None:
        # html_kit escapes every CRM-supplied string the sections carry: this is markup
        # the report built, not data (test_reports_page checks a hostile name).
        body = Markup("".join(section_html(report, s) for s in SECTIONS)
                      + notes_html(report))
    return {
        "query": query, "problem": problem, "report": report, "body": body,
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
