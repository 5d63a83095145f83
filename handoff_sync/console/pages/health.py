"""/health: per pipeline, how its cycles go and what to do about a failure; "sync now".

Reads ``Store.status()`` (what `handoff-sync status` reads) and names the records of the
per-record errors from the store's mirror through the pipeline's mappings; the view is
made in ``console.health_view``. "Sync now" (admins) adds a sync request; the daemon
replica that holds or can take the pipeline's lease claims it within seconds and runs the
cycle through its usual lock and lease. The console never runs a cycle itself: a cycle
makes API calls and writes under the pipeline's lease, with the connectors' secrets, the
lease keeper and the signal handling only the daemon has; a console on its own (no daemon
against this database) says that the request waits for one (`handoff-sync run`, or the
next `run --once`, which serves pending requests too).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from handoff_sync.config.settings import PipelineConfig
from handoff_sync.console.auth import require_admin
from handoff_sync.console.context import ConsoleContext
from handoff_sync.console.health_view import (
    Named,
    PipelineHealth,
    pipeline_health,
    record_keys,
)
from handoff_sync.console.pages import Page
from handoff_sync.console.record_links import linker
from handoff_sync.console.templating import render
from handoff_sync.errors import CommandError, UserError
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.system.convert import to_canonical
from handoff_sync.model import OwnerDirectory, Role
from handoff_sync.sync.failures import classify_message, failure_text

ERRORS_ON_PAGE = 500  # per pipeline; the count says how many more there are
REQUESTS_SHOWN = 3


def routes(context: ConsoleContext) -> list[BaseRoute]:
    def health(request: Request) -> Response:
        now = context.clock()
        report = context.store.status(now=now, errors_shown=ERRORS_ON_PAGE)
        configured = {p.name: p for p in context.pipelines}
        names = list(configured) + [n for n in report["pipelines"] if n not in configured]
        daemons = context.store.live_replicas(now)
        pipelines = [_health(context, name, configured.get(name),
                             report["pipelines"].get(name)) for name in names]
        requests = {name: _requests(context, name, daemons, configured.get(name))
                    for name in names}
        return render(request, "health.html", pipelines=pipelines, requests=requests,
                      daemons=daemons, now=now)

    def sync_now(request: Request) -> Response:
        user = require_admin(request, "start a sync")
        name = request.path_params["pipeline"]
        if not context.pipeline(name).enabled:  # CommandError naming the known pipelines
            # No daemon runs a disabled pipeline: the request would wait for ever.
            raise CommandError(f"pipeline {name!r} is disabled, so no daemon runs it",
                               hint=f"enable the pipeline first (enabled: true in "
                               f"{context.config.path}), then sync it")
        full = request.query_params.get("full") == "1"
        context.store.ask_sync(name, full=full, by=user.name, now=context.clock())
        if not request.headers.get("HX-Request"):
            return RedirectResponse(f"/health#pipeline-{name}", status_code=303)
        return _requests_fragment(request, context, name)

    def requests_fragment(request: Request) -> Response:
        name = request.path_params["pipeline"]
        pipeline = context.pipeline(name)
        response = _requests_fragment(request, context, name)
        if request.query_params.get("polling") and not _requests(
                context, name, context.store.live_replicas(context.clock()),
                pipeline)["open"]:
            # The request the page watched is done: reload it, so its cycle shows in the
            # table and the failure box (the reloaded page does not poll: no loop).
            response.headers["HX-Refresh"] = "true"
        return response

    return [Route("/health", health),
            Route("/health/{pipeline}/sync", sync_now, methods=["POST"]),
            Route("/health/{pipeline}/requests", requests_fragment)]


def _requests_fragment(request: Request, context: ConsoleContext, name: str) -> Response:
    daemons = context.store.live_replicas(context.clock())
    return render(request, "health_requests.html", name=name, daemons=daemons,
                  view=_requests(context, name, daemons, context.pipeline(name)))


def _requests(context: ConsoleContext, name: str, daemons: list[str],
              pipeline: PipelineConfig | None) -> dict[str, Any]:
    """The pipeline's latest requests, whether the page should keep polling, and whether
    it may be synced (only an enabled pipeline has a daemon slot). A running request
    whose replica stopped does not block a new one: the next daemon poll closes it."""
    rows = context.store.latest_sync_requests(name, limit=REQUESTS_SHOWN)
    for row in rows:
        message, outcome = row.get("message"), row.get("outcome")
        row["why"] = None if not message or outcome == "ok" else (
            f"{classify_message(message)}: {failure_text(message)}"
            if outcome == "failed" else message)
        row["orphaned"] = row["status"] == "running" and row.get("claimed_by") not in daemons
    open_ = [row for row in rows if row["status"] == "pending"
             or (row["status"] == "running" and not row["orphaned"])]
    return {"rows": rows, "open": bool(open_), "waits": bool(open_) and not daemons,
            "enabled": bool(pipeline and pipeline.enabled)}


def _health(context: ConsoleContext, name: str, pipeline: PipelineConfig | None,
            status: dict[str, Any] | None) -> PipelineHealth:
    notes: list[str] = []
    names: dict[tuple[str, str], Named] = {}
    if pipeline is None:
        notes.append("not in the config any more: its history is the store's")
    elif status is not None and (status.get("errors") or {}).get("items"):
        try:
            names = _names(context, pipeline, record_keys(status))
        except UserError as exc:  # invalid mappings: the records keep their ids
            notes.append(f"records are shown by id: the mappings do not load ({exc})")
    return pipeline_health(
        name, status, context.clock(), enabled=pipeline.enabled if pipeline else False,
        names=names, link=linker(context, pipeline) if pipeline else None,
        shares=_shares(context, pipeline) if pipeline else {}, notes=notes)


def _names(context: ConsoleContext, pipeline: PipelineConfig,
           keys: list[tuple[str, str]]) -> dict[tuple[str, str], Named]:
    """Deal and account names of the records ``keys`` (role, id), from their mirrored
    versions mapped as the pipeline's mappings map them."""
    mappings = load_mappings(pipeline.mappings)
    # A record key (role, id) is the deal key role:id of the record's side.
    records = context.store.deal_records(pipeline.name, {f"{role}:{record_id}"
                                                         for role, record_id in keys})
    found: dict[tuple[str, str], Named] = {}
    for role, mirrored in ((Role.PRM, records.prm), (Role.CRM, records.crm)):
        mapping = mappings.side(role)
        for record_id, record in mirrored.items():
            values = to_canonical(mapping, record.fields, OwnerDirectory()).values
            found[(role.value, record_id)] = Named(_text(values.get("deal_name")),
                                                   _text(values.get("account_name")))
    return found


def _shares(context: ConsoleContext, pipeline: PipelineConfig) -> dict[str, float]:
    """The share of each system's daily allowance the pipeline's connections may spend."""
    shares: dict[str, float] = {}
    for key in (pipeline.prm, pipeline.crm):
        connection = context.config.connections.get(key)
        budget = getattr(connection, "budget", None)
        if connection is not None and budget is not None:
            shares.setdefault(connection.system, float(budget.share))
    return shares


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


PAGE = Page("/health", "Health", routes)
