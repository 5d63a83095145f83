"""`mappings validate` on handoff.yaml's measures.funnels: each mistake names the file,
the line and what to do, in both shipped packs' wording."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handoff_sync.cli.main import main
from handoff_sync.mapping.loader import validate_mappings
from handoff_sync.testing.file_drop import file_drop_mappings
from tests.unit.test_mapping_errors import PACK, edited_pack, line_of, only_problem

STEP = """        - id: intro_held
          label: Intro call held
          reached_when: {field: intro_call_at, op: is_filled}
          at: intro_call_at
"""


@pytest.mark.parametrize(("old", "new", "message", "hint"), [
    # an unknown canonical field in a step's condition
    ("reached_when: {field: intro_call_at,", "reached_when: {field: intro_cal_at,",
     "unknown canonical field 'intro_cal_at'", "did you mean 'intro_call_at'?"),
    # a field no system file maps
    ("reached_when: {field: intro_call_at,", "reached_when: {field: custom.demo_at,",
     "no mapping provides 'custom.demo_at'", "hubspot.yaml or salesforce.yaml"),
    # an unknown key in a step
    ("          at: intro_call_at\n", "          at: intro_call_at\n          colour: red\n",
     "unknown key 'colour'", "allowed keys here: id, label, reached_when, at"),
    # an 'at' field that holds no date
    ("          at: custom.created_at ", "          at: deal_name ",
     "'deal_name' is text; 'at' names a date or datetime field", "transform: datetime"),
    # an 'at' field that does not exist
    ("          at: intro_call_at\n", "          at: intro_cal_at\n",
     "unknown canonical field 'intro_cal_at'", "did you mean 'intro_call_at'?"),
    # a step id that is no id
    ("        - id: stage_5\n", "        - id: Stage 5\n",
     "step id 'Stage 5' must be lower-case letters", ""),
    # the lost condition names an unknown field
    ("{field: is_won, op: is_false}]", "{field: is_wn, op: is_false}]",
     "unknown canonical field 'is_wn'", "did you mean 'is_won'?"),
])
def test_each_funnel_mistake_names_file_line_and_hint(tmp_path: Path, old: str, new: str,
                                                      message: str, hint: str) -> None:
    folder = edited_pack(tmp_path, "handoff.yaml", old, new)
    problem = only_problem(folder)
    assert problem.file == folder / "handoff.yaml"
    marker = next(line for line in new.splitlines() if line.strip() not in ("", old.strip()))
    assert problem.line == line_of(folder / "handoff.yaml", marker.strip())
    assert message in problem.message
    assert hint in problem.hint


def _chain(folder: Path) -> str:
    text = (folder / "handoff.yaml").read_text()
    return text[text.index("      steps:\n        - id: registered"):]


@pytest.mark.parametrize(("steps", "said"), [
    ("      steps: []\n", "funnel 'partner_chain' has no steps"),
    ("      steps:\n" + STEP, "funnel 'partner_chain' has one step"),
])
def test_an_empty_or_one_step_chain_is_refused(tmp_path: Path, steps: str, said: str) -> None:
    folder = edited_pack(tmp_path, "handoff.yaml", "version: 1", "version: 1")
    handoff = folder / "handoff.yaml"
    handoff.write_text(handoff.read_text().replace(_chain(folder), steps))
    problem = only_problem(folder)
    assert said in problem.message and "at least two" in problem.message
    assert problem.line == line_of(handoff, "      steps:")
    assert "list the chain's steps in order" in problem.hint


def test_two_funnels_with_one_id(tmp_path: Path) -> None:
    folder = edited_pack(tmp_path, "handoff.yaml", "version: 1", "version: 1")
    handoff = folder / "handoff.yaml"
    text = handoff.read_text()
    start = text.index("    - id: partner_chain\n")
    # The funnel ends where the next key (or comment) of measures: starts, if any.
    after = re.search(r"^  \S", text[start:], flags=re.MULTILINE)
    end = start + after.start() if after else len(text)
    handoff.write_text(text[:end] + text[start:end] + text[end:])
    problem = only_problem(folder)
    assert problem.message == "duplicate funnel id 'partner_chain'"
    lines = [n for n, line in enumerate(text.splitlines(), 1) if "- id: partner_chain" in line]
    assert len(lines) == 1 and problem.line == text[:end].count("\n") + 1


def test_two_steps_with_one_id_and_validate_prints_it_with_its_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = edited_pack(tmp_path, "handoff.yaml", "        - id: closed_won\n",
                         "        - id: approved\n")
    assert main(["mappings", "validate", "--mappings", str(folder)]) == 1
    captured = capsys.readouterr()
    text = captured.out + captured.err
    lines = (folder / "handoff.yaml").read_text().splitlines()
    second = [n for n, line in enumerate(lines, 1) if line == "        - id: approved"][1]
    assert f"{folder / 'handoff.yaml'}:{second}:" in text
    assert "duplicate step id 'approved'" in text and "Traceback" not in text
    assert "rename one: ids are unique within funnel 'partner_chain'" in text


def test_both_packs_ship_the_partner_chain() -> None:
    for folder in (PACK, PACK / "packs" / "salesforce-prm-hubspot-crm"):
        text = (folder / "handoff.yaml").read_text()
        assert "  funnels:\n    - id: partner_chain" in text, folder


def test_beside_a_file_drop_unmapped_fields_are_blank_not_errors(tmp_path: Path) -> None:
    """One handoff.yaml serves every PRM: a file drop maps no approved_at, so the shipped
    "approved" step is reached through registration_status and is not timed; a step that
    only an unmapped field could reach is refused, one that an unmapped field cannot stop
    is not."""
    folder = file_drop_mappings(tmp_path / "mappings")
    mappings, problems = validate_mappings(folder)
    assert problems == [] and mappings is not None
    handoff = folder / "handoff.yaml"
    text = handoff.read_text()
    handoff.write_text(text.replace(
        "              - {field: registration_status, op: in, value: [approved, handoff_ready, "
        "accepted, closed_won]}\n", "").replace(
        "reached_when: {field: kickoff_at, op: is_filled}",
        "reached_when: {not: {field: custom.never_mapped_at, op: is_filled}}"))
    problem = only_problem(folder)
    assert problem.message == ("step 'approved' can never be reached: no mapping provides "
                               "'approved_at', so this never holds")
    assert problem.hint == "map it in files.yaml or salesforce.yaml, or test another field"
    assert problem.line == line_of(handoff, "- {field: approved_at, op: is_filled}") - 2
