"""The policy page's what-ifs as background jobs (jobs.py), and the proof a save needs.

A what-if plans every stored deal (seconds at 10,000 deals, minutes at 100,000: past a
reverse proxy's 60 s timeout), so a preview asks ``context.jobs`` for it and waits only
``WAIT``: a small store answers in the same request, a large one gets a panel that polls
until the job is done. A job is keyed by all its answer depends on: the pipeline, the
candidate handoff.yaml (its digest), the mappings in force (the folder's digest), the
store's state version and the create setting; so the same draft previewed twice, or by
two admins, is computed once.

Opening the policy page warms the plan with the mappings in force (``warm``) in the
background, so a first preview plans only the candidate's half.

What-ifs run in the jobs' "what-if" lane: one at a time on a thread of their own, so
the reports keep theirs; an admin's newer draft drops the older what-if if it has not
started (whatif_proofs.py).

A save must follow the what-if of exactly its draft: the Save button comes with the
what-if and carries its job id; ``shown`` accepts the save only when that what-if was
rendered to an admin (``record``) for the same pipeline and candidate text, and the
other mapping files have not changed since (a form edited after its preview, or posted
without one, is refused).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from handoff_sync.config.settings import PipelineConfig
from handoff_sync.console.context import ConsoleContext
from handoff_sync.console.drafts import digest
from handoff_sync.console.jobs import Done, Pending, Status
from handoff_sync.console.mapping_cache import folder_digest
from handoff_sync.console.whatif_proofs import Proof
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.sync.whatif import WhatIf, baseline_key, warm, what_if

LANE = "what-if"  # the jobs' lane of what-ifs and warm-ups (jobs.py)
WAIT = 0.5  # seconds a preview waits for its what-if before answering "computing"
WARM_BUCKET = 300.0  # seconds: a warm-up job is asked again at most this often
# Above this many deals the page does not warm: the plan is minutes of CPU in this one
# interpreter (100,000 deals), slowing every page and probe meanwhile (the GIL), for an
# admin who may only be reading. A preview then plans both halves, behind its panel.
WARM_MAX_DEALS = 20_000
log = structlog.get_logger("handoff_sync.console")


@dataclass(frozen=True)
class Preview:
    """A computed what-if and what the page shows beside it."""

    pipeline: str
    draft: str  # digest of the candidate handoff.yaml
    whatif: WhatIf
    diff: Mapping[str, str]
    # What the result box shows beside it, as the preview that asked placed it (the
    # fields and warnings: pages/policy.py's ``_result`` keywords), for the polls too.
    view: Mapping[str, Any]
    summary: str
    remove: str = ""  # a Remove button's path previewed: the save sends it again
    folder: str = ""  # digest of the mappings folder when it was previewed


def draft_digest(text: str) -> str:
    return digest(text)


def preview(context: ConsoleContext, user: str, pipeline: PipelineConfig,
            current: MappingSet, candidate: MappingSet, text: str, *,
            diff: Mapping[str, str], view: Mapping[str, Any], summary: str,
            remove: str = "", wait: float = WAIT) -> Status[Preview]:
    """The what-if of ``candidate`` (whose handoff.yaml is ``text``) for ``user``: done,
    or pending after ``wait`` seconds; Busy when too many what-ifs wait already. The
    user's older what-if of this pipeline, not started yet, is dropped."""
    draft, folder = draft_digest(text), folder_digest(pipeline.mappings)
    key = ("policy-whatif", pipeline.name, draft, folder,
           context.store.state_version(pipeline.name), pipeline.create_opportunities)
    older = context.whatif_proofs.waiting(user, pipeline.name, key)
    if older is not None:
        context.jobs.cancel(older)

    def work() -> Preview:
        result = what_if(context.store, pipeline.name, current, candidate, context.clock(),
                         create=pipeline.create_opportunities,
                         baselines=context.whatif_baselines)
        return Preview(pipeline.name, draft, result, dict(diff), dict(view), summary, remove,
                       folder)

    status = context.jobs.get(("policy-whatif", pipeline.name, draft), key, work, wait=wait,
                              lane=LANE)
    if isinstance(status, Pending):
        context.whatif_proofs.started(user, pipeline.name, status.id, key)
    return status


def start_warming(context: ConsoleContext, pipeline: PipelineConfig,
                  current: MappingSet) -> None:
    """Start planning the deals with the mappings in force in the background (nothing
    waits for it); nothing above WARM_MAX_DEALS deals, when the jobs are busy, or when
    the store cannot be read now (a preview then says so itself)."""
    try:
        version = context.store.state_version(pipeline.name)
        key = baseline_key(context.store, pipeline.name, current,
                           pipeline.create_opportunities)
        if context.whatif_baselines.get(key, context.clock()) is not None:
            return
        if context.store.count_deals(pipeline.name) > WARM_MAX_DEALS:
            return
        bucket = int(time.monotonic() // WARM_BUCKET)  # held baselines age out
        context.jobs.get(("policy-warm", pipeline.name),
                         ("policy-warm", pipeline.name, version,
                          folder_digest(pipeline.mappings), pipeline.create_opportunities,
                          bucket),
                         lambda: _warm(context, pipeline, current), lane=LANE)
    except Exception as exc:  # a courtesy: the page opens regardless, a preview says why
        log.info("policy_warm_skipped", pipeline=pipeline.name, error=type(exc).__name__)


def _warm(context: ConsoleContext, pipeline: PipelineConfig, current: MappingSet) -> int:
    baseline = warm(context.store, pipeline.name, current, context.clock(),
                    create=pipeline.create_opportunities, baselines=context.whatif_baselines)
    return baseline.plan.deals


def deals_known(context: ConsoleContext, pipeline: str) -> int | None:
    """How many deals a what-if of ``pipeline`` plans (for "over N deals"): the last
    baseline's, else the store's count; None when the store cannot say now."""
    held = context.whatif_baselines.peek(pipeline)
    if held is not None:
        return held.plan.deals
    try:
        return context.store.count_deals(pipeline)
    except Exception:  # a courtesy in a panel: it says "the stored deals" instead
        return None


def record(context: ConsoleContext, user: str, done: Done[Preview]) -> None:
    """The finished what-if ``done`` is being shown to the admin ``user``: the proof its
    Save button needs."""
    shown_ = done.value
    context.whatif_proofs.shown(user, done.id, Proof(shown_.pipeline, shown_.draft,
                                                     shown_.folder), shown_)


def shown(context: ConsoleContext, job_id: str, pipeline: PipelineConfig,
          text: str) -> bool:
    """Whether ``job_id`` is a what-if of this very draft shown to an admin, with the
    other mapping files as they are now (the save's proof)."""
    proof = context.whatif_proofs.proof(job_id) if job_id else None
    return proof is not None and proof.pipeline == pipeline.name and \
        proof.draft == draft_digest(text) and proof.folder == folder_digest(pipeline.mappings)


def kept(context: ConsoleContext, user: str, pipeline: str, job_id: str) -> Preview | None:
    """The what-if ``job_id`` if it is the last one shown to ``user`` for ``pipeline``."""
    found = context.whatif_proofs.last_shown(user, pipeline, job_id)
    return found if isinstance(found, Preview) else None
