"""/review: the review queue with its deals, accounts, partners and people named; filters
(htmx swaps the list); bulk dismissal of one cause; links shown before they are made.

Every action is two steps, as a person would want from a command that cannot be undone
from here: a POST without ``confirm`` answers what it would do (the items named, or the
link's preview), and the confirmation form posts the same fields with ``confirm``. A link
is checked as `handoff-sync review link --dry-run` checks it (``sync.review_link``: the
opportunity read through the CRM connector); one that takes an opportunity from another
partner's registration needs a second, explicit confirmation naming both partners, as
the command needs --force. The console user's name is recorded as who decided.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from connectors.errors import ConnectorError
from handoff_sync.console import mapping_cache
from handoff_sync.console.auth import require_admin
from handoff_sync.console.context import ConsoleContext
from handoff_sync.console.offload import run
from handoff_sync.console.pages import Page
from handoff_sync.console.record_links import SideLinker, linker, side_linker
from handoff_sync.console.review_view import (
    GROUP_NAMED,
    PAGE_SIZE,
    Entry,
    FilterError,
    Filters,
    Namer,
    QueueView,
    deals_wanted,
    entries_of,
    entry_of,
    paged,
    queue_view,
)
from handoff_sync.console.templating import render
from handoff_sync.errors import UserError
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.store.types import StoreError
from handoff_sync.sync.advice import explain
from handoff_sync.sync.connect import build_connector
from handoff_sync.sync.review_groups import ReviewEntry, group_reviews
from handoff_sync.sync.review_link import LinkPreview, LinkRefused, check_link

PATH = "/review"
LIST_TARGET = "review-list"
PANEL = "review-panel"


def routes(context: ConsoleContext) -> list[BaseRoute]:
    async def page(request: Request) -> Response:
        return await _page(request, context)

    async def dismiss(request: Request) -> Response:
        user = require_admin(request, "dismiss review items")
        form = await request.form()
        return await run(_dismiss, request, context, form, user.name)

    async def dismiss_owner(request: Request) -> Response:
        user = require_admin(request, "dismiss review items")
        form = await request.form()
        return await run(_dismiss_owner, request, context, form, user.name)

    async def link(request: Request) -> Response:
        user = require_admin(request, "link review items")
        form = await request.form()
        return await run(_link, request, context, form, user.name)

    return [Route(PATH, page),
            Route(f"{PATH}/dismiss", dismiss, methods=["POST"]),
            Route(f"{PATH}/dismiss-owner", dismiss_owner, methods=["POST"]),
            Route(f"{PATH}/link", link, methods=["POST"])]


# --- reading ----------------------------------------------------------------------------


def _filters(request: Request, context: ConsoleContext) -> tuple[Filters, FilterError | None]:
    names = [pipeline.name for pipeline in context.pipelines]
    try:
        return Filters.parse(request.query_params, names), None
    except FilterError as exc:
        return Filters(), exc


async def _page(request: Request, context: ConsoleContext) -> Response:
    """The page; just its list for htmx (the filters changed, or an action was taken)."""
    filters, error = _filters(request, context)
    view = await run(_queue, context, filters)
    values = _common(context, filters, view)
    if request.headers.get("HX-Target") == LIST_TARGET:
        return render(request, "review_list.html", filter_error=error, **values)
    return render(request, "review.html", filter_error=error, panel=None, **values)


def _common(context: ConsoleContext, filters: Filters, view: QueueView) -> dict[str, Any]:
    names = [p.name for p in context.pipelines]
    # Checkboxes post keys of one pipeline: the one filtered to, or the only one.
    bulk = filters.pipeline or (names[0] if len(names) == 1 else "")
    return {"view": view, "filters": filters, "pipelines": names, "kinds": _kinds(),
            "bulk_pipeline": bulk}


def _kinds() -> list[str]:
    from handoff_sync.engine.types import ReviewKind

    return sorted(kind.value for kind in ReviewKind)


def _queue(context: ConsoleContext, filters: Filters) -> QueueView:
    """One page of the queue, read from the store: it reads the page's entries only,
    and filters on names (partner, search) with the names each item keeps."""
    if filters.named and context.store.has_unnamed_reviews(filters.pipeline or None,
                                                           filters.store_status):
        # Items recorded before names were kept (migration 0011) have none until their
        # pipeline's next cycle names them: until then every item is named here from
        # its records, as before (seconds at 16,000 items), so no item is left out.
        items = context.store.reviews(filters.pipeline or None, status=filters.store_status)
        view = paged(queue_view(_named(context, items), filters), filters.page)
        view.partners = _partners(context, view.partners)
        return view
    page = filters.page
    while True:
        found = context.store.review_page(
            filters.pipeline or None, filters.store_status, filters.kind or None,
            offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, per_group=GROUP_NAMED,
            partner=filters.partner, words=filters.q.split())
        last = max(1, -(-found.entry_total // PAGE_SIZE))
        if found.entries or page <= last:
            break
        page = last  # past the end (items were closed meanwhile): the last page
    shown = [item for entry in found.entries for item in entry.items]
    namers = _namers(context, shown)
    entries = [entry_of(ReviewEntry(entry.items[0], [str(i["deal"]) for i in entry.items],
                                    [str(i["key"]) for i in entry.items])
                        if entry.grouped else ReviewEntry(entry.items[0]),
                        namers[str(entry.items[0]["pipeline"])], size=entry.size)
               for entry in found.entries]
    partners = _partners(context, [p for entry in entries for p in entry.partners])
    return QueueView(entries, list(found.counts), found.item_total, partners, page,
                     found.entry_total)


def _partners(context: ConsoleContext, named: Sequence[str]) -> list[str]:
    """The partner filter's choices: the partner accounts the last cycles read, and
    the partners the page names."""
    found = set(named)
    for pipeline in context.pipelines:
        try:
            found.update(account.name for account in
                         context.store.load_partners(pipeline.name).values() if account.name)
        except StoreError:
            continue
    return sorted(found, key=str.casefold)


def _named(context: ConsoleContext, items: Sequence[Mapping[str, Any]],
           per_group: int | None = None) -> list[Entry]:
    """The items grouped and named; of a group, the first ``per_group`` deals (only
    their records are read)."""
    if per_group is None:
        return entries_of(items, _namers(context, items))
    shown = set()
    for group in group_reviews(items):
        shown.update(group.keys[:per_group] if group.grouped else [str(group.first["key"])])
    named = [item for item in items if str(item["key"]) in shown]
    return entries_of(items, _namers(context, named), per_group=per_group)


def _namers(context: ConsoleContext, items: Sequence[Mapping[str, Any]]) -> dict[str, Namer]:
    """Per pipeline, what names the deals of ``items``: their records, read by id."""
    namers: dict[str, Namer] = {}
    for pipeline in sorted({str(item["pipeline"]) for item in items}):
        mine = [item for item in items if item["pipeline"] == pipeline]
        deals, crm_ids = deals_wanted(mine)
        records = context.store.deal_records(pipeline, deals, crm_ids)
        mappings = _mappings(context, pipeline)
        namers[pipeline] = Namer(records, mappings, _links(context, pipeline, mappings))
    return namers


def _links(context: ConsoleContext, pipeline: str,
           mappings: MappingSet | None) -> SideLinker | None:
    """Links to the pipeline's registrations and opportunities (None when it is not
    configured any more: no connection to build them from)."""
    try:
        settings = context.pipeline(pipeline)
    except UserError:
        return None
    return side_linker(linker(context, settings), mappings)


def _mappings(context: ConsoleContext, pipeline: str) -> MappingSet | None:
    """The pipeline's mappings (None when it is not configured or does not validate:
    the page then shows ids instead of names)."""
    try:
        folder = context.mappings_folder(pipeline)
    except UserError:
        return None
    return mapping_cache.validated(folder)[0]


def _pipeline(context: ConsoleContext, form: FormData) -> str:
    name = str(form.get("pipeline", "")).strip()
    context.pipeline(name)  # CommandError naming the known ones
    return name


def _answer(request: Request, context: ConsoleContext, template: str,
            **values: Any) -> Response:
    """The panel for htmx (the list refreshed when something changed); the whole page,
    with the panel at its top, for a plain form post."""
    changed = bool(values.get("done"))
    if request.headers.get("HX-Request"):
        # Done: the message goes to the top of the page, as the list is redrawn (the
        # entry it was asked from is gone from an open-items list).
        headers = ({"HX-Trigger": "review-changed", "HX-Retarget": f"#{PANEL}",
                    "HX-Reswap": "innerHTML"} if changed else None)
        status = 200 if values.get("error") is None else 400
        return render(request, template, status_code=status, headers=headers, **values)
    filters = Filters()
    common = _common(context, filters, _queue(context, filters))
    return render(request, "review.html", filter_error=None, panel=template,
                  **common, **values)


# --- dismissing -------------------------------------------------------------------------


def _dismiss(request: Request, context: ConsoleContext, form: FormData,
             by: str) -> Response:
    """Dismiss the selected items: they must share one kind (one cause)."""
    try:
        pipeline = _pipeline(context, form)
    except UserError as exc:
        return _answer(request, context, "review_dismiss.html", error=str(exc), field="pipeline")
    listed = sorted({key.strip() for value in form.getlist("keys")
                     for key in str(value).splitlines() if key.strip()})
    # A person's group is posted as its role and email: the page shows a few of its
    # items, and the group may have thousands.
    groups = sorted({str(value) for value in form.getlist("groups") if str(value).strip()})
    grouped: set[str] = set()
    for group in groups:
        role, _newline, email = group.partition("\n")
        grouped.update(context.store.owner_group_keys(pipeline, role.strip(), email.strip()))
    keys = sorted({*listed, *grouped})
    values: dict[str, Any] = {"pipeline": pipeline, "keys": keys, "error": None,
                              "field": None, "done": None, "groups": groups,
                              "listed": [key for key in listed if key not in grouped]}
    if not keys:
        return _answer(request, context, "review_dismiss.html", **{
            **values, "error": "Select at least one item (the boxes at the left) to "
                               "dismiss.", "field": "keys"})
    known = context.store.review_items(pipeline, keys)
    missing = [key for key in keys if key not in known]
    if missing:
        return _answer(request, context, "review_dismiss.html", **{
            **values, "field": "keys", "error": f"No review item {missing[0]} in pipeline "
                                                f"{pipeline}: reload the page."})
    chosen = [known[key] for key in keys]
    kinds = sorted({str(item["kind"]) for item in chosen})
    if len(kinds) > 1:
        return _answer(request, context, "review_dismiss.html", **{
            **values, "field": "keys",
            "error": f"The selection holds {len(kinds)} kinds ({', '.join(kinds)}): "
                     "dismiss items of one kind at a time (filter by kind first)."})
    entries = _named(context, [item for item in chosen if item["status"] == "open"],
                     per_group=GROUP_NAMED)
    closed = [item for item in chosen if item["status"] != "open"]
    if form.get("confirm") != "yes":
        return _answer(request, context, "review_dismiss.html", **values, entries=entries,
                       closed=closed, kind=kinds[0])
    try:
        done = context.store.dismiss_reviews(pipeline, keys, by=by, now=context.clock())
    except StoreError as exc:
        return _answer(request, context, "review_dismiss.html", **{**values, "error": str(exc)})
    dismissed = [item for item in done if item["resolved_by"] == by
                 and item["status"] == "dismissed" and item["key"] in
                 {key for entry in entries for key in entry.keys}]
    return _answer(request, context, "review_dismiss.html", **{
        **values, "done": dismissed or done, "kind": kinds[0], "entries": entries,
        "closed": closed})


def _dismiss_owner(request: Request, context: ConsoleContext, form: FormData,
                   by: str) -> Response:
    """Dismiss one person's unresolved_owner items (``Store.dismiss_owner_reviews``)."""
    email = str(form.get("email", "")).strip()
    values: dict[str, Any] = {"email": email, "error": None, "field": None, "done": None,
                              "pipeline": str(form.get("pipeline", ""))}
    try:
        pipeline = _pipeline(context, form)
    except UserError as exc:
        return _answer(request, context, "review_owner.html",
                       **{**values, "error": str(exc), "field": "pipeline"})
    if not email:
        return _answer(request, context, "review_owner.html", **{
            **values, "field": "email", "error": "Name the person: the email of the "
                                                 "unresolved_owner items to dismiss."})
    wanted = email.casefold()
    mine = [item for item in context.store.reviews(pipeline, status="open")
            if item["kind"] in ("unresolved_owner", "unresolved_prm_owner")
            and str((item.get("details") or {}).get("email") or "").casefold() == wanted]
    if not mine:
        return _answer(request, context, "review_owner.html", **{
            **values, "field": "email",
            "error": f"No open unresolved_owner item names {email} in pipeline "
                     f"{pipeline}: reload the page."})
    entries = _named(context, mine, per_group=GROUP_NAMED)
    if form.get("confirm") != "yes":
        return _answer(request, context, "review_owner.html", **values, entries=entries)
    try:
        done = context.store.dismiss_owner_reviews(pipeline, email, by=by,
                                                   now=context.clock())
    except StoreError as exc:
        return _answer(request, context, "review_owner.html", **{**values, "error": str(exc)})
    return _answer(request, context, "review_owner.html", **{**values, "done": done,
                                                              "entries": entries})


# --- linking ----------------------------------------------------------------------------


def _link(request: Request, context: ConsoleContext, form: FormData, by: str) -> Response:
    """Preview a link (no ``confirm``) or make it (``confirm``; ``move_attribution`` when
    it takes the opportunity from another partner)."""
    key = str(form.get("key", "")).strip()
    registration = str(form.get("registration", "")).strip() or None
    typed = str(form.get("opportunity_id", "")).strip()
    crm_id = typed or str(form.get("opportunity", "")).strip() or None
    values: dict[str, Any] = {"key": key, "registration": registration, "crm_id": crm_id,
                              "pipeline": str(form.get("pipeline", "")), "error": None,
                              "field": None, "done": None, "preview": None}
    try:
        pipeline = _pipeline(context, form)
    except UserError as exc:
        return _answer(request, context, "review_link.html",
                       **{**values, "error": str(exc), "field": "pipeline"})
    item = context.store.review_items(pipeline, [key]).get(key)
    if item is None or item["status"] != "open":
        state = "is no longer open" if item is not None else "does not exist"
        return _answer(request, context, "review_link.html", **{
            **values, "field": "key", "error": f"Review item {key} {state} in pipeline "
                                               f"{pipeline}: reload the page."})
    if crm_id is None:
        return _answer(request, context, "review_link.html", **{
            **values, "field": "opportunity",
            "error": "Choose the opportunity to link to, or type its id."})
    confirm = form.get("confirm") == "yes"
    try:
        preview = _check(context, pipeline, item, crm_id, registration)
    except LinkRefused as exc:
        return _answer(request, context, "review_link.html",
                       **{**values, "error": str(exc), "field": "opportunity"})
    if confirm and preview.moves_attribution and form.get("move_attribution") != "yes":
        # As the command refuses without --force: the move is confirmed on its own.
        return _answer(request, context, "review_link.html", **{
            **values, "preview": preview, "field": "move_attribution",
            "error": "This link moves the opportunity's partner attribution: tick the box "
                     "that names both partners to confirm the move, or choose another "
                     "opportunity. Nothing was linked."})
    if not confirm:
        return _answer(request, context, "review_link.html", **{**values, "preview": preview})
    try:
        done = context.store.resolve_review(
            pipeline, key, action="link", crm_id=preview.opportunity.id,
            registration=preview.registration.id, by=by, now=context.clock(),
            displace=[other.id for other in preview.taken_from])
    except StoreError as exc:
        return _answer(request, context, "review_link.html",
                       **{**values, "preview": preview, "error": str(exc)})
    return _answer(request, context, "review_link.html",
                   **{**values, "preview": preview, "done": done})


def _check(context: ConsoleContext, pipeline: str, item: Mapping[str, Any], crm_id: str,
           registration: str | None) -> LinkPreview:
    """``check_link`` with the pipeline's CRM connector; the preview whatever it moves
    (the caller asks for the move's own confirmation)."""
    settings = context.pipeline(pipeline)
    config = context.config
    try:
        crm = build_connector(config.connections[settings.crm])
    except ConnectorError as exc:
        raise LinkRefused(f"could not connect to the CRM to check the link: {exc}") from None
    try:
        return check_link(item, context.store.load_pipeline(pipeline),
                          Path(settings.mappings), crm, crm_id, registration, force=True,
                          words=lambda exc: explain(exc, config, [settings.crm]))
    finally:
        crm.close()


PAGE = Page(PATH, "Review", routes)
