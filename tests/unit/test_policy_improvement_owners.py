"""handoff.yaml's measures.improvement_owners as `mappings validate` sees it: both packs
name an owner for every figure held to a target, and each mistake an admin can make names
the file, the line and a hint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handoff_sync.mapping.loader import validate_mappings
from handoff_sync.mapping.policy.measures import (
    IMPROVABLE_FIGURES,
    TARGET_OF,
    TARGETED_FIGURES,
    Targets,
)

ROOT = Path(__file__).resolve().parents[2]
PACKS = {"hubspot-prm": ROOT / "mappings",
         "salesforce-prm": ROOT / "mappings" / "packs" / "salesforce-prm-hubspot-crm"}
ANCHOR = "    completeness: revops@example.com\n"


def pack_with(tmp_path: Path, old: str, new: str, pack: str = "hubspot-prm") -> Path:
    folder = tmp_path / "pack"
    folder.mkdir()
    for name in ("hubspot.yaml", "salesforce.yaml", "handoff.yaml"):
        shutil.copy(PACKS[pack] / name, folder / name)
    text = (folder / "handoff.yaml").read_text()
    assert text.count(old) == 1, old
    (folder / "handoff.yaml").write_text(text.replace(old, new))
    return folder


def line_of(file: Path, marker: str) -> int:
    return next(n for n, line in enumerate(file.read_text().splitlines(), 1) if marker in line)


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_both_packs_name_an_owner_for_every_targeted_figure(pack: str) -> None:
    mappings, problems = validate_mappings(PACKS[pack])
    assert problems == []
    assert mappings is not None
    owners = mappings.policy.measures.improvement_owners
    assert set(TARGETED_FIGURES) | {"rejection_rate"} <= set(owners)
    assert set(owners) <= set(IMPROVABLE_FIGURES)


@pytest.mark.parametrize(("new", "message", "hint"), [
    # a misspelt figure
    ("    completenes: revops@example.com\n", "no figure 'completenes' to own the "
     "improvement of", "did you mean 'completeness'?"),
    # a figure the report does not measure
    ("    happiness: revops@example.com\n", "no figure 'happiness'", "'completeness', "),
    # an owner that is not an email
    ("    completeness: RevOps team\n", "the owner of 'completeness': 'revops team' is "
     "not an email address", "completeness: revops@example.com"),
    # a list where one person goes
    ("    completeness: [a@example.com, b@example.com]\n", "expected text, got a list", ""),
])
def test_each_mistake_names_file_line_and_hint(tmp_path: Path, new: str, message: str,
                                               hint: str) -> None:
    folder = pack_with(tmp_path, ANCHOR, new)
    mappings, problems = validate_mappings(folder)
    assert mappings is None
    assert len(problems) == 1, "\n".join(map(str, problems))
    problem = problems[0]
    assert problem.file == folder / "handoff.yaml"
    assert problem.line == line_of(folder / "handoff.yaml", new.strip())
    assert message in problem.message
    assert hint in problem.hint
    assert str(problem).startswith(f"{folder / 'handoff.yaml'}:{problem.line}:")


def test_without_the_section_the_policy_names_nobody(tmp_path: Path) -> None:
    text = (PACKS["hubspot-prm"] / "handoff.yaml").read_text()
    block = "".join(line for line in text.splitlines(keepends=True)
                    if line.startswith("  improvement_owners:")
                    or (line.startswith("    ") and "@" in line and ":" in line
                    and line.split(":")[0].strip() in IMPROVABLE_FIGURES))
    shipped, _ = validate_mappings(PACKS["hubspot-prm"])
    assert shipped is not None  # the block is the key and a line per owner it names
    assert block.count("\n") == 1 + len(shipped.policy.measures.improvement_owners)
    folder = pack_with(tmp_path, block, "")
    mappings, problems = validate_mappings(folder)
    assert problems == [] and mappings is not None
    assert mappings.policy.measures.improvement_owners == {}


def test_every_target_is_a_figure_someone_can_own() -> None:
    """A target added to measures.targets joins TARGET_OF, so the maturity meter asks for
    its improvement owner (and the admin guide's figure list names it)."""
    assert sorted(TARGET_OF.values()) == sorted(Targets.model_fields)
    assert set(TARGET_OF) <= set(IMPROVABLE_FIGURES)
