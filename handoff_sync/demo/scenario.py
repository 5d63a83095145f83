"""The demo scenario: a seeded org pair, a working config, and a few days of handoffs.

``Demo.run`` starts the sandbox on a free loopback port, seeds it, writes the config and a
SQLite database into the demo folder, then drives the real daemon: the first cycle, and
after it one generator step (people editing deals through the vendor clients) and one
cycle at a time. Cycles are driven with ``Daemon.run_pipeline``, the scheduled job's own
function (lease, lock, metrics, log line), so the demo runs the production path without
waiting for the scheduler. The daemon's clock is the sandbox's clock, so the SLA clocks
follow it when the generator moves time ahead.

What happened is summed up from the cycle reports (their plans) and the store, in CRM
terms: flags written, tasks created/closed/reassigned, breaches, escalations, reviews.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from connectors.registry import SYSTEMS
from handoff_sync.config.load import load_config
from handoff_sync.config.settings import Config
from handoff_sync.console.app import daemon_app_factory
from handoff_sync.daemon.scheduler import Daemon
from handoff_sync.demo.people import DemoGenerator, StepResult
from handoff_sync.demo.sandbox_config import write_sandbox_config
from handoff_sync.engine.types import Plan, SlaEventKind, TaskActionKind
from handoff_sync.errors import UserError
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.model import GateStatus, Output, Role, TaskAnchor, TaskStatus
from handoff_sync.safety.sanitise import for_terminal
from handoff_sync.sandbox.core.control_client import ControlClient, ControlError
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store, sqlite_url_for
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync.cycle import CycleReport, PipelineRunner

PIPELINE = "partners"
HOLDER = "handoff-sync-demo"
CONFIG_FILE = "handoff-sync.yaml"
DATABASE_FILE = "handoff-sync.db"
REPORT_FILE = "handoff-report.html"
SUMMARY_FILE = "demo-summary.json"
DEFAULT_FOLDER = Path("handoff-sync-demo")
# The demo's own files: with --force these are replaced (the database starts empty).
OWN_FILES = (DATABASE_FILE, REPORT_FILE, SUMMARY_FILE)
# --keep-running: the scheduler's interval in the demo config (the sandbox is local).
KEEP_RUNNING_INTERVAL_SECONDS = 10


class DemoError(UserError):
    """Why the demo stopped; one line, ready to print."""

    hint = "fix what the message names; --dir names a new folder, --force reuses one"


class DemoProgress(Protocol):
    """Where the demo says how far it is (the command draws rich progress bars)."""

    def start(self, total: int) -> None:
        """``total`` phases follow."""

    def phase(self, description: str) -> None:
        """A phase begins; the previous one is done."""

    def finish(self) -> None:
        """The last phase is done."""


class _Silent:
    def start(self, total: int) -> None:
        pass

    def phase(self, description: str) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass(frozen=True)
class DemoOptions:
    folder: Path = DEFAULT_FOLDER
    deals: int = 500
    partners: int = 12
    cycles: int = 5  # the first cycle, then a generator step before each further one
    random_seed: int = 42
    force: bool = False


@dataclass(frozen=True)
class CycleSummary:
    """One cycle in CRM terms."""

    number: int
    after: str  # the generator step before it, or "initial sync"
    outcome: str
    seconds: float
    counts: Mapping[str, int]
    flags_written: int  # opportunities whose gate status was written
    tasks: Mapping[str, int]  # plan task actions by kind (open, update, reassign, close...)
    sla_breaches: int
    escalations: int  # breaches escalated to a person (the clock's escalate_to)
    escalation_tasks: int  # overdue tasks opened for the escalation's owner
    failures: int
    # Opportunities created for approved registrations nothing matched, by routed owner.
    created: Mapping[str, int] = field(default_factory=dict)


@dataclass
class DemoResult:
    folder: Path
    config: Path
    database: str
    sandbox_url: str
    deals: int
    partners: int
    seeded: Mapping[str, int]
    cycles: list[CycleSummary] = field(default_factory=list)
    steps: list[StepResult] = field(default_factory=list)
    flagged_opportunities: int = 0  # distinct opportunities whose gate status was written
    verdicts: Mapping[str, int] = field(default_factory=dict)  # current flags by status
    reviews: Mapping[str, int] = field(default_factory=dict)  # open review items by kind
    conflicts: int = 0
    tasks_in_ledger: Mapping[str, int] = field(default_factory=dict)  # open / done
    # Open partner tasks (side: prm) on the registrations: "partner_side" (the rep or the
    # channel manager) or "fallback" (RevOps); prm_system names where they are.
    partner_tasks: Mapping[str, int] = field(default_factory=dict)
    # Open readiness training tasks on partner accounts, counted the same way.
    training_tasks: Mapping[str, int] = field(default_factory=dict)
    prm_system: str = ""
    report: Path | None = None
    report_problem: str | None = None
    # The report's governance maturity meter: level, level_name, held_back_by and the
    # dimensions (id, label, level, next_steps); empty without a report.
    maturity: Mapping[str, Any] = field(default_factory=dict)
    sandbox_time: datetime | None = None
    elapsed_seconds: float = 0.0

    def totals(self) -> dict[str, int]:
        """Sums over every cycle."""
        total: Counter[str] = Counter()
        for cycle in self.cycles:
            total["tasks_created"] += cycle.counts.get("tasks_created", 0)
            total["tasks_closed"] += cycle.counts.get("tasks_closed", 0)
            total["tasks_updated"] += cycle.counts.get("tasks_updated", 0)
            total["tasks_reassigned"] += cycle.tasks.get(TaskActionKind.REASSIGN.value, 0)
            total["tasks_reopened"] += cycle.tasks.get(TaskActionKind.REOPEN.value, 0)
            total["sla_breaches"] += cycle.sla_breaches
            total["escalations"] += cycle.escalations
            total["escalation_tasks"] += cycle.escalation_tasks
            total["conflicts"] += cycle.counts.get("conflicts", 0)
            total["records_written"] += cycle.counts.get("records_written", 0)
            for kind in ("set", "advanced", "handed_over"):
                total[f"stages_{kind}"] += cycle.counts.get(f"stages_{kind}", 0)
            total["failures"] += cycle.failures
            total["opportunities_created"] += cycle.counts.get("opportunities_created", 0)
        return dict(total)

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder), "config": str(self.config), "database": self.database,
            "sandbox_url": self.sandbox_url, "deals": self.deals, "partners": self.partners,
            "seeded": dict(self.seeded),
            "cycles": [asdict(c) for c in self.cycles],
            "steps": [{"title": s.title, "lines": list(s.lines), "counts": dict(s.counts)}
                      for s in self.steps],
            "totals": self.totals(), "flagged_opportunities": self.flagged_opportunities,
            "verdicts": dict(self.verdicts), "reviews": dict(self.reviews),
            "conflicts": self.conflicts, "tasks_in_ledger": dict(self.tasks_in_ledger),
            "partner_tasks": dict(self.partner_tasks),
            "training_tasks": dict(self.training_tasks),
            "report": str(self.report) if self.report else None,
            "report_problem": self.report_problem, "maturity": dict(self.maturity),
            "sandbox_time": self.sandbox_time.isoformat() if self.sandbox_time else None,
            "elapsed_seconds": round(self.elapsed_seconds, 2),
        }


def prepare_folder(folder: Path, *, force: bool) -> None:
    """Refuse a non-empty folder unless forced; forced, forget the last demo's data."""
    if folder.exists() and not folder.is_dir():
        raise DemoError(f"{folder} is a file; pass --dir a folder (new or empty)")
    if folder.is_dir() and any(folder.iterdir()):
        if not force:
            raise DemoError(f"{folder} is not empty; pass --force to run the demo in it "
                            "again (its database starts over) or --dir a new folder")
        for name in OWN_FILES:
            (folder / name).unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)


class Demo:
    """One demo run: the sandbox, the store and the daemon it drives (``with Demo(...)``)."""

    def __init__(self, options: DemoOptions, *, progress: DemoProgress | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.options = options
        self.progress = progress or _Silent()
        self._monotonic = clock
        self.server: SandboxServer | None = None
        self.control: ControlClient | None = None
        self.store: Store | None = None
        self.daemon: Daemon | None = None
        self.config: Config | None = None

    def __enter__(self) -> Demo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def phases(self) -> int:
        """How many phases ``run`` reports: set-up 4, cycles, steps, the report."""
        return 4 + self.options.cycles + (self.options.cycles - 1) + 1

    def run(self) -> DemoResult:
        """Everything up to the summary; the sandbox and the daemon stay up until close()."""
        try:
            return self._run()
        except ControlError as exc:  # the sandbox died, or refused or timed out a call
            raise DemoError(f"the sandbox's control plane failed: {exc}; run the demo "
                            "again (with fewer --deals if seeding timed out)") from None

    def _run(self) -> DemoResult:
        options = self.options
        started = self._monotonic()
        folder = options.folder.resolve()
        prepare_folder(folder, force=options.force)
        self.progress.start(self.phases())

        self.progress.phase("starting the sandbox on a free loopback port")
        self.server = server = SandboxServer("127.0.0.1", 0).start()
        # From here on the sandbox is driven as any client would: over its control plane.
        self.control = control = ControlClient(server.base_url, server.ca_file)
        _start_at_noon(control)
        self.progress.phase(f"seeding {options.deals} deals from {options.partners} partners")
        seeded = control.seed(deals=options.deals, partners=options.partners,
                              random_seed=options.random_seed)
        self.progress.phase("writing the config")
        config_path = folder / CONFIG_FILE
        database = sqlite_url_for(folder / DATABASE_FILE)
        config = self.config = _write_config(server.base_url, config_path, database)
        mappings = load_mappings(Path(config.pipelines[0].mappings))
        self.progress.phase("creating the database")
        self.store = store = Store.connect(config.database.url)
        store.migrate()
        clock = control.now

        def runner_factory(pipeline: Any) -> PipelineRunner:
            return PipelineRunner(config, pipeline, store, holder=HOLDER, clock=clock)

        # --keep-running serves the admin console beside /healthz (loopback, no login:
        # the local operator is its admin).
        self.daemon = Daemon(config, store, runner_factory, holder=HOLDER, clock=clock,
                             app_factory=daemon_app_factory(config, store, clock=clock))
        result = DemoResult(folder, config_path, database, server.base_url, options.deals,
                            options.partners, seeded)
        generator = DemoGenerator(server.base_url, server.ca_file, control, mappings,
                                  random_seed=options.random_seed)
        escalation_kinds = _escalation_task_kinds(mappings)
        flagged: set[str] = set()

        self.progress.phase("cycle 1: the initial sync")
        result.cycles.append(self._cycle(1, "initial sync", escalation_kinds, flagged))
        for number, (name, step) in enumerate(generator.steps(options.cycles - 1), start=2):
            self.progress.phase(f"generator: {name}")
            result.steps.append(step())
            self.progress.phase(f"cycle {number}: after {name}")
            result.cycles.append(self._cycle(number, name, escalation_kinds, flagged))

        self.progress.phase("writing the HTML report")
        result.flagged_opportunities = len(flagged)
        self._read_store(result, mappings)
        result.sandbox_time = control.now()
        result.report, result.report_problem, result.maturity = _write_report(
            store, config, folder / REPORT_FILE, now=result.sandbox_time)
        self.progress.finish()
        result.elapsed_seconds = self._monotonic() - started
        (folder / SUMMARY_FILE).write_text(json.dumps(result.to_json(), indent=2) + "\n",
                                           encoding="utf-8")
        return result

    def close(self) -> None:
        """Stop the daemon (it closes the store) and the sandbox."""
        if self.daemon is not None:
            self.daemon.shutdown()
            self.daemon = None
        elif self.store is not None:
            self.store.close()
        self.store = None
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.server is not None:
            self.server.stop()
            self.server = None

    # -- steps ---------------------------------------------------------------------------

    def _cycle(self, number: int, after: str, escalation_kinds: frozenset[str],
               flagged: set[str]) -> CycleSummary:
        assert self.daemon is not None
        report = self.daemon.run_pipeline(PIPELINE)
        if report is None:
            raise DemoError(f"cycle {number} did not run; the log lines above say why")
        if report.outcome is RunOutcome.FAILED:
            raise DemoError(f"cycle {number} failed: {report.message}")
        return summarise_cycle(number, after, report, escalation_kinds, flagged)

    def _read_store(self, result: DemoResult, mappings: MappingSet) -> None:
        assert self.store is not None and self.control is not None
        state = self.store.load_pipeline(PIPELINE).engine
        fallback = mappings.policy.ownership.fallback_owner_email
        for anchor, counts in ((TaskAnchor.DEAL, "partner_tasks"),
                               (TaskAnchor.PARTNER, "training_tasks")):
            setattr(result, counts, dict(Counter(
                "fallback" if t.spec.assignee_email == fallback else "partner_side"
                for t in state.tasks.values() if t.spec.side is Role.PRM
                and t.spec.status is TaskStatus.OPEN and t.spec.anchor is anchor)))
        result.prm_system = SYSTEMS[mappings.prm.system.value].title
        result.verdicts = dict(Counter(v.status.value for v in state.verdicts.values()
                                       if v.crm_id is not None))
        status = self.store.status(PIPELINE, now=self.control.now())
        pipeline = status["pipelines"].get(PIPELINE, {})
        result.reviews = dict(pipeline.get("reviews", {}).get("open", {}))
        result.conflicts = int(pipeline.get("conflicts", {}).get("count", 0))
        result.tasks_in_ledger = dict(pipeline.get("tasks", {}))


def summarise_cycle(number: int, after: str, report: CycleReport,
                    escalation_kinds: frozenset[str], flagged: set[str]) -> CycleSummary:
    """A cycle report in CRM terms; adds the opportunities flagged to ``flagged``."""
    plan: Plan | None = report.plan
    tasks: Counter[str] = Counter()
    breaches = escalations = escalation_tasks = flags = 0
    if plan is not None:
        failed = {f.record_id for f in report.failures}
        for write in plan.writes:
            if write.role is Role.CRM and Output.GATE_STATUS in write.outputs \
                    and write.record_id not in failed:
                flags += 1
                flagged.add(write.record_id)
        for action in plan.tasks:
            tasks[action.kind.value] += 1
            if action.kind is TaskActionKind.OPEN and action.task.kind in escalation_kinds:
                escalation_tasks += 1
        for event in plan.sla_events:
            if event.kind is SlaEventKind.BREACHED:
                breaches += 1
                escalations += event.escalate_to is not None
    created = Counter(c.owner_email for c in plan.creations) if plan is not None else Counter()
    seconds = (report.ended_at - report.started_at).total_seconds()
    return CycleSummary(number, after, report.outcome.value, round(seconds, 2),
                        dict(report.counts), flags, dict(tasks), breaches, escalations,
                        escalation_tasks, len(report.failures), dict(sorted(created.items())))


def _escalation_task_kinds(mappings: MappingSet) -> frozenset[str]:
    """Task templates that open when an SLA breaches: the escalation's to-do."""
    return frozenset(task.kind for handoff in mappings.policy.handoff_types.values()
                     for task in handoff.tasks if task.open_while == "sla_breached")


def _write_config(url: str, path: Path, database: str) -> Config:
    """`init --sandbox`'s config, with a free health port and a short interval (so
    --keep-running and a later `handoff-sync run` never clash with another daemon)."""
    write_sandbox_config(url, path, force=True, database=database)
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        key = line.strip().split(":", 1)[0]
        indent = line[: len(line) - len(line.lstrip())]
        if key == "port" and indent == "  ":
            line = f"{indent}port: 0                             # any free port (the demo)"
        elif key == "interval_seconds":
            line = f"{indent}interval_seconds: {KEEP_RUNNING_INTERVAL_SECONDS}"
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = load_config(path)
    if config.server.port != 0:
        raise DemoError(f"could not set server.port to 0 in {path}; the config template "
                        "changed shape")
    return config


def _write_report(store: Store, config: Config, out: Path, *, now: datetime,
                  ) -> tuple[Path | None, str | None, dict[str, Any]]:
    """The HTML report and its maturity meter as plain data, or why there is none (the
    report module is optional here)."""
    try:
        from handoff_sync.report import ReportError, build_report, save_report
    except ImportError as exc:
        return None, f"the report module is not available in this build ({exc})", {}
    try:
        report = build_report(store, config, now=now)
    except ReportError as exc:
        return None, str(exc), {}
    m = report.maturity
    maturity = {"level": m.level, "level_name": m.level_name,
                "held_back_by": list(m.held_back_by),
                "dimensions": [{"id": d.id, "label": d.label, "level": d.level,
                                "next_steps": list(d.next_steps)} for d in m.dimensions]}
    return save_report(report, out, fmt="html"), None, maturity


def render_summary(result: DemoResult) -> list[str]:
    """What happened, in the words a RevOps lead uses; one string per line."""
    totals = result.totals()
    verdicts = result.verdicts
    lines = [
        f"handoff-sync demo: {result.deals} deals from {result.partners} partners, "
        f"{len(result.cycles)} sync cycles in {result.elapsed_seconds:.1f} s",
        "",
        "Cycle by cycle",
    ]
    steps = {i + 2: s for i, s in enumerate(result.steps)}
    for cycle in result.cycles:
        step = steps.get(cycle.number)
        if step is not None:
            lines.append(f"  then: {step.title}")
            lines.extend(f"        - {line}" for line in step.lines)
        counts = cycle.counts
        lines.append(
            f"  cycle {cycle.number} ({cycle.outcome}, {cycle.seconds:.1f} s): "
            f"{counts.get('records_read', 0)} records read, "
            f"{counts.get('records_written', 0)} written; "
            f"tasks {counts.get('tasks_created', 0)} created, "
            f"{counts.get('tasks_closed', 0)} closed, "
            f"{cycle.tasks.get(TaskActionKind.REASSIGN.value, 0)} reassigned; "
            f"{cycle.sla_breaches} SLA breaches, {cycle.escalations} escalations"
            + (f"; {counts.get('opportunities_created', 0)} opportunities created"
               if counts.get("opportunities_created") else "")
            + _stage_words(counts))
    flags = ", ".join(f"{count} {_flag_label(status)}" for status, count in
                      sorted(verdicts.items(), key=lambda item: -item[1]))
    reviews = ", ".join(f"{kind.replace('_', ' ')} {count}"
                        for kind, count in sorted(result.reviews.items()))
    lines += [
        "",
        "What the reps and partners see",
        f"  flags set:        {result.flagged_opportunities} opportunities got their handoff "
        f"gate status written (now {flags or 'none'})",
        f"  tasks:            {totals.get('tasks_created', 0)} created, "
        f"{totals.get('tasks_closed', 0)} closed, "
        f"{totals.get('tasks_reassigned', 0)} reassigned to a new owner, "
        f"{totals.get('tasks_updated', 0) - totals.get('tasks_reassigned', 0)} updated "
        f"({result.tasks_in_ledger.get('open', 0)} open now)",
        f"  partner tasks:    {sum(result.partner_tasks.values())} open on the "
        f"{result.prm_system} registrations, where partners work "
        f"({result.partner_tasks.get('partner_side', 0)} owned by the partner rep or the "
        f"channel manager, {result.partner_tasks.get('fallback', 0)} by RevOps)",
        f"  training tasks:   {sum(result.training_tasks.values())} open on partner "
        "accounts, one per partner and readiness dimension under its threshold "
        f"({result.training_tasks.get('partner_side', 0)} owned by the channel manager, "
        f"{result.training_tasks.get('fallback', 0)} by RevOps)",
        f"  handoff stages:   {totals.get('stages_set', 0)} deals placed in their first "
        f"stage, {totals.get('stages_advanced', 0)} advanced when a gate passed, "
        f"{totals.get('stages_handed_over', 0)} won deals handed to customer success",
        f"  SLA breaches:     {totals.get('sla_breaches', 0)} "
        f"(escalated to managers: {totals.get('escalations', 0)}; "
        f"overdue tasks opened for them: {totals.get('escalation_tasks', 0)})",
        *_created_line(result),
        f"  review queue:     {sum(result.reviews.values())} items for RevOps"
        + (f" ({reviews})" if reviews else ""),
        f"  conflicts:        {result.conflicts} fields changed on both sides "
        "(the policy picked a winner; the other value is on record)",
    ]
    if totals.get("failures"):
        lines.append(f"  write errors:     {totals['failures']} (see handoff-sync status)")
    lines += _maturity_lines(result.maturity)
    lines += ["", "Where to look next"]
    if result.report is not None:
        lines.append(f"  report:   {result.report}")
    else:
        lines.append(f"  report:   not written: {result.report_problem}")
    lines += [
        f"  config:   {result.config}",
        f"  database: {result.database}",
        f"  status:   handoff-sync status --config {result.config}",
        f"  summary:  {result.folder / SUMMARY_FILE} (the numbers above, as JSON)",
    ]
    return [for_terminal(line) for line in lines]  # step lines name sandbox records


def _created_line(result: DemoResult) -> list[str]:
    """Opportunities created for approved registrations, and who got them (none: none)."""
    owners: Counter[str] = Counter()
    for cycle in result.cycles:
        owners.update(cycle.created)
    if not owners:
        return []
    who = ", ".join(f"{email} {count}" for email, count in sorted(owners.items()))
    return [f"  opportunities:    {sum(owners.values())} created for approved registrations "
            f"that had none (routed to: {who})"]


def _maturity_lines(maturity: Mapping[str, Any]) -> list[str]:
    """The report's maturity meter: the overall level, then each dimension's level and
    the first thing its next level takes."""
    if not maturity:
        return []
    dimensions = maturity["dimensions"]
    width = max(len(d["label"]) for d in dimensions) + 2
    lines = ["", f"Governance maturity: level {maturity['level']} of 3, "
                 f"{maturity['level_name']} (the lowest of its {len(dimensions)} dimensions; "
                 "the report says why and what each next level takes)"]
    for d in dimensions:
        steps = d["next_steps"]
        lines.append(f"  {d['label'] + ':':<{width}}level {d['level']}"
                     + (f"; next: {steps[0]}" if steps else ""))
    return lines


def _flag_label(status: str) -> str:
    return {GateStatus.PASSED.value: "Passed", GateStatus.BLOCKED.value: "Blocked",
            GateStatus.NOT_REQUIRED.value: "Not Required"}.get(status, status)


def _stage_words(counts: Mapping[str, int]) -> str:
    """"; stages: 3 set, 2 advanced, 1 handed over" for a cycle that moved any."""
    parts = [f"{counts.get(f'stages_{kind}', 0)} {kind.replace('_', ' ')}"
             for kind in ("set", "advanced", "handed_over", "reopened")
             if counts.get(f"stages_{kind}")]
    return f"; stages: {', '.join(parts)}" if parts else ""


def _start_at_noon(control: ControlClient) -> None:
    """Move the sandbox's clock (still running) to noon UTC of today, before seeding.

    The seeded deals are dated back from the sandbox's now, and business-hours SLA
    clocks count working hours from those dates: started at 22:00 rather than 10:00 the
    story has one breach more. Starting every demo at the same time of day tells the
    same story whenever it is run (its date stays today's)."""
    now = control.now()
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    control.shift_clock((noon - now).total_seconds())
