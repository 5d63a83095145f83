"""The template `handoff-sync init` writes: it loads, and every key in it is explained."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pydantic import BaseModel

from handoff_sync.config import connections, settings
from handoff_sync.config.init_files import InitError, write_template
from handoff_sync.config.load import load_config
from handoff_sync.config.packs import DEFAULT_PACK, installed_default, shipped_packs
from handoff_sync.config.template import TEMPLATE, render_template
from handoff_sync.errors import ConfigError

REPO_MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
TEMPLATE_ENV = {"SF_CLIENT_ID": "3MVG9-app", "SF_USERNAME": "sync@example.com"}
KEY_LINE = re.compile(r"^\s*(?:#\s*)?(?:- )?([a-z_]+):")


def test_template_loads_once_its_variables_are_set(tmp_path: Path) -> None:
    out = tmp_path / "handoff-sync.yaml"
    write_template(out)
    shutil.copytree(REPO_MAPPINGS, tmp_path / "mappings")
    config = load_config(out, TEMPLATE_ENV)
    crm, prm = config.connections["crm"], config.connections["prm"]
    assert (crm.system, prm.system) == ("salesforce", "hubspot")
    assert crm.client_id == "3MVG9-app"  # type: ignore[union-attr]
    assert str(crm.private_key) == "${SF_JWT_KEY}"  # type: ignore[union-attr]
    assert str(prm.access_token) == "${HUBSPOT_ACCESS_TOKEN}"  # type: ignore[union-attr]
    assert config.pipelines[0].mappings == tmp_path / "mappings"
    assert config.database.url == f"sqlite:///{tmp_path}/handoff-sync.db"


def test_template_values_are_the_defaults(tmp_path: Path) -> None:
    """The values the template writes out are the models' defaults, so the comments that
    call them defaults are true."""
    out = tmp_path / "handoff-sync.yaml"
    write_template(out)
    shutil.copytree(REPO_MAPPINGS, tmp_path / "mappings")
    config = load_config(out, TEMPLATE_ENV)
    for section in (config.server, config.schedule, config.connections["crm"],
                    config.connections["prm"]):
        defaults = type(section).model_fields
        for name in section.model_fields_set:
            value = getattr(section, name)
            default = defaults[name].default
            if isinstance(default, BaseModel | str | int | float) and name not in (
                    "system", "client_id", "username"):
                assert value == default, f"{type(section).__name__}.{name}"


def test_template_names_the_missing_variables(tmp_path: Path) -> None:
    out = tmp_path / "handoff-sync.yaml"
    write_template(out)
    shutil.copytree(REPO_MAPPINGS, tmp_path / "mappings")
    with pytest.raises(ConfigError) as caught:
        load_config(out, {})
    text = str(caught.value)
    assert "connections.crm.client_id: environment variable SF_CLIENT_ID is not set" in text
    assert "connections.crm.username: environment variable SF_USERNAME is not set" in text
    assert "SF_JWT_KEY" not in text  # secrets are read by the connector, not at load


def test_every_key_of_the_template_is_explained() -> None:
    lines = TEMPLATE.splitlines()
    for number, line in enumerate(lines):
        if not KEY_LINE.match(line):
            continue
        inline = " # " in line.split(":", 1)[1] or line.split(":", 1)[1].lstrip().startswith(
            "#")
        above = number > 0 and lines[number - 1].lstrip().startswith("#")
        assert inline or above, f"template line {number + 1} has no comment: {line!r}"


def test_every_config_key_appears_in_the_template() -> None:
    written = {m.group(1) for line in TEMPLATE.splitlines() if (m := KEY_LINE.match(line))}
    for model in [*vars(settings).values(), *vars(connections).values()]:
        if isinstance(model, type) and issubclass(model, BaseModel) \
                and model.__module__ in (settings.__name__, connections.__name__):
            missing = set(model.model_fields) - written
            assert not missing, f"{model.__name__}: {sorted(missing)} not in the template"


def test_template_options() -> None:
    text = render_template(mappings="/srv/mappings", database="${DATABASE_URL}")
    assert '  url: "${DATABASE_URL}"\n' in text
    assert '    mappings: "/srv/mappings"\n' in text


# --- mapping packs (issue 21): the pack decides which system is which side -------------------

def test_a_pack_swaps_the_systems_and_keeps_every_key() -> None:
    swapped = render_template(sides={"prm": "salesforce", "crm": "hubspot"})
    assert "  crm:                                  # the CRM: HubSpot here\n" in swapped
    assert "  prm:                                  # the PRM: Salesforce here\n" in swapped
    def keys(text: str) -> list[str]:
        return sorted(m.group(1) for line in text.splitlines() if (m := KEY_LINE.match(line)))

    assert keys(swapped) == keys(TEMPLATE)


def test_without_a_mappings_folder_the_default_pack_is_still_known() -> None:
    """A wheel installs the package without mappings/: the template still connects the
    default pack's systems, the same the folder says."""
    shipped = shipped_packs()[DEFAULT_PACK]
    assert (shipped.prm, shipped.crm) == (installed_default().prm, installed_default().crm)


def test_an_unknown_pack_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    out = tmp_path / "handoff-sync.yaml"
    with pytest.raises(InitError) as caught:
        write_template(out, pack="hubspot-only")
    assert str(caught.value) == ("no mapping pack named 'hubspot-only'; the packs: default, "
                                 "salesforce-prm-hubspot-crm; pass one of them to --pack")
    assert not out.exists()
