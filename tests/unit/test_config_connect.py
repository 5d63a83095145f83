"""From config to working connectors: settings wiring, secrets, and real calls to the sandbox."""

from __future__ import annotations

import os
import textwrap
from datetime import timedelta
from pathlib import Path

from connectors.budget import BudgetSettings
from connectors.files.connector import FileDropConnector, FileDropSettings
from connectors.hubspot.auth import CredentialSources
from connectors.hubspot.connector import HubSpotSettings
from connectors.retry import RetrySettings
from connectors.salesforce.auth import SalesforceAuth, SecretRef
from connectors.salesforce.connector import SalesforceSettings
from handoff_sync.config.load import load_config
from handoff_sync.sync.connect import build_connector

REPO_MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


def config_file(tmp_path: Path, connections: str, pipelines: str | None = None) -> Path:
    pipelines = pipelines or (f"  - {{name: partners, prm: prm, crm: crm, "
                              f"mappings: {REPO_MAPPINGS}}}\n")
    file = tmp_path / "handoff-sync.yaml"
    file.write_text("version: 1\nconnections:\n" + textwrap.indent(
        textwrap.dedent(connections), "  ") + "pipelines:\n" + pipelines)
    return file


def test_defaults_are_the_connectors_defaults(tmp_path: Path) -> None:
    (tmp_path / "drops").mkdir()
    config = load_config(config_file(tmp_path, """\
        crm: {system: salesforce, client_id: app, username: u@example.com,
              private_key: "${K}"}
        prm: {system: hubspot, access_token: "${T}"}
        drops: {system: files, folder: drops, id_field: id}
        """), environ={})
    auth = SalesforceAuth(client_id="app", username="u@example.com",
                          private_key=SecretRef(env="K"))
    assert config.connections["crm"].connector_settings() == SalesforceSettings(auth=auth)
    # The daemon scans for archived records every 15 minutes, not every pull (the
    # connector's own default): a quiet cycle stays at one read per object.
    assert config.connections["prm"].connector_settings() == HubSpotSettings(
        credentials=CredentialSources(access_token_env="T"),
        archive_scan_interval=timedelta(minutes=15))
    assert config.connections["drops"].connector_settings() == FileDropSettings(
        folder=tmp_path / "drops", id_field="id")


def test_every_setting_reaches_the_connector(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "drops").mkdir()
    config = load_config(config_file(tmp_path, """\
        crm:
          system: salesforce
          login_url: https://acme.my.salesforce.com/
          auth: password
          client_id: app
          username: u@example.com
          client_secret: {file: secrets/sf-secret}
          password: ${SF_PASSWORD}
          security_token: ${SF_TOKEN}
          api_version: "60.0"
          ca_file: ca.pem
          timeout_seconds: 30
          page_size: 500
          bulk_threshold: 10
          bulk_page_size: 20
          bulk_poll_seconds: 1
          bulk_timeout_seconds: 60
          overlap_seconds: 5
          retry: {max_attempts: 3, initial_wait_seconds: 1, max_wait_seconds: 2,
                  give_up_after_seconds: 9}
          budget: {share: 0.5, slow_down_at: 0.6, daily_limit: 1000}
        prm:
          system: hubspot
          host: https://hubspot.example/
          auth: oauth
          client_id: ${HS_ID}
          client_secret: {file: /run/secrets/hs-secret}
          refresh_token: ${HS_REFRESH}
          ca_file: ca.pem
          connect_timeout_seconds: 3
          read_timeout_seconds: 4
          page_size: 50
          search_lag_seconds: 5
          overlap_seconds: 6
          deletion_lookback_seconds: 17
          archive_scan_interval_seconds: 8
          burst_limit: 9
          burst_window_seconds: 11
          search_limit: 2
          search_window_seconds: 1.5
          pacing_margin: 0.1
          token_refresh_margin_seconds: 60
          retry: {max_attempts: 2}
          budget: {share: 0.1}
        drops:
          system: files
          folder: drops
          id_field: reg_id
          modified_field: updated
          deleted_field: gone
          patterns: ["*.txt"]
          encoding: cp1252
          delimiter: ";"
          settle_seconds: 0
        """), environ={})
    assert config.connections["crm"].connector_settings() == SalesforceSettings(
        auth=SalesforceAuth(kind="password", login_url="https://acme.my.salesforce.com",
                            client_id="app", username="u@example.com",
                            client_secret=SecretRef(file=tmp_path / "secrets" / "sf-secret"),
                            password=SecretRef(env="SF_PASSWORD"),
                            security_token=SecretRef(env="SF_TOKEN")),
        api_version="60.0", ca_file=tmp_path / "ca.pem", timeout_seconds=30, page_size=500,
        bulk_threshold=10, bulk_page_size=20, bulk_poll_seconds=1, bulk_timeout_seconds=60,
        overlap_seconds=5,
        retry=RetrySettings(max_attempts=3, initial_wait=1, max_wait=2, give_up_after=9),
        budget=BudgetSettings(share=0.5, slow_down_at=0.6, daily_limit=1000))
    assert config.connections["prm"].connector_settings() == HubSpotSettings(
        host="https://hubspot.example", auth="oauth",
        credentials=CredentialSources(client_id_env="HS_ID",
                                      client_secret_file="/run/secrets/hs-secret",
                                      refresh_token_env="HS_REFRESH"),
        ca_file=str(tmp_path / "ca.pem"), connect_timeout=3, read_timeout=4, page_size=50,
        search_lag=timedelta(seconds=5), overlap=timedelta(seconds=6),
        deletion_lookback=timedelta(seconds=17),
        archive_scan_interval=timedelta(seconds=8), burst_limit=9, burst_window=11,
        search_limit=2, search_window=1.5, pacing_margin=0.1, token_refresh_margin=60,
        retry=RetrySettings(max_attempts=2), budget=BudgetSettings(share=0.1))
    assert config.connections["drops"].connector_settings() == FileDropSettings(
        folder=tmp_path / "drops", id_field="reg_id", modified_field="updated",
        deleted_field="gone", patterns=("*.txt",), encoding="cp1252", delimiter=";",
        settle_seconds=0)


def test_file_drop_connection_reads_the_folder(tmp_path: Path) -> None:
    drops = tmp_path / "exports"
    drops.mkdir()
    export = drops / "registrations.csv"
    export.write_text("reg_id,deal\nR-1,Acme rollout\n", encoding="utf-8")
    old = export.stat().st_mtime - 60  # finished a minute ago: past settle_seconds
    os.utime(export, (old, old))
    config = load_config(_drop_config(tmp_path), environ={})
    connector = build_connector(config.connections["drops"])
    assert isinstance(connector, FileDropConnector)
    [pending] = connector.pending(())
    read = connector.read(pending)
    assert [(c.id, dict(c.fields)["deal"]) for c in read.changes] == [("R-1", "Acme rollout")]


def _drop_config(tmp_path: Path) -> Path:
    """A pipeline from a file drop into Salesforce needs a mappings folder with files.yaml."""
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "handoff.yaml").write_text((REPO_MAPPINGS / "handoff.yaml").read_text())
    (mappings / "salesforce.yaml").write_text((REPO_MAPPINGS / "salesforce.yaml").read_text())
    (mappings / "files.yaml").write_text("version: 1\nrole: prm\n")
    return config_file(tmp_path, """\
        drops: {system: files, folder: exports, id_field: reg_id}
        crm: {system: salesforce, client_id: a, username: u@example.com, private_key: "${K}"}
        """, pipelines="  - {name: drops, prm: drops, crm: crm, mappings: mappings}\n")
