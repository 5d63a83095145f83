"""Partner readiness: can this partner run its side of a handoff, dimension by dimension?

The seeds score a partner's capability in gradients, not yes/no (can it run technical
conversations, navigate its own approvals, does it have technical depth beyond one
person), and add how its past handoffs went. handoff.yaml's ``measures.readiness``
declares the dimensions; each scores 0-100 from one source:

- ``partner.<field>``, a field of the partner account: a picklist or text through its
  ``scale`` (value -> score), a number through ``full_at`` (``value / full_at``, capped at
  100), a yes/no as 100 or 0;
- ``history.<figure>``, the partner's own handoffs (all the store holds, not a report
  period, so the report shows what the training tasks were opened on):
  completeness (mean completeness of its deals needing a handoff), within_sla (finished
  SLA clocks met / met + breached), acceptance (handoffs whose current decision is
  accepted / accepted + rejected), preservation (its linked deals closed won / closed).
  Fewer cases than ``min_sample`` is "not enough history".

A dimension with no data (a blank field, a value the scale does not know, too little
history) says why and is left out: the others are re-weighted over the weight that has
data, so a partner is never marked down for what nobody recorded. The score is the
weighted mean of the dimensions that have data; a dimension under its threshold is what
a training task is opened for (engine.readiness_tasks).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from handoff_sync.engine.types import BaseSnapshot, ClockState, HandoffDecision, Verdict
from handoff_sync.mapping.policy.measures import (
    HISTORY_SOURCE,
    PARTNER_SOURCE,
    Readiness,
    ReadinessDimension,
)
from handoff_sync.model import PartnerAccount, SlaStatus, Value, partner_key

HISTORY_DEFINITIONS: Mapping[str, str] = {
    "completeness": "mean completeness of the partner's deals that need a handoff",
    "within_sla": "the partner's finished SLA clocks met in time / met + breached "
                  "(running and cancelled clocks not counted)",
    "acceptance": "the partner's handoffs whose current decision is accepted / accepted + "
                  "rejected",
    "preservation": "the partner's linked deals closed won / closed",
}
HISTORY_UNITS: Mapping[str, tuple[str, str]] = {  # (one, several)
    "completeness": ("handoff", "handoffs"),
    "within_sla": ("finished clock", "finished clocks"),
    "acceptance": ("decided handoff", "decided handoffs"),
    "preservation": ("closed deal", "closed deals"),
}


def counted(n: int, measure: str) -> str:
    """"1 handoff", "5 finished clocks": n cases of a history figure."""
    one, several = HISTORY_UNITS.get(measure, ("case", "cases"))
    return f"{n} {one if n == 1 else several}"


@dataclass(frozen=True, slots=True)
class DealHistory:
    """One deal of a partner, as its history figures count it."""

    partner: str  # the deal's partner_account
    required: bool  # the deal needs a handoff (its completeness counts)
    completeness_pct: int
    clocks_met: int = 0  # SLA clocks met
    clocks_breached: int = 0  # SLA clocks breached (running on or stopped)
    decision: str | None = None  # the current decision: accepted, rejected, else None
    closed: bool = False  # a linked partner deal, closed
    won: bool = False


@dataclass(frozen=True, slots=True)
class PartnerHistory:
    """A partner's handoffs, summed for the history.* dimensions."""

    completeness: tuple[int, ...] = ()  # of each deal needing a handoff
    clocks_met: int = 0
    clocks_breached: int = 0
    decided: int = 0
    accepted: int = 0
    closed: int = 0
    won: int = 0

    def figure(self, measure: str) -> tuple[float | None, int]:
        """(the figure in percent, or None with no case; the number of cases)."""
        if measure == "completeness":
            n = len(self.completeness)
            return (float(statistics.fmean(self.completeness)) if n else None), n
        part, whole = {"within_sla": (self.clocks_met, self.clocks_met + self.clocks_breached),
                       "acceptance": (self.accepted, self.decided),
                       "preservation": (self.won, self.closed)}[measure]
        return (100 * part / whole if whole else None), whole


NO_HISTORY = PartnerHistory()


def histories(deals: Iterable[DealHistory]) -> dict[str, PartnerHistory]:
    """Each partner's history, by ``partner_key`` of the deals' partner_account."""
    grouped: dict[str, list[DealHistory]] = defaultdict(list)
    for deal in deals:
        if deal.partner.strip():
            grouped[partner_key(deal.partner)].append(deal)
    return {key: PartnerHistory(
        completeness=tuple(d.completeness_pct for d in mine if d.required),
        clocks_met=sum(d.clocks_met for d in mine),
        clocks_breached=sum(d.clocks_breached for d in mine),
        decided=sum(1 for d in mine if d.decision in ("accepted", "rejected")),
        accepted=sum(1 for d in mine if d.decision == "accepted"),
        closed=sum(1 for d in mine if d.closed),
        won=sum(1 for d in mine if d.closed and d.won)) for key, mine in grouped.items()}


@dataclass(frozen=True, slots=True)
class DimensionScore:
    """One dimension of one partner: its score, or why it has none."""

    id: str
    label: str
    source: str
    weight: float  # as declared (the weights sum to 100)
    score: float | None  # 0-100, one decimal; None: no data (see no_data)
    applied_weight: float | None  # its share of the partner's score after re-weighting
    value: str  # what was scored, as people read it ("proficient", "2", "83.3% of 6 ...")
    n: int | None  # history.*: the cases counted; None for partner fields
    threshold: float
    under: bool  # scored under the threshold: a training need
    no_data: str | None  # why it is not scored (None: it is)
    definition: str  # how the score is made


@dataclass(frozen=True, slots=True)
class PartnerReadiness:
    """One partner's readiness: the weighted score and every dimension behind it."""

    partner_id: str
    name: str
    channel_manager: str | None  # the account owner's email
    score: float | None  # None: no dimension has data
    dimensions: tuple[DimensionScore, ...]

    @property
    def under(self) -> tuple[DimensionScore, ...]:
        return tuple(d for d in self.dimensions if d.under)


def score_partner(policy: Readiness, partner: PartnerAccount, history: PartnerHistory,
                  *, min_sample: int) -> PartnerReadiness:
    """The partner's readiness under ``policy``; ``min_sample``: measures.min_sample."""
    raw = [_dimension(d, partner.values, history, min_sample)
           for d in policy.dimensions]
    scored = [(dimension, score) for dimension, (score, _, _, _) in
              zip(policy.dimensions, raw, strict=True) if score is not None]
    weight = sum(d.weight for d, _ in scored)
    overall = _round(sum(d.weight * s for d, s in scored) / weight) if weight else None
    dimensions = []
    for dimension, (score, value, n, missing) in zip(policy.dimensions, raw, strict=True):
        threshold = dimension.threshold if dimension.threshold is not None else policy.threshold
        dimensions.append(DimensionScore(
            dimension.id, dimension.label, dimension.source, dimension.weight, score,
            _round(100 * dimension.weight / weight) if score is not None else None,
            value, n, threshold, score is not None and score < threshold, missing,
            definition(dimension, min_sample)))
    return PartnerReadiness(partner.id, partner.name, partner.owner_email, overall,
                            tuple(dimensions))


def score_partners(policy: Readiness, partners: Iterable[PartnerAccount],
                   deals: Iterable[DealHistory], *, min_sample: int
                   ) -> tuple[PartnerReadiness, ...]:
    """Every partner's readiness, by name then id."""
    by_partner = histories(deals)
    return tuple(score_partner(policy, p, by_partner.get(partner_key(p.name), NO_HISTORY),
                               min_sample=min_sample)
                 for p in sorted(partners, key=lambda p: (partner_key(p.name), p.id)))


def definition(dimension: ReadinessDimension, min_sample: int) -> str:
    """How the dimension's score is made, in one line."""
    source = dimension.source
    if source.startswith(HISTORY_SOURCE):
        measure = source.removeprefix(HISTORY_SOURCE)
        least = dimension.min_sample or min_sample
        return (f"{HISTORY_DEFINITIONS.get(measure, measure)}, in percent; at least "
                f"{counted(least, measure)}, else not scored")
    if dimension.scale is not None:
        scale = ", ".join(f"{value} = {score:g}" for value, score in dimension.scale.items())
        return f"{source} on the partner account, scored {scale}"
    if dimension.full_at is not None:
        return (f"{source} on the partner account / {dimension.full_at:g} x 100, capped at "
                "100")
    return f"{source} on the partner account: yes = 100, no = 0"


_Raw = tuple[float | None, str, int | None, str | None]


def _dimension(dimension: ReadinessDimension, values: Mapping[str, Value],
               history: PartnerHistory, min_sample: int) -> _Raw:
    """(score, value shown, n, why there is no score)."""
    source = dimension.source
    if source.startswith(HISTORY_SOURCE):
        measure = source.removeprefix(HISTORY_SOURCE)
        figure, n = history.figure(measure)
        least = dimension.min_sample or min_sample
        if figure is None:
            return None, "n/a", n, f"no {HISTORY_UNITS.get(measure, ('', 'cases'))[1]} yet"
        shown = f"{_round(figure):g}% of {counted(n, measure)}"
        if n < least:
            return None, shown, n, f"{counted(n, measure)}, fewer than {least}: not " \
                "enough history"
        return _round(figure), shown, n, None
    name = source.removeprefix(PARTNER_SOURCE) if source.startswith(PARTNER_SOURCE) else source
    value = values.get(source)
    if value is None:
        return None, "(blank)", None, f"{name} is not filled on the partner account"
    if dimension.scale is not None:
        key = _text(value)
        if key is None or key not in dimension.scale:
            return None, str(value), None, f"'{value}' has no score in the scale"
        return float(dimension.scale[key]), key, None, None
    if dimension.full_at is not None:
        if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
            return None, str(value), None, f"'{value}' is not a number"
        score = max(0.0, min(float(value) / dimension.full_at, 1.0)) * 100
        return _round(score), f"{value:g}" if isinstance(value, Decimal) else str(value), \
            None, None
    if isinstance(value, bool):
        return (100.0 if value else 0.0), "yes" if value else "no", None, None
    return None, str(value), None, (f"'{value}' cannot be scored: give the dimension a "
                                    "scale (text) or full_at (number)")


def _text(value: Value) -> str | None:
    return value if isinstance(value, str) else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def engine_histories(partner_of: Mapping[str, str], verdicts: Mapping[str, Verdict],
                     clocks: Iterable[ClockState], decisions: Mapping[str, HandoffDecision],
                     bases: Mapping[str, BaseSnapshot]) -> list[DealHistory]:
    """The deals of ``partner_of`` (deal key -> partner_account) as the engine knows them:
    verdicts, clocks, current decisions and agreed values by deal key (the store's, with
    this cycle's changes applied). The report builds the same rows from its facts."""
    met: dict[str, int] = defaultdict(int)
    breached: dict[str, int] = defaultdict(int)
    for clock in clocks:
        if clock.status is SlaStatus.MET:
            met[clock.deal] += 1
        elif clock.status is SlaStatus.BREACHED:
            breached[clock.deal] += 1
    rows = []
    for key, partner in sorted(partner_of.items()):
        verdict = verdicts.get(key)
        if verdict is None:
            continue
        decision = decisions.get(key)
        base = bases.get(key)
        agreed = base.agreed if base is not None else {}
        rows.append(DealHistory(
            partner, verdict.required, verdict.completeness_pct, met[key], breached[key],
            decision.decision.value if decision is not None else None,
            closed=base is not None and agreed.get("is_closed") is True,
            won=agreed.get("is_won") is True))
    return rows
