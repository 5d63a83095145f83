"""One test per kind of mistake: each names the file, the line and a hint an admin can use."""

import shutil
from pathlib import Path

import pytest

from handoff_sync.errors import MappingError
from handoff_sync.mapping.loader import load_mappings, validate_mappings
from handoff_sync.problems.report import Problem
from handoff_sync.problems.yaml_source import read_yaml_file

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "mappings"
FIXTURES = ROOT / "tests" / "fixtures" / "mappings"


def edited_pack(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "pack"
    folder.mkdir()
    for name in ("hubspot.yaml", "salesforce.yaml", "handoff.yaml"):
        shutil.copy(PACK / name, folder / name)
    text = (folder / file).read_text()
    assert text.count(old) >= 1, f"{old!r} not in {file}"
    (folder / file).write_text(text.replace(old, new, 1))
    return folder


def line_of(file: Path, marker: str) -> int:
    return next(n for n, line in enumerate(file.read_text().splitlines(), 1) if marker in line)


def only_problem(folder: Path) -> Problem:
    mappings, problems = validate_mappings(folder)
    assert mappings is None
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


@pytest.mark.parametrize(("file", "old", "new", "message", "hint"), [
    # unknown key (structure)
    ("salesforce.yaml", "policy: newest_wins}", "polcy: newest_wins}",
     "unknown key 'polcy'", "did you mean 'policy'?"),
    # unknown canonical field
    ("salesforce.yaml", "  amount: {field: Amount", "  amout: {field: Amount",
     "unknown canonical field 'amout'", "did you mean 'amount'?"),
    # unknown transform
    ("salesforce.yaml", "transform: currency, direction: both, policy: newest_wins",
     "transform: curency, direction: both, policy: newest_wins",
     "expected 'text', 'email'", "did you mean 'currency'?"),
    # unknown conflict policy
    ("salesforce.yaml", "policy: newest_wins}", "policy: newest_win}",
     "expected 'prm_wins'", "did you mean 'newest_wins'?"),
    # unknown role
    ("handoff.yaml", "        assignee: crm_owner\n        due: {business_days: 1}",
     "        assignee: crm_ownr\n        due: {business_days: 1}",
     "expected 'prm_owner'", "did you mean 'crm_owner'?"),
    # a gate naming an unknown canonical field
    ("handoff.yaml", "- {field: budget, label:", "- {field: budgt, label:",
     "unknown canonical field 'budgt'", "did you mean 'budget'?"),
    # a gate naming a field no mapping provides (reference between files)
    ("handoff.yaml", "- {field: budget, label:", "- {field: custom.kickoff_at, label:",
     "no mapping provides 'custom.kickoff_at'", "hubspot.yaml or salesforce.yaml"),
    # a value map pointing at a stage handoff.yaml does not define
    ("salesforce.yaml", "2 Joint Discovery: joint_discovery", "2 Joint Discovery: joint_discovry",
     "'joint_discovry' is not a stage id in handoff.yaml", "did you mean 'joint_discovery'?"),
    # a task for a stage that does not exist
    ("handoff.yaml", "stages: [pre_handoff_assessment]", "stages: [pre_handof_assessment]",
     "no stage 'pre_handof_assessment'", "did you mean 'pre_handoff_assessment'?"),
    # an unknown placeholder
    ("handoff.yaml", 'subject: "Complete the handoff facts for {deal_name}"',
     'subject: "Complete the handoff facts for {deal_nme}"',
     "unknown placeholder {deal_nme}", "did you mean 'deal_name'?"),
    # an operator that does not suit the field's type
    ("handoff.yaml", "- {field: technical_requirements, op: contains, value: integration}",
     "- {field: technical_requirements, op: '>=', value: integration}",
     "operator '>=' does not apply to 'technical_requirements' (text)", "use '=='"),
    # a value of the wrong type for the field
    ("handoff.yaml", '- {field: amount, op: ">=", value: 100000}',
     '- {field: amount, op: ">=", value: lots}', "value does not fit 'amount' (number)", ""),
    # an unknown time zone
    ("handoff.yaml", "timezone: America/New_York", "timezone: America/NewYork",
     "unknown time zone 'America/NewYork'", "did you mean 'America/New_York'?"),
    # a wrong type
    ("handoff.yaml", "weight: 2}\n          - {field: economic_buyer",
     "weight: heavy}\n          - {field: economic_buyer", "expected a number", ""),
    # a transform that does not suit the canonical field
    ("salesforce.yaml", "close_date: {field: CloseDate, policy: crm_wins}",
     "close_date: {field: CloseDate, transform: datetime, policy: crm_wins}",
     "transform 'datetime' produces datetime, but this field holds date", "use 'date'"),
    # a field synced both ways with no conflict policy
    ("salesforce.yaml", "direction: both, policy: newest_wins}", "direction: both}",
     "needs a conflict policy", "add 'policy: prm_wins'"),
    # a format version from the future
    ("handoff.yaml", "version: 1", "version: 2", "format version 2 is newer", "upgrade"),
    # an SLA task naming a clock that does not exist
    ("handoff.yaml", "sla: first_touch", "sla: first_tuch", "no SLA clock 'first_tuch'",
     "did you mean 'first_touch'?"),
    # a value map that cannot be written back
    ("salesforce.yaml", "{Not Started: open, Completed: done}", "{Not Started: open}",
     "no system value for 'done'",
     "every value must be writable"),
    # issue 16 (5): a rejection value handoff-sync cannot tell or cannot write back
    ("salesforce.yaml", "Accepted: accepted, Rejected: rejected}",
     "Accepted: accepted, Rejected: rejectd}", "'rejectd' is not a value of "
     "'handoff_acceptance'", "did you mean 'rejected'?"),
    ("salesforce.yaml", "{Pending: pending, Accepted: accepted, Rejected: rejected}",
     "{Pending: pending, Accepted: accepted}", "no system value for 'rejected'",
     "every value must be writable"),
    # a rejection reopening a stage that does not exist
    ("handoff.yaml", "reopens: pre_handoff_assessment", "reopens: pre_handof_assessment",
     "no stage 'pre_handof_assessment'", "did you mean 'pre_handoff_assessment'?"),
    # a misspelt stop event in a list of them: the item's line, no "not a mapping" noise
    ("handoff.yaml", "- {on: handoff_accepted}", "- {on: handoff_acepted}",
     "expected 'handoff_required'", "did you mean 'handoff_accepted'?"),
    # a rejection task for a handoff type that takes no accept/reject
    ("handoff.yaml", "        open_while: gate_blocked\n        subject: \"Complete the CS",
     "        open_while: handoff_rejected\n        subject: \"Complete the CS",
     "'handoff_rejected' tasks need the handoff type's 'acceptance' section",
     "add 'acceptance: {}'"),
])
def test_each_error_names_file_line_and_hint(tmp_path, file, old, new, message, hint):
    folder = edited_pack(tmp_path, file, old, new)
    problem = only_problem(folder)
    assert problem.file == folder / file
    assert problem.line == line_of(folder / file, new.splitlines()[0])
    assert message in problem.message
    assert hint in problem.hint
    assert str(problem).startswith(f"{folder / file}:{problem.line}:{problem.column}: ")


def test_missing_required_key_names_the_key_and_its_meaning(tmp_path):
    folder = edited_pack(tmp_path, "salesforce.yaml", "object: Opportunity\n", "")
    problem = only_problem(folder)
    assert problem.message.startswith("missing required key 'object': the object")
    assert problem.hint == "add 'object:' here; see docs/admin-guide.md"


def test_every_problem_of_every_file_is_reported_at_once(tmp_path):
    folder = edited_pack(tmp_path, "salesforce.yaml", "policy: newest_wins}", "polcy: newest_wins}")
    text = (folder / "salesforce.yaml").read_text().replace("  crm_stage: StageName",
                                                            "  crm_stag: StageName")
    (folder / "salesforce.yaml").write_text(text)
    handoff = (folder / "handoff.yaml").read_text().replace("- {field: budget, label:",
                                                            "- {field: budgt, label:")
    (folder / "handoff.yaml").write_text(handoff)
    with pytest.raises(MappingError) as caught:
        load_mappings(folder)
    messages = [p.message for p in caught.value.problems]
    assert any("polcy" in m for m in messages)
    assert any("crm_stag" in m for m in messages)
    assert any("budgt" in m for m in messages)
    assert str(caught.value).endswith("3 problems in 2 files")


def test_a_broken_entry_does_not_hide_other_problems_in_the_same_file(tmp_path):
    folder = edited_pack(tmp_path, "salesforce.yaml", "direction: both, policy: newest_wins",
                         "direction: bth, policy: newest_wins")
    text = (folder / "salesforce.yaml").read_text().replace("  crm_stage: StageName",
                                                                 "  crm_stag: StageName")
    (folder / "salesforce.yaml").write_text(text)
    _, problems = validate_mappings(folder)
    assert sorted(p.message.split(",")[0] for p in problems) == [
        "expected 'read'", "unknown canonical field 'crm_stag'"]


@pytest.mark.parametrize(("fixture", "line", "message", "hint"), [
    ("tab_indent.yaml", 4, "YAML syntax error", "must be spaces"),
    ("duplicate_key.yaml", 4, "duplicate key 'role' (first written on line 2)", "keep one"),
    ("latin1.yaml", 3, "byte 0xe9 is not valid UTF-8", "save the file as UTF-8"),
    ("alias_bomb.yaml", 7, "more than 100000 values", "aliases"),
    ("deep_nesting.yaml", 1, "nesting deeper than 40 levels", "indentation"),
])
def test_malformed_yaml_files(fixture, line, message, hint):
    document, problems = read_yaml_file(FIXTURES / fixture)
    assert document is None and len(problems) == 1
    assert problems[0].line == line
    assert message in problems[0].message and hint in problems[0].hint


def test_folder_level_problems(tmp_path):
    assert "not a folder" in validate_mappings(tmp_path / "nope")[1][0].message
    folder = edited_pack(tmp_path, "handoff.yaml", "version: 1", "version: 1")
    (folder / "handoff.yaml").rename(folder / "handof.yaml")
    messages = [(p.message, p.hint) for p in validate_mappings(folder)[1]]
    assert ("unexpected file 'handof.yaml' in a mappings folder",
            "did you mean 'handoff.yaml'?") in messages
    assert any(m == "handoff.yaml is missing" for m, _ in messages)


def test_two_files_claiming_the_same_role(tmp_path):
    folder = edited_pack(tmp_path, "hubspot.yaml", "role: prm", "role: crm")
    messages = [p.message for p in validate_mappings(folder)[1]]
    assert messages.count("both hubspot and salesforce claim role 'crm'") == 2
