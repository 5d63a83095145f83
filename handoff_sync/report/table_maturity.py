"""The "Governance maturity" section for the terminal: the overall level, each
dimension's level with what it shows and what the next level takes, the rules, and who
owns improving each figure."""

from __future__ import annotations

from rich.table import Table

from handoff_sync.report import table_kit as kit
from handoff_sync.report.figures import Report
from handoff_sync.report.maturity import TOP


def render(report: Report) -> list[Table]:
    m = report.maturity
    held = (f"held back by {', '.join(m.held_back_by)}" if m.level < TOP
            else "every dimension at the top level")
    levels = kit.text_table(
        f"level {m.level} of {TOP}: {m.level_name} (the lowest dimension; {held})",
        ("dimension", "level", "what the store and handoff.yaml show",
         "to reach the next level"),
        [(d.label, f"{d.level} {d.level_name}", d.evidence,
          "\n".join(f"- {step}" for step in d.next_steps) or "at the top level")
         for d in m.dimensions])
    rules = kit.text_table(m.definition, ("dimension", "rule"),
                           [(d.label, d.definition) for d in m.dimensions])
    owners = kit.text_table("who owns improving each figure (measures.improvement_owners)",
                            ("figure", "improvement owner", "held to a target"),
                            [(o.label, o.owner or "nobody named",
                              "yes" if o.targeted else "no")
                             for o in m.improvement_owners])
    return [levels, rules, owners]
