"""One cycle of one pipeline: pull, map, plan, write, record (architecture.md's flow).

The only module that touches connectors, the engine and the store together. A cycle
pulls each side since its checkpoint into the mirror (the last version of every record),
plans every deal from the mirror with the pure engine, carries out the plan in batches,
and records everything that was done in one transaction. A crash before that
transaction leaves the previous checkpoint in force: the next cycle pulls the same
records again, plans the same writes and upserts the same task keys, so redoing the work
changes nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import structlog

from connectors.base import Connector, Cursor, ObjectSchema
from connectors.errors import ConnectorError, SchemaError, StopRequested
from connectors.registry import spec
from handoff_sync.engine.plan import Dirty, EngineInput, PlanMemo, clock_driven_deals, plan
from handoff_sync.engine.types import (
    Link,
    Plan,
    SlaEventKind,
)
from handoff_sync.mapping.loader import validate_mappings
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.system.convert import MappedRecord, SystemMapping
from handoff_sync.model import OwnerDirectory, Role, TaskStatus
from handoff_sync.store.types import (
    CycleOutcome,
    LeaseLost,
    MirrorRecord,
    PipelineState,
    RecordFailure,
    RunKind,
    RunOutcome,
)
from handoff_sync.sync.advice import explain
from handoff_sync.sync.collector import collector_paused, paused
from handoff_sync.sync.cycle_parts import (
    canonical,
    canonical_values,
    closed_by_people,
    engine_changes,
    links_after,
    log_review_changes,
    mappings_hash,
    merged_mirror,
    planned_counts,
    run_message,
    schema_suspect,
    stopped_message,
    with_creations,
    with_refusals,
)
from handoff_sync.sync.drift import detect_drift
from handoff_sync.sync.failures import failure_message
from handoff_sync.sync.fresh import fresh_plan
from handoff_sync.sync.partners import PartnerPull, cycle_partners, describe_partners
from handoff_sync.sync.plan_context import PlanContext
from handoff_sync.sync.plan_explain import dry_run_context
from handoff_sync.sync.progress import Phase, Progress, ProgressEvent, no_progress
from handoff_sync.sync.pull import (
    PullStopped,
    SidePull,
    TaskClosures,
    pull_side,
    pull_task_closures,
)
from handoff_sync.sync.readiness import partners_to_plan
from handoff_sync.sync.review_names import NAMED_A_CYCLE, cycle_names
from handoff_sync.sync.write import (
    Side,
    carry_out,
    field_changes,
    write_call_estimate,
)

log = structlog.get_logger("handoff_sync.sync")

OWNERS_TTL = timedelta(minutes=15)  # users change rarely; re-read on full cycles anyway
# A pipeline's claim on its CRM object lapses when its cycles stop renewing it this long
# (its daemon stopped, its connection moved to another org); see _claim_crm_object.
CLAIM_TTL = timedelta(days=1)


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CycleReport:
    """What one cycle did, for the CLI, the logs and the metrics."""

    pipeline: str
    run_id: str
    kind: RunKind
    outcome: RunOutcome
    started_at: datetime
    ended_at: datetime
    counts: Mapping[str, int]
    api_calls: Mapping[str, Mapping[str, Any]]
    failures: tuple[RecordFailure, ...] = ()
    drift: Mapping[str, str] = field(default_factory=dict)
    message: str | None = None
    plan: Plan | None = None  # kept for --dry-run and `plan`
    # Dry runs: every field the plan would write (system terms, old and new values) and
    # the write calls it would cost per system.
    changes: tuple[dict[str, Any], ...] = ()
    write_calls: Mapping[str, int] = field(default_factory=dict)
    context: PlanContext | None = None  # dry runs: names, people, records out of scope

    def summary(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "run_id": self.run_id, "kind": self.kind.value,
                "outcome": self.outcome.value, "started_at": self.started_at.isoformat(),
                "ended_at": self.ended_at.isoformat(),
                "duration_seconds": round((self.ended_at - self.started_at).total_seconds(), 3),
                "counts": dict(self.counts), "api_calls": {k: dict(v) for k, v in
                                                           self.api_calls.items()},
                "errors": [{"record": f.record_id, "system": f.system, "object": f.object,
                            "code": f.code, "message": f.message} for f in self.failures],
                "schema_drift": dict(self.drift), "message": self.message}


class CycleFailed(Exception):
    """The cycle could not run at all (mappings invalid, a system unreachable)."""


class PipelineRunner:
    """One pipeline's connectors and its cycles; not thread-safe (one per pipeline)."""

    def __init__(self, config: Any, pipeline: Any, store: Any, *, holder: str,
                 environ: Mapping[str, str] | None = None,
                 clock: Callable[[], datetime] = now_utc,
                 connectors: Mapping[Role, Connector] | None = None,
                 daemon: bool = False, retry_connect: bool | None = None) -> None:
        """``daemon`` (`handoff-sync run`): a failed cycle's message says the next cycle
        tries again. ``retry_connect`` (default: ``daemon``): calls that cannot connect are
        retried under the connection's retry settings, to ride out a restarting server
        (`run --once` under cron does, with no next cycle to promise). A one-shot
        command's runner (the default) reports such a failure at once, promising nothing."""
        from handoff_sync.sync.connect import build_connector

        self.config = config
        self.daemon = daemon
        retry_connect = daemon if retry_connect is None else retry_connect
        self.pipeline = pipeline
        self.name: str = pipeline.name
        self.store = store
        self.holder = holder
        self.clock = clock
        # The cycle in hand's stop flag; budget waits inside the connectors poll it.
        self._should_stop: Callable[[], bool] = _never
        self._progress: Progress = no_progress  # the cycle in hand's progress listener
        if connectors is None:
            # One API budget per org, kept in the store for every pipeline and replica.
            ledgers = getattr(store, "budget_ledger", None)
            connectors = {
                role: build_connector(config.connections[name], environ=environ,
                                      ledgers=ledgers, stop=self._stop_requested,
                                      daemon=retry_connect)
                for role, name in ((Role.PRM, pipeline.prm), (Role.CRM, pipeline.crm))}
        self.connectors = dict(connectors)
        self._owners: dict[Role, OwnerDirectory] = {}
        self._owners_at: datetime | None = None
        self._owner_lists: dict[Role, list[Any]] | None = None
        self._owners_version = 0
        # The links as the last recorded cycle left them (None: plan every deal next).
        self._links_seen: dict[str, Link] | None = None
        self._mapped_cache: dict[Role, dict[str, tuple[MirrorRecord, MappedRecord]]] = {
            role: {} for role in Role}
        self._mapped_for: tuple[str | None, int] | None = None
        self._memo = PlanMemo()  # what the plan's steps over every record found (engine.memo)
        # The state the last recorded cycle left (store.kept): the next one starts from
        # it unless someone else wrote since. None: load it whole.
        self._kept: PipelineState | None = None

    def close(self) -> None:
        """Close every connector, even when one fails (logged): the caller still has a
        cycle's result to report and a lease to release."""
        for role, connector in self.connectors.items():
            try:
                connector.close()
            except Exception as exc:
                log.warning("connector_close_failed", role=role.value,
                            system=connector.system, error=type(exc).__name__,
                            message=failure_message(exc))

    def _stop_requested(self) -> bool:
        return self._should_stop()

    # ------------------------------------------------------------------ the cycle
    def run_cycle(self, *, full: bool | None = None, dry_run: bool = False,
                  should_stop: Callable[[], bool] = lambda: False,
                  lease: tuple[str, str] | None = None,
                  heartbeat: Callable[[], None] = lambda: None,
                  progress: Progress = no_progress) -> CycleReport:
        run_id = uuid.uuid4().hex[:12]
        started = self.clock()
        bound = structlog.contextvars.bound_contextvars(pipeline=self.name, run_id=run_id)
        with bound:
            state = self.store.load_pipeline(self.name, kept=self._kept)
            self._kept = state if dry_run else None  # kept again once this one is recorded
            folder = Path(self.pipeline.mappings)
            digest = mappings_hash(folder) if folder.is_dir() else None
            if full is None:
                full = state.last_full_at is None or state.mappings_hash != digest
            kind = RunKind.FULL if full else RunKind.INCREMENTAL
            for connector in self.connectors.values():
                connector.usage.begin_cycle()  # the report's figures: this cycle's
            if not dry_run:
                self.store.start_run(self.name, run_id, kind, started, self.holder)
            self._should_stop = should_stop
            self._progress = progress
            try:
                return self._cycle(run_id, kind, started, state, folder, digest, dry_run,
                                   should_stop, lease, heartbeat)
            except (CycleFailed, ConnectorError, PullStopped, StopRequested) as exc:
                self._links_seen = None  # unsure what was seen: the next plan looks at all
                stopped = isinstance(exc, PullStopped | StopRequested)
                outcome = RunOutcome.INTERRUPTED if stopped else RunOutcome.FAILED
                message = stopped_message(exc) if stopped else self._failure(exc)
                ended = self.clock()
                if not dry_run:
                    self.store.finish_run(run_id, ended, outcome, message, self._usage(), {})
                log.warning("cycle_not_completed", outcome=outcome.value, reason=message)
                return CycleReport(self.name, run_id, kind, outcome, started, ended, {},
                                   self._usage(), (), dict(state.drift), message)
            except LeaseLost:
                self._links_seen = None
                # Another replica owns the pipeline now: close our run row, let it work.
                if not dry_run:
                    self.store.finish_run(run_id, self.clock(), RunOutcome.INTERRUPTED,
                                          "lease lost to another replica; nothing recorded",
                                          self._usage(), {})
                raise
            except Exception as exc:
                self._links_seen = None
                # A bug or a database failure: the daemon logs the traceback. Close the
                # run row as failed first, so `status` and /readyz count this cycle
                # instead of showing it running forever.
                if not dry_run:
                    self._close_failed(run_id, failure_message(exc))
                raise
            finally:
                self._should_stop = _never
                self._progress = no_progress

    def _failure(self, exc: Exception) -> str:
        """A failed cycle's message: a connector's failure named in the config's terms
        (the connection, its URL or secret at its line), and, from the daemon only, that
        the next cycle tries again."""
        text = None
        if isinstance(exc, ConnectorError):
            text = explain(exc, self.config, (self.pipeline.prm, self.pipeline.crm))
        return failure_message(exc, text, next_cycle=self.daemon)

    def _close_failed(self, run_id: str, message: str) -> None:
        try:
            self.store.finish_run(run_id, self.clock(), RunOutcome.FAILED, message,
                                  self._usage(), {})
        except Exception as exc:  # the database is what failed: the row stays running
            log.warning("run_not_closed", run_id=run_id, error=type(exc).__name__)

    def _cycle(self, run_id: str, kind: RunKind, started: datetime, state: PipelineState,
               folder: Path, digest: str | None, dry_run: bool,
               should_stop: Callable[[], bool], lease: tuple[str, str] | None,
               heartbeat: Callable[[], None]) -> CycleReport:
        mappings = self._mappings(folder)
        if not dry_run:
            self._claim_crm_object()
        full = kind is RunKind.FULL
        drift = dict(state.drift)
        if full or drift or not state.checkpoints or schema_suspect(state):
            # Describe only when the schema may have moved: a quiet cycle costs one read
            # per object (the connectors keep their describe caches until start_cycle).
            for connector in self.connectors.values():
                connector.start_cycle()
            objects = sum(spec(mappings.side(role).system).untyped is None for role in Role)
            self._progress(ProgressEvent(Phase.DESCRIBE, 0, objects))
            drift = self._describe(mappings)
            self._progress(ProgressEvent(Phase.DESCRIBE, objects, objects, ended=True))
        owners = self._owner_directories(full)
        pulls = self._pull(mappings, state, drift, full, should_stop, heartbeat)
        partners = PartnerPull() if dry_run else cycle_partners(
            self.connectors[Role.PRM], mappings.prm, state.checkpoints, full=full,
            owners=owners[Role.PRM], drift=drift, redescribe=lambda: drift.update(
                self._describe(mappings)), stored=lambda: self.store.load_partners(self.name),
            should_stop=should_stop, heartbeat=heartbeat)
        mirror = merged_mirror(state, pulls, full)
        heartbeat()
        now = self.clock()
        closures = self._task_closures(mappings, state, now)
        dirty = self._dirty(state, pulls, mappings, owners, full=full, drift=drift, now=now)
        if self._mapped_for != (digest, self._owners_version):
            self._mapped_cache = {role: {} for role in Role}
            self._mapped_for = (digest, self._owners_version)
        engine = closed_by_people(state.engine, closures.keys)
        partners_now = partners_to_plan(mappings.prm, partners.changes, lambda: (
            self.store.load_partners(self.name)), dry_run=dry_run)

        def planned(deals: Dirty | None) -> Plan:
            with collector_paused():  # mapping the records allocates as much as planning
                return plan(EngineInput(
                    self.name, mappings,
                    self._mapped(Role.PRM, mirror[Role.PRM], mappings.prm, owners[Role.PRM]),
                    self._mapped(Role.CRM, mirror[Role.CRM], mappings.crm, owners[Role.CRM]),
                    engine, now, owners[Role.CRM], owners[Role.PRM], deals,
                    self._limits(mappings), create=self.pipeline.create_opportunities,
                    dismissed=state.dismissed, partners=partners_now, memo=self._memo))

        sides = {role: Side(role, self.connectors[role], mappings.side(role), owners[role])
                 for role in Role}
        self._progress(ProgressEvent(Phase.PLAN))
        result = planned(dirty)
        heartbeat()
        result, refreshed, withheld = fresh_plan(result, planned, dirty, sides, mirror,
                                                  state, drift, now)
        self._progress(ProgressEvent(Phase.PLAN, result.deals, result.deals, ended=True))
        read = {f"records_read_{role.value}": pulls[role].read for role in Role}
        base_counts = {"deals": result.deals, "records_read": sum(read.values()), **read,
                       "conflicts": len(result.conflicts), "reviews_open": len(result.reviews),
                       "sla_breaches": sum(e.kind is SlaEventKind.BREACHED
                                           for e in result.sla_events),
                       **{f"stages_{kind}": sum(m.kind == kind for m in result.stage_moves)
                          for kind in ("set", "advanced", "handed_over", "reopened")}}
        heartbeat()
        if dry_run:
            mapped = {role: self._mapped(role, mirror[role], sides[role].mapping, owners[role])
                      for role in Role}
            context = dry_run_context(result, mappings, mirror, mapped, owners, state.engine,
                                      self.connectors, drift)
            return CycleReport(self.name, run_id, kind, RunOutcome.DRY_RUN, started,
                               self.clock(), {**base_counts, **planned_counts(result)},
                               self._usage(), (), drift, None, result,
                               tuple(field_changes(result, sides, mirror)),
                               write_call_estimate(result, sides), context)
        done = carry_out(result, sides, mirror=mirror, holds=state.holds, drift=drift,
                         now=now, should_stop=should_stop, heartbeat=heartbeat,
                         withheld=withheld, field_holds=state.field_holds,
                         progress=self._progress)
        result = with_refusals(with_creations(result, done.created), done.refused)
        failures = [*done.failures, *partners.failures]
        skipped_rows = [problem for role in Role for problem in pulls[role].problems]
        for problem in skipped_rows[:20]:
            log.warning("row_skipped", problem=problem)
        outcome = (RunOutcome.INTERRUPTED if done.stopped else
                   RunOutcome.PARTIAL if failures or drift or skipped_rows else RunOutcome.OK)
        counts = {**base_counts, **{k: v for k, v in done.counts.items()},
                  "errors": len(failures), "rows_skipped": len(skipped_rows),
                  "schema_drift_fields": len(drift)}
        for name in ("records_written", "tasks_created", "tasks_updated", "tasks_closed",
                     "opportunities_created"):
            counts.setdefault(name, 0)
        # Only records that differ from the stored mirror are rewritten: the overlap
        # window re-reads records every cycle, and a quiet cycle should write nothing.
        changed_mirror = {role: {**{r.record_id: r for r in pulls[role].records.values()
                                    if full or state.mirror.get(role, {}).get(r.record_id)
                                    != r},
                                 **refreshed[role], **done.mirror[role]} for role in Role}
        checkpoints: dict[tuple[str, str], Cursor] = {}
        for role in Role:
            checkpoints.update(pulls[role].checkpoints)
        checkpoints.update(closures.checkpoints)
        checkpoints.update(partners.checkpoints)
        links = links_after(state.engine.links, result)
        names = cycle_names(  # what the console's review filters look at
            result.reviews, self.store.unnamed_reviews(self.name, NAMED_A_CYCLE),
            {role: (done.mirror[role], refreshed[role], mirror[role]) for role in Role},
            canonical_values(self._mapped_cache, mappings, owners), links,
            ({b.deal: b for b in result.bases if b.deal in done.written_deals},
             state.engine.bases))
        ended = self.clock()
        message = run_message(failures, drift, done.stopped)
        stored = sum(len(changed_mirror[role]) for role in Role)  # mirror rows rewritten
        self._progress(ProgressEvent(Phase.RECORD, 0, stored))
        reviews, self._kept = paused(self.store.record_and_keep, CycleOutcome(
            pipeline=self.name, run_id=run_id, kind=kind, started_at=started, ended_at=ended,
            outcome=outcome, plan=result, written_deals=frozenset(done.written_deals),
            task_ids=MappingProxyType(done.task_ids),
            mirror={role: MappingProxyType(changed_mirror[role]) for role in Role},
            mirror_replace=frozenset(r for r in Role if full and pulls[r].complete),
            checkpoints=MappingProxyType(checkpoints), failures=tuple(failures),
            cleared=frozenset(done.cleared) | partners.cleared(mappings.prm),
            field_failures=tuple(done.field_failures),
            fields_held=frozenset(done.fields_held), counts=MappingProxyType(counts),
            api_calls=self._usage(), mappings_hash=digest, drift=MappingProxyType(drift),
            message=message, closed_by_user=frozenset(closures.keys),
            partners=partners.changes, review_names=names), state, lease=lease)
        self._progress(ProgressEvent(Phase.RECORD, stored, stored, ended=True))
        # What the next cycle compares with to find what changed outside it.
        # An interrupted cycle left planned work undone, and withheld writes wait: the
        # next one looks at every deal.
        self._links_seen = None if done.stopped or withheld else links
        if result.planned_deals is not None:  # the plan restated only its deals' items
            counts["reviews_open"] = len(self.store.reviews(self.name))
        log_review_changes(reviews)
        log.info("cycle_recorded", kind=kind.value, outcome=outcome.value, **counts)
        return CycleReport(self.name, run_id, kind, outcome, started, ended, counts,
                           self._usage(), tuple(failures), drift, message, result)

    # ------------------------------------------------------------------ steps
    def _claim_crm_object(self) -> None:
        """Claim this pipeline's CRM object under the org its login names, or fail the
        cycle (a config failure) before anything is written when another pipeline claimed
        it first with a scope that may overlap.

        The config check compares connection settings; two connections to one org (other
        users, a login URL and an instance URL, two variables holding one token) pass it.
        Only claims of pipelines this config lists as enabled count, so a pipeline renamed,
        removed or disabled stops blocking at once (the replicas of one store share one
        config, as they share its pipelines' leases); a claim not renewed for CLAIM_TTL
        lapses. What "writes" and "disjoint" mean is the config check's (``CrmUse``)."""
        from handoff_sync.config.load import crm_use, shared_object_problem

        pipelines = self.config.pipelines
        listed = {p.name: p for p in pipelines if p.enabled}
        use = crm_use(self.config, self.pipeline, -1)
        if use is None or not use.writes:
            self.store.release_crm_object(self.name)
            return
        org = self.connectors[Role.CRM].org_key()
        if org is None:  # the connector cannot tell its org: the config check stands alone
            return
        mine, others = self.store.claim_crm_object(self.name, org, use.object, use.scope,
                                                   self.clock(), CLAIM_TTL)
        for other in others:
            if other.pipeline not in listed or use.disjoint_from(other.scope) \
                    or (other.claimed_at, other.pipeline) > (mine.claimed_at, self.name):
                continue  # not running, disjoint, or it came later: it is the one refused
            theirs = listed[other.pipeline]
            their_use = crm_use(self.config, theirs, -1)
            raise CycleFailed(shared_object_problem(
                (other.pipeline, their_use.file if their_use else Path(theirs.mappings)), use,
                f"{use.object} of the org {org} (its connections '{theirs.crm}' and "
                f"'{self.pipeline.crm}' both log in there)"))

    def _mappings(self, folder: Path) -> MappingSet:
        mappings, problems = validate_mappings(folder)
        if mappings is None:
            listed = "; ".join(str(p) for p in problems[:5])
            more = f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
            raise CycleFailed(f"the mappings folder {folder} does not validate: {listed}{more}; "
                              "run `handoff-sync mappings validate --mappings "
                              f"{folder}` and fix them")
        for role in Role:
            expected = self.connectors[role].system
            if mappings.side(role).system.value != expected:
                raise CycleFailed(
                    f"{mappings.side(role).file} is for {mappings.side(role).system.value} "
                    f"but the pipeline's {role.value} connection is {expected}")
        return mappings

    def _describe(self, mappings: MappingSet) -> dict[str, str]:
        drift: dict[str, str] = {}
        for role in Role:
            mapping = mappings.side(role)
            if spec(mapping.system).untyped is not None:
                continue  # e.g. a drop folder's columns are whatever the export holds
            connector = self.connectors[role]
            deal_object = connector.describe(mapping.object)
            task_object = (connector.describe(mapping.tasks.object)
                           if mapping.tasks is not None else None)
            drift.update(detect_drift(mapping, deal_object, task_object,
                                      describe_partners(connector, mapping)))
        if drift:
            log.warning("schema_drift", fields=sorted(drift), count=len(drift))
        return drift

    def _limits(self, mappings: MappingSet) -> dict[Role, ObjectSchema]:
        """Each API side's deal object as described (lengths, precisions), so the plan
        leaves out a value the field cannot hold instead of failing the record's write.
        The connectors cache describes between cycles: this costs no call on most."""
        return {role: self.connectors[role].describe(mappings.side(role).object)
                for role in Role if spec(mappings.side(role).system).untyped is None}

    def _owner_directories(self, full: bool) -> dict[Role, OwnerDirectory]:
        now = self.clock()
        stale = self._owners_at is None or now - self._owners_at > OWNERS_TTL
        if full or stale or not self._owners:
            lists = {role: sorted(self.connectors[role].owners(), key=repr) for role in Role}
            if lists != self._owner_lists:
                # Any deal's assignees may change: the next plan looks at every deal.
                self._owner_lists = lists
                self._owners_version += 1
                self._links_seen = None
            self._owners = {role: OwnerDirectory(lists[role]) for role in Role}
            self._owners_at = now
        return self._owners

    def _dirty(self, state: PipelineState, pulls: Mapping[Role, SidePull],
               mappings: MappingSet, owners: Mapping[Role, OwnerDirectory], *, full: bool,
               drift: Mapping[str, str], now: datetime) -> Dirty | None:
        """What changed since the last recorded cycle; None: plan every deal.

        Every deal is planned on a full cycle, in a runner's first cycle (it does not know
        what the last one saw), after the owner directory, a link made outside the cycle
        or the schema drift changed, and when a failed write is due for its retry. Else
        only deals whose records the engine sees differently (cycle_parts.engine_changes:
        not the read-back of our own writes), and deals whose SLA clocks time has moved.
        """
        retry_due = any(hold.next_retry_at <= now for hold in state.holds.values())
        if (full or self._links_seen is None or dict(drift) != dict(state.drift)
                or retry_due):
            return None
        changed = {role: engine_changes(pulls[role].records, state.mirror.get(role, {}),
                                        mappings.side(role), owners[role]) for role in Role}
        links = state.engine.links
        # Links a person made or removed with `handoff-sync review` since the last cycle.
        changed[Role.PRM] |= {prm_id for prm_id in links.keys() | self._links_seen.keys()
                              if links.get(prm_id) != self._links_seen.get(prm_id)}
        return Dirty(frozenset(changed[Role.PRM]), frozenset(changed[Role.CRM]),
                     clock_driven_deals(state.engine, mappings.policy, now))

    def _mapped(self, role: Role, records: Mapping[str, MirrorRecord], mapping: SystemMapping,
                owners: OwnerDirectory) -> tuple[MappedRecord, ...]:
        """Canonical records, mapping only those whose raw record changed since the last
        cycle (mapping is most of a quiet cycle's work)."""
        cache = self._mapped_cache[role]
        out = []
        for record_id, record in records.items():
            hit = cache.get(record_id)
            if hit is None or hit[0] != record:
                hit = cache[record_id] = (record, canonical(record, mapping, owners))
            out.append(hit[1])
        for gone in cache.keys() - records.keys():
            del cache[gone]
        return tuple(out)

    def _pull(self, mappings: MappingSet, state: PipelineState, drift: dict[str, str],
              full: bool, should_stop: Callable[[], bool],
              heartbeat: Callable[[], None]) -> dict[Role, SidePull]:
        pulls: dict[Role, SidePull] = {}
        for role in Role:
            mapping = mappings.side(role)
            since = None if full else state.checkpoints.get(
                (mapping.system.value, mapping.object))
            mirror = state.mirror.get(role, {})
            try:
                pulls[role] = pull_side(self.connectors[role], mapping, mirror=mirror,
                                        since=since, drift=drift, checkpoints=state.checkpoints,
                                        should_stop=should_stop, heartbeat=heartbeat,
                                        progress=self._progress)
            except SchemaError:
                # A field vanished since the last describe: forget the cached describes,
                # find out which field, pull without it.
                for connector in self.connectors.values():
                    connector.start_cycle()
                drift.update(self._describe(mappings))
                pulls[role] = pull_side(self.connectors[role], mapping, mirror=mirror,
                                        since=since, drift=drift, checkpoints=state.checkpoints,
                                        should_stop=should_stop, heartbeat=heartbeat,
                                        progress=self._progress)
        return pulls

    def _task_closures(self, mappings: MappingSet, state: PipelineState,
                       now: datetime) -> TaskClosures:
        """Open tasks people completed, on each side that holds tasks (a partner closes
        a PRM task in the PRM)."""
        out = TaskClosures()
        for role in (Role.CRM, Role.PRM):
            mapping = mappings.side(role)
            if mapping.tasks is None:
                continue
            open_keys = {key for key, task in state.engine.tasks.items()
                         if task.spec.status is TaskStatus.OPEN and task.spec.side is role}
            readiness = mappings.policy.measures.readiness
            if role is Role.PRM and not open_keys and not any(
                    task.side == Role.PRM.value for handoff in
                    mappings.policy.handoff_types.values() for task in handoff.tasks) \
                    and (readiness is None or readiness.training_task is None):
                continue  # the policy writes no PRM task: no query for nothing
            since = state.checkpoints.get((mapping.system.value, mapping.tasks.object))
            found = pull_task_closures(self.connectors[role], mapping, since=since,
                                       open_keys=open_keys, now=now)
            out.keys |= found.keys
            out.checkpoints.update(found.checkpoints)
        return out

    def _usage(self) -> dict[str, dict[str, Any]]:
        return {connector.system: connector.usage.snapshot()
                for connector in self.connectors.values()}


def _never() -> bool:
    return False
