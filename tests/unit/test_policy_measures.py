"""handoff.yaml's measures: section as `mappings validate` sees it: the shipped packs (which
turn the on-time bonus on) validate, and each mistake in the bonus or the attribution
fields names the file, the line and what to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handoff_sync.mapping.loader import validate_mappings
from handoff_sync.mapping.policy.measures import ATTRIBUTION_FIELDS, Measures

ROOT = Path(__file__).resolve().parents[2]
PACKS = {"hubspot-prm": ROOT / "mappings",
         "salesforce-prm": ROOT / "mappings" / "packs" / "salesforce-prm-hubspot-crm"}


def pack(tmp_path: Path, old: str = "", new: str = "", name: str = "hubspot-prm") -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(PACKS[name], folder)
    handoff = folder / "handoff.yaml"
    if old:
        text = handoff.read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        handoff.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def line_of(file: Path, marker: str) -> int:
    return next(n for n, line in enumerate(file.read_text().splitlines(), 1) if marker in line)


@pytest.mark.parametrize("name", sorted(PACKS))
def test_both_packs_turn_the_bonus_on_and_validate(tmp_path: Path, name: str) -> None:
    mappings, problems = validate_mappings(pack(tmp_path, name=name))
    assert problems == []
    assert mappings is not None
    measures = mappings.policy.measures
    assert measures.on_time_bonus is not None
    assert (measures.on_time_bonus.pct, measures.on_time_bonus.handoff_type,
            measures.on_time_bonus.grace_days) == (7, "partner_to_direct", 0)
    assert measures.targets.kickoff_business_days == 5
    assert tuple(measures.attribution_fields) == ATTRIBUTION_FIELDS


def test_without_the_keys_the_defaults_apply_and_no_bonus_is_shown() -> None:
    measures = Measures()
    assert measures.on_time_bonus is None
    assert (measures.targets.kickoff_business_days, measures.targets.attribution_pct) == (5, 100)


@pytest.mark.parametrize(("old", "new", "message", "hint"), [
    ("    pct: 7  ", "    pct: 12 ", "an on-time bonus of 12% is outside the 5-10% partner "
     "programmes pay", "from 5 to 10, e.g. pct: 7; or remove on_time_bonus"),
    ("    pct: 7  ", "    pct: 2.5", "an on-time bonus of 2.5% is outside the 5-10%", "pct: 7"),
    ("    pct: 7  ", "    pct: 0  ", "must be greater than 0", ""),
    ("    pct: 7  ", "    pct: lots", "expected a number, got the text 'lots'", ""),
    ("    handoff_type: partner_to_direct", "    handoff_type: partner_to_drect",
     "no handoff type 'partner_to_drect'", "did you mean 'partner_to_direct'?"),
    ("    grace_days: 0 ", "    grace_days: -3", "must be at least 0, got the number -3", ""),
    ("    grace_days: 0 ", "    grace_dayz: 3 ", "unknown key 'grace_dayz'",
     "did you mean 'grace_days'?"),
    ("  attribution_fields: [partner_account, ", "  attribution_fields: [partner_acount, ",
     "unknown canonical field 'partner_acount'", "did you mean 'partner_account'?"),
    ("  attribution_fields: [partner_account, ",
     "  attribution_fields: [custom.split_notes, ",
     "no mapping provides 'custom.split_notes'", "map it"),
    ("  attribution_fields: [partner_account, ",
     "  attribution_fields: [partner_split_pct, ",
     "'partner_split_pct' is listed twice in attribution_fields", "list each field once"),
    ("    kickoff_business_days: 5 ", "    kickoff_business_days: 0 ",
     "must be greater than 0, got the number 0", ""),
])
def test_each_measures_mistake_names_file_line_and_what_to_do(
        tmp_path: Path, old: str, new: str, message: str, hint: str) -> None:
    folder = pack(tmp_path, old, new)
    mappings, problems = validate_mappings(folder)
    assert mappings is None
    assert len(problems) == 1, "\n".join(map(str, problems))
    [problem] = problems
    assert problem.file == folder / "handoff.yaml"
    assert problem.line == line_of(folder / "handoff.yaml", new.strip())
    assert message in problem.message
    assert hint in problem.hint
    assert str(problem).startswith(f"{folder / 'handoff.yaml'}:{problem.line}:")


def test_a_missing_bonus_pct_says_which_key(tmp_path: Path) -> None:
    folder = pack(tmp_path, "    pct: 7                    # % of the deal's amount; "
                            "programmes pay 5 to 10\n", "")
    mappings, problems = validate_mappings(folder)
    assert mappings is None
    [problem] = problems
    assert problem.message == ("missing required key 'pct': the bonus, in percent of the "
                               "deal's amount, from 5 to 10")
    assert problem.path == ("measures", "on_time_bonus", "pct")
    assert problem.line == line_of(folder / "handoff.yaml", "on_time_bonus:") + 1
