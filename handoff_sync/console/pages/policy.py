"""/policy: handoff.yaml in forms (gates, SLAs, calendars, routing, task templates) and as
raw YAML, each edit checked as `mappings validate` checks it and previewed as a what-if on
the stored deals before an admin saves it.

Every form posts to /policy/preview (htmx; admins only, as a what-if may be minutes of
the console's CPU): the change is made on a draft, checked (the
problems come back at their inputs, nothing is written) and, when valid, planned against
the store (``sync.whatif``) as a background job (policy_whatif.py): the answer is the
what-if and a Save button that posts the same form to /policy/save, or, while a large
store is planned, the diff and a panel that polls /policy/whatif/<job> until the what-if
and the Save button replace it. The forms carry the digest of the file they were drawn
from, so a save over someone else's newer edit is refused; the Save button carries its
what-if's job, so a save of a draft whose what-if was not shown is refused too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, get_args

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from handoff_sync.config.settings import PipelineConfig
from handoff_sync.console import mapping_cache, policy_whatif
from handoff_sync.console.auth import current_user, require_admin
from handoff_sync.console.context import ConsoleContext
from handoff_sync.console.drafts import Draft, digest
from handoff_sync.console.jobs import Done, Failed, Pending
from handoff_sync.console.offload import Busy, off_loop, posted
from handoff_sync.console.pages import Page
from handoff_sync.console.policy_conditions import (
    OPERATORS,
    condition_text,
    is_simple,
    value_text,
)
from handoff_sync.console.policy_forms import (
    DURATION_UNITS,
    FormChanges,
    FormError,
    element_id,
    form_changes,
    path_id,
    problems_by_field,
)
from handoff_sync.console.templating import render
from handoff_sync.console.yaml_edit import EditError, load, plain, posted_yaml_refusal
from handoff_sync.errors import UserError
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.policy.file_model import TaskTrigger
from handoff_sync.model import CANONICAL_FIELDS
from handoff_sync.problems.report import KeyPath, Problem, format_path
from handoff_sync.sync.whatif import STATUS_LABELS

FILE = "handoff.yaml"
ROLES = ("prm_owner", "crm_owner", "cs_owner", "manager")
PRIORITIES = ("high", "normal", "low")
TRIGGERS: tuple[str, ...] = get_args(TaskTrigger)
SIDES = ("crm", "prm")
CONFIRM = "save-anyway"  # the checkbox a save needs when the change adds a warning


def routes(context: ConsoleContext) -> list[BaseRoute]:
    def pipeline_of(request: Request, form: Any = None) -> PipelineConfig:
        name = (form or {}).get("pipeline") or request.query_params.get("pipeline")
        return context.pipeline(str(name)) if name else context.pipelines[0]

    def page(request: Request) -> Response:
        pipeline = pipeline_of(request)
        draft = Draft(pipeline.mappings)
        text = draft.text(FILE)
        broken: str | None = None
        try:
            data = plain(load(text))
        except EditError as exc:
            data, broken = None, str(exc)
        current, _problems = mapping_cache.validated(pipeline.mappings)
        warned = {path_id(w.path): f"{w.message} ({w.hint})"
                  for w in (current.warnings if current is not None else ())}
        if current is not None:  # the first preview then plans only the candidate
            policy_whatif.start_warming(context, pipeline, current)
        return render(request, "policy.html", pipeline=pipeline, pipelines=context.pipelines,
                      warned=warned,
                      data=data, broken=broken, text=text, base=digest(text), file=FILE,
                      folder=pipeline.mappings, units=DURATION_UNITS, roles=ROLES,
                      priorities=PRIORITIES, fields=sorted(CANONICAL_FIELDS),
                      path_id=path_id, eid=element_id, can_save=_is_admin(request),
                      operators=OPERATORS, cond_simple=is_simple, cond_value=value_text,
                      cond_text=condition_text, triggers=TRIGGERS, sides=SIDES,
                      raw=request.url.path.endswith("/raw"))

    def preview(request: Request, form: FormData) -> Response:
        require_admin(request, "preview a policy change")
        return _answer(request, context, pipeline_of(request, form), dict(form), save=False)

    def save(request: Request, form: FormData) -> Response:
        require_admin(request, "save the policy")
        return _answer(request, context, pipeline_of(request, form), dict(form), save=True)

    def poll(request: Request) -> Response:
        require_admin(request, "follow a what-if")
        return _polled(request, context, request.path_params["job"])

    # Files, validation and the store: in the console's threads (offload.py); what-ifs
    # in the jobs' (policy_whatif.py).
    return [Route("/policy", off_loop(page)), Route("/policy/raw", off_loop(page)),
            Route("/policy/preview", posted(preview), methods=["POST"]),
            Route("/policy/whatif/{job}", off_loop(poll)),
            Route("/policy/save", posted(save), methods=["POST"])]


def _answer(request: Request, context: ConsoleContext, pipeline: PipelineConfig,
            form: dict[str, Any], *, save: bool) -> Response:
    form = {str(key): str(value) for key, value in form.items()}
    draft = Draft(pipeline.mappings)
    text = draft.text(FILE)
    if form.get("base") and form["base"] != digest(text):
        return _result(request, form, error=f"{FILE} changed on disk since this page was "
                       "shown (another admin saved, or it was edited by hand): reload the "
                       "page to start from the current file; nothing was saved")
    draft.read_digests[FILE] = form.get("base") or digest(text)
    try:
        if "raw" in form:
            if (refused := posted_yaml_refusal(form["raw"], FILE)) is not None:
                return _result(request, form, error=refused)
            changes = FormChanges(described=[f"{FILE}: edited as YAML"], fields=["raw"])
            draft.set_text(FILE, form["raw"].replace("\r\n", "\n"))
        else:
            changes = form_changes(plain(load(text)), form)
            draft.change(FILE, *changes.changes)
    except (FormError, EditError) as exc:
        return _result(request, form, error=f"{exc}; nothing was saved")
    if changes.errors:
        return _result(request, form, fields=changes.fields, typed=changes.errors,
                       error="a condition is not one yet (see the field); nothing was saved",
                       status_code=422)
    if not changes.changes and "raw" not in form:
        return _result(request, form, fields=changes.fields,
                       error="nothing changed in this form: edit a value first")
    candidate, problems = draft.check()
    if problems or candidate is None:
        return _result(request, form, fields=changes.fields, problems=problems,
                       status_code=422, form_path=changes.form_path)
    current, _problems = mapping_cache.validated(pipeline.mappings)
    warnings = list(candidate.warnings)
    new = _new_warnings(current, candidate)
    user = require_admin(request, "save the policy" if save else "preview a policy change")
    if save:
        job = form.get("whatif", "")
        if not policy_whatif.shown(context, job, pipeline, draft.text(FILE)):
            return _result(request, form, fields=changes.fields, error=NOT_SHOWN,
                           status_code=409)
        if new and form.get("confirm") != CONFIRM:
            # The what-if again, with its box to tick and the Save button under the words.
            kept = policy_whatif.kept(context, user.name, pipeline.name, job)
            again: dict[str, Any] = {} if kept is None else {
                "whatif": kept.whatif, "job": job, "diff": dict(kept.diff),
                "summary": kept.summary}
            return _result(request, form, status_code=409, error=(
                f"{_count(new)} of this change: {new[0].message}. Tick 'Save anyway' under "
                "the preview if that is what you mean; nothing was saved"),
                fields=changes.fields, warnings=warnings, new_warnings=new,
                form_path=changes.form_path, **again)
        summary = form.get("what") or changes.summary
        if new:
            summary += "; saved anyway: " + "; ".join(w.message for w in new)
        try:
            entry = draft.save(context.store, by=user.name, at=context.clock(),
                               summary=summary[:500])
        except UserError as exc:
            return _result(request, form, fields=changes.fields, error=str(exc))
        return _result(request, form, fields=changes.fields, saved=entry, summary=summary)
    # What the result box shows beside the what-if, kept with it for the polls.
    view: dict[str, Any] = {"fields": changes.fields, "warnings": warnings,
                            "new_warnings": new, "form_path": changes.form_path}
    if current is None:
        return _result(request, form, whatif=UNCOMPARABLE, diff=draft.diff(),
                       summary=changes.summary, **view)
    try:
        status = policy_whatif.preview(context, user.name, pipeline, current, candidate,
                                       draft.text(FILE), diff=draft.diff(), view=view,
                                       summary=changes.summary, remove=form.get("remove", ""))
    except Busy as exc:
        return _result(request, form, error=exc.detail, status_code=429,
                       headers=exc.headers, **view)
    return _status(request, context, status, form=form, view=view, diff=draft.diff())


def _new_warnings(current: MappingSet | None, candidate: MappingSet) -> list[Problem]:
    """The candidate's warnings the saved file does not have, by identity: the handoff
    type (the path's head) and the words (which name the stage, wherever its line moved),
    counted, as two types may share a stage id. Those need 'Save anyway'; the others were
    saved so before."""
    known = Counter(_identity(w) for w in current.warnings) if current else Counter()
    new: list[Problem] = []
    for warning in candidate.warnings:
        if known[_identity(warning)] > 0:
            known[_identity(warning)] -= 1
        else:
            new.append(warning)
    return new


def _identity(warning: Problem) -> tuple[object, ...]:
    return (*warning.path[:2], warning.message)


def _count(warnings: list[Problem]) -> str:
    return "a warning" if len(warnings) == 1 else f"{len(warnings)} warnings"


NOT_SHOWN = ("this change was not previewed as it stands (the form changed after its "
             "what-if, another mapping file changed since, or the what-if is no longer "
             "kept): preview it again, then save; nothing was saved")
UNCOMPARABLE = (f"the saved {FILE} does not validate, so there is nothing to compare the "
                "change with: fix it (the raw YAML view shows it) to see a what-if")
GONE = ("this what-if is no longer kept (the console restarted, or computed many others "
        "since): preview the change again")


def _status(request: Request, context: ConsoleContext,
            status: Done[Any] | Failed | Pending[Any] | None, *, form: dict[str, str],
            view: Mapping[str, Any] | None = None, diff: dict[str, str] | None = None,
            template: str = "policy_result.html") -> Response:
    """A what-if job as the result box shows it: the what-if and the Save button, the
    panel that polls until then (with the change's ``diff``), or why there is none.
    ``view``: the fields and warnings of the preview that asked (a poll has none)."""
    view = view or {}
    if status is None:
        return _result(request, form, error=GONE, status_code=404, template=template)
    if isinstance(status, Failed):
        return _result(request, form, template=template,
                       error=f"The what-if could not be computed: {status.message}", **view)
    if isinstance(status, Pending):
        pipeline = form.get("pipeline", "")
        return _result(request, form, status_code=202, pending=status,
                       age=int(context.jobs.age(status.started_at)), diff=diff or {},
                       deals=policy_whatif.deals_known(context, pipeline) if pipeline else None,
                       template=template, **view)
    shown: policy_whatif.Preview = status.value
    user = current_user(request)
    if user is not None and user.is_admin:  # the proof its Save button needs
        policy_whatif.record(context, user.name, status)
    if shown.remove:  # the save sends the previewed Remove again (policy_result.html)
        form = {**form, "remove": shown.remove}
    return _result(request, form, whatif=shown.whatif, job=status.id,
                   diff=dict(shown.diff), summary=shown.summary, template=template,
                   **shown.view)


def _polled(request: Request, context: ConsoleContext, job_id: str) -> Response:
    """A poll of a what-if job: the result box's content (htmx), or a page of it (the
    Refresh link without JavaScript)."""
    status = context.jobs.status(job_id)
    if isinstance(status, Done) and not isinstance(status.value, policy_whatif.Preview):
        status = None  # another page's job: not this page's to show
    pipeline = status.value.pipeline if isinstance(status, Done) else \
        request.query_params.get("pipeline", "")
    page = request.headers.get("HX-Request") != "true"
    return _status(request, context, status, form={"pipeline": pipeline},
                   template="policy_whatif.html" if page else "policy_result.html")


def _result(request: Request, form: dict[str, str], *, fields: list[str] | None = None,
            problems: list[Problem] | None = None, error: str | None = None,
            status_code: int = 200, typed: dict[str, str] | None = None,
            template: str = "policy_result.html",
            form_path: Callable[[KeyPath], KeyPath] | None = None,
            warnings: list[Problem] | None = None, new_warnings: list[Problem] | None = None,
            **values: Any) -> Response:
    """The answer to a form: ``typed`` holds what is wrong with an input before any check
    (a condition box that is not YAML), by its path id; ``warnings`` go to their inputs
    like problems, and those of ``new_warnings`` no input shows go to the top."""
    placed, rest = problems_by_field(problems or [], fields or [],
                                     *([form_path] if form_path else []))
    warned, unplaced = problems_by_field(warnings or [], fields or [],
                                         *([form_path] if form_path else []))
    notes = [f"{format_path(w.path)}: {w.message} ({w.hint})" for w in unplaced
             if w in (new_warnings or [])]
    if error is not None and status_code == 200:
        status_code = 409 if "changed on disk" in error else 400
    return render(request, template, status_code=status_code, form=form,
                  fields=sorted(set(fields or [])), placed=placed, rest=rest, error=error,
                  typed=typed or {}, warned=warned, confirm=bool(new_warnings),
                  confirm_value=CONFIRM, notes=notes,
                  problems=problems or [], where=lambda p: format_path(p.path), eid=element_id,
                  labels=STATUS_LABELS, can_save=_is_admin(request),
                  **{"whatif": None, "diff": {}, "saved": None, "summary": "",
                     "pending": None, "job": "", **values})


def _is_admin(request: Request) -> bool:
    user = current_user(request)
    return user is not None and user.is_admin




PAGE = Page("/policy", "Policy", routes)
