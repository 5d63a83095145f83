"""Issue 21 (5): `init --pack NAME` writes a working config for every shipped pack.

Each pack as a new user runs it against the sandbox: `init --sandbox URL --pack P`,
`migrate`, `sync --once`, then `sync` alone (the same one cycle); the second pack's
verdicts land on HubSpot deals. The template (`init --pack P` without a sandbox) names the
pack's systems, and the wrong pack or a folder of other systems is one clear line.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.cli.main import main
from handoff_sync.config.load import load_config
from handoff_sync.sandbox.server import SandboxServer
from tests.e2e.sync_support import REPO, run_cli

PACKS = {"default": REPO / "mappings",
         "salesforce-prm-hubspot-crm": REPO / "mappings" / "packs" /
         "salesforce-prm-hubspot-crm"}
SYSTEMS = {"default": ("hubspot", "salesforce"),  # (PRM, CRM)
           "salesforce-prm-hubspot-crm": ("salesforce", "hubspot")}
TEMPLATE_ENV = {"SF_CLIENT_ID": "3MVG9-app", "SF_USERNAME": "sync@example.com"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, *argv)


def test_the_shipped_packs_are_the_folders() -> None:
    """Every folder under mappings/packs/ is a pack init offers (a new pack needs no
    code), so the packs these tests run are all there is."""
    folders = sorted(p.name for p in (REPO / "mappings" / "packs").iterdir() if p.is_dir())
    assert ["default", *folders] == list(PACKS)


@pytest.mark.parametrize("pack", list(PACKS))
def test_init_migrate_sync_works_for_every_pack(
        pack: str, sandbox: SandboxServer, hs: HubSpot, sf: Salesforce, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    sandbox.sandbox.seed(deals=20, partners=3, random_seed=3)
    config = tmp_path / "handoff-sync.yaml"
    code, out, err = run(capsys, "init", "--sandbox", sandbox.base_url, "--pack", pack,
                         "--out", str(config), "--json")
    assert code == 0, err
    written = json.loads(out)
    prm, crm = SYSTEMS[pack]
    assert (written["pack"], written["prm"]["system"], written["crm"]["system"]) == (
        pack, prm, crm)
    assert written["mappings"] == str(PACKS[pack])
    assert {(Path(f["path"]).name, f["kind"]) for f in written["written"]} == {
        ("handoff-sync.yaml", "config"), ("ca.pem", "ca"),
        ("salesforce-jwt-key.pem", "secret"), ("hubspot-access-token", "secret")}
    assert all(Path(f["path"]).is_file() for f in written["written"])
    assert written["next"] == [f"handoff-sync migrate --config {config}",
                               f"handoff-sync sync --config {config}"]
    loaded = load_config(config, environ={})
    assert (loaded.connections["prm"].system, loaded.connections["crm"].system) == (prm, crm)

    if pack == "salesforce-prm-hubspot-crm":
        assert not any(d.properties["handoff_last_synced"] for d in crm_deals(hs))
    assert run(capsys, "migrate", "--config", str(config))[0] == 0
    code, out, err = run(capsys, "sync", "--once", "--config", str(config), "--json")
    assert code == 0, err
    [summary] = json.loads(out)
    assert summary["outcome"] == "ok", summary["errors"]
    assert summary["counts"]["records_written"] > 0
    assert summary["counts"]["records_read_prm"] > 0 and summary["counts"]["records_read_crm"] > 0

    # `sync` alone is the same one cycle (--once is only kept for old scripts).
    code, out, err = run(capsys, "sync", "--config", str(config))
    assert code == 0, err
    assert out.startswith("pipeline partners: incremental cycle ") and " ok in " in out
    if pack == "salesforce-prm-hubspot-crm":
        assert_handoff_outputs_on_hubspot_deals(hs)


def crm_deals(hs: HubSpot) -> list[Any]:
    """The deals of the Sales Pipeline linked to a registration, with the handoff outputs."""
    deals: list[Any] = hs.crm.deals.basic_api.get_page(
        limit=100, properties=["pipeline", "partner_registration_id", "handoff_gate_status",
                               "handoff_completeness", "handoff_last_synced"]).results
    return [d for d in deals if d.properties.get("partner_registration_id")
            and d.properties.get("pipeline") == "default"]


def assert_handoff_outputs_on_hubspot_deals(hs: HubSpot) -> None:
    """The CRM of this pack is HubSpot: its linked deals carry the verdict."""
    linked = crm_deals(hs)
    assert linked
    verdicts = {d.properties["handoff_gate_status"] for d in linked}
    assert verdicts and verdicts <= {"passed", "blocked", "not_required"}
    assert all(d.properties["handoff_last_synced"] for d in linked)
    assert any(d.properties["handoff_completeness"] for d in linked)


@pytest.mark.parametrize("pack", list(PACKS))
def test_the_template_names_the_pack_systems(pack: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "handoff-sync.yaml"
    code, out, _ = run(capsys, "init", "--pack", pack, "--out", str(config))
    assert code == 0
    prm, crm = SYSTEMS[pack]
    titles = {"hubspot": "HubSpot", "salesforce": "Salesforce"}
    assert f"pack {pack}: {titles[prm]} " in out and f"(to start from: {PACKS[pack]})" in out
    variables = {"default": "SF_CLIENT_ID, SF_USERNAME, SF_JWT_KEY and HUBSPOT_ACCESS_TOKEN",
                 "salesforce-prm-hubspot-crm": "HUBSPOT_ACCESS_TOKEN, SF_CLIENT_ID, "
                                               "SF_USERNAME and SF_JWT_KEY"}[pack]
    assert f"next: set {variables} (or point" in out
    text = config.read_text()
    assert f"  crm:                                  # the CRM: {titles[crm]} here\n" in text
    assert f"  prm:                                  # the PRM: {titles[prm]} here\n" in text
    shutil.copytree(PACKS[pack], tmp_path / "mappings", ignore=shutil.ignore_patterns("packs"))
    loaded = load_config(config, environ=TEMPLATE_ENV)  # the pack's folder fits its sides
    assert (loaded.connections["prm"].system, loaded.connections["crm"].system) == (prm, crm)


def test_a_mappings_folder_names_its_own_systems(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    pack = "salesforce-prm-hubspot-crm"
    mine = tmp_path / "my-mappings"
    shutil.copytree(PACKS[pack], mine)
    config = tmp_path / "handoff-sync.yaml"
    code, out, _ = run(capsys, "init", "--out", str(config), "--mappings", str(mine), "--json")
    assert code == 0
    written = json.loads(out)
    assert (written["pack"], written["prm"]["system"], written["crm"]["system"]) == (
        None, "salesforce", "hubspot")
    assert load_config(config, environ=TEMPLATE_ENV).pipelines[0].mappings == mine

    code, out, err = run(capsys, "init", "--out", str(config), "--force", "--mappings",
                         str(mine), "--pack", "default")
    assert (code, out) == (1, "")
    assert err == (f"handoff-sync init: {mine} maps Salesforce Deal_Registration__c (PRM) -> "
                   "HubSpot deals (CRM), but pack default connects HubSpot deals (PRM) -> "
                   "Salesforce Opportunity (CRM); drop --pack (the folder's systems are used) "
                   "or pass a folder of that pack\n")


def test_an_unknown_pack_lists_the_known_ones(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["init", "--pack", "hubspot-only", "--out", str(tmp_path / "c.yaml")])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert ("argument --pack: invalid choice: 'hubspot-only' (choose from 'default', "
            "'salesforce-prm-hubspot-crm')") in err
    assert not (tmp_path / "c.yaml").exists()
