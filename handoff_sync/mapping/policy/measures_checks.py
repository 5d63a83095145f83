"""Check handoff.yaml's ``measures:`` section against the rest of the policy and the maps.

Part of every `mappings validate` (through ``check_policy``). Plain ranges (non-negative
grace days, targets) are the schema's and come with their line from there; here: the
on-time bonus pays 5-10% (with a hint), names a handoff type the file defines and needs
the close date it compares, and the attribution fields are canonical fields a mapping provides, each
once. Fields the admin did not write (the defaults) are not checked: a pack without
``partner_ongoing_role`` still validates, and the report says what it cannot measure.
"""

from __future__ import annotations

from connectors.reading import did_you_mean
from handoff_sync.mapping.policy.defined import keys_of
from handoff_sync.mapping.policy.measures import BONUS_PCT, Measures
from handoff_sync.mapping.policy.routing_checks import Checker
from handoff_sync.problems.report import KeyPath, one_of

_PATH: KeyPath = ("measures",)


def check_measures(check: Checker, measures: Measures) -> None:
    data = check.document.data
    written = data.get("measures") if isinstance(data, dict) else None
    if not isinstance(written, dict):
        return  # absent (defaults), or not a mapping (the schema said so)
    if isinstance(written.get("attribution_fields"), list):
        seen: set[str] = set()
        for index, name in enumerate(measures.attribution_fields):
            path: KeyPath = (*_PATH, "attribution_fields", index)
            if name in seen:
                check.add(path, f"'{name}' is listed twice in attribution_fields",
                          "list each field once")
            seen.add(name)
            check.field(path, name)
    bonus = measures.on_time_bonus
    if bonus is None:
        return
    path = (*_PATH, "on_time_bonus")
    low, high = BONUS_PCT
    if not low <= bonus.pct <= high:
        check.add((*path, "pct"), f"an on-time bonus of {bonus.pct:g}% is outside the "
                  f"{low:g}-{high:g}% partner programmes pay",
                  f"write the percentage of the deal's amount from {low:g} to {high:g}, "
                  "e.g. pct: 7; or remove on_time_bonus if the programme pays none")
    types = keys_of(data, ("handoff_types",))
    if bonus.handoff_type is not None and types.lacks(bonus.handoff_type):
        check.add((*path, "handoff_type"), f"no handoff type '{bonus.handoff_type}'",
                  did_you_mean(bonus.handoff_type, types.ids)
                  or f"handoff types: {one_of(types.ids)}")
    # The original timeline is the close date a handoff started with: no close date, no
    # bonus to judge.
    check.field(path, "close_date")
