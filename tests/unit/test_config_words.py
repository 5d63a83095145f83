"""The config file and the mappings files word the same pydantic error the same way: both
go through the one translator, problems/pydantic_errors.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from handoff_sync.config.load import load_config
from handoff_sync.errors import ConfigError
from handoff_sync.mapping.loader import validate_mappings

PACK = Path(__file__).resolve().parents[2] / "mappings"
ENV = {"SF_JWT_KEY": "unused at load"}

CONFIG = """\
version: 1
server:
  host: 127.0.0.1
connections:
  crm:
    system: salesforce
    client_id: app-key
    username: sync@example.com
    private_key: ${SF_JWT_KEY}
  prm:
    system: hubspot
    access_token: {file: secrets/token}
pipelines:
  - name: partners
    prm: prm
    crm: crm
    mappings: mappings
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(PACK, tmp_path / "mappings", ignore=shutil.ignore_patterns("packs"))
    return tmp_path


def config_problem(folder: Path, old: str, new: str) -> str:
    """The one problem of the config with ``old`` replaced by ``new``: 'key.path: words'."""
    file = folder / "handoff-sync.yaml"
    assert old in CONFIG
    file.write_text(CONFIG.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(file, ENV)
    [line] = str(caught.value).splitlines()[1:]
    return line.split(": ", 1)[1]  # without file:line


def mapping_problem(folder: Path, file: str, old: str, new: str) -> str:
    """The one problem of the mappings folder with ``file`` edited: 'key.path: words'."""
    text = (folder / "mappings" / file).read_text()
    assert old in text
    (folder / "mappings" / file).write_text(text.replace(old, new, 1))
    mappings, problems = validate_mappings(folder / "mappings")
    assert mappings is None
    [problem] = problems
    return str(problem).split(": ", 1)[1]  # without file:line:column


def test_an_unknown_key_near_a_known_one(folder: Path) -> None:
    assert config_problem(folder, "  host: 127.0.0.1", "  hots: 127.0.0.1") == \
        "server.hots: unknown key 'hots' (did you mean 'host'?)"
    assert mapping_problem(folder, "handoff.yaml", "  auto_link_min_confidence: 0.9",
                           "  auto_link_min_confidenc: 0.9") == \
        "matching.auto_link_min_confidenc: unknown key 'auto_link_min_confidenc' " \
        "(did you mean 'auto_link_min_confidence'?)"


def test_an_unknown_key_near_none_lists_the_keys_in_the_documented_order(folder: Path) -> None:
    assert config_problem(folder, "  host: 127.0.0.1", "  colour: red") == \
        "server.colour: unknown key 'colour' (allowed keys here: host, port, " \
        "unready_after_failed_cycles)"
    words = mapping_problem(folder, "salesforce.yaml", "policy: newest_wins}",
                            "policy: newest_wins, colour: red}")
    assert words.endswith("unknown key 'colour' (allowed keys here: field, constant, "
                          "transform, values, default, direction, policy)")


def test_a_missing_key_says_what_it_is_for_after_a_colon(folder: Path) -> None:
    assert config_problem(folder, "version: 1\n", "") == \
        "version: missing required key 'version': format version of this file; 1"
    assert mapping_problem(folder, "salesforce.yaml", "object: Opportunity\n", "") == \
        "object: missing required key 'object': the object (Salesforce) or object type " \
        "(HubSpot) holding the deals (add 'object:' here; see docs/admin-guide.md)"


def test_a_bound_is_written_as_people_write_numbers(folder: Path) -> None:
    assert config_problem(folder, "  host: 127.0.0.1", "  port: 70000") == \
        "server.port: must be at most 65535, got the number 70000"
    assert mapping_problem(folder, "handoff.yaml", "auto_link_min_confidence: 0.9",
                           "auto_link_min_confidence: 5") == \
        "matching.auto_link_min_confidence: must be at most 1, got the number 5"


def test_empty_text_is_empty_whatever_validator_runs_first(folder: Path) -> None:
    # host is ${VAR}-expanded before its length is checked: pydantic then says too_short,
    # as for a list, but the value is text.
    assert config_problem(folder, "  host: 127.0.0.1", "  host: ''") == \
        "server.host: must not be empty"


def test_a_pattern_is_explained_in_the_words_of_its_key(folder: Path) -> None:
    assert config_problem(folder, "  - name: partners", "  - name: Partners") == \
        "pipelines[0].name: the text 'Partners' is not allowed here: use lowercase " \
        "letters, digits, '_' and '-'"
    assert config_problem(folder, "    client_id: app-key",
                          "    client_id: app-key\n    api_version: 'v59'") == \
        "connections.crm.api_version: the text 'v59' is not allowed here: write the " \
        "version as digits, a dot and one digit, e.g. '59.0'"
