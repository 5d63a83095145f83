"""The report's "Partner readiness" section: each partner's readiness score, its breakdown
by dimension, the dimensions under their thresholds and the open training tasks.

Scored by the engine's own function (engine.readiness) on the same history the sync cycle
scores it on: the partner's whole history in the store, not the report period, so the
page shows what opened (and will close) each training task. Pure: a function of the
report rows.
"""

from __future__ import annotations

from collections import Counter
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

DEFINITIONS = {
    "score": "Weighted mean of the partner's dimension scores (0-100), over the dimensions "
             "that have data: a dimension with no data is left out and the others "
             "re-weighted, never scored 0. n/a: no dimension has data.",
    "dimension_score": "The dimension's score, 0-100, from its source (see each "
                       "dimension's definition).",
    "applied_weight": "The dimension's share of the partner's score once dimensions "
                      "without data are left out (its declared weight / the weight with "
                      "data).",
    "under_threshold": "Dimensions scored under their threshold: each is a training need "
                       "and opens one training task for the partner's channel manager.",
    "open_training_tasks": "Training tasks open now in the PRM, on the partner account, "
                           "one per partner and dimension under its threshold; closed by "
                           "the next sync cycle once the dimension recovers.",
    "history": "history.* dimensions count the partner's whole handoff history in the "
               "store, not the report period; a figure over fewer cases than its minimum "
               "sample is not scored.",
}


@dataclass(frozen=True, slots=True)
class DimensionDefinition:
    """One declared dimension and how it is scored."""

    id: str
    label: str
    weight: float
    source: str
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
    definitions: dict[str, str]
    threshold: float | None  # the default threshold
    dimensions: tuple[DimensionDefinition, ...]
    partners: tuple[PartnerRow, ...]  # lowest score first (no score last)
    partners_scored: int
    partners_under: int  # partners with a dimension under its threshold
    under: int  # (partner, dimension) pairs under threshold
    breakdown: tuple[BreakdownRow, ...]
    open_training_tasks: tuple[TrainingRow, ...]


def readiness(data: ReportData) -> ReadinessSection:
    policy = data.policy.readiness
    if policy is None:
        return _empty("No readiness dimensions declared: add measures.readiness to "
                      "handoff.yaml (docs/admin-guide.md, 'Measuring handoffs').")
    min_sample = data.policy.min_sample
    dimensions = tuple(DimensionDefinition(
        d.id, d.label, d.weight, d.source,
        d.threshold if d.threshold is not None else policy.threshold,
        definition(d, min_sample)) for d in policy.dimensions)
    if not data.partners:
        return _empty("No partner accounts read: the PRM file maps none (its partners: "
                      "section; a file drop holds none), or no sync cycle has read them yet.",
                      policy.threshold, dimensions)
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
    return ReadinessSection(
        enabled=True, note=f"{len(scores)} partner accounts. " + DEFINITIONS["history"],
        definitions=dict(DEFINITIONS), threshold=policy.threshold, dimensions=dimensions,
        partners=tuple(rows), partners_scored=sum(1 for p in scores if p.score is not None),
        partners_under=sum(1 for p in scores if p.under),
        under=sum(len(p.under) for p in scores),
        breakdown=tuple(row for p in scores for row in _breakdown(p)),
        open_training_tasks=tuple(training))


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


def _empty(note: str, threshold: float | None = None,
           dimensions: tuple[DimensionDefinition, ...] = ()) -> ReadinessSection:
    return ReadinessSection(threshold is not None, note, dict(DEFINITIONS),
                            threshold, dimensions, (), 0, 0, 0, (), ())


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
