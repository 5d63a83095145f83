"""How the funnel's figures read in the table and HTML reports (one place, so both say
the same words with the same definitions)."""

from __future__ import annotations

from handoff_sync.report.funnel import FunnelFigures, FunnelSection, GroupFunnel
from handoff_sync.report.text import num, pct

NONE_DECLARED = ("No funnel is declared: add measures.funnels to handoff.yaml "
                 "(docs/admin-guide.md, \"Measuring handoffs\").")
NO_DEALS = "No deal entered this funnel in the period."


def money(value: float, currency: str | None) -> str:
    code = f" {currency}" if currency and currency != "mixed" else ""
    return f"{value:,.0f}{code}"


def amount_header(figures: FunnelFigures) -> str:
    if figures.currency == "mixed":
        return "amount lost (mixed currencies, summed as recorded)"
    return f"amount lost ({figures.currency})" if figures.currency else "amount lost"


def step_label(figures: FunnelFigures, step_id: str | None) -> str:
    return next((s.label for s in figures.steps if s.step == step_id), "n/a")


def headline(figures: FunnelFigures) -> list[tuple[str, str, str]]:
    """(figure, value, definition) rows: where the funnel's deals are and where they die."""
    section_rows: list[tuple[str, str, str]] = [
        ("deals entered", str(figures.entered), "which deals: " + figures.definition),
        ("reached the last step", f"{figures.completed} "
         f"({pct(_share(figures.completed, figures.entered))})",
         f"reached '{figures.steps[-1].label}' / entered" if figures.steps else ""),
        ("lost", f"{figures.lost}, {money(figures.lost_amount, figures.currency)}",
         "deals for which lost_when holds, and their amounts"),
        ("in flight", f"{figures.in_flight}, "
         f"{money(figures.in_flight_amount, figures.currency)}",
         "deals neither lost nor at the last step: still moving"),
    ]
    biggest = next((s for s in figures.steps if s.step == figures.biggest_loss), None)
    section_rows.append((
        "most dollars die at", "n/a" if biggest is None else
        f"{biggest.label}: {biggest.lost} deals, "
        f"{money(biggest.lost_amount, figures.currency)}",
        "the step where the largest amount was lost (ties: more deals, then the earlier "
        "step)"))
    weakest = next((s for s in figures.steps if s.step == figures.weakest_step), None)
    section_rows.append((
        "deals die most often at", "n/a" if weakest is None else
        f"{weakest.label}: {pct(weakest.survived_pct)} of the {weakest.settled} deals "
        "that left it moved on",
        "the step with the lowest survival (moved on / left the step, in-flight deals "
        "left out), among steps where deals died and at least min_sample deals left"))
    return section_rows


def step_numbers(figures: FunnelFigures) -> str:
    """The key to the numbered step columns of breakdowns and cohorts."""
    return ", ".join(f"{i} = {s.label}" for i, s in enumerate(figures.steps, 1))


def group_cells(figures: FunnelFigures, row: GroupFunnel) -> list[str]:
    """A breakdown or cohort row after its group: n, count per step, conversion to the
    last step with its interval, losses, weakest step."""
    interval = ("" if row.to_last_low_pct is None
                else f" [{num(row.to_last_low_pct)}-{num(row.to_last_high_pct)}]")
    weakest = step_label(figures, row.weakest_step) if row.weakest_step else (
        "n < min" if row.small else "n/a")
    return [str(row.entered), *(str(n) for n in row.reached),
            f"{pct(row.to_last_pct)}{interval}", str(row.lost),
            money(row.lost_amount, None), weakest]


def group_headers(figures: FunnelFigures, first: str) -> list[str]:
    return [first, "n", *(str(i) for i in range(1, len(figures.steps) + 1)),
            "to last step [95% CI]", "lost", amount_header(figures), "weakest step"]


# What each figure of funnel.DEFINITIONS is called on the page.
SHOWN = {
    "entered": "deals entered", "reached": "reached", "from_previous_pct": "from previous",
    "from_start_pct": "from start", "median_days": "median days from previous (n)",
    "lost": "lost", "lost_amount": "amount lost", "in_flight": "in flight",
    "survived_pct": "survived (n)", "to_last_pct": "to last step [95% CI]",
    "weakest_step": "deals die most often at / weakest step",
    "biggest_loss": "most dollars die at", "small": "n < min", "weekly": "weekly cohorts",
}


def definitions(section: FunnelSection) -> list[tuple[str, str]]:
    rows = [(SHOWN.get(key, key), text) for key, text in section.definitions.items()]
    rows.append(("min_sample", f"{section.min_sample} (handoff.yaml measures.min_sample)"))
    return rows


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100 * part / whole, 1)
