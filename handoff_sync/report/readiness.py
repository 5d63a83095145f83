"""The report's "Partner readiness" section: each partner's readiness score, its breakdown
by dimension, the dimensions under their thresholds and the open training tasks.

Scored by the engine's own function (engine.readiness) on the same history the sync cycle
scores it on: the partner's whole history in the store, not the report period, so the
page shows what opened (and will close) each training task. Pure: a function of the
report rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from handoff_sync.engine.readiness import (
    DealHistory,
    PartnerReadiness,
    definition,
    score_partners,
)
from handoff_sync.engine.readiness_tasks import dimension_of
from handoff_sync.report.facts import DIRECT, PARTNER, ReportData
from handoff_sync.report.figure import Column, Figure

HISTORY_NOTE = ("history.* dimensions count the partner's whole handoff history in the "
                "store, not the report period; a figure over fewer cases than its minimum "
                "sample is not scored.")
SCORE_DEFINITION = ("Weighted mean of the partner's dimension scores (0-100), over the "
                    "dimensions that have data: a dimension with no data is left out and the "
                    "others re-weighted, never scored 0. n/a: no dimension has data.")
UNDER_DEFINITION = ("A dimension scored under its threshold is a training need: it opens one "
                    "training task for the partner's channel manager.")
TASKS_DEFINITION = ("Training tasks open now in the PRM, on the partner account, one per "
                    "partner and dimension under its threshold; the next sync cycle closes "
                    "one once its dimension is back at or above the threshold.")
DIMENSION_COLUMNS = (
    Column("label", "dimension", "What the partner is scored on (its id in brackets)."),
    Column("source", "source", "partner.<field>: a field of the partner account; "
           "history.<figure>: the partner's own handoffs."),
    Column("weight", "weight", "Its share of the readiness score; the weights sum to 100."),
    Column("threshold", "threshold", "Under this score the dimension is a training need."),
    Column("definition", "how it is scored", "How the source becomes a score of 0-100."),
)
PARTNER_COLUMNS = (
    Column("partner", "partner", "The partner account (the name deals carry as their "
           "partner)."),
    Column("score", "readiness", SCORE_DEFINITION),
    Column("weight_with_data", "weight with data", "The declared weight (of 100) of the "
           "dimensions that have data: what the score stands on."),
    Column("cells", "one column per dimension", "Its score (what was scored), ', under "
           "<threshold>' when under it; n/a with the cases counted (n=, history) or the "
           "value (a field) when there is no score."),
    Column("open_training_tasks", "open training tasks", TASKS_DEFINITION),
    Column("channel_manager", "channel manager", "The partner account's owner, who gets its "
           "training tasks (else the policy's fallback owner)."),
)
BREAKDOWN_COLUMNS = (
    Column("group", "partner / dimension", "One partner's one dimension."),
    Column("score", "score", "The dimension's score, 0-100, from its source; none: no "
           "data."),
    Column("value", "scored value", "What was scored: the field's value, or the history "
           "figure with its n."),
    Column("n", "n", "history.*: the cases counted (handoffs, finished clocks, decided "
           "handoffs, closed deals)."),
    Column("weight", "weight", "The declared weight."),
    Column("applied_weight", "applied weight", "Its share of the partner's score once "
           "dimensions without data are left out (declared weight / weight with data)."),
    Column("threshold", "threshold", "Under this score the dimension is a training need."),
    Column("status", "status", "under threshold, ok, or no data and why."),
)
TRAINING_COLUMNS = (
    Column("group", "partner / dimension", "The partner and the dimension under its "
           "threshold the task is for."),
    Column("assignee", "assignee", "Who holds the task: the channel manager, else the "
           "fallback owner."),
    Column("due_at", "due", "When the task is due (set when it opened, never moved)."),
)


@dataclass(frozen=True, slots=True)
class DimensionDefinition:
    """One declared dimension and how it is scored."""

    id: str
    label: str
    source: str
    weight: float
    threshold: float
    definition: str


@dataclass(frozen=True, slots=True)
class PartnerRow:
    partner: str
    score: float | None  # readiness, 0-100 (None: no dimension has data)
    weight_with_data: float  # the declared weight (of 100) its score stands on
    under: str  # the labels of its dimensions under threshold, "; " between them
    open_training_tasks: int
    channel_manager: str | None


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    group: str  # "<partner> / <dimension id>"
    partner: str
    dimension: str  # the dimension's label
    score: float | None
    value: str  # what was scored
    n: int | None  # history.*: the cases counted
    weight: float
    applied_weight: float | None
    threshold: float
    status: str  # "under threshold", "ok", or "no data: <why>"


@dataclass(frozen=True, slots=True)
class TrainingRow:
    group: str  # "<partner> / <dimension id>"
    partner: str
    dimension: str
    assignee: str | None
    due_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReadinessSection:
    enabled: bool  # handoff.yaml declares measures.readiness
    note: str  # what the section stands on, or why it is empty
    threshold: float | None  # the default threshold
    partners_scored: Figure  # partners with a score, n = partner accounts
    partners_under: Figure
    under: Figure  # (partner, dimension) pairs under threshold
    open_training_tasks: Figure
    dimensions: tuple[DimensionDefinition, ...]
    dimension_columns: tuple[Column, ...]
    partners: tuple[PartnerRow, ...]  # lowest score first (no score last)
    partner_columns: tuple[Column, ...]
    breakdown: tuple[BreakdownRow, ...]
    breakdown_columns: tuple[Column, ...]
    training_tasks: tuple[TrainingRow, ...]
    training_columns: tuple[Column, ...]


def readiness(data: ReportData) -> ReadinessSection:
    policy = data.policy.readiness
    if policy is None:
        return _section("No readiness dimensions declared: add measures.readiness to "
                        "handoff.yaml (docs/admin-guide.md, 'Measuring handoffs').")
    min_sample = data.policy.min_sample
    dimensions = tuple(DimensionDefinition(
        d.id, d.label, d.source, d.weight,
        d.threshold if d.threshold is not None else policy.threshold,
        definition(d, min_sample)) for d in policy.dimensions)
    if not data.partners:
        return _section("No partner accounts read: the PRM file maps none (its partners: "
                        "section; a file drop holds none), or no sync cycle has read them "
                        "yet.", policy.threshold, dimensions)
    scores = score_partners(policy, data.partners, deal_histories(data),
                            min_sample=min_sample)
    names = {p.partner_id: p.name for p in scores}
    labels = {d.id: d.label for d in policy.dimensions}
    tasks = [t for t in data.tasks if t.anchor == "partner" and t.status == "open"
             and t.record in names and dimension_of(t.kind) is not None]
    open_by_partner = Counter(t.record for t in tasks)
    rows = sorted((_partner_row(p, open_by_partner[p.partner_id]) for p in scores),
                  key=lambda r: (r.score is None, r.score or 0, r.partner))
    training = sorted((TrainingRow(
        f"{names[t.record or '']} / {dimension_of(t.kind)}", names[t.record or ""],
        labels.get(dimension_of(t.kind) or "", dimension_of(t.kind) or ""), t.assignee,
        t.due_at) for t in tasks), key=lambda r: r.group)
    return _section(
        f"{len(scores)} partner accounts. {HISTORY_NOTE}", policy.threshold, dimensions,
        scores, tuple(rows), tuple(row for p in scores for row in _breakdown(p)),
        tuple(training))


def deal_histories(data: ReportData) -> list[DealHistory]:
    """The partners' deals as engine.readiness counts them (engine_histories' rows, from
    the report's facts): SLA clocks met or breached, the current decision, closed and won
    for linked deals."""
    met: Counter[str] = Counter()
    breached: Counter[str] = Counter()
    for clock in data.clocks:
        if clock.status == "met":
            met[clock.deal] += 1
        elif clock.status == "breached":
            breached[clock.deal] += 1
    current: dict[str, str] = {}
    for decision in data.decisions:  # in the order recorded: the last one stands
        current[decision.deal] = decision.decision
    return [DealHistory(
        deal.partner, deal.required, deal.completeness_pct, met[deal.key], breached[deal.key],
        current.get(deal.key) if current.get(deal.key) in ("accepted", "rejected") else None,
        closed=deal.kind == PARTNER and deal.is_closed,
        won=deal.kind == PARTNER and deal.is_won)
        for deal in data.deals if deal.kind != DIRECT and deal.partner]


def _partner_row(partner: PartnerReadiness, open_tasks: int) -> PartnerRow:
    return PartnerRow(
        partner.name, partner.score,
        sum(d.weight for d in partner.dimensions if d.score is not None),
        "; ".join(d.label for d in partner.under), open_tasks, partner.channel_manager)


def _breakdown(partner: PartnerReadiness) -> list[BreakdownRow]:
    return [BreakdownRow(
        f"{partner.name} / {d.id}", partner.name, d.label, d.score, d.value, d.n, d.weight,
        d.applied_weight, d.threshold,
        "under threshold" if d.under else ("ok" if d.no_data is None
                                           else f"no data: {d.no_data}"))
        for d in partner.dimensions]


def _section(note: str, threshold: float | None = None,
             dimensions: tuple[DimensionDefinition, ...] = (),
             scores: Sequence[PartnerReadiness] = (), partners: tuple[PartnerRow, ...] = (),
             breakdown: tuple[BreakdownRow, ...] = (),
             training: tuple[TrainingRow, ...] = ()) -> ReadinessSection:
    """The section; without ``threshold`` (no readiness declared) it is not enabled, and
    its figures are n/a saying why."""
    why = "" if threshold is not None else "no readiness dimensions declared"

    def counted(label: str, value: int, definition: str, n: int | None = None) -> Figure:
        return Figure(label, None if why else value, definition, n=n, why=why)

    return ReadinessSection(
        enabled=threshold is not None, note=note, threshold=threshold,
        partners_scored=counted(
            "partners scored", sum(1 for p in scores if p.score is not None),
            "Partner accounts with a readiness score, of every partner account (n). "
            + SCORE_DEFINITION, n=len(scores)),
        partners_under=counted(
            "partners under threshold", sum(1 for p in scores if p.under),
            "Partner accounts with at least one dimension under its threshold. "
            + UNDER_DEFINITION),
        under=counted(
            "dimensions under threshold", sum(len(p.under) for p in scores),
            "Partner x dimension pairs scored under the dimension's threshold. "
            + UNDER_DEFINITION),
        open_training_tasks=counted("open training tasks", len(training), TASKS_DEFINITION),
        # No readiness declared: no tables, so no columns to define.
        dimensions=dimensions, dimension_columns=() if why else DIMENSION_COLUMNS,
        partners=partners, partner_columns=() if why else PARTNER_COLUMNS,
        breakdown=breakdown, breakdown_columns=() if why else BREAKDOWN_COLUMNS,
        training_tasks=training, training_columns=() if why else TRAINING_COLUMNS)


def matrix(section: ReadinessSection) -> list[tuple[PartnerRow, list[BreakdownRow]]]:
    """Each partner row (in the section's order) with its dimensions' rows, in the
    policy's order: the partner x dimension view the renderers show."""
    cells: dict[str, list[BreakdownRow]] = {}
    for row in section.breakdown:
        cells.setdefault(row.partner, []).append(row)
    return [(partner, cells.get(partner.partner, [])) for partner in section.partners]


def cell_text(row: BreakdownRow) -> str:
    """One partner's dimension in a few words: its score and what was scored, under its
    threshold, or n/a with the cases counted (history) or the value (a field)."""
    if row.score is None:  # the breakdown row's status says why in full
        if row.n is not None:
            return f"n/a (n={row.n})"
        return "n/a (blank)" if row.value == "(blank)" else f"n/a ({row.value})"
    score = f"{row.score:.0f}" if float(row.score).is_integer() else f"{row.score:.1f}"
    shown = f"{score} ({row.value})"
    return f"{shown}, under {row.threshold:g}" if row.status == "under threshold" else shown
