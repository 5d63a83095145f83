"""Issue 14 (11): two pipelines on one CRM object made 108 duplicate tasks, no warning.

The config refuses two enabled pipelines that would both write outputs and tasks to one
CRM object of one org, unless their CRM mapping files say how they share it: disjoint
scopes, or only one of them writing outputs and tasks.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from handoff_sync.config.load import load_config
from handoff_sync.errors import ConfigError

REPO_MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
ENV = {"SF_JWT_KEY": "unused at load", "OTHER_KEY": "unused at load"}

CONFIG = """\
version: 1
connections:
  crm:
    system: salesforce
    client_id: app-key
    username: sync@example.com
    private_key: ${SF_JWT_KEY}
  crm_again:
    system: salesforce
    client_id: other-app
    username: Sync@Example.com
    private_key: ${OTHER_KEY}
  other_org:
    system: salesforce
    login_url: https://other.my.salesforce.com
    client_id: app-key
    username: sync@example.com
    private_key: ${SF_JWT_KEY}
  prm:
    system: hubspot
    access_token: {file: secrets/token}
  prm_b:
    system: hubspot
    access_token: {file: secrets/token-b}
pipelines:
  - name: partners
    prm: prm
    crm: crm
    mappings: mappings
  - name: resellers
    prm: prm_b
    crm: CRM_B
    mappings: MAPPINGS_B
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("mappings", "mappings-b"):
        mappings = tmp_path / name
        mappings.mkdir()
        for file in ("handoff.yaml", "hubspot.yaml", "salesforce.yaml"):
            shutil.copy(REPO_MAPPINGS / file, mappings / file)
    return tmp_path


def load(folder: Path, *, crm: str = "crm", mappings: str = "mappings",
         enabled: bool = True) -> list[str]:
    text = CONFIG.replace("CRM_B", crm).replace("MAPPINGS_B", mappings)
    if not enabled:
        text += "    enabled: false\n"
    file = folder / "handoff-sync.yaml"
    file.write_text(textwrap.dedent(text), encoding="utf-8")
    try:
        load_config(file, ENV)
    except ConfigError as exc:
        return str(exc).splitlines()[1:]
    return []


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new, 1))


def test_two_pipelines_on_one_crm_object_are_refused_naming_both(folder: Path) -> None:
    [problem] = load(folder)
    assert problem.startswith(f"{folder / 'handoff-sync.yaml'}:32: pipelines[1].crm: ")
    assert "pipelines 'partners' and 'resellers' both write outputs and tasks to " \
        "salesforce Opportunity of one org (connection 'crm')" in problem
    assert "each would add its own follow-up tasks" in problem
    assert "make their scopes disjoint" in problem and "enabled: false" in problem
    assert "remove `outputs:` and `tasks:` from the other's file" in problem


def test_two_connections_to_one_org_count_as_one(folder: Path) -> None:
    # Another connected app, the same user (usernames ignore case): the same org.
    [problem] = load(folder, crm="crm_again", mappings="mappings-b")
    assert "pipelines 'partners' and 'resellers'" in problem
    assert "connection 'crm_again'" in problem


def test_another_org_or_a_disabled_pipeline_is_fine(folder: Path) -> None:
    assert load(folder, crm="other_org") == []
    assert load(folder, enabled=False) == []


def test_disjoint_scopes_share_the_object(folder: Path) -> None:
    for name, record_type in (("mappings", "012000000000001"), ("mappings-b", "012000000000002")):
        edit(folder / name / "salesforce.yaml", "modified_field: SystemModstamp\n",
             f"modified_field: SystemModstamp\nscope: {{RecordTypeId: '{record_type}'}}\n")
    assert load(folder, mappings="mappings-b") == []
    # Scopes on different fields may overlap: still refused.
    edit(folder / "mappings-b" / "salesforce.yaml", "scope: {RecordTypeId:",
         "scope: {Type:")
    [problem] = load(folder, mappings="mappings-b")
    assert "pipelines 'partners' and 'resellers'" in problem


def test_one_pipeline_owning_outputs_and_tasks_shares_the_object(folder: Path) -> None:
    crm = folder / "mappings-b" / "salesforce.yaml"
    text = crm.read_text()
    crm.write_text(text[:text.index("\n# What handoff-sync writes back")] + "\n")
    assert load(folder, mappings="mappings-b") == []
