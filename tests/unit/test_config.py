"""The daemon config file: what loads, and every problem as the operator reads it."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from handoff_sync.config import connections, fields, settings
from handoff_sync.config.load import load_config
from handoff_sync.config.secrets import SecretSource
from handoff_sync.config.settings import Config
from handoff_sync.errors import ConfigError

REPO_MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
ENV = {"SF_JWT_KEY": "unused at load", "HUBSPOT_ACCESS_TOKEN": "unused at load"}

VALID = """\
version: 1
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
    """A config folder holding a copy of the shipped mappings under ./mappings."""
    mappings = tmp_path / "conf" / "mappings"
    mappings.mkdir(parents=True)
    for name in ("handoff.yaml", "hubspot.yaml", "salesforce.yaml"):
        shutil.copy(REPO_MAPPINGS / name, mappings / name)
    return tmp_path / "conf"


def write(folder: Path, text: str, name: str = "handoff-sync.yaml") -> Path:
    file = folder / name
    file.write_text(textwrap.dedent(text), encoding="utf-8")
    return file


def problems(folder: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    """The problem lines of the ConfigError, each as 'LINE: key.path: message'."""
    file = write(folder, text)
    with pytest.raises(ConfigError) as caught:
        load_config(file, ENV if environ is None else environ)
    header, *lines = str(caught.value).splitlines()
    count = len(lines)
    assert header == f"{file}: {count} problem{'s' if count != 1 else ''}"
    prefix = f"{file}:"
    assert all(line.startswith(prefix) for line in lines)
    return [line[len(prefix):] for line in lines]


# --- what loads ---------------------------------------------------------------------------

def test_minimal_config_loads_with_defaults_and_absolute_paths(folder: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    monkeypatch.chdir("/")  # relative paths must not depend on the working directory
    config = load_config(write(folder, VALID), ENV)
    assert config.path == folder / "handoff-sync.yaml"
    assert config.version == 1
    assert config.database.url == f"sqlite:///{folder}/handoff-sync.db"
    assert (config.server.host, config.server.port) == ("127.0.0.1", 9464)
    schedule = config.schedule
    assert (schedule.interval_seconds, schedule.jitter_seconds, schedule.lease_seconds) == \
        (300, 30, 60)
    assert (schedule.full_reconcile_cron, schedule.timezone) == ("0 2 * * *", "UTC")
    assert str(schedule.reconcile_trigger().timezone) == "UTC"
    [pipeline] = config.pipelines
    assert (pipeline.name, pipeline.prm, pipeline.crm, pipeline.enabled) == \
        ("partners", "prm", "crm", True)
    assert pipeline.mappings == folder / "mappings"
    assert config.pipeline("partners") is pipeline
    crm = config.connection("crm")
    assert crm.system == "salesforce" and crm.auth == "jwt_bearer"
    assert crm.login_url == "https://login.salesforce.com"
    assert crm.private_key == SecretSource(env="SF_JWT_KEY")
    prm = config.connections["prm"]
    assert prm.system == "hubspot"
    assert prm.access_token == SecretSource(file=folder / "secrets" / "token")


def test_config_is_frozen(folder: Path) -> None:
    config = load_config(write(folder, VALID), ENV)
    with pytest.raises(ValidationError):
        config.server.port = 1  # type: ignore[misc]


def test_every_config_key_has_a_one_line_description() -> None:
    models = [value for module in (settings, connections) for value in vars(module).values()
              if isinstance(value, type) and issubclass(value, BaseModel)
              and value.__module__ == module.__name__]
    assert fields.Section not in models
    assert len(models) >= 10
    for model in [*models, SecretSource]:
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no docstring"


def test_env_vars_expand_in_text_but_secrets_are_not_read(folder: Path) -> None:
    text = VALID.replace("client_id: app-key", "client_id: ${SF_CLIENT_ID}") \
        .replace("version: 1\n", "version: 1\ndatabase:\n  url: ${DATABASE_URL}\n")
    config = load_config(write(folder, text), {
        "SF_CLIENT_ID": "3MVG-from-env",
        "DATABASE_URL": "postgresql://sync@db.internal:5432/handoff"})
    assert config.connections["crm"].client_id == "3MVG-from-env"  # type: ignore[union-attr]
    # postgresql:// names the psycopg 3 driver, the one installed
    assert config.database.url == "postgresql+psycopg://sync@db.internal:5432/handoff"
    # SF_JWT_KEY is not set: secrets are resolved by the connector, not at load time
    assert config.connections["crm"].private_key == SecretSource(env="SF_JWT_KEY")  # type: ignore[union-attr]


def test_dollar_dollar_writes_a_literal_reference(folder: Path) -> None:
    text = VALID.replace("username: sync@example.com", "username: a$${b}c")
    config = load_config(write(folder, text), ENV)
    assert config.connections["crm"].username == "a${b}c"  # type: ignore[union-attr]


@pytest.mark.parametrize(("written", "expected"), [
    ("sqlite:///state/sync.db", "sqlite:///{folder}/state/sync.db"),
    ("sqlite:////var/lib/handoff/sync.db", "sqlite:////var/lib/handoff/sync.db"),
    ("sqlite://", "sqlite://"),
    ("postgresql+psycopg://sync@db:5432/h", "postgresql+psycopg://sync@db:5432/h"),
    ("postgresql+psycopg://sync:${PGPASS}@db/h", "postgresql+psycopg://sync:s%40cret@db/h"),
])
def test_database_urls(folder: Path, written: str, expected: str) -> None:
    text = VALID.replace("version: 1\n", f"version: 1\ndatabase:\n  url: {written}\n")
    config = load_config(write(folder, text), {"PGPASS": "s@cret"})
    assert config.database.url == expected.format(folder=folder)


def test_relative_ca_file_and_drop_folder_resolve_against_the_config_folder(
        folder: Path) -> None:
    (folder / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    (folder / "drops").mkdir()
    text = VALID.replace("    access_token: {file: secrets/token}\n",
                         "    access_token: {file: secrets/token}\n    ca_file: ca.pem\n"
                         "  drops:\n    system: files\n    folder: drops\n"
                         "    id_field: registration_id\n    patterns: ['*.csv']\n")
    config = load_config(write(folder, text), ENV)
    assert config.connections["prm"].ca_file == folder / "ca.pem"  # type: ignore[union-attr]
    drops = config.connections["drops"]
    assert drops.system == "files"
    assert drops.folder == folder / "drops" and drops.patterns == ("*.csv",)  # type: ignore[union-attr]


def test_secret_files_keep_their_symlinks(folder: Path) -> None:
    """A mounted secret is a symlink that moves when the secret rotates: never pin it."""
    (folder / "v1").mkdir()
    (folder / "v1" / "token").write_text("t")
    (folder / "secrets").symlink_to(folder / "v1")
    config = load_config(write(folder, VALID), ENV)
    source = config.connections["prm"].access_token  # type: ignore[union-attr]
    assert source == SecretSource(file=folder / "secrets" / "token")


# --- problems, with the line the operator sees ----------------------------------------------

def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing)
    assert str(caught.value) == (f"config file {missing} not found: create one with "
                                 f"`handoff-sync init --out {missing}`")


def test_yaml_syntax_error_has_its_line(folder: Path) -> None:
    [line] = problems(folder, "version: 1\nserver:\n  host: [127.0.0.1\n  port: 1\n")
    assert line.startswith("4: (top level): YAML syntax error")


def test_empty_file(folder: Path) -> None:
    assert problems(folder, "") == ["1: (top level): the file is empty (start it with "
                                    "'version: 1'; see docs/admin-guide.md)"]


def test_unknown_keys_name_the_near_key_or_else_the_allowed_keys(folder: Path) -> None:
    # The same words as the mappings files (one translator): the near miss when there is
    # one, the allowed keys in the order the docs list them when there is none.
    text = VALID.replace("version: 1\n", "version: 1\nserver:\n  host: 0.0.0.0\n  prot: 80\n"
                         "pipeline: []\nwebhooks: {}\n")
    assert problems(folder, text) == [
        "4: server.prot: unknown key 'prot' (did you mean 'port'?)",
        "5: pipeline: unknown key 'pipeline' (did you mean 'pipelines'?)",
        "6: webhooks: unknown key 'webhooks' (allowed keys here: version, database, server, "
        "schedule, connections, pipelines, console)",
    ]


def test_version_is_required_and_must_be_1(folder: Path) -> None:
    assert problems(folder, VALID.replace("version: 1\n", "")) == [
        "1: version: missing required key 'version': format version of this file; 1"]
    assert problems(folder, VALID.replace("version: 1", "version: 2")) == [
        "1: version: expected '1', got the number 2"]


def test_secret_literal_is_refused_without_repeating_it(folder: Path) -> None:
    text = VALID.replace("private_key: ${SF_JWT_KEY}", "private_key: MIIEvQIBADANBg")
    assert problems(folder, text) == [
        "7: connections.crm.private_key: secrets may not be written in the config file; "
        "use ${ENV_VAR} or {file: /path}"]
    text = VALID.replace("access_token: {file: secrets/token}", "access_token: pat-na1-x")
    lines = problems(folder, text)
    assert lines == ["10: connections.prm.access_token: secrets may not be written in the "
                     "config file; use ${ENV_VAR} or {file: /path}"]
    assert "pat-na1" not in "\n".join(lines)


def test_secret_forms(folder: Path) -> None:
    text = VALID.replace("private_key: ${SF_JWT_KEY}", "private_key: {path: key.pem}")
    assert problems(folder, text) == [
        "7: connections.crm.private_key: unknown key 'path' in a secret: write ${ENV_VAR} or "
        "{file: PATH}"]
    text = VALID.replace("private_key: ${SF_JWT_KEY}", "private_key: $SF_JWT_KEY")
    assert problems(folder, text) == [
        "7: connections.crm.private_key: secrets may not be written in the config file; "
        "use ${ENV_VAR} or {file: /path}"]


def test_unset_variable_names_the_key_and_the_variable(folder: Path) -> None:
    text = VALID.replace("version: 1\n", "version: 1\ndatabase:\n  url: ${DATABASE_URL}\n")
    assert problems(folder, text, {}) == [
        "3: database.url: environment variable DATABASE_URL is not set (the value refers to "
        "${DATABASE_URL}); set it, or write the value here"]
    assert problems(folder, text, {"DATABASE_URL": " "}) == [
        "3: database.url: environment variable DATABASE_URL is empty (the value refers to "
        "${DATABASE_URL})"]
    text = VALID.replace("client_id: app-key", "client_id: ${SF CLIENT}")
    assert problems(folder, text) == [
        "5: connections.crm.client_id: '${SF CLIENT}' is not an environment variable reference "
        "(names are letters, digits and _); write $${ for a literal '${'"]


def test_database_password_only_through_a_variable(folder: Path) -> None:
    text = VALID.replace("version: 1\n", "version: 1\ndatabase:\n"
                         "  url: postgresql+psycopg://sync:hunter2@db/h\n")
    lines = problems(folder, text)
    assert lines == [
        "3: database.url: a database password may not be written in the config file: write "
        "it as ${VAR} (postgresql+psycopg://user:${PGPASSWORD}@host/db), leave it out "
        "(psycopg reads PGPASSWORD) or set the whole URL as ${DATABASE_URL}"]
    assert "hunter2" not in "\n".join(lines)


def test_database_url_driver_and_shape(folder: Path) -> None:
    text = VALID.replace("version: 1\n", "version: 1\ndatabase:\n  url: mysql://db/h\n")
    assert problems(folder, text) == [
        "3: database.url: database driver 'mysql' is not supported: use sqlite or "
        "postgresql+psycopg (psycopg 3)"]
    text = VALID.replace("version: 1\n", "version: 1\ndatabase:\n  url: handoff.db\n")
    assert problems(folder, text) == [
        "3: database.url: not a database URL: expected sqlite:///FILE or "
        "postgresql+psycopg://USER@HOST/DB"]


def test_schedule_rules(folder: Path) -> None:
    text = VALID.replace("version: 1\n", textwrap.dedent("""\
        version: 1
        schedule:
          interval_seconds: 2
          full_reconcile_cron: "0 2 * *"
          timezone: Europe/Pariss
          lease_seconds: "60"
        """))
    assert problems(folder, text) == [
        "3: schedule.interval_seconds: must be at least 5, got the number 2",
        "4: schedule.full_reconcile_cron: '0 2 * *' is not a crontab line (minute hour day "
        "month weekday, e.g. '0 2 * * *'): Wrong number of fields; got 4, expected 5",
        "5: schedule.timezone: unknown time zone 'Europe/Pariss': use an IANA name such as UTC "
        "or Europe/Paris",
        "6: schedule.lease_seconds: expected a number, got the text '60'",
    ]
    text = VALID.replace("version: 1\n", "version: 1\nschedule:\n  interval_seconds: 10\n"
                         "  jitter_seconds: 30\n")
    assert problems(folder, text) == [
        "4: schedule.jitter_seconds: must not be more than interval_seconds (10)"]


def test_server_port_must_be_a_port_number(folder: Path) -> None:
    text = VALID.replace("version: 1\n", "version: 1\nserver:\n  port: 70000\n")
    assert problems(folder, text) == ["3: server.port: must be at most 65535, got the "
                                      "number 70000"]


def test_connection_system(folder: Path) -> None:
    text = VALID.replace("system: hubspot", "system: hubspott")
    assert problems(folder, text) == [
        "9: connections.prm.system: expected 'salesforce', 'hubspot' or 'files', got the "
        "text 'hubspott' (did you mean 'hubspot'?)"]
    text = VALID.replace("    system: hubspot\n", "")
    assert problems(folder, text) == [
        "8: connections.prm.system: missing required key 'system' ('salesforce', 'hubspot' "
        "or 'files')"]
    text = VALID.replace("  prm:\n    system: hubspot\n    access_token: {file: secrets/token}\n",
                         "  prm: hubspot\n")
    assert problems(folder, text) == [
        "8: connections.prm: expected a mapping (indented 'key: value' lines), got the text "
        "'hubspot'"]


def test_salesforce_auth_needs_its_keys_and_nothing_else(folder: Path) -> None:
    text = VALID.replace("    private_key: ${SF_JWT_KEY}\n", "    api_version: 59.0\n")
    # the keys' types first; what the auth kind needs once they are right
    assert problems(folder, text) == [
        "7: connections.crm.api_version: expected text, got the number 59.0 (put the value "
        "in quotes)"]
    text = VALID.replace("    private_key: ${SF_JWT_KEY}\n", "    password: ${SF_PASSWORD}\n")
    assert problems(folder, text) == [
        "3: connections.crm.private_key: auth jwt_bearer needs private_key (it needs "
        "client_id, username, private_key)",
        "7: connections.crm.password: not used by auth jwt_bearer (only by password); "
        "remove it",
    ]
    text = VALID.replace("    system: salesforce\n", "    system: salesforce\n"
                         "    auth: session\n    login_url: http://login.example\n")
    assert problems(folder, text) == [
        "3: connections.crm.instance_url: auth session needs instance_url (it needs "
        "session_id, instance_url)",
        "3: connections.crm.session_id: auth session needs session_id (it needs session_id, "
        "instance_url)",
        "6: connections.crm.login_url: expected an https:// URL, got 'http://login.example'",
        "7: connections.crm.client_id: not used by auth session (only by jwt_bearer, "
        "client_credentials and password); remove it",
        "8: connections.crm.username: not used by auth session (only by jwt_bearer and "
        "password); remove it",
        "9: connections.crm.private_key: not used by auth session (only by jwt_bearer); "
        "remove it",
    ]


def test_hubspot_auth_and_host(folder: Path) -> None:
    text = VALID.replace("    access_token: {file: secrets/token}\n",
                         "    auth: oauth\n    host: api.hubapi.com\n"
                         "    client_id: ${HS_CLIENT_ID}\n    refresh_token: ${HS_REFRESH}\n")
    assert problems(folder, text) == [
        "8: connections.prm.client_secret: auth oauth needs client_secret (it needs client_id, "
        "client_secret, refresh_token)",
        "11: connections.prm.host: expected an https:// URL, got 'api.hubapi.com'",
    ]


def test_hubspot_limits(folder: Path) -> None:
    text = VALID.replace("    access_token: {file: secrets/token}\n",
                         "    access_token: {file: secrets/token}\n    page_size: 500\n"
                         "    budget: {share: 1.5}\n")
    assert problems(folder, text) == [
        "11: connections.prm.page_size: must be at most 200, got the number 500",
        "12: connections.prm.budget.share: must be at most 1, got the number 1.5",
    ]
    text = VALID.replace("    access_token: {file: secrets/token}\n",
                         "    access_token: {file: secrets/token}\n    overlap_seconds: 600\n"
                         "    deletion_lookback_seconds: 60\n")
    assert problems(folder, text) == [
        "12: connections.prm.deletion_lookback_seconds: must be at least overlap_seconds (600)"]
    # A restart reports deletions back to the settled cursor less the lookback: the last
    # archive scan before it may be a scan interval older (default 900 s).
    text = VALID.replace("    access_token: {file: secrets/token}\n",
                         "    access_token: {file: secrets/token}\n"
                         "    deletion_lookback_seconds: 1000\n")
    assert problems(folder, text) == [
        "11: connections.prm.deletion_lookback_seconds: must be at least overlap_seconds + "
        "archive_scan_interval_seconds (1020), or a deal archived between the last archive "
        "scan and a restart is never reported deleted"]
    # The re-read window must cover HubSpot's search index lag (30 s by default).
    text = VALID.replace("    access_token: {file: secrets/token}\n",
                         "    access_token: {file: secrets/token}\n    overlap_seconds: 10\n")
    assert problems(folder, text) == [
        "11: connections.prm.overlap_seconds: must be at least search_lag_seconds (30): a "
        "pull must re-read as far back as HubSpot's search index may trail, or a "
        "late-indexed change is never read"]


def test_file_drop_rules(folder: Path) -> None:
    text = VALID.replace("pipelines:\n", textwrap.dedent("""\
          drops:
            system: files
            folder: exports
            encoding: utf-9
            delimiter: ";;"
        pipelines:
        """))
    assert problems(folder, text) == [
        "11: connections.drops.id_field: missing required key 'id_field': the column (CSV) or "
        "key (JSONL) holding the registration id",
        "14: connections.drops.encoding: unknown encoding 'utf-9' (e.g. utf-8-sig, cp1252, "
        "latin-1, utf-16)",
        "15: connections.drops.delimiter: must be one character, got the text ';;'",
    ]
    text = text.replace("    encoding: utf-9\n    delimiter: \";;\"\n", "    id_field: id\n")
    assert problems(folder, text) == [
        f"13: connections.drops.folder: folder {folder / 'exports'} not found"]


def test_pipeline_references(folder: Path) -> None:
    text = VALID + ("  - name: partners\n    prm: hubspot\n    crm: crm\n"
                    "    mappings: mappings\n"
                    "  - name: Bad Name\n    prm: prm\n    crm: prm\n    mappings: mappings\n")
    assert problems(folder, text) == [
        "20: pipelines[2].name: the text 'Bad Name' is not allowed here: use lowercase "
        "letters, digits, '_' and '-'"]
    text = text.replace("Bad Name", "second")
    assert problems(folder, text) == [
        "16: pipelines[1].name: pipeline name 'partners' is already used by pipelines[0]",
        "17: pipelines[1].prm: no connection named 'hubspot'; connections: crm, prm",
        "22: pipelines[2].crm: prm and crm name the same connection",
    ]


def test_unknown_connection_gets_a_suggestion(folder: Path) -> None:
    text = VALID.replace("    crm: crm\n", "    crm: cmr\n")
    assert problems(folder, text) == [
        "14: pipelines[0].crm: no connection named 'cmr' (did you mean 'crm'?); connections: "
        "crm, prm"]


def test_a_file_drop_cannot_be_the_crm(folder: Path) -> None:
    (folder / "exports").mkdir()
    text = VALID.replace("pipelines:\n", "  drops: {system: files, folder: exports, "
                         "id_field: id}\npipelines:\n").replace("    crm: crm\n",
                                                                "    crm: drops\n")
    assert problems(folder, text) == [
        "15: pipelines[0].crm: connection 'drops' is a file drop, which can only be a PRM "
        "(it is read, never written)"]


def test_at_least_one_pipeline(folder: Path) -> None:
    text = VALID.split("pipelines:")[0] + "pipelines: []\n"
    assert problems(folder, text) == ["11: pipelines: needs at least 1 item(s)"]


def test_mappings_folder_must_exist_and_hold_the_right_files(folder: Path) -> None:
    text = VALID.replace("mappings: mappings", "mappings: ../elsewhere")
    assert problems(folder, text) == [
        f"15: pipelines[0].mappings: folder {folder.parent / 'elsewhere'} not found"]
    (folder / "mappings" / "handoff.yaml").unlink()
    assert problems(folder, VALID) == [
        f"15: pipelines[0].mappings: {folder / 'mappings'} has no handoff.yaml (a mappings "
        "folder holds handoff.yaml and one file per system)"]


def test_connections_must_match_the_sides_of_the_mappings(folder: Path) -> None:
    swapped = VALID.replace("    prm: prm\n    crm: crm\n", "    prm: crm\n    crm: prm\n")
    mappings = folder / "mappings"
    assert problems(folder, swapped) == [
        f"13: pipelines[0].prm: connection 'crm' is salesforce, but the PRM side of the "
        f"mappings in {mappings} is hubspot (hubspot.yaml has role: prm)",
        f"14: pipelines[0].crm: connection 'prm' is hubspot, but the CRM side of the "
        f"mappings in {mappings} is salesforce (salesforce.yaml has role: crm)",
    ]
    (mappings / "salesforce.yaml").unlink()
    assert problems(folder, VALID) == [
        f"14: pipelines[0].crm: connection 'crm' is salesforce, but {mappings} has no "
        "salesforce.yaml"]


def test_a_disabled_pipeline_may_wait_for_its_mappings(folder: Path) -> None:
    text = VALID.replace("mappings: mappings", "mappings: not-yet") + "    enabled: false\n"
    [pipeline] = load_config(write(folder, text), ENV).pipelines
    assert not pipeline.enabled and pipeline.mappings == folder / "not-yet"


def test_missing_ca_file(folder: Path) -> None:
    text = VALID.replace("    access_token: {file: secrets/token}\n",
                         "    access_token: {file: secrets/token}\n    ca_file: certs/ca.pem\n")
    assert problems(folder, text) == [
        f"11: connections.prm.ca_file: file {folder / 'certs' / 'ca.pem'} not found"]


def test_many_problems_are_reported_together_in_line_order(folder: Path) -> None:
    text = textwrap.dedent("""\
        version: 1
        server: {port: "9464", hots: x}
        connections:
          crm:
            system: salesforce
            private_key: the-key
        pipelines: {}
        """)
    assert problems(folder, text) == [
        "2: server.hots: unknown key 'hots' (did you mean 'host'?)",
        "2: server.port: expected a whole number, got the text '9464'",
        "6: connections.crm.private_key: secrets may not be written in the config file; use "
        "${ENV_VAR} or {file: /path}",
        "7: pipelines: expected a list ('- item' lines or [a, b]), got a mapping",
    ]


def test_config_error_lists_problems_for_programs(folder: Path) -> None:
    file = write(folder, VALID.replace("version: 1", "version: 3"))
    with pytest.raises(ConfigError) as caught:
        load_config(file, ENV)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.path) == (file, 1, ("version",))


def test_config_built_in_code_is_validated_too() -> None:
    with pytest.raises(ValidationError, match="no connection named 'a'; no connections are "
                                              "defined"):
        Config.model_validate({"version": 1, "connections": {}, "pipelines": [
            {"name": "p", "prm": "a", "crm": "b", "mappings": "/m"}]})
