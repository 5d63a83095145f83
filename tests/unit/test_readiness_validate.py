"""Bad readiness input in handoff.yaml: `mappings validate` names the file, the line and
what to do, never a traceback (both packs ship a valid measures.readiness)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from handoff_sync.mapping.loader import validate_mappings
from handoff_sync.problems.report import Problem
from handoff_sync.testing.yaml_text import without_section

ROOT = Path(__file__).resolve().parents[2]
PACKS = {"default": ROOT / "mappings",
         "reversed": ROOT / "mappings" / "packs" / "salesforce-prm-hubspot-crm"}


def edited(tmp_path: Path, pack: str, file: str, old: str, new: str) -> Path:
    folder = tmp_path / pack
    shutil.copytree(PACKS[pack], folder)
    text = (folder / file).read_text()
    assert old in text, f"{old!r} not in {file}"
    (folder / file).write_text(text.replace(old, new, 1))
    return folder


def only_problem(folder: Path) -> Problem:
    mappings, problems = validate_mappings(folder)
    assert mappings is None
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def line_of(file: Path, marker: str) -> int:
    return next(n for n, line in enumerate(file.read_text().splitlines(), 1) if marker in line)


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_both_packs_declare_the_seeds_dimensions(pack: str) -> None:
    mappings, problems = validate_mappings(PACKS[pack])
    assert problems == [] and mappings is not None
    readiness = mappings.policy.measures.readiness
    assert readiness is not None and readiness.training_task is not None
    assert [d.id for d in readiness.dimensions] == [
        "technical_conversations", "approval_navigation", "technical_depth",
        "past_handoff_quality"]
    assert sum(d.weight for d in readiness.dimensions) == 100


@pytest.mark.parametrize(("pack", "prm"), [("default", "hubspot.yaml"),
                                           ("reversed", "salesforce.yaml")])
def test_a_field_the_partners_section_does_not_map(tmp_path: Path, pack: str,
                                                   prm: str) -> None:
    folder = edited(tmp_path, pack, "handoff.yaml", "source: partner.certified_engineers",
                    "source: partner.certified_engineer")
    problem = only_problem(folder)
    assert problem.file.name == "handoff.yaml"
    assert problem.line == line_of(folder / "handoff.yaml", "partner.certified_engineer")
    assert problem.message == ("'partner.certified_engineer' is not mapped in the partners: "
                               f"section of {prm}")
    assert problem.hint == "did you mean 'partner.certified_engineers'?"


def test_a_prm_file_without_partners_section(tmp_path: Path) -> None:
    folder = edited(tmp_path, "default", "handoff.yaml", "x", "x")
    hubspot = folder / "hubspot.yaml"
    hubspot.write_text(without_section(hubspot.read_text(), "partners"))
    _, problems = validate_mappings(folder)
    messages = [p.message for p in problems]
    assert messages.count("'partner.technical_conversations' is a partner account field, "
                          "but hubspot.yaml has no partners: section") == 1
    assert "training tasks go on the partner accounts, but hubspot.yaml has no partners: " \
        "section" in messages
    assert all(p.file.name == "handoff.yaml" and p.line > 1 for p in problems)
    assert len(problems) == 4  # three partner.* dimensions and the training task


def test_weights_that_do_not_sum_to_100(tmp_path: Path) -> None:
    folder = edited(tmp_path, "default", "handoff.yaml", "        weight: 20\n",
                    "        weight: 25\n")
    problem = only_problem(folder)
    assert problem.line == line_of(folder / "handoff.yaml", "    dimensions:")
    assert problem.message == (
        "the readiness dimensions' weights sum to 105, not 100 (technical_conversations 30, "
        "approval_navigation 25, technical_depth 25, past_handoff_quality 25)")
    assert "share of 100" in problem.hint


@pytest.mark.parametrize(("old", "new", "message"), [
    ("    threshold: 50\n", "    threshold: 150\n", "at most 100"),
    ("        full_at: 3\n", "        full_at: 3\n        threshold: -5\n", "at least 0"),
    ("{needs_support: 0, basic: 40,", "{needs_support: 0, basic: 140,", "at most 100"),
])
def test_thresholds_and_scores_out_of_range(tmp_path: Path, old: str, new: str,
                                            message: str) -> None:
    folder = edited(tmp_path, "default", "handoff.yaml", old, new)
    problem = only_problem(folder)
    marker = new.strip().split("\n")[-1].strip()
    assert problem.line == line_of(folder / "handoff.yaml", marker)
    assert message in problem.message


@pytest.mark.parametrize(("old", "new", "message", "hint"), [
    ("scale: {vendor_led: 0, assisted: 50, independent: 100}",
     "scale: {vendor_led: 0, asisted: 50, independent: 100}",
     "'asisted' is not a value of partner.approval_navigation",
     "did you mean 'assisted'?"),
    ("scale: {vendor_led: 0, assisted: 50, independent: 100}",
     "scale: {vendor_led: 0, independent: 100}",
     "the scale gives no score for 'assisted' (partner.approval_navigation takes that "
     "value)", "add a score for each value"),
    ("        full_at: 3\n", "", "partner.certified_engineers is a number: say which value "
     "scores 100", "add full_at: <number>"),
    ("source: history.completeness", "source: history.completenes",
     "unknown history figure 'history.completenes'", "did you mean 'history.completeness'?"),
    ("source: history.completeness", "source: completeness",
     "source 'completeness' is neither a partner field nor a history figure",
     "write partner.<field>"),
    ("{partner_name} scores {dimension_score}", "{partner} scores {dimension_score}",
     "unknown placeholder {partner} in the training task", "did you mean 'partner_name'?"),
    ("      calendar: us_business\n", "      calendar: eu_business\n",
     "no calendar named 'eu_business'", "did you mean 'us_business'?"),
    ("      - id: approval_navigation", "      - id: technical_conversations",
     "duplicate dimension id 'technical_conversations'", "ids must be unique"),
])
def test_meaning_problems_name_the_line_and_what_to_do(tmp_path: Path, old: str, new: str,
                                                       message: str, hint: str) -> None:
    folder = edited(tmp_path, "default", "handoff.yaml", old, new)
    problem = only_problem(folder)
    assert problem.message == message
    assert problem.hint.startswith(hint)
    assert problem.file.name == "handoff.yaml" and problem.line > 1


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_the_admin_guides_training_task_is_the_packs(pack: str) -> None:
    """The guide's example is the task the packs ship: no {readiness_score} in the body,
    which moves with any dimension and would rewrite every open task of the partner."""
    guide = (ROOT / "docs" / "admin-guide.md").read_text()
    section = guide[guide.index("### Partner readiness"):]
    block = section[section.index("```yaml") + len("```yaml"):section.index("```\n")]
    example = yaml.safe_load(block)["measures"]["readiness"]["training_task"]
    shipped = yaml.safe_load((PACKS[pack] / "handoff.yaml").read_text())[
        "measures"]["readiness"]["training_task"]
    assert "{readiness_score}" not in example["body"]
    assert {k: v for k, v in example.items() if k != "priority"} == shipped
