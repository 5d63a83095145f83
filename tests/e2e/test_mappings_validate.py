"""`handoff-sync mappings validate --mappings DIR` as an admin runs it: one run lists the
structural problems of one file and the problems between the others, each at its
file:line:column, sorted; `plan` refuses the folder with the same list."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

EXE = str(Path(sys.executable).with_name("handoff-sync"))
REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=60)


def edit(file: Path, old: str, new: str) -> int:
    """Replace ``old`` once; the 1-based line the edit is on."""
    text = file.read_text()
    assert old in text, f"{old!r} not in {file.name}"
    file.write_text(text.replace(old, new, 1))
    return text[:text.index(old)].count("\n") + 1


def test_structural_and_cross_file_problems_in_one_run(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    shutil.copytree(REPO / "mappings", folder, ignore=shutil.ignore_patterns("packs"))
    hubspot, salesforce, handoff = (folder / f"{name}.yaml"
                                    for name in ("hubspot", "salesforce", "handoff"))
    # hubspot.yaml: a top-level key of the wrong type, and a broken entry (the only one
    # mapping registration_status, which a gate of handoff.yaml tests).
    modified = edit(hubspot, "modified_field: hs_lastmodifieddate",
                    "modified_field: [hs_lastmodifieddate]")
    status = edit(hubspot, "    field: dealstage\n", "    field: dealstage\n    direction: bth\n")
    # Between the two files that loaded: a gate naming a field neither system file maps,
    # and a value map naming a stage handoff.yaml does not define.
    gate = edit(handoff, "- {field: commitments, label:", "- {field: custom.kickoff_at, label:")
    stage = edit(salesforce, "2 Joint Discovery: joint_discovery",
                 "2 Joint Discovery: joint_discovry")

    result = run("mappings", "validate", "--mappings", str(folder))

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    # Exactly these: nothing about the gate testing registration_status (its entry did not
    # load, so whether it is mapped is unknown), nor a missing prm side.
    assert result.stdout.splitlines() == [
        f"{handoff}:{gate}:21: handoff_types.closed_won_to_cs.stages[0].gate[2].field: "
        "no mapping provides 'custom.kickoff_at' (map it (direction read or both) in "
        "hubspot.yaml or salesforce.yaml)",
        f"{hubspot}:{modified}:17: modified_field: expected text, got a list",
        f"{hubspot}:{status + 1}:16: fields.registration_status.direction: expected 'read', "
        "'write' or 'both', got the text 'bth' (did you mean 'both'?)",
        f"{salesforce}:{stage}:26: fields.handoff_stage.values.'2 Joint Discovery': "
        "'joint_discovry' is not a stage id in handoff.yaml (did you mean 'joint_discovery'?)",
        "4 problems in 3 files; nothing was synced.",
    ]

    plan = run("plan", "--prm", str(DATA / "plan_prm.jsonl"), "--crm",
               str(DATA / "plan_crm.json"), "--mappings", str(folder))
    assert plan.returncode == 1
    assert plan.stdout.splitlines()[:-1] == result.stdout.splitlines()[:-1]
    assert "are invalid; fix them first" in plan.stdout.splitlines()[-1]


def test_the_shipped_packs_validate() -> None:
    for folder in (REPO / "mappings", REPO / "mappings" / "packs" / "salesforce-prm-hubspot-crm"):
        result = run("mappings", "validate", "--mappings", str(folder))
        assert result.returncode == 0, result.stdout
        assert result.stdout.startswith(f"mappings OK: {folder} ")


def test_partner_tasks_need_the_prm_tasks_section_and_a_real_channel_manager_field(
        tmp_path: Path) -> None:
    """side: prm with no tasks section in the PRM file, and a channel_manager_field naming
    no field: each a problem at its line, never a traceback."""
    folder = tmp_path / "mappings"
    shutil.copytree(REPO / "mappings", folder, ignore=shutil.ignore_patterns("packs"))
    hubspot, handoff = folder / "hubspot.yaml", folder / "handoff.yaml"
    text = hubspot.read_text()
    hubspot.write_text(text[:text.index("\n# Partner tasks")]
                       + text[text.index("\n# Partner companies"):])
    side = edit(handoff, "        side: prm ", "        side: prm ")
    rejected = edit(handoff, "side: prm                        # back to the partner",
                    "side: prm                        # back to the partner")
    manager = edit(handoff, "channel_manager_field: custom.channel_manager_email",
                   "channel_manager_field: channel_manager_emial")
    task_link = edit(hubspot, "  task_link:", "  task_link:")

    result = run("mappings", "validate", "--mappings", str(folder))

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines() == [
        f"{handoff}:{manager}:26: ownership.channel_manager_field: unknown canonical field "
        "'channel_manager_emial' (name a canonical field or custom.<name> holding an email)",
        f"{handoff}:{side}:15: handoff_types.partner_to_direct.tasks[0].side: side: prm "
        "tasks are written to the PRM, but hubspot.yaml has no tasks section (add 'tasks:' "
        "to hubspot.yaml (see docs/admin-guide.md), or write side: crm)",
        f"{handoff}:{rejected}:15: handoff_types.partner_to_direct.tasks[1].side: side: prm "
        "tasks are written to the PRM, but hubspot.yaml has no tasks section (add 'tasks:' "
        "to hubspot.yaml (see docs/admin-guide.md), or write side: crm)",
        # Tasks on partner accounts (readiness training) are written with it too.
        f"{hubspot}:{task_link}:3: partners.task_link: tasks for partners are written with "
        "this file's tasks: section, which it lacks (add a tasks: section (see "
        "docs/admin-guide.md), or remove task_link)",
        "4 problems in 2 files; nothing was synced.",
    ]


def test_a_create_default_that_is_a_list_or_mapping_is_a_problem_at_its_line(
        tmp_path: Path) -> None:
    """A created record's default is one value: a list or a mapping would fail every
    creation at run time, so validate names it."""
    folder = tmp_path / "mappings"
    shutil.copytree(REPO / "mappings", folder, ignore=shutil.ignore_patterns("packs"))
    salesforce = folder / "salesforce.yaml"
    line = edit(salesforce, "    StageName: Prospecting",
                "    StageName: [Prospecting, Qualification]")

    result = run("mappings", "validate", "--mappings", str(folder))

    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines()[0].startswith(
        f"{salesforce}:{line}:16: create.defaults.StageName: a default is one value")
