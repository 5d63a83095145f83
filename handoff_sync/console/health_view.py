"""What the Health page shows of one pipeline, made from ``Store.status()`` (pure).

`handoff-sync status` and this page read the same JSON: the last runs, the failing
streak and its last message, per-record errors, drift, the lease and the API figures of
the last run. This module turns one pipeline's part into what a person reads: the
current failure as its class, what to look at and the message without the exception's
name; errors grouped by type with each record named (``Named``, from the mirror) and
linked (``Linker``, from the connection's URLs); the budget used and left per system;
the time since the last success. The page module does the IO (store, mirror, mappings).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handoff_sync.sync.failures import advice, classify_message, failure_text

WHY_OUTCOMES = ("failed", "partial", "interrupted")
RECORDS_PER_GROUP = 25  # records listed under one error type; the rest are counted


@dataclass(frozen=True)
class Named:
    """A record as people know it (from its mirrored version)."""

    deal: str | None = None
    account: str | None = None


# (system, object, record id) -> the record's page in its system, or None
Linker = Callable[[str, str, str], str | None]


@dataclass(frozen=True)
class Failure:
    count: int  # failed cycles in a row
    reason: str  # the failure class (auth, unreachable, ...)
    advice: str  # what to look at, for that class
    message: str  # the recorded message without its exception name
    at: datetime | None


@dataclass(frozen=True)
class RunRow:
    run_id: str
    kind: str
    outcome: str  # ok, partial, failed, interrupted, running, stale, dry_run
    started_at: datetime | None
    duration_s: float | None
    read: int
    written: int
    tasks: tuple[int, int, int]  # created, updated, closed
    errors: int | None  # None: the cycle stopped before handling records
    api_calls: int
    why: str | None  # the reason under a failed, partial or interrupted run


@dataclass(frozen=True)
class ErrorRecord:
    record_id: str
    named: Named
    url: str | None
    message: str
    fields: tuple[str, ...]
    attempts: int
    next_retry_at: datetime | None


@dataclass(frozen=True)
class ErrorGroup:
    code: str
    system: str
    object: str
    count: int
    records: tuple[ErrorRecord, ...]  # at most RECORDS_PER_GROUP

    @property
    def more(self) -> int:
        return self.count - len(self.records)


@dataclass(frozen=True)
class Budget:
    system: str
    calls_last_run: int
    used: int | None  # the org's calls today, as the system reported them
    limit: int | None  # its daily allowance
    share: float | None  # the fraction handoff-sync may spend (the connection's budget)
    unshared: str | None  # why the budget counts only one process's calls

    @property
    def left(self) -> int | None:
        return None if self.used is None or self.limit is None else max(self.limit - self.used, 0)

    @property
    def allowance(self) -> int | None:
        """The calls a day handoff-sync may spend."""
        return None if self.limit is None or self.share is None else int(self.limit * self.share)

    @property
    def used_pct(self) -> int | None:
        return None if self.used is None or not self.limit else round(100 * self.used / self.limit)


@dataclass(frozen=True)
class PipelineHealth:
    name: str
    enabled: bool
    failure: Failure | None
    last_success_at: datetime | None
    since_success: str  # "3 h 20 min ago", "never"
    lease: str  # who runs it now
    runs: tuple[RunRow, ...]
    errors: tuple[ErrorGroup, ...]
    error_count: int  # every open error, listed or not
    errors_listed: int
    retry_due: int
    budgets: tuple[Budget, ...]
    drift: tuple[tuple[str, str], ...]
    reviews_open: int
    notes: tuple[str, ...] = field(default=())  # what could not be shown, and why

    @property
    def state(self) -> str:
        """ok, failing or never (no completed cycle yet)."""
        if self.failure is not None:
            return "failing"
        return "ok" if self.last_success_at is not None else "never"


def pipeline_health(name: str, status: Mapping[str, Any] | None, now: datetime, *,
                    enabled: bool = True, names: Mapping[tuple[str, str], Named] | None = None,
                    link: Linker | None = None, shares: Mapping[str, float] | None = None,
                    notes: Sequence[str] = ()) -> PipelineHealth:
    """One pipeline's health from its part of ``Store.status()`` (None: the store has
    never seen it). ``names`` by (role, record id); ``shares`` by system."""
    status = status or {}
    names, shares = names or {}, shares or {}
    health = status.get("health") or {}
    last_success = _instant(health.get("last_success_at"))
    errors = status.get("errors") or {}
    items = list(errors.get("items") or [])
    return PipelineHealth(
        name=name, enabled=enabled, failure=_failure(health),
        last_success_at=last_success, since_success=ago(last_success, now),
        lease=_lease(status.get("lease"), now),
        runs=tuple(_run(run) for run in status.get("runs") or []),
        errors=_groups(items, names, link), error_count=int(errors.get("count") or 0),
        errors_listed=len(items), retry_due=int(errors.get("retry_due") or 0),
        budgets=_budgets(status.get("api_calls") or {}, shares),
        drift=tuple(sorted((status.get("drift") or {}).items())),
        reviews_open=sum((status.get("reviews") or {}).get("open", {}).values()),
        notes=tuple(notes))


def record_keys(status: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The (role, record id) pairs the page names: each error's record and its deal's."""
    keys: list[tuple[str, str]] = []
    for item in ((status or {}).get("errors") or {}).get("items") or []:
        keys += [(str(item["role"]), str(item["record"]))]
        deal = _deal_record(item.get("deal"))
        if deal is not None:
            keys.append(deal)
    return list(dict.fromkeys(keys))


def ago(moment: datetime | None, now: datetime) -> str:
    """``moment`` as time before ``now``, to the minute ("2 d 3 h ago", "never")."""
    if moment is None:
        return "never"
    minutes = int((now - moment).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes and not days else []
    return " ".join(parts) + " ago"


def _failure(health: Mapping[str, Any]) -> Failure | None:
    count = int(health.get("consecutive_failures") or 0)
    if not count:
        return None
    message = health.get("last_failure")
    reason = classify_message(message)
    return Failure(count, reason, advice(reason),
                   failure_text(message) if message else "no message was recorded",
                   _instant(health.get("last_failure_at")))


def _lease(lease: Mapping[str, Any] | None, now: datetime) -> str:
    if not lease or not lease.get("held"):
        return "no replica holds it now (between cycles)"
    return f"held by {lease['holder']}"


def _run(run: Mapping[str, Any]) -> RunRow:
    outcome = "stale" if run.get("stale") else str(run.get("outcome", ""))
    message = run.get("message")
    why = None
    if message and outcome in WHY_OUTCOMES:
        why = (f"{classify_message(message)}: {failure_text(message)}"
               if outcome == "failed" else str(message))
    elif outcome == "stale":
        why = "no daemon holds the lease: this cycle died without recording"
    calls = sum(int((usage or {}).get("total") or 0)
                for usage in (run.get("api_calls") or {}).values())
    stopped = outcome in ("failed", "running", "stale")
    return RunRow(
        run_id=str(run.get("run_id", "")), kind=str(run.get("kind", "")), outcome=outcome,
        started_at=_instant(run.get("started_at")), duration_s=run.get("duration_s"),
        read=int(run.get("records_read") or 0), written=int(run.get("records_written") or 0),
        tasks=(int(run.get("tasks_created") or 0), int(run.get("tasks_updated") or 0),
               int(run.get("tasks_closed") or 0)),
        errors=None if stopped else int(run.get("errors") or 0), api_calls=calls, why=why)


def _groups(items: Sequence[Mapping[str, Any]], names: Mapping[tuple[str, str], Named],
            link: Linker | None) -> tuple[ErrorGroup, ...]:
    grouped: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for item in items:
        key = (str(item.get("code") or "error"), str(item["system"]), str(item["object"]))
        grouped.setdefault(key, []).append(item)
    groups = []
    for (code, system, obj), members in grouped.items():
        records = tuple(ErrorRecord(
            record_id=str(item["record"]), named=_named(item, names),
            url=link(system, obj, str(item["record"])) if link and _linkable(item) else None,
            message=str(item.get("message") or ""), fields=tuple(item.get("fields") or ()),
            attempts=int(item.get("attempts") or 0),
            next_retry_at=_instant(item.get("next_retry_at")))
            for item in members[:RECORDS_PER_GROUP])
        groups.append(ErrorGroup(code, system, obj, len(members), records))
    # The biggest group first: the one thing that, fixed, clears most errors.
    return tuple(sorted(groups, key=lambda g: (-g.count, g.code, g.system, g.object)))


def _linkable(item: Mapping[str, Any]) -> bool:
    """A record of the system has a page; a task key or an object-wide "*" does not."""
    kind = str(item.get("kind") or "").partition(":")[0]
    return kind in ("record", "field") and str(item["record"]) != "*"


def _named(item: Mapping[str, Any], names: Mapping[tuple[str, str], Named]) -> Named:
    own = names.get((str(item["role"]), str(item["record"])))
    deal = _deal_record(item.get("deal"))
    of_deal = names.get(deal) if deal is not None else None
    return Named(deal=(own and own.deal) or (of_deal and of_deal.deal) or None,
                 account=(own and own.account) or (of_deal and of_deal.account) or None)


def _deal_record(deal: Any) -> tuple[str, str] | None:
    """A deal key (``prm:<id>`` or ``crm:<id>``) as the (role, record id) it names."""
    role, _, record_id = str(deal or "").partition(":")
    return (role, record_id) if role in ("prm", "crm") and record_id else None


def _budgets(api_calls: Mapping[str, Any], shares: Mapping[str, float]) -> tuple[Budget, ...]:
    return tuple(Budget(system=system, calls_last_run=int(usage.get("total") or 0),
                        used=_int(usage.get("daily_used")), limit=_int(usage.get("daily_limit")),
                        share=shares.get(system), unshared=usage.get("budget_unshared"))
                 for system, usage in sorted(api_calls.items()) if isinstance(usage, Mapping))


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
