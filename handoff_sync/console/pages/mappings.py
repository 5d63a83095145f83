"""/mappings: each pipeline's system files (salesforce.yaml, hubspot.yaml, ...) in forms.

One row per canonical field (system field, transform, direction, conflict policy,
default, value map) and per output; a raw YAML editor for the whole file. Every change
is previewed first: the diff, and the problems `mappings validate` finds, each at the
form field its key path names (the others at the top with file:line). Save writes only
what was previewed (the form carries the digest of the previewed text), through
``Draft.save``: atomically, with an audit row, refused when the file changed on disk.
The daemon sees a changed folder hash at its next cycle and reconciles in full.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from handoff_sync.config.settings import PipelineConfig
from handoff_sync.console import mapping_cache, system_form
from handoff_sync.console.auth import current_user, require_admin
from handoff_sync.console.context import ConsoleContext
from handoff_sync.console.drafts import Draft, InvalidDraft, SaveConflict, digest
from handoff_sync.console.offload import off_loop, posted
from handoff_sync.console.pages import Page
from handoff_sync.console.system_form import Placed, Row
from handoff_sync.console.templating import render
from handoff_sync.console.yaml_edit import MAX_POSTED_CHARS, EditError, posted_yaml_refusal
from handoff_sync.errors import UserError
from handoff_sync.mapping.loader import POLICY_FILE
from handoff_sync.mapping.system.compile import MAPPABLE_FIELDS
from handoff_sync.problems.report import Problem

PATH = "/mappings"
CHANGED_ON_DISK = ("{name} changed on disk since you opened this page (another admin "
                   "saved, or it was edited by hand): reload the page to start from the "
                   "file as it is now. Nothing was saved.")


def system_files(folder: Path) -> list[str]:
    """The folder's system files (every YAML file but handoff.yaml), by name."""
    if not folder.is_dir():
        return []
    return sorted(path.name for path in folder.glob("*.yaml")
                  if path.is_file() and path.name != POLICY_FILE)


def routes(context: ConsoleContext) -> list[BaseRoute]:
    def index(request: Request) -> Response:
        pipelines = [(pipeline, [(name, _summary(pipeline.mappings / name))
                                 for name in system_files(pipeline.mappings)])
                     for pipeline in context.pipelines]
        return render(request, "mappings.html", pipelines=pipelines)

    def show(request: Request) -> Response:
        pipeline, name = _target(context, request)
        folder = pipeline.mappings
        text = (folder / name).read_text(encoding="utf-8")
        saved = request.query_params.get("saved")
        flash = None
        if saved:
            edits = context.store.mapping_edits(str(folder), limit=1)
            said = edits[0]["summary"] if edits else ""
            flash = (f"Saved: {said}. The daemon applies it at its next cycle (a full "
                     "reconcile).")
        # A file broken by hand shows its problems (and opens the YAML editor if the form
        # cannot show it), so it can be fixed here too.
        _mappings, problems = mapping_cache.validated(folder)
        sections = _rows(text)
        return _page(request, context, pipeline, name, text=text, sections=sections,
                     problems=problems, flash=flash, raw=None if sections else text,
                     status_code=200)

    def form_post(request: Request, form: FormData) -> Response:
        user = require_admin(request, "change mappings")
        pipeline, name = _target(context, request)
        action = _field(form, "action")
        sections = {section: system_form.rows_from_form(_plain(form), section)
                    for section in system_form.SECTIONS}
        draft = _draft(pipeline, name, form)
        text = draft.current(name)
        try:
            edit = system_form.edit(text, name, sections)
        except EditError as exc:
            return _page(request, context, pipeline, name, text=text, sections=sections,
                         flash=str(exc), bad=True, status_code=400)
        if edit.errors or not edit.changes:
            return _page(request, context, pipeline, name, text=text, sections=sections,
                         form_errors=edit.errors, status_code=400 if edit.errors else 200,
                         flash=None if edit.errors else "Nothing to save: the form "
                         "leaves the file as it is.")
        draft.set_text(name, edit.text)
        return _preview_or_save(request, context, user.name, pipeline, name, draft, action,
                                form, system_form.summary(edit.changes),
                                sections=sections, raw=None)

    def yaml_post(request: Request, form: FormData) -> Response:
        user = require_admin(request, "change mappings")
        pipeline, name = _target(context, request)
        action = _field(form, "action")
        new_text = _field(form, "text").replace("\r\n", "\n")
        draft = _draft(pipeline, name, form)
        text = draft.current(name)
        if (refused := posted_yaml_refusal(new_text, name)) is not None:
            return _page(request, context, pipeline, name, text=text, sections=_rows(text),
                         raw=new_text[:MAX_POSTED_CHARS], flash=refused, bad=True,
                         status_code=400)
        if new_text == text:
            return _page(request, context, pipeline, name, text=text, sections=_rows(text),
                         flash="Nothing to save: the YAML is the file as it is.")
        draft.set_text(name, new_text)
        changes = system_form.described(text, new_text, name)
        return _preview_or_save(request, context, user.name, pipeline, name, draft, action,
                                form, system_form.summary(changes), sections=_rows(text),
                                raw=new_text)

    base = f"{PATH}/{{pipeline}}/{{name}}"
    # Every handler reads files and validates: in the console's threads (offload.py).
    return [Route(PATH, off_loop(index)),
            Route(base, off_loop(show)),
            Route(f"{base}/form", posted(form_post), methods=["POST"]),
            Route(f"{base}/yaml", posted(yaml_post), methods=["POST"])]


def _preview_or_save(request: Request, context: ConsoleContext, by: str,
                     pipeline: PipelineConfig, name: str, draft: Draft, action: str,
                     form: FormData, summary: str, *, sections: dict[str, list[Row]],
                     raw: str | None) -> Response:
    """Check the draft; show its diff and problems, or (asked to save what the admin
    previewed, and valid) save it and go back to the page."""
    text = draft.current(name)
    _mappings, problems = draft.check()
    proposed = draft.text(name)
    diff = draft.diff().get(name, "")
    conflict = digest(text) != draft.read_digests.get(name)
    values: dict[str, Any] = {"text": text, "sections": sections, "problems": problems,
                              "diff": diff, "summary": summary, "raw": raw,
                              "previewed": digest(proposed)}
    if conflict:
        return _page(request, context, pipeline, name, **values, status_code=409, bad=True,
                     flash=CHANGED_ON_DISK.format(name=name), can_save=False)
    if action != "save" or problems:
        return _page(request, context, pipeline, name, **values,
                     status_code=400 if problems else 200,
                     can_save=not problems)
    if _field(form, "previewed") != digest(proposed):
        return _page(request, context, pipeline, name, **values, can_save=True,
                     flash="The change is not the one previewed: check this preview and "
                     "save again.")
    try:
        draft.save(context.store, by=by, at=context.clock(), summary=summary)
    except SaveConflict:
        return _page(request, context, pipeline, name, **values, status_code=409, bad=True,
                     flash=CHANGED_ON_DISK.format(name=name), can_save=False)
    except (InvalidDraft, UserError) as exc:  # e.g. a read-only folder: nothing written
        return _page(request, context, pipeline, name, **values, status_code=400, bad=True,
                     flash=str(exc), can_save=False)
    return RedirectResponse(f"{PATH}/{pipeline.name}/{name}?saved=1", status_code=303)


def _page(request: Request, context: ConsoleContext, pipeline: PipelineConfig, name: str,
          *, text: str, sections: dict[str, list[Row]], problems: list[Problem] | None = None,
          form_errors: list[system_form.FormError] | None = None, diff: str = "",
          summary: str = "", raw: str | None = None, previewed: str = "",
          flash: str | None = None, bad: bool = False, can_save: bool = False,
          status_code: int = 200) -> Response:
    problems = problems or []
    user = current_user(request)
    adds = system_form.NEW_ROWS if user is not None and user.is_admin else 0
    shown = {section: system_form.with_new_rows(rows, section, adds)
             for section, rows in sections.items()}
    placed = system_form.place(problems, name, shown) if raw is None else Placed(
        rest=list(problems))
    row_errors: dict[tuple[str, int], list[str]] = {}
    for error in form_errors or []:
        row_errors.setdefault((error.section, error.row), []).append(error.message)
    facts = mapping_cache.file_facts(text)
    return render(request, "mappings_file.html", status_code=status_code,
                  pipeline=pipeline, name=name, files=system_files(pipeline.mappings),
                  facts=facts, sections=shown, placed=placed, row_errors=row_errors,
                  where=system_form.where, diff=diff, summary=summary,
                  yaml_text=raw if raw is not None else text, raw=raw is not None,
                  digest=digest(text), previewed=previewed, flash=flash, bad=bad,
                  can_save=can_save and bool(diff), problem_count=len(problems),
                  transforms=system_form.TRANSFORMS, directions=system_form.DIRECTIONS,
                  policies=system_form.POLICIES, canonical=MAPPABLE_FIELDS,
                  outputs=system_form.OUTPUTS)


def _summary(path: Path) -> dict[str, Any]:
    """What the index says of one file: its role, object and how many entries."""
    return mapping_cache.file_summary(path.read_text(encoding="utf-8"))


def _rows(text: str) -> dict[str, list[Row]]:
    """The form's rows; none when the file is not YAML (the YAML editor opens)."""
    return mapping_cache.file_rows(text)


def _target(context: ConsoleContext, request: Request) -> tuple[PipelineConfig, str]:
    """The pipeline and system file the URL names (404 for anything else)."""
    names = {pipeline.name: pipeline for pipeline in context.pipelines}
    pipeline = names.get(request.path_params["pipeline"])
    name = request.path_params["name"]
    if pipeline is None or name not in system_files(pipeline.mappings):
        raise HTTPException(404, "no such mappings file: pick one on the Mappings page")
    return pipeline, name


def _draft(pipeline: PipelineConfig, name: str, form: FormData) -> Draft:
    """A draft of the folder, against the file as the page showed it (its digest)."""
    draft = Draft(pipeline.mappings)
    shown = _field(form, "digest")
    if shown:
        draft.read_digests[name] = shown
    return draft


def _field(form: FormData, key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _plain(form: FormData) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


PAGE = Page(PATH, "Mappings", routes)
