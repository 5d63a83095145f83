"""Mapping edits keep the file as the admin wrote it: comments, order, wrapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff_sync.console.yaml_edit import DELETE, Change, EditError, apply

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@pytest.mark.parametrize("path", sorted(MAPPINGS.rglob("*.yaml")), ids=lambda p: p.name)
def test_no_change_leaves_every_shipped_file_byte_for_byte(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert apply(text, []) == text


def test_a_change_to_a_wrapped_entry_keeps_its_wrapping_and_changes_one_line() -> None:
    text = (MAPPINGS / "salesforce.yaml").read_text(encoding="utf-8")
    changed = apply(text, [Change(("fields", "competitors", "policy"), "crm_wins"),
                           Change(("fields", "partner_prepared_prospect", "policy"),
                                  "crm_wins")])
    removed = [line for line in text.splitlines() if line not in changed.splitlines()]
    added = [line for line in changed.splitlines() if line not in text.splitlines()]
    assert removed == [
        "    {field: Competitors__c, transform: multi_select, direction: both, "
        "policy: prm_unless_blank}",
        "    {field: Partner_Prepared_Prospect__c, direction: both, policy: prm_wins, "
        "default: false}"]
    assert added == [
        "    {field: Competitors__c, transform: multi_select, direction: both, "
        "policy: crm_wins}",
        "    {field: Partner_Prepared_Prospect__c, direction: both, policy: crm_wins, "
        "default: false}"]
    # the key line, with its comment, stays as the admin wrote it
    assert "  partner_prepared_prospect:           # a Salesforce checkbox is never blank: " \
        "write false\n" in changed


@pytest.mark.parametrize("name", ["salesforce.yaml", "hubspot.yaml"])
def test_an_appended_entry_lands_before_the_next_sections_comment(name: str) -> None:
    text = (MAPPINGS / name).read_text(encoding="utf-8")
    changed = apply(text, [Change(("fields", "custom.tier"), "Tier__c"),
                           Change(("outputs", "brief"), {"field": "Brief__c"})]
                    if name == "hubspot.yaml" else
                    [Change(("fields", "custom.tier"), "Tier__c")])
    old, new = text.splitlines(), changed.splitlines()
    assert len(new) == len(old) + (2 if name == "hubspot.yaml" else 1)
    at = new.index("  custom.tier: Tier__c")
    assert new[at - 1] == old[at - 1] and new[at - 1].startswith("  partner_split_pct:")
    assert new[at + 1] == ""  # the blank line and the next section's comment follow
    if name == "hubspot.yaml":
        at = new.index("  brief: {field: Brief__c}")
        assert new[at - 1].startswith("  missing_fields:") and new[at + 1] == ""


def test_comments_stay_and_deletes_and_appends_land_where_they_belong() -> None:
    text = ("# who gets what\nrules:   # in order\n  - name: a  # first\n    team: x\n"
            "limits: {max: 3, min: 1}\n")
    changed = apply(text, [Change(("rules", 1), {"name": "b", "team": "y"}),
                           Change(("limits", "min"), DELETE)])
    assert changed.startswith("# who gets what\nrules:   # in order\n  - name: a  # first\n")
    assert "  - {name: b, team: y}\n" in changed and "min" not in changed


def test_a_path_that_is_not_there_is_refused_by_name() -> None:
    with pytest.raises(EditError, match="no such list item"):
        apply("rules:\n  - a\n", [Change(("rules", 5), "b")])


def test_an_item_appended_after_a_wrapped_line_is_one_added_line() -> None:
    text = (MAPPINGS / "handoff.yaml").read_text(encoding="utf-8")
    gate = ("handoff_types", "partner_to_direct", "stages", 0, "gate")
    changed = apply(text, [Change((*gate, 10), {"field": "success_criteria"})])
    removed = [line for line in text.splitlines() if line not in changed.splitlines()]
    added = [line for line in changed.splitlines() if line not in text.splitlines()]
    assert removed == [] and added == ["          - {field: success_criteria}"]
    shrunk = apply(text, [Change((*gate, 2), DELETE)])
    assert [line for line in text.splitlines() if line not in shrunk.splitlines()] == [
        '          - {field: need, label: "Need documented (BANT)"}']
    assert len(shrunk.splitlines()) == len(text.splitlines()) - 1


RULES_TEXT = """\
routing:
  fallback_owner: revops@example.com
  # Tried in order: the first rule that routes the deal wins.
  rules:   # see docs/admin-guide.md
    # first rule: EMEA
    - name: EMEA
      team: emea_direct

    # second rule: NA
    - name: NA
      owner: felix@vendor.example
    # third rule: APAC
    - name: APAC
      owner: diego@vendor.example
    # - partner_ae: custom.partner_ae_email

matching:
  fuzzy: [deal_name]
"""


def _without(text: str, *lines: str) -> str:
    kept = text.splitlines(True)
    for line in lines:
        kept.remove(line + "\n")
    return "".join(kept)


@pytest.mark.parametrize(("index", "gone"), [
    (0, ["    # first rule: EMEA", "    - name: EMEA", "      team: emea_direct"]),
    (1, ["", "    # second rule: NA", "    - name: NA", "      owner: felix@vendor.example"]),
    (2, ["    # third rule: APAC", "    - name: APAC", "      owner: diego@vendor.example"]),
])
def test_a_removed_list_item_takes_its_comment_above_and_leaves_the_one_below(
        index: int, gone: list[str]) -> None:
    changed = apply(RULES_TEXT, [Change(("routing", "rules", index), DELETE)])
    assert changed == _without(RULES_TEXT, *gone)


SCALARS_TEXT = """\
stages:
  # kickoff first
  - kickoff  # day one

  # then the review
  - review
  # last: the close
  - close  # done
  # more to come
next: 1
"""


@pytest.mark.parametrize(("index", "gone"), [
    (0, ["  # kickoff first", "  - kickoff  # day one"]),
    (1, ["", "  # then the review", "  - review"]),
    (2, ["  # last: the close", "  - close  # done"]),
])
def test_a_removed_scalar_item_takes_its_comment_above_and_leaves_the_one_below(
        index: int, gone: list[str]) -> None:
    changed = apply(SCALARS_TEXT, [Change(("stages", index), DELETE)])
    assert changed == _without(SCALARS_TEXT, *gone)


def test_removing_the_only_commented_first_item_keeps_the_keys_own_comments() -> None:
    text = "# who gets what\nrules:\n  # the catch-all\n  - name: a\n    team: x\n  - name: b\n"
    changed = apply(text, [Change(("rules", 0), DELETE)])
    assert changed == "# who gets what\nrules:\n  - name: b\n"
